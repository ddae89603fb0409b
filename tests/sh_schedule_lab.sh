#!/bin/bash
# sh_schedule_lab.sh — the advanced anneal controls and the hand-tuning loop end to end:
# `schedule hgain|offset|flux|fast` show in the schedule, survive save/load and sessions, are
# checked by `schedule validate` with the QPU's rules (h-gain end time, fast anneal's two points
# and its own 5 ns minimum), sqa refuses what the fast-anneal rule refuses, `schedule try` and
# `schedule scan` print their measures against enumeration, the qpu sampler sends the controls
# (the local emulator refuses an out-of-range offset), and every kind of bad input gives one
# clear "error: …" line.
set -u
source "$(dirname "$0")/lib.sh"
export QVAE_SESSIONS="$T/sessions"

out=$(run 'schedule forward 20; schedule hgain 0:1 10:0.5 20:1; schedule offset 0-3 0.1; schedule flux 5 1e-5; schedule show')
echo "$out" | grep -q "controls: h-gain 0:1 10:0.5 20:1; 4 anneal offsets (q0 +0.1 …); 1 flux biases (q5 1e-05" \
  || fail "controls line: $out"
echo "$out" | grep -q "valid for default" || fail "controls valid: $out"
run "schedule forward 20; schedule hgain 0.5; schedule offset 2 -0.1; schedule fast off; schedule save $T/c.json" >/dev/null
grep -q '"h_gain_schedule"' "$T/c.json" || fail "saved file lacks the h-gain: $(cat "$T/c.json")"
out=$(run "schedule load $T/c.json; schedule show")
echo "$out" | grep -q "controls: h-gain 0:0.5 20:0.5; 1 anneal offsets (q2 -0.1" || fail "load: $out"
out=$(run 'schedule forward 20; schedule offset 1 0.05; session save lab; schedule offset clear; session load lab; schedule show')
echo "$out" | sed -n '/^loaded session/,$p' | grep -q "1 anneal offsets (q1 +0.05" || fail "session: $out"

# the rules
v() { $Q -k -c "$1; schedule validate" 2>&1; }
out=$(v 'schedule forward 20; schedule hgain 0:1 25:1')
echo "$out" | grep -q "^error: schedule validate: h-gain: h_gain_schedule must end at the anneal schedule's last time 20" || fail "h-gain end: $out"
out=$(v 'schedule forward 20; schedule hgain 0:1 20:4')
echo "$out" | grep -q "g = 4 is outside \[-3, 3\]" || fail "h-gain range: $out"
out=$(v 'schedule forward 0.05')
echo "$out" | grep -q "slope" || fail "0.05 µs without fast anneal: $out"
out=$(v 'schedule forward 0.05; schedule fast on')
echo "$out" | grep -q "schedule valid for default" || fail "fast anneal 0.05 µs: $out"
out=$(v 'schedule forward 0.004; schedule fast on')
echo "$out" | grep -q "slope" || fail "fast anneal below 5 ns: $out"
out=$(v 'schedule forward 20; schedule add 10 0.5; schedule fast on')
echo "$out" | grep -q "fast-anneal: fast_anneal requires an anneal_schedule of exactly 2 points" || fail "fast 3 points: $out"
bad 'prior new chimera 1 1 4; prior random; sampler use sqa; schedule forward 0.05; schedule fast on; sample 10' \
  'fast anneal requires all linear biases to be zero'

# bad input, one line each
bad 'schedule hgain 0:1 x' 'schedule hgain: point .x. is not T:G'
bad 'schedule hgain 5:1 2:1' 'schedule hgain: h-gain schedule: point 1: time 2'
bad 'schedule offset 7-3 0.1' 'schedule offset: give a qubit Q or a group A-B'
bad 'schedule offset 2 abc' 'schedule offset: '
# numbers past a long, or past the largest qubit number, are refused before any loop over them;
# a non-zero value on a group wider than the list is refused at once, a clear of a wide group is quick
bad 'schedule offset 99999999999999999999 0.1' 'schedule offset: give a qubit Q or a group A-B (0 ≤ A ≤ B ≤ 16777215)'
bad 'schedule flux 0-16777216 0' 'schedule flux: give a qubit Q or a group A-B'
bad 'schedule offset 0-16777215 0.01' 'schedule offset: anneal offset: more than 256 qubits with a non-zero value'
out=$(timeout 20 $Q -c 'schedule forward 20; schedule offset 0-3 0.04; schedule offset 2-16777215 0; schedule show' 2>&1) || fail "clearing a wide group: $out"
grep -q 'controls: 2 anneal offsets (q0 +0.04' <<<"$out" || fail "clearing a wide group kept the wrong offsets: $out"
bad 'schedule flux 2 nan' 'schedule flux: '
bad 'schedule fast maybe' 'schedule fast: expected on or off'
bad 'schedule scan frob 0:1:0.1' 'unknown knob .frob.'
bad 'schedule scan pause-s 0.5:0.3:0.1' 'range a:b:step needs finite a ≤ b'
bad 'schedule scan pause-s 0.5-0.3' 'is not a:b:step'
bad 'schedule try' 'schedule try: no Boltzmann-machine prior'
bad 'prior new chimera 1 1 4; schedule try --count 5' 'count must be in'

# try and scan on an enumerable prior
out=$(run 'prior new chimera 1 1 4; prior random; sampler use sqa; schedule forward 20; schedule try --count 300')
echo "$out" | grep -q "schedule try: forward 20 with sqa, 300 samples at β = 1 against the exact reference" || fail "try: $out"
echo "$out" | grep -q "KL\* [0-9.]*, W1 energy [0-9.]*, β_eff .*modes [0-9]*/[0-9]*" || fail "try measures: $out"
out=$(run "prior new chimera 1 1 4; prior random; sampler use sqa; schedule scan pause-s 0.3:0.5:0.1 --count 200 --png $T/scan.png")
# --png: a 900 × 520 PNG of the measure against the knob
[ "$(head -c 8 "$T/scan.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "scan --png: not a PNG"
[ "$(od -An -tu1 -j16 -N8 "$T/scan.png" | tr -s ' ' | sed 's/^ //')" = "0 0 3 132 0 0 2 8" ] || fail "scan --png: not 900 × 520"
bad "prior new chimera 1 1 4; prior random; sampler use sqa; schedule scan pause-s 0.3:0.5:0.1 --count 50 --png /nonexistent/d/s.png" 'schedule scan: --png: /nonexistent/d/s.png'
[ "$(echo "$out" | grep -cE '^ +0\.[345] .*[0-9]+/[0-9]+ *$')" -eq 3 ] || fail "scan rows: $out"
echo "$out" | grep -q "best: pause-s = 0\.[345]" || fail "scan best: $out"
echo "$out" | grep -q "(KL\* against the knob)" || fail "scan plot: $out"
# the qpu sampler sends the controls: the emulator refuses an offset outside the 2000Q's range
bad 'qpu emulate; qpu use DW_2000Q_5; prior new chimera 1 1 4; prior random; sampler use qpu; schedule offset 0 0.5; schedule try --count 50' \
  'HTTP 400: Parameter anneal_offsets: 0.5 on qubit 0 is outside its range'
out=$(run 'qpu emulate; qpu use DW_2000Q_5; prior new chimera 1 1 4; prior random; sampler use qpu; schedule hgain 0; schedule try --count 50')
echo "$out" | grep -q "schedule try: standard 20 with qpu, 50 samples" || fail "try through qpu: $out"
echo "ok"
