# run by bench/accuracy.sh with BEST_ARGS plus --threads 1, on 1 thread beside a 2-thread full-scale run (its seconds are slower than a quiet run), OPENBLAS_CORETYPE unset: Cooperlake
pff train --layers 784,1000,1000,1000 --epochs 80 --splits 80 --augment shift1 --dropout 0.1 --weight-decay 0.01 --threads 1 --eval-every 1 --checkpoint best.ck --log best.csv --json
