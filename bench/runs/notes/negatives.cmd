pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 30000 --val 10000 --neg random --seed 1
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 30000 --val 10000 --neg random --seed 2
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 30000 --val 10000 --neg random --seed 3
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 30000 --val 10000 --neg adaptive --seed 1
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 30000 --val 10000 --neg adaptive --seed 2
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 30000 --val 10000 --neg adaptive --seed 3
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 30000 --val 10000 --neg hard --hard-temp 1 --seed 1
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 30000 --val 10000 --neg hard --hard-temp 1 --seed 2
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 30000 --val 10000 --neg hard --hard-temp 1 --seed 3
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 30000 --val 10000 --neg hard --hard-temp 10 --seed 1
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 30000 --val 10000 --neg hard --hard-temp 10 --seed 2
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 30000 --val 10000 --neg hard --hard-temp 10 --seed 3
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 30000 --val 10000 --neg hard --hard-temp 30 --seed 1
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 30000 --val 10000 --neg hard --hard-temp 30 --seed 2
pff train --layers 784,500,500,500 --quiet --json --epochs 4 --splits 4 --train-limit 30000 --val 10000 --neg hard --hard-temp 30 --seed 3
