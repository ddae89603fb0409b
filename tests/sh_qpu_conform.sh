#!/bin/bash
# sh_qpu_conform.sh — `qvae serve-qpu` as a drop-in SAPI for D-Wave's own client: two emulators
# started the same way, then tests/sapi_conform.py speaks raw HTTP to them as
# dwave-cloud-client 0.10.6 (and 0.13, 0.14) does — media types and versions, the v2 and v3
# solver forms, per-problem errors aligned with a batch, answers, long polls, the status codes of
# qpu-protocol §1.10, and problem ids disjoint across the two processes.  Only 127.0.0.1 is used.
set -u
Q=${QVAE_BIN:-build/rel/qvae}
T=${QVAE_TMP:-$(mktemp -d)}
SH=${QVAE_SHARED:-../shared}
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$Q" ] || { echo "skip: no qvae binary at $Q"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 not installed"; exit 77; }
[ -d "$SH/data/sapi/exchanges" ] || { echo "skip: no recorded SAPI exchanges under $SH/data/sapi"; exit 77; }
for s in DW_2000Q_5 Advantage_system4.1; do
    [ -f "assets/solvers/$s.json" ] || { echo "skip: assets/solvers/$s.json not shipped"; exit 77; }
done
export QVAE_EMU_TOKEN="CONF-0123456789abcdef0123456789abcdef"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done' EXIT
ports=()
for k in a b; do
    $Q serve-qpu --port 0 --solver DW_2000Q_5,Advantage_system4.1 --sampler sa > "$T/serve-$k.log" 2>&1 &
    pids+=($!)
    for i in $(seq 100); do grep -q "serving SAPI on" "$T/serve-$k.log" && break; sleep 0.1; done
    p=$(sed -n 's|.*serving SAPI on http://127.0.0.1:\([0-9]*\)/sapi/.*|\1|p' "$T/serve-$k.log")
    [ -n "$p" ] || fail "serve-qpu did not start: $(cat "$T/serve-$k.log")"
    ports+=("$p")
done
python3 tests/sapi_conform.py "${ports[0]}" "${ports[1]}" "$QVAE_EMU_TOKEN" "$SH" > "$T/conform.log" 2>&1 \
    || fail "$(grep -v '^conformance:' "$T/conform.log" | head -n 20)"
grep -q "CONF-0123" "$T"/serve-*.log && fail "token in the server log"
echo "qpu conformance ok"
