pff train --layers 784,2000,2000,2000,2000 --batch 64 --epochs 100 --splits 100 --train-limit 60000 --neg adaptive --classifier softmax --schedule single-layer --nodes 4 --threads 1 --oversubscribe --fast --seed 1 --checkpoint full-adaptive-softmax-single-layer.ck --log full-adaptive-softmax-single-layer.csv --save full-adaptive-softmax-single-layer.pff --quiet --json
pff train --resume full-adaptive-softmax-single-layer.ck --log full-adaptive-softmax-single-layer.resume1.csv --quiet --json
pff train --resume full-adaptive-softmax-single-layer.ck --log full-adaptive-softmax-single-layer.resume2.csv --quiet --json
pff train --resume full-adaptive-softmax-single-layer.ck --log full-adaptive-softmax-single-layer.resume3.csv --quiet --json
pff train --resume full-adaptive-softmax-single-layer.ck --log full-adaptive-softmax-single-layer.resume4.csv --quiet --json
