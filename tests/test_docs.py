#!/usr/bin/env python3
"""tests/test_docs.py [ROOT] — the documents against the tree (make test runs it).

1. Links: every relative link [text](path) or [text](path#anchor) in a tracked Markdown file
   names a tracked file or folder, and an anchor names a heading of that Markdown file.
2. Design citations: every "DESIGN.md §N" or "§N.M" written after "DESIGN.md" in any tracked
   file names a section "## N." of DESIGN.md, and item M of that section's numbered list.
3. Figures: every accuracy (a percentage with decimals), every time (s, ms) and every measured
   ratio or rate with decimals (1.25x, 396.3 GFLOP/s, 74.8 GB/s) in a tracked Markdown file stands on a line that names a tracked data file (.json, .jsonl, .csv or .txt)
   holding that figure: the same number at the figure's precision. A figure quoted from
   elsewhere (the paper, another project) says so on its line with "the paper" or "(quoted". A
   figure computed from a file's numbers (a sum, a quotient) says "derived" on its line and still
   names the file; its value is not looked up.
   Exempt: bench/archive/ (earlier reports, marked there as not authoritative) and the reports
   under bench/runs/, which their scripts write from the files beside them.
Prints one line per failure and a summary; exits 1 when anything failed.
"""
import os
import re
import subprocess
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def tracked():
    out = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True, check=True)
    return [f for f in out.stdout.splitlines() if f]


FILES = tracked()
FILESET = set(FILES)
DIRS = {os.path.dirname(f) for f in FILES}
for f in list(DIRS):
    while f:
        f = os.path.dirname(f)
        DIRS.add(f)


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8", errors="replace") as fh:
        return fh.read()


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    h = re.sub(r"[`*_]", "", heading.strip().lower())
    h = re.sub(r"[^\w\- ]", "", h)
    return h.replace(" ", "-")


def anchors(md):
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", read(md), re.M)}


# ---- 1. links ----
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
links = 0
for md in (f for f in FILES if f.endswith(".md")):
    text = re.sub(r"```.*?```", "", read(md), flags=re.S)  # code blocks hold no links
    for m in LINK.finditer(text):
        target = m.group(1)
        if re.match(r"^[a-z]+:", target) or target.startswith("#") and not target[1:]:
            continue
        links += 1
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
        if full not in FILESET and full not in DIRS:
            fail(f"{md}: link to {target}: {full} is not a tracked file or folder")
        elif anchor and full.endswith(".md") and anchor not in anchors(full):
            fail(f"{md}: link to {target}: {full} has no heading for #{anchor}")

# ---- 2. DESIGN.md citations ----
design = read("DESIGN.md") if "DESIGN.md" in FILESET else ""
sections = {}
for m in re.finditer(r"^## (\d+)\.(.*?)(?=^## |\Z)", design, re.M | re.S):
    sections[m.group(1)] = {int(i) for i in re.findall(r"^(\d+)\. ", m.group(2), re.M)}
CITE = re.compile(r"DESIGN\.md[^§\n]{0,40}?§\s?(\d+)(?:\.(\d+))?((?:\s*(?:,|and|or)\s*§?\s?\d+(?:\.\d+)?)*)")
cites = 0
for f in FILES:
    if f.startswith(("bench/archive/",)) or not re.search(r"\.(c|h|md|sh|py|mk)$|^Makefile$", f):
        continue
    for m in CITE.finditer(read(f)):
        refs = [(m.group(1), m.group(2))] + re.findall(r"(\d+)(?:\.(\d+))?", m.group(3) or "")
        for sec, item in refs:
            cites += 1
            if sec not in sections:
                fail(f"{f}: cites DESIGN.md §{sec}, which has no section '## {sec}.'")
            elif item and int(item) not in sections[sec]:
                fail(f"{f}: cites DESIGN.md §{sec}.{item}, but §{sec} has no item {item}")

# ---- 3. figures in every tracked Markdown file but the archive and the written reports ----
FIGURE = re.compile(r"(\d[\d,]*\.\d+)\s?%|(\d[\d,]*(?:\.\d+)?)\s?m?s\b(?![\w-])"
                    r"|(\d[\d,]*\.\d+)(?:[x×]|\s?GFLOP/s|\s?GB/s)(?![\w-])")
DATA = re.compile(r"[\w./-]+\.(?:json|jsonl|csv|txt)\b")
NUM = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
figures = 0


def numbers(path):
    return [float(x) for x in NUM.findall(read(path))]


for md in (f for f in FILES if f.endswith(".md") and not f.startswith(("bench/archive/", "bench/runs/"))):
    in_code = False
    for lineno, line in enumerate(read(md).splitlines(), start=1):
        if line.startswith("```"):
            in_code = not in_code
        if in_code:
            continue
        plain = re.sub(r"`[^`]*`", "", line)  # code spans: flags and commands, not figures
        found = [(m.group(1) or m.group(2) or m.group(3)) for m in FIGURE.finditer(plain)]
        if not found or "the paper" in line or "(quoted" in line:
            continue
        data = []
        for d in DATA.findall(re.sub(r"\[[^\]]*\]\(", "(", line)):  # link targets, not link texts
            full = os.path.normpath(os.path.join(os.path.dirname(md), d))
            if full in FILESET:
                data.append(full)
            else:
                fail(f"{md}:{lineno}: names {d}, which is not a tracked file")
        for fig in found:
            figures += 1
            if not data:
                fail(f"{md}:{lineno}: the figure {fig} names no data file on its line")
                continue
            if "derived" in line:
                continue
            value = float(fig.replace(",", ""))
            places = len(fig.split(".")[1]) if "." in fig else 0
            if not any(round(x, places) == value for d in data for x in numbers(d)):
                fail(f"{md}:{lineno}: the figure {fig} is in none of {', '.join(data)}")

print(f"test_docs: {links} links, {cites} DESIGN.md citations, {figures} figures; "
      f"{len(failures)} failed")
sys.exit(1 if failures else 0)
