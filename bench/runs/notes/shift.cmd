pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 20000 --val 10000 --augment none --seed 1
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 20000 --val 10000 --augment none --seed 2
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 20000 --val 10000 --augment none --seed 3
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 20000 --val 10000 --augment shift --seed 1
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 20000 --val 10000 --augment shift --seed 2
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 20000 --val 10000 --augment shift --seed 3
