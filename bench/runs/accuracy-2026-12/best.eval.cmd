# The same run's final model (the checkpoint resumed with --save best.pff) classified by all four
# layers on 2026-12-01 (21:40 UTC). --goodness-from never changes training (tests/test_pipeline.c
# checks the weights and Adam state to the bit), so the run above with --goodness-from 1 added
# trains this very model and reports this figure:
pff eval best.pff --goodness-from 1 --json   # 99.06% (layers 2..4, the paper's rule: 98.92%)
