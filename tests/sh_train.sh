#!/bin/bash
# sh_train.sh — `model`, `train` and `eval` end to end on the embedded npm digits:
#  - a short training run lowers the validation loss (valid ELBO rises epoch over epoch);
#  - a seeded run is reproducible bit for bit (weights blob, metrics.csv);
#  - train 2 = train 1; session save; (new process) session load; train 1 — same weights and the
#    same metrics rows, with a Boltzmann-machine prior and persistent Gibbs chains;
#  - train --tau changes the relaxation temperature (used, saved); --kl analytic, --relax st likewise;
#  - train --iw K (importance-weighted bound) trains other weights and resumes bit for bit; --rws
#    (reweighted wake-sleep) needs --iw and trains other weights again;
#  - the discrete validation ELBO is shown and logged (metrics.csv val_elbo_z; an older 11-column
#    metrics.csv keeps its width);
#  - eval ll / eval units print their figures; generated digits land in grids/;
#  - a metrics.csv that cannot be written costs one warning line, not the run;
#  - --groups (hierarchical posterior), centring, --bn, --conv and the mixture relaxations (power
#    with the relaxed Boltzmann prior): saved, resumed bit for bit, bad input;
#    a session saved before them loads as a one-group, uncentred model;
#  - --lr-schedule, --kl-frac, --val-every, --clock cpu, and `model best` restoring the best-validation epoch;
#  - bad input: no data, no model, prior size mismatch, K = 0, a NaN step (the checkpoint on disk
#    stays byte-identical), each one clear "error: …" line.
set -u
source "$(dirname "$0")/lib.sh"
export QVAE_SESSIONS="$T/sessions"
export OPENBLAS_NUM_THREADS=1
rm -rf "$QVAE_SESSIONS"

$Q -c 'data load npm' >/dev/null 2>&1 || { echo "skip: the embedded npm digits are not installed (make deps)"; exit 77; }
SETUP_BM='seed 3; data load npm; prior new chimera 2 2 3; model new --hidden 64'
SETUP_BE='seed 3; data load npm; prior new bernoulli 24; model new --hidden 64'

# --- bad input ---------------------------------------------------------------------------------
bad 'train 1' 'train: no model'
bad 'data load npm; train 1' 'no model'
bad 'prior new bernoulli 8; model new' 'no data'
bad 'data load npm; model new' 'no prior'
bad "$SETUP_BM; prior new chimera 2 2 4; train 1" 'prior has 32 units but the model has 24 latents'
bad "$SETUP_BE; eval ll --k 0" 'k must be at least 1'
bad "$SETUP_BE; model new --hidden 12,x" 'hidden'
bad "$SETUP_BE; model new --tau 0" 'model new: --tau must be in (0, 10], got 0'
bad "$SETUP_BE; train 0" 'EPOCHS'
bad "$SETUP_BE; train 1 --batch 100000" 'batch'
bad "$SETUP_BE; train 1 --threads 0" 'threads must be 1..8, got 0'
bad "$SETUP_BE; eval ll --k 5 --threads 0" 'threads must be 1..64, got 0'
bad "$SETUP_BE; train 1 --tau 0" 'train: --tau must be in (0, 10], got 0'
bad "$SETUP_BM; model new --kl exact" "model new: --kl: unknown value 'exact' (one of relaxed|analytic)"
bad "$SETUP_BM; train 1 --kl exact" "train: --kl: unknown value 'exact' (one of relaxed|analytic)"
bad "$SETUP_BE; model new --kl analytic" 'model new: --kl applies to a Boltzmann-machine prior'
bad "$SETUP_BE; train 1 --kl analytic" 'train: --kl applies to a Boltzmann-machine prior'
bad "$SETUP_BE; train 1 --iw 0" 'train: --iw must be a positive number of samples, got 0'
bad "$SETUP_BE; train 1 --iw 1001" \
  'train: --iw must be 1..1000 with --batch 100 (batch × samples ≤ 100000 rows), got 1001'
bad "$SETUP_BE; model new --max-batch 100001" 'model new: --max-batch must be 1..100000'
bad "$SETUP_BM; model new --hidden 64 --kl analytic; train 1 --iw 2" 'train: --iw needs a per-sample prior term'

# --- validation loss goes down -------------------------------------------------------------------
# (the release binary when there is one: three epochs of a 784-64-24 model)
R=${QVAE_BIN:-$Q}; [ -x "$R" ] || R=$Q
out=$($R -c "$SETUP_BE; train 3 --no-save" 2>&1) || fail "train 3: $out"
v1=$(echo "$out" | sed -n 's/^epoch 1: .*valid elbo \([-0-9.]*\).*/\1/p')
v3=$(echo "$out" | sed -n 's/^epoch 3: .*valid elbo \([-0-9.]*\).*/\1/p')
[ -n "$v1" ] && [ -n "$v3" ] || fail "no validation ELBO lines: $out"
awk -v a="$v1" -v b="$v3" 'BEGIN { exit !(b > a + 1) }' || fail "valid elbo did not improve: $v1 -> $v3"
# the discrete validation ELBO (z = [l + g > 0]) is shown beside the relaxed one and improves too
z1=$(echo "$out" | sed -n 's/^epoch 1: .*valid elbo [-0-9.]* (z \([-0-9.]*\)).*/\1/p')
z3=$(echo "$out" | sed -n 's/^epoch 3: .*valid elbo [-0-9.]* (z \([-0-9.]*\)).*/\1/p')
[ -n "$z1" ] && [ -n "$z3" ] || fail "no discrete validation ELBO: $out"
awk -v a="$z1" -v b="$z3" 'BEGIN { exit !(b > a + 1) }' || fail "discrete valid elbo did not improve: $z1 -> $z3"

# --- reproducible, and save → load → continue equals uninterrupted ------------------------------
# (two data-parallel threads: the resumed run must keep the saved block count by itself)
run "$SETUP_BM; session save a; train 2 --log-every 20 --quiet --threads 2" >/dev/null
run "$SETUP_BM; session save c; train 2 --log-every 20 --quiet --threads 2" >/dev/null
run "$SETUP_BM; session save b; train 1 --log-every 20 --quiet --threads 2" >/dev/null
out=$(run "session load b; model info; train 1 --log-every 20 --quiet")
echo "$out" | grep -q 'seed 3, 2 threads per step' || fail "saved thread count not restored: $out"
S=$QVAE_SESSIONS
cmp -s $S/a/model-weights.*.bin $S/c/model-weights.*.bin || fail "same seed, different weights"
cmp -s $S/a/model-weights.*.bin $S/b/model-weights.*.bin || fail "resumed run differs from the uninterrupted one"
cmp -s $S/a/prior-prior.*.bin $S/b/prior-prior.*.bin || fail "resumed prior differs"
diff <(cut -d, -f1-6 $S/a/metrics.csv) <(cut -d, -f1-6 $S/b/metrics.csv) >/dev/null || fail "metrics rows differ"
[ "$(grep -c . $S/a/metrics.csv)" -gt 4 ] || fail "metrics.csv too short"
head -1 $S/a/metrics.csv | grep -q '^step,epoch,elbo,rec,kl.*,seconds,val_elbo_z$' || fail "metrics.csv header"
awk -F, 'NF != 12 { bad = 1 } END { exit bad }' $S/a/metrics.csv || fail "metrics.csv rows of other widths"
# epoch rows carry both validation ELBOs
awk -F, 'NR > 1 && $9 != "" && $12 == "" { bad = 1 } NR > 1 && $9 != "" { n++ } END { exit bad || !n }' \
  $S/a/metrics.csv || fail "epoch rows without the discrete validation ELBO"
# a metrics.csv begun before the val_elbo_z column keeps its 11 columns
sed -i '1s/,val_elbo_z$//; 2,$s/,[^,]*$//' $S/b/metrics.csv
run "session load b; train 1 --log-every 20 --quiet" >/dev/null
awk -F, 'NF != 11 { bad = 1 } END { exit bad }' $S/b/metrics.csv || fail "old metrics.csv got 12-column rows"
ls $S/a/grids/epoch-0002.png >/dev/null 2>&1 || fail "no digit grid written"
# a metrics.csv that cannot be written (a full disk: /dev/full) costs the rows, with one warning
# line, never the training or its checkpoint
run "$SETUP_BE; session save full" >/dev/null
ln -sf /dev/full $S/full/metrics.csv
out=$($Q -c "session load full; train 1 --quiet; model info" 2>&1) || fail "training stopped by a full metrics.csv: $out"
[ "$(echo "$out" | grep -c 'train: metrics.csv: writing failed')" = 1 ] || fail "no single metrics.csv warning: $out"
ls $S/full/model-weights.*.bin >/dev/null 2>&1 || fail "no checkpoint beside a failing metrics.csv"

# --- train --tau: the new temperature is used (other weights) and saved with the model ------------
run "$SETUP_BE; session save t; train 1 --quiet --tau 0.3" >/dev/null
run "$SETUP_BE; session save u; train 1 --quiet" >/dev/null
out=$(run "session load t; model info")
echo "$out" | grep -q 'tau=0.3 ' || fail "train --tau not saved: $out"
cmp -s $S/t/model-weights.*.bin $S/u/model-weights.*.bin && fail "train --tau 0.3 trained like tau 0.5"
out=$($Q -k -c "$SETUP_BM; prior new chimera 2 2 4; train 1 --tau 0.3; model info" 2>&1)
echo "$out" | grep -q 'tau=0.5 ' || fail "a train refused before its first step kept --tau: $out"

# --- --kl analytic: a BM prior charged the exact KL trains other weights, is saved, and can be
# switched mid-run; a train refused before its first step keeps the old setting ---------------------
run "$SETUP_BM; model new --hidden 64 --kl analytic; session save ka; train 1 --quiet" >/dev/null
run "$SETUP_BM; session save kr; train 1 --quiet" >/dev/null
out=$(run "session load ka; model info")
echo "$out" | grep -q 'tau=0.5 kl=analytic boltzmann' || fail "--kl analytic not saved: $out"
cmp -s $S/ka/model-weights.*.bin $S/kr/model-weights.*.bin && fail "--kl analytic trained like relaxed"
out=$(run "session load kr; train 1 --quiet --kl analytic; model info")
echo "$out" | grep -q 'prior term relaxed -> analytic' || fail "train --kl: no notice: $out"
echo "$out" | grep -q 'kl=analytic' || fail "train --kl not kept: $out"
out=$($Q -k -c "$SETUP_BM; prior new chimera 2 2 4; train 1 --kl analytic --relax st; model info" 2>&1)
echo "$out" | grep -q 'kl=analytic' && fail "a train refused before its first step kept --kl: $out"
echo "$out" | grep -q ' st tau' && fail "a train refused before its first step kept --relax: $out"
# --relax st: the forward pass is the discrete one, so both validation ELBOs coincide; saved
out=$(run "$SETUP_BM; model new --hidden 64 --relax st; session save st; train 1 --quiet; model info")
echo "$out" | grep -q 'tanh st tau=0.5 boltzmann' || fail "--relax st: $out"
echo "$out" | grep -Eq 'last validation elbo (-[0-9.]+) \(discrete z: \1\)' ||
  fail "--relax st: relaxed and discrete validation differ: $out"
out=$(run "session load st; model info")
echo "$out" | grep -q ' st tau=0.5' || fail "--relax st not saved: $out"
# --- hierarchical posterior (--groups) and centring: saved, resumed bit for bit, bad input -------
bad "$SETUP_BM; model new --groups 0" 'model new: --groups must be 1..8'
bad "$SETUP_BM; model new --groups 0-10/5-23" 'model new: --groups: unit 5 is in two groups'
bad "$SETUP_BM; model new --groups 0-10" 'model new: --groups: unit 11 is in no group'
bad "$SETUP_BM; model new --groups 0-10/11-24" 'model new: --groups: units 11-24 are not within 0..23'
bad "$SETUP_BM; model new --groups 2 --kl analytic" 'analytic KL needs a factorial posterior'
bad "$SETUP_BM; model new --hidden 64 --groups 2; train 1 --kl analytic" 'train: the analytic KL needs a factorial posterior'
bad "$SETUP_BE; model new --hidden 64 --bn; train 1 --batch 1" 'batch norm: needs a batch of at least 2 in training mode'
# resumes SETUP A B DESCRIPTION TRAIN-OPTIONS: `train 2` in session A equals `train 1; session save;
# (new process) session load; train 1` in session B, weights byte for byte; model info after the
# load must show DESCRIPTION
resumes() {
  run "$1; session save $2; train 2 --quiet --threads 2 ${5:-}" >/dev/null
  run "$1; session save $3; train 1 --quiet --threads 2 ${5:-}" >/dev/null
  local out
  out=$(run "session load $3; model info; train 1 --quiet ${5:-}")
  echo "$out" | grep -q "$4" || fail "'$4' not restored: $out"
  cmp -s $S/$2/model-weights.*.bin $S/$3/model-weights.*.bin || fail "resumed run ($1) differs"
}
resumes "$SETUP_BM; model new --hidden 64 --groups 2 --bn" ga gb '2 latent groups, centred input, batch norm' '--iw 2'
cmp -s $S/ga/model-bn_running.*.bin $S/gb/model-bn_running.*.bin || fail "resumed batch-norm statistics differ"
grep -q '"group_of"' $S/ga/session.json || fail "partition not saved"
# --relax power|exp|spike-exp: saved (with β) and resumed bit for bit; bad input
bad "$SETUP_BM; model new --relax power --relax-beta 0.5" 'model new: model: --relax-beta'
bad "$SETUP_BM; model new --relax gumbolt --relax-beta 5" 'model new: model: --relax-beta applies to power, exp and spike-exp'
bad "$SETUP_BM; model new --hidden 64 --relax power; train 1 --relax gumbolt" 'train: --relax switches between gumbolt and st'
resumes "$SETUP_BM; model new --hidden 64 --relax power --relax-beta 20 --groups 2" pa pb \
  'tanh power beta=20 boltzmann' '--iw 2'
# --conv: saved and resumed bit for bit; bad geometry
bad "$SETUP_BE; model new --conv 8:4:2" 'model new: --conv: .* a layer is CHANNELS:KERNEL:STRIDE:PAD'
bad "$SETUP_BE; model new --conv 8:40:2:1" 'model new: model: --conv layer 1'
bad "$SETUP_BM; model new --conv 8:4:2:1 --groups 2" 'model new: model: --conv works with one latent group'
resumes "$SETUP_BM; model new --hidden 32 --conv 4:4:2:1,8:4:2:1 --bn; data split 2000 200 200" ca cb \
  '784-conv4-conv8-32-24 '
# a session saved before groups and centring existed loads as a one-group, uncentred model
run "$SETUP_BM; model new --hidden 64 --no-center; session save old; train 1 --quiet" >/dev/null
python3 - "$S/old/session.json" <<'PY'
import json, sys
p = sys.argv[1]; j = json.load(open(p))
def strip(o):
    if isinstance(o, dict):
        for k in ("groups", "group_of", "center"): o.pop(k, None)
        for v in o.values(): strip(v)
strip(j); json.dump(j, open(p, "w"))
PY
out=$(run "session load old; model info; train 1 --quiet")
echo "$out" | grep -q 'latent group' && fail "an old session grew groups or centring: $out"
# eval ll --logz both: PA and AIS side by side, PA's value with the bar widened to their disagreement
out=$(run "$SETUP_BM; prior random --scale 0.5; eval ll --k 5 --n 20 --logz both")
echo "$out" | grep -q '^log Z = .* (pa, ' || fail "no PA log Z: $out"
echo "$out" | grep -q '^log Z = .* (ais, ' || fail "no AIS log Z: $out"
echo "$out" | grep -q "(PA's value; the bar is the larger of PA's and AIS's spreads and their disagreement" \
  || fail "no combined log Z: $out"
# --- recipe controls: lr schedule, KL warm-up as a fraction, validation cadence, best checkpoint --
bad "$SETUP_BE; train 1 --lr-schedule step" "train: --lr-schedule: unknown value 'step' (one of const|dvae|cosine)"
bad "$SETUP_BE; train 1 --kl-frac 2" 'train: --kl-frac must be in .0, 1. (a fraction of this run)'
bad "$SETUP_BE; train 1 --val-every 0" 'train: --val-every must be at least 1 epoch'
bad "$SETUP_BE; model best" 'model best: no best-validation parameters kept yet'
# --time on the CPU clock: stops at the first epoch end after 0.3 s of this process's CPU time,
# and metrics.csv's seconds column counts that clock (so it has passed 0.3 at the last row)
bad "$SETUP_BE; train 1 --clock gpu" "train: --clock: unknown value 'gpu' (one of wall|cpu)"
out=$(run "$SETUP_BE; session save ck; train 100000 --time 0.3 --clock cpu --quiet; model info")
echo "$out" | grep -q 'trained: .* epochs' || fail "--clock cpu: $out"
echo "$out" | grep -q 'trained: .* 100000 epochs' && fail "--clock cpu did not stop the run: $out"
tail -n 1 $S/ck/metrics.csv | awk -F, '{ exit !($11 >= 0.3) }' || fail "--clock cpu: metrics seconds $(tail -n 1 $S/ck/metrics.csv)"
out=$(run "$SETUP_BE; session save ls; train 2 --lr-schedule dvae --kl-frac 0.3 --val-every 2")
echo "$out" | grep -q '^epoch 1: .*(not validated)' || fail "--val-every 2 validated epoch 1: $out"
echo "$out" | grep -q '^epoch 2: .*valid elbo' || fail "the run's last epoch was not validated: $out"
# the schedule's rate reaches metrics.csv: DVAE#'s last step is lr/33 at the end of the run
tail -n 1 $S/ls/metrics.csv | awk -F, '{ exit !($7 > 9e-5 && $7 < 9.2e-5) }' || fail "lr/33 not logged: $(tail -n 1 $S/ls/metrics.csv)"
# the best checkpoint: a second epoch that spoils the model (τ 8, high rate) is not kept, and
# `model best` restores epoch 1's parameters exactly (prior included), also after save/load
run "$SETUP_BM; session save cur; train 1 --quiet; session save e1; session save cur; train 1 --quiet --lr 0.03 --tau 8 --no-save; session save sp" >/dev/null
out=$(run "session load sp; model info; model best; session save rb")
echo "$out" | grep -q 'model best: parameters of epoch 1 restored' || fail "model best: $out"
cmp -s $S/e1/model-weights.*.bin $S/rb/model-weights.*.bin || fail "model best did not restore epoch 1's weights"
cmp -s $S/e1/prior-prior.*.bin $S/rb/prior-prior.*.bin || fail "model best did not restore epoch 1's prior"
bad "$SETUP_BM; model new --relax rebar" "model new: --relax: unknown value 'rebar' (one of gumbolt|st|power|exp|spike-exp)"

# --- --iw K: importance-weighted training trains other weights, and resumes exactly ---------------
# (batch 100 × 6 samples is more than the 500 rows a new model's buffers hold: train grows them,
# the session keeps the larger size, and the resumed run matches the uninterrupted one)
run "$SETUP_BM; session save iw2; train 2 --iw 6 --quiet" >/dev/null
run "$SETUP_BM; session save iw1; train 1 --iw 6 --quiet" >/dev/null
out=$(run "session load iw1; model info")
echo "$out" | grep -q '^work buffers: 600 rows' || fail "--iw 6: buffers not grown and saved: $out"
run "session load iw1; train 1 --iw 6 --quiet" >/dev/null
run "$SETUP_BM; session save iw0; train 2 --quiet" >/dev/null
cmp -s $S/iw1/model-weights.*.bin $S/iw2/model-weights.*.bin || fail "--iw: resumed run differs"
cmp -s $S/iw0/model-weights.*.bin $S/iw2/model-weights.*.bin && fail "--iw 6 trained like the ELBO"
out=$(run "session load iw2; model info")
echo "$out" | grep -q 'last run importance-weighted' || fail "--iw not shown: $out"
# --rws: reweighted wake-sleep needs samples to weigh; it trains other weights than the relaxed bound
bad "$SETUP_BM; train 1 --rws" 'train: --rws weighs importance samples: give --iw 2 or more'
run "$SETUP_BM; session save rw; train 1 --iw 6 --rws --quiet" >/dev/null
cmp -s $S/rw/model-weights.*.bin $S/iw1/model-weights.*.bin && fail "--rws trained like the relaxed IW bound"

# --- evaluation -----------------------------------------------------------------------------------
out=$(run "session load a; eval units; eval ll --k 50 --n 20 --logz exact")
echo "$out" | grep -q 'active units: [0-9]* of 24' || fail "eval units: $out"
echo "$out" | grep -q 'log Z = .* ± 0.0000 (exact' || fail "eval ll log Z: $out"
echo "$out" | grep -q 'test LL = -[0-9.]* ± [0-9.]* (standard error over 20 images, K = 50' || fail "eval ll: $out"

# --- generated digits: prior samples decoded by the model, as a PNG grid --------------------------
out=$(run "session load a; sample 9 --png $T/digits.png")
echo "$out" | grep -q "9 decoded digits written to $T/digits.png" || fail "sample --png: $out"
[ -s "$T/digits.png" ] || fail "no PNG written"

# --- a NaN step: reported with its step, the checkpoint on disk is untouched ---------------------
run "$SETUP_BE; session save nan; train 1 --quiet" >/dev/null
sum1=$(cat $S/nan/session.json $S/nan/*.bin | md5sum)
bad "session load nan; train 3 --lr 1e30" 'step [0-9]* (epoch 2): NaN'
sum2=$(cat $S/nan/session.json $S/nan/*.bin | md5sum)
[ "$sum1" = "$sum2" ] || fail "the NaN run changed the checkpoint"
run "session load nan; eval units" | grep -q 'active units' || fail "checkpoint unusable after NaN"
echo "ok"
