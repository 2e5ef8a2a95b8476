#!/bin/sh
# device check: pipeline scaling with 1..16 node threads, and peak RSS per schedule,
# on the paper's network. Static pff, MNIST carried gzipped.
set -u
O=${OUT:-/tmp/out}; mkdir -p "$O" /tmp/mnist
for f in .dev/mnist/*.gz; do gunzip -c "$f" > /tmp/mnist/$(basename "$f" .gz); done
P=.dev/pff
{
echo "== machine"; nproc; grep -m1 "model name" /proc/cpuinfo; grep -o -m1 'avx512f' /proc/cpuinfo || echo "no avx512f"
free -g | head -2; $P --version
} > "$O/machine.txt" 2>&1
cat "$O/machine.txt"
net="--layers 784,2000,2000,2000,2000 --data /tmp/mnist --neg random --test-limit 1000 --json --quiet"
row() { label=$1; shift; t0=$(date +%s.%N); j=$($P train $net "$@" 2>&1 | tail -1); echo "$label | $(echo "$j" | grep -o '"train_seconds":[0-9.]*\|"peak_rss_mb":[0-9.]*\|"goodness_accuracy":[0-9.]*' | tr '\n' ' ')" | tee -a "$O/$F"; }
F=scaling.txt; echo "== scaling: 1000 images, 16 chapters of 1 epoch" | tee "$O/$F"
s="--train-limit 1000 --epochs 16 --splits 16"
row "sequential T=1" $s --threads 1
row "sequential T=16" $s --threads 16
for n in 2 4 8 16; do row "all-layers N=$n T=1" $s --schedule all-layers --nodes $n --threads 1; done
row "all-layers N=4 T=4" $s --schedule all-layers --nodes 4 --threads 4
row "single-layer N=4 T=1" $s --schedule single-layer --threads 1
row "single-layer N=4 T=4" $s --schedule single-layer --threads 4
F=rss.txt; echo "== peak RSS: 60000 images" | tee "$O/$F"
row "sequential T=16, 1 chapter" --epochs 1 --splits 1 --threads 16
row "all-layers N=4 T=4, 4 chapters" --epochs 4 --splits 4 --schedule all-layers --nodes 4 --threads 4
row "single-layer N=4 T=4, 4 chapters" --epochs 4 --splits 4 --schedule single-layer --threads 4
row "single-layer N=4 T=4 --recompute, 4 chapters" --epochs 4 --splits 4 --schedule single-layer --recompute --threads 4
row "federated N=4 T=4, 4 chapters" --epochs 4 --splits 4 --schedule federated --nodes 4 --threads 4
row "all-layers N=4 T=4 softmax, 4 chapters" --epochs 4 --splits 4 --schedule all-layers --nodes 4 --threads 4 --classifier softmax
