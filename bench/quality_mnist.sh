#!/bin/bash
# bench/quality_mnist.sh — the quality benchmark of issue 4: on full MNIST (dynamic binarisation,
# 50k/10k/10k) train the same 784-512-256-288 tanh DVAE with (a) a 288-unit Bernoulli prior and
# (b) a Chimera C(6,6,4) Boltzmann-machine prior sampled by PCD (gibbs, 100 persistent chains),
# both at once with one BLAS thread each, under a wall-clock budget; then report active units and
# the importance-weighted test log-likelihood (BM: log Z by population annealing, with error bar).
#
# Usage: bench/quality_mnist.sh [MINUTES_PER_RUN=45] [K=5000] [NTEST=10000] [SWEEPS=10] [OUTDIR]
# Environment: QVAE_BIN (binary, default build/rel/qvae), NICE (niceness of the runs, default 10).
# Learning rate schedule inside the budget: 3e-3 for 60 %, 1e-3 for 25 %, 3e-4 for 15 % (each
# phase ends at an epoch boundary), KL warm-up over the first 5 epochs, batch 100, τ = 0.5.
# Logs and sessions (checkpoints, metrics.csv, digit grids) go to OUTDIR (default build/quality).
set -u
cd "$(dirname "$0")/.."
MIN=${1:-45}
K=${2:-5000}
NTEST=${3:-10000}
SWEEPS=${4:-10}
OUT=${5:-$PWD/build/quality}
SHARED=${QVAE_SHARED:-$PWD/../shared}
BIN=${QVAE_BIN:-$PWD/build/rel/qvae}
if [ ! -f "$SHARED/data/mnist/train-images-idx3-ubyte.gz" ]; then
  echo "skip: full MNIST not found in $SHARED/data/mnist"; exit 77
fi
[ -x "$BIN" ] || { echo "build first: make (missing $BIN)"; exit 1; }
mkdir -p "$OUT"
export QVAE_DATA="$SHARED/data" QVAE_SESSIONS="$OUT/sessions" OPENBLAS_NUM_THREADS=1
secs=$((MIN * 60)); t1=$((secs * 60 / 100)); t2=$((secs * 25 / 100)); t3=$((secs - t1 - t2))

run() {   # name, prior, extra train options
  local name=$1 prior=$2 extra=$3 t0=$SECONDS
  {
    echo "== $name: prior $prior, $MIN min budget, started $(date -u +%H:%M:%S)"
    nice -n "${NICE:-10}" "$BIN" -c "seed 1; data load mnist; prior new $prior; model new --hidden 512,256 --act tanh --tau 0.5;
      session save $name;
      train 1000000 --time $t1 --lr 3e-3 --kl-warmup 5 $extra;
      train 1000000 --time $t2 --lr 1e-3 --kl-warmup 5 $extra;
      train 1000000 --time $t3 --lr 3e-4 --kl-warmup 5 $extra;
      model info"
    echo "== $name: training wall-clock $((SECONDS - t0)) s"
    t0=$SECONDS
    nice -n "${NICE:-10}" "$BIN" -c "session load $name; eval units; eval ll --k $K --n $NTEST --logz pa"
    echo "== $name: evaluation wall-clock $((SECONDS - t0)) s, finished $(date -u +%H:%M:%S)"
  } > "$OUT/$name.log" 2>&1
}

run bernoulli "bernoulli 288" "" &
run chimera "chimera 6 6 4" "--sweeps $SWEEPS" &
wait
for n in bernoulli chimera; do
  echo "--- $n"
  grep -E '^epoch|^==|LL =|log Z|active units|trained' "$OUT/$n.log" | tail -n 12
done
