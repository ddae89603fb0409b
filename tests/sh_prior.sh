#!/bin/bash
# sh_prior.sh — the `prior` commands end to end: topology counts and degree histograms
# (topologies.md §3.4), colour classes, Bernoulli and edge-list priors, random parameters in range,
# cuts, exact log Z of zero-parameter priors (= n log 2), session round trip, and one clear
# "error: …" line for every kind of bad input.
set -u
Q=${QVAE_SAN_BIN:-build/san/qvae}
T=${QVAE_TMP:-$(mktemp -d)}
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$Q" ] || { echo "skip: no qvae binary at $Q"; exit 77; }

# run: output of a -c line, must succeed
run() { $Q -c "$1" 2>&1 || fail "'$1' failed: $($Q -c "$1" 2>&1 | tail -n 3)"; }
# bad: must fail with exactly one error line matching $2
bad() {
  local out rc
  out=$($Q -c "$1" 2>&1); rc=$?
  [ $rc -ne 0 ] || fail "'$1' succeeded"
  [ "$(echo "$out" | grep -c '^error: ')" -eq 1 ] || fail "'$1': not one error line: $out"
  echo "$out" | grep -q "^error: .*$2" || fail "'$1': message '$out' lacks '$2'"
  echo "$out" | grep -qi 'sanitizer\|runtime error' && fail "'$1': sanitizer report"
  return 0
}

out=$(run 'prior new chimera 4; prior info')
echo "$out" | grep -q "128 units, 352 couplers" || fail "C4 counts: $out"
echo "$out" | grep -q "degree histogram (degree:units): 5:64 6:64$" || fail "C4 histogram: $out"
echo "$out" | grep -q "colours: 2 classes of sizes 64 64 (proper)" || fail "C4 colours: $out"

out=$(run 'prior new chimera 2 3; prior info')
echo "$out" | grep -q "48 units, 124 couplers" || fail "C(2,3,4): $out"

out=$(run 'prior new pegasus 6; prior info')
echo "$out" | grep -q "680 units, 4484 couplers" || fail "P6: $out"
echo "$out" | grep -q "6:32 7:48 10:32 11:48 14:208 15:312$" || fail "P6 histogram: $out"
echo "$out" | grep -q "colours: 4 classes.*(proper)" || fail "P6 colours: $out"
out=$(run 'prior new pegasus 6 --variant full; prior info')
echo "$out" | grep -q "720 units, 4536 couplers" || fail "P6 full: $out"
out=$(run 'prior new pegasus 6 --variant nice; prior info')
echo "$out" | grep -q "600 units, 3996 couplers" || fail "P6 nice: $out"
out=$(run 'prior new pegasus 16; prior info')
echo "$out" | grep -q "5640 units, 40484 couplers, qubit labels 30..5729" || fail "P16: $out"

out=$(run 'prior new zephyr 4; prior info')
echo "$out" | grep -q "576 units, 5032 couplers" || fail "Z4: $out"
echo "$out" | grep -q "10:32 11:32 12:64 18:112 19:112 20:224$" || fail "Z4 histogram: $out"
out=$(run 'prior new zephyr 3 1')
echo "$out" | grep -q "84 units, 270 couplers" || fail "Z(3,1): $out"

out=$(run 'prior new bernoulli 288; prior info')
echo "$out" | grep -q "bernoulli 288: 288 independent units" || fail "bernoulli: $out"

printf '# triangle plus a tail and an isolated qubit\n5 6\n6 7\n7 5\n7 9\n12\n' > "$T/edges.txt"
out=$(run "prior new edges $T/edges.txt; prior info")
echo "$out" | grep -q "5 units, 4 couplers, qubit labels 5..12" || fail "edges: $out"
echo "$out" | grep -q "colours: 3 classes" || fail "edges colours: $out"

# random parameters: Ising ranges inside [-scale, scale]; same seed, same parameters
out=$(run 'prior new chimera 2; prior random --scale 0.5 --seed 3; prior info')
h=$(echo "$out" | sed -n 's/^ising:  h in \[\(.*\), \(.*\)\], J in \[\(.*\), \(.*\)\], offset.*/\1 \2 \3 \4/p')
[ -n "$h" ] || fail "no ising line: $out"
for v in $h; do awk -v v="$v" 'BEGIN{exit !(v >= -0.5 && v <= 0.5)}' || fail "range $v: $out"; done
out2=$(run 'prior new chimera 2; prior random --scale 0.5 --seed 3; prior info')
[ "$out" = "$out2" ] || fail "random not reproducible"

# exact log Z of a zero-parameter prior is n log 2; at any beta
out=$(run 'prior new chimera 1 2 4; prior logz --method exact')
echo "$out" | grep -q "log Z = 11.09035489" || fail "logz 16 ln 2: $out"
out=$(run 'prior new chimera 4; prior cut 12 --seed 1; prior info; prior logz --beta 3')
echo "$out" | grep -q "12 units" || fail "cut: $out"
echo "$out" | grep -q "log Z = 8.317766167" || fail "logz 12 ln 2: $out"

# session round trip (when the session commands exist)
if $Q -c 'help session' >/dev/null 2>&1; then
  export QVAE_SESSIONS="$T/sessions"
  a=$($Q -c "prior new pegasus 3 --variant nice; prior random --seed 9; prior cut 20 --seed 2; session save ptest; prior info; prior logz" 2>&1) || fail "session save: $a"
  b=$($Q -c "session load ptest; prior info; prior logz" 2>&1) || fail "session load: $b"
  echo "$b" | grep -q "sub 20 (pegasus): 20 units, 34 couplers" || fail "session load: $b"
  [ "$(echo "$a" | grep '^log Z' | cut -d' ' -f1-4)" = "$(echo "$b" | grep '^log Z' | cut -d' ' -f1-4)" ] || fail "log Z after load: $a // $b"
  [ "$(echo "$a" | grep -A4 '^prior .* (pegasus)')" = "$(echo "$b" | grep -A4 '^prior .* (pegasus)')" ] || fail "session round trip: $a // $b"
  a=$($Q -c "prior new bernoulli 7; session save pb" 2>&1) || fail "session save bernoulli: $a"
  b=$($Q -c "session load pb; prior info" 2>&1) || fail "session load bernoulli: $b"
  echo "$b" | grep -q "bernoulli 7" || fail "bernoulli session: $b"
fi

# bad input: one clear line each, never a crash
bad 'prior new chimera 0' 'M must be an integer'
bad 'prior new chimera -3' 'M must be an integer'
bad 'prior new chimera 4 0' 'N must be an integer'
bad 'prior new chimera 4 4 -1' 'T must be an integer'
bad 'prior new chimera 100000' 'too large'
bad 'prior new chimera 99999999999' 'M must be an integer'
bad 'prior new chimera abc' 'abc'
bad 'prior new pegasus 1' 'M must be an integer'
bad 'prior new pegasus 20000' 'too large'
bad 'prior new pegasus 6 --variant odd' 'unknown'
bad 'prior new zephyr 0' 'M must be an integer'
bad 'prior new zephyr 4 0' 'T must be an integer'
bad 'prior new zephyr 100000' 'too large'
bad 'prior new bernoulli 0' 'N must be an integer'
bad 'prior new bernoulli 999999999999' 'N must be an integer'
bad "prior new edges $T/nonexistent.txt" 'nonexistent'
printf '1 2\n2 two\n' > "$T/bad.txt"
bad "prior new edges $T/bad.txt" 'bad.txt:2'
printf '3 3\n' > "$T/loop.txt"
bad "prior new edges $T/loop.txt" 'self-loop'
bad 'prior info' 'no prior'
bad 'prior random' 'no prior'
bad 'prior new bernoulli 5; prior random' 'bernoulli'
bad 'prior new chimera 2; prior random --scale -1' 'scale'
bad 'prior new chimera 2; prior random --scale inf' 'scale'
bad 'prior new chimera 2; prior random --scale nan' 'scale'
bad 'prior new chimera 2; prior cut 0' 'N must be an integer'
bad 'prior new chimera 2; prior cut 33' 'N must be an integer'
bad 'prior new chimera 2; prior logz --method exact' '28'
bad 'prior new chimera 1; prior logz --method magic' 'unknown'
bad 'prior new chimera 1; prior logz --beta -1' 'beta'
bad 'prior new chimera 1; prior new' ''
echo "prior ok"
