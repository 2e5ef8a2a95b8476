#!/bin/sh
# tests/test_trace_run.sh PFF TEST_TRACE — a traced all-layers run on two nodes:
# the Chrome trace is checked by test_trace's JSON validator (well-formed, one
# track per node, events inside the run, the nodes' training overlapping).
set -u
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$1" train --layers 784,200,200 --epochs 4 --splits 4 --train-limit 6000 --test-limit 1000 \
    --schedule all-layers --nodes 2 --threads 1 --quiet --trace "$T/run.json" >/dev/null || exit 1
"$2" "$T/run.json" 2
