pff train --augment shift1 --goodness-from 1 --seed 3 --test --log seed-shift1-k1-s3.csv --save seed-shift1-k1-s3.pff --quiet --json
