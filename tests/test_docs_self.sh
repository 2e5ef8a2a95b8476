#!/bin/sh
# tests/test_docs_self.sh — tests/test_docs.py must fail where it should: on a scratch repository
# it passes a backed figure and refuses a figure (a percentage, a time, a ratio) without a data
# file, a figure its file does not hold and a broken link, in any folder's Markdown;
# bench/archive/ and bench/runs/ are exempt, and a "derived" figure needs its file named only.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fails=0
check() { # WANT(0|1) WHAT: run the checker on $d, compare its status
    git -C "$d" add -A
    python3 "$HERE/test_docs.py" "$d" >"$d.out" 2>&1
    rc=$?
    if [ "$rc" -eq "$1" ]; then
        echo "ok   $2"
    else
        echo "FAIL $2 (exit $rc, expected $1):"
        sed 's/^/     /' "$d.out"
        fails=$((fails + 1))
    fi
    rm -f "$d.out"
}
git -C "$d" init -q
mkdir -p "$d/layers" "$d/bench/archive" "$d/bench/runs/x"
printf 'setting,mean\nshift,72.73\ntime,12.5\n' >"$d/bench/runs/x/s.csv"
printf '# layers\n\n72.73%% in 12.5 s ([s.csv](../bench/runs/x/s.csv))\n' >"$d/layers/README.md"
check 0 "a figure on a line naming the file that holds it passes"
printf 'Unbacked: 98.76%% here.\n' >"$d/bench/archive/OLD.md"
printf 'Report: 98.76%%.\n' >"$d/bench/runs/x/REPORT.md"
check 0 "bench/archive/ and the reports under bench/runs/ are exempt"
printf 'Quoted: 98.38%% (the paper).\n' >>"$d/layers/README.md"
check 0 "a figure quoted from the paper passes"
printf 'Unbacked: 40.6 s.\n' >>"$d/layers/README.md"
check 1 "a time without a data file on its line fails"
sed -i '$d' "$d/layers/README.md"
printf 'Wrong: 72.74%% ([s.csv](../bench/runs/x/s.csv)).\n' >>"$d/layers/README.md"
check 1 "a figure its data file does not hold fails"
sed -i '$d' "$d/layers/README.md"
printf 'A step: 8.08 ms.\n' >>"$d/layers/README.md"
check 1 "a time in ms without a data file fails"
sed -i '$d' "$d/layers/README.md"
printf 'The step is 1.25x its roofline.\n' >>"$d/layers/README.md"
check 1 "a measured ratio without a data file fails"
sed -i '$d' "$d/layers/README.md"
printf 'The step is 1.25x its roofline (derived, [s.csv](../bench/runs/x/s.csv)); theta = 1.0 × width.\n' >>"$d/layers/README.md"
check 0 "a derived figure naming its file, and a definition, pass"
sed -i '$d' "$d/layers/README.md"
printf '[gone](../nowhere.md)\n' >>"$d/layers/README.md"
check 1 "a link to a file that is not tracked fails"
sed -i '$d' "$d/layers/README.md"
check 0 "the repository is clean again"
[ "$fails" -eq 0 ] && echo "test_docs_self: all passed" && exit 0
echo "test_docs_self: $fails failed"
exit 1
