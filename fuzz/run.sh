#!/bin/bash
# fuzz/run.sh — `make fuzz`: builds the libFuzzer harnesses fuzz/fuzz_*.c with clang
# (-fsanitize=fuzzer,address,undefined) against every src/*.c, then runs each for a bounded time
# on a corpus seeded from fuzz/seeds/<name>/ (the corpus grows in fuzz/corpus-<name>/, git-ignored).
# Usage: fuzz/run.sh [NAME…]      env: FUZZ_SECONDS (60 per harness), FUZZ_RUNS (a number of
# executions per harness instead of a time limit), FUZZ_BUILD (build/fuzz)
# Exit status: non-zero if a harness finds a crash, a leak or a sanitizer report (the reproducer is
# left in $FUZZ_BUILD/<name>/crash-*).
set -eu
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-60}
LIMIT=(-max_total_time="$SECS")
[ -n "${FUZZ_RUNS:-}" ] && LIMIT=(-runs="$FUZZ_RUNS")
OUT=${FUZZ_BUILD:-build/fuzz}
CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (scripts/install-deps.sh fuzz installs it)"; exit 1; }
PKGS="ncursesw readline openblas libpng libcurl libcjson zlib libmicrohttpd libcrypto"
CFLAGS="-g -O1 -std=c11 -D_GNU_SOURCE -DQVAE_HOME=\"$PWD\" -DQVAE_FUZZ=1 -fno-omit-frame-pointer $(pkg-config --cflags $PKGS) -iquote src"
LIBS="$(pkg-config --libs $PKGS) -lpthread -lm"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
mkdir -p "$OUT/obj"

# library objects: instrumented for coverage, no libFuzzer main
objs=()
for s in src/*.c; do
  # the SIMD kernels are compiled once per instruction set (as in the Makefile)
  case $s in src/kern_isa*.c) isas="sse2:x86-64:SIMD_SSE2 avx2:x86-64-v3:SIMD_AVX2 avx512:x86-64-v4:SIMD_AVX512" ;; *) isas=- ;; esac
  for i in $isas; do
    isa= kflags=()
    if [ "$i" != - ]; then
      IFS=: read -r isa march en <<< "$i"
      kflags=(-march="$march" -DSIMD_ISA_NAME="$isa" -DSIMD_ISA_ENUM="$en")
    fi
    o="$OUT/obj/$(basename "${s%.c}")${isa:+_$isa}.o"
    objs+=("$o")
    if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ -n "$(find src -name '*.h' -newer "$o" 2>/dev/null | head -1)" ]; then
      echo "fuzz: cc $s $isa"
      $CC $CFLAGS $SAN -fsanitize=fuzzer-no-link "${kflags[@]}" -c "$s" -o "$o"
    fi
  done
done

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for h in fuzz/fuzz_*.c; do n=$(basename "$h" .c); names+=("${n#fuzz_}"); done
fi
status=0
for n in "${names[@]}"; do
  h=fuzz/fuzz_$n.c
  [ -f "$h" ] || { echo "fuzz: no harness $h"; exit 1; }
  bin="$OUT/fuzz_$n"
  $CC $CFLAGS $SAN -fsanitize=fuzzer "$h" "${objs[@]}" $LIBS -o "$bin"
  corpus=fuzz/corpus-$n
  mkdir -p "$corpus" "$OUT/$n"
  seeds=()
  [ -d "fuzz/seeds/$n" ] && seeds=("fuzz/seeds/$n")
  dict=()
  [ -f "fuzz/$n.dict" ] && dict=(-dict="fuzz/$n.dict")
  echo "fuzz: $n (${LIMIT[*]})"
  if ! ASAN_OPTIONS=detect_leaks=1 "$bin" "$corpus" "${seeds[@]}" "${dict[@]}" "${LIMIT[@]}" \
        -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$OUT/$n/" 2>"$OUT/$n/log"; then
    echo "fuzz: $n FAILED — see $OUT/$n/log and $OUT/$n/crash-*"
    tail -n 30 "$OUT/$n/log"
    status=1
  else
    grep -E "^stat::(number_of_executed_units|new_units_added)|cov:" "$OUT/$n/log" | tail -n 3 | sed "s/^/fuzz: $n: /"
  fi
done
exit $status
