#!/bin/bash
# bench_pa_mpi.sh — throughput of population annealing (the `pa` sampler, samp_pa*.c) in replica
# sweeps per second on C(6,6,4) (288 units): one process with 2 threads against an Open MPI job
# of 2 ranks with 1 thread each, the same population and schedule, and the efficiency
# (2 ranks × 1 thread over 1 rank × 2 threads; 100 % = the ranks cost nothing over threads).
# The 2-rank line also gives the members moved between ranks per β step and the bytes that makes
# (a member travels as ⌈n/64⌉ state words + energy + family = 56 bytes at 288 units).
# Wall-clock figures: on a shared machine they include other people's load.
set -u
Q=${QVAE_BIN:-build/rel/qvae}
[ -x "$Q" ] || { echo "bench_pa_mpi: no qvae binary at $Q"; exit 0; }
command -v mpirun >/dev/null || { echo "bench_pa_mpi: no mpirun (openmpi-bin): skipped"; exit 0; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader

RUNS=4 R=50000 STEPS=20 SWEEPS=1   # 200 000 members, 20 β steps
cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n1)
isa=$("$Q" -c version 2>&1 | sed -n 's/^SIMD kernels: \([a-z0-9]*\).*/\1/p')
C="prior new chimera 6 6 4; prior random --seed 7; sampler use pa --runs $RUNS --population $R --steps $STEPS --sweeps $SWEEPS"

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# "WALL CPU" of the run with the median wall time of 3: WALL = seconds of the `sample` call
# (rank 0's wall time of the collective call), CPU = user + system seconds of the whole
# command (all ranks, process start and model set-up included; a rank waiting in a collective
# spins, so CPU counts that too)
secs() {   # secs NP THREADS
    local t=() out
    for i in 1 2 3; do
        if [ "$1" -eq 1 ]; then
            out=$(/usr/bin/time -f "cpu %U %S" "$Q" -c "$C --threads $2; sample 1000" 2>&1)
        else
            out=$(/usr/bin/time -f "cpu %U %S" mpirun --oversubscribe -np "$1" "$Q" \
                  -c "$C --threads $2; sample 1000" 2>&1)
        fi
        t+=("$(echo "$out" | sed -n 's/^sample: .* in \([0-9.]*\) s (pa)$/\1/p') $(echo "$out" |
               awk '/^cpu / { print $2 + $3 }')")
        echo "$out" > "$tmp/np$1"
    done
    printf '%s\n' "${t[@]}" | sort -g | sed -n 2p   # "WALL CPU" of the median
}
work=$((RUNS * R * STEPS * SWEEPS))
t1=$(secs 1 2)
t2=$(secs 2 1)
r1=$(cat "$tmp/np1") r2=$(cat "$tmp/np2")
[ -n "${t1% *}" ] && [ -n "${t2% *}" ] || { echo "bench_pa_mpi: a run failed: $r1 $r2"; exit 0; }
moved=$(echo "$r2" | sed -n 's/.*over 2 ranks (\([0-9.]*\) members moved per step).*/\1/p')
awk -v w="$work" -v t1="${t1% *}" -v c1="${t1#* }" -v t2="${t2% *}" -v c2="${t2#* }" \
    -v mv="${moved:-0}" -v cpu="$cpu" -v isa="$isa" -v pop=$((RUNS * R)) -v st="$STEPS" \
    -v k="$RUNS" 'BEGIN {
    printf "pa C(6,6,4), %d members, %d steps x 1 sweep [%s | %s]\n", pop, st, cpu, isa
    printf "  1 rank  x 2 threads  %8.3f s  %10.0f replica-sweeps/s  %10.0f per CPU s\n", t1, w / t1,
           w / c1
    printf "  2 ranks x 1 thread   %8.3f s  %10.0f replica-sweeps/s  %10.0f per CPU s\n", t2, w / t2,
           w / c2
    printf "  efficiency (2 ranks x 1 thread over 1 rank x 2 threads): %.0f %% wall, %.0f %% CPU\n",
           100 * t1 / t2, 100 * c1 / c2
    printf "  2 ranks: %.1f members moved per step = %.0f bytes per step (+ %d bytes of reductions)\n",
           mv, mv * 56, 2 * (8 * (k + 1) + 16 * k) }'
