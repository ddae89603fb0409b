#!/bin/bash
# sh_figs.sh — the figure commands end to end, the PNGs decoded here (zlib + PNG row filters in
# python, not libpng/cairo) and checked against the data drawn:
#  - view csv: y = x as one line (no legend) — its pixels of the first palette colour are collinear
#    and rise to the right; with --by, y = x and y = 10 − x in two colours with opposite slopes;
#    the text summary (series, points, ranges); bad input (missing file, unknown column naming
#    those there are, non-numeric cell as file:line, no rows, no --y);
#  - a 200,000-point series (drawn per pixel column): a single spike keeps its height, a dense
#    band fills its column;
#  - compare --png and prior modes --png: valid PNGs of the documented sizes with the series'
#    colours present; prior modes --digits on a trained model: one panel per major mode with a
#    decoded digit in it, the grid's unused cells blank, an unwritable path one error.
set -u
Q=${Q:-${QVAE_SAN_BIN:-build/san/qvae}}
[ -x "$Q" ] || Q=${QVAE_BIN:-build/rel/qvae}
source "$(dirname "$0")/lib.sh"

# decode.py PNG: prints "W H" and writes the pixels as lines "x y r g b" only for the colours asked
cat > "$T/png.py" <<'EOF'
import struct, sys, zlib
def load(path):
    b = open(path, 'rb').read()
    assert b[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    i, idat, w = 8, b'', None
    while i < len(b):
        n, kind = struct.unpack('>I4s', b[i:i + 8])
        body = b[i + 8:i + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype = struct.unpack('>IIBB', body[:10])
            assert depth == 8 and ctype in (2, 6), (depth, ctype)
            bpp = 3 if ctype == 2 else 4
        elif kind == b'IDAT':
            idat += body
        i += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            c = prev[x - bpp] if x >= bpp else 0
            up = prev[x]
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + up) & 255
            elif f == 3: line[x] = (line[x] + (a + up) // 2) & 255
            elif f == 4:
                p = a + up - c; pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else up if pb <= pc else c)) & 255
        rows.append(line); prev = line
    return w, h, bpp, rows
def pixels(img, rgb, tol=12, xmax=None):
    w, h, bpp, rows = img
    out = []
    for y in range(h):
        r = rows[y]
        for x in range(w if xmax is None else xmax):
            if all(abs(r[x * bpp + k] - rgb[k]) <= tol for k in range(3)): out.append((x, y))
    return out
def fit(pts):
    n = len(pts); mx = sum(p[0] for p in pts) / n; my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts); sxy = sum((p[0] - mx) * (p[1] - my) for p in pts)
    k = sxy / sxx
    return k, max(abs(p[1] - (my + k * (p[0] - mx))) for p in pts), max(p[0] for p in pts) - min(p[0] for p in pts)
BLUE, ORANGE = (31, 120, 181), (255, 128, 13)
EOF

# one straight line y = x, 0 … 10: collinear blue pixels, rising (pixel y falls as x grows)
{ echo "step,loss"; for i in 0 1 2 3 4 5 6 7 8 9 10; do echo "$i,$i"; done; } > "$T/line.csv"
out=$(run "view csv $T/line.csv --x step --y loss --png $T/line.png --title 'y = x'")
echo "$out" | grep -q "wrote 1 series, 11 points of loss against step" || fail "view csv --png: $out"
python3 - "$T/line.png" <<EOF || fail "straight line PNG"
import sys; exec(open('$T/png.py').read())
img = load(sys.argv[1]); assert img[:2] == (900, 560), img[:2]
pts = pixels(img, BLUE)
assert len(pts) > 300, len(pts)
k, dev, span = fit(pts)
assert -1.5 < k < -0.2, ('slope', k)
assert dev <= 3, ('not straight', dev)
assert span > 600, ('span', span)
EOF

# two series by run: a rises, b falls; the legend (top right) is left out of the fit
{ echo "run,seconds,val_elbo_z"; for i in 0 2 4 6 8 10; do echo "a,$i,$i"; echo "b,$i,$((10 - i))"; done;
  echo "b,12,"; } > "$T/curves.csv"
out=$(run "view csv $T/curves.csv --x seconds --y val_elbo_z --by run")
echo "$out" | grep -q "2 series, 12 points of val_elbo_z against seconds" || fail "summary: $out"
echo "$out" | grep -Eq "^  b +6 points  seconds 0 … 10  val_elbo_z 0 … 10 \(last 0\)" || fail "summary b: $out"
run "view csv $T/curves.csv --x seconds --y val_elbo_z --by run --png $T/curves.png --xlabel s --ylabel nats" >/dev/null
python3 - "$T/curves.png" <<EOF || fail "two-series PNG"
import sys; exec(open('$T/png.py').read())
img = load(sys.argv[1])
ka, da, _ = fit(pixels(img, BLUE, xmax=500)); kb, db, _ = fit(pixels(img, ORANGE, xmax=500))
assert ka < -0.2 and kb > 0.2, ('slopes', ka, kb)
assert da <= 3 and db <= 3, ('not straight', da, db)
EOF

# bad input: one error line each, no file left behind
bad "view csv $T/nosuch.csv --x a --y b" "view csv: .*nosuch.csv"
bad "view csv $T/curves.csv --x sec --y val_elbo_z" "no column 'sec' (columns: run, seconds, val_elbo_z)"
bad "view csv $T/curves.csv --x seconds --y val_elbo_z --by who" "--by: no column 'who'"
bad "view csv $T/curves.csv --x run --y seconds" "curves.csv:2: column run: 'a' is not a finite number"
python3 -c "print('x,y'); print('1,' + '9' * 5000)" > "$T/big.csv"   # a cell past 40 characters is cut in the message
bad "view csv $T/big.csv --x x --y y" "big.csv:2: column y: '9999999999999999999999999999999999999999…' is not a finite number"
echo "seconds,loss" > "$T/empty.csv"
bad "view csv $T/empty.csv --x seconds --y loss --png $T/empty.png" "empty.csv: no rows"
[ ! -e "$T/empty.png" ] || fail "a PNG was written for no rows"
: > "$T/nothing.csv"
bad "view csv $T/nothing.csv --x a --y b" "empty file"
bad "view csv $T/curves.csv --x seconds" "name the columns"
bad "view csv --x seconds --y loss" "give the file"
# a long series is drawn per pixel column (first, lowest, highest, last point of each column):
# one spike among 200,000 zeros must still reach its height, and a band y = i mod 7 fills [0, 6]
python3 -c "
print('x,y')
for i in range(200000): print(f'{i},{10 if i == 123457 else 0}')" > "$T/spike.csv"
python3 -c "
print('x,y')
for i in range(200000): print(f'{i},{i % 7}')" > "$T/band.csv"
run "view csv $T/spike.csv --x x --y y --png $T/spike.png; view csv $T/band.csv --x x --y y --png $T/band.png" >/dev/null \
  || fail "long series PNGs"
python3 - "$T/spike.png" "$T/band.png" <<EOF || fail "long series drawn per pixel column"
import sys; exec(open('$T/png.py').read())
s = pixels(load(sys.argv[1]), BLUE, tol=6)
ys = sorted(p[1] for p in s)
base = ys[len(ys) // 2]                          # the zero line holds most blue pixels
assert base - ys[0] > 200, ('spike not drawn to its height', base, ys[0])
spike_x = [p[0] for p in s if p[1] < base - 100]
assert spike_x and max(spike_x) - min(spike_x) <= 6, ('spike not one column', spike_x[:5])
b = pixels(load(sys.argv[2]), BLUE, tol=6)
cols = {}
for x, y in b: cols.setdefault(x, []).append(y)
mid = sorted(cols)[len(cols) // 2]
col = sorted(cols[mid])
assert col[-1] - col[0] + 1 == len(col) and len(col) > 200, ('band column not filled', len(col), col[0], col[-1])
EOF
bad "view loss --x time" "unknown value 'time' (one of step|epoch)"
bad "view loss --by run" "only for .view csv"

# compare and prior modes: PNGs of their sizes with each series' colour
R=${QVAE_BIN:-build/rel/qvae}
out=$($R -c "seed 11; prior new chimera 1 1 4; prior random --seed 7; compare gibbs pt --count 2000 --png $T/cmp.png; prior modes --count 2000 --png $T/modes.png" 2>&1) \
  || fail "compare/modes --png: $out"
echo "$out" | grep -q "compare: wrote the histograms and excess KL per sampler to $T/cmp.png" || fail "compare --png: $out"
echo "$out" | grep -q "prior modes: wrote the mode masses against energy to $T/modes.png" || fail "modes --png: $out"
python3 - "$T/cmp.png" "$T/modes.png" <<EOF || fail "compare/modes PNGs"
import sys; exec(open('$T/png.py').read())
c = load(sys.argv[1]); assert c[:2] == (1200, 520), c[:2]
# the score panel (right half, the legend box at its top right left out): gibbs in orange and pt
# in green as markers
for rgb in (ORANGE, (43, 161, 43)):
    n = len([p for p in pixels(c, rgb, tol=6) if p[0] > 700 and not (p[0] > 960 and p[1] < 140)])
    assert n > 30, ('marker', rgb, n)
m = load(sys.argv[2]); assert m[:2] == (900, 560), m[:2]
assert len(pixels(m, BLUE, tol=6)) > 30, 'no major-mode markers'
EOF
# prior modes --digits: one titled panel per major mode, the decoded digit in each (a black
# field with grey strokes), unused cells of the grid blank (documented size: 200 px per column,
# at least 640, 60 + 220 px per row)
out=$($R -c "seed 5; data load npm; prior new chimera 2 2 4; model new --hidden 32; train 1 --quiet --no-save; prior modes --count 2000 --samplers gibbs --digits $T/mdig.png" 2>&1) \
  || fail "prior modes --digits: $out"
nd=$(sed -n "s/^prior modes: the \([0-9]*\) heaviest modes decoded by the model, heaviest first, written to .*/\1/p" <<<"$out")
[ -n "$nd" ] && [ "$nd" -ge 2 ] || fail "prior modes --digits: $out"
python3 - "$T/mdig.png" "$nd" <<EOF || fail "mode digits PNG"
import sys; exec(open('$T/png.py').read())
img = load(sys.argv[1]); n = int(sys.argv[2])
cols = 1
while cols * cols < n: cols += 1
rows = (n + cols - 1) // cols
assert img[:2] == (max(640, 200 * cols), 60 + 220 * rows), (img[:2], n)
w, h, bpp, px = img
cw, ch = w // cols, (h - 40) // rows
for k in range(rows * cols):
    x0, y0 = (k % cols) * cw, 40 + (k // cols) * ch
    black = stroke = 0
    for y in range(y0, y0 + ch, 2):
        r = px[y]
        for x in range(x0, x0 + cw, 2):
            v = r[x * bpp:x * bpp + 3]
            if max(v) < 8: black += 1
            elif 90 < v[0] < 250 and v[0] == v[1] == v[2]: stroke += 1
    area = (cw // 2) * (ch // 2)
    if k < n:
        assert black > 0.2 * area and stroke > 0.01 * area, ('panel', k, black, stroke, area)
    else:
        assert black == 0, ('unused cell drawn', k, black)
EOF
bad "seed 5; data load npm; prior new chimera 1 1 4; model new --hidden 16; prior modes --count 100 --samplers gibbs --digits /nonexistent/d.png" "prior modes: --digits: /nonexistent/d.png"
echo ok
