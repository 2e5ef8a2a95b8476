pff train --seed 2 --augment shift1 --dropout 0.1 --weight-decay 0.01 --val 10000 --log sel-reg-s2.csv --save sel-reg-s2.pff --quiet --json
pff eval sel-reg-s2.pff --val 10000  --per-layer --json
