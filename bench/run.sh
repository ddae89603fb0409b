#!/bin/bash
# make bench: runs every benchmark program (bench/bench_*.c, built with -O2 -march=native) and
# every benchmark script (bench/bench_*.sh).  Each prints its own figures and peer ratios.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
export QVAE_HOME="$PWD"
export QVAE_SHARED=${QVAE_SHARED:-$PWD/../shared}
export QVAE_BIN=${QVAE_BIN:-$BUILD/rel/qvae}
pat=${1:-}
for b in "$BUILD"/rel/bench/bench_* bench/bench_*.sh; do
  [ -e "$b" ] || continue
  n=$(basename "$b"); [ -n "$pat" ] && [[ $n != *$pat* ]] && continue
  echo "=== $n"
  case "$b" in *.sh) bash "$b" ;; *) "$b" ;; esac
  echo
done
