#!/bin/bash
# make bench: runs every benchmark program (bench/bench_*.c, built like the release: -O2
# -march=$MARCH, SIMD kernels per instruction set) and every benchmark script (bench/bench_*.sh).
# Each prints its own figures and peer ratios; the machine (CPU model, SIMD path, OpenBLAS
# kernels, CPUs) is printed before each, and the sampler/sqa/train figures carry it per line.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
export QVAE_HOME="$PWD"
export QVAE_SHARED=${QVAE_SHARED:-$PWD/../shared}
export QVAE_BIN=${QVAE_BIN:-$BUILD/rel/qvae}
# OpenBLAS picks its kernels from the CPU model and falls back to SSE3 ones on a CPU it does not
# know; qvae corrects that for itself (`version` says so).  The same kernels for every program and
# peer here (NumPy links the same OpenBLAS), so that ratios compare code, not kernel sets.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && [ -x "$QVAE_BIN" ]; then
  core=$("$QVAE_BIN" -c version 2>/dev/null | sed -n 's/.*; kernels \([A-Za-z0-9]*\) (chosen by qvae.*/\1/p')
  [ -n "$core" ] && { export OPENBLAS_CORETYPE=$core; echo "OpenBLAS kernels: $core (chosen by qvae; OpenBLAS's own detection falls back to older ones on this CPU)"; }
fi
# One line: CPU model, the SIMD path qvae uses, OpenBLAS's kernels, CPUs.
machine() {
  local v cpu
  v=$("$QVAE_BIN" -c version 2>&1) || return 0
  cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n1)
  echo "machine: ${cpu:-unknown CPU}; SIMD path $(echo "$v" | sed -n 's/^SIMD kernels: \([a-z0-9]*\).*/\1/p');" \
       "OpenBLAS $(echo "$v" | sed -n 's/^BLAS: .*; kernels \([A-Za-z0-9]*\).*/\1/p'); $(nproc) CPUs"
}
pat=${1:-}
for b in "$BUILD"/rel/bench/bench_* bench/bench_*.sh; do
  [ -e "$b" ] || continue
  n=$(basename "$b"); [ -n "$pat" ] && [[ $n != *$pat* ]] && continue
  echo "=== $n"
  machine
  case "$b" in *.sh) bash "$b" ;; *) "$b" ;; esac
  echo
done
# The other CPU family on this machine: an AVX-512 CPU also runs what an AVX2-only one (AMD EPYC,
# most laptops) runs — a build for x86-64-v3 (AVX2 + FMA: the compiler cannot use AVX-512 in
# qvae's own elementwise code either), the avx2 sampler path, OpenBLAS's Haswell kernels and
# PyTorch's AVX2 kernels — so training and its PyTorch ratio are measured for both families.
if grep -qw avx512f /proc/cpuinfo && { [ -z "$pat" ] || [[ bench_train == *$pat* ]]; } &&
   make --no-print-directory -s BUILD="$BUILD/v3" MARCH=x86-64-v3 "$BUILD/v3/rel/qvae" "$BUILD/v3/rel/bench/bench_train" >/dev/null; then
  echo "=== bench_train, AVX2 family (x86-64-v3 build, QVAE_ISA=avx2 OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2)"
  (export QVAE_ISA=avx2 OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2 QVAE_BIN="$BUILD/v3/rel/qvae"
   machine; "$BUILD/v3/rel/bench/bench_train")
  echo
fi
