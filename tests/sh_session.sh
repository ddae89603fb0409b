#!/bin/bash
# sh_session.sh — `session save/load/list` end to end: a round trip of seed, dataset reference,
# splits and binarisation across processes; --dir and $QVAE_SESSIONS; and bad sessions (missing,
# flipped byte, truncated, wrong version, data file gone, bad name), each with one error line,
# a non-zero exit, and the current state untouched.
set -u
cd "$(dirname "$0")/.."
Q=${QVAE_SAN_BIN:-build/san/qvae}
T=${QVAE_TMP:-$(mktemp -d)}
SH=${QVAE_SHARED:-../shared}
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null || { echo "skip: python3 not installed"; exit 77; }

# a small IDX data set of our own, so the test does not need the shared data
python3 - "$T/img.idx" "$T/lab.idx" <<'EOF'
import struct, sys
n, h, w = 30, 4, 6
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('>IIII', 0x803, n, h, w) + bytes((i * 37) % 256 for i in range(n * h * w)))
with open(sys.argv[2], 'wb') as f:
    f.write(struct.pack('>II', 0x801, n) + bytes(i % 10 for i in range(n)))
EOF
S=$T/sess
out=$($Q -c "seed 99; data load idx $T/img.idx $T/lab.idx; data split 20 6 4; data binarize static --seed 5; session save one --dir $S" 2>&1) || fail "save: $out"
echo "$out" | grep -q "saved session one in $S/one" || fail "save message: $out"
[ -f "$S/one/session.json" ] || fail "no session.json"
ls "$S/one" | grep -q tmp && fail "temp files left: $(ls "$S/one")"

out=$($Q -c "session load one --dir $S; seed; data info" 2>&1) || fail "load: $out"
echo "$out" | grep -q "^seed 99$" || fail "seed not restored: $out"
echo "$out" | grep -q "^images     30 of 4×6" || fail "data not restored: $out"
echo "$out" | grep -q "^splits     train 20, valid 6, test 4$" || fail "splits not restored: $out"
echo "$out" | grep -q "^binarize   static (seed 5)$" || fail "binarize not restored: $out"

# $QVAE_SESSIONS as the default folder; list marks the current one
out=$(QVAE_SESSIONS=$S $Q -c 'session save two; session list' 2>&1) || fail "env save: $out"
echo "$out" | grep -q "^one$" && echo "$out" | grep -q "^two  (current)$" || fail "list: $out"
out=$($Q -c "session list --dir $T/none" 2>&1); [ $? -ne 0 ] && echo "$out" | grep -q "^error: session list: $T/none: No such file" || fail "list missing dir: $out"

# bad sessions: current state (seed 7 + a data set) must survive, one error line each
cp -r "$S/one" "$S/good"
check() {  # session name, expected error regex
  local out rc
  out=$($Q --keep-going -c "seed 7; data load idx $T/img.idx; session load $1 --dir $S; seed; data info" 2>&1); rc=$?
  [ $rc -ne 0 ] || fail "no error for $1"
  [ "$(echo "$out" | grep -c '^error: ')" -eq 1 ] || fail "error lines for $1: $out"
  echo "$out" | grep -qE "^error: $2\$" || fail "message for $1: $out"
  echo "$out" | grep -q "^seed 7$" || fail "seed changed by failed load of $1: $out"
  echo "$out" | grep -q "^splits     train 24, valid 3, test 3$" || fail "data changed by failed load of $1: $out"
}
check nosuch "session load: session nosuch: not found in $S \(current state kept\)"
# flip one byte inside the modules section (under the checksum)
cp -r "$S/good" "$S/flip"
sed -i 's/"count":\s*30/"count":\t31/' "$S/flip/session.json"
check flip "session load: session flip: $S/flip/session.json: checksum mismatch \(the file is corrupt\) \(current state kept\)"
cp -r "$S/good" "$S/trunc"
head -c 200 "$S/good/session.json" > "$S/trunc/session.json"
check trunc "session load: session trunc: $S/trunc/session.json: malformed JSON near byte [0-9]+ \(current state kept\)"
cp -r "$S/good" "$S/newer"
sed -i 's/"version":\s*1,/"version":\t7,/' "$S/newer/session.json"
check newer "session load: session newer: $S/newer/session.json: format version 7 is not supported \(this qvae reads version 1\) \(current state kept\)"
check "../one" "session load: session \.\./one: name must not contain '/' \(current state kept\)"
# the data file of a session is gone
mv "$T/lab.idx" "$T/lab.moved"
check good "session load: session good: data: $T/lab.idx: No such file or directory \(current state kept\)"
mv "$T/lab.moved" "$T/lab.idx"
$Q -c "session load good --dir $S" >/dev/null 2>&1 || fail "restored session does not load"

# bad names on save
out=$($Q -c "session save a/b --dir $S" 2>&1); [ $? -ne 0 ] && echo "$out" | grep -q "^error: session save: session a/b: name must not contain '/'" || fail "save bad name: $out"
echo "session ok"
