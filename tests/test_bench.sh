#!/bin/sh
# shellcheck disable=SC2015 # ok() always succeeds: A && ok || fail is if-then-else
# tests/test_bench.sh PFF BENCH — bench/floor.sh on a few hundred images, one kernel (the one in
# use: OPENBLAS_CORETYPE when the environment sets it, else the CPU's best), no PyTorch peer: it
# runs and exits 0, its CSV has the rows and columns bench/README and the top README read, every
# ratio is its seconds over its floor, every verdict follows from its ratio and target, and the
# floors follow from the peak and triad it printed with the FLOP and bytes of DESIGN.md §5
# (146.8 MFLOP an image for the paper's network, 9.70 for the small one, 24 bytes a parameter
# for Adam). Runs from the repository root, needs data/mnist; about 30 s.
set -u
PFF=${1:-./pff}
BENCH=${2:-build/release/bench/bench}
cd "$(dirname "$0")/.." || exit 1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

core=${OPENBLAS_CORETYPE:-$("$BENCH" --cores | head -n 1)}
EPOCH=256 IMAGES=128 SMALL=256
if BENCH_OUT=$T BENCH_KERNELS=$core BENCH_REPS=1 BENCH_PEER=0 BENCH_EPOCH_IMAGES=$EPOCH \
    BENCH_IMAGES=$IMAGES BENCH_SMALL_IMAGES=$SMALL sh bench/floor.sh "$PFF" "$BENCH" >"$T/out" 2>&1; then
    ok "bench/floor.sh on $core, $EPOCH images: exit 0"
else
    fail "bench/floor.sh exited $?: $(tail -5 "$T/out")"
fi
csv=$T/floor.csv txt=$T/floor.txt
[ "$(head -n 1 "$csv" 2>/dev/null)" = "kernel,measure,seconds,floor_seconds,ratio,target,verdict" ] &&
    ok "floor.csv: its header" || fail "floor.csv header: $(head -n 1 "$csv" 2>/dev/null)"
rows=$(awk -F, -v k="$core" 'NR > 1 && $1 == k && NF == 7 { print $2 }' "$csv" | tr '\n' ' ')
[ "$rows" = "a_roofline a_products b_products c_tables " ] &&
    ok "floor.csv: the rows of $core ($rows)" || fail "floor.csv rows of $core: '$rows'"

# every ratio is seconds / floor (floors are printed to 4 decimals: 2% slack), every verdict its target's
bad=$(awk -F, 'NR > 1 && $6 != "" {
    r = $3 / $4; if (r / $5 > 1.02 || r / $5 < 0.98) print $2 ": " $3 "/" $4 " is not " $5
    if (($5 <= $6) != ($7 == "pass")) print $2 ": ratio " $5 " target " $6 " verdict " $7 }' "$csv")
[ -z "$bad" ] && ok "floor.csv: each ratio is seconds over floor, each verdict follows its target" ||
    fail "floor.csv: $bad"

# the floors from the printed peak and triad, with DESIGN.md section 5's FLOP and bytes
peak=$(sed -n 's/.*sgemm peak \([0-9.]*\) GFLOP\/s.*/\1/p' "$txt" | head -n 1)
bw=$(sed -n 's/.*triad \([0-9.]*\) GB\/s.*/\1/p' "$txt" | head -n 1)
field() { awk -F, -v m="$1" '$2 == m { print $4 }' "$csv"; }
check() { # NAME GOT WANT: within 1% (the peak and triad are printed to 0.1)
    awk -v g="$2" -v w="$3" 'BEGIN { exit !(w > 0 && g / w < 1.01 && g / w > 0.99) }' &&
        ok "$1: $2 s, as computed here ($3 s)" || fail "$1: floor.csv has $2 s, expected $3 s"
}
if [ -n "$peak" ] && [ -n "$bw" ]; then
    params=$((784 * 2000 + 2000 + 3 * (2000 * 2000 + 2000)))
    steps=$(((EPOCH + 63) / 64))
    pa=$(awk -v n=$EPOCH -v p="$peak" 'BEGIN { printf "%.6f", n * 146.816e6 / (p * 1e9) }')
    check "(a) products' floor, 146.8 MFLOP an image at $peak GFLOP/s" "$(field a_products)" "$pa"
    check "(a) roofline, products + 24 B x $params parameters x $steps steps at $bw GB/s" \
        "$(field a_roofline)" "$(awk -v f="$pa" -v P=$params -v s=$steps -v b="$bw" \
            'BEGIN { printf "%.6f", f + 24 * P * s / (b * 1e9) }')"
    check "(b) products' floor, 9.70 MFLOP an image" "$(field b_products)" \
        "$(awk -v n=$SMALL -v p="$peak" 'BEGIN { printf "%.6f", n * 9.704e6 / (p * 1e9) }')"
else
    fail "floor.txt names no peak or triad: $(head -3 "$txt" 2>/dev/null)"
fi
grep -q 'targets met: [0-3] of 3;' "$txt" && grep -q 'peer: skipped (BENCH_PEER=0)' "$txt" &&
    ok "floor.txt: 3 targets counted, the peer reported as skipped" ||
    fail "floor.txt: $(tail -2 "$txt" 2>/dev/null)"

echo "test_bench: $fails failed"
[ "$fails" = 0 ]
