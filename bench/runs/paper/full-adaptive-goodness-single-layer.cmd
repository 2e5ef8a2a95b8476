pff train --layers 784,2000,2000,2000,2000 --batch 64 --epochs 100 --splits 100 --train-limit 60000 --neg adaptive --classifier goodness --schedule single-layer --nodes 4 --threads 1 --oversubscribe --fast --seed 1 --checkpoint full-adaptive-goodness-single-layer.ck --log full-adaptive-goodness-single-layer.csv --save full-adaptive-goodness-single-layer.pff --quiet --json
pff train --resume full-adaptive-goodness-single-layer.ck --log full-adaptive-goodness-single-layer.resume1.csv --quiet --json
pff train --resume full-adaptive-goodness-single-layer.ck --log full-adaptive-goodness-single-layer.resume2.csv --quiet --json
pff train --resume full-adaptive-goodness-single-layer.ck --log full-adaptive-goodness-single-layer.resume3.csv --quiet --json
pff train --resume full-adaptive-goodness-single-layer.ck --log full-adaptive-goodness-single-layer.resume4.csv --quiet --json
