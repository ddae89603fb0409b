# tests/lib.sh — shared helpers for the end-to-end shell tests (sourced, not run).
#   Q        the qvae binary under test (sanitizer build unless the test set Q first)
#   T        this test's scratch folder
#   fail MSG           print FAIL and exit 1
#   run 'CMDS'         output of `qvae -c CMDS`, which must succeed
#   bad 'CMDS' REGEX   `qvae -c CMDS` must fail with exactly one "error: …" line matching REGEX
#                      and no sanitizer report
Q=${Q:-${QVAE_SAN_BIN:-build/san/qvae}}
T=${QVAE_TMP:-$(mktemp -d)}
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$Q" ] || { echo "skip: no qvae binary at $Q"; exit 77; }

run() { $Q -c "$1" 2>&1 || fail "'$1' failed: $($Q -c "$1" 2>&1 | tail -n 3)"; }
bad() {
  local out rc
  out=$($Q -c "$1" 2>&1); rc=$?
  [ $rc -ne 0 ] || fail "'$1' succeeded"
  [ "$(echo "$out" | grep -c '^error: ')" -eq 1 ] || fail "'$1': not one error line: $out"
  echo "$out" | grep -q "^error: .*$2" || fail "'$1': message '$out' lacks '$2'"
  echo "$out" | grep -qi 'sanitizer\|runtime error' && fail "'$1': sanitizer report"
  return 0
}
