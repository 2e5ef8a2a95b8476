pff train --goodness-from 2 --seed 2 --test --log seed-base-k2-s2.csv --save seed-base-k2-s2.pff --quiet --json
