#!/bin/bash
# Runs every test: the cmocka unit-test binaries (built with ASan/UBSan) and the shell tests
# (tests/sh_*.sh: end-to-end through the qvae binary, tmux, loopback servers).
# A shell test exits 0 (pass), 77 (skipped, with a message), anything else (fail).
# Usage: tests/run.sh [PATTERN]   (PATTERN filters test names)
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac   # the shell tests run from other folders
export QVAE_HOME="$PWD"
export QVAE_SHARED=${QVAE_SHARED:-$PWD/../shared}
export QVAE_BIN=${QVAE_BIN:-$BUILD/rel/qvae}
export QVAE_SAN_BIN=${QVAE_SAN_BIN:-$BUILD/san/qvae}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
pat=${1:-}
pass=0; fail=0; skip=0; failed=()
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
run_one() {  # name, command...
  local name=$1; shift
  local t0=$SECONDS
  "$@" >"$tmp/out" 2>&1
  local rc=$?
  if [ $rc -eq 0 ]; then pass=$((pass+1)); echo "PASS $name ($((SECONDS-t0))s)"
  elif [ $rc -eq 77 ]; then skip=$((skip+1)); echo "SKIP $name: $(tail -n1 "$tmp/out")"
  else fail=$((fail+1)); failed+=("$name"); echo "FAIL $name (exit $rc)"; tail -n 40 "$tmp/out" | sed 's/^/    /'; fi
}
for t in "$BUILD"/san/tests/test_*; do
  [ -x "$t" ] || continue
  n=$(basename "$t"); [ -n "$pat" ] && [[ $n != *$pat* ]] && continue
  export QVAE_TMP="$tmp/$n"; mkdir -p "$QVAE_TMP"
  run_one "$n" "$t"
done
# the same tests built with ThreadSanitizer (make tsan): any report fails the test
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:exitcode=66:second_deadlock_stack=1}
for t in "$BUILD"/tsan/tests/test_*; do
  [ -x "$t" ] || continue
  n=tsan_$(basename "$t"); [ -n "$pat" ] && [[ $n != *$pat* ]] && continue
  export QVAE_TMP="$tmp/$n"; mkdir -p "$QVAE_TMP"
  run_one "$n" env OPENBLAS_NUM_THREADS=1 "$t"
done
for t in tests/sh_*.sh; do
  [ -f "$t" ] || continue
  n=$(basename "$t" .sh); [ -n "$pat" ] && [[ $n != *$pat* ]] && continue
  export QVAE_TMP="$tmp/$n"; mkdir -p "$QVAE_TMP"
  run_one "$n" bash "$t"
done
echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
