pff train --seed 3 --augment shift1 --dropout 0.1 --weight-decay 0.01 --val 10000 --log sel-reg-s3.csv --save sel-reg-s3.pff --quiet --json
pff eval sel-reg-s3.pff --val 10000  --per-layer --json
