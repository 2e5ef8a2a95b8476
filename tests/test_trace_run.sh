#!/bin/sh
# tests/test_trace_run.sh PFF TEST_TRACE — traced all-layers runs, checked by
# test_trace's JSON validator:
#   2 nodes: well-formed, one track per node, events inside the run, the
#            nodes' training overlapping;
#   3 nodes, 3 layers and a softmax head, 4 chapters: the same, plus tracks
#            named "node 1".., per-span args (layer, chapter, images, GFLOP/s),
#            queue-depth counters and one flow pair per hand-off: node c mod 3
#            hands layers 1-3 and the head of chapter c to the next node,
#            (4 - 1) x (3 + 1) = 12 pairs.
set -u
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$1" train --layers 784,200,200 --epochs 4 --splits 4 --train-limit 6000 --test-limit 1000 \
    --schedule all-layers --nodes 2 --threads 1 --quiet --trace "$T/run.json" >/dev/null || exit 1
"$2" "$T/run.json" 2 || exit 1
"$1" train --layers 784,100,100,100 --epochs 4 --splits 4 --train-limit 3000 --test-limit 300 \
    --schedule all-layers --nodes 3 --threads 1 --oversubscribe --classifier softmax --quiet \
    --trace "$T/run3.json" >/dev/null || exit 1
"$2" "$T/run3.json" 3 3 4 1
