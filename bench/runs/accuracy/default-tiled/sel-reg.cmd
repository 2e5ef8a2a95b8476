pff train --augment shift1 --dropout 0.1 --weight-decay 0.01 --val 10000 --log sel-reg.csv --save sel-reg.pff --quiet --json
pff eval sel-reg.pff --val 10000  --per-layer --json
