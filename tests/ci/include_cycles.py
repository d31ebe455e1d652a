#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/ci/include_cycles.py: fail when the modules of src/ include each other in a cycle.

    include_cycles.py [SRC_DIR]

A module is a .c file and its .h (store_fs.c + store_fs.h). Module A depends
on module B when A's .c or .h includes "B.h". Any cycle among those arrows
(store -> store_fs -> store) means two modules are really one, or one of
them is doing another's job: the arrows must run one way. Each tangle
-- each set of modules that reach one another -- is printed with one cycle
through it, the file and line of each include; exit 1.
"""

import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)\.h"')


def module_graph(src):
    """{module: {dependency: "file:line"}} from the quoted includes of src/."""
    graph = {}
    for name in sorted(os.listdir(src)):
        base, ext = os.path.splitext(name)
        if ext not in (".c", ".h"):
            continue
        edges = graph.setdefault(base, {})
        with open(os.path.join(src, name), encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if m and m.group(1) != base:
                    edges.setdefault(m.group(1), "%s:%d" % (name, lineno))
    return graph


def tangles(graph):
    """The strongly connected components of more than one module (Tarjan):
    every set of modules that reach each other, each one listed once."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def connect(m):
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for dep in sorted(graph.get(m, {})):
            if dep not in graph:
                continue
            if dep not in index:
                connect(dep)
                low[m] = min(low[m], low[dep])
            elif dep in on_stack:
                low[m] = min(low[m], index[dep])
        if low[m] == index[m]:
            comp = []
            while True:
                d = stack.pop()
                on_stack.discard(d)
                comp.append(d)
                if d == m:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for m in sorted(graph):
        if m not in index:
            connect(m)
    return out


def a_cycle(graph, comp):
    """One cycle through the first module of comp, inside comp, as a module list."""
    start, inside = comp[0], set(comp)
    path, seen = [start], {start}

    def walk(m):
        for dep in sorted(graph[m]):
            if dep == start and len(path) > 1:
                return True
            if dep in inside and dep not in seen:
                seen.add(dep)
                path.append(dep)
                if walk(dep):
                    return True
                path.pop()
        return False

    walk(start)
    return path + [start]


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")
    graph = module_graph(src)
    found = tangles(graph)
    for comp in found:
        cyc = a_cycle(graph, comp)
        steps = ["%s (%s)" % (b, graph[a][b]) for a, b in zip(cyc, cyc[1:])]
        print("FAIL include cycle among %s: %s -> %s" % (", ".join(comp), cyc[0], " -> ".join(steps)))
    if not found:
        print("ok   no include cycle among %d modules of %s" % (len(graph), os.path.normpath(src)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
