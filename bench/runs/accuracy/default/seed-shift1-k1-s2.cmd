pff train --augment shift1 --goodness-from 1 --seed 2 --test --log seed-shift1-k1-s2.csv --save seed-shift1-k1-s2.pff --quiet --json
