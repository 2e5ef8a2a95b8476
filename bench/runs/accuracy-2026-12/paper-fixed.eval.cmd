# The same run's saved model classified by all four layers on 2026-12-01 (23:45 UTC); the weights do not depend on it:
pff eval paper-fixed.pff --goodness-from 1 --json   # 97.62% (layers 2..4, the paper's rule: 97.40%)
