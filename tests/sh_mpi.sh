#!/bin/bash
# sh_mpi.sh — qvae as an Open MPI job (src/par.h), on the embedded npm digits and a tiny model:
#  - `mpirun -np 2 … train --threads 1` (2 blocks) equals the plain `train --threads 2`: the same
#    `model info` digest (parameters, batch-norm statistics, prior, Adam moments, counters) and the
#    same metrics.csv apart from its two timing columns; `-np 1` equals the plain binary; the same
#    with a 32-unit prior whose log Z and negative phase are population annealing;
#  - a session saved under -np 2 resumes in a plain qvae and vice versa, both equal to the plain
#    two-epoch run; the sanitizer build agrees too, without a report;
#  - `eval ll` under -np 3 prints the single-process figure;
#  - faults: a rank that cannot read the data set → one error line naming it, no hang; a rank
#    killed with SIGKILL mid-training → every rank ends within seconds, mpirun's line naming the
#    rank, the last checkpoint byte-identical to a copy taken before (rank 1 stopped, then
#    killed), loadable and equal to a plain run of as many epochs;
#  - `train … --ranks 2` and `eval ll … --ranks 2 --hostfile F` from `qvae -c` equal the direct
#    runs; Ctrl-C during `train --ranks` ends every rank and loads back the last checkpoint whole;
#    --ranks 0, a missing host file and a missing mpirun are one clear error each; in the TUI
#    (tmux) the job's metrics reach the loss panel and its digit grid the digits panel, and `train pause` holds every rank (stopped
#    processes, no epoch while held) until `train resume`; `train stop` then ends them.
# Skipped (77) only when mpirun is not installed.
set -u
source "$(dirname "$0")/lib.sh"
command -v mpirun >/dev/null || { echo "skip: mpirun is not installed (openmpi-bin)"; exit 77; }
R=${QVAE_BIN:-build/rel/qvae}
case $R in /*) ;; *) R=$PWD/$R ;; esac
case $Q in /*) ;; *) Q=$PWD/$Q ;; esac
export QVAE_SESSIONS="$T/sessions" OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Open MPI's own allocations are still held at exit: leaks are checked by the other tests
export ASAN_OPTIONS=detect_leaks=0
MPI="mpirun --oversubscribe -np"
rm -rf "$QVAE_SESSIONS"
$R -c 'data load npm' >/dev/null 2>&1 || { echo "skip: the embedded npm digits are not installed (make deps)"; exit 77; }
S='seed 5; data load npm; data split 2000 300 300; prior new chimera 2 2 2; model new --hidden 32 --bn'

digest() { grep -o '^digest [0-9a-f]*' <<<"$1" | tail -n 1; }
# metrics.csv without images_per_s (8) and seconds (11), the only columns that may differ
rows() { cut -d, -f1-7,9,10,12 "$QVAE_SESSIONS/$1/metrics.csv"; }
job() {  # name, ranks, commands: an MPI job that must succeed
  local out; out=$(timeout 120 $MPI "$2" "$R" -c "$3" 2>&1) || fail "$1: mpirun -np $2 failed: $(tail -n 5 <<<"$out")"
  echo "$out"
}

# --- byte identity: np 2 × 1 thread = 1 process × 2 threads; np 1 = plain -------------------
p2=$($R -c "$S; session save p2; train 1 --threads 2; model info" 2>&1) || fail "plain: $p2"
m2=$(job "np 2" 2 "$S; session save m2; train 1 --threads 1; model info")
d1=$(digest "$p2")
[ -n "$d1" ] || fail "no digest line: $p2"
[ "$(digest "$m2")" = "$d1" ] || fail "np 2 digest $(digest "$m2") != threads 2 $d1"
[ "$(rows p2)" = "$(rows m2)" ] || fail "metrics differ: $(diff <(rows p2) <(rows m2) | head -n 4)"
[ "$(rows p2 | wc -l)" -ge 3 ] || fail "too few metrics rows: $(rows p2)"
grep -c '^epoch 1:' <<<"$m2" | grep -qx 1 || fail "np 2: not one epoch line (only rank 0 prints): $m2"
m1=$(job "np 1" 1 "$S; session save m1; train 1 --threads 2; model info")
[ "$(digest "$m1")" = "$d1" ] || fail "np 1 digest $(digest "$m1") != plain $d1"
# a 32-unit prior (log Z by PA each epoch) with PA as the negative phase: PA stays on each rank
# inside training (samp_pa_local), so the rank count still does not enter
SP='seed 5; data load npm; data split 1000 300 300; prior new chimera 2 2 4; sampler use pa --population 200 --sweeps 1; model new --hidden 32'
pp2=$($R -c "$SP; session save pp2; train 1 --threads 2; model info" 2>&1) || fail "plain pa: $pp2"
mp2=$(job "np 2 pa" 2 "$SP; session save mp2; train 1 --threads 1; model info")
[ "$(digest "$mp2")" = "$(digest "$pp2")" ] || fail "pa prior: np 2 $(digest "$mp2") != threads 2 $(digest "$pp2")"
[ "$(rows pp2)" = "$(rows mp2)" ] || fail "pa prior: metrics differ: $(diff <(rows pp2) <(rows mp2) | head -n 4)"
p1=$($R -c "$S; train 1 --threads 1; model info" 2>&1) || fail "plain 1: $p1"
[ "$(digest "$p1")" != "$d1" ] || fail "the digest does not see the block count (1 and 2 blocks agree)"

# --- resume across: plain → np 2 and np 2 → plain, both = the plain 2-epoch run --------------
# (each run saves under a new name first: a checkpoint would otherwise overwrite p2 or m2)
pp=$($R -c "session load p2; session save pp; train 1; model info" 2>&1) || fail "plain resume: $pp"
d2=$(digest "$pp")
[ "$d2" != "$d1" ] || fail "a second epoch left the digest unchanged"
x=$(job "np 2 resume" 2 "session load p2; session save x; train 1; model info")
[ "$(digest "$x")" = "$d2" ] || fail "plain → np 2: $(digest "$x") != $d2"
y=$($R -c "session load m2; session save y; train 1; model info" 2>&1) || fail "np 2 → plain: $y"
[ "$(digest "$y")" = "$d2" ] || fail "np 2 → plain: $(digest "$y") != $d2"

# --- the sanitizer build: the block exchange without a report, same bits -----------------------
s1=$($Q -c "$S; train 1 --threads 2 --max-steps 12 --no-save; model info" 2>&1) || fail "san plain: $s1"
s2=$(timeout 120 $MPI 2 "$Q" -c "$S; train 1 --threads 1 --max-steps 12 --no-save; model info" 2>&1) || fail "san np 2: $s2"
grep -qi 'sanitizer\|runtime error' <<<"$s1$s2" && fail "sanitizer report: $s2"
[ "$(digest "$s2")" = "$(digest "$s1")" ] || fail "san: np 2 $(digest "$s2") != threads 2 $(digest "$s1")"

# --- distributed evaluation ------------------------------------------------------------------
E='eval ll --k 20 --n 37 --logz exact --threads 1'
e1=$($R -c "session load p2; $E" 2>&1) || fail "eval: $e1"
ll=$(grep '^test LL' <<<"$e1" | sed 's/, [0-9.]* s)/)/')
[ -n "$ll" ] || fail "no LL line: $e1"
e3=$(job "eval np 3" 3 "session load p2; $E")
[ "$(grep '^test LL' <<<"$e3" | sed 's/, [0-9.]* s)/)/')" = "$ll" ] || fail "eval np 3: $e3 vs $ll"

# --- faults ----------------------------------------------------------------------------------
# rank 1 alone sees no data set: one error line, every rank ends, no hang
cat >"$T/nodata.sh" <<'EOF'
#!/bin/sh
[ "$OMPI_COMM_WORLD_RANK" = 1 ] && export QVAE_DATA=/nonexistent
exec "$@"
EOF
chmod +x "$T/nodata.sh"
out=$(timeout 60 $MPI 2 "$T/nodata.sh" "$R" -c "$S; train 1" 2>&1); rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "unreadable data on rank 1: exit $rc: $out"
[ "$(grep -c '^error: ' <<<"$out")" -eq 1 ] || fail "unreadable data: not one error line: $out"
grep -q '^error: rank 1: data load npm: /nonexistent' <<<"$out" || fail "unreadable data: message: $out"

# rank 1 killed after the first checkpoint: everything ends, the checkpoint stays as it was
cat >"$T/pid.sh" <<EOF
#!/bin/sh
echo \$\$ >"$T/rank\$OMPI_COMM_WORLD_RANK.pid"
exec "\$@"
EOF
chmod +x "$T/pid.sh"
rm -f "$T"/rank*.pid
timeout 400 $MPI 2 "$T/pid.sh" "$R" -c "$S; session save k; train 500 --threads 1" >"$T/kill.out" 2>&1 &
jobpid=$!
K=$QVAE_SESSIONS/k
# An epoch's checkpoint is complete when session.json names generation g ≥ 2 (the save before
# training is 1) and no blob of another generation is left: an epoch of this model takes ~30 ms,
# so a 0.1 s poll sees whichever epoch's checkpoint is current, rarely the first.
ckpt() {
  local g
  g=$(sed -n 's/.*"generation":[[:space:]]*\([0-9]*\).*/\1/p' "$K/session.json" 2>/dev/null)
  [ -n "$g" ] && [ "$g" -ge 2 ] || return 1
  ! ls "$K" | grep -v "\.$g\.bin\$" | grep -q '\.[0-9]*\.bin'
}
# the state of the job's processes, for a failure message
procs() { ps -o pid,stat,wchan:24,etime,args -C qvae,mpirun 2>&1; ls -l "$K" 2>&1; }
t0=$SECONDS
# (a bound, not a timing: it only ends a job that no longer makes progress)
until ckpt; do
  kill -0 $jobpid 2>/dev/null || fail "the job ended before a checkpoint was seen: $(cat "$T/kill.out")"
  [ $((SECONDS - t0)) -lt 300 ] || fail "no checkpoint after $((SECONDS - t0)) s: $(cat "$T/kill.out"; procs)"
  sleep 0.1
done
# An epoch of this tiny model takes tens of milliseconds, so the next checkpoint could land
# between a copy and the kill: rank 1 is stopped first, which holds rank 0 at the next step's
# reduction within a step; a second later any write in flight has ended and the copy is final.
kill -STOP "$(cat "$T/rank1.pid")"
sleep 1
mkdir "$T/k.copy"; cp -a "$K"/session.json "$K"/*.bin "$T/k.copy/"
kill -9 "$(cat "$T/rank1.pid")"
t0=$SECONDS
wait $jobpid; rc=$?
[ $((SECONDS - t0)) -le 10 ] || fail "the ranks took $((SECONDS - t0)) s to end"
[ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "killed rank: exit $rc"
grep -q 'rank 1 .*exited on signal 9' "$T/kill.out" || fail "killed rank not named: $(cat "$T/kill.out")"
# the checkpoint: the manifest and its blobs (metrics.csv and grids/ are logs, not the checkpoint)
mkdir "$T/k.after"; cp -a "$K"/session.json "$K"/*.bin "$T/k.after/"
diff -r "$T/k.after" "$T/k.copy" >/dev/null || fail "the checkpoint changed: $(diff -r "$T/k.after" "$T/k.copy" | head -n 3)"
# …and it is whole: it loads, and equals a plain run of as many epochs
kl=$($R -c "session load k; model info" 2>&1) || fail "the killed job's checkpoint does not load: $kl"
ek=$(sed -n 's/^trained: [0-9]* steps, \([0-9]*\) epochs.*/\1/p' <<<"$kl")
[ -n "$ek" ] && [ "$ek" -ge 1 ] || fail "the killed job's checkpoint holds no epoch: $kl"
pk=$($R -c "$S; train $ek --threads 2 --no-save; model info" 2>&1) || fail "plain $ek epochs: $pk"
[ "$(digest "$kl")" = "$(digest "$pk")" ] || fail "the killed job's checkpoint is not epoch $ek's state"

# --- from the workbench: --ranks ---------------------------------------------------------------
w=$($R -c "$S; session save w; train 1 --threads 1 --ranks 2; model info" 2>&1) || fail "--ranks: $w"
[ "$(digest "$w")" = "$d1" ] || fail "--ranks 2: $(digest "$w") != $d1: $w"
[ "$(rows p2)" = "$(rows w)" ] || fail "--ranks: metrics differ: $(diff <(rows p2) <(rows w) | head -n 4)"
ls "$QVAE_SESSIONS" | grep -q mpi-job && fail "--ranks left its job session: $(ls "$QVAE_SESSIONS")"
echo 'localhost slots=2' >"$T/hosts"
ew=$($R -c "session load p2; $E --ranks 2 --hostfile $T/hosts" 2>&1) || fail "eval --ranks: $ew"
[ "$(grep '^test LL' <<<"$ew" | sed 's/, [0-9.]* s)/)/')" = "$ll" ] || fail "eval --ranks 2: $ew vs $ll"
# Ctrl-C during `train --ranks`: every rank ends, the job's last checkpoint comes back whole —
# the state then equals a plain run of as many epochs
$R -c "$S; session save z; train 50 --threads 1 --ranks 2; model info" >"$T/z.out" 2>&1 &
qpid=$!
for _ in $(seq 600); do grep -q '^epoch 1:' "$T/z.out" && break; sleep 0.1; done
kill -INT $qpid
t0=$SECONDS
wait $qpid || fail "--ranks stopped: exit status $?: $(cat "$T/z.out")"
[ $((SECONDS - t0)) -le 15 ] || fail "--ranks: the stop took $((SECONDS - t0)) s"
grep -q 'the job was stopped; the session holds its last checkpoint' "$T/z.out" || fail "--ranks stop: $(cat "$T/z.out")"
pgrep -f "mpi-job-$qpid" >/dev/null && fail "--ranks stop: ranks still running: $(pgrep -fa "mpi-job-$qpid")"
ep=$(sed -n 's/^trained: [0-9]* steps, \([0-9]*\) epochs.*/\1/p' "$T/z.out")
[ -n "$ep" ] && [ "$ep" -ge 1 ] || fail "--ranks stop: no epoch kept: $(cat "$T/z.out")"
pz=$($R -c "$S; train $ep --threads 2 --no-save; model info" 2>&1) || fail "plain $ep epochs: $pz"
[ "$(digest "$(cat "$T/z.out")")" = "$(digest "$pz")" ] || fail "--ranks stop: the state is not epoch $ep's"
bad "$S; train 1 --ranks 0" 'train: --ranks must be 1..4096, got 0'
bad "$S; eval ll --ranks 2 --hostfile $T/none" "eval ll: --hostfile $T/none: No such file or directory"
out=$(PATH=/nonexistent $Q -c "$S; train 1 --ranks 2" 2>&1) && fail "no mpirun: succeeded"
[ "$(grep -c '^error: ' <<<"$out")" -eq 1 ] && grep -q '^error: train: --ranks: mpirun is not on PATH' <<<"$out" \
  || fail "no mpirun: $out"
# --- the workbench: a --ranks job's metrics reach the loss panel ------------------------------
if command -v tmux >/dev/null; then
  TM=(tmux -L "qvae-mpi-$$" -f /dev/null)
  trap '"${TM[@]}" kill-server >/dev/null 2>&1' EXIT
  printf '%s\n' "export HOME='$T' XDG_STATE_HOME='$T/state' TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8" \
    "export QVAE_TUI_STARTUP='$S' QVAE_SESSIONS='$QVAE_SESSIONS'" "'$R'" "sleep 600" >"$T/tui.sh"
  "${TM[@]}" new-session -d -s tui -x 120 -y 40 "bash '$T/tui.sh'" || fail "tmux could not start"
  scr() { "${TM[@]}" capture-pane -p -t tui; }
  until_on() {  # pattern, seconds
    local end=$((SECONDS + $2))
    while [ $SECONDS -le $end ]; do scr | grep -qE -- "$1" && return 0; sleep 0.2; done
    fail "TUI: waited $2 s for '$1': $(scr)"
  }
  until_on 'Ready\. Try' 60
  scr | grep -q 'no training yet' || fail "TUI: the loss panel is not empty before training: $(scr)"
  "${TM[@]}" send-keys -t tui 'train 1 --threads 1 --ranks 2' Enter
  until_on 'train done' 120
  scr | grep -q 'no training yet' && fail "TUI: no metrics reached the loss panel: $(scr)"
  scr | grep -q -- '-ELBO [0-9]' || fail "TUI: no -ELBO value in the loss panel: $(scr)"
  scr | grep -q 'digits  generated, epoch 1 (16)' || fail "TUI: rank 0's digit grid did not reach the digits panel: $(scr)"
  scr | grep -q 'no digits yet' && fail "TUI: the digits panel is empty after a --ranks epoch: $(scr)"
  # train pause / resume / stop on a --ranks job: every rank held (state T), then going again
  "${TM[@]}" send-keys -t tui 'train 200 --threads 1 --ranks 2' Enter
  until_on 'epoch 2:' 120
  "${TM[@]}" send-keys -t tui 'train pause' Enter
  until_on 'every rank of the job is held' 10
  sleep 1
  ranks=""
  for p in $(pgrep -f "mpi-job-"); do   # the ranks: this program, not mpirun nor tmux's shell
    [ "$(ps -o comm= -p "$p")" = "$(basename "$R" | cut -c1-15)" ] && ranks="$ranks $p"
  done
  [ -n "$ranks" ] || fail "TUI pause: no rank processes found"
  for p in $ranks; do
    st=$(ps -o stat= -p "$p" | tr -d ' ')
    case $st in T*|"") ;; *) fail "TUI pause: rank process $p is in state $st, not stopped: $(ps -o pid,stat,cmd -p "$p")" ;; esac
  done
  e1=$(scr | grep -oE '^epoch [0-9]+:' | tail -n 1)
  sleep 2
  [ "$(scr | grep -oE '^epoch [0-9]+:' | tail -n 1)" = "$e1" ] || fail "TUI pause: epochs went on while held"
  "${TM[@]}" send-keys -t tui 'train resume' Enter
  until_on "the job's ranks continue" 10
  for p in $ranks; do
    st=$(ps -o stat= -p "$p" | tr -d ' ')
    case $st in T*) fail "TUI resume: rank process $p still stopped" ;; esac
  done
  "${TM[@]}" send-keys -t tui 'train stop' Enter
  until_on 'the job was stopped; the session holds its last checkpoint' 30
  for p in $ranks; do   # ended (or a zombie waiting for its reaper)
    case $(ps -o stat= -p "$p" | tr -d ' ') in ""|Z*) ;; *) fail "TUI stop: rank $p still running: $(ps -o pid,stat,cmd -p "$p")" ;; esac
  done
  "${TM[@]}" kill-server
fi
echo "sh_mpi: ok"
