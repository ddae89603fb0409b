#!/bin/bash
# sh_schedule.sh — the `schedule` commands and `sampler beta` end to end: builders and point
# editing give the expected points, `schedule validate` reports each broken rule with the
# QPU-like message (and passes valid ones), presets load and validate, save/load round trip in
# the session's schedules/ folder, the schedule survives `session save`/`session load`, solver
# limits switch (2000Q: max slope 1 µs⁻¹), and every kind of bad input gives one clear
# "error: …" line with the previous schedule kept.  `sampler beta` on gibbs gives β_eff ≈ β, and
# the sqa sampler runs with the current schedule.
set -u
source "$(dirname "$0")/lib.sh"
export QVAE_SESSIONS="$T/sessions"

# builders and editing
out=$(run 'schedule new forward 20; schedule pause 0.4 10; schedule show')
echo "$out" | grep -q "^   2          18      0.4$" || fail "pause points: $out"
echo "$out" | grep -q "valid for default (4 of 12 points, 30 µs" || fail "pause valid: $out"
echo "$out" | grep -q "freeze-out estimate: s\* = " || fail "freeze-out: $out"
out=$(run 'schedule forward 20; schedule quench 0.5; schedule validate')
echo "$out" | grep -q "^   2       10.25        1$" || fail "quench end: $out"
echo "$out" | grep -q "schedule valid for default" || fail "quench valid: $out"
out=$(run 'schedule reverse 0.6 5; schedule add 7 0.7; schedule move 4 12 1; schedule del 3; schedule validate')
echo "$out" | grep -q "schedule valid" || fail "reverse edits: $out"

# every rule, broken from the command line
check_rule() {   # commands, rule name, message fragment
  local out
  out=$($Q -k -c "$1; schedule validate" 2>&1)
  echo "$out" | grep -q "^error: schedule validate: $2.*$3" || fail "rule $2: $out"
}
check_rule 'schedule forward 20; schedule add 10 0.8; schedule add 15 0.5' monotonic "segment 1.*monotonically increase"
check_rule 'schedule forward 20; schedule add 19.9 0.5' slope "segment 1\].*maximum slope cannot exceed 2"
check_rule 'schedule forward 2500' max-time "maximum anneal time of 2000"
check_rule 'schedule forward 20; schedule move 1 20 0.8' final-s "final point, anneal fraction s must equal 1"
check_rule 'schedule forward 20; schedule move 0 1 0' start "first point must be (0, 0)"
check_rule 'schedule forward 20; schedule move 0 0 0.3' first-s "must equal 0 for forward annealing or 1 for reverse"
check_rule 'schedule forward 20; schedule params --reads 100000' run-duration "Upper limit on user-specified timing related parameters exceeded"
check_rule 'schedule reverse 0.5 5; schedule params --initial no' initial-state "initial_state not provided"
check_rule 'schedule forward 24; schedule add 2 0.1; schedule add 4 0.2; schedule add 6 0.3; schedule add 8 0.35; schedule add 10 0.4; schedule add 12 0.45; schedule add 14 0.5; schedule add 16 0.6; schedule add 18 0.7; schedule add 20 0.8; schedule add 22 0.9' points "13 points; default accepts at most 12"
out=$($Q -k -c 'schedule forward 20; schedule add 19.9 0.5; schedule validate' 2>&1)
echo "$out" | grep -q "^error: schedule validate: 1 violation for default" || fail "summary: $out"
# time order, finiteness and s range cannot be produced by editing: refused at input
bad 'schedule forward 20; schedule add 20 0.5' "already point 1 at t = 20"
bad 'schedule forward 20; schedule add nan 0.5' "'nan' is not a finite number"
bad 'schedule forward 20; schedule add -3 0.5' "negative time"
bad 'schedule forward 20; schedule add 5 1.5' "outside \[0, 1\]"
bad 'schedule forward 20; schedule del 0' "at least 2 points"
# a schedule no machine could run (10^301 sweeps per read) is refused by sqa before any plan is made
bad 'prior new chimera 1 1 4; schedule forward 1e300; sampler use sqa; sample 5' "sampler sqa: the schedule's 1e+300 µs at 10 sweeps per µs is 1e+301 sweeps per read"
bad 'schedule new backward 20' "unknown kind"
bad 'schedule pause 0.4 -1' "DURATION must be a positive time"
bad 'schedule forward 20; schedule quench 0.5 --slope 0' "slope must be a positive number, got 0"
bad 'schedule solver NoSuchQPU' "unknown"
bad 'schedule load nosuchpreset' "no schedule 'nosuchpreset'"

# limits of a real solver: the Advantage-valid quench preset is too steep for the 2000Q
out=$(run 'schedule load quench; schedule validate --solver Advantage_system4.1')
echo "$out" | grep -q "schedule valid for Advantage_system4.1" || fail "quench on Advantage: $out"
out=$($Q -c 'schedule load quench; schedule solver DW_2000Q_5; schedule validate' 2>&1)
echo "$out" | grep -q "^error: schedule validate: slope \[segment 1\]: the maximum slope cannot exceed 1 µs⁻¹" || fail "2000Q slope: $out"
for p in standard pause quench reverse; do
  out=$(run "schedule load $p; schedule validate")
  echo "$out" | grep -q "schedule valid" || fail "preset $p: $out"
done

# bad files: malformed JSON, one point, unsorted, NaN, s out of range; the schedule is kept
printf '[[0, 0], [20, 1]' > "$T/malformed.json"
printf '[[0, 0]]' > "$T/one.json"
printf '[[0, 0], [10, 0.5], [5, 0.6], [20, 1]]' > "$T/unsorted.json"
printf '[[0, 0], [NaN, 0.5], [20, 1]]' > "$T/nan.json"
printf '[[0, 0], [10, 1.5], [20, 1]]' > "$T/srange.json"
printf '[[0, 0], [-1, 0.5], [20, 1]]' > "$T/negt.json"
for f in malformed:"malformed JSON" one:"at least 2 points" unsorted:"strictly increase" nan:"malformed JSON" srange:"outside \[0, 1\]" negt:"negative time"; do
  name=${f%%:*}; msg=${f#*:}
  out=$($Q -k -c "schedule new forward 30; schedule load $T/$name.json; schedule show" 2>&1)
  [ "$(echo "$out" | grep -c '^error: ')" -eq 1 ] || fail "$name: not one error line: $out"
  echo "$out" | grep -q "^error: schedule load: .*$msg" || fail "$name: $out"
  echo "$out" | grep -q "schedule forward 30: 2 points, 30 µs" || fail "$name: schedule not kept: $out"
done

# save / load in the session folder, and the session module
out=$(run 'schedule forward 20; schedule pause 0.5 7; schedule save mine; schedule forward 5; schedule load mine; schedule show')
echo "$out" | grep -q "schedule mine: 4 points, 27 µs" || fail "save/load: $out"
[ -f "$T/sessions/scratch/schedules/mine.json" ] || fail "no saved file"
grep -q '^\[\[0, 0\], \[10, 0.5\], \[17, 0.5\], \[27, 1\]\]$' "$T/sessions/scratch/schedules/mine.json" || fail "file content: $(cat "$T/sessions/scratch/schedules/mine.json")"
run 'schedule reverse 0.7 3; schedule solver DW_2000Q_5; schedule params --reads 7; session save sess1' >/dev/null
out=$(run 'session load sess1; schedule show')
echo "$out" | grep -q "reverse anneal" || fail "session schedule: $out"
echo "$out" | grep -q "limits: DW_2000Q_5; run: 7 reads, initial state given" || fail "session params: $out"

# sampler beta: a Gibbs sampler's β_eff is its β; sqa follows the current schedule
out=$(run 'prior new chimera 1; prior random --seed 3; sampler use gibbs --chains 100 --sweeps 20; sampler beta --samples 4000 --beta 0.8')
b=$(echo "$out" | sed -n 's/.*β_eff = \([0-9.]*\) ± .*/\1/p')
[ -n "$b" ] || fail "sampler beta output: $out"
awk -v b="$b" 'BEGIN { exit !(b > 0.72 && b < 0.88) }' || fail "gibbs β_eff $b not ≈ 0.8"
# without `sampler use` the default sampler (gibbs) is measured, as `sample` uses it
out=$(run 'prior new chimera 1; prior random --seed 3; sampler beta --samples 500 --boot 5')
echo "$out" | grep -q "β_eff = " || fail "sampler beta on the default sampler: $out"
out=$(run 'prior new chimera 1; prior random --seed 3; schedule forward 10; sampler use sqa --trotter 8 --sweeps_per_us 5; sample 50')
echo "$out" | grep -q "sqa: P=8, .* sweeps over 10 µs" || fail "sqa with schedule: $out"
out=$(run 'prior new chimera 1; prior random --seed 3; schedule forward 10; sampler use sqa --trotter 8 --sweeps_per_us 5; sampler beta --samples 200 --boot 20')
echo "$out" | grep -q "freeze-out estimate for the schedule" || fail "sqa beta: $out"
bad 'sampler use sqa --trotter 7' "must be even"
# an A(s)/B(s) table with a missing column
printf 's,A_GHz,c\n0,9,0\n1,0,1\n' > "$T/ab_missing.csv"
bad "sampler use sqa --table $T/ab_missing.csv" "missing column B"
printf 's,A_GHz,B_GHz\n0,9,0.1\n0.5,x,3\n1,0,10\n' > "$T/ab_badnum.csv"
bad "sampler use sqa --table $T/ab_badnum.csv" "line 3: \"x\" is not a number"
printf 's,A_GHz,B_GHz\n0,9,0.1\n1,0,10\n' > "$T/ab_ok.csv"
out=$(run "prior new chimera 1; prior random --seed 3; sampler use sqa --trotter 8 --table $T/ab_ok.csv; sample 10")
echo "$out" | grep -q "sqa: P=8" || fail "custom A/B table: $out"
echo "ok"
