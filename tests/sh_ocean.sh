#!/bin/bash
# sh_ocean.sh — Ocean interchange and PNG figures end to end: BINARY round trips through COO and
# BQM JSON leave the parameters bitwise equal (qvae's own text export, 17 digits, compared), SPIN
# ones equal to the printed digits; every COO line matches dimod's reader's pattern; the dimod
# fixtures load; a SampleSet's energies are recomputed in Python from the exported BQM alone; the
# figures are PNGs of the documented size; every bad input is one "error: …" line.
set -u
source "$(dirname "$0")/lib.sh"
trap 'rm -rf "$T"' EXIT
export QVAE_SESSIONS="$T/sessions"
D=tests/data
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }

# --- BINARY round trips: bitwise (the text export prints 17 significant digits)
run "prior new chimera 2 2 4; prior random --seed 7; prior export $T/a.txt --binary; \
     prior export $T/a.coo --format coo --binary; prior export $T/a.json --format bqm-json --binary; \
     prior random --seed 8; prior import $T/a.coo --format coo; prior export $T/b.txt --binary; \
     prior random --seed 9; prior import $T/a.json --format bqm-json; prior export $T/c.txt --binary; \
     prior import $T/a.json --format bqm-json --new; prior export $T/d.coo --format coo --binary" >/dev/null
cmp -s "$T/a.txt" "$T/b.txt" || fail "COO BINARY round trip changed parameters: $(diff "$T/a.txt" "$T/b.txt" | head -4)"
cmp -s "$T/a.txt" "$T/c.txt" || fail "JSON BINARY round trip changed parameters"
cmp -s "$T/a.coo" "$T/d.coo" || fail "--new on the file's graph changed parameters"
[ "$(head -n1 "$T/a.coo")" = "# vartype=BINARY" ] || fail "COO header: $(head -n1 "$T/a.coo")"
# dimod's COO reader takes lines matching ^\s*(\d+)\s+(\d+)\s+([+-]?\d*(?:\.\d+)?)\s*$ only
n=$(tail -n +2 "$T/a.coo" | grep -cvE '^[0-9]+ [0-9]+ [+-]?[0-9]*\.[0-9]+$')
[ "$n" -eq 0 ] || fail "COO lines dimod would skip: $(tail -n +2 "$T/a.coo" | grep -vE '^[0-9]+ [0-9]+ [+-]?[0-9]*\.[0-9]+$' | head -3)"
[ "$(tail -n +2 "$T/a.coo" | wc -l)" -eq $((32 + 80)) ] || fail "COO: not 32 linear + 80 quadratic lines"

# --- SPIN round trip: the same to the printed digits
s1=$(run "prior new chimera 2 2 4; prior random --seed 7; prior info" | grep -E '^(binary|ising):')
s2=$(run "prior new chimera 2 2 4; prior random --seed 7; prior export $T/s.json --format bqm-json; \
          prior random --seed 1; prior import $T/s.json --format bqm-json; prior info" | grep -E '^(binary|ising):')
[ "$s1" = "$s2" ] || fail "SPIN JSON round trip: $s1 vs $s2"

# --- fixtures from dimod's documented examples
out=$(run "prior import $D/dimod_coo_qubo.txt --format coo --new; prior export $T/q.txt --binary")
echo "$out" | grep -q "BINARY BQM of 3 variables, 2 interactions" || fail "qubo fixture: $out"
grep -qx 'b 0 1' "$T/q.txt" && grep -qx 'W 0 1 -1' "$T/q.txt" && grep -qx 'W 1 2 4.5' "$T/q.txt" ||
  fail "qubo fixture parameters: $(cat "$T/q.txt")"
out=$(run "prior import $D/dimod_coo_noheader.txt --format coo --vartype binary --new; prior export $T/n.txt --binary")
cmp -s <(grep -v '^#' "$T/q.txt") <(grep -v '^#' "$T/n.txt") || fail "no-header COO with --vartype differs"
out=$(run "prior import $D/dimod_bqm_spin.json --format bqm-json --new; prior export $T/h.txt")
echo "$out" | grep -q "offset is dropped" || fail "spin fixture: offset not reported: $out"
grep -qx 'h 10 -1' "$T/h.txt" && grep -qx 'h 7 3' "$T/h.txt" && grep -qx 'J 11 12 3' "$T/h.txt" ||
  fail "spin fixture parameters: $(cat "$T/h.txt")"

# --- a SampleSet: every energy recomputed from the exported SPIN BQM (offset included)
run "prior new chimera 1 1 4; prior random --seed 3; sampler use exact; \
     prior export $T/p.json --format bqm-json; sample 64 --export $T/ss.json" >/dev/null
python3 - "$T/p.json" "$T/ss.json" <<'EOF' || fail "SampleSet check failed"
import json, sys
bqm, ss = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert ss["type"] == "SampleSet" and ss["version"]["sampleset_schema"] == "3.2.0"
assert ss["variable_type"] == "SPIN" and ss["num_rows"] == 64 and ss["sample_packed"] is False
assert ss["variable_labels"] == bqm["variable_labels"]
rows = ss["sample_data"]["data"]
assert ss["sample_data"]["shape"] == [64, 8] and len(rows) == 64
idx = {l: i for i, l in enumerate(ss["variable_labels"])}
lab = bqm["variable_labels"]
for r, e in zip(rows, ss["vectors"]["energy"]["data"]):
    assert set(r) <= {-1, 1}
    E = bqm["offset"] + sum(a * r[idx[l]] for l, a in zip(lab, bqm["linear_biases"]))
    E += sum(q * r[idx[lab[h]]] * r[idx[lab[t]]] for q, h, t in
             zip(bqm["quadratic_biases"], bqm["quadratic_head"], bqm["quadratic_tail"]))
    assert abs(E - e) < 1e-9, (E, e)
assert ss["vectors"]["num_occurrences"]["data"] == [1] * 64
EOF

# --- figures: PNGs of the documented size (IHDR), written atomically
png_size() { python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); assert d[:8]==b"\x89PNG\r\n\x1a\n"; print("%dx%d" % struct.unpack(">II", d[16:24]))' "$1"; }
run "schedule forward 20; schedule pause 0.45 30; schedule show --png $T/sched.png" | grep -q "wrote the schedule" ||
  fail "schedule show --png"
[ "$(png_size "$T/sched.png")" = "900x520" ] || fail "schedule PNG size $(png_size "$T/sched.png")"
mkdir -p "$QVAE_SESSIONS/scratch"
printf 'step,epoch,elbo,rec,kl,kl_weight,lr,images_per_s,val_elbo,active_units,seconds,val_elbo_z\n50,0.5,-190,-180,10,1,0.003,8000,,32,1.0,\n100,1.0000,,,,,0.003,,-170,,2.0,-175\n150,1.5,-160,-150,10,1,0.003,8000,,32,3.0,\n200,2.0000,,,,,0.003,,-155,,4.0,-158\n' \
  > "$QVAE_SESSIONS/scratch/metrics.csv"
run "view loss --png $T/loss.png --log" | grep -q "wrote the loss curves" || fail "view loss --png"
[ "$(png_size "$T/loss.png")" = "900x560" ] || fail "loss PNG size"
run "data load mnist; prior new chimera 1 1 4; model new --hidden 16; eval units --n 50 --png $T/lat.png" >/dev/null
[ "$(png_size "$T/lat.png")" = "1100x520" ] || fail "latent PNG size"
ls "$T" | grep -q '\.tmp\.' && fail "a temporary file was left behind"

# --- bad input: one line each
bad "prior new chimera 1; prior import $D/dimod_coo_qubo.txt --format coo" "coupler 0–1 is not in the prior's graph"
bad "prior import $D/dimod_bqm_strlabels.json --format bqm-json --new" 'variable_labels"\[0\] is not a non-negative integer'
bad "prior import $D/dimod_coo_noheader.txt --format coo --new" "no vartype"
bad "prior import $D/dimod_coo_qubo.txt --format coo --vartype spin --new" "header says BINARY, but SPIN"
bad "prior new chimera 1; prior import $T/missing.coo --format coo" "missing.coo"
bad "prior new chimera 1; prior import $D/dimod_coo_qubo.txt --format bqm-json" "not JSON"
bad "prior new chimera 1; prior import $D/dimod_coo_qubo.txt --new" "go with --format"
bad "prior new chimera 1; prior export $T/x --format xml" "format"
bad "prior import $D/dimod_bqm_spin.json --format bqm-json --vartype spin --new" "--vartype goes with --format coo"
bad "prior new chimera 1; prior random; sample 10 --binary" "--binary goes with --export"
bad "prior import $D/dimod_coo_qubo.txt --format coo" "no prior"
printf '# vartype=SPIN\n0 0 1.0\n0 4 x\n' > "$T/bad.coo"
bad "prior import $T/bad.coo --format coo --new" "line 3: expected 'i j bias'"
bad "prior new chimera 1; prior random; sample 10 --export $T/nodir/s.json" "nodir/s.json"
bad "schedule show --png $T/nodir/s.png" "schedule show: --png: .*nodir/s.png"
bad "view loss --png $T/nodir/l.png" "view: --png: .*nodir/l.png"
bad "view latent --png $T/l.png" "only the loss panel"
rm -f "$QVAE_SESSIONS/scratch/metrics.csv"
bad "view loss --png $T/l.png" "metrics.csv"
echo "ok"
