#!/bin/sh
# shellcheck disable=SC2015 # ok() always succeeds: A && ok || fail is if-then-else
# tests/test_export.sh PFF — pff export: the .npz read by numpy.load, the
# .safetensors parsed with plain json + NumPy, tests/example.py's goodness
# scores against `pff predict --json` on 1,000 test images (1e-4 relative,
# identical labels), deterministic bytes, the FF layers of a run with a softmax
# head equal to those of the same run without one, refusals with exit status 2 and no
# output. Runs from the repository root, needs data/mnist and NumPy; < 60 s.
set -u
PFF=${1:-./pff}
case $PFF in */*) PFF=$(cd "$(dirname "$PFF")" && pwd)/$(basename "$PFF") ;; esac
cd "$(dirname "$0")/.." || exit 1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
echo "== tests/test_export.sh"

# A Python with NumPy: $PYTHON, python3, or Debian's own (python3-numpy).
PY=""
for p in ${PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import numpy' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
    echo "FAIL: no python3 with NumPy (make test-deps installs python3-numpy)"
    exit 1
fi

# --- two small models: goodness only (3 layers), and one with a softmax head
"$PFF" train --layers 784,200,200,200 --epochs 2 --splits 2 --train-limit 6000 --test-limit 500 \
    --lr 0.003 --threads 1 --quiet --save "$T/g.pff" >"$T/train" 2>&1 ||
    { echo "FAIL: training the goodness model: $(cat "$T/train")"; exit 1; }
"$PFF" train --layers 784,100,80 --epochs 2 --splits 2 --train-limit 3000 --test-limit 200 \
    --classifier softmax --augment shift1 --dropout 0.1 --weight-decay 0.01 --threads 1 --quiet --save "$T/s.pff" >"$T/train" 2>&1 ||
    { echo "FAIL: training the softmax model: $(cat "$T/train")"; exit 1; }

# --- the softmax head is a stage of its own: a run with it trains the FF layers to the same bits
# as the run without it (bench/paper-report.sh fills a goodness row from a softmax run's model)
for cls in goodness softmax; do
    "$PFF" train --layers 784,100,100,100 --epochs 3 --splits 3 --train-limit 2000 --test-limit 200 \
        --neg adaptive --schedule all-layers --nodes 2 --classifier $cls --threads 1 --quiet \
        --save "$T/head-$cls.pff" >"$T/train" 2>&1 && "$PFF" export "$T/head-$cls.pff" "$T/head-$cls.npz" 2>>"$T/train" ||
        fail "training or exporting the $cls model for the head check: $(cat "$T/train")"
done
"$PY" - "$T/head-goodness.npz" "$T/head-softmax.npz" >"$T/py" 2>&1 <<'PYEOF'
import sys
import numpy as np
g, s = np.load(sys.argv[1]), np.load(sys.argv[2])
layers = sorted(k for k in g.files if k.startswith("layer"))
assert len(layers) == 6, layers
for k in layers:
    assert g[k].tobytes() == s[k].tobytes(), f"{k} differs"
assert "head.weight" in s.files and "head.weight" not in g.files
print(f"{len(layers)} arrays equal, head only in the softmax model")
PYEOF
[ $? = 0 ] && ok "adaptive all-layers: goodness and softmax runs train the same FF layers, bit for bit ($(cat "$T/py"))" ||
    fail "softmax head changed the FF layers: $(cat "$T/py")"

# --- OUT as a stem writes both; OUT.npz / OUT.safetensors write that one only
"$PFF" export "$T/g.pff" "$T/g" 2>"$T/err" && [ -s "$T/g.npz" ] && [ -s "$T/g.safetensors" ] &&
    ok "pff export g.pff g: g.npz and g.safetensors" || fail "pff export g.pff g: $(cat "$T/err")"
mkdir "$T/one"
"$PFF" export "$T/s.pff" "$T/one/s.npz" 2>"$T/err" && "$PFF" export "$T/s.pff" "$T/one/t.safetensors" 2>>"$T/err" &&
    [ "$(cd "$T/one" && ls | tr '\n' ' ')" = "s.npz t.safetensors " ] &&
    ok "pff export s.pff s.npz / t.safetensors: one file each" ||
    fail "export by extension: $(ls "$T/one") $(cat "$T/err")"
"$PFF" export "$T/g.pff" "$T/again" 2>/dev/null && cmp -s "$T/g.npz" "$T/again.npz" &&
    cmp -s "$T/g.safetensors" "$T/again.safetensors" &&
    ok "exporting twice gives identical bytes" || fail "export is not deterministic"

# --- the files themselves: zip CRCs, shapes, values, configuration
if "$PY" - "$T" >"$T/py" 2>&1 <<'EOF'
import json, struct, sys, zipfile
import numpy as np
T = sys.argv[1]

def safetensors(path):
    """Parse a .safetensors file with json + NumPy only: (tensors, metadata)."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    data = raw[8 + n:]
    out, end = {}, 0
    for name, t in header.items():
        assert t["dtype"] == "F32", name
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(t["shape"])
        end = max(end, b)
    assert end == len(data), "data section has %d bytes, tensors cover %d" % (len(data), end)
    assert n % 8 == 0
    return out, meta

for stem, npz, st, widths, head in (("g", T + "/g.npz", T + "/g.safetensors", [784, 200, 200, 200], False),
                                     ("s", T + "/one/s.npz", T + "/one/t.safetensors", [784, 100, 80], True)):
    assert zipfile.ZipFile(npz).testzip() is None, "bad CRC in " + npz
    z = np.load(npz)
    cfg = json.loads(z["config"].item())
    assert cfg["layers"] == widths, cfg["layers"]
    assert cfg["has_head"] == head
    L = len(widths) - 1
    want = ["layer%d.%s" % (k, p) for k in range(1, L + 1) for p in ("weight", "bias")]
    if head:
        want += ["head.weight", "head.bias"]
    assert sorted(z.files) == sorted(want + ["config"]), z.files
    for k in range(1, L + 1):
        assert z["layer%d.weight" % k].shape == (widths[k], widths[k - 1])
        assert z["layer%d.bias" % k].shape == (widths[k],)
        assert z["layer%d.weight" % k].dtype == np.float32
    if head:
        assert z["head.weight"].shape == (10, sum(widths[2:]))
        assert z["head.bias"].shape == (10,)
    tensors, meta = safetensors(st)
    assert sorted(tensors) == sorted(want), sorted(tensors)
    for name in want:
        assert np.array_equal(tensors[name], z[name]), name
    assert all(isinstance(v, str) for v in meta.values())
    assert json.loads(meta["layers"]) == widths and meta["classifier"] == cfg["classifier"]
    assert float(meta["threshold"]) == cfg["threshold"]
    # the training options travel with the weights
    regs = ("shift1", 0.1, 0.01) if head else ("none", 0, 0)
    assert (cfg["augment"], cfg["neg"], cfg["hard_temp"]) == (regs[0], "adaptive", 1), cfg
    assert abs(cfg["dropout"] - regs[1]) < 1e-7 and abs(cfg["weight_decay"] - regs[2]) < 1e-7, cfg
    assert meta["augment"] == regs[0] and float(meta["dropout"]) == cfg["dropout"], meta
    print("%s: %d arrays, shapes as pff.h, safetensors equal to npz, config %s" % (stem, len(want), meta["layers"]))

# 1,000 test images as PGM files for pff predict (bit-identical to the IDX set)
import os
with open("data/mnist/t10k-images-idx3-ubyte", "rb") as f:
    f.read(16)
    px = np.frombuffer(f.read(1000 * 784), dtype=np.uint8).reshape(1000, 28, 28)
os.mkdir(T + "/pgm")
for i in range(1000):
    with open("%s/pgm/%04d.pgm" % (T, i), "wb") as f:
        f.write(b"P5\n28 28\n255\n" + px[i].tobytes())
EOF
then
    ok "npz (numpy.load, zip CRCs) and safetensors (json + NumPy): $(tr '\n' ';' <"$T/py")"
else
    fail "reading the exported files: $(cat "$T/py")"
fi

# --- tests/example.py against pff predict --json on 1,000 test images
"$PY" tests/example.py "$T/g.npz" data/mnist/t10k-images-idx3-ubyte 1000 --json >"$T/numpy.jsonl" 2>"$T/err" ||
    fail "tests/example.py: $(cat "$T/err")"
# shellcheck disable=SC2046 # the file names have no spaces
"$PFF" predict "$T/g.pff" --threads 1 --json $(ls "$T"/pgm/*.pgm) >"$T/pff.jsonl" 2>"$T/err" ||
    fail "pff predict: $(cat "$T/err")"
if "$PY" - "$T" >"$T/cmp" 2>&1 <<'EOF'
import json, sys
T = sys.argv[1]
ours = [json.loads(l) for l in open(T + "/numpy.jsonl")]
pffs = [json.loads(l) for l in open(T + "/pff.jsonl")]
assert len(ours) == len(pffs) == 1000, (len(ours), len(pffs))
worst, same = 0.0, 0
for i, (a, b) in enumerate(zip(ours, pffs)):
    assert b["file"].endswith("%04d.pgm" % i), b["file"]
    for x, y in zip(a["scores"], b["scores"]):
        worst = max(worst, abs(x - y) / max(abs(y), 1e-6))
    same += a["label"] == b["goodness_label"]
print("max relative difference %.2e, identical labels %d/1000" % (worst, same))
assert worst <= 1e-4 and same == 1000
EOF
then
    ok "tests/example.py = pff predict on 1,000 test images: $(cat "$T/cmp")"
else
    fail "tests/example.py against pff predict: $(cat "$T/cmp")"
fi
# --- --goodness-from 1: the export names layers 1..3, and example.py follows it to pff's labels
"$PFF" train --layers 784,200,200,200 --epochs 2 --splits 2 --train-limit 6000 --test-limit 500 \
    --lr 0.003 --threads 1 --quiet --goodness-from 1 --save "$T/g1.pff" >"$T/train" 2>&1 &&
    "$PFF" export "$T/g1.pff" "$T/g1.npz" 2>"$T/err" ||
    fail "the --goodness-from 1 model: $(cat "$T/train" "$T/err")"
"$PY" tests/example.py "$T/g1.npz" data/mnist/t10k-images-idx3-ubyte 300 --json >"$T/numpy1.jsonl" 2>"$T/err" ||
    fail "tests/example.py (--goodness-from 1): $(cat "$T/err")"
# shellcheck disable=SC2046 # the file names have no spaces
"$PFF" predict "$T/g1.pff" --threads 1 --json $(ls "$T"/pgm/*.pgm | head -300) >"$T/pff1.jsonl" 2>"$T/err" ||
    fail "pff predict (--goodness-from 1): $(cat "$T/err")"
# shellcheck disable=SC2046 # the file names have no spaces
"$PFF" predict "$T/g.pff" --goodness-from 1 --threads 1 --json $(ls "$T"/pgm/*.pgm | head -300) \
    >"$T/pff1x.jsonl" 2>"$T/err" && cmp -s "$T/pff1.jsonl" "$T/pff1x.jsonl" &&
    ok "pff predict --goodness-from 1 of the plain model = pff predict of the --goodness-from 1 model" ||
    fail "pff predict --goodness-from 1: $(cat "$T/err")"
if "$PY" - "$T" >"$T/cmp" 2>&1 <<'EOF'
import json, sys
T = sys.argv[1]
ours = [json.loads(l) for l in open(T + "/numpy1.jsonl")]
pffs = [json.loads(l) for l in open(T + "/pff1.jsonl")]
base = [json.loads(l) for l in open(T + "/pff.jsonl")][:300]
same = sum(a["label"] == b["goodness_label"] for a, b in zip(ours, pffs))
moved = sum(a["goodness_label"] != b["goodness_label"] for a, b in zip(pffs, base))
print("identical labels %d/300; %d differ from the paper's layers 2..3" % (same, moved))
assert len(ours) == len(pffs) == 300 and same == 300
EOF
then
    ok "--goodness-from 1 exported: example.py = pff predict: $(cat "$T/cmp")"
else
    fail "--goodness-from 1 export: $(cat "$T/cmp")"
fi
"$PY" tests/example.py "$T/g.npz" data/mnist/t10k-images-idx3-ubyte 5 >"$T/out" 2>&1 &&
    grep -Eq '^[0-9]( [0-9]){4}$' "$T/out" && ok "example.py prints labels: $(cat "$T/out")" ||
    fail "example.py without --json: $(cat "$T/out")"

# --- refusals: exit status 2, a message naming the file, nothing written
expect_refusal() { # WHAT NEEDLE OUT MODEL
    mkdir -p "$T/r"
    "$PFF" export "$4" "$T/r/$3" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" = 2 ] && grep -q -- "$2" "$T/err" && [ -z "$(ls -A "$T/r")" ] && [ ! -s "$T/out" ]; then
        ok "[2] $1: $(head -c 150 "$T/err")"
    else
        fail "$1: status $got (want 2), stderr '$(cat "$T/err")', left: $(ls -A "$T/r")"
    fi
    rm -rf "$T/r"
}
head -c 1000 "$T/g.pff" >"$T/cut.pff"
printf 'not a model at all' >"$T/junk.pff"
cp "$T/g.pff" "$T/flip.pff"
printf '\377' | dd of="$T/flip.pff" bs=1 seek=5000 conv=notrunc 2>/dev/null
expect_refusal "truncated model" cut.pff m "$T/cut.pff"
expect_refusal "not a model" junk.pff m "$T/junk.pff"
expect_refusal "corrupt model (checksum)" flip.pff m "$T/flip.pff"
expect_refusal "missing model" nope.pff m "$T/nope.pff"
expect_refusal "OUT in a missing directory" "cannot create" no/such/dir/m "$T/g.pff"
"$PFF" export "$T/g.pff" >/dev/null 2>"$T/err"
[ $? = 2 ] && grep -q "expected a MODEL file and OUT" "$T/err" && ok "[2] pff export without OUT" ||
    fail "pff export without OUT: $(cat "$T/err")"

if [ "$fails" -gt 0 ]; then
    echo "tests/test_export.sh: $fails check(s) FAILED"
    exit 1
fi
echo "tests/test_export.sh: all passed"
