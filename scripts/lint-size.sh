#!/bin/bash
# scripts/lint-size.sh — `make lint-size`: the size rules of the house style.  No source file
# (src/, ui/, tests/, bench/, fuzz/ *.c and *.h) over 700 lines, no function over 120 lines.
# A function is what lies between a '{' and a '}' each alone at the start of a line (the house
# brace style for function bodies), counted with both braces; its name is taken from the last
# line before the '{' that holds a '('.  Prints one line per violation and exits 1 if any.
# Usage: scripts/lint-size.sh [FILE…]     env: MAX_FILE (700), MAX_FUNC (120)
set -u
cd "$(dirname "$0")/.."
MAX_FILE=${MAX_FILE:-700}
MAX_FUNC=${MAX_FUNC:-120}
files=("$@")
[ ${#files[@]} -eq 0 ] && files=($(ls src/*.[ch] ui/*.[ch] tests/*.[ch] bench/*.[ch] fuzz/*.[ch] 2>/dev/null))
bad=0
for f in "${files[@]}"; do
  n=$(wc -l <"$f")
  if [ "$n" -gt "$MAX_FILE" ]; then
    echo "$f: $n lines (at most $MAX_FILE)"
    bad=1
  fi
done
if ! awk -v max="$MAX_FUNC" '
  FNR == 1 { sig = ""; start = 0 }
  /^\{[ \t]*$/ { start = FNR; name = sig; next }
  /^\}/ && start {
    len = FNR - start + 2   # the signature line and both braces
    if (len > max) { printf "%s:%d: function %s: %d lines (at most %d)\n", FILENAME, start, name, len, max; bad = 1 }
    start = 0; next
  }
  !start && /\(/ { sig = $0; sub(/\(.*/, "", sig); n = split(sig, w, /[ \t*]+/); sig = w[n] }
  END { exit bad }' "${files[@]}"; then
  bad=1
fi
exit $bad
