pff train --goodness-from 2 --seed 1 --test --log seed-base-k2-s1.csv --save seed-base-k2-s1.pff --quiet --json
