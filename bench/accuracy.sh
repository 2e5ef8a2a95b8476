#!/bin/sh
# bench/accuracy.sh — test accuracy against training time on all 60,000 MNIST
# images, for a few named recipes; writes bench/ACCURACY.md and one PNG.
#
#   bench/accuracy.sh [--recipes default,paper-adaptive,...] [--epochs N]
#                     [--train-limit N] [--test-limit N] [--out DIR] [--pff ./pff]
#                     [--report-only] [--dry-run]
#
# Recipes (one `pff train --eval-every 1 --log` run each, one epoch per chapter):
#   default          pff train with no options (what `make run` runs)
#   paper-adaptive   the paper's network [784,2000,2000,2000,2000], batch 64,
#   paper-random     100 epochs in 100 chapters, Sequential, pff's learning rate
#   paper-fixed      and threshold, with each kind of negatives
#   best             the best recipe found: $BEST_ARGS (default: the paper's network,
#                    batch 64, 100 epochs in 100 chapters, adaptive negatives,
#                    --augment shift1 --dropout 0.1 --weight-decay 0.01;
#                    bench/accuracy-notes.md says why)
# --epochs N overrides every recipe's epochs (and chapters), --train-limit and
# --test-limit cut the data: both are for quick checks, and a report made with
# either says in its first line that it is a smoke run, not a result.
#
# Each run writes DIR/NAME.csv (the log: per chapter, the training seconds and
# the test accuracy), DIR/NAME.json (pff train --json) and, while it runs,
# DIR/NAME.ck (--checkpoint). A recipe whose JSON exists is not run again; one
# whose checkpoint exists continues with --resume, in a new log part
# (DIR/NAME.partK.csv), and the parts are joined with the seconds made
# cumulative (the unfinished chapter of an interrupted run is not counted).
# Then DIR/ACCURACY.md is written (DIR = bench by default: bench/ACCURACY.md)
# with the table, the commands, the machine (lscpu, pff --version) and the
# date, and DIR/accuracy.png drawn by `pff show --accuracy` with loeweX's
# measured curve and the paper's figures from bench/accuracy-reference.csv.
# A recipe's final model classified again with other goodness layers
# (`pff eval NAME.pff --goodness-from K --json > DIR/NAME.eval.json`) gets a row
# of its own below the recipe's; --goodness-from never changes the weights.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
recipes=default,paper-adaptive,paper-random,paper-fixed,best
epochs="" train_limit="" test_limit="" out="$here" pff=./pff report_only=0 dry=0
while [ $# -gt 0 ]; do
    case $1 in
    --recipes) recipes=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --train-limit) train_limit=$2; shift 2 ;;
    --test-limit) test_limit=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --pff) pff=$2; shift 2 ;;
    --report-only) report_only=1; shift ;;
    --dry-run) dry=1; shift ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "accuracy.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
for v in "$epochs" "$train_limit" "$test_limit"; do
    case $v in
    '') ;;
    *[!0-9]*|0) echo "accuracy.sh: --epochs, --train-limit and --test-limit take a positive integer, not '$v'" >&2; exit 2 ;;
    esac
done
[ -x "$pff" ] || { echo "accuracy.sh: no pff at $pff (run make, or give --pff)" >&2; exit 2; }
mkdir -p "$out"

PAPER_NET="--layers 784,2000,2000,2000,2000 --batch 64 --epochs 100 --splits 100"
BEST_ARGS=${BEST_ARGS:-$PAPER_NET --neg adaptive --augment shift1 --dropout 0.1 --weight-decay 0.01 --goodness-from 1}
# recipe_args NAME: the recipe's pff train options (before the overrides)
recipe_args() {
    case $1 in
    default) echo "" ;;
    paper-adaptive) echo "$PAPER_NET --neg adaptive" ;;
    paper-random) echo "$PAPER_NET --neg random" ;;
    paper-fixed) echo "$PAPER_NET --neg fixed" ;;
    best) echo "$BEST_ARGS" ;;
    *) return 1 ;;
    esac
}
names=$(echo "$recipes" | tr ',' ' ')
for r in $names; do
    recipe_args "$r" >/dev/null ||
        { echo "accuracy.sh: unknown recipe '$r' (default, paper-adaptive, paper-random, paper-fixed, best)" >&2; exit 2; }
done
data=""
[ -n "$train_limit" ] && data="$data --train-limit $train_limit"
[ -n "$test_limit" ] && data="$data --test-limit $test_limit"
over=""
[ -n "$epochs" ] && over="--epochs $epochs --splits $epochs"
smoke=0
[ -n "$epochs$train_limit$test_limit" ] && smoke=1

# join_log NAME: DIR/NAME.part*.csv -> DIR/NAME.csv, seconds cumulative over the parts
join_log() {
    parts="" k=1
    while [ -e "$out/$1.part$k.csv" ]; do parts="$parts $out/$1.part$k.csv"; k=$((k + 1)); done
    [ -n "$parts" ] || return 0
    # shellcheck disable=SC2086
    awk -F, -v OFS=, '
        FNR == 1 { for (i = 1; i <= NF; i++) { if ($i == "seconds") s = i; if ($i == "chapter") c = i }
                   if (!hdr) hdr = $0; first = -1; next }
        /^#/ || NF == 0 { next }
        {   ch = $c + 0
            if (first < 0) { first = ch; off = (ch > 1 && ((ch - 1) in secs)) ? secs[ch - 1] : 0 }
            if ($s != "") $s = sprintf("%.3f", $s + off)
            row[ch] = $0; secs[ch] = $s + 0; if (ch > max) max = ch
            for (k = ch + 1; k <= max; k++) delete row[k] # a later part redoes these
            if (ch < max) max = ch }
        END { print hdr; for (k = 1; k <= max; k++) if (k in row) print row[k] }' $parts >"$out/$1.csv.tmp"
    mv "$out/$1.csv.tmp" "$out/$1.csv"
}

run_recipe() {
    name=$1
    args=$(recipe_args "$name")
    json="$out/$name.json" ck="$out/$name.ck"
    if [ -s "$json" ]; then
        echo "== $name: done ($json)"
        return 0
    fi
    k=1
    while [ -e "$out/$name.part$k.csv" ]; do k=$((k + 1)); done
    if [ -e "$ck" ]; then
        cmd="$pff train --resume $ck$data --log $out/$name.part$k.csv --json"
    else
        rm -f "$out/$name".part*.csv
        k=1
        cmd="$pff train $args $over$data --eval-every 1 --checkpoint $ck --log $out/$name.part$k.csv --json"
    fi
    echo "== $name: $cmd"
    [ "$dry" = 1 ] && return 0
    # shellcheck disable=SC2086
    if $cmd >"$json.tmp"; then
        tail -n 1 "$json.tmp" >"$json"
        rm -f "$json.tmp" "$ck"
    else
        st=$?
        rm -f "$json.tmp"
        join_log "$name"
        echo "accuracy.sh: $name stopped (status $st); run the script again to continue from $ck" >&2
        exit "$st"
    fi
    join_log "$name"
}

trap 'rm -f "$out"/*.json.tmp' EXIT
if [ "$report_only" = 0 ]; then
    for r in $names; do run_recipe "$r"; done
fi
[ "$dry" = 1 ] && exit 0

# ---- the report ----
md="$out/ACCURACY.md" png="$out/accuracy.png"
logs=""
for r in $names; do [ -s "$out/$r.csv" ] && logs="$logs $r=$out/$r.csv"; done
[ -n "$logs" ] || { echo "accuracy.sh: no log in $out to report" >&2; exit 1; }
# shellcheck disable=SC2086
"$pff" show --accuracy "$png" $logs "$here/accuracy-reference.csv" >/dev/null
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
ncpu=$(nproc)
# json_field NAME KEY: a string or number field of DIR/NAME.json ("?" if absent)
json_field() {
    v=$(sed -n "s/.*\"$2\":\"\{0,1\}\([^\",}]*\).*/\1/p" "$out/$1.json" 2>/dev/null | head -n 1)
    echo "${v:-?}"
}
# summary NAME: | recipe | final % | seconds | best % (chapter) | time to 98% | time to 99% | BLAS, threads |
summary() {
    awk -F, -v name="$1" -v blas="$(json_field "$1" blas_core), $(json_field "$1" nodes)x$(json_field "$1" threads)" '
        FNR == 1 { for (i = 1; i <= NF; i++) { if ($i == "seconds") s = i; if ($i == "test_accuracy") a = i; if ($i == "chapter") c = i }; next }
        $a != "" { last = $a; t = $s; n = $c; if ($a > best) { best = $a; bc = $c }
                   if (t98 == "" && $a >= 98) t98 = $s; if (t99 == "" && $a >= 99) t99 = $s }
        END { printf "| %s | %.2f%% | %.1f | %d | %.2f%% (chapter %d) | %s | %s | %s |\n", name, last, t, n,
                     best, bc, t98 == "" ? "-" : sprintf("%.1f s", t98),
                     t99 == "" ? "-" : sprintf("%.1f s", t99), blas }' "$out/$1.csv"
}
# reevaluated NAME: the row of NAME's final model classified with --goodness-from K (NAME.eval.json)
reevaluated() {
    k=$(sed -n 's/.*"goodness_from":\([0-9]*\).*/\1/p' "$out/$1.eval.json")
    acc=$(sed -n 's/.*"goodness_accuracy":\([0-9.]*\).*/\1/p' "$out/$1.eval.json")
    awk -F, -v name="$1" -v k="$k" -v acc="$acc" -v blas="$(json_field "$1" blas_core), $(json_field "$1" nodes)x$(json_field "$1" threads)" '
        FNR == 1 { for (i = 1; i <= NF; i++) { if ($i == "seconds") s = i; if ($i == "chapter") c = i }; next }
        { t = $s; n = $c }
        END { printf "| %s, its final model classified by layers %s..L (`--goodness-from %s`) | %.2f%% | %.1f | %d | - | %s | %s | %s |\n",
                     name, k, k, acc, t, n, (acc >= 98 ? sprintf("<= %.1f s", t) : "-"),
                     (acc >= 99 ? sprintf("<= %.1f s", t) : "-"), blas }' "$out/$1.csv"
}
{
    if [ "$smoke" = 1 ]; then
        echo "# Accuracy against training time — SMOKE RUN, NOT A RESULT"
        echo
        echo "**This file comes from a quick check of bench/accuracy.sh** (overrides:"
        echo "\`$over$data\`). Its figures say nothing about pff's accuracy; the real report"
        echo "trains on all 60,000 images with every recipe's own epochs."
    else
        echo "# Accuracy against training time"
    fi
    echo
    echo "Made by \`bench/accuracy.sh\` on $(date -u +%Y-%m-%d) on a $ncpu-core machine ($cpu),"
    echo "$("$pff" --version). Test accuracy is the goodness classifier's on the"
    echo "${test_limit:-10,000} MNIST test images after every chapter (the default recipe trains 2 epochs a"
    echo "chapter, the paper's recipes 1; a run imported from elsewhere keeps its own evaluation interval,"
    echo "see its command below); seconds are the"
    echo "run's training time at the end of that chapter, the test evaluations left out."
    echo
    echo "| recipe | final accuracy | training seconds | chapters | best | time to 98% | time to 99% | BLAS core, nodes x threads |"
    echo "|---|---|---|---|---|---|---|---|"
    for r in default paper-adaptive paper-random paper-fixed best; do
        if [ -s "$out/$r.csv" ]; then summary "$r"; else echo "| $r | not run yet | | | | | | |"; fi
        [ -s "$out/$r.eval.json" ] && reevaluated "$r"
    done
    echo
    echo "References (\`bench/accuracy-reference.csv\`, drawn in the figure): loeweX/Forward-Forward,"
    echo "3x1000, 95.8 / 97.1 / 97.9 / 98.1 / 98.3% after 5 / 10 / 20 / 60 / 100 epochs, 57 minutes on"
    echo "a 2-core machine (epochs spread evenly over the time); the paper's Sequential rows:"
    echo "Adaptive-NEG Goodness 98.52% in 11,190.72 s, Random-NEG 98.33% in 7,178.71 s, Fixed-NEG"
    echo "97.95% in 7,143.28 s."
    echo
    echo "![accuracy against training seconds](accuracy.png)"
    echo
    echo "## Commands"
    echo
    echo '```sh'
    echo "bench/accuracy.sh --recipes $recipes$( [ -n "$epochs" ] && echo " --epochs $epochs")$data"
    for r in $names; do
        # a run made elsewhere (imported with its log and JSON) states its own command in NAME.cmd
        if [ -s "$out/$r.cmd" ]; then
            echo "# $r:"
            cat "$out/$r.cmd"
            [ -s "$out/$r.eval.cmd" ] && cat "$out/$r.eval.cmd"
        else
            echo "pff train $(recipe_args "$r") $over$data --eval-every 1 --checkpoint $r.ck --log $r.csv --json   # $r"
        fi
    done
    echo '```'
    echo
    echo "An interrupted run continues with \`pff train --resume NAME.ck\` (the script does this"
    echo "by itself when run again). The JSON of each run is in \`NAME.json\` beside this file."
    # notes written by hand (how the best recipe was found), kept beside the script
    if [ -s "$here/accuracy-notes.md" ]; then
        echo
        cat "$here/accuracy-notes.md"
    fi
} >"$md.tmp"
mv "$md.tmp" "$md"
echo "wrote $md and $png"
