pff train --seed 2 --augment shift1 --val 10000 --log sel-shift1-s2.csv --save sel-shift1-s2.pff --quiet --json
pff eval sel-shift1-s2.pff --val 10000  --per-layer --json
