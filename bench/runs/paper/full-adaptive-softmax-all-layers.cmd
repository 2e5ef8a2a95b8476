pff train --layers 784,2000,2000,2000,2000 --batch 64 --epochs 100 --splits 100 --train-limit 60000 --neg adaptive --classifier softmax --schedule all-layers --nodes 4 --threads 1 --oversubscribe --seed 1 --checkpoint full-adaptive-softmax-all-layers.ck --log full-adaptive-softmax-all-layers.csv --save full-adaptive-softmax-all-layers.pff --quiet --json
pff train --resume full-adaptive-softmax-all-layers.ck --log full-adaptive-softmax-all-layers.resume1.csv --quiet --json
pff train --resume full-adaptive-softmax-all-layers.ck --log full-adaptive-softmax-all-layers.resume2.csv --quiet --json
