#!/usr/bin/env python3
"""tests/ci/include_cycles.py: fail when the modules of src/ include each other in a cycle.

    include_cycles.py [SRC_DIR]

A module is a .c file and its .h (store_fs.c + store_fs.h). Module A depends
on module B when A's .c or .h includes "B.h". Any cycle among those arrows
(store -> store_fs -> store) means two modules are really one, or one of
them is doing another's job: the arrows must run one way. Each cycle found
is printed as a path with the file and line of each include; exit 1.
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


def cycles(graph):
    """Each elementary cycle found by a depth-first search, once, as a module list."""
    found, seen_sets = [], set()
    state = {}          # module -> 1 on the current path, 2 done

    def visit(m, path):
        state[m] = 1
        path.append(m)
        for dep in sorted(graph.get(m, {})):
            if state.get(dep) == 1:
                cyc = path[path.index(dep):] + [dep]
                key = frozenset(cyc)
                if key not in seen_sets:
                    seen_sets.add(key)
                    found.append(cyc)
            elif dep in graph and state.get(dep) is None:
                visit(dep, path)
        path.pop()
        state[m] = 2

    for m in sorted(graph):
        if state.get(m) is None:
            visit(m, [])
    return found


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "src")
    graph = module_graph(src)
    found = cycles(graph)
    for cyc in found:
        steps = ["%s (%s)" % (b, graph[a][b]) for a, b in zip(cyc, cyc[1:])]
        print("FAIL include cycle: %s -> %s" % (cyc[0], " -> ".join(steps)))
    if not found:
        print("ok   no include cycle among %d modules of %s" % (len(graph), os.path.normpath(src)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
