pff train --seed 3 --val 10000 --log sel-base-s3.csv --save sel-base-s3.pff --quiet --json
pff eval sel-base-s3.pff --val 10000  --per-layer --json
