#!/bin/sh
# tests/test_mpi.sh PFF [TEST_TRACE] — the MPI transport against the thread
# transport, with a pff built by `make MPI=1`:
#   - all-layers with 2, 3 and 4 ranks, single-layer with one rank per layer,
#     federated (each rank holding its shard only), sequential and --handoff
#     weights, --neg hard and --augment shift: the model file written
#     under mpirun is byte-identical to the one --transport threads writes
#     with the same nodes, threads, seed and settings;
#   - --trace over MPI merges the ranks into one timeline, one track per rank;
#   - the same equivalences again with Open MPI restricted to TCP over the
#     loopback interface (--mca btl tcp,self --mca btl_tcp_if_include lo);
#   - a wrong rank count, a rank whose data is missing, a rank that fails
#     while training and a rank killed with SIGKILL all end the whole job with
#     a non-zero status, within seconds;
#   - checkpoints over MPI: a full run's checkpoint equals the threads run's,
#     and a run with one rank killed by SIGKILL mid-way, resumed with
#     `mpirun -np N pff train --transport mpi --resume FILE` alone from another
#     directory, ends with the threads run's model.
set -u
PFF=$1
case $PFF in /*) ;; *) PFF=$(pwd)/$PFF ;; esac
TRACE_CHECK=${2:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0 n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }

# root in CI; containers without ptrace between processes (vader's CMA copy)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
MPIRUN="mpirun --oversubscribe --bind-to none"

small="--train-limit 1500 --test-limit 300 --epochs 4 --splits 4 --threads 1 --oversubscribe --quiet"

# rank_pid JOB I: the pid of the I-th rank (1-based) that mpirun JOB started
rank_pid() { ps -o pid= --ppid "$1" | sed -n "${2}p" | tr -d ' '; }

# same NAME RANKS ARGS...: model over MPI == model over threads
via=""
same() {
    name="$via$1" np=$2
    shift 2
    if ! $MPIRUN -np "$np" "$PFF" train --transport mpi "$@" --save "$T/mpi.bin" >"$T/out" 2>"$T/err"; then
        bad "$name: mpirun failed: $(tail -n 3 "$T/err")"
        return
    fi
    if ! "$PFF" train "$@" --save "$T/thr.bin" >/dev/null 2>"$T/err"; then
        bad "$name: threads run failed: $(tail -n 3 "$T/err")"
        return
    fi
    if cmp -s "$T/mpi.bin" "$T/thr.bin"; then
        ok "$name: MPI model byte-identical to threads"
    else
        bad "$name: MPI model differs from threads"
    fi
}

net3="--layers 784,64,48,32"
# the equivalences, over shared memory (Open MPI's default), then over TCP only
# (loopback): the byte path a job across machines takes
equivalences() {
    same "all-layers N=2" 2 $net3 $small --schedule all-layers --nodes 2
    same "all-layers N=3, adaptive" 3 $net3 $small --schedule all-layers --nodes 3 --neg adaptive
    same "all-layers N=4, softmax" 4 $net3 $small --schedule all-layers --nodes 4 --classifier softmax
    # the chapters' accuracies are in the model: with a head, the ranks evaluate the head
    same "all-layers N=2, softmax, --eval-every 1" 2 $net3 $small --schedule all-layers --nodes 2 --classifier softmax --eval-every 1
    same "all-layers N=2, --handoff weights" 2 $net3 $small --schedule all-layers --nodes 2 --handoff weights --neg adaptive --classifier softmax
    same "single-layer N=L=3, adaptive + softmax" 3 $net3 $small --schedule single-layer --recompute --neg adaptive --classifier softmax
    same "single-layer N=L=4" 4 --layers 784,48,40,32,24 $small --schedule single-layer --recompute
    same "federated N=3, label-skew" 3 $net3 $small --schedule federated --nodes 3 --shards label-skew --neg adaptive
    same "federated N=2, iid, softmax" 2 $net3 $small --schedule federated --nodes 2 --classifier softmax
    same "sequential, 1 rank" 1 $net3 $small --schedule sequential
}
equivalences
MPIRUN_SHM=$MPIRUN
MPIRUN="$MPIRUN_SHM --mca btl tcp,self --mca btl_tcp_if_include lo"
via="TCP only: "
equivalences
via=""
MPIRUN=$MPIRUN_SHM
# --neg hard and --augment shift, over shared memory only
same "all-layers N=2, --neg hard --augment shift" 2 $net3 $small --schedule all-layers --nodes 2 --neg hard --hard-temp 5 --augment shift
same "single-layer N=L=3, hard, shift, 2 epochs a chapter" 3 $net3 $small --splits 2 --schedule single-layer --recompute --neg hard --augment shift
same "federated N=2, hard, shift" 2 $net3 $small --schedule federated --nodes 2 --neg hard --augment shift
# --val: every rank holds out the same images (a fixed key), before any shard is cut
same "all-layers N=2, --val 300" 2 $net3 $small --schedule all-layers --nodes 2 --val 300 --neg adaptive
same "federated N=2, --val 300" 2 $net3 $small --schedule federated --nodes 2 --val 300

# a Federated rank keeps only its own shard; the JSON still counts the whole training set
$MPIRUN -np 3 "$PFF" train --transport mpi $net3 $small --schedule federated --json >"$T/out" 2>"$T/err"
if grep -q '"train_n":1500' "$T/out"; then ok "federated over MPI reports all 1500 images"
else bad "federated train_n: $(cat "$T/out" "$T/err" | tail -n 2)"; fi

# the JSON of rank 0 says so, and only rank 0 prints it
$MPIRUN -np 2 "$PFF" train --transport mpi $net3 $small --schedule all-layers --json >"$T/out" 2>/dev/null
if [ "$(grep -c '"transport":"mpi"' "$T/out")" = 1 ]; then ok "one JSON object, from rank 0"; else bad "JSON lines: $(cat "$T/out")"; fi

# --trace: one timeline, a track per rank, written by rank 0
if $MPIRUN -np 3 "$PFF" train --transport mpi --layers 784,200,200 --train-limit 6000 \
    --test-limit 500 --epochs 6 --splits 6 --threads 1 --oversubscribe --quiet \
    --schedule all-layers --trace "$T/run.json" 2>"$T/err" >/dev/null; then
    if [ -n "$TRACE_CHECK" ]; then
        if "$TRACE_CHECK" "$T/run.json" 3 >"$T/tc" 2>&1; then ok "--trace merges 3 ranks: $(tail -n 1 "$T/tc")"
        else bad "--trace over MPI: $(tail -n 3 "$T/tc")"; fi
    else
        tracks=$(grep -o '"tid":[0-9]*' "$T/run.json" | sort -u | wc -l)
        [ "$tracks" -ge 3 ] && ok "--trace: $tracks tracks" || bad "--trace: $tracks tracks"
    fi
else
    bad "--trace run failed: $(tail -n 3 "$T/err")"
fi

# expect_fail NAME SECONDS PATTERN CMD...: non-zero, in time, with the message
expect_fail() {
    name=$1 limit=$2 pattern=$3
    shift 3
    t0=$(date +%s)
    timeout -k 5 60 "$@" >"$T/out" 2>"$T/err"
    rc=$?
    dt=$(($(date +%s) - t0))
    if [ $rc -eq 0 ] || [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        bad "$name: exit $rc after ${dt}s"
    elif [ $dt -gt "$limit" ]; then
        bad "$name: exit $rc but after ${dt}s (> ${limit}s)"
    elif ! grep -q "$pattern" "$T/err"; then
        bad "$name: exit $rc, no '$pattern' in: $(tail -n 3 "$T/err")"
    else
        ok "$name: exit $rc in ${dt}s"
    fi
    [ -e "$T/none.bin" ] && { bad "$name: left a model file"; rm -f "$T/none.bin"; }
}

expect_fail "a federated shard smaller than a batch" 30 "shard" \
    $MPIRUN -np 3 "$PFF" train --transport mpi $net3 --train-limit 150 --test-limit 100 --epochs 1 \
    --splits 1 --threads 1 --oversubscribe --quiet --schedule federated --save "$T/none.bin"
expect_fail "wrong rank count" 30 "mpirun -np 3" \
    $MPIRUN -np 2 "$PFF" train --transport mpi $net3 $small --schedule single-layer --save "$T/none.bin"
expect_fail "rank 1 cannot read its data" 30 "rank 1" \
    $MPIRUN -np 1 "$PFF" train --transport mpi $net3 $small --schedule all-layers --nodes 2 --save "$T/none.bin" : \
    -np 1 "$PFF" train --transport mpi $net3 $small --schedule all-layers --nodes 2 --data "$T/nowhere"
expect_fail "non-finite loss on a rank" 30 "rank" \
    $MPIRUN -np 2 "$PFF" train --transport mpi $net3 $small --schedule all-layers --lr 1e30 --save "$T/none.bin"

# a rank killed from outside: the job ends, non-zero, within seconds
$MPIRUN -np 2 "$PFF" train --transport mpi --layers 784,500,500 --train-limit 20000 --epochs 40 \
    --splits 40 --threads 1 --schedule all-layers --quiet --save "$T/none.bin" >/dev/null 2>"$T/err" &
job=$!
victim=
for _ in $(seq 1 100); do
    victim=$(rank_pid $job 2)
    [ -n "$victim" ] && break
    sleep 0.1
done
sleep 2
if [ -z "$victim" ]; then
    bad "SIGKILL: no rank found to kill"
    kill $job 2>/dev/null
else
    kill -9 "$victim"
    t0=$(date +%s)
    ( sleep 30; kill -9 $job 2>/dev/null ) &
    guard=$!
    wait $job
    rc=$?
    dt=$(($(date +%s) - t0))
    kill $guard 2>/dev/null
    if [ $rc -ne 0 ] && [ $dt -le 10 ] && [ ! -e "$T/none.bin" ]; then
        ok "a rank killed with SIGKILL ends the job: exit $rc in ${dt}s"
    else
        bad "SIGKILL: exit $rc after ${dt}s"
    fi
fi

# checkpoints over MPI: rank 0 writes the checkpoint of every chapter all ranks
# finished. A full run's checkpoint equals the threads run's, byte for byte.
# A run started with relative --data/--checkpoint/--save, one rank killed with
# SIGKILL at a random moment after a chapter was saved, resumed with
# `mpirun -np N pff train --transport mpi --resume FILE` alone from another
# directory, ends with the model of an uninterrupted threads run. The kill
# must have hit mid-way (the resume starts before the last chapter).
mkdir -p "$T/start" "$T/elsewhere"
ln -s "$(pwd)/data/mnist" "$T/start/mnist"
ck8="--data mnist --layers 784,64,48,32 --train-limit 1500 --test-limit 300 --epochs 12 --splits 12 --threads 1 --oversubscribe --quiet --neg adaptive --classifier softmax"
ck_resume() { # NAME RANKS SCHEDULE...
    name=$1 np=$2
    shift 2
    # every run saves to m.bin: the run record (in the checkpoint) holds that path
    rm -f "$T/start/"*.ck "$T/start/"*.bin
    if ! (cd "$T/start" && "$PFF" train $ck8 "$@" --save m.bin --checkpoint t.ck) >/dev/null 2>"$T/err" ||
        ! mv "$T/start/m.bin" "$T/start/t.bin"; then
        bad "$name: threads run: $(tail -n 2 "$T/err")"
        return
    fi
    # the whole run over MPI with a checkpoint: the last checkpoint equals the threads run's
    if (cd "$T/start" && $MPIRUN -np "$np" "$PFF" train --transport mpi $ck8 "$@" --save m.bin \
        --checkpoint r.ck) >/dev/null 2>"$T/err" && cmp -s "$T/start/r.ck" "$T/start/t.ck" &&
        cmp -s "$T/start/m.bin" "$T/start/t.bin"; then
        ok "$name: the MPI run's checkpoint and model equal the threads run's"
    else
        bad "$name: MPI checkpoint differs from threads (or the run failed): $(tail -n 2 "$T/err")"
    fi
    midway=0
    for attempt in 1 2 3 4 5; do
        rm -f "$T/start/r.ck" "$T/start/m.bin"
        (cd "$T/start" && exec $MPIRUN -np "$np" "$PFF" train --transport mpi $ck8 "$@" --save m.bin \
            --checkpoint r.ck) >/dev/null 2>"$T/err" &
        job=$!
        i=0
        while [ ! -f "$T/start/r.ck" ] && [ $i -lt 3000 ] && kill -0 $job 2>/dev/null; do
            sleep 0.01
            i=$((i + 1))
        done
        # The kill is timed from progress, not from the start: once the first
        # chapter is saved, wait a random moment in a window that shrinks with
        # each attempt (200, 150, 100, 50 ms, then none), so a fast machine that
        # finishes the 12 chapters inside the window still gets a mid-way kill.
        win=$(((5 - attempt) * 50))
        sleep "$(awk -v s="$(od -An -N2 -tu2 /dev/urandom)" -v w=$win 'BEGIN { printf "%.3f", w ? (s % w) / 1000 : 0 }')"
        which=$(($(od -An -N1 -tu1 /dev/urandom) % np + 1))
        victim=$(rank_pid $job $which)
        [ -n "$victim" ] && kill -9 "$victim" 2>/dev/null
        wait $job
        rc=$?
        [ $rc = 0 ] && continue # finished before the kill: try again
        (cd "$T/elsewhere" && $MPIRUN -np "$np" "$PFF" train --transport mpi --resume "$T/start/r.ck") \
            >/dev/null 2>"$T/err"
        rrc=$?
        from=$(sed -n 's/.*resuming .* after chapter \([0-9]*\) of.*/\1/p' "$T/err" | head -1)
        if [ $rrc = 0 ] && [ -n "$from" ] && [ "$from" -lt 12 ]; then
            midway=1
            break
        fi
        [ $rrc = 0 ] || { bad "$name: resume failed ($rrc): $(grep pff "$T/err" | head -n 3)"; return; }
    done
    if [ $midway = 0 ]; then
        bad "$name: no rank was killed mid-way in 5 attempts"
    elif cmp -s "$T/start/m.bin" "$T/start/t.bin"; then
        ok "$name: rank $which of $np killed with SIGKILL (mpirun exit $rc), resumed after chapter $from with --resume alone (attempt $attempt): model equals threads"
    else
        bad "$name: resumed MPI model differs from the threads run"
    fi
}
ck_resume "checkpoint all-layers N=3" 3 --schedule all-layers --nodes 3
ck_resume "checkpoint single-layer N=L=3" 3 --schedule single-layer --recompute
ck_resume "checkpoint federated N=2" 2 --schedule federated --nodes 2 --shards label-skew

[ $fail = 0 ] && echo "test_mpi: all $n checks passed" || echo "test_mpi: FAILED"
exit $fail
