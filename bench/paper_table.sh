#!/bin/bash
# bench/paper_table.sh — Vinci et al.'s MNIST table (arXiv:1912.02119) as one command (issue 20):
# the same networks, equal wall-clock budgets, five priors / negative phases, each evaluated with
# the importance-weighted test log-likelihood (K samples per image, log Z by population annealing
# with its error bar) and its active units; a markdown table with the published figures beside.
#
# Usage: bench/paper_table.sh [MINUTES_PER_RUN=60] [K=1000] [NTEST=10000] [OUTDIR]
# Environment: QVAE_SHARED (full MNIST), QVAE_BIN, MOPTS (model options for every run, default
# "--bn": centred, batch-normalised GumBolt, the recipe of bench/results/quality_mnist.md),
# SCHEDULE (quality_mnist.sh's phases, default its own), CLOCK (cpu, default, or wall),
# PA and SQA ("sampler use …" arguments of those runs), ONLY (a subset of the run names), KLW
# (KL warm-up epochs, quality_mnist.sh's; shorten it for short budgets), PAR, TABLE_ONLY (below).
# Runs go two at a time, one thread each (a 2-core machine); each run's log, session and
# metrics.csv stay in OUTDIR (default build/paper_table); the table is written to
# bench/results/paper_table.md, with OUTDIR/curves.csv holding every run's validation ELBO of
# discrete latents against training seconds (from metrics.csv).
#   bernoulli     a 288-unit factorised Bernoulli prior (the no-coupling baseline)
#   chimera-pcd   Chimera C(6,6,4), PCD: 100 persistent chains × 20 Gibbs sweeps per step
#   chimera-pa    the same prior, population annealing as the negative phase (the paper's classical
#                 sampler)
#   chimera-sqa   the same prior, the emulated annealer (simulated quantum annealing on the
#                 DW-2000Q schedule): the stand-in for the 2000Q the paper trained with
#   pegasus       a 288-unit Pegasus P(4) prior (full variant), PCD
set -u
cd "$(dirname "$0")/.."
MIN=${1:-60}
K=${2:-1000}
NTEST=${3:-10000}
OUT=${4:-$PWD/build/paper_table}
SHARED=${QVAE_SHARED:-$PWD/../shared}
if [ ! -f "$SHARED/data/mnist/train-images-idx3-ubyte.gz" ]; then
  echo "skip: full MNIST not found in $SHARED/data/mnist"; exit 77
fi
# the budget counts each run's CPU time (train --clock cpu): one thread per run, so on a quiet
# machine the same as wall-clock minutes, and the runs stay equal when the machine is shared
export QVAE_SHARED=$SHARED MOPTS=${MOPTS:---bn} THREADS=1 NICE=${NICE:-0} CLOCK=${CLOCK:-cpu}
export SCHEDULE=${SCHEDULE:-1e-3:35,3e-4:15,3e-4:15:0.35:5,1e-4:15:0.25:10,3e-5:15:0.25:10,1e-5:5:0.25:10}
# DVAE#'s counts for its PA negative phase: 1000 members annealed over 40 heat-bath sweeps (one
# run, 40 β steps of one sweep) per parameter update.  The sampler's defaults (4 runs × 100 steps
# × 2 sweeps, made for log Z) cost 20× that: 3 CPU-minutes an epoch.
PA=${PA:-pa --population 1000 --runs 1 --steps 40 --sweeps 1}
# sqa on the 2000Q schedule at 10 sweeps per µs costs ~0.7 s per 100 reads of C(6,6,4) (6 minutes
# an epoch); 2 per µs keeps an hour's budget at tens of epochs
SQA=${SQA:-sqa --solver DW_2000Q_5 --sweeps_per_us 2}
RUNS=${ONLY:-bernoulli chimera-pcd chimera-pa chimera-sqa pegasus}
mkdir -p "$OUT"

one() {   # run name: quality_mnist.sh with that run's prior and negative phase
  local n=$1 sampler=""
  case $n in
    chimera-pa) sampler=$PA ;;
    chimera-sqa) sampler=$SQA ;;
  esac
  SAMPLER=$sampler RUNS=$n bench/quality_mnist.sh "$MIN" "$K" "$NTEST" 20 "$OUT" > "$OUT/$n.out" 2>&1
}

# PAR runs at a time (default 2, one per core); with the CPU clock any number is fair.
# TABLE_ONLY=1 writes the table and curves from OUTDIR's logs without training.
if [ -z "${TABLE_ONLY:-}" ]; then
  set -- $RUNS
  while [ $# -gt 0 ]; do
    for _ in $(seq "${PAR:-2}"); do
      [ $# -gt 0 ] || break
      one "$1" &
      shift
    done
    wait
  done
fi

# ---- the table ------------------------------------------------------------------------------------
published() {
  case $1 in
    bernoulli) echo "−83.7 ± 0.2 / −84.2 ± 0.05" ;;
    chimera-pcd) echo "—" ;;
    chimera-pa) echo "−82.8 ± 0.1" ;;
    chimera-sqa) echo "−82.8 ± 0.2 (D-Wave 2000Q)" ;;
    pegasus) echo "better than Chimera (no figure)" ;;
  esac
}
T=bench/results/paper_table.md
{
  echo "# Vinci et al.'s MNIST table, reproduced with \`bench/paper_table.sh $MIN $K $NTEST\`"
  echo
  echo "$(date -u +%F), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), one thread per run,"
  echo "${PAR:-2} runs side by side; model options [$MOPTS], phases $SCHEDULE, KL warm-up ${KLW:-50} epochs, $MIN minutes of training"
  echo "each ($CLOCK clock: CPU minutes of the run's process when cpu, so a shared machine cannot"
  echo "shorten one run more than another); negative phases: PCD 100 chains × 20 sweeps, \`$PA\`,"
  echo "\`$SQA\`; test LL with K = $K importance samples over $NTEST test images (± standard error"
  echo "over images), log Z by population annealing (± the larger of PA's and AIS's spreads and their"
  echo "disagreement).  Published: Vinci et al., long runs.  The figure paper_table.png draws each run's"
  echo "validation ELBO of discrete latents against its training time (test LL is computed once, at"
  echo "the end, so that no choice is made on the test set)."
  echo
  echo "| run | epochs | test LL | log Z | active units | published |"
  echo "|---|---|---|---|---|---|"
  for n in $RUNS; do
    L="$OUT/$n.log"
    ll=$(grep -o 'test LL = [-0-9.]* ± [0-9.]*' "$L" 2>/dev/null | tail -1 | sed 's/test LL = //')
    lz=$(grep -o 'log Z = [-0-9.]* ± [0-9.]*' "$L" 2>/dev/null | tail -1 | sed 's/log Z = //')
    au=$(grep -o 'active units: [0-9]* of [0-9]*' "$L" 2>/dev/null | tail -1 | sed 's/active units: //')
    ep=$(grep -c '^epoch' "$L" 2>/dev/null)
    echo "| $n | ${ep:-0} | ${ll:-failed (see $n.log)} | ${lz:-—} | ${au:-—} | $(published "$n") |"
  done
} > "$T"
# curves: run, seconds, validation ELBO of discrete latents (metrics.csv's epoch rows)
{
  echo "run,seconds,val_elbo_z"
  for n in $RUNS; do
    M="$OUT/sessions/$n/metrics.csv"
    # seconds restart at every train call (one per phase): accumulate them
    [ -f "$M" ] && awk -F, -v n="$n" 'NR > 1 && $9 != "" && $12 != "" {
        if ($11 < last) off += last; last = $11; print n "," off + $11 "," $12 }' "$M"
  done
} > "$OUT/curves.csv"
BIN=${QVAE_BIN:-$PWD/build/rel/qvae}
"$BIN" -c "view csv $OUT/curves.csv --x seconds --y val_elbo_z --by run --png bench/results/paper_table.png \
  --title 'validation ELBO (discrete z) against training time' --xlabel 'training seconds ($CLOCK clock)' --ylabel 'nats'" >/dev/null \
  || echo "(no figure: view csv failed)"
cat "$T"
