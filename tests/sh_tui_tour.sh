#!/bin/bash
# sh_tui_tour.sh — `tour` and `view` through the batch front end: the tour runs every step
# (training, then the emulated annealer with a forward, a paused and a quenched schedule)
# without a failing step, leaves the schedules it describes, and restores the Gibbs sampler;
# `view` accepts the panels and options and rejects bad ones with one clear error line.
set -u
cd "$(dirname "$0")/.."
BIN=${QVAE_BIN:-$PWD/build/rel/qvae}
[ -x "$BIN" ] || { echo "skip: no qvae binary at $BIN"; exit 77; }
TMP=${QVAE_TMP:-$(mktemp -d)}
export HOME=$TMP XDG_STATE_HOME=$TMP/state QVAE_SESSIONS=$TMP/sessions
fail() { echo "FAIL: $*"; exit 1; }

# view: accepted in batch mode (nothing to draw), errors are one line each
out=$("$BIN" -c 'view loss --log --ema 0.9 --window 100; view lat --mean; view sched --edit; view' 2>&1) \
  || fail "view failed: $out"
[ "$(grep -c 'drawn by the terminal workbench only' <<<"$out")" -eq 4 ] || fail "view output: $out"
for bad in 'view nosuch' 'view l' 'view loss --ema 1' 'view loss --x time' 'view loss --edit' \
           'view loss --log --linear' 'view loss --window -3'; do
  out=$("$BIN" -c "$bad" 2>&1) && fail "'$bad' was accepted"
  [ "$(wc -l <<<"$out")" -eq 1 ] || fail "'$bad': expected one line, got: $out"
  grep -q '^error: view: ' <<<"$out" || fail "'$bad': $out"
done

# the tour: loads what it needs, runs all six steps
out=$("$BIN" -c 'tour' 2>&1)
rc=$?
grep -q 'data: \|error: data' <<<"$out" && ! grep -q 'loaded mnist' <<<"$out" && {
  echo "skip: MNIST data not available here"; exit 77; }
[ $rc -eq 0 ] || fail "tour exited $rc: $(tail -5 <<<"$out")"
for step in 'Tour 1/6' 'Tour 2/6' 'Tour 3/6' 'Tour 4/6' 'Tour 5/6' 'Tour 6/6' 'End of the tour'; do
  grep -q "$step" <<<"$out" || fail "tour lacks '$step'"
done
grep -q 'did not work here' <<<"$out" && fail "a tour step failed: $(grep -B3 'did not work here' <<<"$out" | head -12)"
grep -q '^epoch 3' <<<"$out" || fail "tour did not train 3 epochs"
[ "$(grep -c '(sqa)' <<<"$out")" -eq 3 ] || fail "expected three sqa samples"
grep -q 'pause 0.45 50' <<<"$out" || fail "no paused schedule"
# the quench follows the 50 µs hold (9 → 59 µs at s = 0.45), then s = 1 at 59.28 µs
grep -q 'pause 0.45 50 + quench 0.45: 4 points, 59.28 µs' <<<"$out" || fail "the quench dropped the pause"
tail -1 <<<"$out" | grep -q '^sampler gibbs' || fail "tour did not restore the gibbs sampler"
echo "tour and view: ok"
