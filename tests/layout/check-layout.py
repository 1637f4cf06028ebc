#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The source layout's rules (docs/design/architecture.md), checked:
1. a part includes only the parts below it (the table PARTS);
2. no cycle between files: a.c including b.h and b.c including a.h (or a longer loop)
   makes the two one module in all but name;
3. no source file over MAX_LINES lines.
Prints each breach as FILE: what, and exits 1 when there is any."""
import os
import re
import sys

MAX_LINES = 800
# Each part and the parts it may include (besides itself and the public header).
PARTS = {
    "basic": [],
    "model": ["basic"],
    "policy": ["basic", "model"],
    "audit": ["basic", "model"],
    "egress": ["basic", "model"],
    "plan": ["basic", "model", "egress"],
    "backends": ["basic", "model", "egress", "plan"],
    "runner": ["basic", "model", "policy", "audit", "egress", "plan", "backends"],
    "cli": ["basic"],
}
# The OCI backends' Landlock helper applies the plan's rules itself: the one CLI-side program
# that is not a thin front end of the library.
EXCEPTIONS = {"src/cli/exec-helper.c": ["plan"]}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def part_of(rel):
    """The part of a file under src/ (src/basic/x.c -> basic, src/lib/plan/x.c -> plan)."""
    bits = rel.split("/")
    if bits[1] == "lib":
        return bits[2] if len(bits) > 3 else None
    return bits[1]


def module_of(rel):
    """A file's module: its path without the extension, relative to src/lib or src."""
    stem = os.path.splitext(rel)[0]
    return stem.replace("src/lib/", "").replace("src/", "")


def main(root):
    errors = []
    edges = {}
    for dirpath, _, names in os.walk(os.path.join(root, "src")):
        for name in sorted(names):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            n = text.count("\n")
            if n > MAX_LINES:
                errors.append(f"{rel}: {n} lines (at most {MAX_LINES})")
            part = part_of(rel)
            if part not in PARTS:
                errors.append(f"{rel}: not in a part (src/basic, src/cli, src/lib/<part>)")
                continue
            allowed = set(PARTS[part]) | {part, "omnibase"} | set(EXCEPTIONS.get(rel, []))
            me = module_of(rel)
            for inc in INCLUDE.findall(text):
                target = inc.split("/")[0] if "/" in inc else part
                if target not in allowed:
                    errors.append(f"{rel}: includes {inc}: {part}/ may include "
                                  f"{', '.join(sorted(allowed - {part, 'omnibase'})) or 'nothing else'}")
                other = inc[:-2] if "/" in inc else f"{me.rsplit('/', 1)[0]}/{inc[:-2]}"
                if other != me and not other.startswith("omnibase"):
                    edges.setdefault(me, set()).add(other)
    errors += cycles(edges)
    for e in errors:
        print(e)
    print(f"layout: {len(errors)} problem(s)")
    return 1 if errors else 0


def cycles(edges):
    """Each cycle of the module graph, once."""
    found, state = [], {}

    def visit(m, stack):
        state[m] = 1
        stack.append(m)
        for n in sorted(edges.get(m, ())):
            if state.get(n) == 1:
                loop = stack[stack.index(n):] + [n]
                found.append("include cycle: " + " -> ".join(loop))
            elif n not in state:
                visit(n, stack)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m, [])
    return found


def self_test():
    """The checker finds what it is for, in a small tree made for it: a forbidden include,
    a cycle, a long file; and nothing in a clean one."""
    import contextlib
    import io
    import tempfile
    files = {
        "src/lib/model/a.c": '#include "model/b.h"\n#include "runner/run.h"\n',
        "src/lib/model/b.c": '#include "model/a.h"\n',
        "src/lib/model/a.h": "", "src/lib/model/b.h": "",
        "src/basic/long.c": "x\n" * (MAX_LINES + 1),
    }
    with tempfile.TemporaryDirectory() as d:
        for rel, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
            with open(os.path.join(d, rel), "w", encoding="utf-8") as f:
                f.write(text)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = main(d)
        report = out.getvalue()
        assert rc == 1, report
        assert "src/lib/model/a.c: includes runner/run.h" in report, report
        assert "include cycle: model/a -> model/b -> model/a" in report, report
        assert f"src/basic/long.c: {MAX_LINES + 1} lines" in report, report
        for rel in ("src/lib/model/b.c", "src/basic/long.c", "src/lib/model/a.c"):
            os.unlink(os.path.join(d, rel))
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(d) == 0
    print("layout: self-test passed")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--self-test"]:
        sys.exit(self_test())
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else
                  os.path.join(os.path.dirname(__file__), "..", "..")))
