#!/bin/sh
# tests/test_cli.sh PFF — the command line: bad input exits 2 with one clear
# message naming the flag or file and leaves no file behind; --json prints
# exactly one JSON object; eval and info read what train saved.
set -u
PFF=${1:-./pff}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
SMALL="--layers 784,20,20 --epochs 1 --splits 1 --train-limit 300 --test-limit 200 --quiet"

# expect STATUS NEEDLE ARGS...: exit status and a stderr message containing NEEDLE
expect() {
    want=$1 needle=$2
    shift 2
    "$PFF" "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" != "$want" ] || ! grep -q -- "$needle" "$T/err"; then
        echo "FAIL: pff $* -> status $got (want $want), stderr: $(cat "$T/err")"
        fails=$((fails + 1))
    else
        echo "ok   [$got] pff $*: $(head -c 150 "$T/err" | tr '\n' ' ')"
    fi
}

expect 2 "usage" 
expect 2 "unknown command" frobnicate
expect 2 "did you mean --epochs" train --epoch 3
expect 2 "unknown option --wibble" train --wibble
expect 2 "'abc' is not an integer" train --epochs abc
expect 2 "'-1' is not an integer" train --epochs -1
expect 2 "'0' is not an integer" train --epochs=0
expect 2 "not an integer" train --epochs 99999999999999999999
expect 2 "needs a value" train --epochs
expect 2 "multiple of splits" train $SMALL --epochs 3 --splits 2
expect 2 "input width 100" train --layers 100,10
expect 2 "list of" train --layers 784,,10
expect 2 "list of" train --layers 784,-5
expect 2 "at least one layer" train --layers 784
expect 2 "use --nodes 2" train $SMALL --schedule single-layer --nodes 3 --oversubscribe
expect 2 "not one of" train --schedule diagonal
expect 2 "not one of" train --neg clever
expect 2 "not one of" train --classifier knn
expect 2 "not one of" train --transport pigeon
if "$PFF" --version | grep -q "MPI: no"; then
    expect 2 "rebuild with make MPI=1" train $SMALL --transport mpi --save "$T/never.bin"
fi
expect 2 "not a positive number" train --lr 0
expect 2 "not a positive number" train --lr nan
expect 2 "not a positive number" train --threshold -1
expect 2 "not a non-negative integer" train --seed -3
expect 2 "oversubscribe" train $SMALL --schedule all-layers --nodes 8 --threads 8
expect 2 "sequential schedule runs on 1 node" train $SMALL --nodes 2
expect 2 "--fast applies" train $SMALL --fast
expect 2 "--shards applies" train $SMALL --shards iid
expect 2 "GiB" train --layers 784,2000000000 --train-limit 1000
expect 2 "make data" train --data "$T/nowhere"
expect 2 "takes no value" train --json=yes
expect 2 "cannot create" train $SMALL --save "$T/missing/dir/m.pff"
[ -e "$T/missing" ] && { echo "FAIL: a failed save left files"; fails=$((fails + 1)); }
# every output path is checked before the data is even read (so before any training):
# a directory, or a place under a regular file (unwritable, also for root)
mkdir -p "$T/outdir"
printf 'x' >"$T/plain"
expect 2 "--save $T/outdir: is a directory" train $SMALL --data "$T/nowhere" --save "$T/outdir"
expect 2 "--checkpoint $T/outdir: is a directory" train $SMALL --data "$T/nowhere" --checkpoint "$T/outdir"
expect 2 "--save $T/plain/m.pff: cannot create" train $SMALL --data "$T/nowhere" --save "$T/plain/m.pff"
expect 2 "--checkpoint $T/plain/r.ck: cannot create" train $SMALL --data "$T/nowhere" --checkpoint "$T/plain/r.ck"
expect 2 "--log $T/outdir: is a directory" train $SMALL --data "$T/nowhere" --log "$T/outdir"
[ -z "$(ls -A "$T/outdir")" ] && [ "$(cat "$T/plain")" = x ] ||
    { echo "FAIL: a refused output left files: $(ls -A "$T/outdir")"; fails=$((fails + 1)); }
expect 2 "list of" train --layers 784,32,
# a non-finite loss (lr 1e36) stops every schedule with status 1, and says so: layer,
# chapter and "not finite" (it once said "out of memory")
for sched in sequential "single-layer --oversubscribe" "all-layers --nodes 2" "federated --nodes 2"; do
    "$PFF" train --layers 784,128,128,128 --epochs 2 --splits 2 --train-limit 2000 --test-limit 200 \
        --lr 1e36 --threads 1 --quiet --schedule $sched --save "$T/nan.pff" >/dev/null 2>"$T/err"
    st=$?
    if [ $st = 1 ] && grep -q "layer [0-9]*, chapter [0-9]*.*not finite" "$T/err" &&
        ! grep -q "out of memory" "$T/err" && [ ! -e "$T/nan.pff" ]; then
        echo "ok   [1] --lr 1e36 --schedule $sched: $(head -c 120 "$T/err")"
    else
        echo "FAIL: --lr 1e36 --schedule $sched: status $st: $(cat "$T/err")"
        fails=$((fails + 1))
    fi
done
expect 2 "cannot open" eval "$T/none.pff"
printf 'not a model at all' >"$T/junk.pff"
expect 2 "bad magic" eval "$T/junk.pff"
expect 2 "bad magic" info "$T/junk.pff"
expect 2 "expected one MODEL" info

# a real run: exactly one JSON line on stdout, then eval and info on the model
if "$PFF" train $SMALL --epochs=2 --splits=2 --save "$T/m.pff" --json >"$T/out" 2>"$T/err"; then
    lines=$(wc -l <"$T/out")
    if [ "$lines" != 1 ] || ! grep -q '^{"layers":.*"schedule":"sequential".*"goodness_accuracy":[0-9.]*.*"softmax_accuracy":null.*}$' "$T/out"; then
        echo "FAIL: --json output: $(cat "$T/out")"; fails=$((fails + 1))
    else
        echo "ok   train --json: one JSON line"
    fi
    for key in schedule nodes threads layers epochs splits batch neg classifier seed train_n test_n \
        train_seconds neg_seconds eval_seconds goodness_accuracy softmax_accuracy test_accuracy gflops peak_rss_mb; do
        grep -q "\"$key\":" "$T/out" || { echo "FAIL: JSON lacks $key"; fails=$((fails + 1)); }
    done
    acc=$(sed 's/.*"goodness_accuracy":\([0-9.]*\).*/\1/' "$T/out")
    "$PFF" eval "$T/m.pff" --test-limit 200 --json >"$T/eval" 2>"$T/err" || { echo "FAIL: eval"; fails=$((fails + 1)); }
    grep -q "\"goodness_accuracy\":$acc[,}]" "$T/eval" && echo "ok   eval reproduces the accuracy ($acc)" \
        || { echo "FAIL: eval gave $(cat "$T/eval"), train said $acc"; fails=$((fails + 1)); }
    "$PFF" info "$T/m.pff" | grep -q "784,20,20" && echo "ok   info" || { echo "FAIL: info"; fails=$((fails + 1)); }
    # a model path with a quote, a backslash and a tab: eval and info --json still print valid JSON
    odd="$T/a \"b\\c	d.pff"
    cp "$T/m.pff" "$odd"
    for cmd in "eval --test-limit 20" info; do
        # shellcheck disable=SC2086
        "$PFF" $cmd "$odd" --json 2>/dev/null | python3 -c 'import json, sys; sys.exit(json.load(sys.stdin)["model"] != sys.argv[1])' "$odd" 2>/dev/null \
            && echo "ok   ${cmd%% *} --json escapes the model path" \
            || { echo "FAIL: ${cmd%% *} --json with the path $odd"; fails=$((fails + 1)); }
    done
    cp "$T/m.pff" "$T/before.pff"
    expect 2 "cannot open" train $SMALL --data "$T/m.pff"
    cmp -s "$T/m.pff" "$T/before.pff" || { echo "FAIL: model damaged"; fails=$((fails + 1)); }
else
    echo "FAIL: small training run: $(cat "$T/err")"; fails=$((fails + 1))
fi
# a traced two-node run: one track per node, and a bad trace extension is refused up front
expect 2 "expected a file ending in .json" train $SMALL --trace "$T/trace.svg"
[ -e "$T/trace.svg" ] && { echo "FAIL: refused trace left a file"; fails=$((fails + 1)); }
if "$PFF" train $SMALL --epochs 4 --splits 4 --schedule all-layers --nodes 2 --threads 1 \
    --trace "$T/trace.json" >/dev/null 2>"$T/err" &&
    "$PFF" train $SMALL --epochs 4 --splits 4 --schedule all-layers --nodes 2 --threads 1 \
    --trace "$T/trace.png" >/dev/null 2>>"$T/err"; then
    head -c 15 "$T/trace.json" | grep -q '^{"traceEvents"' && grep -q '"name":"node 2"' "$T/trace.json" \
        && [ "$(grep -c '"name":"thread_name"' "$T/trace.json")" = 2 ] \
        && echo "ok   --trace trace.json: two node tracks" \
        || { echo "FAIL: trace JSON"; fails=$((fails + 1)); }
    head -c 8 "$T/trace.png" | od -An -c | grep -q "P   N   G" && echo "ok   --trace trace.png" \
        || { echo "FAIL: trace PNG"; fails=$((fails + 1)); }
else
    echo "FAIL: traced run: $(cat "$T/err")"; fails=$((fails + 1))
fi
# --log and --eval-every: one CSV row per chapter with the test accuracy; curves from the model
if "$PFF" train $SMALL --epochs 3 --splits 3 --eval-every 2 --log "$T/log.csv" --save "$T/h.pff" \
    >/dev/null 2>"$T/err"; then
    [ "$(wc -l <"$T/log.csv")" = 4 ] && head -1 "$T/log.csv" | grep -q '^chapter,epoch,lr,loss_1,loss_2,' \
        && sed -n 2p "$T/log.csv" | grep -q ',$' && sed -n 3p "$T/log.csv" | grep -q ',[0-9.]*$' \
        && echo "ok   --log: header + 3 chapter rows, accuracy after chapters 2 and 3" \
        || { echo "FAIL: --log CSV: $(cat "$T/log.csv")"; fails=$((fails + 1)); }
    "$PFF" show "$T/h.pff" --curves "$T/curves.png" >/dev/null 2>&1 && [ -s "$T/curves.png" ] \
        && echo "ok   show --curves from the model's chapter records" \
        || { echo "FAIL: show --curves from the model"; fails=$((fails + 1)); }
else
    echo "FAIL: --log run: $(cat "$T/err")"; fails=$((fails + 1))
fi
expect 2 "not an integer" train $SMALL --eval-every -1
expect 2 "not an integer" train $SMALL --eval-every 1000001
# --neg hard and --augment shift: bad values are refused; a run records them and resumes
expect 2 "not one of" train $SMALL --augment rotate
expect 2 "not one of" train $SMALL --neg hardest
expect 2 "applies to --neg hard only" train $SMALL --hard-temp 2
expect 2 "hard-temp" train $SMALL --neg hard --hard-temp -1
expect 2 "add --recompute" train $SMALL --augment shift --epochs 2 --splits 1 --schedule single-layer
expect 2 "drop --augment" train --resume "$T/none.ck" --augment shift
[ -e "$T/none.ck" ] && { echo "FAIL: a refused run left a checkpoint"; fails=$((fails + 1)); }
if "$PFF" train $SMALL --epochs 2 --splits 2 --neg hard --hard-temp 3 --augment shift \
    --checkpoint "$T/hs.ck" --save "$T/hs.pff" --json >"$T/out" 2>"$T/err"; then
    grep -q '"neg":"hard".*"augment":"shift","hard_temp":3,' "$T/out" \
        && echo "ok   train --json reports --neg hard, --augment shift, --hard-temp" \
        || { echo "FAIL: JSON of a hard/shift run: $(cat "$T/out")"; fails=$((fails + 1)); }
    "$PFF" info "$T/hs.pff" >"$T/info" 2>&1 && grep -q "^neg  *hard$" "$T/info" &&
        grep -q "^hard_temp  *3$" "$T/info" && grep -q "^augment  *shift$" "$T/info" \
        && echo "ok   info shows hard negatives, their temperature and the shift" \
        || { echo "FAIL: info: $(cat "$T/info")"; fails=$((fails + 1)); }
    "$PFF" info --json "$T/hs.pff" | grep -q '"neg":"hard".*"augment":"shift","hard_temp":3,' \
        && echo "ok   info --json" || { echo "FAIL: info --json"; fails=$((fails + 1)); }
    # the last checkpoint of a finished run resumes to the same model (checkpoint version 3)
    "$PFF" train --resume "$T/hs.ck" --quiet \
        --save "$T/hs2.pff" >/dev/null 2>"$T/err" && cmp -s "$T/hs.pff" "$T/hs2.pff" \
        && echo "ok   --resume of a hard/shift checkpoint writes the same model" \
        || { echo "FAIL: resume hard/shift: $(cat "$T/err")"; fails=$((fails + 1)); }
else
    echo "FAIL: --neg hard --augment shift run: $(cat "$T/err")"; fails=$((fails + 1))
fi
# --augment shift1 (up to 1 px): recorded in the JSON and the model
if "$PFF" train $SMALL --augment shift1 --save "$T/s1.pff" --json >"$T/out" 2>"$T/err"; then
    grep -q '"augment":"shift1"' "$T/out" && "$PFF" info "$T/s1.pff" 2>&1 | grep -q "^augment  *shift1$" \
        && echo "ok   --augment shift1 in the JSON and in info" \
        || { echo "FAIL: shift1: $(cat "$T/out")"; fails=$((fails + 1)); }
else
    echo "FAIL: --augment shift1 run: $(cat "$T/err")"; fails=$((fails + 1))
fi
# --dropout and --weight-decay: out of range exits 2 naming the option, before any file is
# written; a run records both (model version 4, checkpoint version 4) and resumes
expect 2 "--dropout: '1' is not a number in \\[0, 1)" train $SMALL --dropout 1 --save "$T/d.pff" \
    --checkpoint "$T/d.ck"
expect 2 "--weight-decay: '-1' is not a number >= 0" train $SMALL --weight-decay -1 --save "$T/d.pff" \
    --checkpoint "$T/d.ck" --log "$T/d.csv"
expect 2 "--dropout: 'x' is not a number" train $SMALL --dropout x --save "$T/d.pff"
expect 2 "drop --dropout" train --resume "$T/none.ck" --dropout 0.1
ls "$T" | grep -q '^d\.' &&
    { echo "FAIL: a refused --dropout/--weight-decay run left files: $(ls "$T")"
      fails=$((fails + 1)); }
if "$PFF" train $SMALL --epochs 2 --splits 2 --dropout 0.2 --weight-decay 0.01 \
    --checkpoint "$T/dw.ck" --save "$T/dw.pff" --json >"$T/out" 2>"$T/err"; then
    grep -q '"dropout":0.2,"weight_decay":0.01,' "$T/out" \
        && echo "ok   train --json reports --dropout and --weight-decay" \
        || { echo "FAIL: JSON of a dropout run: $(cat "$T/out")"; fails=$((fails + 1)); }
    version=$(od -An -tu1 -j8 -N1 "$T/dw.pff" | tr -d ' ')
    "$PFF" info "$T/dw.pff" >"$T/info" 2>&1 && grep -q "^dropout  *0.2$" "$T/info" &&
        grep -q "^weight_decay  *0.01$" "$T/info" && [ "$version" = 4 ] \
        && echo "ok   info shows dropout and weight decay (model version 4)" \
        || { echo "FAIL: info of a dropout model: $(cat "$T/info")"; fails=$((fails + 1)); }
    "$PFF" info --json "$T/dw.pff" | grep -q '"hard_temp":1,"dropout":0.2,"weight_decay":0.01,' \
        && echo "ok   info --json: dropout, weight_decay" \
        || { echo "FAIL: info --json of a dropout model"; fails=$((fails + 1)); }
    "$PFF" train --resume "$T/dw.ck" --quiet --save "$T/dw2.pff" >/dev/null 2>"$T/err" &&
        cmp -s "$T/dw.pff" "$T/dw2.pff" \
        && echo "ok   --resume of a dropout checkpoint (version 4) writes the same model" \
        || { echo "FAIL: resume dropout: $(cat "$T/err")"; fails=$((fails + 1)); }
else
    echo "FAIL: --dropout --weight-decay run: $(cat "$T/err")"; fails=$((fails + 1))
fi
# --goodness-from K: a layer of the network (checked before any file is written); it changes
# what the goodness classifier sums, never the trained weights; eval can choose another K
expect 2 "expected 1..2" train $SMALL --goodness-from 3 --save "$T/g.pff" --checkpoint "$T/g.ck"
expect 2 "expected 1..2" train $SMALL --goodness-from 0 --save "$T/g.pff"
expect 2 "drop --goodness-from" train --resume "$T/none.ck" --goodness-from 1
ls "$T" | grep -q '^g\.' &&
    { echo "FAIL: a refused --goodness-from run left files: $(ls "$T")"; fails=$((fails + 1)); }
if "$PFF" train $SMALL --save "$T/g2.pff" --json >"$T/g2.json" 2>"$T/err" &&
    "$PFF" train $SMALL --goodness-from 2 --save "$T/g2b.pff" >/dev/null 2>>"$T/err" &&
    "$PFF" train $SMALL --goodness-from 1 --checkpoint "$T/g1.ck" --save "$T/g1.pff" \
        --json >"$T/g1.json" 2>>"$T/err"; then
    cmp -s "$T/g2.pff" "$T/g2b.pff" \
        && echo "ok   --goodness-from 2 (the paper's rule) writes the model of a run without it" \
        || { echo "FAIL: --goodness-from 2 changed the model"; fails=$((fails + 1)); }
    grep -q '"goodness_from":2,' "$T/g2.json" && grep -q '"goodness_from":1,' "$T/g1.json" \
        && echo "ok   train --json reports goodness_from" \
        || { echo "FAIL: goodness_from in --json: $(cat "$T/g1.json")"; fails=$((fails + 1)); }
    version=$(od -An -tu1 -j8 -N1 "$T/g1.pff" | tr -d ' ')
    "$PFF" info "$T/g1.pff" 2>&1 | grep -q "^goodness_from  *1$" &&
        "$PFF" info --json "$T/g1.pff" | grep -q '"goodness_from":1}' && [ "$version" = 5 ] \
        && echo "ok   info shows --goodness-from 1 (model version 5)" \
        || { echo "FAIL: info of a --goodness-from 1 model (version $version)"; fails=$((fails + 1)); }
    # the same weights: eval of either model with the other's K gives the other's accuracy
    a1=$("$PFF" eval "$T/g1.pff" --test-limit 200 --json | sed 's/.*"goodness_accuracy":\([0-9.]*\).*/\1/')
    a1x=$("$PFF" eval "$T/g2.pff" --goodness-from 1 --test-limit 200 --json |
        sed 's/.*"goodness_accuracy":\([0-9.]*\).*/\1/')
    a2=$(sed 's/.*"goodness_accuracy":\([0-9.]*\).*/\1/' "$T/g2.json")
    a2x=$("$PFF" eval "$T/g1.pff" --goodness-from 2 --test-limit 200 --json |
        sed 's/.*"goodness_accuracy":\([0-9.]*\).*/\1/')
    [ -n "$a1" ] && [ "$a1" = "$a1x" ] && [ -n "$a2" ] && [ "$a2" = "$a2x" ] \
        && echo "ok   eval --goodness-from: layers 1..2 $a1%, 2..2 $a2%, whichever model asks" \
        || { echo "FAIL: eval --goodness-from: $a1/$a1x, $a2/$a2x"; fails=$((fails + 1)); }
    "$PFF" eval "$T/g1.pff" --goodness-from 3 --test-limit 10 >/dev/null 2>"$T/err"
    [ $? = 2 ] && grep -q "expected 1..2" "$T/err" \
        && echo "ok   [2] eval --goodness-from 3 of a 2-layer model: $(cat "$T/err")" \
        || { echo "FAIL: eval --goodness-from 3: $(cat "$T/err")"; fails=$((fails + 1)); }
    "$PFF" train --resume "$T/g1.ck" --quiet --save "$T/g1r.pff" >/dev/null 2>"$T/err" &&
        cmp -s "$T/g1.pff" "$T/g1r.pff" \
        && echo "ok   --resume of a --goodness-from checkpoint (version 5) writes the same model" \
        || { echo "FAIL: resume --goodness-from: $(cat "$T/err")"; fails=$((fails + 1)); }
else
    echo "FAIL: --goodness-from runs: $(cat "$T/err")"; fails=$((fails + 1))
fi
expect 2 "--dataset and --data" train $SMALL --dataset mnist --data data/mnist
expect 2 "not one of" train $SMALL --dataset cifar

# The OpenBLAS kernel: with OPENBLAS_CORETYPE unset, a CPU with AVX2 and FMA
# never runs a pre-AVX2 core; a user's own OPENBLAS_CORETYPE is honoured (the
# one named here is the one the CPU runs that pff would never choose). The
# fallback of a chosen core that fails its check is tests/test_runtime.c's, with
# a core taken from CPUID.
if [ "$(uname -m)" = x86_64 ] && grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then
    v=$(env -u OPENBLAS_CORETYPE -u PFF_BLAS_CHOSEN "$PFF" --version)
    case "$v" in
    *"BLAS: Haswell"* | *"BLAS: Zen"* | *"BLAS: SkylakeX"* | *"BLAS: Cooperlake"* | *"BLAS: SapphireRapids"*)
        echo "ok   an AVX2 CPU gets an AVX2 or AVX-512 kernel: $v" ;;
    *) echo "FAIL: an AVX2 CPU got a pre-AVX2 kernel: $v"; fails=$((fails + 1)) ;;
    esac
else
    echo "skipped: the kernel choice end to end (this CPU has no AVX2 + FMA)"
fi
if [ "$(uname -m)" = x86_64 ]; then
    OPENBLAS_CORETYPE=Prescott "$PFF" --version | grep -q "BLAS: Prescott," \
        && echo "ok   OPENBLAS_CORETYPE=Prescott is honoured" \
        || { echo "FAIL: OPENBLAS_CORETYPE=Prescott is not honoured"; fails=$((fails + 1)); }
else
    echo "skipped: a user's OPENBLAS_CORETYPE is honoured (x86-64 cores only)"
fi

# --eval-every measures the run's classifier: a softmax run's last log row is its softmax accuracy
if "$PFF" train $SMALL --epochs 2 --splits 2 --classifier softmax --eval-every 1 --log "$T/sm.csv" --json \
    >"$T/sm.json" 2>"$T/err"; then
    last=$(tail -n 1 "$T/sm.csv" | awk -F, '{print $NF}')
    python3 -c 'import json, sys
j = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
sys.exit(abs(float(sys.argv[2]) - j["softmax_accuracy"]) > 1e-3 or j["test_accuracy"] != j["softmax_accuracy"])' \
        "$T/sm.json" "$last" &&
        echo "ok   --classifier softmax --eval-every 1: the log's last test_accuracy ($last) is the head's" ||
        { echo "FAIL: softmax log's last row $last: $(tail -n 1 "$T/sm.json")"; fails=$((fails + 1)); }
else
    echo "FAIL: softmax --eval-every run: $(cat "$T/err")"; fails=$((fails + 1))
fi

# --val N: a validation split held out of training; the test set only when asked (--test)
jget() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("null" if v is None else v)' "$1" "$2"; }
if "$PFF" train $SMALL --val 100 --eval-every 1 --log "$T/val.csv" --save "$T/val.pff" --json >"$T/val.json" 2>"$T/err"; then
    [ "$(jget "$T/val.json" val_n)" = 100 ] && [ "$(jget "$T/val.json" train_n)" = 200 ] &&
        [ "$(jget "$T/val.json" test_accuracy)" = null ] && [ "$(jget "$T/val.json" val_accuracy)" != null ] &&
        head -n 1 "$T/val.csv" | grep -q ',seconds,val_accuracy$' &&
        echo "ok   --val 100: 200 trained, 100 validated (the log's column val_accuracy), no test set" ||
        { echo "FAIL: --val JSON or log: $(cat "$T/val.json") $(head -n 1 "$T/val.csv")"; fails=$((fails + 1)); }
    # the last chapter's figure in the log is the run's final validation accuracy
    last=$(tail -n 1 "$T/val.csv" | awk -F, '{print $NF}')
    python3 -c 'import sys; sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) > 1e-3)' \
        "$last" "$(jget "$T/val.json" val_accuracy)" &&
        echo "ok   --val --eval-every 1: the log's last val_accuracy ($last) is the final one" ||
        { echo "FAIL: --val log's last row $last, JSON val_accuracy $(jget "$T/val.json" val_accuracy)"; fails=$((fails + 1)); }
    va=$(jget "$T/val.json" val_goodness_accuracy)
    "$PFF" eval "$T/val.pff" --val 100 --train-limit 300 --json >"$T/ev.json" 2>"$T/err" &&
        [ "$(jget "$T/ev.json" goodness_accuracy)" = "$va" ] && [ "$(jget "$T/ev.json" val_n)" = 100 ] &&
        echo "ok   pff eval --val 100 --train-limit 300 measures the same images ($va%)" ||
        { echo "FAIL: eval --val gave $(cat "$T/ev.json" "$T/err"), train said $va"; fails=$((fails + 1)); }
    # --per-layer: layers K..L is what --goodness-from K gives, bit for bit; the last layer alone too
    if "$PFF" eval "$T/val.pff" --test-limit 200 --per-layer --json >"$T/pl.json" 2>"$T/err"; then
        for k in 1 2; do
            "$PFF" eval "$T/val.pff" --test-limit 200 --goodness-from $k --json >"$T/k.json" 2>/dev/null
            python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["per_layer"]; k=int(sys.argv[3])
a=json.load(open(sys.argv[2]))["goodness_accuracy"]; sys.exit(not (p["from"][k-1] == a and p["alone"][-1] == p["from"][-1]))' \
                "$T/pl.json" "$T/k.json" $k &&
                echo "ok   --per-layer: layers $k..L equal --goodness-from $k" ||
                { echo "FAIL: --per-layer $(cat "$T/pl.json") against $(cat "$T/k.json")"; fails=$((fails + 1)); }
        done
    else
        echo "FAIL: eval --per-layer: $(cat "$T/err")"; fails=$((fails + 1))
    fi
else
    echo "FAIL: --val run: $(cat "$T/err")"; fails=$((fails + 1))
fi
"$PFF" train $SMALL --val 100 --test --json >"$T/vt.json" 2>"$T/err" && [ "$(jget "$T/vt.json" test_n)" = 200 ] &&
    [ "$(jget "$T/vt.json" test_accuracy)" != null ] && echo "ok   --val with --test measures the test set once, at the end" ||
    { echo "FAIL: --val --test: $(cat "$T/vt.json" "$T/err")"; fails=$((fails + 1)); }
expect 2 "fewer than the 300 training images" train $SMALL --val 300
expect 2 "'0' is not an integer" train $SMALL --val 0
expect 2 "add --val N" eval "$T/val.pff" --train-limit 100
# the split is the same on every schedule: fixed negatives give the same model bytes
if "$PFF" train $SMALL --epochs 2 --splits 2 --neg fixed --val 100 --schedule sequential --threads 1 --save "$T/vs.pff" >/dev/null 2>"$T/err" &&
    "$PFF" train $SMALL --epochs 2 --splits 2 --neg fixed --val 100 --schedule all-layers --nodes 2 --threads 1 --save "$T/va.pff" >/dev/null 2>>"$T/err" &&
    cmp -s "$T/vs.pff" "$T/va.pff"; then
    echo "ok   --val: sequential and all-layers write the same model"
else
    echo "FAIL: --val across schedules: $(cat "$T/err")"; fails=$((fails + 1))
fi
# a checkpoint records --val; a resume keeps it and refuses another --val
if "$PFF" train $SMALL --epochs 2 --splits 2 --val 100 --checkpoint "$T/val.ck" --json >"$T/full.json" 2>"$T/err"; then
    expect 2 "drop --val" train --resume "$T/val.ck" --val 50
    "$PFF" train --resume "$T/val.ck" --json >"$T/res.json" 2>"$T/err" && [ "$(jget "$T/res.json" val_n)" = 100 ] &&
        [ "$(jget "$T/res.json" val_accuracy)" = "$(jget "$T/full.json" val_accuracy)" ] &&
        echo "ok   --resume keeps --val 100 from the checkpoint" ||
        { echo "FAIL: resume of a --val run: $(cat "$T/res.json" "$T/err")"; fails=$((fails + 1)); }
else
    echo "FAIL: --val --checkpoint: $(cat "$T/err")"; fails=$((fails + 1))
fi

for c in train eval info schedule; do
    "$PFF" $c --help >/dev/null 2>&1 || { echo "FAIL: pff $c --help"; fails=$((fails + 1)); }
done
"$PFF" --version | grep -q "^pff " || { echo "FAIL: --version"; fails=$((fails + 1)); }
ls "$T" | grep -q tmp && { echo "FAIL: temporary files left: $(ls "$T")"; fails=$((fails + 1)); }
echo "test_cli: $fails failed"
[ "$fails" = 0 ]
