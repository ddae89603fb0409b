#!/bin/bash
# sh_tui.sh — the terminal workbench end to end in a private tmux server (120×40): it starts and
# sets up a small model, a command runs, the loss plot and the digits panel change after
# `train 1`, Tab completes a command name, Ctrl-C abandons a line, F9 toggles log y, the help
# overlay opens and closes, `view` focuses a
# panel, the schedule editor shows a violated rule live and clears it, a long job keeps
# the UI responsive and stops on Ctrl-C, a resize re-lays the screen out (and a tiny terminal
# gets the "too small" message), `quit` restores the terminal, and the history is kept under
# XDG_STATE_HOME with tokens redacted.  Polls the screen with deadlines (no fixed sleeps alone).
set -u
export LC_ALL=C.UTF-8
cd "$(dirname "$0")/.."
BIN=${QVAE_BIN:-$PWD/build/rel/qvae}
command -v tmux >/dev/null || { echo "skip: tmux is not installed"; exit 77; }
[ -x "$BIN" ] || { echo "skip: no qvae binary at $BIN"; exit 77; }
TMP=${QVAE_TMP:-$(mktemp -d)}
mkdir -p "$TMP"
SOCK=qvae-test-$$
T=(tmux -L "$SOCK" -f /dev/null)
trap '"${T[@]}" kill-server >/dev/null 2>&1' EXIT

fail() {
  echo "FAIL: $*"
  echo "---- screen ----"
  "${T[@]}" capture-pane -p -t tui 2>/dev/null
  exit 1
}
screen() { "${T[@]}" capture-pane -p -t tui; }
# wait_for PATTERN [SECONDS]: poll the screen until grep -E matches
wait_for() {
  local pat=$1 limit=${2:-20} end=$((SECONDS + ${2:-20}))
  while [ $SECONDS -le $end ]; do
    screen | grep -qE -- "$pat" && return 0
    sleep 0.1
  done
  fail "waited ${limit}s for: $pat"
}
# wait_gone PATTERN [SECONDS]: poll until the pattern is no longer on the screen
wait_gone() {
  local pat=$1 end=$((SECONDS + ${2:-20}))
  while [ $SECONDS -le $end ]; do
    screen | grep -qE -- "$pat" || return 0
    sleep 0.1
  done
  fail "still on screen after ${2:-20}s: $pat"
}
keys() { "${T[@]}" send-keys -t tui "$@"; }

STARTUP='data load mnist; prior new chimera 2 2 4; model new --hidden 64'
cat >"$TMP/run.sh" <<EOF
export HOME='$TMP' XDG_STATE_HOME='$TMP/state' TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8
export QVAE_TUI_STARTUP='$STARTUP' QVAE_SESSIONS='$TMP/sessions'
before=\$(stty -g)
'$BIN'
rc=\$?
after=\$(stty -g)
[ "\$before" = "\$after" ] && echo TERMINAL-RESTORED
echo QVAE-EXITED rc=\$rc
sleep 600
EOF
"${T[@]}" new-session -d -s tui -x 120 -y 40 "bash '$TMP/run.sh'" || fail "tmux could not start"

# 1. it starts, runs the startup line and says what to type
wait_for 'qvae>' 20
wait_for 'ready' 20
wait_for 'Ready\. Try|error: ' 60
if screen | grep -q 'error: '; then
  screen | grep 'error: ' | head -3
  echo "skip: the startup line failed here (MNIST data or model missing?)"
  exit 77
fi
screen | grep -q 'train 5' || fail "the screen does not say what to type"
screen | grep -q 'no training yet' || fail "loss panel not empty before training"
screen | grep -q 'no digits yet' || fail "digits panel not empty before training"
screen | grep -q 'prior chimera 2 2 4' || fail "status line lacks the prior"

# 2. a command runs and its output reaches the log
keys 'echo abc def' Enter
wait_for '^abc def' 10

# 3. train 1 changes the loss plot and the digits panel
keys 'train 1' Enter
wait_for 'train done' 120
wait_gone 'no training yet' 5
wait_gone 'no digits yet' 5
screen | grep -q -- '-ELBO [0-9]' || fail "no -ELBO legend value after training"
screen | grep -qE '⣀|⠉|⠒|⠤|⢄|⡀' || fail "no braille curve after training"
screen | grep -q 'digits  generated' || fail "digits panel has no generated images"
screen | grep -q '▀' || fail "no half-block pixels in the digits panel"
screen | grep -qE 'latent  32 units, [0-9]+ active' || fail "no active-unit count"

# 4. Tab completes a command name
keys 'vers' Tab
wait_for 'qvae> version' 10
keys C-u
wait_gone 'qvae> version' 5
keys 'se' Tab Tab
wait_for ' seed +.*session' 10
keys C-u

# 4b. Ctrl-C on an idle prompt abandons the line (also an i-search); F9 switches to log y
keys 'echo abandoned' C-c
wait_for 'Ctrl-D leaves' 10
screen | grep -q 'qvae> echo abandoned' && fail "Ctrl-C did not clear the line"
keys C-r 'trai'
wait_for 'reverse-i-search' 10
keys C-c
wait_gone 'reverse-i-search' 10
keys F9
wait_for ' log y' 10
keys F9
wait_for ' linear y' 10

# 5. help overlay from the command table
keys F1
wait_for 'qvae help' 10
screen | grep -q 'tour ' || fail "help overlay lacks the command list"
screen | grep -q 'F6 *view schedule --edit' || fail "help overlay lacks the key bindings"
keys Escape
wait_gone 'qvae help' 10

# 5b. `view` focuses a panel; the schedule editor validates edits live
keys 'view loss' Enter
wait_gone '─ digits ' 10
keys 'view' Enter
wait_for '─ digits ' 10
if screen | grep -q 'schedule  none'; then
  keys 'schedule forward 20' Enter
  wait_for 'schedule  .*2 points' 10
  keys F6
  wait_for 'EDITING' 10
  keys Right Down
  wait_for 'point 2/2 t=20 s=0.95 .*final-s' 10
  keys Up
  # the editor's own line, not the log's earlier "valid for default" (a race under load)
  wait_for 'point 2/2 t=20 s=1 ' 10
  wait_gone 'final-s' 10
  keys Escape
  wait_gone 'EDITING' 10
fi

# 6. a long job: the UI stays responsive, Ctrl-C stops it
keys 'train 200' Enter
wait_for 'train +.*ETA' 60
keys 'echo still-responsive' Enter
wait_for '^still-responsive' 10
screen | grep -q 'Ctrl-C or train stop' || fail "the job finished before it could be stopped"
keys 'seed 5' Enter
wait_for 'seed: wait for the running train' 10
keys C-c
wait_for 'train stopped' 60
wait_for 'ready' 10

# 7. resize re-lays out: narrow layout drops the latent panel, tiny gets a message
"${T[@]}" resize-window -t tui -x 80 -y 30
wait_gone 'latent  [0-9]+ units' 10
wait_for 'digits' 10
[ "$(screen | head -1 | wc -L)" -le 80 ] || fail "status line wider than 80 after resize"
"${T[@]}" resize-window -t tui -x 50 -y 12
wait_for 'terminal too small: 50x12' 10
"${T[@]}" resize-window -t tui -x 120 -y 40
wait_for 'latent  32 units' 10

# 8. quitting restores the terminal; history kept with secrets redacted
keys 'echo DEV-0123456789abcdef0123456789abcdef' Enter
keys 'quit' Enter
wait_for 'QVAE-EXITED rc=0' 30
screen | grep -q 'TERMINAL-RESTORED' || fail "terminal modes differ after quitting"
hist="$TMP/state/qvae/history"
[ -f "$hist" ] || fail "no history file at $hist"
grep -qx 'train 1' "$hist" || fail "history lacks 'train 1'"
grep -q 'DEV-0123' "$hist" && fail "a token reached the history file"
grep -qx 'echo \*\*\*' "$hist" || fail "redacted line missing from history"
echo "tui end-to-end: ok"
exit 0
