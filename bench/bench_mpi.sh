#!/bin/bash
# bench_mpi.sh — data-parallel training across Open MPI ranks against threads in one process:
# training throughput (img/s) of 1 process × 1 thread, 1 process × 2 threads and 2 ranks × 1
# thread (`mpirun --oversubscribe -np 2 … --threads 1`: the same 2 blocks, the same bits), the
# efficiency of the 2 ranks against the 2 threads and against 2 × one thread, and the bytes each
# rank receives per step in the block exchange (src/dvae_pass.c: every block's gradient vector,
# sums, BM statistics, batch-norm statistics and logits), for the default model and for the
# DVAE#-family model (docs/scaling.md uses these figures).
# Usage: bench/bench_mpi.sh [STEPS] (default 200 steps of batch 100 per configuration)
set -u
cd "$(dirname "$0")/.."
BIN=${QVAE_BIN:-$PWD/build/rel/qvae}
[ -x "$BIN" ] || { echo "bench_mpi: no binary $BIN"; exit 0; }
command -v mpirun >/dev/null || { echo "bench_mpi: mpirun missing (openmpi-bin), skipped"; exit 0; }
STEPS=${1:-200}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export QVAE_SESSIONS=$TMP OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n1)
simd=$("$BIN" -c version 2>&1 | sed -n 's/^SIMD kernels: \([a-z0-9]*\).*/\1/p')
"$BIN" -c 'data load npm' >/dev/null 2>&1 || { echo "bench_mpi: the npm digits are missing, skipped"; exit 0; }

# img/s of `train` from its summary line ("trained N steps in S s (X img/s) …")
ips() { sed -n 's/^trained [0-9]* steps in [0-9.]* s (\([0-9]*\) img\/s).*/\1/p' <<<"$1" | tail -n 1; }

one() {  # label, model options
  local setup="seed 1; data load npm; prior new chimera 6 6 4; model new $2"
  local tr="train 1 --max-steps $STEPS --batch 100 --no-save --quiet"
  local o1 o2 o3 a b c np n ne
  o1=$("$BIN" -c "$setup; $tr --threads 1; model info" 2>&1)
  o2=$("$BIN" -c "$setup; $tr --threads 2" 2>&1)
  o3=$(mpirun --oversubscribe -np 2 "$BIN" -c "$setup; $tr --threads 1" 2>&1)
  a=$(ips "$o1"); b=$(ips "$o2"); c=$(ips "$o3")
  if [ -z "$a" ] || [ -z "$b" ] || [ -z "$c" ]; then echo "$1: a run failed: $(tail -n 2 <<<"$o1$o2$o3")"; return; fi
  np=$(sed -n 's/.*, \([0-9]*\) parameters.*/\1/p' <<<"$o1" | head -n 1)
  n=$(sed -n 's/^prior chimera .*: \([0-9]*\) units, .*/\1/p' <<<"$o1")
  ne=$(sed -n 's/^prior chimera .*: [0-9]* units, \([0-9]*\) couplers.*/\1/p' <<<"$o1")
  # per block (batch 100 in 2 blocks of 50 rows): gradients 4·P + sums 24 + BM statistics
  # 8·(n + ne) + logits 4·50·n (batch-norm statistics, when present, are a few KB more)
  local rec=$(( 4 * np + 24 + 8 * (n + ne) + 4 * 50 * n ))
  echo "$1: $np parameters; ${a} img/s 1×1, ${b} img/s 1 process × 2 threads, ${c} img/s 2 ranks × 1 thread"
  awk -v a="$a" -v b="$b" -v c="$c" -v r="$rec" -v s="$STEPS" 'BEGIN {
    printf "  2 ranks vs 2 threads %.2f×; parallel efficiency of 2 ranks %.0f%% (of 2× one thread); ", c / b, 100 * c / (2 * a)
    printf "exchange %.2f MB received per rank per step (one block record %.2f MB); step %.1f ms on 1 thread\n",
           r / 1e6, r / 1e6, 100 * 1000 / a }'
}

echo "bench_mpi: $cpu; SIMD path ${simd:-?}; OpenBLAS 1 thread per rank; $(nproc) CPUs; $STEPS steps of batch 100, PCD (gibbs) negative phase, C(6,6,4) prior; Open MPI $(mpirun --version 2>&1 | head -n 1 | sed 's/.*) //'), shared memory transport, oversubscribed"
one "default 784-512-256-288" "--hidden 512,256"
one "DVAE# family --bn --groups 2 --relax power" "--hidden 512,256 --bn --groups 2 --relax power"
