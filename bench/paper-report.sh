#!/bin/sh
# bench/paper-report.sh — writes bench/archive/PAPER.md on stdout from
# bench/archive/paper-notes.md (the readings, by hand), the rows bench/paper.sh
# recorded in bench/runs/paper/SCALE.jsonl (one pff --json object per row), and
# bench/archive/paper-discussion.md (what the numbers say, by hand).
set -eu
here=$(cd "$(dirname "$0")" && pwd)

# one tab-separated line per row: scale neg classifier schedule seconds goodness softmax
# neg_seconds eval_seconds train_n epochs threads nodes
rows() {
    for scale in default large full; do
        f=$here/runs/paper/$scale.jsonl
        [ -f "$f" ] || continue
        while IFS= read -r line; do
            get() { printf '%s\n' "$line" | sed -n "s/.*\"result\":{.*\"$1\":\([^,}]*\).*/\1/p" | tr -d '"'; }
            # a run continued with --resume states its whole training time as train_seconds_total
            secs=$(printf '%s\n' "$line" | sed -n 's/.*"train_seconds_total":\([0-9.]*\).*/\1/p')
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scale" "$(get neg)" \
                "$(get classifier)" "$(get schedule)" "${secs:-$(get train_seconds)}" \
                "$(get goodness_accuracy)" "$(get softmax_accuracy)" "$(get neg_seconds)" \
                "$(get eval_seconds)" "$(get train_n)" "$(get epochs)" "$(get threads)" "$(get nodes)"
        done <"$f"
    done
}

cat "$here/archive/paper-notes.md"
echo
rows | awk -F '\t' '
BEGIN {
    # the paper: time (s), goodness accuracy, softmax accuracy (Tables 1-3)
    split("sequential single-layer all-layers", SCH, " ")
    NAME["sequential"] = "Sequential"; NAME["single-layer"] = "Single Layer"; NAME["all-layers"] = "All Layers"
    P["adaptive goodness sequential"] = "11190.72 98.52 -"
    P["adaptive goodness single-layer"] = "5254.87 98.43 -"
    P["adaptive goodness all-layers"] = "2980.76 98.51 -"
    P["random goodness sequential"] = "7178.71 98.33 -"
    P["random goodness single-layer"] = "1974.10 98.26 -"
    P["random goodness all-layers"] = "2008.25 98.17 -"
    P["fixed goodness sequential"] = "7143.28 97.95 -"
    P["fixed goodness single-layer"] = "1920.80 97.94 -"
    P["fixed goodness all-layers"] = "1978.21 97.89 -"
    P["adaptive softmax sequential"] = "8365.96 - 98.38"
    P["adaptive softmax single-layer"] = "2471.27 - 98.31"
    P["adaptive softmax all-layers"] = "1886.42 - 98.30"
    P["random softmax sequential"] = "8104.96 98.33 98.48"
    P["random softmax single-layer"] = "1891.86 98.20 98.31"
    P["random softmax all-layers"] = "1786.30 98.16 98.33"
    P["fixed softmax sequential"] = "7983.21 97.95 98.03"
    P["fixed softmax single-layer"] = "1939.62 98.01 97.92"
    P["fixed softmax all-layers"] = "1794.52 97.86 97.85"
    nscales = 0
}
{
    s = $1
    if (!(s in SEEN)) { SEEN[s] = 1; SC[++nscales] = s }
    k = s " " $2 " " $3 " " $4
    T[k] = $5; G[k] = $6; X[k] = $7; NEG[k] = $8; EV[k] = $9
    IMG[s] = $10; EP[s] = $11
    if ($4 == "sequential") THR[s] = $12; else NOD[s] = $13
    TH[k] = $12; ND[k] = $13
}
function has(k) { return k in T }
# a row that did not run, and the run whose model it would have trained to the same bits:
# the other classifier on the same schedule (DESIGN.md §2.6: the head never trains the layers;
# its goodness accuracy only), and with fixed or random negatives the other pipeline schedule
# (DESIGN.md §2.1; both give every node the same threads). "" when there is none.
function same(s, neg, cls, sch,   o, other) {
    o = cls == "softmax" ? "goodness" : "softmax"
    if (neg == "adaptive" && sch == "single-layer") return ""   # --fast: no two runs alike
    if (cls == "goodness" && has(s " " neg " " o " " sch)) return s " " neg " " o " " sch
    if (neg == "adaptive" || sch == "sequential") return ""
    other = sch == "all-layers" ? "single-layer" : "all-layers"
    if (has(s " " neg " " cls " " other)) return s " " neg " " cls " " other
    if (cls == "goodness" && has(s " " neg " " o " " other)) return s " " neg " " o " " other
    return ""
}
# the goodness (g = 1) or softmax accuracy of row k, or of the run with its model, marked ≡
function accof(k, g,   s, a, src) {
    if (has(k)) return acc(g ? G[k] : X[k])
    split(k, a, " "); src = same(a[1], a[2], a[3], a[4])
    if (src == "" || (!g && a[3] != "softmax")) return "-"
    FILLED = 1
    return acc(g ? G[src] : X[src]) " ≡"
}
function nt(k) { return has(k) ? ND[k] "x" TH[k] : "-" }
function pt(k, i,   a) { split(P[k], a, " "); return a[i] }
function acc(v) { return v == "null" || v == "" ? "-" : sprintf("%.2f", v) }
function su(s, neg, cls, sch,   b) {   # our speed-up over sequential
    b = s " " neg " " cls " sequential"
    if (!has(b) || !has(s " " neg " " cls " " sch)) return "-"
    return sprintf("%.2fx", T[b] / T[s " " neg " " cls " " sch])
}
function psu(neg, cls, sch) {
    return sprintf("%.2fx", pt(neg " " cls " sequential", 1) / pt(neg " " cls " " sch, 1))
}
# one table: rows for the given negatives x classifiers; acc: which accuracy columns
function table(s, title, negs, clss, both,   n, c, i, j, m, neg, cls, sch, k, pk, NG, CL) {
    n = split(negs, NG, " "); m = split(clss, CL, " ")
    printf "\n### %s\n\n", title
    if (both) {
        print "| Model | Implementation | paper time (s) | paper goodness % | paper softmax % | our time (s) | our goodness % | our softmax % | nodes x threads | paper speed-up | our speed-up |"
        print "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"
    } else {
        print "| Model | Implementation | paper time (s) | paper accuracy % | our time (s) | our accuracy % | nodes x threads | paper speed-up | our speed-up |"
        print "|---|---|---:|---:|---:|---:|---|---:|---:|"
    }
    FILLED = 0
    for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) for (c = 1; c <= 3; c++) {
        neg = NG[i]; cls = CL[j]; sch = SCH[c]
        k = s " " neg " " cls " " sch; pk = neg " " cls " " sch
        model = c == 1 ? toupper(substr(neg, 1, 1)) substr(neg, 2) "-NEG " toupper(substr(cls, 1, 1)) substr(cls, 2) : ""
        ours_t = has(k) ? sprintf("%.1f", T[k]) : "not run"
        if (both)
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", model, NAME[sch], pt(pk, 1), pt(pk, 2), pt(pk, 3),
                ours_t, accof(k, 1), accof(k, 0), nt(k), psu(neg, cls, sch), su(s, neg, cls, sch)
        else
            printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", model, NAME[sch], pt(pk, 1),
                cls == "softmax" ? pt(pk, 3) : pt(pk, 2), ours_t, accof(k, cls != "softmax"), nt(k),
                psu(neg, cls, sch), su(s, neg, cls, sch)
    }
    if (FILLED)
        print "\n≡ not run: the accuracy of a run that trains the same model bit for bit (the run of the other classifier on\n" \
              "this schedule, DESIGN.md §2.6; with fixed or random negatives, the other pipeline, §2.1). Its time is unknown."
}
function verdict(ok) { return ok ? "**holds**" : "**does not hold**" }
function checks(s,   c, sch, cls, a, r, f, ok, d, line, i, neg, NG) {
    print "\n### The paper'"'"'s findings, checked on these numbers\n"
    # 1. adaptive >= random >= fixed
    print "1. *Adaptive ≥ Random ≥ Fixed* (test accuracy of the run'"'"'s own classifier):"
    for (ci = 1; ci <= 2; ci++) {
        cls = ci == 1 ? "goodness" : "softmax"
        for (c = 1; c <= 3; c++) {
            sch = SCH[c]
            a = s " adaptive " cls " " sch; r = s " random " cls " " sch; f = s " fixed " cls " " sch
            if (!has(a) || !has(r) || !has(f)) continue
            va = cls == "softmax" ? X[a] : G[a]; vr = cls == "softmax" ? X[r] : G[r]; vf = cls == "softmax" ? X[f] : G[f]
            printf "   - %s, %s: %.2f / %.2f / %.2f: %s\n", cls, NAME[sch], va, vr, vf, verdict(va >= vr && vr >= vf)
        }
    }
    # 2. All Layers within 0.3 points of Sequential
    print "2. *All Layers within 0.3 points of Sequential*:"
    split("adaptive random fixed", NG, " ")
    for (i = 1; i <= 3; i++) for (ci = 1; ci <= 2; ci++) {
        neg = NG[i]; cls = ci == 1 ? "goodness" : "softmax"
        a = s " " neg " " cls " all-layers"; q = s " " neg " " cls " sequential"
        if (!has(a) || !has(q)) continue
        va = cls == "softmax" ? X[a] : G[a]; vq = cls == "softmax" ? X[q] : G[q]
        d = va - vq
        printf "   - %s %s: %.2f vs %.2f (%+.2f): %s\n", neg, cls, va, vq, d, verdict(d >= -0.3 && d <= 0.3)
    }
    # 3. speed-up ordering
    print "3. *Speed-up ordering.* The paper: both pipelines far ahead of Sequential; All Layers"
    print "   clearly ahead of Single Layer with adaptive negatives (Single Layer leaves them all to its"
    print "   last node); the two within a few percent with random and fixed ones. A gap under 10% counts"
    print "   as a tie:"
    for (i = 1; i <= 3; i++) for (ci = 1; ci <= 2; ci++) {
        neg = NG[i]; cls = ci == 1 ? "goodness" : "softmax"
        q = s " " neg " " cls " sequential"; sl = s " " neg " " cls " single-layer"; al = s " " neg " " cls " all-layers"
        if (!has(q) || !has(sl) || !has(al)) continue
        pq = pt(neg " " cls " sequential", 1); ps = pt(neg " " cls " single-layer", 1); pa = pt(neg " " cls " all-layers", 1)
        pr = rel(ps, pa); orl = rel(T[sl], T[al])
        printf "   - %s %s: Sequential/SL/AL speed-ups paper 1 / %.2f / %.2f, ours 1 / %.2f / %.2f; AL vs SL paper %s, ours %s: %s\n",
            neg, cls, pq / ps, pq / pa, T[q] / T[sl], T[q] / T[al], pr, orl,
            verdict(T[sl] < T[q] && T[al] < T[q] && pr == orl)
    }
    # 4. softmax vs goodness
    print "4. *Softmax vs Goodness* (paper: Softmax trains faster than Goodness in All Layers; its"
    print "   accuracy is a little lower for adaptive negatives, a little higher for random and fixed):"
    for (i = 1; i <= 3; i++) for (c = 1; c <= 3; c++) {
        neg = NG[i]; sch = SCH[c]
        g = s " " neg " goodness " sch; x = s " " neg " softmax " sch
        if (!has(g) || !has(x)) continue
        pd = (neg == "adaptive" ? pt(neg " softmax " sch, 3) - pt(neg " goodness " sch, 2) : pt(neg " softmax " sch, 3) - pt(neg " softmax " sch, 2))
        od = X[x] - G[g]
        printf "   - %s, %s: softmax %.2f vs goodness %.2f (%+.2f; paper %+.2f); time %.1f vs %.1f s (paper %s vs %s s)\n",
            neg, NAME[sch], X[x], G[g], od, pd, T[x], T[g], pt(neg " softmax " sch, 1), pt(neg " goodness " sch, 1)
    }
}
function rel(sl, al) {   # All Layers against Single Layer, 10% either way is a tie
    if (al < sl / 1.1) return "AL faster"
    if (sl < al / 1.1) return "SL faster"
    return "tie"
}
function order(q, s, a) {   # fastest first
    if (a <= s && s <= q) return "AL < SL < Seq"
    if (s <= a && a <= q) return "SL < AL < Seq"
    if (a <= q && q <= s) return "AL < Seq < SL"
    if (s <= q && q <= a) return "SL < Seq < AL"
    if (q <= a && a <= s) return "Seq < AL < SL"
    return "Seq < SL < AL"
}
END {
    for (i = 1; i <= nscales; i++) {
        s = SC[i]
        printf "\n## Scale `%s`: %d training images, %d epochs in %d chapters\n\n", s, IMG[s], EP[s], EP[s]
        if (s == "large")
            made = "`bench/paper.sh --scale large --rows adaptive-goodness`, then `bench/paper.sh --scale large --rows sequential-goodness`"
        else
            made = "`bench/paper.sh --scale " s "`"
        if (s == "full")   # one row at a time, over several sessions; the first four by hand
            print "Made by `bench/paper.sh --scale full --yes` one row at a time (each resumable), the first four rows by\n" \
                  "hand with the commands in `bench/runs/paper/full.jsonl`. Sequential runs on every core (2 threads\n" \
                  "here), the pipelines on 4 nodes of max(1, cores/4) threads; *nodes x threads* says what each row ran."
        else
            printf "Made by %s. Sequential runs on %d thread(s); the pipelines run 4 node threads of %d thread(s) each.\n", \
                made, THR[s], THR[s]
        printf "Times are `train_seconds` (the whole schedule, negatives included, evaluation excluded).\n"
        table(s, "Table 1: Goodness, the three negatives", "adaptive random fixed", "goodness", 0)
        table(s, "Table 2: Adaptive-NEG, Goodness and Softmax", "adaptive", "goodness softmax", 0)
        table(s, "Table 3: Random-NEG and Fixed-NEG with Softmax (both accuracies of the softmax runs)", "random fixed", "softmax goodness", 1)
        checks(s)
    }
}'
# The full scale's rows against the paper's stated settings (its section 5), each of ours read
# from the rows' own JSON: every distinct value the recorded rows used, so a row run otherwise
# shows up here.
full=$here/runs/paper/full.jsonl
if [ -s "$full" ]; then
    # distinct values of a result field over the full rows, joined by ", "
    used() {
        sed -n "s/.*\"result\":{.*\"$1\":\(\[[^]]*\]\|[^,}]*\).*/\1/p" "$full" | tr -d '"' |
            sort -u | paste -sd '|' - | sed 's/|/, /g'
    }
    layout=$(sed -n 's/.*"result":{.*"nodes":\([0-9]*\),"threads":\([0-9]*\).*/\1x\2/p' "$full" |
        sort -u | paste -sd '|' - | sed 's/|/, /g')
    echo
    echo "### How the full-scale rows differ from the paper's stated settings"
    echo
    echo "The paper's section 5 states these settings; ours are every value the rows above used,"
    echo "read from their JSON in \`bench/runs/paper/full.jsonl\`."
    echo
    echo "| setting | the paper states | our rows |"
    echo "|---|---|---|"
    echo "| network | [784, 2000, 2000, 2000, 2000], ReLU | $(used layers), ReLU |"
    echo "| data | MNIST, 60,000 training and 10,000 test images | MNIST, $(used train_n) training and $(used test_n) test images |"
    echo "| batch | 64 | $(used batch) |"
    echo "| epochs, splits | 100 epochs in 100 splits | $(used epochs) epochs in $(used splits) chapters |"
    echo "| FF learning rate (Adam) | 0.01 | $(used lr) (0.01 collapses to chance here: see the readings) |"
    echo "| softmax head learning rate (Adam) | 0.0001 | $(used softmax_lr) (used by the softmax rows only) |"
    echo "| threshold | \"coefficient 0.01\", as Hinton's | $(used threshold) x the layer's width (Hinton's code) |"
    echo "| cooldown | \"after the 50th epoch\" (form not stated) | linear to 0 over epochs 51-100 |"
    echo "| nodes | one per layer (Single Layer); separate machines, sockets | $layout nodes x threads, threads of one process on $(used blas_core) kernels |"
    echo "| what a hand-off carries | weights and biases | weights, biases and their Adam moments (\`--handoff full\`) |"
    echo "| seeds | not stated | seed $(used seed), one run a row |"
    echo "| other options | none | augment $(used augment), dropout $(used dropout), weight decay $(used weight_decay) |"
fi

# rows of the full scale with pff's additions (--augment, --dropout, --weight-decay, another
# --lr): bench/runs/paper/full-variants.jsonl, one table of their own beside the paper's row
variants=$here/runs/paper/full-variants.jsonl
if [ -s "$variants" ]; then
    echo
    echo "## Scale \`full\`, with options beyond the paper's recipe"
    echo
    echo "The paper's network, batch 64, all 60,000 images, 100 epochs in 100 chapters, with options"
    echo "the paper does not have; the commands are in \`bench/runs/paper/full-variants.jsonl\`."
    echo "*Every layer %* is the same final model classified by the goodness of layers 1..4"
    echo "(\`pff eval --goodness-from 1\`, which never changes the weights); *our accuracy %* uses the"
    echo "paper's rule, layers 2..4."
    echo
    echo "| Model | Implementation | options | paper time (s) | paper accuracy % | our time (s) | our accuracy % | every layer % | BLAS, threads |"
    echo "|---|---|---|---:|---:|---:|---:|---:|---|"
    while IFS= read -r line; do
        get() { printf '%s\n' "$line" | sed -n "s/.*\"result\":{.*\"$1\":\([^,}]*\).*/\1/p" | tr -d '"'; }
        neg=$(get neg) cls=$(get classifier) sch=$(get schedule)
        opts="lr $(get lr)"
        [ "$(get augment)" != none ] && opts="$opts, --augment $(get augment)"
        case "$(get dropout)" in ""|0) ;; *) opts="$opts, --dropout $(get dropout)" ;; esac
        case "$(get weight_decay)" in ""|0) ;; *) opts="$opts, --weight-decay $(get weight_decay)" ;; esac
        case "$(get goodness_from)" in ""|2) ;; *) opts="$opts, --goodness-from $(get goodness_from)" ;; esac
        case "$neg $cls $sch" in
        "adaptive goodness sequential") paper="11190.72 | 98.52" ;;
        "random goodness sequential") paper="7178.71 | 98.33" ;;
        "fixed goodness sequential") paper="7143.28 | 97.95" ;;
        "random goodness all-layers") paper="2008.25 | 98.17" ;;
        "adaptive goodness all-layers") paper="2980.76 | 98.51" ;;
        *) paper="- | -" ;;
        esac
        acc=$(get test_accuracy)
        every=$(printf '%s\n' "$line" | sed -n 's/.*"every_layer_accuracy":\([0-9.]*\).*/\1/p')
        cap() { printf '%s' "$1" | sed 's/^./\U&/; s/-\(.\)/ \U\1/g'; }   # all-layers -> All Layers
        # a run continued with --resume states its whole training time as train_seconds_total
        secs=$(printf '%s\n' "$line" | sed -n 's/.*"train_seconds_total":\([0-9.]*\).*/\1/p')
        printf '| %s-NEG %s | %s | %s | %s | %.1f | %.2f | %s | %s, %sx%s |\n' "$(cap "$neg")" "$(cap "$cls")" "$(cap "$sch")" "$opts" "$paper" \
            "${secs:-$(get train_seconds)}" "$acc" "${every:--}" "$(get blas_core)" "$(get nodes)" "$(get threads)"
    done <"$variants"
fi
if [ -f "$here/archive/paper-discussion.md" ]; then
    echo
    cat "$here/archive/paper-discussion.md"
fi
