#!/usr/bin/env python3
"""lint.py — structure checks over src/ that a compiler does not make.  `make lint` runs it;
`make test` runs `make lint` first.

Each check is one function taking the repository root and returning a list of problem lines
("src/app.c: …"); add a check by writing such a function and listing it in CHECKS.  Exit status
1 when any check reports a problem, with one `error: lint: <check>: <problem>` line each."""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def src_files(root, exts=(".c", ".h")):
    d = os.path.join(root, "src")
    return sorted(f for f in os.listdir(d) if f.endswith(exts))


def read(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
        return f.read()


def module_graph(root):
    """Modules of src/ and the modules each one uses.  A module is a header and the sources
    that implement it: x.h with x.c and x_*.c (app.h: app.c; sampler.h: sampler.c;
    cmd.h: cmd.c, cmd_*.c), and its private header x_priv.h or x_int.h.  A source whose prefix names no header is its own module.  An edge
    M → N means a file of M includes N's header."""
    files = src_files(root)
    headers = {f[:-2] for f in files if f.endswith(".h")}

    def module_of(f):
        base = f[:-2]
        # a module's private header (x_priv.h, x_int.h) is part of module x
        for suffix in ("_priv", "_int"):
            if base.endswith(suffix) and base[:-len(suffix)] in headers:
                return base[:-len(suffix)]
        if base in headers:
            return base
        # the longest header name that prefixes the file name followed by '_'
        best = None
        for h in headers:
            if base.startswith(h + "_") and (best is None or len(h) > len(best)):
                best = h
        return best or base

    graph = {}
    for f in files:
        m = module_of(f)
        graph.setdefault(m, {})
        for inc in INCLUDE.findall(read(root, "src/" + f)):
            if not inc.endswith(".h") or inc[:-2] not in headers:
                continue   # system headers and ui/ headers are not src/ modules
            n = module_of(inc)
            if n != m:
                graph[m].setdefault(n, f)   # remember one file that makes the edge
    return graph


def check_include_cycles(root):
    """No cycle among src/ modules: the layers (core → engine → commands) stay one-way."""
    g = module_graph(root)
    problems, state, stack = [], {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(g.get(m, {})):
            if state.get(n) == 1:
                cyc = stack[stack.index(n):] + [n]
                how = ", ".join("src/%s includes %s.h" % (g[a][b], b) for a, b in zip(cyc, cyc[1:]))
                problems.append("include cycle %s (%s)" % (" → ".join(cyc), how))
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)
    return problems


CHECKS = [check_include_cycles]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bad = 0
    for check in CHECKS:
        name = check.__name__[len("check_"):]
        for p in check(root):
            print("error: lint: %s: %s" % (name, p))
            bad += 1
    if bad == 0:
        print("lint: %d checks clean" % len(CHECKS))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
