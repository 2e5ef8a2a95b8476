pff train --lr 0.002 --val 10000 --log sel-lr2.csv --save sel-lr2.pff --quiet --json
pff eval sel-lr2.pff --val 10000  --per-layer --json
