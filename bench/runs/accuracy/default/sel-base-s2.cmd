pff train --seed 2 --val 10000 --log sel-base-s2.csv --save sel-base-s2.pff --quiet --json
pff eval sel-base-s2.pff --val 10000  --per-layer --json
