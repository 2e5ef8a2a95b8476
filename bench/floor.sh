#!/bin/sh
# bench/floor.sh [PFF] [BENCH] [AVX2_PFF] — pff's epochs against their floors, on every AVX2 and
# AVX-512 OpenBLAS core this CPU runs (from CPUID: BENCH --cores), each figure the median of 3
# runs, every floor measured in the same run (DESIGN.md §5). The AVX2 cores (Haswell, Zen) run
# AVX2_PFF when given (make VARIANT=avx2: no AVX-512 clones of pff's own loops), so that their
# rows time what a CPU without AVX-512 runs, kernel and loops alike:
#
#   peak      the sgemm peak on T threads and the triad bandwidth on T threads (BENCH --floor),
#             measured before and after the kernel's runs; the higher of each is used, so a busy
#             moment cannot lower a floor and flatter pff;
#   (a)       the paper's network [784,2000,2000,2000,2000], one whole epoch of the 60,000
#             training images (random negatives):
#             products' floor = images x (8 + 4) sum(in*out) FLOP / peak (training + mapping);
#             Adam's traffic = 24 B x parameters x steps / triad (each step reads and writes
#             every weight and both moments; it runs between products on the same threads, so
#             nothing hides it); roofline floor = products' floor + Adam's traffic; memory floor
#             = (24 + 4) B x parameters x steps / triad (Adam, and the forward reading W again,
#             which the forward's arithmetic hides). Target: train_seconds <= 1.2x the roofline;
#   (b)       the small network [784,500,500,500], one epoch: target <= 2.0x its products' floor;
#   (c)       adaptive negatives on the paper's network, 2 epochs in 2 chapters (the training set
#             regenerated once): neg_seconds against the goodness tables' own products' floor,
#             images x 2 (in1*out1 + 9 sum_{k>=2} in_k*out_k) FLOP / peak (layer 1 once per
#             image, layers 2..L for the 9 wrong labels). Target: <= 1.2x;
#   peer      bench/peer_torch.py on the data of (a) with torch.optim.Adam(foreach=True), on the
#             first core listed, the same threads; where its time goes; target: pff >= 4x faster.
#
# Prints the report and writes it, with one CSV row per figure, to BENCH_OUT (default
# bench/runs/floor/): floor.txt and floor.csv (kernel,measure,seconds,floor_seconds,ratio,
# target,verdict). A missed target is reported, not fatal; the script exits 1 only when a run
# could not be made.
#
# Environment: BENCH_EPOCH_IMAGES (images of (a), default 60000), BENCH_IMAGES (of (c) and the
# peer, default 6000), BENCH_SMALL_IMAGES (of (b), default 60000), BENCH_THREADS (default: all
# cores), BENCH_REPS (default 3), BENCH_KERNELS (default: the AVX2 and AVX-512 cores of BENCH
# --cores), BENCH_TIMEOUT (seconds per run, 1800), PYTHON (a python3 with torch; default: the
# first on PATH that has it), BENCH_PEER=0 (no peer: reported as skipped).
set -u
PFF=${1:-./pff}
BENCH=${2:-build/release/bench/bench}
AVX2_PFF=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
EPOCH=${BENCH_EPOCH_IMAGES:-60000}
IMAGES=${BENCH_IMAGES:-6000}
SMALL=${BENCH_SMALL_IMAGES:-60000}
T=${BENCH_THREADS:-$(nproc)}
REPS=${BENCH_REPS:-3}
LIMIT=${BENCH_TIMEOUT:-1800}
OUT=${BENCH_OUT:-$HERE/runs/floor}
PAPER=784,2000,2000,2000,2000
SMALLNET=784,500,500,500
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} # pff's own policy; the peer gets the same
mkdir -p "$OUT"
KERNELS=${BENCH_KERNELS:-$("$BENCH" --cores | grep -v -e '^Sandybridge$' -e '^Prescott$')}
[ -n "$KERNELS" ] || { echo "floor.sh: no AVX2 or AVX-512 OpenBLAS core runs on this CPU" >&2; exit 1; }

num() { printf '%s\n' "$2" | sed -n "s/.*\"$1\": *\([-0-9.eE]*\).*/\1/p" | head -n 1; }
str() { printf '%s\n' "$2" | sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p" | head -n 1; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
median() { printf '%s\n' "$@" | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
best() { printf '%s\n' "$@" | grep . | sort -g | tail -n 1; }
run() { timeout -k 10 "$LIMIT" "$@" 2>/dev/null | tail -n 1; }
# per image and epoch: training + mapping products; goodness tables of negatives; parameters
prod_flop() { echo "$1" | awk -F, '{ t = 0; for (k = 1; k < NF; k++) t += (k + 1 < NF ? 12 : 8) * $k * $(k + 1); print t }'; }
table_flop() { echo "$1" | awk -F, '{ t = $1 * $2; for (k = 2; k < NF; k++) t += 9 * $k * $(k + 1); print 2 * t }'; }
params() { echo "$1" | awk -F, '{ p = 0; for (k = 1; k < NF; k++) p += $k * $(k + 1) + $(k + 1); print p }'; }

REPORT="$OUT/floor.txt.tmp" CSV="$OUT/floor.csv.tmp"
echo "kernel,measure,seconds,floor_seconds,ratio,target,verdict" >"$CSV"
say() { echo "$*" | tee -a "$REPORT"; }
: >"$REPORT"
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)
say "bench/floor.sh, $(date -u '+%Y-%m-%d %H:%M UTC'): $cpu (family $(lscpu | sed -n 's/^CPU family: *//p'), model $(lscpu | sed -n 's/^Model: *//p')), $(nproc) cores, $T thread(s), OpenBLAS cores: $(echo $KERNELS)"
say "  images: $EPOCH for (a), $SMALL for (b), $IMAGES for (c) and the peer; medians of $REPS runs; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# row KERNEL MEASURE SECONDS FLOOR TARGET: the CSV row and the verdict
row() {
    r=$(calc '%.3f' "$3 / $4")
    v=$(awk -v x="$r" -v t="$5" 'BEGIN { print (x <= t ? "pass" : "FAIL") }')
    echo "$1,$2,$3,$(calc '%.4f' "$4"),$r,$5,$v" >>"$CSV"
    echo "$r $v"
}
failed_runs=0 met=0 asked=0
P=$(params $PAPER) STEPS=$(( (EPOCH + 63) / 64 ))
for core in $KERNELS; do
    export OPENBLAS_CORETYPE=$core
    # the pff of this row: the AVX2 build on an AVX2 core, when there is one
    pf=$PFF loops="this CPU's clones"
    case $core in Haswell|Zen) [ -n "$AVX2_PFF" ] && pf=$AVX2_PFF loops="AVX2 clones" ;; esac
    m1=$(run "$BENCH" --floor "$T")
    as="" bs="" cs="" cn="" cc=""
    r=1
    while [ "$r" -le "$REPS" ]; do
        a=$(run "$pf" train --threads "$T" --json --quiet --layers $PAPER --epochs 1 --splits 1 --neg random --train-limit "$EPOCH" --test-limit 1000)
        b=$(run "$pf" train --threads "$T" --json --quiet --layers $SMALLNET --epochs 1 --splits 1 --neg random --train-limit "$SMALL" --test-limit 1000)
        c=$(run "$pf" train --threads "$T" --json --quiet --layers $PAPER --epochs 2 --splits 2 --neg adaptive --train-limit "$IMAGES" --test-limit 1000)
        as="$as $(num train_seconds "$a")" bs="$bs $(num train_seconds "$b")"
        cn="$cn $(num neg_seconds "$c")" cc="$cc $(str blas_core "$a")"
        r=$((r + 1))
    done
    m2=$(run "$BENCH" --floor "$T")
    peak=$(best "$(num sgemm_peak_gflops "$m1")" "$(num sgemm_peak_gflops "$m2")")
    bw=$(best "$(num triad_gbs_threads "$m1")" "$(num triad_gbs_threads "$m2")")
    ta=$(median $as) tb=$(median $bs) tn=$(median $cn)
    if [ -z "$peak" ] || [ -z "$bw" ] || [ -z "$ta" ] || [ -z "$tb" ] || [ -z "$tn" ]; then
        say "  $core: a run failed (peak '$peak', triad '$bw', (a) '$as', (b) '$bs', (c) '$cn')"
        failed_runs=1; continue
    fi
    used=$(echo $cc | tr ' ' '\n' | sort -u | tr '\n' ' ')
    say "== $core (pff ran on: $used; pff's loops: $loops): sgemm peak $(calc '%.1f' "$peak") GFLOP/s, triad $(calc '%.1f' "$bw") GB/s on $T thread(s)"
    fa=$(calc '%.6f' "$EPOCH * $(prod_flop $PAPER) / ($peak * 1e9)")
    adam=$(calc '%.6f' "24 * $P * $STEPS / ($bw * 1e9)")
    mem=$(calc '%.6f' "28 * $P * $STEPS / ($bw * 1e9)")
    roof=$(calc '%.6f' "$fa + $adam")
    set -- $(row "$core" "a_roofline" "$ta" "$roof" 1.2)
    say "  (a) paper network, 1 epoch of $EPOCH images: $ta s (runs:$as); products' floor $(calc '%.2f' "$fa") s, Adam's traffic $(calc '%.2f' "$adam") s ($(calc '%.1f' "24 * $P * $STEPS / 1e9") GB), memory floor $(calc '%.2f' "$mem") s; roofline $(calc '%.2f' "$roof") s: $1x the roofline (target <= 1.2x): $2 [$(calc '%.2f' "$ta / $fa")x the products' floor]"
    asked=$((asked + 1)); [ "$2" = pass ] && met=$((met + 1))
    echo "$core,a_products,$ta,$fa,$(calc '%.3f' "$ta / $fa"),,info" >>"$CSV"
    fb=$(calc '%.6f' "$SMALL * $(prod_flop $SMALLNET) / ($peak * 1e9)")
    set -- $(row "$core" "b_products" "$tb" "$fb" 2.0)
    say "  (b) small network, 1 epoch of $SMALL images: $tb s (runs:$bs); products' floor $(calc '%.2f' "$fb") s: $1x (target <= 2.0x): $2"
    asked=$((asked + 1)); [ "$2" = pass ] && met=$((met + 1))
    fc=$(calc '%.6f' "$IMAGES * $(table_flop $PAPER) / ($peak * 1e9)")
    set -- $(row "$core" "c_tables" "$tn" "$fc" 1.2)
    say "  (c) adaptive negatives for $IMAGES images: $tn s (runs:$cn); the tables' products' floor $(calc '%.2f' "$fc") s ($(calc '%.1f' "$(table_flop $PAPER) / 1e6") MFLOP/image): $1x (target <= 1.2x): $2"
    asked=$((asked + 1)); [ "$2" = pass ] && met=$((met + 1))
done

# the peer, on the first core, against (a) on the same core
first=$(echo $KERNELS | cut -d' ' -f1)
py=${PYTHON:-}
if [ "${BENCH_PEER:-1}" = 0 ]; then
    py=""
elif [ -z "$py" ]; then
    for cand in $(which -a python3 2>/dev/null); do
        "$cand" -c 'import torch, numpy' 2>/dev/null && { py=$cand; break; }
    done
fi
if [ -n "$py" ]; then
    export OPENBLAS_CORETYPE=$first
    ps="" pa="" p=""
    r=1
    while [ "$r" -le "$REPS" ]; do
        p=$(run "$py" "$HERE/peer_torch.py" --data data/mnist --layers $PAPER --epochs 1 --splits 1 \
            --train-limit "$IMAGES" --test-limit 1000 --threads "$T" --adam-foreach)
        a=$(run "$PFF" train --threads "$T" --json --quiet --layers $PAPER --epochs 1 --splits 1 --neg random --train-limit "$IMAGES" --test-limit 1000)
        ps="$ps $(num train_seconds "$p")" pa="$pa $(num train_seconds "$a")"
        r=$((r + 1))
    done
    tp=$(median $ps) tq=$(median $pa)
    if [ -n "$tp" ] && [ -n "$tq" ]; then
        ratio=$(calc '%.3f' "$tp / $tq")
        v=$(awk -v x="$ratio" 'BEGIN { print (x >= 4 ? "pass" : "FAIL") }')
        echo "$first,peer_over_pff,$tp,$tq,$ratio,>=4,$v" >>"$CSV"
        say "  peer: torch $(str torch_version "$p") (BLAS_INFO=$(str torch_blas_info "$p"), OpenBLAS core as torch loaded it: $(str openblas_core "$p"), libraries: $(printf '%s' "$p" | sed -n 's/.*"blas_libraries": *\[\([^]]*\)\].*/\1/p')), Adam foreach, $T thread(s): $tp s (runs:$ps); pff $tq s (runs:$pa): pff is ${ratio}x faster (target >= 4x): $v"
        say "        where the peer's time goes (last run): $(printf '%s' "$p" | sed -n 's/.*"phase_seconds": *{\([^}]*\)}.*/\1/p')"
        asked=$((asked + 1)); [ "$v" = pass ] && met=$((met + 1))
    else
        say "  peer: a run failed"; failed_runs=1
    fi
elif [ "${BENCH_PEER:-1}" = 0 ]; then
    say "  peer: skipped (BENCH_PEER=0)"
else
    say "  peer: skipped: no python3 with torch (Debian: python3-torch; or set PYTHON)"
fi
say "  targets met: $met of $asked; load after: $(cut -d' ' -f1-3 /proc/loadavg) (above $(nproc): the machine was shared, the figures are noisy)"
mv "$REPORT" "$OUT/floor.txt"
mv "$CSV" "$OUT/floor.csv"
exit $failed_runs
