#!/bin/sh
# bench/accuracy.sh — accuracy a reviewer can accept: every choice made on a validation split,
# the chosen recipe reported on the test set as the mean ± sd of several seeds.
#
#   bench/accuracy.sh [--group default|large] [--seeds N] [--sel-seeds N] [--time-limit S]
#                     [--only-seed S] [--report-only] [--force] [--out DIR] [--pff ./pff]
#                     [--smoke] [--dry-run]
#
# 1. Selection. Every candidate recipe of the group trains on 50,000 training images with
#    `--val 10000` (the 10,000 others, held out by pff's fixed key: DESIGN.md §6) and saves its
#    model, once per selection seed (--sel-seeds; seed 1 is sel-NAME, seed s > 1 sel-NAME-sS);
#    `pff eval --val 10000 --per-layer` then scores every goodness classifier rule (layers K..L,
#    K = 1..L) on the same validation images. The rule, fixed before the runs it judges:
#      - a recipe is eligible when its median training time over the selection seeds, scaled
#        to 60,000 images (train_seconds x 60,000 / train_n), is within --time-limit (the
#        default group: 60 s, the minute `pff train` must keep; large: no limit);
#      - among eligible recipes, the (recipe, K) of highest mean validation accuracy over the
#        selection seeds wins; ties go to the earlier recipe, then to the paper's rule (K = 2).
#    The test set is never read in this step.
# 2. Seeds. The winner, with --goodness-from K, trains on all 60,000 images with seeds 1..N
#    (default 3) and `--test`: the test set is measured once, at the end of each run.
# 3. Report. OUT/selection.csv (one row per recipe and rule: the mean, sd and every seed's
#    validation accuracy, the median and scaled seconds, eligible or not), OUT/seeds.csv (one row per seed),
#    OUT/summary.json (the winner, test mean and sd, median seconds, the machine) and
#    OUT/REPORT.md (the same in words, with the commands). Seeds not trained yet are left out
#    and the report says "k of N seeds": a partial result, not the mean of N.
#
# A large group's seed takes longer than some sessions: --only-seed S trains seed S alone (after
# the selection, which is kept) and reports every seed trained so far; --report-only trains
# nothing and rewrites the report from the files there.
#
# Groups (OUT defaults to bench/runs/accuracy/GROUP):
#   default  recipes that train in about a minute on 2 cores (what `pff train` should be);
#            3 selection seeds, a 60 s limit
#   large    the paper's network [784,2000,2000,2000,2000] with regularisation: hours per run;
#            1 selection seed (one candidate), no limit
# A large run writes a checkpoint (NAME.ck) after every chapter and continues from it when the
# script is run again (bench/resumable.sh; its JSON then holds train_seconds_total, every part's
# seconds). Every run keeps NAME.cmd (the commands), NAME.json (pff train --json), NAME.csv
# (--log) and, for selection runs, NAME.eval.json (pff eval --json). A run whose JSON exists is
# not run again: the script says "kept" and names the file; --force runs everything again.
# Models (NAME.pff) are written beside them and not committed (the commands remake them).
# --smoke cuts every run to a few thousand images and 2 epochs, to check the script, and drops
# the time limit unless --time-limit is given; its report says so in its first line. --dry-run
# prints the commands only.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
group=default seeds=3 sel_seeds="" limit_s="" force=0 out="" pff=./pff smoke=0 dry=0 only="" report_only=0
while [ $# -gt 0 ]; do
    case $1 in
    --group) group=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --sel-seeds) sel_seeds=$2; shift 2 ;;
    --time-limit) limit_s=$2; shift 2 ;;
    --only-seed) only=$2; shift 2 ;;
    --report-only) report_only=1; shift ;;
    --force) force=1; shift ;;
    --out) out=$2; shift 2 ;;
    --pff) pff=$2; shift 2 ;;
    --smoke) smoke=1; shift ;;
    --dry-run) dry=1; shift ;;
    -h|--help) sed -n '2,45p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "accuracy.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
case $seeds in ''|*[!0-9]*|0) echo "accuracy.sh: --seeds takes a positive integer, not '$seeds'" >&2; exit 2 ;; esac
case $only in ''|[1-9]|[1-9][0-9]) ;; *) echo "accuracy.sh: --only-seed takes a seed 1..$seeds, not '$only'" >&2; exit 2 ;; esac
[ -z "$only" ] || [ "$only" -le "$seeds" ] || { echo "accuracy.sh: --only-seed $only: above --seeds $seeds" >&2; exit 2; }
[ -x "$pff" ] || { echo "accuracy.sh: no pff at $pff (run make, or give --pff)" >&2; exit 2; }
out=${out:-$here/runs/accuracy/$group}

PAPER_NET="--layers 784,2000,2000,2000,2000 --batch 64 --epochs 100 --splits 100"
REG="--augment shift1 --dropout 0.1 --weight-decay 0.01"
# candidates: one "NAME ARGS..." per line, in order of preference for ties
case $group in
default)
    candidates="base
lr2 --lr 0.002
shift1 --augment shift1
reg $REG"
    group_sel_seeds=3 group_limit=60 defaults=base ;;
large)
    candidates="paper-adaptive-reg $PAPER_NET --neg adaptive $REG"
    group_sel_seeds=1 group_limit=0 defaults="" ;;
*) echo "accuracy.sh: unknown group '$group' (default, large)" >&2; exit 2 ;;
esac
sel_seeds=${sel_seeds:-$group_sel_seeds}
case $sel_seeds in ''|*[!0-9]*|0) echo "accuracy.sh: --sel-seeds takes a positive integer, not '$sel_seeds'" >&2; exit 2 ;; esac
# --time-limit: seconds on 60,000 images, 0 for none; a smoke run has none unless it is given
[ -n "$limit_s" ] || { [ "$smoke" = 1 ] && limit_s=0; } || limit_s=$group_limit
python3 -c 'import sys; assert float(sys.argv[1]) >= 0' "$limit_s" 2>/dev/null ||
    { echo "accuracy.sh: --time-limit takes seconds >= 0 (0: no limit), not '$limit_s'" >&2; exit 2; }

VAL=10000 SMOKE=""
if [ "$smoke" = 1 ]; then
    VAL=1000 SMOKE="--train-limit 6000 --test-limit 2000 --epochs 2 --splits 2"
fi
mkdir -p "$out"

# train NAME ARGS...: pff train ARGS into OUT/NAME.{json,csv,cmd,pff} (bench/resumable.sh); the
# large group's runs write a checkpoint and continue from it when the script is run again
. "$here/resumable.sh"
train() {
    run=$1; shift
    RT_DRY=$dry resumable_train "$pff" "$out" "$run" "$([ "$group" = large ] && echo 1 || echo 0)" "$force" "$@" ||
        exit $?
}

# ---- 1. selection on the validation set ----
# sel_runs: "NAME RUN ARGS..." per line, every candidate once per selection seed (the one place
# that names the runs; the selection below groups them by NAME)
sel_runs=$(echo "$candidates" | while read -r name args; do
    s=1
    while [ "$s" -le "$sel_seeds" ]; do
        if [ "$s" = 1 ]; then echo "$name sel-$name $args"; else echo "$name sel-$name-s$s --seed $s $args"; fi
        s=$((s + 1))
    done
done)
[ "$report_only" = 1 ] || echo "$sel_runs" | while read -r _ run args; do
    # shellcheck disable=SC2086
    train "$run" $args $SMOKE --val $VAL
    [ "$dry" = 1 ] && continue
    ev="$out/$run.eval.json"
    limit=""
    [ "$smoke" = 1 ] && limit="--train-limit 6000"
    cmd="pff eval $run.pff --val $VAL $limit --per-layer --json"
    if [ -s "$ev" ] && [ "$force" = 0 ]; then
        echo "== $run: kept $ev"
    elif [ -e "$out/$run.pff" ]; then
        # shellcheck disable=SC2086
        # the JSON names the model as the command does: by its name in OUT, not by a path here
        "$pff" eval "$out/$run.pff" --val $VAL $limit --per-layer --json |
            python3 -c 'import json, sys; d = json.load(sys.stdin); d["model"] = sys.argv[1]; print(json.dumps(d, separators=(",", ":")))' \
                "$run.pff" >"$ev.tmp" && mv "$ev.tmp" "$ev"
        echo "$cmd" >>"$out/$run.cmd"
    else
        echo "accuracy.sh: $run.pff is missing (the JSON was kept from an earlier run); --force remakes it" >&2
        exit 1
    fi
done
[ "$dry" = 1 ] && exit 0

# selection.csv: one row per recipe and rule K, the mean over the selection seeds; the rule is
# the header's (eligible by scaled median time, then the highest mean, ties as listed there)
[ "$report_only" = 1 ] || python3 - "$out" "$candidates" "$sel_runs" "$limit_s" <<'EOF'
import csv, json, statistics, sys
out, cands = sys.argv[1], [l.split(None, 1) for l in sys.argv[2].splitlines() if l.strip()]
runs_of = {}
for line in sys.argv[3].splitlines():
    runs_of.setdefault(line.split()[0], []).append(line.split()[1])
limit = float(sys.argv[4])
rows, best = [], None
for name, *rest in cands:
    args = rest[0] if rest else ""
    runs = runs_of[name]
    evals = [json.load(open(f"{out}/{r}.eval.json"))["per_layer"]["from"] for r in runs]
    trains = [json.load(open(f"{out}/{r}.json")) for r in runs]
    secs = statistics.median(t["train_seconds"] for t in trains)
    scaled = statistics.median(t["train_seconds"] * 60000 / t["train_n"] for t in trains)
    eligible = limit == 0 or scaled <= limit
    for k in range(1, len(evals[0]) + 1):
        accs = [e[k - 1] for e in evals]
        mean = statistics.mean(accs)
        sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
        rows.append([name, args, k, mean, sd, accs, secs, scaled, eligible])
        key = (round(mean, 6), k == 2)   # ties: the earlier recipe (strict >), then the paper's rule
        if eligible and (best is None or key > best[0]):
            best = (key, name, args, k, mean)
if best is None:
    sys.exit(f"accuracy.sh: no candidate trains within --time-limit {limit:g} s (scaled to 60,000 "
             f"images): {', '.join(f'{r[0]} {r[7]:.1f} s' for r in rows if r[2] == 1)}")
with open(f"{out}/selection.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")  # options hold commas (--layers): quoted
    w.writerow(["recipe", "args", "goodness_from", "val_accuracy", "val_accuracy_sd", "val_accuracies",
                "train_seconds_median", "seconds_60000", "eligible", "chosen"])
    for name, args, k, mean, sd, accs, secs, scaled, eligible in rows:
        w.writerow([name, args, k, f"{mean:.4f}", f"{sd:.4f}", " ".join(f"{a:.2f}" for a in accs),
                    f"{secs:.3f}", f"{scaled:.3f}", int(eligible), int(name == best[1] and k == best[3])])
with open(f"{out}/chosen.txt", "w") as f:
    f.write(f"{best[1]}\t{best[3]}\t{best[2]}\n")
print(f"== chosen on validation: {best[1]} ({best[2] or 'the defaults'}), goodness of layers {best[3]}..L: "
      f"{best[4]:.2f}% (mean of {len(runs)} seed{'s' if len(runs) > 1 else ''})")
EOF

# ---- 2. seeds on all 60,000 images, the test set measured once per run ----
# The default group also trains pff train's own defaults (DESIGN.md §1 fixes two of them: no
# augmentation, goodness of layers 2..L) with the same seeds, whatever won: the figure a user of
# plain `pff train` gets, beside the winner's.
IFS="$(printf '\t')" read -r win K wargs <"$out/chosen.txt"
seed_runs="$win $K $wargs"
[ -z "$defaults" ] || [ "$win $K" = "$defaults 2" ] || seed_runs="$seed_runs
$defaults 2"
[ "$report_only" = 1 ] || echo "$seed_runs" | while read -r name k args; do
    s=1
    while [ "$s" -le "$seeds" ]; do
        if [ -z "$only" ] || [ "$s" = "$only" ]; then
            # shellcheck disable=SC2086
            train "seed-$name-k$k-s$s" $args --goodness-from $k --seed $s $SMOKE --test
        fi
        s=$((s + 1))
    done
done

# ---- 3. the report ----
python3 - "$out" "$win" "$K" "$wargs" "$seeds" "$smoke" "$limit_s" "$defaults" "$("$pff" --version)" \
    "$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1) (family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p'))" \
    "$(nproc)" "$(git -C "$out" rev-parse --short HEAD 2>/dev/null || git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'EOF'
import csv, json, os, statistics, sys, datetime
out, win, K, wargs, seeds, smoke, limit, defaults, version, cpu, ncpu, commit = sys.argv[1:13]
K, seeds = int(K), int(seeds)

def seed_runs(name, k, csv_name):
    """The seeds of (recipe, K) trained so far: seed numbers, JSONs, test accuracies, seconds;
    written to OUT/csv_name, one row per seed."""
    done = [s for s in range(1, seeds + 1) if os.path.exists(f"{out}/seed-{name}-k{k}-s{s}.json")]
    runs = [json.load(open(f"{out}/seed-{name}-k{k}-s{s}.json")) for s in done]
    with open(f"{out}/{csv_name}", "w") as f:
        f.write("seed,test_accuracy,train_seconds,blas_core,threads,json\n")
        for s, r in zip(done, runs):
            f.write(f"{s},{r['test_accuracy']:.4f},{r['train_seconds']:.3f},{r['blas_core']},{r['threads']},"
                    f"seed-{name}-k{k}-s{s}.json\n")
    acc = [r["test_accuracy"] for r in runs]
    sec = [r.get("train_seconds_total", r["train_seconds"]) for r in runs]  # a resumed run: all its parts
    return done, runs, acc, sec

def n_of(done):
    return f"{len(done)} of {seeds} seeds" if len(done) < seeds else f"{seeds} seeds"

def figures(done, acc, sec):
    """What summary.json holds of a set of seeds."""
    return {"seeds_done": done, "test_accuracy_mean": round(statistics.mean(acc), 4),
            "test_accuracy_sd": round(statistics.stdev(acc), 4) if len(acc) > 1 else 0.0,
            "test_accuracy": acc, "train_seconds_median": round(statistics.median(sec), 3),
            "train_seconds": sec}

def sentence(done, runs, acc, sec):
    sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
    spread = f" ± {sd:.2f}%** (mean ± sd of {n_of(done)}: " if len(done) > 1 else "%** (one seed: "
    return (f"**test accuracy {statistics.mean(acc):.2f}{spread}" + ", ".join(f"{a:.2f}" for a in acc)
            + f"); training {statistics.median(sec):.1f} s (median; {', '.join(f'{x:.1f}' for x in sec)} s; "
            f"`train_seconds` excludes evaluation), BLAS {runs[0]['blas_core']}, {runs[0]['threads']} threads.\n\n")

done, runs, acc, sec = seed_runs(win, K, "seeds.csv")
if not done:
    sys.exit(f"accuracy.sh: no seed of {win} (K = {K}) is trained yet in {out}: nothing to report")
partial = len(done) < seeds
ref = seed_runs(defaults, 2, "defaults.csv") if defaults else None
# selection.csv by column name: files written before --sel-seeds have no sd, seeds or seconds
sel = list(csv.DictReader(open(f"{out}/selection.csv")))
nsel = len(sel[0].get("val_accuracies", "x").split())
with open(f"{out}/REPORT.md", "w") as f:
    if smoke == "1":
        f.write("# SMOKE RUN, NOT A RESULT\n\nMade by `bench/accuracy.sh --smoke`: a few thousand images, 2 epochs.\n\n")
    f.write(f"# Accuracy: the `{out.rstrip('/').split('/')[-1]}` group\n\n")
    f.write(f"Made by `bench/accuracy.sh` on {datetime.date.today()} on a {ncpu}-core {cpu}, {version}, "
            f"commit {commit} (the script's own; the runs were made by the pff in use then).\n\n")
    first = json.load(open(f"{out}/sel-{sel[0]['recipe']}.json"))  # the images every selection run had
    f.write(f"## Chosen on the validation set\n\nEach recipe trained on {first['train_n']:,} images with "
            f"`--val {first['val_n']}`"
            + (f", seeds 1..{nsel}" if nsel > 1 else "") + "; every classifier rule (goodness of layers K..L) "
            f"scored on the {first['val_n']:,} held-out images ([selection.csv](selection.csv), from each "
            "`sel-NAME*.eval.json`). The rule, fixed before these runs: "
            + (f"among the recipes whose median training time, scaled to 60,000 images, is within "
               f"{float(limit):g} s, " if float(limit) > 0 else "with no time limit, ")
            + "the highest mean validation accuracy wins (ties: the earlier recipe, then K = 2).\n\n")
    timed = "seconds_60000" in sel[0]
    f.write("| recipe | options | K | validation accuracy |"
            + (" each seed | s, 60,000 images | within limit |\n|---|---|---|---|---|---|---|\n" if timed
               else "\n|---|---|---|---|\n"))
    for r in sel:
        mark = " **chosen**" if r["chosen"] == "1" else ""
        va = f"{float(r['val_accuracy']):.2f}%"
        if timed and nsel > 1:
            va += f" ± {float(r['val_accuracy_sd']):.2f}"
        f.write(f"| {r['recipe']}{mark} | `{r['args'] or '(defaults)'}` | {r['goodness_from']} | {va} |")
        if timed:
            f.write(f" {r['val_accuracies']} | {float(r['seconds_60000']):.1f} | "
                    f"{'yes' if r['eligible'] == '1' else 'no'} |")
        f.write("\n")
    f.write(f"\n## Reported on the test set\n\n`pff train {wargs} --goodness-from {K} --seed S --test` "
            f"on all {runs[0]['train_n']:,} training images, seeds {', '.join(map(str, done))} ([seeds.csv](seeds.csv)):\n\n")
    if partial:
        f.write(f"**Partial: {n_of(done)} trained so far**; the mean of {seeds} is not known yet.\n\n")
    f.write(sentence(done, runs, acc, sec))
    if ref and ref[0]:
        f.write(f"## `pff train` as it is\n\nThe defaults (`{defaults}`, goodness of layers 2..L: DESIGN.md §1 "
                "fixes no augmentation and that rule), trained with the same seeds whatever won "
                f"([defaults.csv](defaults.csv)):\n\n" + sentence(*ref))
    f.write("Every command that made these files is in its `NAME.cmd`.\n")
summary = {"recipe": win, "args": wargs, "goodness_from": K, "seeds": seeds, "smoke": smoke == "1",
           "partial": partial, **figures(done, acc, sec),
           "blas_core": runs[0]["blas_core"], "threads": runs[0]["threads"],
           "cpu": cpu, "cores": int(ncpu), "pff": version, "date": str(datetime.date.today()),
           "commit": commit,
           "selection_seeds": nsel, "time_limit_seconds": float(limit),
           "val_accuracy_chosen": max(float(r["val_accuracy"]) for r in sel if r["chosen"] == "1")}
if ref and ref[0]:
    rdone, _, racc, rsec = ref
    summary["defaults"] = {"recipe": defaults, "goodness_from": 2, **figures(rdone, racc, rsec)}
with open(f"{out}/summary.json", "w") as f:
    json.dump(summary, f)
    f.write("\n")
print(f"== test accuracy {summary['test_accuracy_mean']:.2f} +- {summary['test_accuracy_sd']:.2f}% "
      f"over {n_of(done)}; wrote {out}/REPORT.md")
EOF
