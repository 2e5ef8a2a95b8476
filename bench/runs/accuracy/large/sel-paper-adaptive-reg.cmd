pff train --layers 784,2000,2000,2000,2000 --batch 64 --epochs 100 --splits 100 --neg adaptive --augment shift1 --dropout 0.1 --weight-decay 0.01 --val 10000 --checkpoint sel-paper-adaptive-reg.ck --log sel-paper-adaptive-reg.csv --save sel-paper-adaptive-reg.pff --quiet --json
pff eval sel-paper-adaptive-reg.pff --val 10000  --per-layer --json
