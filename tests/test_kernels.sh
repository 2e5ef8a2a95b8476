#!/bin/sh
# tests/test_kernels.sh PFF BUILD PLAIN_PFF [AVX2_PFF] — the tests once with each OpenBLAS core this
# CPU runs, and which outputs may change with the core and with --threads (make test-kernels; make
# test runs it). PLAIN_PFF is pff built with the plain C products (make VARIANT=plain), AVX2_PFF
# pff built without the AVX-512 clones of its own loops (make VARIANT=avx2).
#
# The cores come from CPUID (BUILD/tests/test_runtime --cores), never from a list written here, so
# no core the CPU lacks is ever forced. For each core, with OPENBLAS_CORETYPE set:
#   1. the unit tests, the pipeline tests (schedules byte-identical to each other, DESIGN.md
#      §2.1) and tests/test_cli.sh;
#   2. each schedule trained with --threads 1 and 2: reported, identical or not. With OpenBLAS a
#      product's bits depend on its shape (DESIGN.md §2.4), and --threads T splits the forward's
#      columns into T blocks, so models may differ across --threads; they differ on most cores.
# Then, across cores, the same model: its bytes are printed by class (cores whose models are
# identical) and every core's test accuracy must be within 2 points of the first core's. Kernels
# of different register blocking sum a dot product in different orders (and Prescott has no FMA),
# so their rounding differs: model bytes depend on the core.
# Then the plain C build: each schedule's model is byte-identical with --threads 1, 2 and 3
# (every product element is one loop in one order, whatever the partition).
# Last, the clones of pff's own element-wise loops (layers/ff.c): AVX2_PFF runs the AVX2 clones
# where PFF runs the AVX-512 ones (on a CPU with AVX-512); each schedule's model must be
# byte-identical, on the same OpenBLAS core: the lanes are fixed, so the clone changes no bit.
set -u
PFF=${1:-./pff}
BUILD=${2:-build/release}
PLAIN=${3:-build/plain/pff}
AVX2=${4:-}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
cores=$("$BUILD/tests/test_runtime" --cores) || { echo "FAIL: $BUILD/tests/test_runtime --cores"; exit 1; }
if [ -z "$cores" ]; then
    echo "skipped: no OpenBLAS core pff knows runs on this CPU (not x86-64): nothing to compare"
    exit 0
fi
echo "OpenBLAS cores this CPU runs (CPUID): $(echo $cores)"

SMALL="--layers 784,60,40 --epochs 2 --splits 2 --train-limit 1200 --test-limit 400 --quiet --oversubscribe"
# schedule NAME ARGS: the schedules of DESIGN.md §2, with adaptive negatives where each decides them
set -- \
    "sequential:--schedule sequential --neg adaptive" \
    "single-layer:--schedule single-layer --nodes 2 --neg adaptive" \
    "all-layers:--schedule all-layers --nodes 2 --neg adaptive --classifier softmax" \
    "federated:--schedule federated --nodes 2 --neg random"

for core in $cores; do
    echo "== kernel $core"
    export OPENBLAS_CORETYPE=$core
    for t in test_layers test_idx test_model test_data test_plan test_trace test_runtime test_pipeline; do
        if timeout -k 10 600 "$BUILD/tests/$t" >"$T/log" 2>&1; then
            echo "ok   $t with $core: $(tail -n 1 "$T/log")"
        else
            echo "FAIL: $t with $core:"; tail -n 20 "$T/log"; fails=$((fails + 1))
        fi
    done
    if timeout -k 10 600 ./tests/test_cli.sh "$PFF" >"$T/log" 2>&1; then
        echo "ok   tests/test_cli.sh with $core"
    else
        echo "FAIL: tests/test_cli.sh with $core:"; grep FAIL "$T/log"; fails=$((fails + 1))
    fi
    for s in "$@"; do
        name=${s%%:*} args=${s#*:}
        for th in 1 2; do
            # shellcheck disable=SC2086
            timeout -k 10 300 "$PFF" train $SMALL $args --threads $th --save "$T/$name-$core-$th.pff" \
                --json >"$T/$name-$core-$th.json" 2>"$T/err" ||
                { echo "FAIL: $name --threads $th with $core: $(cat "$T/err")"; fails=$((fails + 1)); }
        done
        if cmp -s "$T/$name-$core-1.pff" "$T/$name-$core-2.pff"; then
            echo "info $name with $core: --threads 1 and 2 write the same model bytes"
        else
            echo "info $name with $core: --threads 1 and 2 write different model bytes (allowed: the forward's column blocks change)"
        fi
    done
done
unset OPENBLAS_CORETYPE

# Across cores: classes of identical bytes, and accuracy within a point of the first core's.
first=$(echo $cores | cut -d' ' -f1)
acc() { sed -n 's/.*"test_accuracy":\([0-9.]*\).*/\1/p' "$1"; }
for s in "$@"; do
    name=${s%%:*}
    classes="" ref=$(acc "$T/$name-$first-1.json")
    for core in $cores; do
        sum=$(cksum <"$T/$name-$core-1.pff" | cut -d' ' -f1)
        classes="$classes $sum:$core"
        a=$(acc "$T/$name-$core-1.json")
        if [ -n "$a" ] && [ -n "$ref" ] && awk -v a="$a" -v r="$ref" 'BEGIN { d = a - r; exit !(d <= 2 && d >= -2) }'; then
            :
        else
            echo "FAIL: $name with $core: test accuracy $a, $first gave $ref (more than 2 points apart)"
            fails=$((fails + 1))
        fi
    done
    echo "ok   $name: accuracy within 2 points on every core; cores with identical model bytes:" \
        "$(echo "$classes" | tr ' ' '\n' | sort | awk -F: 'NF { if ($1 != p) printf "%s{%s", (p == "" ? "" : "} "), $2; else printf ",%s", $2; p = $1 } END { if (p != "") print "}" }')"
done

# The plain C products: the same bytes whatever --threads.
for s in "$@"; do
    name=${s%%:*} args=${s#*:}
    for th in 1 2 3; do
        # shellcheck disable=SC2086
        timeout -k 10 300 "$PLAIN" train $SMALL $args --threads $th --save "$T/plain-$name-$th.pff" \
            >/dev/null 2>"$T/err" ||
            { echo "FAIL: plain $name --threads $th: $(cat "$T/err")"; fails=$((fails + 1)); }
    done
    if cmp -s "$T/plain-$name-1.pff" "$T/plain-$name-2.pff" && cmp -s "$T/plain-$name-1.pff" "$T/plain-$name-3.pff"; then
        echo "ok   $name, plain C products: --threads 1, 2 and 3 write the same model bytes"
    else
        echo "FAIL: $name, plain C products: --threads 1, 2 and 3 write different models"; fails=$((fails + 1))
    fi
done
# The clones: the same bytes with the AVX2 clones as with the ones this CPU picks.
if [ -z "$AVX2" ]; then
    echo "skipped - the AVX2 clones: no AVX2_PFF given (make test-kernels builds build/avx2/pff)"
elif ! grep -q -w avx2 /proc/cpuinfo 2>/dev/null; then
    echo "skipped - the AVX2 clones: this CPU has no AVX2 (both builds run the baseline clone)"
else
    picks=avx2
    grep -q -w avx512f /proc/cpuinfo && picks=avx512f
    export OPENBLAS_CORETYPE=$first
    for s in "$@"; do
        name=${s%%:*} args=${s#*:}
        # shellcheck disable=SC2086
        timeout -k 10 300 "$AVX2" train $SMALL $args --threads 2 --save "$T/avx2-$name.pff" \
            >/dev/null 2>"$T/err" || { echo "FAIL: $name with the AVX2 clones: $(cat "$T/err")"; fails=$((fails + 1)); }
        # shellcheck disable=SC2086
        timeout -k 10 300 "$PFF" train $SMALL $args --threads 2 --save "$T/own-$name.pff" \
            >/dev/null 2>"$T/err" || { echo "FAIL: $name: $(cat "$T/err")"; fails=$((fails + 1)); }
        if cmp -s "$T/avx2-$name.pff" "$T/own-$name.pff"; then
            echo "ok   $name with $first: the AVX2 clones and the $picks ones write the same model bytes"
        else
            echo "FAIL: $name with $first: the AVX2 clones and the $picks ones write different models"
            fails=$((fails + 1))
        fi
    done
    unset OPENBLAS_CORETYPE
fi
echo "test_kernels: $fails failed"
[ "$fails" = 0 ]
