#!/usr/bin/env python3
# tests/layout_check.py -- the tree keeps the shape docs/architecture.md describes: no include
# cycle between modules (tools/include-cycles, checked on the tree and on made-up cycles it
# must find) and no folder of a tool's code above 15 C files.
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHECK = os.path.join(ROOT, "tools", "include-cycles")
MAX_C_FILES = 15
failures = []


def run(*dirs):
    res = subprocess.run([CHECK, *dirs], capture_output=True, text=True, timeout=60)
    return res.returncode, res.stdout + res.stderr


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def expect(cond, what):
    if not cond:
        failures.append(what)


# The tree itself.
code, out = run()
expect(code == 0, "tools/include-cycles on the tree: exit %d\n%s" % (code, out))

with tempfile.TemporaryDirectory() as tmp:
    # Two modules in two role folders that include each other's header: a cycle.
    tool = os.path.join(tmp, "tool")
    write(os.path.join(tool, "a", "alpha.h"), '#include "beta.h"\n')
    write(os.path.join(tool, "a", "alpha.c"), '#include "alpha.h"\n')
    write(os.path.join(tool, "b", "beta.h"), "int beta(void);\n")
    write(os.path.join(tool, "b", "beta.c"), '#include "beta.h"\n#include "gamma.h"\n')
    write(os.path.join(tool, "gamma.h"), "int gamma(void);\n")
    write(os.path.join(tool, "gamma.c"), '#include "gamma.h"\n#include "alpha.h"\n')
    code, out = run(tool)
    expect(code == 1, "a three-module cycle: exit %d, expected 1\n%s" % (code, out))
    expect("alpha -> beta -> gamma -> alpha" in out, "the cycle is not named:\n%s" % out)
    # Cut it (gamma no longer includes alpha): no cycle, exit 0.
    write(os.path.join(tool, "gamma.c"), '#include "gamma.h"\n')
    code, out = run(tool)
    expect(code == 0, "no cycle left: exit %d, expected 0\n%s" % (code, out))

# No folder of a tool's code holds more than MAX_C_FILES C files.
for top in ("common", "server", "client", "loadgen"):
    for folder, _, names in os.walk(os.path.join(ROOT, top)):
        count = sum(name.endswith(".c") for name in names)
        expect(count <= MAX_C_FILES, "%s holds %d C files (at most %d: split it by role)"
               % (os.path.relpath(folder, ROOT), count, MAX_C_FILES))

for failure in failures:
    print("FAIL: " + failure)
print("layout: %d checks failed" % len(failures) if failures else "layout: ok")
sys.exit(1 if failures else 0)
