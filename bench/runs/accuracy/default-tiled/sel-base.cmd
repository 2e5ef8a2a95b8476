pff train --val 10000 --log sel-base.csv --save sel-base.pff --quiet --json
pff eval sel-base.pff --val 10000  --per-layer --json
