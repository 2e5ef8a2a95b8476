#!/bin/sh
# bench/pipeline.sh [PFF] — the schedule ratios of the pipeline issue, measured
# within one run: seconds per chapter of
#   sequential --threads 1, sequential --threads 2, all-layers --nodes 2 --threads 1
# on the same network and data, and the ratios between them.
# Environment: LAYERS (default 784,500,500,500), LIMIT (training images,
# default 20000), CHAPTERS (default 4, one epoch each).
set -eu
PFF=${1:-./pff}
LAYERS=${LAYERS:-784,500,500,500}
LIMIT=${LIMIT:-20000}
CHAPTERS=${CHAPTERS:-4}
common="--layers $LAYERS --epochs $CHAPTERS --splits $CHAPTERS --train-limit $LIMIT --test-limit 1000 --neg random --json --quiet"
secs() { sed 's/.*"train_seconds":\([0-9.]*\).*/\1/'; }
echo "pipeline ratios: layers $LAYERS, $LIMIT images, $CHAPTERS chapters of 1 epoch ($(nproc) cores, BLAS $("$PFF" --version | sed 's/.*BLAS: //; s/[,)].*//'))"
s1=$("$PFF" train $common --threads 1 | secs)
s2=$("$PFF" train $common --threads 2 | secs)
a2=$("$PFF" train $common --schedule all-layers --nodes 2 --threads 1 | secs)
awk -v s1="$s1" -v s2="$s2" -v a2="$a2" -v c="$CHAPTERS" 'BEGIN {
  printf "  sequential   --threads 1          %7.2f s  (%6.2f s/chapter)\n", s1, s1 / c
  printf "  sequential   --threads 2          %7.2f s  (%6.2f s/chapter)\n", s2, s2 / c
  printf "  all-layers   --nodes 2 --threads 1 %6.2f s  (%6.2f s/chapter)\n", a2, a2 / c
  printf "  speed-up all-layers N=2 T=1 over sequential T=1: %.2fx (issue: >= 1.8x)\n", s1 / a2
  printf "  all-layers N=2 T=1 vs sequential T=2:           %.2fx (issue: >= 1.0x)\n", s2 / a2
}'
