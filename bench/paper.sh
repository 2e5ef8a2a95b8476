#!/bin/sh
# bench/paper.sh — run the grid of the paper's Tables 1-3 and write bench/archive/PAPER.md.
#
#   bench/paper.sh [--scale default|large|full] [--rows all|needed|softmax|adaptive-goodness|
#                  sequential-goodness|NEG-CLASSIFIER-SCHEDULE] [--pff ./pff] [--report-only]
#                  [--dry-run] [--yes] [--runs DIR]
#
# Every row is one `pff train --json` run on the paper's network
# [784,2000,2000,2000,2000], batch 64, one epoch per chapter (the paper's 100
# epochs in 100 splits). Eight chapters at least: All Layers on 4 nodes makes a
# chapter's adaptive negatives 4 chapters earlier, so with 4 chapters or fewer
# it would never regenerate them.
#   {adaptive, random, fixed} x {goodness, softmax} x {sequential, single-layer, all-layers}
# Single Layer and All Layers run 4 nodes, as in the paper. A node stands for one of
# the paper's machines, so every node gets max(1, cores / 4) threads, and so does the
# sequential run at the default and large scales. On a 2-core machine that is 1 thread
# per node and the 4 node threads share 2 cores (--oversubscribe): a pipeline can then
# be at most 2x faster than sequential, where the paper's 4 machines allowed 4x. At the
# full scale the sequential run takes every core (as the rows made by hand before).
#
# Scales (images, epochs = chapters):
#   default   5,000 images, 8 epochs   the whole grid in about 45 minutes on 2 cores
#   large    20,000 images, 8 epochs   about 15 minutes a row at most on 2 cores
#   full     60,000 images, 100 epochs the paper's setting: 1 to 3 hours a row on 2 cores
#                                      (run it with --yes)
# Each row's JSON line is appended to bench/runs/paper/SCALE.jsonl (a row already there
# is not run again, so an interrupted grid continues where it stopped); then
# bench/archive/PAPER.md is rewritten from bench/archive/paper-notes.md and every results file.
# A full-scale row keeps its files in bench/runs/paper/full-NEG-CLASSIFIER-SCHEDULE.*
# (bench/resumable.sh: a checkpoint after every chapter; run the script again and the row
# continues from it, in this session or the next).
# --runs DIR keeps the rows' files in DIR instead (the tests' empty folder) and writes no report.
# --dry-run prints each row's command and changes no file, so it is safe beside a running row.
# --rows needed: the eight runs that give every row's accuracy. A softmax run trains the
# layers of the goodness run to the bit (DESIGN.md §2.6), and with fixed or random negatives
# Single Layer trains the model All Layers trains (§2.1), so the report fills those rows
# from them, marked as not run: the seven softmax runs that are left (--rows softmax) and
# Adaptive-NEG Goodness on Single Layer, which no softmax run stands for (with --fast node 0
# takes whatever negatives have arrived, and without the head they arrive sooner).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
scale=default rows=all pff=./pff report_only=0 dry=0 yes=0 runs=$here/runs/paper
while [ $# -gt 0 ]; do
    case $1 in
    --scale) scale=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    --pff) pff=$2; shift 2 ;;
    --report-only) report_only=1; shift ;;
    --dry-run) dry=1; shift ;;
    --yes) yes=1; shift ;;
    --runs) runs=$2; shift 2 ;;
    -h|--help) sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "paper.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case $scale in
default) limit=5000 epochs=8 ;;
large) limit=20000 epochs=8 ;;
full) limit=60000 epochs=100 ;;
*) echo "paper.sh: --scale must be default, large or full, not '$scale'" >&2; exit 2 ;;
esac
scheds="sequential single-layer all-layers"
case $rows in
all) negs="adaptive random fixed" classes="goodness softmax" ;;
softmax) negs="adaptive random fixed" classes=softmax ;;
needed) negs="adaptive random fixed" classes="softmax goodness" ;;
adaptive-goodness) negs=adaptive classes=goodness ;;
# the three negatives on Sequential: with fixed and random negatives every schedule
# gives the same model, so this is enough to order the negatives at a larger scale
sequential-goodness) negs="adaptive random fixed" classes=goodness scheds=sequential ;;
*-*-*) negs=${rows%%-*} classes=${rows#*-}; scheds=${classes#*-}; classes=${classes%%-*}
    case $negs in adaptive|random|fixed) ;;
    *) echo "paper.sh: --rows $rows: the negatives must be adaptive, random or fixed" >&2; exit 2 ;;
    esac
    case $classes in goodness|softmax) ;;
    *) echo "paper.sh: --rows $rows: the classifier must be goodness or softmax" >&2; exit 2 ;;
    esac
    case $scheds in sequential|single-layer|all-layers) ;;
    *) echo "paper.sh: --rows $rows: the schedule must be sequential, single-layer or all-layers" >&2; exit 2 ;;
    esac ;;
*) echo "paper.sh: --rows must be all, needed, softmax, adaptive-goodness, sequential-goodness or NEG-CLASSIFIER-SCHEDULE, not '$rows'" >&2; exit 2 ;;
esac

cores=$(nproc)
tpn=$((cores / 4)); [ "$tpn" -ge 1 ] || tpn=1
over=; [ $((4 * tpn)) -le "$cores" ] || over=--oversubscribe
[ $dry = 1 ] || mkdir -p "$runs"
results=$runs/$scale.jsonl

seqt=$tpn; [ $scale = full ] && seqt=$cores
if [ $scale = full ] && [ $yes = 0 ] && [ $report_only = 0 ]; then
    # full.jsonl's rows: 70-80 min (random, fixed) and 2.3 h (adaptive) for Sequential on 2 threads
    echo "paper.sh: --scale full trains 100 epochs of 60,000 images a row: on 2 cores about 70 to 80" >&2
    echo "  minutes with random or fixed negatives, 2 to 3 hours with adaptive ones; 8 runs" >&2
    echo "  (--rows needed) give every row's accuracy. Run again with --yes to start." >&2
    exit 2
fi
. "$here/resumable.sh"

run_row() { # neg classifier schedule
    key="\"neg\":\"$1\",\"classifier\":\"$2\",\"schedule\":\"$3\""
    if [ -f "$results" ] && grep -q "\"scale_row\":{$key}" "$results"; then
        echo "paper.sh: $scale $1 $2 $3: done already" >&2
        return
    fi
    # --rows softmax, needed: Single Layer with fixed or random negatives is All Layers' model (§2.1)
    if { [ "$rows" = softmax ] || [ "$rows" = needed ]; } && [ "$1" != adaptive ] && [ "$3" = single-layer ]; then
        echo "paper.sh: $scale $1 $2 $3: the model of all-layers, not run (--rows $rows)" >&2
        return
    fi
    # --rows needed: a goodness row has the layers of its softmax run (§2.6), but for adaptive
    # Single Layer (--fast: no two runs alike)
    if [ "$rows" = needed ] && [ "$2" = goodness ] && { [ "$1" != adaptive ] || [ "$3" != single-layer ]; }; then
        echo "paper.sh: $scale $1 $2 $3: the layers of the softmax run, not run (--rows needed)" >&2
        return
    fi
    case $3 in
    sequential) sched="--schedule sequential --threads $seqt" ;;
    single-layer) sched="--schedule single-layer --nodes 4 --threads $tpn $over"
        # the paper's Single Layer nodes take adaptive negatives as they arrive
        [ "$1" = adaptive ] && sched="$sched --fast" ;;
    all-layers) sched="--schedule all-layers --nodes 4 --threads $tpn $over" ;;
    esac
    args="--layers 784,2000,2000,2000,2000 --batch 64 --epochs $epochs --splits $epochs \
--train-limit $limit --neg $1 --classifier $2 $sched --seed 1"
    if [ $scale = full ]; then
        # hours: checkpointed, continued when the script runs again (bench/resumable.sh)
        name="full-$1-$2-$3"
        echo "paper.sh: $(date -u +%H:%M:%S) $scale: $name" >&2
        # shellcheck disable=SC2086
        RT_DRY=$dry resumable_train "$pff" "$runs" "$name" 1 0 $args || exit $?
        [ $dry = 1 ] && return
        cmd=$(sed -e ':a' -e 'N' -e '$!ba' -e 's/\n/ ; then /g' "$runs/$name.cmd")
        out=$(cat "$runs/$name.json")
    else
        cmd="$pff train $args --json --quiet"
        echo "paper.sh: $(date -u +%H:%M:%S) $scale: $cmd" >&2
        [ $dry = 1 ] && return
        out=$($cmd | tail -n 1)
    fi
    # one line per row: the row's key, the command, then pff's own JSON object
    printf '{"scale_row":{%s},"command":"%s","result":%s}\n' "$key" "$cmd" "$out" >>"$results"
}

if [ $report_only = 0 ]; then
    for neg in $negs; do
        for cls in $classes; do
            for sch in $scheds; do
                run_row "$neg" "$cls" "$sch"
            done
        done
    done
fi
[ $dry = 1 ] && exit 0
if [ "$runs" != "$here/runs/paper" ]; then
    echo "paper.sh: rows kept in $runs; no report (it reads bench/runs/paper)" >&2
    exit 0
fi
"$here/paper-report.sh" >"$here/archive/PAPER.md.tmp" && mv "$here/archive/PAPER.md.tmp" "$here/archive/PAPER.md"
echo "paper.sh: wrote bench/archive/PAPER.md" >&2
