pff train --seed 3 --lr 0.002 --val 10000 --log sel-lr2-s3.csv --save sel-lr2-s3.pff --quiet --json
pff eval sel-lr2-s3.pff --val 10000  --per-layer --json
