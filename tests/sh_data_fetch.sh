#!/bin/bash
# sh_data_fetch.sh — `data fetch` against a loopback fault-injecting HTTP server
# (tests/httpd_faults.py) serving the shared MNIST files: a verified download that then loads;
# corrupted, truncated and cut transfers rejected with nothing loadable left; 404 (no retry),
# refused connection, timeout, retries that recover; and a failed fetch keeps the loaded dataset.
set -u
cd "$(dirname "$0")/.."
Q=${QVAE_SAN_BIN:-build/san/qvae}
T=${QVAE_TMP:-$(mktemp -d)}
SH=${QVAE_SHARED:-../shared}
fail() { echo "FAIL: $*"; exit 1; }
[ -f "$SH/data/mnist/train-images-idx3-ubyte.gz" ] || { echo "skip: no MNIST files in $SH/data/mnist"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 not installed"; exit 77; }

python3 tests/httpd_faults.py --dir "$SH/data/mnist" --port-file "$T/port" 2>"$T/httpd.log" &
srv=$!
trap 'kill $srv 2>/dev/null; wait $srv 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
[ -s "$T/port" ] || fail "server did not start"
P=$(cat "$T/port")
U=http://127.0.0.1:$P

# only the leftovers that matter: anything at all in the target folder
nothing_left() { [ -z "$(ls -A "$1/mnist" 2>/dev/null)" ] || fail "$2: files left: $(ls -A "$1/mnist")"; }

# 1. a verified download, which then loads as the full set
D=$T/ok
out=$(QVAE_DATA=$D $Q -c "data fetch mnist --from $U/normal/" 2>&1) || fail "normal fetch: $out"
echo "$out" | grep -q "mnist: 4 files downloaded and verified" || fail "normal fetch message: $out"
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  cmp -s "$D/mnist/$f" "$SH/data/mnist/$f" || fail "$f differs"
done
[ "$(ls -A "$D/mnist" | wc -l)" -eq 4 ] || fail "extra files: $(ls -A "$D/mnist")"
# on a terminal (script(1) gives it one): a progress bar, drawn full once per file
if command -v script >/dev/null; then
  out=$(QVAE_DATA=$T/tty script -qec "$Q -c 'data fetch mnist --from $U/normal/'" /dev/null 2>&1 | tr '\r' '\n') \
      || fail "fetch on a terminal: $out"
  [ "$(echo "$out" | grep -c '^.*fetch train-images-idx3-ubyte.gz \[#*\] 9912422/9912422 bytes')" -eq 1 ] \
      || fail "progress bar: $out"
fi
out=$(QVAE_DATA=$D $Q -c 'data load mnist; data info' 2>&1) || fail "load after fetch: $out"
echo "$out" | grep -q "using the full MNIST IDX files" || fail "did not use IDX: $out"
echo "$out" | grep -q "images     70000 of 28×28" || fail "count: $out"
# again: already present and verified, nothing downloaded; a killed fetch's temporary is cleaned
dead=$(python3 -c 'import os
p = 4000000
while True:
    try: os.kill(p, 0); p -= 1
    except ProcessLookupError: print(p); break
    except PermissionError: p -= 1')
echo partial > "$D/mnist/.train-images-idx3-ubyte.gz.part.$dead"
echo mine > "$D/mnist/.train-images-idx3-ubyte.gz.part.$$"
out=$(QVAE_DATA=$D $Q -c "data fetch mnist --from $U/404/" 2>&1) || fail "refetch: $out"
echo "$out" | grep -q "0 files downloaded and verified, 4 already present" || fail "refetch message: $out"
[ -e "$D/mnist/.train-images-idx3-ubyte.gz.part.$dead" ] && fail "stale temporary not removed"
[ -e "$D/mnist/.train-images-idx3-ubyte.gz.part.$$" ] || fail "a live process's temporary was removed"
rm -f "$D/mnist/.train-images-idx3-ubyte.gz.part.$$"

# 2. a corrupted file is rejected by the checksum
D=$T/corrupt
out=$(QVAE_DATA=$D $Q -c "data fetch mnist --from $U/corrupt/ --retries 1 --backoff 0" 2>&1); rc=$?
[ $rc -ne 0 ] || fail "corrupt fetch succeeded"
echo "$out" | grep -q "^error: data fetch: $U/corrupt/train-images-idx3-ubyte.gz: checksum mismatch (got md5 [0-9a-f]\{32\}, expected f68b3c2dcbeaaa9fbdd348bbdeb94873)$" \
  || fail "corrupt message: $out"
echo "$out" | grep -q "retrying in 0 s" || fail "no retry on checksum mismatch: $out"
nothing_left "$D" corrupt
out=$(QVAE_DATA=$D $Q -c 'data load mnist' 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "error: data load mnist: .*no MNIST here" || fail "load after corrupt: $out"

# 3. a server that stops mid-file (announced length): partial transfer, nothing loadable
D=$T/trunc
out=$(QVAE_DATA=$D $Q -c "data fetch mnist --from $U/truncate/ --retries 0" 2>&1); rc=$?
[ $rc -ne 0 ] || fail "truncated fetch succeeded"
echo "$out" | grep -q "^error: data fetch: $U/truncate/train-images-idx3-ubyte.gz: transfer stopped after 4956211 of 9912422 bytes$" \
  || fail "truncate message: $out"
nothing_left "$D" truncate
# … and without a length (looks complete): the checksum catches it
D=$T/cut
out=$(QVAE_DATA=$D $Q -c "data fetch mnist --from $U/cut/ --retries 0" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "checksum mismatch" || fail "cut: $out"
nothing_left "$D" cut

# 4. HTTP 404: one attempt, no retries
D=$T/404
: > "$T/httpd.log"
out=$(QVAE_DATA=$D $Q -c "data fetch mnist --from $U/404/ --backoff 0" 2>&1); rc=$?
[ $rc -ne 0 ] || fail "404 fetch succeeded"
echo "$out" | grep -q "^error: data fetch: $U/404/train-images-idx3-ubyte.gz: HTTP 404$" || fail "404 message: $out"
[ "$(grep -c '^404 ' "$T/httpd.log")" -eq 1 ] || fail "404 was retried: $(cat "$T/httpd.log")"
nothing_left "$D" 404

# 5. a refused connection (a port nobody listens on)
CP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
out=$(QVAE_DATA=$T/refused $Q -c "data fetch mnist --from http://127.0.0.1:$CP/ --retries 1 --backoff 0" 2>&1); rc=$?
[ $rc -ne 0 ] || fail "refused fetch succeeded"
echo "$out" | grep -q "^error: data fetch: http://127.0.0.1:$CP/train-images-idx3-ubyte.gz: connection refused$" || fail "refused message: $out"
nothing_left "$T/refused" refused

# 6. a server that goes silent: timeout
out=$(QVAE_DATA=$T/slow $Q -c "data fetch mnist --from $U/slow/ --timeout 1 --retries 0" 2>&1); rc=$?
[ $rc -ne 0 ] || fail "slow fetch succeeded"
echo "$out" | grep -q "^error: data fetch: $U/slow/train-images-idx3-ubyte.gz: timed out after 1 s$" || fail "timeout message: $out"
nothing_left "$T/slow" slow

# 7. transient server errors: retried with back-off, then verified
D=$T/flaky
out=$(QVAE_DATA=$D $Q -c "data fetch mnist --from $U/flaky/ --retries 3 --backoff 0.05" 2>&1) || fail "flaky fetch: $out"
echo "$out" | grep -q "warning: data fetch: retrying in 0.05 s: $U/flaky/train-images-idx3-ubyte.gz: HTTP 503" || fail "flaky retry note: $out"
echo "$out" | grep -q "4 files downloaded and verified" || fail "flaky result: $out"

# 8. bad arguments
out=$($Q -c 'data fetch cifar' 2>&1); [ $? -ne 0 ] && echo "$out" | grep -q "error: data fetch: cifar: unknown dataset (known: mnist, fashion-mnist)" || fail "unknown set: $out"
out=$($Q -c 'data fetch mnist --timeout 0' 2>&1); [ $? -ne 0 ] && echo "$out" | grep -q "error: data fetch: --timeout 0" || fail "bad timeout: $out"
out=$($Q -c 'data fetch mnist --bogus 1' 2>&1); [ $? -ne 0 ] && echo "$out" | grep -q "^error: .*bogus" || fail "unknown option: $out"

# 9. a failed fetch keeps the dataset already loaded
out=$(QVAE_DATA=$T/keep $Q --keep-going -c "data load idx $SH/data/mnist/t10k-images-idx3-ubyte.gz; data fetch mnist --from $U/404/; data info" 2>&1)
echo "$out" | grep -q "HTTP 404" || fail "keep: $out"
echo "$out" | grep -q "images     10000 of 28×28" || fail "dataset lost after failed fetch: $out"
echo "fetch ok"
