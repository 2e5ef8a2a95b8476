#!/bin/sh
# tests/test_resume.sh PFF — checkpoints: a run killed with SIGKILL at random
# moments and resumed each time ends with the same model file, byte for byte,
# as an uninterrupted run (every schedule, and --neg hard --augment shift);
# SIGINT and SIGTERM stop with status 130 and 143 and a message saying how to
# resume. The first kill (and the signals) wait for the first checkpoint: on a
# busy machine it can come after 60% of the reference run's time.
set -u
PFF=${1:-./pff}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
DATA="--train-limit 6000 --test-limit 1000"
RUN="--layers 784,100,100 --epochs 8 --splits 8 --neg adaptive --classifier softmax $DATA --quiet"

# run_until_done NAME ARGS...: kill -9 at random moments, resume, until a run finishes
run_until_done() {
    name=$1
    shift
    kills=0
    rm -f "$T/$name.ck" "$T/$name.pff"
    for attempt in 1 2 3 4 5 6 7 8 9 10 11 12; do
        first=1
        if [ -f "$T/$name.ck" ]; then
            first=0
            "$PFF" train --resume "$T/$name.ck" $DATA --quiet --save "$T/$name.pff" >/dev/null 2>"$T/err" &
        else
            "$PFF" train "$@" --checkpoint "$T/$name.ck" --save "$T/$name.pff" >/dev/null 2>"$T/err" &
        fi
        pid=$!
        if [ $first = 1 ]; then
            # no chapter saved yet: kill at a random moment within 15% of the reference time
            # after the first checkpoint (on a busy machine it can come after 60% of it)
            while [ ! -f "$T/$name.ck" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
            delay=$(awk -v s="$(od -An -N2 -tu2 /dev/urandom)" -v ref="$ref_ms" \
                'BEGIN { printf "%.2f", ref / 1000 * (s % 16) / 100 }')
        else
            # a random moment between 15% and 60% of an uninterrupted run
            delay=$(awk -v s="$(od -An -N2 -tu2 /dev/urandom)" -v ref="$ref_ms" \
                'BEGIN { printf "%.2f", ref / 1000 * (0.15 + (s % 46) / 100) }')
        fi
        sleep "$delay"
        if kill -9 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null
            kills=$((kills + 1))
        else
            wait "$pid"
            st=$?
            [ "$st" = 0 ] && { echo "  $name: finished after $kills kill(s)"; return 0; }
            echo "FAIL: $name: run exited $st: $(cat "$T/err")"
            return 1
        fi
    done
    # last resort: let it finish
    "$PFF" train --resume "$T/$name.ck" $DATA --quiet --save "$T/$name.pff" >/dev/null 2>"$T/err" ||
        { echo "FAIL: $name: the last resume exited $?: $(cat "$T/err")"; return 1; }
}

# the last: hard negatives and shifted images, two epochs a chapter (a version-2 checkpoint)
for sched in "sequential" "all-layers --nodes 2 --threads 1" "single-layer --threads 1" \
    "federated --nodes 2 --threads 1" "all-layers --nodes 2 --threads 1 --neg hard --augment shift --splits 4"; do
    name=$(echo "$sched" | cut -d' ' -f1)
    t0=$(date +%s%N)
    "$PFF" train $RUN --schedule $sched --save "$T/$name.ref" >/dev/null 2>"$T/err" ||
        { echo "FAIL: reference run: $(cat "$T/err")"; fails=$((fails + 1)); continue; }
    ref_ms=$((($(date +%s%N) - t0) / 1000000))
    if run_until_done "$name" $RUN --schedule $sched && cmp -s "$T/$name.ref" "$T/$name.pff"; then
        echo "ok   $sched: killed $kills time(s) with SIGKILL and resumed: identical model"
    else
        echo "FAIL: $sched: resumed model differs from the uninterrupted one"
        fails=$((fails + 1))
    fi
done

# SIGINT and SIGTERM: stop at the next batch, status 128+signal, a resume hint
for sig in INT TERM; do
    rm -f "$T/s.ck"
    "$PFF" train $RUN --checkpoint "$T/s.ck" >/dev/null 2>"$T/err" &
    pid=$!
    # after the first saved chapter of 8, so that the run is surely under way (on a busy
    # machine half the reference time can be before the first chapter or after the last)
    while [ ! -f "$T/s.ck" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    kill -$sig "$pid"
    wait "$pid"
    st=$?
    want=130
    [ $sig = TERM ] && want=143
    if [ "$st" = "$want" ] && grep -q "interrupted by SIG$sig" "$T/err"; then
        echo "ok   SIG$sig: status $st, $(tr '\n' ' ' <"$T/err" | head -c 160)"
    else
        echo "FAIL: SIG$sig: status $st (want $want): $(cat "$T/err")"
        fails=$((fails + 1))
    fi
done
# a run killed after its last chapter was saved but before its model was: resuming writes the model
rm -f "$T/done.ck"
"$PFF" train $RUN --checkpoint "$T/done.ck" --save "$T/done.a" >/dev/null 2>&1 &&
    "$PFF" train --resume "$T/done.ck" $DATA --quiet --save "$T/done.b" >/dev/null 2>"$T/err" &&
    cmp -s "$T/done.a" "$T/done.b" && echo "ok   resuming a finished checkpoint writes the same model" ||
    { echo "FAIL: resuming a finished checkpoint: $(cat "$T/err")"; fails=$((fails + 1)); }
# bad checkpoints are refused with status 2
printf 'garbage' >"$T/bad.ck"
"$PFF" train --resume "$T/bad.ck" $DATA 2>"$T/err" >/dev/null
[ $? = 2 ] && grep -q "bad magic" "$T/err" && echo "ok   a bad checkpoint is refused" ||
    { echo "FAIL: bad checkpoint: $(cat "$T/err")"; fails=$((fails + 1)); }
"$PFF" train --resume "$T/sequential.ck" --epochs 3 2>"$T/err" >/dev/null
[ $? = 2 ] && grep -q "drop --epochs" "$T/err" && echo "ok   --resume refuses new settings" ||
    { echo "FAIL: --resume with --epochs: $(cat "$T/err")"; fails=$((fails + 1)); }
echo "test_resume: $fails failed"
[ "$fails" = 0 ]
