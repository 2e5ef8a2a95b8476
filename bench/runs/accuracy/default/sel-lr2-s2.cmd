pff train --seed 2 --lr 0.002 --val 10000 --log sel-lr2-s2.csv --save sel-lr2-s2.pff --quiet --json
pff eval sel-lr2-s2.pff --val 10000  --per-layer --json
