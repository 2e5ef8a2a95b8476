/* plan.c - Pipeline Forward-Forward schedule planner (the chart is draw/gantt.c's, the command
 * cli/cmd_schedule.c's).
 *
 * The model (DESIGN.md section 2). Write (k, c) for "train layer k on chapter c", k = 1..L,
 * c = 1..S; block (k, c) costs costs[k] time units (default 1: one layer for one chapter of C = E/S
 * epochs). Each node runs its blocks one at a time, in the order listed, and a block starts as soon
 * as its node is free and its inputs exist:
 *
 *   sequential    one node runs (1,1) (2,1) .. (L,1) (1,2) .. (L,S); each block needs the one
 *                 before it, so the makespan is S * sum(costs).
 *   single-layer  N = L; node k runs (k,1) .. (k,S). (k,c) needs (k-1,c) (its input, from node
 *                 k-1) and (k,c-1) (the layer's previous state, on the same node).
 *   all-layers    node (c-1) mod N runs chapter c: (1,c) .. (L,c). (k,c) needs (k,c-1) (the layer,
 *   federated     handed on from the previous node in the ring) and (k-1,c) (its input, same node).
 *                 Federated has the same timing; only the data differs (each node's own shard).
 *
 *   negatives     neg_cost > 0 adds a "negatives" block on the node that trained (L,c), right
 *                 after it, for c = 1..S-1 (after the last chapter nobody needs new negatives).
 *   adaptive      negatives for chapter c come from the network after chapter c-lag, so (1,c)
 *                 also waits for the end of chapter c-lag (its last layer, or its negatives block):
 *                 lag = 1 for sequential and single-layer (the last node regenerates for everyone;
 *                 this is the deterministic waiting mode), lag = N for all-layers and federated
 *                 (each node regenerates its own after its own chapter, so only neg_cost shows).
 *
 * Visiting the blocks chapter by chapter, layer by layer is a topological order of all these
 * dependencies (every one points to an earlier chapter, or an earlier layer of the same chapter),
 * so one pass computes every start time. The sequential makespan used for the speed-up is computed
 * by the same pass with the same L, S, costs and negatives options.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "../pff.h"
#include "plan.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Names                                                                                      */

/* pff_plan_sched follows pff_schedule_kind's order, so the names are pff_schedule_names. */
#define sched_names pff_schedule_names
_Static_assert(PFF_PLAN_SEQUENTIAL == (int)PFF_SEQUENTIAL && PFF_PLAN_SINGLE_LAYER ==
               (int)PFF_SINGLE_LAYER && PFF_PLAN_ALL_LAYERS == (int)PFF_ALL_LAYERS &&
               PFF_PLAN_FEDERATED == (int)PFF_FEDERATED, "the planner's schedules in pff's order");

const char *pff_plan_sched_name(pff_plan_sched s)
{
    if ((int)s < 0 || (int)s > 3) return "?";
    return sched_names[s];
}

int pff_plan_sched_parse(const char *name, pff_plan_sched *out)
{
    if (!name) return -1;
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, sched_names[i]) == 0) {
            if (out) *out = (pff_plan_sched)i;
            return 0;
        }
    }
    return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Planner                                                                                    */

static double dmax(double a, double b) { return a > b ? a : b; }

/* One pass over the blocks in chapter-major order (a topological order, see the top of the file).
 * spans: room for L*S + S entries; node_free: (N); chapter_ready: (S). Returns the span count. */
static int plan_pass(pff_plan_sched sched, int N, int L, int S, const double *costs,
                     int adaptive, double neg_cost, double map_cost, pff_span *spans,
                     double *node_free, double *chapter_ready)
{
    /* map blocks, when map_cost > 0, follow the negatives blocks: (L-1)*S of them */
    pff_span *maps = spans + (size_t)L * S + S;
    int nmap = 0;
    int lag = (sched == PFF_PLAN_SEQUENTIAL || sched == PFF_PLAN_SINGLE_LAYER) ? 1 : N;
    int nneg = 0;
    for (int n = 0; n < N; n++) node_free[n] = 0.0;
    for (int c = 0; c < S; c++) {
        int chapter_node = (sched == PFF_PLAN_SEQUENTIAL) ? 0 : c % N;
        int last_node = 0;
        for (int k = 0; k < L; k++) {
            int node = (sched == PFF_PLAN_SINGLE_LAYER) ? k : chapter_node;
            double t = node_free[node];
            if (c > 0) t = dmax(t, spans[(size_t)(c - 1) * L + k].end); /* layer state (k, c-1) */
            if (k > 0) /* input (k-1, c): trained, then mapped through when maps are modelled */
                t = dmax(t, map_cost > 0.0 ? maps[(size_t)c * (L - 1) + k - 1].end
                                           : spans[(size_t)c * L + k - 1].end);
            if (adaptive && k == 0 && c - lag >= 0) t = dmax(t, chapter_ready[c - lag]);
            pff_span *b = &spans[(size_t)c * L + k];
            b->node = node;
            b->layer = k;
            b->chapter = c;
            b->kind = PFF_SPAN_TRAIN;
            b->start = t;
            b->end = t + costs[k];
            node_free[node] = b->end;
            last_node = node;
            if (map_cost > 0.0 && k + 1 < L) { /* published first, then mapped on the same node */
                pff_span *m = &maps[(size_t)c * (L - 1) + k];
                *m = *b;
                m->kind = PFF_SPAN_MAP;
                m->start = b->end;
                m->end = b->end + map_cost * costs[k];
                node_free[node] = m->end;
                nmap++;
            }
        }
        chapter_ready[c] = spans[(size_t)c * L + L - 1].end;
        if (neg_cost > 0.0 && c < S - 1) {
            pff_span *b = &spans[(size_t)L * S + nneg++];
            b->node = last_node;
            b->layer = L - 1;
            b->chapter = c;
            b->kind = PFF_SPAN_NEGATIVES;
            b->start = node_free[last_node];
            b->end = b->start + neg_cost;
            node_free[last_node] = b->end;
            chapter_ready[c] = b->end;
        }
    }
    if (nmap && nneg < S) /* keep the spans contiguous: map blocks right after the negatives */
        memmove(spans + (size_t)L * S + nneg, maps, (size_t)nmap * sizeof *maps);
    return L * S + nneg + nmap;
}

void pff_plan_free(pff_plan *p)
{
    if (!p) return;
    free(p->costs);
    free(p->spans);
    free(p->busy);
    free(p->utilisation);
    free(p->bubble);
    p->costs = NULL;
    p->spans = NULL;
    p->busy = p->utilisation = p->bubble = NULL;
    p->nspans = 0;
}

/* Every field of the configuration against what a plan can be made of, with a message naming
 * the field, what was found and what was expected. */
static int check_config(const pff_plan_config *cfg, char *err)
{
    const int N = cfg->nodes, L = cfg->layers, S = cfg->splits;
    if ((int)cfg->schedule < 0 || (int)cfg->schedule > 3) {
        snprintf(err, PFF_ERRLEN, "schedule: unknown value %d", (int)cfg->schedule);
        return PFF_EUSAGE;
    }
    if (L < 1) {
        snprintf(err, PFF_ERRLEN, "layers: expected at least 1, found %d", L);
        return PFF_EUSAGE;
    }
    if (S < 1) {
        snprintf(err, PFF_ERRLEN, "splits: expected at least 1, found %d", S);
        return PFF_EUSAGE;
    }
    if (N < 1) {
        snprintf(err, PFF_ERRLEN, "nodes: expected at least 1, found %d", N);
        return PFF_EUSAGE;
    }
    if ((long long)L * S > PFF_PLAN_MAX_BLOCKS) {
        snprintf(err, PFF_ERRLEN, "layers x splits: expected at most %d blocks, found %lld",
                PFF_PLAN_MAX_BLOCKS, (long long)L * S);
        return PFF_EUSAGE;
    }
    if (cfg->schedule == PFF_PLAN_SEQUENTIAL && N != 1) {
        snprintf(err, PFF_ERRLEN, "nodes: sequential runs on 1 node, found %d", N);
        return PFF_EUSAGE;
    }
    if (cfg->schedule == PFF_PLAN_SINGLE_LAYER && N != L) {
        snprintf(err, PFF_ERRLEN, "nodes: single-layer needs one node per layer (%d), found %d", L, N);
        return PFF_EUSAGE;
    }
    if (N > PFF_PLAN_MAX_BLOCKS) {
        snprintf(err, PFF_ERRLEN, "nodes: expected at most %d, found %d", PFF_PLAN_MAX_BLOCKS, N);
        return PFF_EUSAGE;
    }
    if (cfg->costs) {
        for (int k = 0; k < L; k++) {
            double v = cfg->costs[k];
            if (!isfinite(v) || v <= 0.0) {
                snprintf(err, PFF_ERRLEN, "costs: layer %d: expected a finite number > 0, found %g",
                        k + 1, v);
                return PFF_EUSAGE;
            }
        }
    }
    if (!isfinite(cfg->map_cost) || cfg->map_cost < 0.0) {
        snprintf(err, PFF_ERRLEN, "map_cost: expected a finite number >= 0, found %g", cfg->map_cost);
        return PFF_EUSAGE;
    }
    if (!isfinite(cfg->neg_cost) || cfg->neg_cost < 0.0) {
        snprintf(err, PFF_ERRLEN, "neg_cost: expected a finite number >= 0, found %g", cfg->neg_cost);
        return PFF_EUSAGE;
    }
    double total = 0.0; /* the sequential makespan bounds every schedule's */
    for (int k = 0; k < L; k++) total += cfg->costs ? cfg->costs[k] : 1.0;
    total = total * (S * (1.0 + cfg->map_cost)) + cfg->neg_cost * (S - 1);
    if (!isfinite(total)) {
        snprintf(err, PFF_ERRLEN, "costs: too large, the total time overflows");
        return PFF_EUSAGE;
    }
    return PFF_OK;
}

int pff_plan_compute(const pff_plan_config *cfg, pff_plan *out, char *err)
{
    err[0] = '\0';
    if (!out) {
        snprintf(err, PFF_ERRLEN, "no output plan given");
        return PFF_EUSAGE;
    }
    memset(out, 0, sizeof *out);
    if (!cfg) {
        snprintf(err, PFF_ERRLEN, "no plan configuration given");
        return PFF_EUSAGE;
    }
    int rc = check_config(cfg, err);
    if (rc != PFF_OK)
        return rc;
    const int N = cfg->nodes, L = cfg->layers, S = cfg->splits;

    size_t cap = (size_t)L * S + (size_t)S + (size_t)L * S;
    pff_span *seq_spans = malloc(cap * sizeof *seq_spans);
    double *node_free = malloc((size_t)N * sizeof *node_free);
    double *chapter_ready = malloc((size_t)S * sizeof *chapter_ready);
    out->costs = malloc((size_t)L * sizeof *out->costs);
    out->spans = malloc(cap * sizeof *out->spans);
    out->busy = calloc((size_t)N, sizeof *out->busy);
    out->utilisation = calloc((size_t)N, sizeof *out->utilisation);
    out->bubble = calloc((size_t)N, sizeof *out->bubble);
    if (!seq_spans || !node_free || !chapter_ready || !out->costs || !out->spans || !out->busy ||
        !out->utilisation || !out->bubble) {
        free(seq_spans);
        free(node_free);
        free(chapter_ready);
        pff_plan_free(out);
        memset(out, 0, sizeof *out);
        snprintf(err, PFF_ERRLEN, "out of memory planning %d layers x %d chapters on %d nodes", L, S, N);
        return PFF_EFAIL;
    }
    for (int k = 0; k < L; k++) out->costs[k] = cfg->costs ? cfg->costs[k] : 1.0;

    out->schedule = cfg->schedule;
    out->nodes = N;
    out->layers = L;
    out->splits = S;
    out->adaptive = cfg->adaptive ? 1 : 0;
    out->neg_cost = cfg->neg_cost;
    out->map_cost = cfg->map_cost;
    out->nspans = plan_pass(cfg->schedule, N, L, S, out->costs, out->adaptive, cfg->neg_cost,
                            cfg->map_cost, out->spans, node_free, chapter_ready);
    int seq_n = plan_pass(PFF_PLAN_SEQUENTIAL, 1, L, S, out->costs, out->adaptive, cfg->neg_cost,
                          cfg->map_cost, seq_spans, node_free, chapter_ready);

    out->makespan = 0.0;
    for (int i = 0; i < out->nspans; i++) {
        const pff_span *b = &out->spans[i];
        out->makespan = dmax(out->makespan, b->end);
        out->busy[b->node] += b->end - b->start;
    }
    out->sequential_makespan = 0.0;
    for (int i = 0; i < seq_n; i++)
        out->sequential_makespan = dmax(out->sequential_makespan, seq_spans[i].end);
    out->speedup = out->sequential_makespan / out->makespan; /* makespan > 0: costs > 0 */
    for (int n = 0; n < N; n++) {
        double u = out->busy[n] / out->makespan;
        if (u > 1.0) u = 1.0; /* rounding only */
        out->utilisation[n] = u;
        out->bubble[n] = 1.0 - u;
    }
    free(seq_spans);
    free(node_free);
    free(chapter_ready);
    return PFF_OK;
}

const pff_span *pff_plan_block(const pff_plan *p, int k, int c)
{
    if (!p || !p->spans || k < 0 || c < 0 || k >= p->layers || c >= p->splits) return NULL;
    return &p->spans[(size_t)c * p->layers + k];
}
