#!/bin/bash
# sh_tui_tsan.sh — the terminal workbench built with ThreadSanitizer (build/tsan/qvae, made by
# `make test` and `make tsan`) in a private tmux server: while `tour` and then `train` run on the
# worker, `sampler info`, `schedule show`, `model info` and `data info` are typed again and again
# (the TUI runs them on its own thread under the state lock) — they answer, the jobs finish, and
# ThreadSanitizer writes no report.  Small data keeps it short.
set -u
export LC_ALL=C.UTF-8
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=${QVAE_TSAN_BIN:-$BUILD/tsan/qvae}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
command -v tmux >/dev/null || { echo "skip: tmux is not installed"; exit 77; }
[ -x "$BIN" ] || { echo "skip: no ThreadSanitizer binary at $BIN (make tsan)"; exit 77; }
TMP=${QVAE_TMP:-$(mktemp -d)}
mkdir -p "$TMP"
rm -f "$TMP"/tsan.*
SOCK=qvae-tsan-$$
T=(tmux -L "$SOCK" -f /dev/null)
trap '"${T[@]}" kill-server >/dev/null 2>&1' EXIT
fail() {
  echo "FAIL: $*"
  "${T[@]}" capture-pane -p -t tui 2>/dev/null | tail -15
  cat "$TMP"/tsan.* 2>/dev/null | head -60
  exit 1
}
screen() { "${T[@]}" capture-pane -p -S -3000 -t tui; }
wait_for() {
  local end=$((SECONDS + ${2:-20}))
  while [ $SECONDS -le $end ]; do
    screen | grep -qE -- "$1" && return 0
    sleep 0.2
  done
  fail "waited ${2:-20}s for: $1"
}
keys() { "${T[@]}" send-keys -t tui "$@"; }

STARTUP='data load mnist; data split 300 100 100; prior new chimera 1 1 4; model new --hidden 16'
{
  echo "export HOME='$TMP' XDG_STATE_HOME='$TMP/state' TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8"
  echo "export QVAE_TUI_STARTUP='$STARTUP' QVAE_SESSIONS='$TMP/sessions' OPENBLAS_NUM_THREADS=1"
  echo "export TSAN_OPTIONS='log_path=$TMP/tsan second_deadlock_stack=1'"
  echo "'$BIN'"
  echo 'echo QVAE-EXITED rc=$?'
  echo 'sleep 600'
} >"$TMP/run.sh"
"${T[@]}" new-session -d -s tui -x 120 -y 40 "bash '$TMP/run.sh'" || fail "tmux could not start"
wait_for 'Ready\. Try|error: ' 120
keys 'seed 1' Enter
screen | grep -q 'error: ' && { echo "skip: the startup line failed here (MNIST data missing?)"; exit 77; }

keys 'tour --pause 0; train 6' Enter
# `seed` is refused while the job runs and prints "seed 3" once it is over (the rounds before
# that one ran during the job)
asked=0 over=0 t0=$SECONDS
while [ $((SECONDS - t0)) -lt 300 ]; do
  keys 'model info; data info' Enter
  keys 'sampler info; schedule show' Enter
  keys 'seed 3' Enter
  asked=$((asked + 1))
  sleep 0.5
  screen | grep -q '^seed 3' && { over=1; break; }
done
[ $over -eq 1 ] || fail "the job did not end within 300 s"
[ "$asked" -ge 2 ] || fail "the job ended before the commands could overlap it ($asked rounds)"
screen | grep -q '^limits: ' || fail "schedule show did not answer"
screen | grep -q 'did not work here' && fail "a tour step failed"
screen | grep -q 'the running job is busy' && fail "a command timed out waiting for the job"
keys 'quit' Enter
wait_for 'QVAE-EXITED rc=' 60
ls "$TMP"/tsan.* >/dev/null 2>&1 && fail "ThreadSanitizer reported"
screen | grep -q 'QVAE-EXITED rc=0' || fail "qvae exited with an error"
echo "tui under ThreadSanitizer: $asked rounds of info commands during tour + train, clean"
