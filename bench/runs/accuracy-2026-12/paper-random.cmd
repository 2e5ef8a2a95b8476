# made by bench/paper.sh --scale full (its log: bench/paper/full-random-sequential.csv), OPENBLAS_CORETYPE unset: Cooperlake
pff train --layers 784,2000,2000,2000,2000 --batch 64 --epochs 100 --splits 100 --neg random --threads 2 --eval-every 20 --checkpoint full-random.ck --log full-random.csv --json
