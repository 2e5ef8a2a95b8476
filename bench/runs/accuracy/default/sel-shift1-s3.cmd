pff train --seed 3 --augment shift1 --val 10000 --log sel-shift1-s3.csv --save sel-shift1-s3.pff --quiet --json
pff eval sel-shift1-s3.pff --val 10000  --per-layer --json
