# accuracy on 10,000 of the 60,000 images the model trained on (the row used no --val, so pff's
# validation set of 10,000 lies inside its training set); 2026-12-07, AMD EPYC (family 26, model 2), Cooperlake
pff eval full-fixed-softmax-sequential.pff --val 10000 --threads 1 --json
