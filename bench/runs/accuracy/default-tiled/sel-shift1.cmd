pff train --augment shift1 --val 10000 --log sel-shift1.csv --save sel-shift1.pff --quiet --json
pff eval sel-shift1.pff --val 10000  --per-layer --json
