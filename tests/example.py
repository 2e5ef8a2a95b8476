#!/usr/bin/env python3
"""tests/example.py - a pff model in NumPy: the whole classifier on one page.

    pff export model.pff model                      # model.npz, model.safetensors
    python3 tests/example.py model.npz data/mnist/t10k-images-idx3-ubyte [N] [--json]

Prints the predicted label of the first N test images (default 10), or with
--json one line per image: {"index": i, "label": l, "scores": [goodness of
each label]} - the numbers `pff predict --json` prints. Needs only NumPy.

The model, as pff computes it (DESIGN.md section 1):
  * an image is 784 floats in [0, 1]; label l is embedded by replacing the
    first 10 values with the one-hot vector of l;
  * every layer normalises its input x to n(x) = x / (sqrt(mean(x^2)) + 1e-8)
    and computes y = relu(W n(x) + b), W of shape (out, in);
  * the goodness of a layer is sum(y^2); the score of label l sums the
    goodness of layers 2..L (layer 1 alone when L == 1);
  * the prediction is the label with the largest score.
"""
import json
import sys

import numpy as np


def load_model(path):
    """Weights and biases of the FF layers, in order, and the configuration."""
    z = np.load(path)
    config = json.loads(z["config"].item())
    layers = []
    k = 1
    while "layer%d.weight" % k in z.files:
        layers.append((z["layer%d.weight" % k].astype(np.float64),
                       z["layer%d.bias" % k].astype(np.float64)))
        k += 1
    return layers, config


def load_idx_images(path, n):
    """The first n images of an IDX3 file, as floats in [0, 1], one row each."""
    with open(path, "rb") as f:
        magic, count, rows, cols = np.frombuffer(f.read(16), dtype=">u4")
        if magic != 0x803:
            sys.exit("%s: not an IDX image file" % path)
        n = min(n, int(count))
        pixels = np.frombuffer(f.read(n * int(rows) * int(cols)), dtype=np.uint8)
    return pixels.reshape(n, int(rows) * int(cols)).astype(np.float32) / np.float32(255.0)


def rms_normalise(x, eps):
    return x / (np.sqrt(np.mean(x * x, axis=1, keepdims=True)) + eps)


def goodness_scores(layers, config, images):
    """scores[i, l]: the goodness of image i with label l embedded."""
    slots, eps = config["label_slots"], config["rms_eps"]
    goodness_layers = config["goodness_layers"]  # 1-based
    scores = np.zeros((images.shape[0], slots))
    for label in range(slots):
        x = images.astype(np.float64)
        x[:, :slots] = 0.0
        x[:, label] = 1.0
        for k, (w, b) in enumerate(layers, start=1):
            y = np.maximum(rms_normalise(x, eps) @ w.T + b, 0.0)
            if k in goodness_layers:
                scores[:, label] += np.sum(y * y, axis=1)
            x = y
    return scores


def main(argv):
    args = [a for a in argv[1:] if a != "--json"]
    if len(args) < 2:
        sys.exit("usage: example.py MODEL.npz IDX_IMAGES [N] [--json]")
    layers, config = load_model(args[0])
    images = load_idx_images(args[1], int(args[2]) if len(args) > 2 else 10)
    scores = goodness_scores(layers, config, images)
    labels = np.argmax(scores, axis=1)
    if "--json" in argv:
        for i, (label, row) in enumerate(zip(labels, scores)):
            print(json.dumps({"index": i, "label": int(label),
                              "scores": [float("%.9g" % s) for s in row]}))
    else:
        print(" ".join(str(int(label)) for label in labels))


if __name__ == "__main__":
    main(sys.argv)
