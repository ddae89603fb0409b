#!/bin/bash
# sh_tui_sched_lab.sh — the schedule editor's hand-tuning loop in a private tmux server
# (120×40): on an enumerable prior with the sqa sampler, the editor (F6) edits an h-gain point
# (g) and a group's anneal offset (o), shown in its status row with the green g(t) curve; `s`
# runs `schedule try` on the worker (the UI keeps answering) and the results column appears
# beside the schedule with KL*, β_eff, mode coverage and the samples' / reference's energy
# histograms; after a pause (p) a second `s` adds result #2 above #1, so two schedules show side
# by side.  The chip view (c) shows the qubits' own offsets on the layout: n moves the cursor,
# z clears one, o sets one step, arrows move on the layout; with a 2000Q solver the offsets
# outside the qubits' ranges are marked ✗ and named in the status row; c returns to the curve.
# Polls the screen with deadlines.
set -u
export LC_ALL=C.UTF-8
cd "$(dirname "$0")/.."
BIN=${QVAE_BIN:-$PWD/build/rel/qvae}
command -v tmux >/dev/null || { echo "skip: tmux is not installed"; exit 77; }
[ -x "$BIN" ] || { echo "skip: no qvae binary at $BIN"; exit 77; }
TMP=${QVAE_TMP:-$(mktemp -d)}
mkdir -p "$TMP"
SOCK=qvae-lab-$$
T=(tmux -L "$SOCK" -f /dev/null)
trap '"${T[@]}" kill-server >/dev/null 2>&1' EXIT
fail() {
  echo "FAIL: $*"
  echo "---- screen ----"
  "${T[@]}" capture-pane -p -t tui 2>/dev/null
  exit 1
}
screen() { "${T[@]}" capture-pane -p -t tui; }
wait_for() {
  local pat=$1 limit=${2:-20} end=$((SECONDS + ${2:-20}))
  while [ $SECONDS -le $end ]; do
    screen | grep -qE -- "$pat" && return 0
    sleep 0.1
  done
  fail "waited ${limit}s for: $pat"
}
keys() { "${T[@]}" send-keys -t tui "$@"; }

STARTUP='prior new chimera 1 1 4; prior random; sampler use sqa; schedule forward 20; schedule offset 0-3 0.04'
cat >"$TMP/run.sh" <<EOF2
export HOME='$TMP' XDG_STATE_HOME='$TMP/state' TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8
export QVAE_TUI_STARTUP='$STARTUP' QVAE_SESSIONS='$TMP/sessions'
'$BIN'
sleep 600
EOF2
"${T[@]}" new-session -d -s tui -x 120 -y 40 "bash '$TMP/run.sh'" || fail "tmux could not start"
wait_for 'qvae>' 20
wait_for 'schedule  .*2 points' 30
screen | grep -q '#1 KL' && fail "a result before any run"

keys F6
wait_for 'EDITING' 10
keys Right g
wait_for 'g\(t\) 1\.1 ' 10
keys o
wait_for 'offsets q0-3 \+0\.06' 10
keys s
wait_for '#1 KL\* [0-9.e-]+ +β [0-9.]+ +modes [0-9]+/[0-9]+' 60
screen | grep -qE '^.*smp ?[▁▂▃▄▅▆▇█ ]*[▁▂▃▄▅▆▇█]' || fail "no sample histogram"
screen | grep -qE '^.*ref ?[▁▂▃▄▅▆▇█ ]*[▁▂▃▄▅▆▇█]' || fail "no reference histogram"
first=$(screen | grep -oE '#1 KL\* [0-9.e-]+')
keys p
wait_for 'pause' 10
keys s
wait_for '#2 KL\* [0-9.e-]+' 60
screen | grep -q '#1 KL' || fail "the first result is gone"

# the chip view (c): each qubit's own offset on the layout, edited with a cursor
keys c
wait_for 'EDITING: anneal offsets per qubit' 10
wait_for 'qubit 0 offset \+0\.06 ' 10                 # the group's value, set above with o
[ "$(screen | grep -o '●' | wc -l)" -eq 4 ] || fail "not four qubits drawn with offsets"
keys n
wait_for 'qubit 1 offset \+0\.06 ' 10
keys z
wait_for 'qubit 1 offset \+0  3 set' 10
[ "$(screen | grep -o '●' | wc -l)" -eq 3 ] || fail "the cleared qubit is still drawn with an offset"
keys o
wait_for 'qubit 1 offset \+0\.01 ' 10               # one step (no solver: 0.01)
keys Right
wait_for 'qubit [02-7] offset' 10                    # the cursor moved on the layout
# with a solver, o / O move by its anneal_offset_step and a qubit outside its range is marked
keys Escape Escape
keys 'schedule solver DW_2000Q_5' Enter
wait_for 'solver DW_2000Q_5' 10
keys F6
wait_for 'EDITING\] ' 10
keys c
wait_for 'EDITING: anneal offsets per qubit' 10
wait_for 'qubit [0-9]+ offset [-+0-9.]+ \[-0\.1[0-9]*, \+0\.0[0-9]*\]' 10
screen | grep -q '✗.*anneal-offset' || fail "no range violation named for +0.06 on a 2000Q qubit"
screen | grep -E '^ +[✗●·][✗●· ]*(│|$)' | grep -q '✗' || fail "the out-of-range qubits are not marked on the layout"
keys c
wait_for 'EDITING\] ' 10                             # back to the curve, still editing
screen | grep -qE '^ point [0-9]+/4 ' || fail "the curve view's status row did not come back"
screen >"$TMP/screen.txt"
echo "ok: $first, then a second result beside it; chip view edits single qubits"
