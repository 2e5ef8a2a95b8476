#!/bin/sh
# bench/transport.sh [PFF] — seconds per chapter of the same run over the two
# transports, one after the other on this machine: all-layers and
# single-layer (--recompute, as MPI runs it), --transport threads against
# --transport mpi under mpirun, over Open MPI's defaults (shared memory on one
# machine) and over TCP only (--mca btl tcp,self --mca btl_tcp_if_include lo:
# the byte path of a job across machines, here through the loopback).
# PFF must be built with make MPI=1.
# Environment: LAYERS (default the paper's 784,2000,2000,2000,2000), LIMIT
# (training images, default 3000), CHAPTERS (default 6, one epoch each),
# NODES (all-layers nodes, default 2).
set -eu
PFF=${1:-./pff}
LAYERS=${LAYERS:-784,2000,2000,2000,2000}
LIMIT=${LIMIT:-3000}
CHAPTERS=${CHAPTERS:-6}
NODES=${NODES:-2}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
L=$(echo "$LAYERS" | tr ',' '\n' | sed 1d | wc -l)
common="--layers $LAYERS --epochs $CHAPTERS --splits $CHAPTERS --train-limit $LIMIT --test-limit 1000 --neg random --threads 1 --oversubscribe --json --quiet"
secs() { sed 's/.*"train_seconds":\([0-9.]*\).*/\1/'; }
echo "transports: layers $LAYERS, $LIMIT images, $CHAPTERS chapters of 1 epoch, $(nproc) cores, 1 thread per node"
row() { # label nodes schedule-args
    t=$("$PFF" train $common $3 | secs)
    m=$(mpirun --oversubscribe --bind-to none -np "$2" "$PFF" train --transport mpi $common $3 | secs)
    p=$(mpirun --oversubscribe --bind-to none --mca btl tcp,self --mca btl_tcp_if_include lo \
        -np "$2" "$PFF" train --transport mpi $common $3 | secs)
    awk -v l="$1" -v t="$t" -v m="$m" -v p="$p" -v c="$CHAPTERS" 'BEGIN {
        printf "  %-28s threads %6.2f s/chapter   mpi (shared memory) %6.2f s/chapter   mpi (TCP) %6.2f s/chapter   tcp/shm %.3f\n",
            l, t / c, m / c, p / c, p / m }'
}
row "all-layers N=$NODES" "$NODES" "--schedule all-layers --nodes $NODES"
row "single-layer N=$L --recompute" "$L" "--schedule single-layer --recompute"
