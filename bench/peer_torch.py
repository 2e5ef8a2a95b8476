#!/usr/bin/env python3
"""bench/peer_torch.py: the Forward-Forward trainer a PyTorch user would write,
as the peer that `make bench` (bench/floor.sh) times against pff.

The maths is pff's (DESIGN.md section 1):
  - input: the image in [0,1] with its first 10 pixels replaced by a one-hot label;
  - layer: relu(Linear(n(x))) with n(x) = x / (sqrt(mean(x^2)) + 1e-8), the RMS
    normalisation applied to every layer's input, the first included; weights
    drawn from N(0, 1/fan_in), zero bias;
  - goodness G = sum of squared activities; loss per layer
    softplus(theta - G+) + softplus(G- - theta), mean over the batch, theta = width;
  - each layer has its own torch.optim.Adam (lr 0.001 unless --lr) and its
    own loss; no gradient crosses layers (each layer trains on a tensor that
    does not require grad: the inputs mapped through the layers below under
    torch.no_grad());
  - linear cooldown of the learning rate after half the epochs, as pff does;
  - batch 64: each batch is 64 positives and the same 64 images with a wrong
    label, concatenated into one forward pass of 128 rows (as pff does, and as
    public FF code such as loeweX/Forward-Forward does);
  - random negatives: a wrong label drawn uniformly among the 9 others,
    redrawn at every chapter;
  - goodness classifier on the test set: for each of the 10 labels, the sum of
    G over layers 2..L (layer 1 alone for a one-layer network), argmax.

Schedule: layer by layer within each chapter, like pff's Sequential schedule
(pipeline/schedule.c): in chapter c, layer k trains its epochs on the
positives and negatives mapped through layers 1..k-1 as they are after chapter
c, and then both are mapped through layer k for layer k+1. So the peer does
the same products as pff: per image and epoch 8 x sum(in*out) FLOP of training
(forward and weight gradient, positives and negatives) plus the mapping pass,
4 x sum(in*out) over layers 1..L-1 per chapter. The reported gflops counts
training only, 8 x sum(in*out) x images x epochs, exactly like pff's --json.

train_seconds: from the first embedding to the last layer trained (data
already in memory, layers built); the test evaluation is timed apart.

Prints one JSON line on stdout. Usage:
  peer_torch.py --data DIR --layers 784,2000,2000,2000,2000 --epochs 1 \
      --splits 1 --train-limit 12000 --test-limit 10000 --threads 2
"""
import argparse
import ctypes
import json
import os
import sys
import time

import numpy as np


def parse_args():
    p = argparse.ArgumentParser(description="idiomatic PyTorch Forward-Forward (the peer of pff)")
    p.add_argument("--data", default="data/mnist", help="directory with the four MNIST IDX files")
    p.add_argument("--layers", default="784,500,500,500", help="widths, input first")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--splits", type=int, default=1, help="chapters; epochs %% splits must be 0")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--threshold", type=float, default=1.0, help="theta = threshold x width")
    p.add_argument("--train-limit", type=int, default=0, help="first N training images (0: all)")
    p.add_argument("--test-limit", type=int, default=0, help="first N test images (0: all)")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--adam-foreach", action="store_true",
                   help="torch.optim.Adam(foreach=True): not the default a user gets, but much faster in "
                        "torch 1.13 on CPU, whose default Adam spends most of its step in one division")
    a = p.parse_args()
    if a.epochs < 1 or a.splits < 1 or a.epochs % a.splits:
        p.error("--epochs must be a positive multiple of --splits")
    return a


ARGS = parse_args()
# torch.set_num_threads sets OpenMP's threads, not OpenBLAS's own pool, which
# otherwise takes every core: give OpenBLAS the same count unless the user set it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))
import torch  # noqa: E402  (after the environment is set)
import torch.nn.functional as F  # noqa: E402


def read_idx(path):
    """An IDX file as a numpy array (big-endian header: magic, then the dims)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        sys.exit(f"peer_torch: {path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        sys.exit(f"peer_torch: {path}: {data.size} values, the header says {dims}")
    return data.reshape(dims)


def load(prefix, limit):
    x = read_idx(os.path.join(ARGS.data, f"{prefix}-images-idx3-ubyte"))
    y = read_idx(os.path.join(ARGS.data, f"{prefix}-labels-idx1-ubyte"))
    if limit:
        x, y = x[:limit], y[:limit]
    x = torch.from_numpy(x.reshape(len(x), -1).astype(np.float32) / 255.0)
    return x, torch.from_numpy(y.astype(np.int64))


def embed(x, labels):
    """The image with its first 10 pixels replaced by the one-hot label."""
    out = x.clone()
    out[:, :10] = F.one_hot(labels, 10).to(x.dtype)
    return out


class FFLayer(torch.nn.Module):
    def __init__(self, fan_in, fan_out):
        super().__init__()
        self.linear = torch.nn.Linear(fan_in, fan_out)
        torch.nn.init.normal_(self.linear.weight, std=fan_in ** -0.5)
        torch.nn.init.zeros_(self.linear.bias)
        self.theta = ARGS.threshold * fan_out
        self.opt = torch.optim.Adam(self.parameters(), lr=ARGS.lr, foreach=ARGS.adam_foreach or None)

    def forward(self, x):
        x = x / (x.pow(2).mean(dim=1, keepdim=True).sqrt() + 1e-8)
        return torch.relu(self.linear(x))

    def train_step(self, pos, neg, lr):
        for group in self.opt.param_groups:
            group["lr"] = lr
        t0 = time.perf_counter()
        g = self(torch.cat([pos, neg])).pow(2).sum(dim=1)
        g_pos, g_neg = g[: len(pos)], g[len(pos):]
        loss = (F.softplus(self.theta - g_pos) + F.softplus(g_neg - self.theta)).mean()
        t1 = time.perf_counter()
        self.opt.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        self.opt.step()
        t3 = time.perf_counter()
        PHASES["forward"] += t1 - t0
        PHASES["backward"] += t2 - t1
        PHASES["adam"] += t3 - t2
        return loss.item()


# where the training time goes: the forward and loss, backward (the weight gradient), the Adam
# step, the mapping pass; the rest of train_seconds is batching and bookkeeping
PHASES = {"forward": 0.0, "backward": 0.0, "adam": 0.0, "mapping": 0.0}


def cooldown(lr, e, epochs):
    return lr if 2 * e < epochs else lr * 2.0 * (epochs - e) / epochs


def train(layers, x, y):
    epochs_per_chapter = ARGS.epochs // ARGS.splits
    n = len(x)
    for chapter in range(ARGS.splits):
        wrong = (y + torch.randint(1, 10, (n,))) % 10  # uniform among the 9 wrong labels
        pos, neg = embed(x, y), embed(x, wrong)
        for k, layer in enumerate(layers):
            for j in range(epochs_per_chapter):
                lr = cooldown(ARGS.lr, chapter * epochs_per_chapter + j, ARGS.epochs)
                perm = torch.randperm(n)
                for b0 in range(0, n, ARGS.batch):
                    idx = perm[b0: b0 + ARGS.batch]
                    loss = layer.train_step(pos[idx], neg[idx], lr)
                if not np.isfinite(loss):
                    sys.exit(f"peer_torch: layer {k + 1}: the loss is {loss}")
            if k + 1 < len(layers):
                t0 = time.perf_counter()
                with torch.no_grad():  # the mapping pass: inputs of the next layer
                    pos, neg = layer(pos), layer(neg)
                PHASES["mapping"] += time.perf_counter() - t0


@torch.no_grad()
def goodness_accuracy(layers, x, y):
    scores = torch.zeros(len(x), 10)
    for label in range(10):
        h = embed(x, torch.full((len(x),), label, dtype=torch.int64))
        for k, layer in enumerate(layers):
            h = layer(h)
            if k >= 1 or len(layers) == 1:
                scores[:, label] += h.pow(2).sum(dim=1)
    return 100.0 * (scores.argmax(dim=1) == y).float().mean().item()


def openblas_info():
    """The OpenBLAS that torch loaded (through libblas.so.3), if any: its
    library name as mapped in this process, its core and its thread count."""
    names = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                base = os.path.basename(line.split()[-1]) if "/" in line else ""
                if "blas" in base or "lapack" in base or "mkl" in base:
                    names.add(base)
    except OSError:
        pass
    info = {"blas_libraries": sorted(names), "openblas_core": None}
    # ask the OpenBLAS torch itself loaded: never load one of our own (it would answer for itself)
    if not any(n.startswith("libopenblas") for n in names):
        return info
    try:
        lib = ctypes.CDLL("libopenblas.so.0", mode=getattr(os, "RTLD_NOLOAD", 4) | ctypes.RTLD_GLOBAL)
        lib.openblas_get_corename.restype = ctypes.c_char_p
        info["openblas_core"] = lib.openblas_get_corename().decode()
        info["openblas_threads"] = lib.openblas_get_num_threads()
    except (OSError, AttributeError):
        info["openblas_core"] = None
    return info


def main():
    torch.set_num_threads(ARGS.threads)
    torch.manual_seed(ARGS.seed)
    widths = [int(w) for w in ARGS.layers.split(",")]
    x, y = load("train", ARGS.train_limit)
    tx, ty = load("t10k", ARGS.test_limit)
    if x.shape[1] != widths[0]:
        sys.exit(f"peer_torch: images have {x.shape[1]} pixels, --layers starts with {widths[0]}")
    layers = [FFLayer(widths[k], widths[k + 1]) for k in range(len(widths) - 1)]

    t0 = time.perf_counter()
    train(layers, x, y)
    train_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    acc = goodness_accuracy(layers, tx, ty)
    eval_seconds = time.perf_counter() - t0

    flop = 8.0 * sum(widths[k] * widths[k + 1] for k in range(len(widths) - 1)) * len(x) * ARGS.epochs
    config = torch.__config__.show()
    blas_info = next((s.split("=")[1] for s in config.replace(",", " ").split() if s.startswith("BLAS_INFO=")), None)
    out = {
        "peer": "pytorch",
        "schedule": "sequential (layer by layer per chapter)",
        "layers": widths, "epochs": ARGS.epochs, "splits": ARGS.splits, "batch": ARGS.batch,
        "lr": ARGS.lr, "adam_foreach": ARGS.adam_foreach, "train_n": len(x), "test_n": len(tx),
        "threads": torch.get_num_threads(),
        "train_seconds": round(train_seconds, 3), "eval_seconds": round(eval_seconds, 3),
        "gflops": round(flop / train_seconds / 1e9, 2),
        "test_accuracy": round(acc, 4),
        "torch_version": torch.__version__,
        "torch_blas_info": blas_info,
        "torch_cpu_capability": next((l.split(":")[1].strip() for l in config.splitlines()
                                      if "CPU capability usage" in l), None),
        "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
        "phase_seconds": {k: round(v, 3) for k, v in PHASES.items()},
    }
    out.update(openblas_info())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
