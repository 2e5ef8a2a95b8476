#!/bin/sh
# bench/utilisation.sh [PFF] — measured node utilisation of a real run against
# what `pff schedule` predicts for the same schedule, layers and chapters.
# Environment: SCHEDULE (all-layers), NODES (2), LAYERS (784,500,500,500),
# LIMIT (10000 images), CHAPTERS (10, one epoch each). The plan models the
# mapping pass after each layer as MAP (default 0.3) of a layer-epoch: its
# products are half a training epoch's, without the gradient, element-wise and
# Adam work (--map-cost).
set -eu
PFF=${1:-./pff}
SCHEDULE=${SCHEDULE:-all-layers}
NODES=${NODES:-2}
LAYERS=${LAYERS:-784,500,500,500}
LIMIT=${LIMIT:-10000}
CHAPTERS=${CHAPTERS:-10}
MAP=${MAP:-0.3}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$PFF" train --schedule "$SCHEDULE" --nodes "$NODES" --threads 1 --oversubscribe --layers "$LAYERS" \
    --epochs "$CHAPTERS" --splits "$CHAPTERS" --train-limit "$LIMIT" --test-limit 1000 --neg random \
    --trace "$T/run.txt" --json --quiet >"$T/run.json"
"$PFF" schedule --schedule "$SCHEDULE" --nodes "$NODES" --layers "$LAYERS" --splits "$CHAPTERS" \
    --map-cost "$MAP" --json 2>/dev/null >"$T/plan.json"
measured=$(sed 's/.*"node_utilisation":\[\([^]]*\)\].*/\1/' "$T/run.json")
planned=$(sed 's/.*"nodes_detail":\[\(.*\)\]}.*/\1/; s/{[^}]*"utilisation":\([0-9.]*\)[^}]*}/\1/g' "$T/plan.json")
echo "utilisation, $SCHEDULE, $NODES nodes, layers $LAYERS, $CHAPTERS chapters, $LIMIT images:"
echo "$measured" "$planned" | awk '{
  n = split($1, m, ","); split($2, p, ",");
  worst = 0
  for (i = 1; i <= n; i++) {
    d = m[i] - p[i]; if (d < 0) d = -d
    rel = p[i] > 0 ? d / p[i] : 0; if (rel > worst) worst = rel
    printf "  node %d: measured %.3f, planned %.3f (%+.1f%%)\n", i, m[i], p[i], 100 * (m[i] - p[i]) / p[i]
  }
  printf "  largest relative difference: %.1f%% (issue: within 10%%)\n", 100 * worst
}'
cat "$T/run.txt" | head -4
