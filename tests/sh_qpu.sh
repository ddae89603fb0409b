#!/bin/bash
# sh_qpu.sh — the qpu commands end to end over loopback against the emulator: solvers, use, info,
# the default solver picked by the prior's topology, a small prior placed on defect-free cells,
# sampling and a reverse anneal through the qpu sampler, several training steps, the server's 400
# message for an invalid schedule, 503/429 retried during training, a connection dropped mid-
# training (clear error, last checkpoint intact), and `qvae serve-qpu` as a separate process
# (token check, Ctrl-C stops it).  Uses only 127.0.0.1.
set -u
Q=${QVAE_BIN:-build/rel/qvae}
T=${QVAE_TMP:-$(mktemp -d)}
fail() { echo "FAIL: $*"; exit 1; }
[ -f assets/solvers/DW_2000Q_5.json ] || { echo "skip: assets/solvers/DW_2000Q_5.json not shipped"; exit 77; }
export QVAE_SESSIONS="$T/sessions" XDG_STATE_HOME="$T/state" XDG_CONFIG_HOME="$T/config"
unset DWAVE_API_TOKEN DWAVE_API_ENDPOINT DWAVE_API_SOLVER DWAVE_CONFIG_FILE DWAVE_PROFILE
EMU="qpu emulate --solver DW_2000Q_5"

# --- solvers, use, info, fitting, sampling, reverse anneal, 400 from the server
out=$($Q -c "$EMU; qpu solvers; qpu use DW_2000Q_5; qpu info; prior new chimera 16 16 4; sampler use qpu; sample 10" 2>&1)
echo "$out" | grep -Eq "^DW_2000Q_5 +ONLINE +chimera 16x16x4 +2048" || fail "qpu solvers: $out"
echo "$out" | grep -q "solver DW_2000Q_5 .*2030 working qubits of 2048, 5909 couplers" || fail "qpu use/info: $out"
echo "$out" | grep -q "error: .*prior chimera 16 16 4 does not fit solver DW_2000Q_5: 18 qubits missing" \
    || fail "missing qubits not reported: $out"
# a plain-http endpoint off loopback is refused, in one line that says "qpu config" once
out=$($Q -c "qpu config --endpoint http://example.com/sapi/" 2>&1)
[ "$out" = "error: qpu config: endpoint http://example.com/sapi/: must be https:// (plain http only for 127.0.0.1, so the token never travels unencrypted)" ] \
    || fail "http endpoint: $out"
# a prior larger than the chip: qubits outside it are named by the prior's labels, never "-1"
out=$($Q -c "$EMU; prior new chimera 17; sampler use qpu; sample 10" 2>&1)
echo "$out" | grep -q "does not fit solver DW_2000Q_5: 282 qubits missing (49, 123, prior label 128, " \
    && ! echo "$out" | grep -q -- "-1" || fail "larger prior: $out"
out=$($Q -c "$EMU; prior new chimera 16 16 4 --fit-solver" 2>&1) || fail "fit-solver: $out"
echo "$out" | grep -q "fitted to DW_2000Q_5: 2030 of 2048 qubits, 5909 of 6016 couplers kept" || fail "fit C16: $out"

# solver=default follows the prior's topology (all three solvers served, Zephyr listed first)
out=$($Q -c "prior new chimera 2 2 4; qpu emulate" 2>&1) || fail "emulate, chimera prior: $out"
echo "$out" | grep -q "^using DW_2000Q_5$" || fail "a Chimera prior did not get the 2000Q: $out"
out=$($Q -c "prior new pegasus 2; qpu emulate" 2>&1) || fail "emulate, pegasus prior: $out"
echo "$out" | grep -q "^using Advantage_system4.1$" || fail "a Pegasus prior did not get the Advantage: $out"
# a small Chimera prior moves whole to the first defect-free cells (C(2,2,4) at the origin meets
# a broken coupler); the expected cell is computed here from the solver file (dwave-networkx
# convention: u = 0 couples to the next row, u = 1 to the next column)
want=$(python3 - <<'PY'
import json
o = json.load(open("assets/solvers/DW_2000Q_5.json")); o = o[0] if isinstance(o, list) else o
Q = set(o["properties"]["qubits"]); C = {tuple(sorted(c)) for c in o["properties"]["couplers"]}
lin = lambda i, j, u, k: ((i * 16 + j) * 2 + u) * 4 + k
def ok(r0, c0):
    for i in range(r0, r0 + 2):
        for j in range(c0, c0 + 2):
            for k in range(4):
                if lin(i, j, 0, k) not in Q or lin(i, j, 1, k) not in Q: return False
                if any(tuple(sorted((lin(i, j, 0, k), lin(i, j, 1, k2)))) not in C for k2 in range(4)): return False
                if i + 1 < r0 + 2 and tuple(sorted((lin(i, j, 0, k), lin(i + 1, j, 0, k)))) not in C: return False
                if j + 1 < c0 + 2 and tuple(sorted((lin(i, j, 1, k), lin(i, j + 1, 1, k)))) not in C: return False
    return True
print(next("(%d, %d)" % (r, c) for r in range(15) for c in range(15) if ok(r, c)))
PY
)
out=$($Q -c "prior new chimera 2 2 4; qpu emulate; prior new chimera 2 2 4 --fit-solver; sampler use qpu; sample 10" 2>&1) \
    || fail "placed prior: $out"
echo "$out" | grep -q "placed on DW_2000Q_5 at Chimera cell $want, where all 32 qubits and 80 couplers work" \
    || fail "C(2,2,4) not placed at $want: $out"
echo "$out" | grep -q "sample: 10 states of 32 units" || fail "placed prior does not sample: $out"
# without --fit-solver the sampler moves the prior there by itself (the origin has a dead coupler)
out=$($Q -c "prior new chimera 2 2 4; prior random; qpu emulate; sampler use qpu; sample 10" 2>&1) \
    || fail "unplaced prior: $out"
echo "$out" | grep -q "placed at Chimera cell $want of DW_2000Q_5, clear of defects" \
    || fail "C(2,2,4) not moved to $want at sampling: $out"

out=$($Q -c "$EMU; prior new chimera 2 2 4 --fit-solver; prior random --scale 0.5; sampler use qpu; sample 40;
             schedule reverse 0.6 3 --ramp 1; sample 30; schedule reverse 0.6 3" 2>&1) || fail "sample: $out"
echo "$out" | grep -q "sample: 40 states of 32 units" || fail "forward sample: $out"
echo "$out" | grep -q "sample: 30 states of 32 units" || fail "reverse sample: $out"
echo "$out" | grep -q "anneal 5.00 us/read" || fail "reverse anneal schedule not used: $out"
# too steep for the 2000Q (max slope 1/µs): the server's message is shown on one line
out=$($Q -c "$EMU; prior new chimera 2 2 4 --fit-solver; sampler use qpu; schedule reverse 0.6 3; sample 10" 2>&1)
[ $? -eq 1 ] || fail "invalid schedule accepted"
echo "$out" | grep -q "^error: qpu: POST problems/: HTTP 400: anneal_schedule: the maximum slope cannot exceed 1 µs⁻¹" \
    || fail "400 message: $out"

# --- several training steps through the emulator (sqa behind it), with 503 and 429 retried
SETUP="data load mnist; data split 200 50 50; $EMU; prior new chimera 2 2 4 --fit-solver; sampler use qpu; model new --hidden 32"
out=$($Q -c "$SETUP; qpu emulate --fault 503@3,429@6; train 1 --batch 50 --neg 16 --log-every 1 --no-save; qpu info" 2>&1) \
    || fail "training through the emulator: $out"
echo "$out" | grep -q "trained 4 steps" || fail "training steps: $out"
echo "$out" | grep -Eq "session: [0-9]+ requests, [2-9] retries" || fail "503/429 not retried: $out"
echo "$out" | grep -q "warning: qpu: .*HTTP 503" || fail "retry not logged: $out"

# --- connection dropped mid-training: a clear error, the last checkpoint intact
out=$($Q -c "$SETUP; session save qt; train 1 --batch 50 --neg 16 --quiet" 2>&1) || fail "epoch 1: $out"
[ -f "$QVAE_SESSIONS/qt/session.json" ] || fail "no checkpoint: $out"
sum1=$(cd "$QVAE_SESSIONS/qt" && find . -type f | sort | xargs md5sum)
out=$($Q -c "session load qt; $EMU; qpu emulate --fault drop@3; train 1 --batch 50 --neg 16" 2>&1)
[ $? -eq 1 ] || fail "training did not stop: $out"
echo "$out" | grep -q "^error: train: .*qpu: POST problems/: connection dropped" || fail "drop message: $out"
sum2=$(cd "$QVAE_SESSIONS/qt" && find . -type f | sort | xargs md5sum)
[ "$sum1" = "$sum2" ] || fail "checkpoint changed by the failed epoch"
out=$($Q -c "session load qt; $EMU; train 1 --batch 50 --neg 16 --no-save --quiet" 2>&1) || fail "resume after the drop: $out"

# --- serve-qpu as its own process: token check, 401, Ctrl-C
export QVAE_EMU_TOKEN="SRV-0123456789abcdef0123456789abcdef"
$Q serve-qpu --port 0 --solver DW_2000Q_5 --sampler sa --max-body 40000 > "$T/serve.log" 2>&1 &
pid=$!
for i in $(seq 50); do grep -q "serving SAPI on" "$T/serve.log" && break; sleep 0.1; done
port=$(sed -n 's|.*serving SAPI on http://127.0.0.1:\([0-9]*\)/sapi/.*|\1|p' "$T/serve.log")
[ -n "$port" ] || { kill $pid; fail "serve-qpu did not start: $(cat "$T/serve.log")"; }
out=$(DWAVE_API_ENDPOINT="http://127.0.0.1:$port/sapi/" DWAVE_API_TOKEN="$QVAE_EMU_TOKEN" \
      $Q -c "qpu solvers; prior new chimera 1 1 4; sampler use qpu; sample 20" 2>&1) || { kill $pid; fail "client of serve-qpu: $out"; }
echo "$out" | grep -q "sample: 20 states of 8 units" || { kill $pid; fail "sample via serve-qpu: $out"; }
out=$(DWAVE_API_ENDPOINT="http://127.0.0.1:$port/sapi/" DWAVE_API_TOKEN="BAD-0000000000000000000000000000" \
      $Q -c "qpu solvers" 2>&1)
echo "$out" | grep -q "^error: qpu: GET solvers/remote/.*: HTTP 401: Invalid token or access denied" || { kill $pid; fail "401: $out"; }
echo "$out" | grep -q "BAD-0000" && { kill $pid; fail "token echoed"; }
# no token at all: said at once (no retries), the URL without its ?filter= query
out=$(DWAVE_API_ENDPOINT="http://127.0.0.1:$port/sapi/" HOME="$T/nohome" $Q -c "qpu solvers" 2>&1)
[ "$(echo "$out" | grep -c .)" -eq 1 ] && echo "$out" | grep -q "^error: qpu: GET solvers/remote/: no API token (set DWAVE_API_TOKEN" \
    || { kill $pid; fail "no token: $out"; }
# wire level (curl): media types, filters, status codes of qpu-protocol.md §1
if command -v curl >/dev/null; then
    U="http://127.0.0.1:$port/sapi"
    H="X-Auth-Token: $QVAE_EMU_TOKEN"
    V3='Accept: application/vnd.dwave.sapi.solver-definition-list+json; version=3.0.0'
    hdr=$(curl -s -D - -o "$T/list.json" -H "$H" -H "$V3" "$U/solvers/remote/?filter=none%2C%2Bidentity%2C%2Bproperties.num_qubits")
    echo "$hdr" | grep -qi "^content-type: application/vnd.dwave.sapi.solver-definition-list+json; version=3.0.0" \
        || { kill $pid; fail "media type: $hdr"; }
    grep -q '^\[{"identity":{"name":"DW_2000Q_5","version":{"graph_id":"[^"]*"}},"properties":{"num_qubits":2048}}\]$' "$T/list.json" \
        || { kill $pid; fail "filter: $(head -c 300 "$T/list.json")"; }
    # a large response (one solver definition, ~230 kB) is gzip-compressed when accepted
    hdr=$(curl -s -D - -o "$T/one.gz" -H "$H" -H 'Accept-Encoding: gzip' "$U/solvers/remote/DW_2000Q_5")
    echo "$hdr" | grep -qi "^content-encoding: gzip" || { kill $pid; fail "no gzip: $hdr"; }
    gunzip -c "$T/one.gz" | grep -q '"num_qubits":2048' || { kill $pid; fail "gzip body"; }
    code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
    [ "$(code "$U/solvers/remote/")" = 401 ] || { kill $pid; fail "no token: not 401"; }
    [ "$(code -H "$H" -H 'Accept: application/vnd.dwave.sapi.solver-definition-list+json; version=1.0.0' "$U/solvers/remote/")" = 415 ] \
        || { kill $pid; fail "media version 1: not 415"; }
    [ "$(code -H "$H" "$U/problems/00000000-0000-4000-8000-000000000000/")" = 404 ] || { kill $pid; fail "unknown problem: not 404"; }
    grep -q '"error_msg":"Problem does not exist or apitoken does not have access"' "$T/body" || { kill $pid; fail "404 body"; }
    [ "$(code -H "$H" -H 'Content-Type: application/json' --data-binary '[{"solver": ' "$U/problems/")" = 400 ] \
        || { kill $pid; fail "bad JSON: not 400"; }
    [ "$(code -H "$H" "$U/problems/?id=x&timeout=31")" = 400 ] || { kill $pid; fail "timeout 31: not 400"; }
    head -c 50000 /dev/zero | tr '\0' ' ' > "$T/big"
    [ "$(code -H "$H" -H 'Content-Type: application/json' --data-binary @"$T/big" "$U/problems/")" = 413 ] \
        || { kill $pid; fail "large body: not 413"; }
fi
kill -INT $pid
for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -0 $pid 2>/dev/null && { kill $pid; fail "serve-qpu ignored Ctrl-C"; }
grep -q "emulator stopped: .* requests, 1 problems answered" "$T/serve.log" || fail "serve-qpu summary: $(cat "$T/serve.log")"
echo "qpu ok"
