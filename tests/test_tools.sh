#!/bin/sh
# shellcheck disable=SC2015 # ok() always succeeds: A && ok || fail is if-then-else
# tests/test_tools.sh PFF — pff predict and pff show on a tiny model, then
# `make install` into a temporary prefix and tests/example.c built against it
# with pkg-config: the shared libpff.so.0 (run with it) and the archive; bench/accuracy.sh,
# bench/resumable.sh (a run killed and continued) and bench/paper.sh's rows. Runs from the
# repository root, needs data/mnist; about 90 s.
set -u
PFF=${1:-./pff}
case $PFF in */*) PFF=$(cd "$(dirname "$PFF")" && pwd)/$(basename "$PFF") ;; esac
cd "$(dirname "$0")/.." || exit 1
T=$(mktemp -d)
P=$(mktemp -d)
trap 'rm -rf "$T" "$P"' EXIT
fails=0 skipped=0
ok() { echo "ok   $*"; }
skip() { echo "skipped - $*"; skipped=$((skipped + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
is_png() { [ "$(head -c 8 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; }
png_size() { # WxH from the IHDR chunk
    od -An -tu1 -j16 -N8 "$1" | awk '{print $1*16777216+$2*65536+$3*256+$4 "x" $5*16777216+$6*65536+$7*256+$8}'
}
label_of() { sed -n '1s/^.*: label \([0-9]\).*$/\1/p' "$1"; } # first line of predict's output
idx_label() { od -An -tu1 -j$((8 + $1)) -N1 data/mnist/t10k-labels-idx1-ubyte | tr -d ' '; }
# expect STATUS NEEDLE ARGS...: exit status, a stderr message containing NEEDLE, empty stdout
expect() {
    want=$1 needle=$2
    shift 2
    "$PFF" "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" != "$want" ] || ! grep -q -- "$needle" "$T/err" || [ -s "$T/out" ]; then
        fail "pff $* -> status $got (want $want, stderr with '$needle', no stdout); stderr: $(cat "$T/err"); stdout: $(head -c 200 "$T/out")"
    else
        ok "[$got] pff $*: $(head -c 150 "$T/err" | tr '\n' ' ')"
    fi
}

# --- a tiny model with a softmax head, and its training log
if ! "$PFF" train --layers 784,100,100 --epochs 2 --splits 2 --train-limit 10000 --test-limit 500 \
    --lr 0.003 --softmax-lr 0.01 --classifier softmax --threads 1 --quiet --save "$T/m.pff" \
    --log "$T/log.csv" >"$T/train" 2>&1; then
    echo "FAIL: training the tiny model: $(cat "$T/train")"
    exit 1
fi
ok "trained $(cat "$T/train")"

# --- show --digit writes test image N with its label; predict gets at least 4 of 5 right
right=0
for i in 0 1 2 3 4; do
    if ! "$PFF" show --digit $i --data data/mnist --out "$T/d$i.png" >"$T/out" 2>"$T/err"; then
        fail "show --digit $i: $(cat "$T/err")"
        continue
    fi
    want=$(idx_label $i)
    grep -q "label $want " "$T/out" && is_png "$T/d$i.png" && [ "$(png_size "$T/d$i.png")" = 28x28 ] ||
        fail "show --digit $i: '$(cat "$T/out")', expected label $want and a 28x28 PNG"
    "$PFF" predict "$T/m.pff" "$T/d$i.png" >"$T/p$i" 2>"$T/err" || fail "predict d$i.png: $(cat "$T/err")"
    got=$(label_of "$T/p$i")
    [ "$got" = "$want" ] && right=$((right + 1))
    echo "     digit $i: label $want, predicted ${got:-?}"
done
[ "$right" -ge 4 ] && ok "predict: $right of 5 test digits right" || fail "predict: only $right of 5 test digits right"
grep -q "^  goodness " "$T/p0" && grep -q "^  softmax " "$T/p0" && ok "predict prints the goodness and softmax rows" ||
    fail "predict output lacks the goodness/softmax table: $(cat "$T/p0")"

# the same pixels as a PGM cut from the IDX file give the same output; inverted with --invert too
{ printf 'P5\n28 28\n255\n'; head -c $((16 + 784)) data/mnist/t10k-images-idx3-ubyte | tail -c 784; } >"$T/raw.pgm"
"$PFF" predict "$T/m.pff" "$T/raw.pgm" | tail -n +2 >"$T/a"
tail -n +2 "$T/p0" >"$T/b"
cmp -s "$T/a" "$T/b" && ok "predict: PNG from show --digit == PGM from the IDX bytes" ||
    fail "predict: the PNG and the IDX bytes differ: $(cat "$T/a") vs $(cat "$T/b")"
if command -v perl >/dev/null 2>&1; then
    { printf 'P5\n28 28\n255\n'; head -c $((16 + 784)) data/mnist/t10k-images-idx3-ubyte | tail -c 784 |
        perl -0777 -pe '$_ = join "", map { chr(255 - ord) } split //'; } >"$T/inv.pgm"
    "$PFF" predict --invert "$T/m.pff" "$T/inv.pgm" >"$T/out" 2>&1
    [ "$(label_of "$T/out")" = "$(label_of "$T/p0")" ] && ok "predict --invert: dark-on-light digit" ||
        fail "predict --invert: $(cat "$T/out")"
else
    skip "predict --invert: perl is not installed"
fi
# a 3x larger image is resized back (area average) to the same label
"$PFF" show --digit 0 --scale 3 --out "$T/big.png" >/dev/null 2>&1
[ "$(png_size "$T/big.png")" = 84x84 ] || fail "show --digit --scale 3: $(png_size "$T/big.png"), expected 84x84"
"$PFF" predict "$T/m.pff" "$T/big.png" >"$T/out" 2>&1
[ "$(label_of "$T/out")" = "$(label_of "$T/p0")" ] && ok "predict resizes 84x84 to 28x28" ||
    fail "predict on the 84x84 digit: $(cat "$T/out")"

# --- --json: one object per image per line
"$PFF" predict --json "$T/m.pff" "$T/d0.png" "$T/d1.png" "$T/d2.png" >"$T/json" 2>"$T/err"
n=$(wc -l <"$T/json")
bad=$(grep -c -v '^{"file":"[^"]*","label":[0-9],.*"scores":\[[^]]*\].*"softmax":\[[^]]*\]}$' "$T/json")
[ "$n" = 3 ] && [ "$bad" = 0 ] && ok "predict --json: 3 lines with file, label, scores, softmax" ||
    fail "predict --json: $n lines, $bad malformed: $(cat "$T/json" "$T/err")"
if command -v python3 >/dev/null 2>&1; then
    python3 -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert o["file"].endswith(".png") and 0 <= o["label"] <= 9, o
    assert len(o["scores"]) == 10 and len(o["softmax"]) == 10, o
    assert abs(sum(o["softmax"]) - 1) < 1e-3, o
' "$T/json" && ok "predict --json parses as JSON" || fail "predict --json: not valid JSON"
fi

# --- bad images: exit 2, a message naming the file, nothing on stdout
printf 'this is not an image\n' >"$T/text.png"
: >"$T/empty.png"
expect 2 "$T/text.png: not an image" predict "$T/m.pff" "$T/text.png"
expect 2 "$T/empty.png: empty file" predict "$T/m.pff" "$T/empty.png"
expect 2 "$T/nothere.png: cannot open" predict "$T/m.pff" "$T/nothere.png"
expect 2 "$T/big.png: image is 84x84, the model expects 28x28" predict --no-resize "$T/m.pff" "$T/big.png"
expect 2 "expected a MODEL file and at least one IMAGE" predict "$T/m.pff"
expect 2 "did you mean --json" predict --jsn "$T/m.pff" "$T/d0.png"
"$PFF" predict --json "$T/m.pff" "$T/d0.png" "$T/text.png" >"$T/out" 2>"$T/err"
[ $? = 2 ] && [ "$(wc -l <"$T/out")" = 1 ] && grep -q "text.png" "$T/err" && ! grep -q "text.png" "$T/out" &&
    ok "predict with one good and one bad image: status 2, only the good one on stdout" ||
    fail "predict good+bad: $(cat "$T/out" "$T/err")"

# --- show --weights and --curves
"$PFF" show "$T/m.pff" --weights "$T/w.png" >"$T/out" 2>"$T/err" && is_png "$T/w.png" &&
    [ "$(png_size "$T/w.png")" = 291x291 ] && ok "show --weights: 10x10 tiles, $(png_size "$T/w.png")" ||
    fail "show --weights: $(cat "$T/out" "$T/err") $(png_size "$T/w.png" 2>/dev/null)"
[ "$(wc -l <"$T/log.csv")" = 3 ] && head -1 "$T/log.csv" | grep -q '^chapter,epoch,lr,loss_1,loss_2,' &&
    ok "train --log: a header and 2 chapter rows" || fail "train --log: $(cat "$T/log.csv")"
"$PFF" show --curves "$T/c.png" --log "$T/log.csv" >"$T/out" 2>"$T/err" && is_png "$T/c.png" &&
    ok "show --curves (log from pff train --log): $(cat "$T/out")" ||
    fail "show --curves: $(cat "$T/out" "$T/err")"
# the accuracy panel is named for what the log measured; a model's records do not say
printf 'chapter,epoch,lr,loss_1,seconds,test_accuracy\n1,1,0.001,0.6,1.5,91.5\n2,2,0.001,0.5,3.0,93.0\n' >"$T/tlog.csv"
sed 's/test_accuracy/val_accuracy/' "$T/tlog.csv" >"$T/vlog.csv"
"$PFF" show --curves "$T/t.png" --log "$T/tlog.csv" >"$T/out" 2>"$T/err" && is_png "$T/t.png" &&
    grep -q "(loss, test accuracy," "$T/out" && ok "show --curves of a test_accuracy log: $(cat "$T/out")" ||
    fail "show --curves of a test_accuracy log: $(cat "$T/out" "$T/err")"
"$PFF" show --curves "$T/v.png" --log "$T/vlog.csv" >"$T/out" 2>"$T/err" && is_png "$T/v.png" &&
    grep -q "(loss, validation accuracy," "$T/out" && ok "show --curves of a val_accuracy log: $(cat "$T/out")" ||
    fail "show --curves of a val_accuracy log: $(cat "$T/out" "$T/err")"
"$PFF" train --layers 784,20 --epochs 2 --splits 2 --train-limit 500 --test-limit 100 --eval-every 1 \
    --threads 1 --quiet --save "$T/e.pff" >/dev/null 2>"$T/err" &&
    "$PFF" show "$T/e.pff" --curves "$T/mc.png" >"$T/out" 2>>"$T/err" && is_png "$T/mc.png" &&
    grep -q ", held-out accuracy," "$T/out" && ok "show --curves of a model's records: $(cat "$T/out")" ||
    fail "show --curves of a model: $(cat "$T/out" "$T/err")"
# a JSON Lines log (pff train --log FILE.jsonl) reads as its CSV twin: the same chart, byte for byte
J="--layers 784,30,30 --epochs 3 --splits 3 --train-limit 500 --test-limit 100 --eval-every 1 --threads 1 --quiet"
"$PFF" train $J --log "$T/twin.csv" >/dev/null 2>"$T/err" && "$PFF" train $J --log "$T/twin.jsonl" >/dev/null 2>>"$T/err" &&
    "$PFF" show --curves "$T/twin-c.png" --log "$T/twin.csv" >/dev/null 2>>"$T/err" &&
    "$PFF" show --curves "$T/twin-j.png" --log "$T/twin.jsonl" >"$T/out" 2>>"$T/err" &&
    cmp -s "$T/twin-c.png" "$T/twin-j.png" && "$PFF" show --accuracy "$T/twin-a.png" "$T/twin.jsonl" >/dev/null 2>>"$T/err" &&
    ok "show --curves and --accuracy read a .jsonl log; its chart is the CSV log's, byte for byte" ||
    fail "show of a .jsonl log: $(cat "$T/out" "$T/err")"
printf '{"chapter":1,"loss":[0.5],"seconds":1,"test_accuracy":50}\n{"chapter":2,"loss":[0.4,0.3],"seconds":2,"test_accuracy":60}\n' >"$T/keys.jsonl"
expect 2 "keys.jsonl:2: not the keys and list lengths of line 1" show --curves "$T/x.png" --log "$T/keys.jsonl"
printf '{"chapter":"one","loss":[0.5]}\n' >"$T/str.jsonl"
expect 2 "str.jsonl:1: expected one JSON object of numbers" show --accuracy "$T/x.png" "$T/str.jsonl"
expect 2 "no 'chapter' and 'loss_1' columns" show --curves "$T/x.png" --log "$T/text.png"
expect 2 "nothing to show" show "$T/m.pff"

# --- show --accuracy: accuracy against seconds from logs with a seconds column, references
cat >"$T/run.csv" <<'EOF'
chapter,epoch,lr,loss_1,gpos_1,gneg_1,seconds,test_accuracy
1,1,0.001,0.6,130,70,12.5,96.1
2,2,0.001,0.5,150,52,25.0,
3,3,0.001,0.4,160,40,37.5,97.9
EOF
cat >"$T/ref.csv" <<'EOF'
# a comment
name,seconds,accuracy,kind
other,100,95.0,line
other,300,97.0,line
paper,7000,98.3,point
EOF
"$PFF" show --accuracy "$T/a.png" mine="$T/run.csv" "$T/ref.csv" >"$T/out" 2>"$T/err" && is_png "$T/a.png" &&
    grep -q "3 curves, 5 points" "$T/out" && ok "show --accuracy: $(cat "$T/out")" ||
    fail "show --accuracy: $(cat "$T/out" "$T/err")"
printf 'chapter,loss_1\n1,0.5\n' >"$T/nosec.csv"
expect 2 "columns seconds and test_accuracy" show --accuracy "$T/x.png" "$T/nosec.csv"
printf 'name,seconds,accuracy,kind\nx,10,99,curve\n' >"$T/badkind.csv"
expect 2 "expected line or point" show --accuracy "$T/x.png" "$T/badkind.csv"
printf 'name,seconds,accuracy,kind\nx,-3,99,line\n' >"$T/neg.csv"
expect 2 "must be > 0" show --accuracy "$T/x.png" "$T/neg.csv"
expect 2 "cannot open" show --accuracy "$T/x.png" "$T/none.csv"
# found by tests/fuzz/fuzz_log.c: a reference curve without a point crashed the chart; a chapter
# of 1e18 made its grid loop forever; an accuracy of 101 was drawn
printf 'name,seconds,accuracy,kind\na,nan,50,line\nb,10,90,line\n' >"$T/nopoint.csv"
expect 2 "curve 'a' has no point" show --accuracy "$T/x.png" "$T/nopoint.csv"
printf 'chapter,epoch,lr,loss_1\n1e18,1,0.1,0.5\n' >"$T/bigch.csv"
expect 2 "chapter '1e18', expected a whole number 1..1000000" show --curves "$T/x.png" --log "$T/bigch.csv"
printf 'chapter,epoch,lr,loss_1,seconds,test_accuracy\n1,1,0.1,0.5,1,101\n' >"$T/acc101.csv"
expect 2 "accuracy '101', expected a percentage" show --curves "$T/x.png" --log "$T/acc101.csv"
expect 2 "one or more" show --accuracy "$T/x.png"
[ -e "$T/x.png" ] && fail "a refused show --accuracy left $T/x.png"

# --- bench/accuracy.sh --smoke: chosen on validation (the test set unread), seeds on test,
# the report marked as a smoke run; run again, every run is kept and said to be kept
if ./bench/accuracy.sh --smoke --seeds 2 --sel-seeds 2 --out "$T/acc" --pff "$PFF" >"$T/out" 2>"$T/err"; then
    head -1 "$T/acc/REPORT.md" | grep -q "SMOKE RUN, NOT A RESULT" &&
        [ "$(grep -c ',1$' "$T/acc/selection.csv")" = 1 ] && [ "$(grep -c '^[0-9]' "$T/acc/seeds.csv")" = 2 ] &&
        ! grep -q '"test_accuracy":[0-9]' "$T"/acc/sel-*.json && grep -q '"val_accuracy":[0-9]' "$T/acc/sel-base.json" &&
        grep -q -- '--per-layer' "$T/acc/sel-base.cmd" && grep -q '"seed":2,' "$T/acc/sel-reg-s2.json" &&
        grep -q 'trained on 5,000 images with `--val 1000`' "$T/acc/REPORT.md" &&
        [ "$(grep -c '^[a-z0-9]*,[^,]*,[1-9],[0-9.]*,[0-9.]*,[0-9.]* [0-9.]*,' "$T/acc/selection.csv")" = 12 ] &&
        [ "$(grep -c '^[0-9],[0-9.]*,[0-9.]*,[A-Za-z0-9]*,[0-9]*,seed-base-k2-s[12].json$' "$T/acc/defaults.csv")" = 2 ] &&
        grep -q '"defaults": {"recipe": "base", "goodness_from": 2, "seeds_done": \[1, 2\]' "$T/acc/summary.json" &&
        ok "bench/accuracy.sh --smoke: one winner chosen on the mean of 2 validation seeds, 2 seeds on test and the defaults' 2, commands kept" ||
        fail "bench/accuracy.sh report: $(head -3 "$T/acc/REPORT.md") $(cat "$T/acc/selection.csv")"
    ./bench/accuracy.sh --smoke --seeds 2 --sel-seeds 2 --out "$T/acc" --pff "$PFF" >"$T/out" 2>"$T/err" &&
        [ "$(grep -c ': kept ' "$T/out")" -ge 10 ] && ! grep -q 'pff train' "$T/out" &&
        ok "bench/accuracy.sh again: every run kept, and said so" ||
        fail "bench/accuracy.sh again: $(cat "$T/out" "$T/err" | tail -5)"
else
    fail "bench/accuracy.sh: $(tail -3 "$T/err")"
fi

# --- bench/accuracy.sh --time-limit: a limit no candidate keeps refuses to choose, and says so
A="$T/acc-limit"
mkdir -p "$A" && cp "$T"/acc/sel-* "$A"/ 2>/dev/null
sh bench/accuracy.sh --smoke --seeds 2 --sel-seeds 2 --time-limit 0.01 --out "$A" --pff "$PFF" >"$T/lim" 2>&1 &&
    fail "accuracy.sh --time-limit 0.01 chose a recipe: $(tail -3 "$T/lim")"
grep -q "no candidate trains within --time-limit 0.01 s" "$T/lim" && [ ! -e "$A/chosen.txt" ] &&
    ! grep -q 'pff train' "$T/lim" &&
    ok "accuracy.sh --time-limit: no recipe within the limit, none chosen, the times named" ||
    fail "accuracy.sh --time-limit 0.01: $(tail -3 "$T/lim")"

# --- bench/accuracy.sh --only-seed: on the selection above (copied), a seed alone gives a report
# that says it is partial, the next seed completes it, --report-only trains nothing
A="$T/acc-part"
mkdir -p "$A" && cp "$T"/acc/sel-* "$T/acc/selection.csv" "$T/acc/chosen.txt" "$A"/ 2>/dev/null
if sh bench/accuracy.sh --smoke --seeds 2 --sel-seeds 2 --only-seed 1 --out "$A" --pff "$PFF" >"$T/acc1" 2>&1 &&
    ls "$A"/seed-*-s1.json >/dev/null 2>&1; then
    if ls "$A"/seed-*-s2.json >/dev/null 2>&1; then
        fail "accuracy.sh --only-seed 1 trained seed 2 too"
    elif grep -q "Partial: 1 of 2 seeds" "$A/REPORT.md" && grep -q '"partial": true' "$A/summary.json"; then
        ok "accuracy.sh --only-seed 1: seed 1 alone, the report says 1 of 2 seeds"
    else
        fail "accuracy.sh --only-seed 1: the report does not say it is partial: $(head -c 600 "$A/REPORT.md")"
    fi
    before=$(ls "$A" | wc -l)
    sh bench/accuracy.sh --smoke --seeds 2 --sel-seeds 2 --report-only --out "$A" --pff "$PFF" >"$T/acc2" 2>&1 &&
        [ "$(ls "$A" | wc -l)" = "$before" ] && ! grep -q "pff train" "$T/acc2" &&
        ok "accuracy.sh --report-only: no run, the same files" ||
        fail "accuracy.sh --report-only: $(cat "$T/acc2")"
    sh bench/accuracy.sh --smoke --seeds 2 --sel-seeds 2 --out "$A" --pff "$PFF" >"$T/acc3" 2>&1 &&
        ls "$A"/seed-*-s2.json >/dev/null 2>&1 && grep -q "kept.*s1.json" "$T/acc3" &&
        ! grep -q "Partial" "$A/REPORT.md" && grep -q "mean ± sd of 2 seeds" "$A/REPORT.md" &&
        ok "accuracy.sh: seed 2 added to the kept seed 1, the report is whole" ||
        fail "accuracy.sh, second seed: $(tail -5 "$T/acc3"); $(grep -i 'test accuracy' "$A/REPORT.md")"
else
    fail "accuracy.sh --smoke --only-seed 1: $(tail -5 "$T/acc1")"
fi
# --- bench/resumable.sh: a run stopped (SIGKILL) after a checkpoint continues from it when asked
# again; its JSON counts the seconds of both parts; the checkpoint (and the seconds before) go when it is done. The model
# equals the one of a run never stopped (pff's resume is exact: tests/test_resume.sh).
R="$T/resumable"
mkdir -p "$R"
printf '#!/bin/sh\necho $$ >"%s/pid"\nexec "%s" "$@"\n' "$R" "$PFF" >"$R/pff" && chmod +x "$R/pff"
RUN="--layers 784,300,300 --epochs 8 --splits 8 --train-limit 6000 --test-limit 500 --threads 1 --seed 4"
# shellcheck disable=SC2086
(. bench/resumable.sh && resumable_train "$R/pff" "$R" r 1 0 $RUN) >"$R/out1" 2>&1 &
waited=0
while [ ! -s "$R/r.ck" ] && [ $waited -lt 600 ]; do sleep 0.1; waited=$((waited + 1)); done
kill -9 "$(cat "$R/pid")" 2>/dev/null
wait
# shellcheck disable=SC2086
if [ -s "$R/r.ck" ] && [ ! -e "$R/r.json" ] &&
    (. bench/resumable.sh && resumable_train "$PFF" "$R" r 1 0 $RUN) >"$R/out2" 2>&1 &&
    grep -q "continuing from r.ck" "$R/out2" && [ ! -e "$R/r.ck" ] && [ ! -e "$R/r.before" ] &&
    [ -s "$R/r.resume1.csv" ] &&
    [ "$(wc -l <"$R/r.cmd")" = 2 ] && ! grep -q "$R" "$R/r.cmd" &&
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["train_seconds_total"] > d["train_seconds"] > 0, d' "$R/r.json"; then
    # shellcheck disable=SC2086
    "$PFF" train $RUN --quiet --save "$R/whole.pff" >/dev/null 2>&1 && cmp -s "$R/whole.pff" "$R/r.pff" &&
        ok "bench/resumable.sh: killed after a checkpoint, continued, train_seconds_total, the unstopped model's bytes" ||
        fail "bench/resumable.sh: the continued run's model differs from the unstopped one"
else
    fail "bench/resumable.sh: no resume: $(cat "$R/out1" "$R/out2" 2>/dev/null | tail -4); files: $(ls "$R" | tr '\n' ' ')"
fi

# --- bench/paper.sh --scale full: --rows softmax names the seven softmax runs that give every row
# but one, each checkpointed (in an empty --runs folder: not the repository's, whose rows fill up
# over time)
sh bench/paper.sh --scale full --yes --rows softmax --dry-run --pff "$PFF" --runs "$T/prow" >"$T/paper" 2>&1
if [ "$(grep -c '^== full-.*--checkpoint .*\.ck' "$T/paper")" = 7 ] && [ ! -e "$T/prow" ] &&
    [ "$(grep -c 'not run (--rows softmax)' "$T/paper")" = 2 ] && ! grep -q 'classifier goodness' "$T/paper"; then
    ok "bench/paper.sh --scale full --rows softmax: 7 checkpointed runs, 2 rows left to the identity"
else
    fail "bench/paper.sh --rows softmax --dry-run: $(cat "$T/paper")"
fi
# --rows needed: those seven and Adaptive-NEG Goodness on Single Layer (--fast: the one goodness
# row that no softmax run stands for); the other eight goodness rows are named and not run
sh bench/paper.sh --scale full --yes --rows needed --dry-run --pff "$PFF" --runs "$T/prow" >"$T/paper" 2>&1
if [ "$(grep -c '^== full-.*--checkpoint .*\.ck' "$T/paper")" = 8 ] && [ ! -e "$T/prow" ] &&
    [ "$(grep -c '^== full-adaptive-goodness-single-layer: .*--classifier goodness --schedule single-layer .*--fast' "$T/paper")" = 1 ] &&
    [ "$(grep -c 'classifier goodness' "$T/paper")" = 1 ] &&
    [ "$(grep -c 'goodness .*: the layers of the softmax run, not run (--rows needed)' "$T/paper")" = 6 ] &&
    [ "$(grep -c 'not run (--rows needed)' "$T/paper")" = 10 ]; then
    ok "bench/paper.sh --scale full --rows needed: 8 checkpointed runs (adaptive goodness single-layer with --fast), 10 rows left to the identities"
else
    fail "bench/paper.sh --rows needed --dry-run: $(cat "$T/paper")"
fi
# ... and beside a row that is done and one that is running (its checkpoint, log and command so
# far), the dry run skips the first, continues the second, and changes none of their files
mkdir -p "$T/prow"
ROW="$T/prow/full-fixed-softmax-all-layers"
printf 'chapter,epoch,seconds\n1,1,40.5\n2,2,81.25\n' >"$ROW.csv"
echo checkpoint >"$ROW.ck"
echo "pff train --neg fixed" >"$ROW.cmd.tmp"
echo '{"scale_row":{"neg":"random","classifier":"softmax","schedule":"all-layers"},"command":"","result":{}}' \
    >"$T/prow/full.jsonl"
(cd "$T/prow" && ls -l --time-style=+%s.%N && cat ./*) >"$T/prow.before"
sh bench/paper.sh --scale full --yes --rows softmax --dry-run --pff "$PFF" --runs "$T/prow" >"$T/paper" 2>&1
(cd "$T/prow" && ls -l --time-style=+%s.%N && cat ./*) >"$T/prow.after"
if [ "$(grep -c '^== full-.*--checkpoint .*\.ck' "$T/paper")" = 5 ] &&
    grep -q 'random softmax all-layers: done already' "$T/paper" &&
    grep -q '^== full-fixed-softmax-all-layers: continuing from full-fixed-softmax-all-layers.ck (81.250 s' "$T/paper" &&
    cmp -s "$T/prow.before" "$T/prow.after"; then
    ok "bench/paper.sh --dry-run beside a done row and a running one: skips, continues, changes no file"
else
    fail "bench/paper.sh --dry-run beside rows: $(cat "$T/paper"; diff "$T/prow.before" "$T/prow.after")"
fi
# a bad --rows is refused
sh bench/paper.sh --rows random-nope-all-layers >"$T/out" 2>"$T/err"
[ $? = 2 ] && grep -q "classifier must be" "$T/err" && [ ! -s "$T/out" ] &&
    ok "bench/paper.sh --rows random-nope-all-layers: status 2, $(cat "$T/err")" ||
    fail "bench/paper.sh bad --rows: $(cat "$T/err")"

expect_sh() { # a usage error of the script: status 2 and its message
    sh bench/accuracy.sh "$@" >"$T/out" 2>"$T/err"
    [ $? = 2 ] && grep -q "only-seed" "$T/err" && ok "accuracy.sh $*: status 2, $(cat "$T/err")" ||
        fail "accuracy.sh $*: $(cat "$T/err")"
}
expect_sh --seeds 2 --only-seed 3
expect_sh --only-seed x

expect 2 "out of range" show --digit 10000 --out "$T/x.png"
[ -e "$T/x.png" ] && fail "a failed show left $T/x.png"
for f in "$T"/*.tmp.*; do [ -e "$f" ] && fail "a temporary file was left: $f"; done

# --- make install into a temporary prefix; tests/example.c against it via pkg-config
if make --no-print-directory install PREFIX="$P" >"$T/install" 2>&1; then
    missing=""
    for f in bin/pff lib/libpff.a lib/libpff.so.0 include/pff.h lib/pkgconfig/pff.pc share/man/man1/pff.1; do
        [ -s "$P/$f" ] || missing="$missing $f"
    done
    [ -z "$missing" ] && ! grep -q '@' "$P/lib/pkgconfig/pff.pc" && "$P/bin/pff" --version >/dev/null &&
        ok "make install PREFIX=$P: bin, lib, include, pkgconfig, man1" ||
        fail "make install: missing$missing or @...@ left in pff.pc"
    if command -v man >/dev/null 2>&1; then
        man -l "$P/share/man/man1/pff.1" >/dev/null 2>&1 && ok "man -l pff.1 renders" || fail "man -l pff.1"
    fi
    # the shared library as Debian lays it out: real file, soname link, development link
    so=$(cd "$P/lib" && ls libpff.so.*.*.* 2>/dev/null | head -1)
    if [ -n "$so" ] && [ -f "$P/lib/$so" ] && [ ! -L "$P/lib/$so" ] &&
        [ "$(readlink "$P/lib/libpff.so.0")" = "$so" ] && [ "$(readlink "$P/lib/libpff.so")" = libpff.so.0 ] &&
        readelf -d "$P/lib/$so" | grep -q 'SONAME.*\[libpff\.so\.0\]'; then
        ok "make install: lib/$so (SONAME libpff.so.0), libpff.so.0 -> $so, libpff.so -> libpff.so.0"
    else
        fail "make install: shared library layout: $(ls -l "$P/lib" | tr '\n' ' ')"
    fi
    if command -v pkg-config >/dev/null 2>&1; then
        flags=$(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --cflags --libs pff)
        # shellcheck disable=SC2086
        if ${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror tests/example.c $flags -o "$T/example" >"$T/cc" 2>&1; then
            readelf -d "$T/example" | grep -q 'NEEDED.*\[libpff\.so\.0\]' &&
                LD_LIBRARY_PATH="$P/lib" ldd "$T/example" | grep -q "libpff.so.0 => $P/lib/libpff.so.0" &&
                ok "tests/example.c links libpff.so.0 (pkg-config: $flags)" ||
                fail "tests/example.c does not load $P/lib/libpff.so.0: $(LD_LIBRARY_PATH="$P/lib" ldd "$T/example" | tr '\n' ' ')"
            LD_LIBRARY_PATH="$P/lib" "$T/example" data/mnist >"$T/out" 2>&1 && grep -q "test accuracy" "$T/out" &&
                ok "tests/example.c runs with the installed libpff.so.0: $(cat "$T/out")" ||
                fail "example (shared): $(cat "$T/out")"
        else
            fail "tests/example.c does not build with pkg-config flags '$flags': $(cat "$T/cc")"
        fi
        # the archive: pkg-config --static adds its dependencies (Libs.private)
        sflags=$(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --static --libs pff |
            sed 's/-lpff /-Wl,-Bstatic -lpff -Wl,-Bdynamic /')
        # shellcheck disable=SC2086
        if ${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror tests/example.c -I"$P/include" $sflags \
            -o "$T/example_static" >"$T/cc" 2>&1; then
            ! readelf -d "$T/example_static" | grep -q 'libpff' &&
                "$T/example_static" data/mnist >"$T/out" 2>&1 && grep -q "test accuracy" "$T/out" &&
                ok "tests/example.c with libpff.a (pkg-config --static: $sflags): $(cat "$T/out")" ||
                fail "example (static): $(cat "$T/out")"
        else
            fail "tests/example.c does not build with '$sflags': $(cat "$T/cc")"
        fi
    else
        fail "tests/example.c: pkg-config is not installed (make test-deps installs it)"
    fi
else
    fail "make install PREFIX=$P: $(tail -5 "$T/install")"
fi

if [ "$fails" -gt 0 ]; then
    echo "test_tools: $fails failure(s)"
    exit 1
fi
echo "test_tools: all passed, $skipped skipped"
