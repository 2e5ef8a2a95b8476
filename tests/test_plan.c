/* test_plan.c - checks the schedule planner, the Gantt renderer and `pff schedule` against
 * makespans worked out by hand. Links with libpff and cli/cmd_schedule.c + cli/cli.c (the command).
 * Prints one line per check and exits non-zero if any check fails. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "../cli/cli.h" /* pff_schedule_cli, pff_schedule_main (cli/cmd_schedule.c) */
#include "../pipeline/plan.h"
#include "check.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static int near(double a, double b) { return fabs(a - b) <= 1e-9 * (1.0 + fabs(b)); }

static int plan(pff_plan *p, pff_plan_sched s, int n, int l, int sp, const double *costs,
                int adaptive, double neg_cost)
{
    pff_plan_config cfg = {s, n, l, sp, costs, adaptive, neg_cost, 0.0};
    char err[PFF_ERRLEN];
    int rc = pff_plan_compute(&cfg, p, err);
    if (rc != PFF_OK) printf("# plan error: %s\n", err);
    return rc;
}

static int block_is(const pff_plan *p, int k, int c, int node, double start, double end)
{
    const pff_span *b = pff_plan_block(p, k, c);
    return b && b->node == node && b->layer == k && b->chapter == c &&
           b->kind == PFF_SPAN_TRAIN && near(b->start, start) && near(b->end, end);
}

/* Reads a whole stream back from the start into a NUL-terminated buffer (caller frees). */
static char *slurp(FILE *f)
{
    if (fflush(f) != 0 || fseek(f, 0, SEEK_END) != 0) return NULL;
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) return NULL;
    char *buf = malloc((size_t)n + 1);
    if (!buf) return NULL;
    size_t got = fread(buf, 1, (size_t)n, f);
    buf[got] = '\0';
    return buf;
}

static int count_prefix_lines(const char *text, const char *prefix)
{
    int n = 0;
    size_t pl = strlen(prefix);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, prefix, pl) == 0) n++;
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : NULL;
    }
    return n;
}

/* Copies the first line starting with prefix into out (without newline); 0 if found. */
static int find_line(const char *text, const char *prefix, char *out, size_t outlen)
{
    size_t pl = strlen(prefix);
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (strncmp(line, prefix, pl) == 0) {
            if (len >= outlen) len = outlen - 1;
            memcpy(out, line, len);
            out[len] = '\0';
            return 0;
        }
        line = nl ? nl + 1 : NULL;
    }
    return -1;
}

/* Runs the CLI on temporary files; *out_text and *err_text receive what it wrote. */
static int run_cli(const char *const *args, int nargs, int use_color, char **out_text,
                   char **err_text)
{
    char *argv[32];
    argv[0] = (char *)"schedule";
    for (int i = 0; i < nargs && i < 30; i++) argv[i + 1] = (char *)args[i];
    argv[nargs + 1] = NULL;
    FILE *out = tmpfile(), *err = tmpfile();
    if (!out || !err) {
        if (out) fclose(out);
        if (err) fclose(err);
        *out_text = *err_text = NULL;
        return -100;
    }
    int rc = pff_schedule_cli(nargs + 1, argv, out, err, use_color);
    *out_text = slurp(out);
    *err_text = slurp(err);
    fclose(out);
    fclose(err);
    return rc;
}

/* pff_schedule_main with stderr sent to /dev/null. */
static int run_main_quiet(const char *const *args, int nargs)
{
    char *argv[32];
    argv[0] = (char *)"schedule";
    for (int i = 0; i < nargs && i < 30; i++) argv[i + 1] = (char *)args[i];
    argv[nargs + 1] = NULL;
    fflush(stderr);
    int saved = dup(2);
    int devnull = open("/dev/null", O_WRONLY);
    if (saved >= 0 && devnull >= 0) dup2(devnull, 2);
    int rc = pff_schedule_main(nargs + 1, argv);
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
    if (devnull >= 0) close(devnull);
    return rc;
}

static void test_makespans(void)
{
    pff_plan p;

    /* Figure 3: one node, 3 layers x 3 chapters of cost 1 back to back. */
    if (plan(&p, PFF_PLAN_SEQUENTIAL, 1, 3, 3, NULL, 0, 0.0) == 0) {
        CHECK(near(p.makespan, 9.0), "sequential L=3 S=3: makespan 9");
        int ok = 1;
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 3; k++) ok &= block_is(&p, k, c, 0, c * 3 + k, c * 3 + k + 1);
        CHECK(ok, "sequential L=3 S=3: block (k,c) runs on node 1 at 3c + k");
        CHECK(near(p.speedup, 1.0) && near(p.utilisation[0], 1.0), "sequential: speed-up 1, node 100%% busy");
        pff_plan_free(&p);
    } else {
        CHECK(0, "sequential L=3 S=3 plans");
    }

    /* Figure 4: node k runs layer k; (k,c) starts at k + c (0-based): makespan S + L - 1 = 5. */
    if (plan(&p, PFF_PLAN_SINGLE_LAYER, 3, 3, 3, NULL, 0, 0.0) == 0) {
        CHECK(near(p.makespan, 5.0), "single-layer N=L=3 S=3: makespan 5 (S + L - 1)");
        int ok = 1;
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 3; k++) ok &= block_is(&p, k, c, k, k + c, k + c + 1);
        CHECK(ok, "single-layer: (k,c) on node k from k + c to k + c + 1");
        CHECK(near(p.sequential_makespan, 9.0) && near(p.speedup, 9.0 / 5.0), "single-layer: sequential 9, speed-up 1.8");
        int ok_u = 1;
        for (int n = 0; n < 3; n++)
            ok_u &= near(p.busy[n], 3.0) && near(p.utilisation[n], 0.6) && near(p.bubble[n], 0.4);
        CHECK(ok_u, "single-layer: every node busy 3 of 5, utilisation 0.6, bubble 0.4");
        pff_plan_free(&p);
    } else {
        CHECK(0, "single-layer N=L=3 S=3 plans");
    }

    /* Figure 5 by hand. Node (c-1) mod 3 runs chapter c; (k,c) waits for (k,c-1) and (k-1,c):
     *   c1 node1: L1 [0,1] L2 [1,2] L3 [2,3]
     *   c2 node2: L1 [1,2] L2 [2,3] L3 [3,4]
     *   c3 node3: L1 [2,3] L2 [3,4] L3 [4,5]
     *   c4 node1: free at 3, (1,3) ends 3: L1 [3,4] L2 [4,5] L3 [5,6]
     *   c5 node2: L1 [4,5] L2 [5,6] L3 [6,7]
     *   c6 node3: L1 [5,6] L2 [6,7] L3 [7,8]      -> makespan 8, each node busy 6. */
    if (plan(&p, PFF_PLAN_ALL_LAYERS, 3, 3, 6, NULL, 0, 0.0) == 0) {
        CHECK(near(p.makespan, 8.0), "all-layers N=3 L=3 S=6: makespan 8");
        int ok = 1;
        for (int c = 0; c < 6; c++)
            for (int k = 0; k < 3; k++) ok &= block_is(&p, k, c, c % 3, k + c, k + c + 1);
        CHECK(ok, "all-layers: chapter c on node c mod N, (k,c) from k + c");
        CHECK(near(p.sequential_makespan, 18.0) && near(p.speedup, 2.25), "all-layers: sequential 18, speed-up 2.25");
        int ok_u = 1;
        for (int n = 0; n < 3; n++)
            ok_u &= near(p.busy[n], 6.0) && near(p.utilisation[n], 0.75) && near(p.bubble[n], 0.25);
        CHECK(ok_u, "all-layers: every node busy 6 of 8, utilisation 0.75, bubble 0.25");
        pff_plan_free(&p);
    } else {
        CHECK(0, "all-layers N=3 L=3 S=6 plans");
    }

    /* Unequal costs, by hand: single-layer, costs 1,2,1, S=2.
     *   node1: (1,1) [0,1] (1,2) [1,2]; node2: (2,1) [1,3] (2,2) [3,5];
     *   node3: (3,1) [3,4] (3,2) [5,6]  -> makespan 6; sequential 2 * 4 = 8. */
    const double c121[3] = {1.0, 2.0, 1.0};
    if (plan(&p, PFF_PLAN_SINGLE_LAYER, 3, 3, 2, c121, 0, 0.0) == 0) {
        CHECK(near(p.makespan, 6.0) && near(p.sequential_makespan, 8.0) &&
                  block_is(&p, 1, 1, 1, 3.0, 5.0) && block_is(&p, 2, 1, 2, 5.0, 6.0), "single-layer costs 1,2,1 S=2: makespan 6, sequential 8");
        CHECK(near(p.utilisation[1], 4.0 / 6.0), "single-layer costs 1,2,1: node 2 utilisation 4/6");
        pff_plan_free(&p);
    } else {
        CHECK(0, "single-layer costs 1,2,1 plans");
    }

    /* All-layers with more nodes than chapters: the extra nodes stay idle. */
    if (plan(&p, PFF_PLAN_ALL_LAYERS, 4, 2, 2, NULL, 0, 0.0) == 0) {
        CHECK(near(p.makespan, 3.0) && near(p.busy[2], 0.0) && near(p.bubble[3], 1.0), "all-layers N=4 L=2 S=2: makespan 3, nodes 3 and 4 idle");
        pff_plan_free(&p);
    } else {
        CHECK(0, "all-layers N=4 plans");
    }
}

static int same_spans(const pff_plan *a, const pff_plan *b, int compare_nodes)
{
    if (a->nspans != b->nspans || !near(a->makespan, b->makespan)) return 0;
    for (int i = 0; i < a->nspans; i++) {
        const pff_span *x = &a->spans[i], *y = &b->spans[i];
        if (x->layer != y->layer || x->chapter != y->chapter || x->kind != y->kind ||
            !near(x->start, y->start) || !near(x->end, y->end))
            return 0;
        if (compare_nodes && x->node != y->node) return 0;
    }
    return 1;
}

static void test_equivalences(void)
{
    const double costs[4] = {0.5, 2.0, 1.25, 3.0}; /* sum 6.75 */
    int ok_seq = 1, ok_self = 1;
    for (int variant = 0; variant < 4; variant++) {
        int adaptive = variant & 1;
        double neg = (variant & 2) ? 0.75 : 0.0;
        pff_plan a, s;
        if (plan(&a, PFF_PLAN_ALL_LAYERS, 1, 4, 5, costs, adaptive, neg) ||
            plan(&s, PFF_PLAN_SEQUENTIAL, 1, 4, 5, costs, adaptive, neg)) {
            ok_seq = ok_self = 0;
            continue;
        }
        ok_seq &= same_spans(&a, &s, 1) && near(a.makespan, a.sequential_makespan);
        /* by hand: 5 chapters of 6.75, a negatives block between chapters */
        const double want = 5 * 6.75 + 4 * neg;
        ok_self &= near(s.makespan, want) && near(s.sequential_makespan, want) &&
                   near(s.speedup, 1.0);
        pff_plan_free(&a);
        pff_plan_free(&s);
    }
    CHECK(ok_seq, "all-layers with N=1 equals sequential (with and without adaptive, neg cost)");
    CHECK(ok_self, "sequential makespan = 5 * 6.75 + 4 * neg_cost, by hand (neg_cost 0 and 0.75)");

    /* Federated, 3 nodes, 4 layers of cost 0.5, 2, 1.25, 3, 7 chapters, by hand:
     * chapter 1 reaches layer 4 at 0.5 + 2 + 1.25 = 3.75; from then on layer 4
     * (the slowest) never waits: each later chapter's layers 1-3 finish on
     * their node before layer 4 of the chapter before does (chapter 2: L3 ends
     * 5.75 < 6.75; chapter 4 on node 1, free at 6.75: L3 ends 10.5 < 12.75; ...).
     * So the makespan is 3.75 + 7 * 3 = 24.75; sequential is 7 * 6.75 = 47.25.
     * Node 1 trains chapters 1, 4, 7 (3 x 6.75 busy), nodes 2, 3 two each. */
    pff_plan f;
    if (plan(&f, PFF_PLAN_FEDERATED, 3, 4, 7, costs, 0, 0.0) == 0) {
        CHECK(near(f.makespan, 24.75) && near(f.sequential_makespan, 47.25) &&
                  near(f.speedup, 47.25 / 24.75),
              "federated N=3, L=4, S=7: makespan 24.75, sequential 47.25 (by hand); got %g, %g",
              f.makespan, f.sequential_makespan);
        CHECK(near(f.utilisation[0], 3 * 6.75 / 24.75) && near(f.utilisation[1], 2 * 6.75 / 24.75) &&
                  near(f.utilisation[2], 2 * 6.75 / 24.75),
              "federated N=3: utilisation 20.25, 13.5, 13.5 of 24.75 (by hand); got %g %g %g",
              f.utilisation[0], f.utilisation[1], f.utilisation[2]);
        /* chapter 5 (node 2, free at 9.75 after chapter 2): its layer 4 waits for
         * chapter 4's, which ends at 15.75, and ends at 18.75 */
        CHECK(block_is(&f, 3, 4, 1, 15.75, 18.75), "federated: L4c5 on node 2 at [15.75, 18.75]");
        pff_plan_free(&f);
    } else {
        CHECK(0, "federated plan failed");
    }

    pff_plan p;
    if (plan(&p, PFF_PLAN_SEQUENTIAL, 1, 4, 5, costs, 0, 0.75) == 0) {
        CHECK(near(p.makespan, 5 * 6.75 + 4 * 0.75), "sequential with neg cost: 5*6.75 + 4*0.75");
        pff_plan_free(&p);
    }
}

static void test_adaptive(void)
{
    pff_plan p;
    /* Single-layer, adaptive (waiting mode): (1,c) waits for (3,c-1), so chapters do not overlap. */
    if (plan(&p, PFF_PLAN_SINGLE_LAYER, 3, 3, 3, NULL, 1, 0.0) == 0) {
        CHECK(near(p.makespan, 9.0) && block_is(&p, 0, 1, 0, 3.0, 4.0), "single-layer adaptive: (1,2) starts when (3,1) ends, makespan 9");
        pff_plan_free(&p);
    }
    /* ... plus 0.5 to regenerate negatives on node 3 after chapters 1 and 2: 9 + 2 * 0.5. */
    if (plan(&p, PFF_PLAN_SINGLE_LAYER, 3, 3, 3, NULL, 1, 0.5) == 0) {
        int nneg = 0, ok = 1;
        for (int i = 0; i < p.nspans; i++) {
            if (p.spans[i].kind != PFF_SPAN_NEGATIVES) continue;
            nneg++;
            ok &= p.spans[i].node == 2;
        }
        CHECK(near(p.makespan, 10.0) && nneg == 2 && ok && block_is(&p, 0, 1, 0, 3.5, 4.5), "single-layer adaptive neg 0.5: 2 negatives blocks on node 3, makespan 10");
        pff_plan_free(&p);
    }
    /* All-layers: lag N, a node's own chapter, so adaptive alone changes nothing. */
    if (plan(&p, PFF_PLAN_ALL_LAYERS, 3, 3, 6, NULL, 1, 0.0) == 0) {
        CHECK(near(p.makespan, 8.0), "all-layers adaptive, no neg cost: makespan still 8");
        pff_plan_free(&p);
    }
    /* All-layers N=3 L=3 S=6, adaptive, neg 0.5, by hand:
     *   c1 node1 [0,3] neg [3,3.5]; c2 node2 [1,4] neg [4,4.5]; c3 node3 [2,5] neg [5,5.5]
     *   c4 node1 L1 [3.5,4.5] L2 [4.5,5.5] L3 [5.5,6.5] neg [6.5,7]
     *   c5 node2 L1 [4.5,5.5] L2 [5.5,6.5] L3 [6.5,7.5] neg [7.5,8]
     *   c6 node3 L1 [5.5,6.5] L2 [6.5,7.5] L3 [7.5,8.5]          -> makespan 8.5 */
    if (plan(&p, PFF_PLAN_ALL_LAYERS, 3, 3, 6, NULL, 1, 0.5) == 0) {
        CHECK(near(p.makespan, 8.5) && block_is(&p, 0, 3, 0, 3.5, 4.5) &&
                  block_is(&p, 2, 5, 2, 7.5, 8.5) && near(p.sequential_makespan, 20.5), "all-layers adaptive neg 0.5: makespan 8.5, sequential 20.5");
        CHECK(near(p.busy[0], 7.0) && near(p.busy[2], 6.5), "all-layers adaptive neg 0.5: node 1 busy 7, node 3 busy 6.5");
        pff_plan_free(&p);
    }
}

/* Map blocks: single-layer L=2, S=2, unit costs, map 0.5. Node 1: L1c1 [0,1], map [1,1.5],
 * L1c2 [1.5,2.5], map [2.5,3]; node 2: L2c1 [1.5,2.5], L2c2 [3,4]. Makespan 4. */
static void test_map_cost(void)
{
    pff_plan_config cfg = {PFF_PLAN_SINGLE_LAYER, 2, 2, 2, NULL, 0, 0.0, 0.5};
    pff_plan p;
    char err[PFF_ERRLEN];
    int rc = pff_plan_compute(&cfg, &p, err);
    CHECK(rc == 0, "map cost: plan computes");
    if (rc == 0) {
        CHECK(fabs(p.makespan - 4.0) < 1e-12, "map cost: single-layer makespan 4");
        CHECK(fabs(p.busy[0] - 3.0) < 1e-12, "map cost: node 1 busy 3 (two trains, two maps)");
        CHECK(p.nspans == 6, "map cost: 4 train blocks + 2 map blocks");
        pff_plan_free(&p);
    }
}

static void test_invalid(void)
{
    pff_plan p;
    char err[PFF_ERRLEN];
    const double bad[3] = {1.0, 0.0, 1.0};
    struct {
        pff_plan_config cfg;
        const char *what;
    } cases[] = {
        {{PFF_PLAN_SINGLE_LAYER, 2, 3, 3, NULL, 0, 0.0, 0.0}, "single-layer with N != L"},
        {{PFF_PLAN_SEQUENTIAL, 2, 3, 3, NULL, 0, 0.0, 0.0}, "sequential with N = 2"},
        {{PFF_PLAN_ALL_LAYERS, 0, 3, 3, NULL, 0, 0.0, 0.0}, "zero nodes"},
        {{PFF_PLAN_ALL_LAYERS, 3, 0, 3, NULL, 0, 0.0, 0.0}, "zero layers"},
        {{PFF_PLAN_ALL_LAYERS, 3, 3, 0, NULL, 0, 0.0, 0.0}, "zero splits"},
        {{PFF_PLAN_ALL_LAYERS, 3, 3, 3, bad, 0, 0.0, 0.0}, "a zero cost"},
        {{PFF_PLAN_ALL_LAYERS, 3, 3, 3, NULL, 0, -1.0, 0.0}, "a negative neg cost"},
        {{PFF_PLAN_ALL_LAYERS, 3, 3, 3, NULL, 0, NAN, 0.0}, "a NaN neg cost"},
        {{(pff_plan_sched)9, 3, 3, 3, NULL, 0, 0.0, 0.0}, "an unknown schedule"},
        {{PFF_PLAN_ALL_LAYERS, 3, 3, 3, NULL, 0, 0.0, -0.5}, "a negative map cost"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        int rc = pff_plan_compute(&cases[i].cfg, &p, err);
        char what[400];
        snprintf(what, sizeof what, "planner rejects %.60s (%.255s)", cases[i].what, err);
        CHECK(rc == PFF_EUSAGE && err[0] != '\0' && p.spans == NULL, "%s", what);
        pff_plan_free(&p); /* safe on the zeroed plan */
    }
    pff_plan_sched k;
    CHECK(pff_plan_sched_parse("single-layer", &k) == 0 && k == PFF_PLAN_SINGLE_LAYER &&
              pff_plan_sched_parse("pipeline", &k) == -1 &&
              strcmp(pff_plan_sched_name(PFF_PLAN_FEDERATED), "federated") == 0, "schedule names parse and print");
}

static void test_render(void)
{
    pff_plan p;
    if (plan(&p, PFF_PLAN_ALL_LAYERS, 3, 3, 6, NULL, 0, 0.0) != 0) {
        CHECK(0, "render: plan");
        return;
    }
    FILE *f = tmpfile();
    if (!f) {
        CHECK(0, "render: tmpfile");
        pff_plan_free(&p);
        return;
    }
    pff_gantt_print(f, p.spans, p.nspans, p.nodes, p.makespan, 0, 0, "units");
    char *text = slurp(f);
    fclose(f);
    CHECK(text && count_prefix_lines(text, "node") == 3, "render: one row per node (3)");
    char line[512];
    CHECK(text && find_line(text, "node 2", line, sizeof line) == 0 &&
              strcmp(line, "node 2 |......[L1c2][L2c2][L3c2][L1c5][L2c5][L3c5]......|") == 0, "render: node 2 of figure 5 at 6 columns per unit");
    CHECK(text && strstr(text, "+-----+-----+") && strstr(text, "0     1     2") &&
              strstr(text, "units") && strstr(text, "idle"), "render: time axis with ticks, unit and legend");
    CHECK(text && !strchr(text, '\033'), "render: no escape codes without colour");
    free(text);

    f = tmpfile();
    if (f) {
        pff_gantt_print(f, p.spans, p.nspans, p.nodes, 0.0, 0, 1, NULL);
        text = slurp(f);
        fclose(f);
        CHECK(text && count_prefix_lines(text, "node") == 3 && strchr(text, '\033'), "render: colour rows still start with \"node\" and use ANSI codes");
        free(text);
    }
    pff_plan_free(&p);

    /* A measured trace: wait spans, a tiny eval span, a bad span (ignored), 12 nodes. */
    pff_span tr[] = {
        {0, 0, 0, PFF_SPAN_TRAIN, 0.0, 1.5},  {1, 0, 0, PFF_SPAN_WAIT, 0.0, 1.5},
        {1, 1, 0, PFF_SPAN_TRAIN, 1.5, 2.9},  {1, 1, 0, PFF_SPAN_NEGATIVES, 2.9, 3.4},
        {11, 0, 0, PFF_SPAN_HEAD, 0.2, 3.0},  {11, 0, 0, PFF_SPAN_EVAL, 3.1, 3.1001},
        {42, 0, 0, PFF_SPAN_TRAIN, 0.0, 9.0}, {2, 0, 0, PFF_SPAN_TRAIN, 2.0, 1.0},
    };
    f = tmpfile();
    if (f) {
        pff_gantt_print(f, tr, (int)(sizeof tr / sizeof tr[0]), 12, -1.0, 40, 0, "s");
        text = slurp(f);
        fclose(f);
        CHECK(text && count_prefix_lines(text, "node") == 12 && strstr(text, "~") &&
                  strstr(text, "#") && strstr(text, "waiting") && strstr(text, "negatives"), "render: trace with waits, negatives, head; 12 rows");
        int same_len = 1;
        size_t len0 = 0;
        for (const char *l = text; l && *l;) {
            const char *nl = strchr(l, '\n');
            size_t len = nl ? (size_t)(nl - l) : strlen(l);
            if (strncmp(l, "node", 4) == 0) {
                if (!len0) len0 = len;
                same_len &= len == len0;
            }
            l = nl ? nl + 1 : NULL;
        }
        CHECK(same_len && len0 == strlen("node 12 |") + 40 + 1, "render: rows 40 columns wide, aligned");
        free(text);
    }
    f = tmpfile();
    if (f) {
        pff_gantt_print(f, NULL, 0, 2, 0.0, 0, 0, NULL);
        text = slurp(f);
        fclose(f);
        CHECK(text && count_prefix_lines(text, "node") == 2, "render: empty chart draws idle rows");
        free(text);
    }
}

static void test_cli(void)
{
    char *out = NULL, *err = NULL;
    const char *a_json[] = {"--schedule", "all-layers", "--nodes=3", "--layers", "3", "--splits=6",
                            "--json"};
    int rc = run_cli(a_json, 7, 0, &out, &err);
    size_t n = out ? strlen(out) : 0;
    CHECK(rc == 0 && out && n > 2 && out[0] == '{' && out[n - 1] == '\n' && out[n - 2] == '}' &&
              strchr(out, '\n') == out + n - 1, "cli --json: stdout is exactly one line, a JSON object");
    CHECK(out && strstr(out, "\"makespan\":8,") && strstr(out, "\"sequential_makespan\":18,") &&
              strstr(out, "\"speedup\":2.25,") && strstr(out, "\"nodes_detail\":[{\"node\":1,") &&
              strstr(out, "\"utilisation\":0.75"), "cli --json: makespan 8, sequential 18, speed-up 2.25, nodes_detail");
    CHECK(err && count_prefix_lines(err, "node") >= 3, "cli --json: chart goes to stderr");
    free(out);
    free(err);

    const char *a_fig4[] = {"--schedule", "single-layer", "--splits", "3"};
    rc = run_cli(a_fig4, 4, 0, &out, &err);
    CHECK(rc == 0 && out && strstr(out, "makespan 5 ") && strstr(out, "speed-up 1.80x") &&
              count_prefix_lines(out, "node 1 |") == 1 && strstr(out, "utilisation  60.0%") &&
              err && err[0] == '\0', "cli figure 4: default N = L, makespan 5, speed-up 1.80x, nothing on stderr");
    free(out);
    free(err);

    const char *a_widths[] = {"--layers", "784,2000,2000", "--json", "--schedule=sequential"};
    rc = run_cli(a_widths, 4, 0, &out, &err);
    /* in*out: 1568000 and 4000000, mean 2784000: costs 0.5632.. and 1.4367.., sum 2, S=3 -> 6 */
    CHECK(rc == 0 && out && strstr(out, "\"layers\":2,") && strstr(out, "\"makespan\":6,") &&
              strstr(out, "\"costs\":[0.5632183908,1.436781609]"), "cli --layers 784,2000,2000: L=2, costs in*out with mean 1");
    free(out);
    free(err);

    const char *a_help[] = {"--help"};
    rc = run_cli(a_help, 1, 0, &out, &err);
    CHECK(rc == 0 && out && strstr(out, "usage: pff schedule"), "cli --help: usage on stdout, status 0");
    /* the help lists what the parser takes: every name of the settings table's rows */
    const char *rows[] = {"schedule", "neg"};
    for (int r = 0; r < 2; r++) {
        const pff_setting *st = pff_setting_find(rows[r]);
        for (int i = 0; i < st->nnames; i++) {
            char opt[64];
            snprintf(opt, sizeof opt, "%s%s", i ? "| " : "", st->names[i]);
            CHECK(out && strstr(out, opt), "cli --help: --%s lists '%s'", rows[r], st->names[i]);
        }
    }
    free(out);
    free(err);

    /* an unknown option: the message names every option of the command */
    const char *a_unknown[] = {"--bogus"};
    rc = run_cli(a_unknown, 1, 0, &out, &err);
    const char *flags[] = {"--schedule,", "--nodes,", "--layers,", "--splits,", "--costs,", "--neg,",
                           "--neg-cost,", "--map-cost,", "--width,", "--json or --help)"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        CHECK(rc == 2 && err && strstr(err, flags[i]), "cli unknown option: the message names %s",
              flags[i]);
    free(out);
    free(err);

    struct {
        const char *args[4];
        int n;
        const char *flag;
    } bad[] = {
        {{"--bogus"}, 1, "--bogus"},
        {{"--nodes", "abc"}, 2, "--nodes"},
        {{"--nodes=0"}, 1, "--nodes"},
        {{"--splits", "-2"}, 2, "--splits"},
        {{"--splits=0"}, 1, "--splits"},
        {{"--schedule", "single-layer", "--nodes", "2"}, 4, "--nodes"},
        {{"--costs", "1,2"}, 2, "--costs"},
        {{"--costs", "1,-2,3"}, 2, "--costs"},
        {{"--layers", "0"}, 2, "--layers"},
        {{"--schedule", "ring"}, 2, "--schedule"},
        {{"--neg", "hardest"}, 2, "--neg"},
        {{"--width", "x"}, 2, "--width"},
        {{"--json=yes"}, 1, "--json"},
        {{"--nodes"}, 1, "--nodes"},
        {{"stray"}, 1, "stray"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc = run_cli(bad[i].args, bad[i].n, 0, &out, &err);
        int lines = 0;
        for (const char *s = err; s && *s; s++) lines += *s == '\n';
        char what[200];
        snprintf(what, sizeof what, "cli usage error %.40s %.40s: status 2, one stderr line naming it",
                 bad[i].args[0], bad[i].n > 1 ? bad[i].args[1] : "");
        CHECK(rc == 2 && out && out[0] == '\0' && err && lines == 1 && strstr(err, bad[i].flag), "%s", what);
        free(out);
        free(err);
        CHECK(run_main_quiet(bad[i].args, bad[i].n) == 2, "pff_schedule_main returns 2 for it");
    }
}

int main(void)
{
    check_verbose = 1;
    test_makespans();
    test_equivalences();
    test_adaptive();
    test_map_cost();
    test_invalid();
    test_render();
    test_cli();
    return check_report("test_plan");
}
