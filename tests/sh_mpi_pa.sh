#!/bin/bash
# sh_mpi_pa.sh — population annealing across the ranks of an Open MPI job (samp_pa*.c), end to
# end through `mpirun qvae -c`: one rank reproduces the plain binary exactly (log Z lines and the
# pa sampler's digest of every state, energy and weight); two ranks reproduce themselves; log Z
# with 1, 2 and 4 ranks (oversubscribed) agrees with exact enumeration on a 16-unit prior within
# four error bars, and the ranks agree with each other on C(6,6,4); `sampler check pa` keeps the
# excess KL against enumeration small on 2 and 4 ranks; fewer members than ranks still works;
# only rank 0 prints, and an error is one line; the sanitizer build runs a distributed job clean.
set -u
Q=${QVAE_BIN:-build/rel/qvae}
S=${QVAE_SAN_BIN:-build/san/qvae}
T=${QVAE_TMP:-$(mktemp -d)}
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$Q" ] || { echo "skip: no qvae binary at $Q"; exit 77; }
command -v mpirun >/dev/null || { echo "skip: no mpirun (openmpi-bin)"; exit 77; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader   # one machine: shared memory only, no network probing

mpi() {   # mpi NP BINARY 'COMMANDS': rank outputs merged; timings removed
    local np=$1 bin=$2
    timeout 120 mpirun --oversubscribe -np "$np" "$bin" -c "$3" 2>&1 | untime
    return "${PIPESTATUS[0]}"
}
untime() { sed -E 's/[0-9]+\.[0-9]+ s\b/_ s/g'; }
# log Z and its error bar from a `prior logz` line
lz() { sed -n 's/^log Z = \([-0-9.e+]*\) ± \([0-9.e+-]*\) at beta.*/\1 \2/p' | head -n 1; }
near() {   # near "A EA" "B EB" K: |A − B| ≤ K·sqrt(EA² + EB²)
    awk -v a="$1" -v b="$2" -v k="$3" 'BEGIN { split(a, x, " "); split(b, y, " ");
        d = x[1] - y[1]; if (d < 0) d = -d; s = k * sqrt(x[2]^2 + y[2]^2);
        exit !(x[1] != "" && y[1] != "" && d <= s) }'
}

# 1. one rank = the plain binary, bit for bit (the digest covers every returned state and weight)
P='seed 3; prior new chimera 2 1 4; prior random --seed 4'
C="$P; prior logz --method pa --population 4000 --steps 60; prior logz --method ais --population 1000 --steps 60; sampler use pa --runs 4; sample 3000"
plain=$($Q -c "$C" 2>&1 | untime) || fail "plain: $plain"
echo "$plain" | grep -q "digest [0-9a-f]\{8\}" || fail "no digest: $plain"
one=$(mpi 1 "$Q" "$C") || fail "np 1: $one"
[ "$one" = "$plain" ] || fail "np 1 differs from the plain binary: $(diff <(echo "$plain") <(echo "$one"))"

# 2. two ranks: every line once (rank 0 speaks), and the same run again gives the same bits
two=$(mpi 2 "$Q" "$C") || fail "np 2: $two"
[ "$(echo "$two" | grep -c '^log Z')" -eq 2 ] || fail "np 2 printed more than rank 0: $two"
echo "$two" | grep -q "over 2 ranks" || fail "np 2 not split: $two"
again=$(mpi 2 "$Q" "$C") || fail "np 2 again: $again"
[ "$again" = "$two" ] || fail "np 2 not reproducible: $(diff <(echo "$two") <(echo "$again"))"

# 3. against exact enumeration (16 units), on 1, 2 and 4 ranks
ex=$($Q -c "$P; prior logz --method exact" | sed -n 's/^log Z = \([-0-9.e+]*\) at beta.*/\1 0/p')
[ -n "$ex" ] || fail "no exact log Z"
for np in 1 2 4; do
    out=$(mpi "$np" "$Q" "$P; prior logz --method pa --population 16000 --steps 100") || fail "np $np: $out"
    r=$(echo "$out" | lz)
    near "$r" "$ex" 4 || fail "np $np: log Z $r vs exact $ex: $out"
done

# 4. C(6,6,4): the rank counts agree with each other
C6='seed 3; prior new chimera 6 6 4; prior random --seed 2 --scale 0.5; prior logz --method pa --population 4000 --steps 100 --sweeps 1'
declare -A L6
for np in 1 2 4; do
    out=$(mpi "$np" "$Q" "$C6") || fail "C(6,6,4) np $np: $out"
    L6[$np]=$(echo "$out" | lz)
    [ -n "${L6[$np]}" ] || fail "C(6,6,4) np $np: no log Z: $out"
done
near "${L6[1]}" "${L6[2]}" 4 || fail "C(6,6,4): np 1 ${L6[1]} vs np 2 ${L6[2]}"
near "${L6[1]}" "${L6[4]}" 4 || fail "C(6,6,4): np 1 ${L6[1]} vs np 4 ${L6[4]}"
near "${L6[2]}" "${L6[4]}" 4 || fail "C(6,6,4): np 2 ${L6[2]} vs np 4 ${L6[4]}"

# 5. sampler exactness on the ranks: excess KL over i.i.d. draws stays small
for np in 2 4; do
    out=$(mpi "$np" "$Q" "$P; sampler use pa --runs 4 --steps 60; sampler check --samples 40000 --units 10") \
        || fail "check np $np: $out"
    echo "$out" | grep -q "excess over i.i.d.*ok$" || fail "check np $np: $out"
done

# 6. fewer members per run than ranks (one member, four ranks): still one answer
out=$(mpi 4 "$Q" "$P; prior logz --method pa --population 8 --steps 5") || fail "R < ranks: $out"
[ "$(echo "$out" | grep -c '^log Z = ')" -eq 1 ] || fail "R < ranks: $out"

# 7. an error is one line from rank 0, every rank fails
out=$(mpi 2 "$Q" "$P; prior logz --method pa --population 100000000000")
[ $? -ne 0 ] || fail "a population of 1e11 succeeded: $out"
[ "$(echo "$out" | grep -c '^error: ')" -eq 1 ] || fail "not one error line: $out"
echo "$out" | grep -q "^error: prior logz: population annealing: at most" || fail "message: $out"

# 8. the sanitizer build, distributed (leak checks off: Open MPI keeps its own allocations)
if [ -x "$S" ]; then
    out=$(ASAN_OPTIONS=detect_leaks=0 mpi 2 "$S" "$P; prior logz --method pa --population 2000 --steps 20; sampler use pa; sample 500") \
        || fail "sanitizer np 2: $out"
    echo "$out" | grep -qi 'sanitizer\|runtime error' && fail "sanitizer report: $out"
    echo "$out" | grep -q "over 2 ranks" || fail "sanitizer np 2: $out"
fi
echo "ok"
