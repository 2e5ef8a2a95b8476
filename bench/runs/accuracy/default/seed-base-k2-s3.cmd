pff train --goodness-from 2 --seed 3 --test --log seed-base-k2-s3.csv --save seed-base-k2-s3.pff --quiet --json
