# The same run's saved model classified by all four layers on 2026-12-02 (02:23 UTC); the weights do not depend on it:
pff eval paper-adaptive.pff --goodness-from 1 --json   # 98.26% (layers 2..4, the paper's rule: 97.95%)
