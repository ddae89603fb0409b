#!/bin/bash
# sh_cli.sh — the batch front ends: -c, scripts (first error stops, --keep-going), stdin, words,
# exit codes and the one-line "error: …" messages.
set -u
Q=${QVAE_SAN_BIN:-build/san/qvae}
T=${QVAE_TMP:-$(mktemp -d)}
fail() { echo "FAIL: $*"; exit 1; }

out=$($Q -c 'seed 11; seed' 2>&1) || fail "-c returned non-zero"
[ "$(echo "$out" | tail -n1)" = "seed 11" ] || fail "-c output: $out"

out=$($Q -c 'seed 3; nosuchcmd; echo never' 2>&1); rc=$?
[ $rc -eq 1 ] || fail "error exit code $rc"
echo "$out" | grep -q "^error: unknown command 'nosuchcmd'" || fail "message: $out"
echo "$out" | grep -q never && fail "ran past the error"

printf '# a script\nseed 5\necho one\nbogus arg\necho two\n' > "$T/s.qv"
out=$($Q "$T/s.qv" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "script exit $rc"
echo "$out" | grep -q "error: $T/s.qv:4: unknown command 'bogus'" || fail "script message: $out"
echo "$out" | grep -q two && fail "script continued"
# a script that is not there: one line naming the file, not "unknown command"
out=$($Q "$T/missing.qv" 2>&1); rc=$?
[ $rc -eq 1 ] && [ "$out" = "error: $T/missing.qv: No such file or directory" ] || fail "missing script ($rc): $out"
out=$($Q --keep-going "$T/s.qv" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "keep-going exit $rc"
echo "$out" | grep -q two || fail "keep-going did not continue"

out=$(printf 'echo piped\nseed 2; seed\n' | $Q 2>&1) || fail "stdin failed"
echo "$out" | grep -q piped || fail "stdin output"

out=$($Q echo hello world 2>&1) || fail "words"
[ "$out" = "hello world" ] || fail "words output: $out"

$Q --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad option exit"
$Q -c 'seed abc' 2>&1 | grep -q "error: seed: 'abc' is not an integer" || fail "bad number message"
$Q -c 'echo "unterminated' 2>&1 | grep -q "error: unterminated" || fail "quote message"
out=$($Q -c 'help' 2>&1) || fail help
echo "$out" | grep -q "seed" || fail "help lists commands"

# The BLAS kernels: on a CPU with AVX2 and FMA, whatever OpenBLAS detects, qvae runs an AVX2 (or
# AVX-512) kernel set, re-executing itself when OpenBLAS fell back to an older one; the arguments
# survive the re-exec; a user's OPENBLAS_CORETYPE is kept.
out=$(env -u OPENBLAS_CORETYPE -u QVAE_BLAS_DETECTED $Q -c 'version; echo after the version' 2>&1) || fail "version: $out"
echo "$out" | grep -q '^BLAS: OpenBLAS .*; kernels ' || fail "version has no BLAS line: $out"
[ "$(echo "$out" | tail -n1)" = "after the version" ] || fail "version: arguments lost: $out"
if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
  echo "$out" | grep -Eq 'kernels (Haswell|Zen|SkylakeX|Cooperlake|SapphireRapids)' \
    || fail "AVX2 CPU without AVX2 kernels: $out"
fi
out=$(OPENBLAS_CORETYPE=Prescott $Q -c version 2>&1) || fail "version with OPENBLAS_CORETYPE"
echo "$out" | grep -q 'kernels Prescott (OPENBLAS_CORETYPE=Prescott)$' || fail "user's core type not kept: $out"
# Denormal floats are flushed from the top of main() (nn.h: a trained model trains 1.45× faster);
# threads started later inherit the mode (test_nn checks that).
echo "$out" | grep -q '^denormal floats: flushed to zero' || fail "denormals not flushed: $out"
echo "cli ok"
