#!/bin/bash
# sh_qpu_token.sh — a planted SAPI token (in dwave.conf and in DWAVE_API_TOKEN) never reaches the
# screen/stdout/stderr, session files, metrics logs, the server's log, or the history file
# ($XDG_STATE_HOME/qvae/history, written by the interactive prompt), through every qpu command,
# sampling, training, a session save and an authentication error.  Only 127.0.0.1 is used.
set -u
Q=${QVAE_BIN:-build/rel/qvae}
T=${QVAE_TMP:-$(mktemp -d)}
fail() { echo "FAIL: $*"; exit 1; }
[ -f assets/solvers/DW_2000Q_5.json ] || { echo "skip: assets/solvers/DW_2000Q_5.json not shipped"; exit 77; }
command -v script >/dev/null || { echo "skip: script(1) not installed (needed for a terminal)"; exit 77; }
export QVAE_SESSIONS="$T/sessions" XDG_STATE_HOME="$T/state" XDG_CONFIG_HOME="$T/config"
unset DWAVE_API_TOKEN DWAVE_API_ENDPOINT DWAVE_API_SOLVER DWAVE_CONFIG_FILE DWAVE_PROFILE
TOKEN="DEV-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c1e5b2d4f6a"
TAIL=${TOKEN: -12}
mkdir -p "$T/out" "$XDG_CONFIG_HOME/dwave"

QVAE_EMU_TOKEN="$TOKEN" $Q serve-qpu --port 0 --solver DW_2000Q_5 --sampler sa > "$T/out/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for i in $(seq 50); do grep -q "serving SAPI on" "$T/out/serve.log" && break; sleep 0.1; done
port=$(sed -n 's|.*serving SAPI on http://127.0.0.1:\([0-9]*\)/sapi/.*|\1|p' "$T/out/serve.log")
[ -n "$port" ] || fail "serve-qpu did not start: $(cat "$T/out/serve.log")"
EP="http://127.0.0.1:$port/sapi/"
printf '[defaults]\nendpoint = %s\n\n[lab]\ntoken = %s\nsolver = DW_2000Q_5\n' "$EP" "$TOKEN" \
    > "$XDG_CONFIG_HOME/dwave/dwave.conf"

# 1. token from dwave.conf: every qpu command, sampling, training, session save
$Q -k -c "qpu config; qpu config --profile lab; qpu info; qpu solvers; qpu use DW_2000Q_5;
          data load mnist; data split 100 50 50; prior new chimera 1 1 4 --fit-solver; sampler use qpu;
          sampler; sample 20; model new --hidden 16; session save tok; train 1 --batch 50 --neg 8;
          qpu info; session save tok" > "$T/out/run1.out" 2> "$T/out/run1.err"
grep -q "token:    set (from dwave.conf \[lab\])" "$T/out/run1.out" || fail "config not shown: $(cat "$T/out/run1.out" "$T/out/run1.err")"
grep -q "sample: 20 states" "$T/out/run1.out" || fail "sampling failed: $(cat "$T/out/run1.out" "$T/out/run1.err")"
grep -q "trained 2 steps" "$T/out/run1.out" || fail "training failed: $(cat "$T/out/run1.err")"

# 2. token from the environment, and an authentication error with a wrong one
DWAVE_API_TOKEN="$TOKEN" DWAVE_API_ENDPOINT="$EP" $Q -k -c "qpu config; qpu info; session load tok; sample 5" \
    > "$T/out/run2.out" 2> "$T/out/run2.err"
grep -q "token:    set (from DWAVE_API_TOKEN)" "$T/out/run2.out" || fail "env token: $(cat "$T/out/run2.out")"
DWAVE_API_TOKEN="${TOKEN%?}0" DWAVE_API_ENDPOINT="$EP" $Q -c "qpu solvers" > "$T/out/run3.out" 2>&1
grep -q "HTTP 401" "$T/out/run3.out" || fail "401 expected: $(cat "$T/out/run3.out")"

# 3. the interactive prompt writes the history file (a terminal via script(1))
printf 'qpu config --profile lab\nqpu info\nqpu solvers\nquit\n' | \
    script -q -e -c "$Q --plain" "$T/out/typescript" > "$T/out/run4.out" 2>&1
[ -s "$XDG_STATE_HOME/qvae/history" ] || fail "no history file written"
grep -q "qpu config --profile lab" "$XDG_STATE_HOME/qvae/history" || fail "history: $(cat "$XDG_STATE_HOME/qvae/history")"

kill -INT $pid; wait $pid 2>/dev/null
# search everything written (except the dwave.conf we planted it in)
hits=$(grep -rl -e "$TOKEN" -e "$TAIL" "$T/out" "$QVAE_SESSIONS" "$XDG_STATE_HOME" 2>/dev/null)
[ -z "$hits" ] || fail "token found in: $hits"
ls "$QVAE_SESSIONS/tok/session.json" >/dev/null || fail "no session written"
echo "token never leaked (searched $(find "$T/out" "$QVAE_SESSIONS" "$XDG_STATE_HOME" -type f | wc -l) files)"
