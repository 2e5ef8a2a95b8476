#!/bin/sh
# bench/memory.sh — peak RSS of every schedule on the paper network at 6,000 and 12,000
# images (4 nodes, 4 chapters: every node trains), for the linear fit to 60,000 in
# bench/archive/RESULTS.md. Run from the repository root.
P=${1:-./pff}
net="--layers 784,2000,2000,2000,2000 --neg random --test-limit 100 --threads 1 --oversubscribe --json --quiet"
for n in 6000 12000; do
  for s in "sequential:--epochs 1 --splits 1" "all-layers:--schedule all-layers --nodes 4 --epochs 4 --splits 4" "single-layer:--schedule single-layer --epochs 4 --splits 4" "single-layer-recompute:--schedule single-layer --recompute --epochs 4 --splits 4" "federated:--schedule federated --nodes 4 --epochs 4 --splits 4" "all-layers-softmax:--schedule all-layers --nodes 4 --epochs 4 --splits 4 --classifier softmax" "all-layers-2:--schedule all-layers --nodes 2 --epochs 2 --splits 2"; do
    name=${s%%:*}; args=${s#*:}
    r=$($P train $net --train-limit $n $args | grep -o '"peak_rss_mb":[0-9.]*')
    echo "$n $name $r"
  done
done
