#!/bin/bash
# sh_prior.sh — the `prior` commands end to end: topology counts and degree histograms
# (topologies.md §3.4), colour classes, Bernoulli and edge-list priors, random parameters in range,
# cuts, exact log Z of zero-parameter priors (= n log 2), session round trip, and one clear
# "error: …" line for every kind of bad input.
set -u
source "$(dirname "$0")/lib.sh"

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

# export / import against an independent brute force in Python (skipped without python3):
# random b, W for every unit and coupler of C(1,2,3) (12 units) -> `prior logz` = log Σ_z e^{-E(z)};
# random h, J imported and exported in the binary form -> E(z) − E_s(2z−1) is the same for all z.
PY=/usr/bin/python3; [ -x $PY ] || PY=$(command -v python3 || true)
if [ -n "$PY" ]; then
  run "prior new chimera 1 2 3; prior export $T/zero.txt" >/dev/null
  $PY - "$T/zero.txt" "$T/bw.txt" "$T/hj.txt" <<'EOF' || fail "python setup"
import sys, random
random.seed(7)
lines = [l.split() for l in open(sys.argv[1]) if l.strip() and not l.startswith('#')]
with open(sys.argv[2], 'w') as f:
    for t in lines: f.write(('b %s' % t[1] if t[0] == 'h' else 'W %s %s' % (t[1], t[2])) + ' %.17g\n' % random.uniform(-1.5, 1.5))
with open(sys.argv[3], 'w') as f:
    f.write('# comment line\n')
    for t in lines: f.write(' '.join(t[:-1]) + ' %.17g   # trailing comment\n' % random.uniform(-1, 1))
EOF
  out=$(run "prior new chimera 1 2 3; prior import $T/bw.txt; prior logz --method exact --beta 1.5; prior import $T/hj.txt; prior export $T/hj_bin.txt --binary; prior export $T/hj_back.txt")
  got=$(echo "$out" | sed -n 's/^log Z = \([^ ]*\) at beta 1.5.*/\1/p')
  $PY - "$T/bw.txt" "$got" <<'EOF' || fail "log Z of imported b, W: $out"
import sys, math, itertools
b, W = {}, []
for l in open(sys.argv[1]):
    t = l.split()
    if t[0] == 'b': b[int(t[1])] = float(t[2])
    else: W.append((int(t[1]), int(t[2]), float(t[3])))
units = sorted(b)
xs = []
for bits in itertools.product((0, 1), repeat=len(units)):
    z = dict(zip(units, bits))
    E = -sum(b[u] * z[u] for u in units) - sum(w * z[u] * z[v] for u, v, w in W)
    xs.append(-1.5 * E)
m = max(xs); ref = m + math.log(sum(math.exp(x - m) for x in xs))
got = float(sys.argv[2])
print('log Z python %.10f qvae %.10f' % (ref, got))
sys.exit(0 if abs(ref - got) < 1e-8 * max(1, abs(ref)) else 1)
EOF
  $PY - "$T/hj.txt" "$T/hj_bin.txt" "$T/hj_back.txt" <<'EOF' || fail "Ising <-> binary through import/export"
import sys, random
def load(p):
    lin, quad = {}, {}
    for l in open(p):
        l = l.split('#')[0].split()
        if not l: continue
        if len(l) == 3: lin[int(l[1])] = float(l[2])
        else: quad[(int(l[1]), int(l[2]))] = float(l[3])
    return lin, quad
h, J = load(sys.argv[1]); b, W = load(sys.argv[2]); h2, J2 = load(sys.argv[3])
assert all(abs(h[k] - h2[k]) < 1e-12 for k in h) and all(abs(J[k] - J2[k]) < 1e-12 for k in J)
random.seed(3); consts = []
for _ in range(200):
    z = {u: random.randint(0, 1) for u in h}
    Es = sum(h[u] * (2 * z[u] - 1) for u in h) + sum(j * (2 * z[u] - 1) * (2 * z[v] - 1) for (u, v), j in J.items())
    Ez = -sum(b[u] * z[u] for u in b) - sum(w * z[u] * z[v] for (u, v), w in W.items())
    consts.append(Ez - Es)
sys.exit(0 if max(consts) - min(consts) < 1e-12 else 1)
EOF
  printf 'h 0 0.5\nW 0 3 1\n' > "$T/mixed.txt"
  printf 'J 0 1 0.5\n' > "$T/nocoupler.txt"
  printf 'h 99 0.5\n' > "$T/nolabel.txt"
  printf 'h 0 nan\n' > "$T/nan.txt"
fi

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

# bad input: one clear line each, never a crash.  A few through -c (exit status, one line) …
bad 'prior new chimera 0' 'M must be an integer'
bad 'prior new chimera 100000' 'too large'
bad 'prior new chimera 1; prior new' ''
# … and the rest in one --keep-going script: line i must give exactly one "error: FILE:i: …"
printf '1 2\n2 two\n' > "$T/bad.txt"
printf '3 3\n' > "$T/loop.txt"
cat > "$T/bad.list" <<EOF
prior info|no prior
prior random|no prior
prior export $T/never.txt|no prior
prior import $T/bw.txt|no prior
prior new chimera -3|M must be an integer
prior new chimera 4 0|N must be an integer
prior new chimera 4 4 -1|T must be an integer
prior new chimera 99999999999|M must be an integer
prior new chimera abc|abc
prior new pegasus 1|M must be an integer
prior new pegasus 20000|too large
prior new pegasus 6 --variant odd|unknown
prior new zephyr 0|M must be an integer
prior new zephyr 4 0|T must be an integer
prior new zephyr 100000|too large
prior new bernoulli 0|N must be an integer
prior new bernoulli 999999999999|N must be an integer
prior new edges $T/nonexistent.txt|nonexistent
prior new edges $T/bad.txt|bad.txt:2
prior new edges $T/loop.txt|self-loop
prior new bernoulli 5; prior random|bernoulli
prior new chimera 2; prior random --scale -1|scale
prior new chimera 2; prior random --scale inf|scale
prior new chimera 2; prior random --scale nan|scale
prior new chimera 2; prior random --scale 1e308|must be a number in \[0, 1e6\]
prior new chimera 2; prior cut 0|N must be an integer
prior new chimera 2; prior cut 33|N must be an integer
prior new chimera 4; prior logz --method exact|28
prior new chimera 1; prior logz --method magic|unknown
prior new chimera 1; prior logz --beta -1|beta
prior new chimera 1 2 3; prior import $T/nonexistent.txt|nonexistent
prior new chimera 1 2 3; prior import $T/loop.txt|expected
EOF
[ -n "${PY:-}" ] && cat >> "$T/bad.list" <<EOF
prior new chimera 1 2 3; prior import $T/mixed.txt|mixes
prior new chimera 1 2 3; prior import $T/nocoupler.txt|not coupled
prior new chimera 1 2 3; prior import $T/nolabel.txt|qubit 99 is not
prior new chimera 1 2 3; prior import $T/nan.txt|not a finite number
EOF
cut -d'|' -f1 "$T/bad.list" > "$T/bad.qv"
out=$($Q --keep-going "$T/bad.qv" 2>&1); rc=$?
[ $rc -ne 0 ] || fail "bad script succeeded"
echo "$out" | grep -qi 'sanitizer\|runtime error' && fail "sanitizer report: $out"
n=$(wc -l < "$T/bad.list")
[ "$(echo "$out" | grep -c '^error: ')" -eq "$n" ] || fail "expected $n error lines: $out"
i=0
while IFS='|' read -r cmd pat; do
  i=$((i+1))
  echo "$out" | grep -q "^error: $T/bad.qv:$i: .*$pat" || fail "line $i '$cmd': no error with '$pat': $out"
done < "$T/bad.list"
echo "prior ok"
