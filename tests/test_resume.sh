#!/bin/sh
# tests/test_resume.sh PFF — checkpoints: a run started with --data,
# --train-limit and --checkpoint (relative paths), killed with SIGKILL at
# random moments after a chapter was saved, and resumed each time from another
# directory with `pff train --resume FILE` alone, ends with the same model
# file, byte for byte, as an uninterrupted run, on four schedules (and All
# Layers with --neg hard --augment shift, and with --dropout --weight-decay:
# checkpoints of versions 3 and 4). Every
# schedule must really have been killed mid-way (a resume that starts before
# the last chapter), or the test fails. SIGINT and SIGTERM stop with status
# 130 and 143 and a hint, and that hint alone finishes the run. A checkpoint
# whose data files changed is refused (status 2, the file named), and so are
# bad checkpoints and flags other than outputs given with --resume.
set -u
PFF=${1:-./pff}
case $PFF in /*) ;; *) PFF=$(pwd)/$PFF ;; esac
DATA_DIR=$(pwd)/data/mnist
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# the run starts in $T/start, with relative paths; every resume runs in $T/elsewhere
mkdir -p "$T/start" "$T/elsewhere"
ln -s "$DATA_DIR" "$T/start/mnist"
S=8
RUN="--layers 784,100,100 --epochs $S --splits $S --neg adaptive --classifier softmax --data mnist --train-limit 4000 --test-limit 1000 --quiet"

# resume_alone CK: `pff train --resume CK` and nothing else, from another directory;
# sets $from to the chapter it resumed after
resume_alone() {
    (cd "$T/elsewhere" && "$PFF" train --resume "$1" >/dev/null 2>"$T/err")
    rst=$?
    from=$(sed -n 's/.*resuming .* after chapter \([0-9]*\) of.*/\1/p' "$T/err" | head -1)
    return $rst
}

# wait_saved CK MARK PID: until CK is newer than MARK (a chapter was saved by
# this attempt) or PID has ended; 0 when a chapter was saved and PID still runs
wait_saved() {
    i=0
    while [ $i -lt 1200 ]; do
        kill -0 "$3" 2>/dev/null || return 1
        [ -f "$1" ] && [ "$1" -nt "$2" ] && return 0
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

for sched in "sequential" "all-layers --nodes 2 --threads 1" "single-layer --threads 1" \
    "federated --nodes 2 --threads 1" \
    "all-layers --nodes 2 --threads 1 --neg hard --augment shift" \
    "all-layers --nodes 2 --threads 1 --dropout 0.2 --weight-decay 0.01"; do
    name=$(echo "$sched" | cut -d' ' -f1)
    case $sched in *hard*) name=hard-shift ;; *dropout*) name=dropout-decay ;; esac
    t0=$(date +%s%N)
    (cd "$T/start" && exec "$PFF" train $RUN --schedule $sched --save "$name.ref") >/dev/null \
        2>"$T/err" || { fail "$name: reference run: $(cat "$T/err")"; continue; }
    ref_ms=$((($(date +%s%N) - t0) / 1000000))
    # kill -9 at a random moment within about one chapter after a save, resume
    # alone from elsewhere, until a run finishes; count resumes that start mid-way
    name_ck="$T/start/$name.ck"
    # a random kill can land after the last chapter was saved: then the whole cycle runs again
    # (at most 3 times), so a pass always means a resume from mid-way
    cycle=0 midway=0
    while [ $cycle -lt 3 ] && [ $midway = 0 ]; do
    cycle=$((cycle + 1))
    kills=0 midway=0 finished=0
    rm -f "$name_ck" "$T/start/$name.pff"
    attempt=0
    while [ $attempt -lt 12 ] && [ $finished = 0 ]; do
        attempt=$((attempt + 1))
        touch "$T/mark"
        sleep 0.01
        if [ $attempt = 1 ]; then
            (cd "$T/start" && exec "$PFF" train $RUN --schedule $sched --checkpoint "$name.ck" \
                --save "$name.pff") >/dev/null 2>"$T/err" &
        else
            (cd "$T/elsewhere" && exec "$PFF" train --resume "$name_ck") >/dev/null 2>"$T/err" &
        fi
        pid=$!
        if wait_saved "$name_ck" "$T/mark" "$pid"; then
            sleep "$(awk -v s="$(od -An -N2 -tu2 /dev/urandom)" -v ref="$ref_ms" -v S=$S \
                'BEGIN { printf "%.3f", ref / 1000 / S * (s % 100) / 100 }')"
        fi
        if [ $attempt -lt 12 ] && kill -9 "$pid" 2>/dev/null; then
            wait "$pid" 2>/dev/null
            kills=$((kills + 1))
        else
            wait "$pid"
            st=$?
            [ "$st" = 0 ] || { fail "$name: run exited $st: $(cat "$T/err")"; break; }
            finished=1
        fi
        from=$(sed -n 's/.*resuming .* after chapter \([0-9]*\) of.*/\1/p' "$T/err" | head -1)
        [ -n "$from" ] && [ "$from" -ge 1 ] && [ "$from" -lt $S ] && midway=$((midway + 1))
    done
    [ $finished = 1 ] || break
    done
    if [ $finished = 0 ]; then
        fail "$name: no run finished after $attempt attempts"
    elif [ $kills = 0 ] || [ $midway = 0 ]; then
        fail "$name: not interrupted mid-way ($kills kill(s), $midway resume(s) before chapter $S)"
    elif cmp -s "$T/start/$name.ref" "$T/start/$name.pff"; then
        echo "ok   $sched: killed $kills time(s) with SIGKILL, resumed $midway time(s) mid-way" \
            "from another directory with --resume alone (cycle $cycle): identical model"
    else
        fail "$sched: resumed model differs from the uninterrupted one"
    fi
done

# SIGINT and SIGTERM: stop at the next batch, status 128+signal, a resume hint;
# the hinted command, from another directory, finishes with the same model
for sig in INT TERM; do
    rm -f "$T/start/s.ck" "$T/start/s.pff"
    touch "$T/mark"
    sleep 0.01
    (cd "$T/start" && exec "$PFF" train $RUN --checkpoint s.ck --save s.pff) >/dev/null 2>"$T/err" &
    pid=$!
    wait_saved "$T/start/s.ck" "$T/mark" "$pid"
    kill -$sig "$pid"
    wait "$pid"
    st=$?
    want=130
    [ $sig = TERM ] && want=143
    if [ "$st" != "$want" ] || ! grep -q "interrupted by SIG$sig" "$T/err"; then
        fail "SIG$sig: status $st (want $want): $(cat "$T/err")"
        continue
    fi
    hint=$(sed -n 's/^ *\(pff train --resume .*\)$/\1/p' "$T/err")
    [ "$hint" = "pff train --resume s.ck" ] || { fail "SIG$sig: hint '$hint'"; continue; }
    if resume_alone "$T/start/s.ck" && [ -n "$from" ] && [ "$from" -lt $S ] &&
        cmp -s "$T/start/sequential.ref" "$T/start/s.pff"; then
        echo "ok   SIG$sig: status $st, the hint; resumed after chapter $from from elsewhere: identical model"
    else
        fail "SIG$sig: resume after chapter '$from': $(cat "$T/err")"
    fi
done

# a run killed after its last chapter was saved but before its model was: resuming writes the model
rm -f "$T/start/done.ck"
(cd "$T/start" && "$PFF" train $RUN --checkpoint done.ck --save done.a) >/dev/null 2>&1 &&
    mv "$T/start/done.a" "$T/start/done.keep" &&
    (cd "$T/elsewhere" && "$PFF" train --resume "$T/start/done.ck" --save done.b) >/dev/null 2>"$T/err" &&
    cmp -s "$T/start/done.keep" "$T/elsewhere/done.b" && [ ! -e "$T/start/done.a" ] &&
    echo "ok   resuming a finished checkpoint writes the same model (--save may name a new place)" ||
    fail "resuming a finished checkpoint: $(cat "$T/err")"

# the data set changed under the checkpoint: refused, the file named, nothing written
mkdir -p "$T/d"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte; do
    ln -s "$DATA_DIR/$f" "$T/d/$f"
done
cp "$DATA_DIR/t10k-labels-idx1-ubyte" "$T/d/"
SMALL="--layers 784,20 --epochs 2 --splits 2 --train-limit 1000 --test-limit 200 --quiet"
if "$PFF" train $SMALL --data "$T/d" --checkpoint "$T/d.ck" >/dev/null 2>"$T/err"; then
    b=$(od -An -tu1 -j 500 -N1 "$T/d/t10k-labels-idx1-ubyte" | tr -d ' ')
    printf "\\$(printf '%03o' $(((b + 1) % 10)))" |
        dd of="$T/d/t10k-labels-idx1-ubyte" bs=1 seek=500 conv=notrunc 2>/dev/null
    (cd "$T/elsewhere" && "$PFF" train --resume "$T/d.ck" --save changed.pff) >/dev/null 2>"$T/err"
    st=$?
    if [ $st = 2 ] && grep -q "t10k-labels-idx1-ubyte changed since the checkpoint" "$T/err" &&
        [ ! -e "$T/elsewhere/changed.pff" ]; then
        echo "ok   a changed data file is refused: $(head -c 120 "$T/err")"
    else
        fail "changed data: status $st: $(cat "$T/err")"
    fi
else
    fail "run on the data copy: $(cat "$T/err")"
fi

# bad checkpoints, and flags other than outputs with --resume, are refused with status 2
expect2() {
    needle=$1
    shift
    "$PFF" train "$@" >/dev/null 2>"$T/err"
    st=$?
    [ $st = 2 ] && grep -q -- "$needle" "$T/err" && echo "ok   [2] pff train $*" ||
        fail "pff train $*: status $st: $(cat "$T/err")"
}
printf 'garbage' >"$T/bad.ck"
expect2 "bad magic" --resume "$T/bad.ck"
expect2 "drop --epochs" --resume "$T/start/sequential.ck" --epochs 3
expect2 "drop --train-limit" --resume "$T/start/sequential.ck" --train-limit 100
expect2 "drop --data" --resume "$T/start/sequential.ck" --data data/mnist
expect2 "is a directory" --resume "$T/start/sequential.ck" --save "$T"
echo "test_resume: $fails failed"
[ "$fails" = 0 ]
