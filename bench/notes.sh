#!/bin/sh
# bench/notes.sh [--group NAME]... [PFF] — the small measurements that layers/README.md and
# pipeline/README.md quote, each written to bench/runs/notes/NAME.csv with the commands that made
# it in NAME.cmd and a header naming the CPU, the OpenBLAS core, pff's version and the date.
#
#   negatives  [784,500,500,500], 4 epochs in 4 chapters, trained on 20,000 images and scored on
#              10,000 more held out (--train-limit 30000 --val 10000), seeds 1..3: random,
#              adaptive and hard negatives at three temperatures (layers/README.md). Accuracy
#              does not depend on the machine's load: run it any time.
#   shift      the same network, 4 epochs in 4 chapters on 10,000 images (10,000 held out),
#              seeds 1..3, with and without --augment shift (layers/README.md). Load-free too.
#   head-lr    the softmax head's learning rate (--softmax-lr 0.0001, the paper's; 0.001, pff's;
#              0.01), on the network and split of negatives, seeds 1..3; the goodness accuracy
#              of the same layers beside it (bench/archive/paper-discussion.md). Load-free.
#   timing     times, so a quiet machine only; each pair alternates, 3 rounds, medians, so a
#              moment of noise falls on both sides (pipeline/README.md, layers/README.md):
#              single-layer hand-over against --recompute (60,000 images, 4 chapters of 1
#              epoch, 3 nodes x 1 thread); --augment shift against none (60,000 images, 2
#              epochs); OMP_WAIT_POLICY=PASSIVE (pff's own) against ACTIVE while a busy loop
#              holds one core (10,000 images, 2 epochs, 2 threads).
#
# With no --group, runs negatives, shift and head-lr. Every row is a CSV line; NAME-summary.csv holds the
# mean and sample standard deviation (accuracy) or the median (times) of each setting, which the
# READMEs quote. Exits 1 when a run fails.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${NOTES_OUT:-$HERE/runs/notes}
WANT=""
while [ $# -gt 0 ]; do
    case $1 in
    --group) WANT="$WANT $2"; shift 2 ;;
    -h | --help) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//; $d'; exit 0 ;;
    -*) echo "notes.sh: unknown option $1 (expected --group NAME)" >&2; exit 2 ;;
    *) break ;;
    esac
done
PFF=${1:-./pff}
[ -n "$WANT" ] || WANT="negatives shift head-lr"
SMALL="--layers 784,500,500,500 --quiet --json"
mkdir -p "$OUT"

num() { printf '%s\n' "$2" | sed -n "s/.*\"$1\": *\([-0-9.eE]*\).*/\1/p" | head -n 1; }
header() { # FILE: the machine, the kernel, pff and the date, as # lines
    printf '# %s, %s (family %s, model %s), %s cores, %s, %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" \
        "$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1)" \
        "$(lscpu | sed -n 's/^CPU family: *//p')" "$(lscpu | sed -n 's/^Model: *//p')" \
        "$(nproc)" "$("$PFF" --version)" "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}" >"$1"
}
run() { # NAME SETTING SEED ARGS...: one pff train, its command in NAME.cmd, prints its JSON
    n=$1 s=$2 seed=$3
    shift 3
    echo "${OMP_WAIT_POLICY:+OMP_WAIT_POLICY=$OMP_WAIT_POLICY }pff train $* --seed $seed" >>"$OUT/$n.cmd"
    j=$("$PFF" train "$@" --seed "$seed") || { echo "notes.sh: $n $s seed $seed failed" >&2; exit 1; }
    printf '%s\n' "$j"
}
summarise() { # NAME COLUMN mean|median [OUTNAME]: one line per setting of NAME.csv, in first-seen
    # order, into OUTNAME-summary.csv (default NAME)
    to=${4:-$1}
    awk -F, -v col="$2" -v how="$3" '
        /^#/ || $1 == "setting" { next }
        !($1 in n) { order[++k] = $1 }
        { n[$1]++; x[$1, n[$1]] = $col; s[$1] += $col }
        END {
            print (how == "mean" ? "setting,runs,mean,sd" : "setting,runs,median")
            for (i = 1; i <= k; i++) {
                c = order[i]; m = s[c] / n[c]
                if (how == "mean") {
                    ss = 0
                    for (r = 1; r <= n[c]; r++) ss += (x[c, r] - m) ^ 2
                    printf "%s,%d,%.2f,%.2f\n", c, n[c], m, (n[c] > 1 ? sqrt(ss / (n[c] - 1)) : 0)
                } else {
                    for (r = 1; r <= n[c]; r++) v[r] = x[c, r]
                    for (r = 2; r <= n[c]; r++) for (q = r; q > 1 && v[q - 1] > v[q]; q--) { t = v[q]; v[q] = v[q - 1]; v[q - 1] = t }
                    printf "%s,%d,%.3f\n", c, n[c], n[c] % 2 ? v[(n[c] + 1) / 2] : (v[n[c] / 2] + v[n[c] / 2 + 1]) / 2
                }
            }
        }' "$OUT/$1.csv" >"$OUT/$to-summary.csv"
    echo "== $OUT/$to-summary.csv"
    cat "$OUT/$to-summary.csv"
}
accuracy_group() { # NAME COMMON-ARGS [EXTRA-FIELD] then SETTING=ARGS lines on stdin
    n=$1 common=$2 extra=${3:-}
    header "$OUT/$n.csv"
    : >"$OUT/$n.cmd"
    echo "setting,seed,val_accuracy${extra:+,$extra}" >>"$OUT/$n.csv"
    while IFS='=' read -r s args; do
        for seed in 1 2 3; do
            # shellcheck disable=SC2086 # word splitting of the argument lists is meant
            j=$(run "$n" "$s" "$seed" $SMALL $common $args) || exit 1
            echo "$s,$seed,$(num val_accuracy "$j")${extra:+,$(num "$extra" "$j")}" >>"$OUT/$n.csv"
            echo "$n: $s seed $seed: $(num val_accuracy "$j")%"
        done
    done
    summarise "$n" 3 mean
    [ -z "$extra" ] || summarise "$n" 4 mean "$n-$extra"
}

for g in $WANT; do
    case $g in
    negatives)
        accuracy_group negatives "--epochs 4 --splits 4 --train-limit 30000 --val 10000" <<EOF || exit 1
random=--neg random
adaptive=--neg adaptive
hard-T1=--neg hard --hard-temp 1
hard-T10=--neg hard --hard-temp 10
hard-T30=--neg hard --hard-temp 30
EOF
        ;;
    shift)
        accuracy_group shift "--epochs 4 --splits 4 --train-limit 20000 --val 10000" <<EOF || exit 1
none=--augment none
shift=--augment shift
EOF
        ;;
    head-lr)
        accuracy_group head-lr "--epochs 4 --splits 4 --train-limit 30000 --val 10000 --classifier softmax" \
            val_goodness_accuracy <<EOF || exit 1
paper-0.0001=--softmax-lr 0.0001
pff-0.001=--softmax-lr 0.001
0.01=--softmax-lr 0.01
EOF
        ;;
    timing)
        n=timing
        header "$OUT/$n.csv"
        : >"$OUT/$n.cmd"
        echo "setting,round,train_seconds,peak_rss_mb" >>"$OUT/$n.csv"
        sl="--epochs 4 --splits 4 --schedule single-layer --threads 1 --oversubscribe --test-limit 100"
        sh_="--epochs 2 --splits 2 --test-limit 100"
        wt="--epochs 2 --splits 2 --train-limit 10000 --test-limit 100 --threads 2"
        for round in 1 2 3; do
            for pair in "handover=$sl" "recompute=$sl --recompute" "no-shift=$sh_ --augment none" \
                "shift=$sh_ --augment shift" "passive-beside-busy-core=$wt" "active-beside-busy-core=$wt"; do
                s=${pair%%=*} args=${pair#*=}
                busy=""
                case $s in
                *busy-core)
                    sh -c 'while :; do :; done' &
                    busy=$!
                    ;;
                esac
                case $s in
                active-*) policy=ACTIVE ;;
                *) policy=PASSIVE ;;
                esac
                # shellcheck disable=SC2086
                j=$(OMP_WAIT_POLICY=$policy run "$n" "$s" 1 $SMALL $args) || { [ -z "$busy" ] || kill "$busy"; exit 1; }
                [ -z "$busy" ] || kill "$busy"
                echo "$s,$round,$(num train_seconds "$j"),$(num peak_rss_mb "$j")" >>"$OUT/$n.csv"
                echo "$n: $s round $round: $(num train_seconds "$j") s, $(num peak_rss_mb "$j") MB"
            done
        done
        summarise "$n" 3 median
        ;;
    *) echo "notes.sh: unknown group $g (expected negatives, shift, head-lr or timing)" >&2; exit 2 ;;
    esac
done
