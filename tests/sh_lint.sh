#!/bin/bash
# sh_lint.sh — scripts/lint.py: the tree passes, and a copy of the script over a made-up src/
# with a header cycle (a.h → b.h → a.h) and with a module cycle through sources (x.c includes
# y.h, y.c includes x.h) fails naming the cycle, one error line each.
set -u
cd "$(dirname "$0")/.."
TMP=${QVAE_TMP:-$(mktemp -d)}
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null || { echo "skip: python3 is not installed"; exit 77; }

out=$(scripts/lint.py 2>&1) || fail "the tree fails lint: $out"

mk() {  # folder: a fake repository with scripts/lint.py and an empty src/
  rm -rf "$1"; mkdir -p "$1/scripts" "$1/src"; cp scripts/lint.py "$1/scripts/"
}
R=$TMP/lint1; mk "$R"
printf '#include "b.h"\n' >"$R/src/a.h"
printf '#include "a.h"\n#include <stdio.h>\n' >"$R/src/b.h"
printf '#include "a.h"\n' >"$R/src/c.c"
out=$(python3 "$R/scripts/lint.py" 2>&1) && fail "header cycle passed: $out"
[ "$(grep -c '^error: lint: include_cycles: ' <<<"$out")" -eq 1 ] || fail "header cycle: $out"
grep -q 'a → b → a' <<<"$out" || fail "header cycle not named: $out"

R=$TMP/lint2; mk "$R"
printf 'int x;\n' >"$R/src/x.h"; printf 'int y;\n' >"$R/src/y.h"
printf '#include "x.h"\n#include "y.h"\n' >"$R/src/x_impl.c"
printf '#include "y.h"\n#include "x.h"\n' >"$R/src/y.c"
out=$(python3 "$R/scripts/lint.py" 2>&1) && fail "module cycle passed: $out"
grep -q 'x → y → x' <<<"$out" || fail "module cycle not named: $out"
grep -q 'src/x_impl.c includes y.h' <<<"$out" || fail "module cycle lacks the file: $out"

R=$TMP/lint3; mk "$R"   # a chain without a cycle passes
printf '#include "q.h"\n' >"$R/src/p.h"; printf 'int q;\n' >"$R/src/q.h"; printf '#include "p.h"\n' >"$R/src/p.c"
out=$(python3 "$R/scripts/lint.py" 2>&1) || fail "a chain failed: $out"
echo "lint: ok"
