#!/usr/bin/env python3
"""tests/test_layout.py [ROOT] — the README's Layout block against the tree.

The block (the code block after "## Layout" in README.md) has one line per
top-level file and folder; the files of the folders in LISTED follow
their folder's line, indented. "x.c, .h" names x.c and x.h. This test fails
when a tracked file of those places is not named in its section, when the
block names a file that is not there, or when a top-level folder has no line.
tests/ and bench/ get one line each (their own READMEs list their files).
"""
import os
import re
import subprocess
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
LISTED = ("cli", "layers", "pipeline", "data", "draw", "setup")  # folders whose files the block lists
FILE = re.compile(r"^[\w.+-]+\.(?:c|h|md|sh|sha256|1|in|mk)$|^Makefile$")

failed = 0


def check(ok, what):
    global failed
    print(("ok   " if ok else "FAIL ") + what)
    failed += not ok


def names_in(text):
    """File names a line of the block mentions, with the ", .h" shorthand expanded."""
    out = set()
    words = re.findall(r"[\w.+/-]+", text)
    for i, w in enumerate(words):
        if w == ".h" and i > 0 and words[i - 1].endswith(".c"):
            out.add(words[i - 1][:-2] + ".h")
            continue
        w = w.strip(".,:;()")
        if FILE.match(w):
            out.add(w)
    return out


readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
m = re.search(r"^## Layout\n.*?^```\n(.*?)^```", readme, re.S | re.M)
if not m:
    print("FAIL README.md has no Layout code block")
    sys.exit(1)

sections = {"": set()}  # "" = the top level
folders = set()
current = ""
for line in m.group(1).splitlines():
    if not line.strip():
        continue
    head, _, desc = line.partition("  ")
    if not line.startswith(" "):
        current = ""
        if head.endswith("/"):
            folders.add(head.rstrip("/"))
            current = head.rstrip("/")
            sections.setdefault(current, set()).update(names_in(desc))
            continue
        sections[""] |= names_in(head)
    else:
        sections.setdefault(current, set()).update(names_in(line))

tracked = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True,
                         check=True).stdout.split()
top_files = {f for f in tracked if "/" not in f and not f.startswith(".")}
top_dirs = {f.split("/")[0] for f in tracked if "/" in f and not f.startswith(".")}

for f in sorted(top_files):
    check(f in sections[""], "top level: %s has its line" % f)
for d in sorted(top_dirs):
    check(d in folders, "folder %s/ has its line" % d)
for d in LISTED:
    have = {f.split("/", 1)[1] for f in tracked if f.startswith(d + "/") and f.count("/") == 1}
    named = sections.get(d, set())
    for f in sorted(have):
        check(f in named, "%s/%s is named under %s/" % (d, f, d))
    for f in sorted(named - have):
        check(False, "%s/ names %s, which is not in the tree" % (d, f))
for f in sorted(sections[""] - top_files):
    check(False, "the top level names %s, which is not in the tree" % f)

print("test_layout: %d failed" % failed)
sys.exit(1 if failed else 0)
