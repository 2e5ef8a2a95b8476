pff train --augment shift1 --goodness-from 1 --seed 1 --test --log seed-shift1-k1-s1.csv --save seed-shift1-k1-s1.pff --quiet --json
