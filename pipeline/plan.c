/* plan.c - Pipeline Forward-Forward schedule planner, Gantt renderer and `pff schedule`.
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

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

void pff_plan_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

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

int pff_plan_compute(const pff_plan_config *cfg, pff_plan *out, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!out) {
        pff_plan_set_err(err, errlen, "no output plan given");
        return PFF_PLAN_EINVAL;
    }
    memset(out, 0, sizeof *out);
    if (!cfg) {
        pff_plan_set_err(err, errlen, "no plan configuration given");
        return PFF_PLAN_EINVAL;
    }
    const int N = cfg->nodes, L = cfg->layers, S = cfg->splits;
    if ((int)cfg->schedule < 0 || (int)cfg->schedule > 3) {
        pff_plan_set_err(err, errlen, "schedule: unknown value %d", (int)cfg->schedule);
        return PFF_PLAN_EINVAL;
    }
    if (L < 1) {
        pff_plan_set_err(err, errlen, "layers: expected at least 1, found %d", L);
        return PFF_PLAN_EINVAL;
    }
    if (S < 1) {
        pff_plan_set_err(err, errlen, "splits: expected at least 1, found %d", S);
        return PFF_PLAN_EINVAL;
    }
    if (N < 1) {
        pff_plan_set_err(err, errlen, "nodes: expected at least 1, found %d", N);
        return PFF_PLAN_EINVAL;
    }
    if ((long long)L * S > PFF_PLAN_MAX_BLOCKS) {
        pff_plan_set_err(err, errlen, "layers x splits: expected at most %d blocks, found %lld",
                PFF_PLAN_MAX_BLOCKS, (long long)L * S);
        return PFF_PLAN_EINVAL;
    }
    if (cfg->schedule == PFF_PLAN_SEQUENTIAL && N != 1) {
        pff_plan_set_err(err, errlen, "nodes: sequential runs on 1 node, found %d", N);
        return PFF_PLAN_EINVAL;
    }
    if (cfg->schedule == PFF_PLAN_SINGLE_LAYER && N != L) {
        pff_plan_set_err(err, errlen, "nodes: single-layer needs one node per layer (%d), found %d", L, N);
        return PFF_PLAN_EINVAL;
    }
    if (N > PFF_PLAN_MAX_BLOCKS) {
        pff_plan_set_err(err, errlen, "nodes: expected at most %d, found %d", PFF_PLAN_MAX_BLOCKS, N);
        return PFF_PLAN_EINVAL;
    }
    if (cfg->costs) {
        for (int k = 0; k < L; k++) {
            double v = cfg->costs[k];
            if (!isfinite(v) || v <= 0.0) {
                pff_plan_set_err(err, errlen, "costs: layer %d: expected a finite number > 0, found %g",
                        k + 1, v);
                return PFF_PLAN_EINVAL;
            }
        }
    }
    if (!isfinite(cfg->map_cost) || cfg->map_cost < 0.0) {
        pff_plan_set_err(err, errlen, "map_cost: expected a finite number >= 0, found %g", cfg->map_cost);
        return PFF_PLAN_EINVAL;
    }
    if (!isfinite(cfg->neg_cost) || cfg->neg_cost < 0.0) {
        pff_plan_set_err(err, errlen, "neg_cost: expected a finite number >= 0, found %g", cfg->neg_cost);
        return PFF_PLAN_EINVAL;
    }

    {
        double total = 0.0; /* the sequential makespan bounds every schedule's */
        for (int k = 0; k < L; k++) total += cfg->costs ? cfg->costs[k] : 1.0;
        total = total * (S * (1.0 + cfg->map_cost)) + cfg->neg_cost * (S - 1);
        if (!isfinite(total)) {
            pff_plan_set_err(err, errlen, "costs: too large, the total time overflows");
            return PFF_PLAN_EINVAL;
        }
    }

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
        pff_plan_set_err(err, errlen, "out of memory planning %d layers x %d chapters on %d nodes", L, S, N);
        return PFF_PLAN_ENOMEM;
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
    return PFF_PLAN_OK;
}

const pff_span *pff_plan_block(const pff_plan *p, int k, int c)
{
    if (!p || !p->spans || k < 0 || c < 0 || k >= p->layers || c >= p->splits) return NULL;
    return &p->spans[(size_t)c * p->layers + k];
}

/* ------------------------------------------------------------------------------------------ */
/* JSON                                                                                       */

/* JSON has no NaN or infinity; the planner never produces them, but stay valid anyway. */
static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.10g", v);
    else
        fputs("null", f);
}

int pff_plan_json(FILE *f, const pff_plan *p, const char *neg_mode)
{
    if (!f || !p) return -1;
    fprintf(f, "{\"schedule\":\"%s\",\"nodes\":%d,\"layers\":%d,\"splits\":%d",
            pff_plan_sched_name(p->schedule), p->nodes, p->layers, p->splits);
    if (neg_mode) {
        fputs(",\"neg\":\"", f);
        for (const char *s = neg_mode; *s; s++) { /* our own names, but escape anyway */
            if (*s == '"' || *s == '\\') fputc('\\', f);
            if ((unsigned char)*s >= 0x20) fputc(*s, f);
        }
        fputc('"', f);
    }
    fprintf(f, ",\"adaptive\":%s,\"neg_cost\":", p->adaptive ? "true" : "false");
    json_num(f, p->neg_cost);
    fputs(",\"costs\":[", f);
    for (int k = 0; k < p->layers; k++) {
        if (k) fputc(',', f);
        json_num(f, p->costs[k]);
    }
    fputs("],\"makespan\":", f);
    json_num(f, p->makespan);
    fputs(",\"sequential_makespan\":", f);
    json_num(f, p->sequential_makespan);
    fputs(",\"speedup\":", f);
    json_num(f, p->speedup);
    fputs(",\"nodes_detail\":[", f);
    for (int n = 0; n < p->nodes; n++) {
        fprintf(f, "%s{\"node\":%d,\"busy\":", n ? "," : "", n + 1);
        json_num(f, p->busy[n]);
        fputs(",\"utilisation\":", f);
        json_num(f, p->utilisation[n]);
        fputs(",\"bubble\":", f);
        json_num(f, p->bubble[n]);
        fputc('}', f);
    }
    fputs("]}\n", f);
    return ferror(f) ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Gantt renderer                                                                             */

/* Drawn kinds are PFF_SPAN_TRAIN .. PFF_SPAN_MAP; PFF_SPAN_PUBLISH (an instant) is ignored. */
#define GANTT_KINDS (PFF_SPAN_MAP + 1)

/* Colour ids per cell: 0 idle, 1..6 layers (cycled), then the other kinds. */
enum { COL_IDLE = 0, COL_NEG = 7, COL_HEAD = 8, COL_EVAL = 9, COL_WAIT = 10, COL_MAP = 11,
       COL_COUNT = 12 };

static const char *const ansi_colour[COL_COUNT] = {
    "\033[2m",      /* idle: dim */
    "\033[30;46m",  /* L1 cyan */
    "\033[30;43m",  /* L2 yellow */
    "\033[30;42m",  /* L3 green */
    "\033[97;45m",  /* L4 magenta */
    "\033[97;44m",  /* L5 blue */
    "\033[97;41m",  /* L6 red */
    "\033[30;47m",  /* negatives: grey */
    "\033[97;100m", /* softmax head: dark grey */
    "\033[30;107m", /* eval: white */
    "\033[2m",      /* wait: dim */
    "\033[97;40m",  /* map: white on black */
};
#define ANSI_RESET "\033[0m"

static int span_colour(const pff_span *s)
{
    switch (s->kind) {
    case PFF_SPAN_TRAIN: return 1 + (s->layer < 0 ? 0 : s->layer % 6);
    case PFF_SPAN_NEGATIVES: return COL_NEG;
    case PFF_SPAN_HEAD: return COL_HEAD;
    case PFF_SPAN_EVAL: return COL_EVAL;
    case PFF_SPAN_MAP: return COL_MAP;
    default: return COL_WAIT;
    }
}

static char span_fill(int kind)
{
    switch (kind) {
    case PFF_SPAN_TRAIN: return '=';
    case PFF_SPAN_NEGATIVES: return '#';
    case PFF_SPAN_HEAD: return '+';
    case PFF_SPAN_EVAL: return '*';
    case PFF_SPAN_MAP: return '=';
    default: return '~';
    }
}

/* One character naming a 1-based layer: 1..9, then a..z, then '@'. */
static char layer_char(int layer1)
{
    if (layer1 >= 1 && layer1 <= 9) return (char)('0' + layer1);
    if (layer1 >= 10 && layer1 <= 35) return (char)('a' + layer1 - 10);
    return '@';
}

/* Writes a span's label into cells[0..w). The label is chosen by the span's nominal width wn
 * (its duration in columns, rounded; at most w), so that blocks of equal cost look alike even when
 * rounding makes some of them one column wider. */
static void span_label(char *cells, int w, int wn, const pff_span *s)
{
    char fill = span_fill(s->kind);
    for (int i = 0; i < w; i++) cells[i] = fill;
    if (w <= 0) return;
    if (wn > w) wn = w;
    if (wn < 1) wn = 1;
    if (s->kind == PFF_SPAN_TRAIN) {
        char core[3][40];
        snprintf(core[0], sizeof core[0], "L%dc%d", s->layer + 1, s->chapter + 1);
        snprintf(core[1], sizeof core[1], "L%d", s->layer + 1);
        snprintf(core[2], sizeof core[2], "%d", s->layer + 1);
        for (int i = 0; i < 3; i++) {
            int len = (int)strlen(core[i]);
            if (len + 2 <= wn) { /* "[L1c2]", wider: "[L1c2====]" */
                cells[0] = '[';
                memcpy(cells + 1, core[i], (size_t)len);
                cells[w - 1] = ']';
                return;
            }
        }
        char lc = layer_char(s->layer + 1); /* "[11", or "1" when one column wide */
        for (int i = 0; i < w; i++) cells[i] = lc;
        if (wn >= 2) cells[0] = '[';
        return;
    }
    const char *core = s->kind == PFF_SPAN_NEGATIVES ? "neg"
                       : s->kind == PFF_SPAN_HEAD    ? "head"
                       : s->kind == PFF_SPAN_EVAL    ? "eval"
                       : s->kind == PFF_SPAN_MAP     ? "map"
                                                     : "";
    int len = (int)strlen(core);
    if (len > 0 && len + 2 <= wn) memcpy(cells + 1, core, (size_t)len); /* "#neg###" */
}

static int time_col(double t, double scale, int W)
{
    double x = floor(t * scale + 0.5);
    if (!(x > 0.0)) return 0; /* also NaN */
    if (x > (double)W) return W;
    return (int)x;
}

static int valid_span(const pff_span *s, int nodes)
{
    return s->node >= 0 && s->node < nodes && isfinite(s->start) && isfinite(s->end) &&
           s->end >= s->start && s->kind >= PFF_SPAN_TRAIN && s->kind < GANTT_KINDS;
}

static void print_cells(FILE *f, const char *cells, const unsigned char *col, int W, int use_color)
{
    int cur = -1;
    for (int i = 0; i < W; i++) {
        if (use_color && col[i] != cur) {
            if (cur >= 0) fputs(ANSI_RESET, f);
            fputs(ansi_colour[col[i]], f);
            cur = col[i];
        }
        fputc(cells[i], f);
    }
    if (use_color) fputs(ANSI_RESET, f);
}

/* Formats tick value i*m*10^e without binary noise. */
static void fmt_tick(char *buf, size_t n, long i, int m, int e)
{
    double v = (double)i * m;
    if (i == 0) {
        snprintf(buf, n, "0");
    } else if (e > 15 || e < -9) {
        snprintf(buf, n, "%.3g", v * pow(10.0, e));
    } else if (e >= 0) {
        for (int j = 0; j < e; j++) v *= 10.0;
        snprintf(buf, n, "%.0f", v);
    } else {
        for (int j = 0; j < -e; j++) v /= 10.0;
        snprintf(buf, n, "%.*f", -e, v);
    }
}

void pff_gantt_print(FILE *f, const pff_span *spans, int nspans, int nodes, double t_end,
                     int width_cols, int use_color, const char *time_unit)
{
    if (!f || nodes <= 0) return;
    if (!spans || nspans < 0) nspans = 0;

    int present[GANTT_KINDS] = {0};
    int max_layer = 0;
    double tmax = 0.0;
    for (int i = 0; i < nspans; i++) {
        const pff_span *s = &spans[i];
        if (!valid_span(s, nodes)) continue;
        tmax = dmax(tmax, s->end);
        present[s->kind] = 1;
        if (s->kind == PFF_SPAN_TRAIN && s->layer + 1 > max_layer) max_layer = s->layer + 1;
    }
    if (!(t_end > 0.0) || !isfinite(t_end)) t_end = tmax;
    if (!(t_end > 0.0)) t_end = 1.0;

    int W;
    if (width_cols <= 0) {
        double w = ceil(6.0 * t_end - 1e-9);
        W = w < 24.0 ? 24 : w > 120.0 ? 120 : (int)w;
    } else {
        W = width_cols < 8 ? 8 : width_cols > PFF_GANTT_MAX_COLS ? PFF_GANTT_MAX_COLS : width_cols;
    }
    const double scale = (double)W / t_end;

    int digits = 1;
    for (int n = nodes; n >= 10; n /= 10) digits++;
    const int P = 5 + digits + 1; /* "node " + number + " " */

    char cells[PFF_GANTT_MAX_COLS + 64];
    unsigned char col[PFF_GANTT_MAX_COLS];

    for (int node = 0; node < nodes; node++) {
        memset(cells, '.', (size_t)W);
        memset(col, COL_IDLE, (size_t)W);
        /* pass 0: waits; pass 1: other spans at least one column wide (label and colour);
         * pass 2: spans narrower than a column, into idle cells only. */
        for (int pass = 0; pass < 3; pass++) {
            for (int i = 0; i < nspans; i++) {
                const pff_span *s = &spans[i];
                if (s->node != node || !valid_span(s, nodes)) continue;
                if ((pass == 0) != (s->kind == PFF_SPAN_WAIT)) continue;
                int c0 = time_col(s->start, scale, W), c1 = time_col(s->end, scale, W);
                if (pass == 2) {
                    if (c1 > c0 || s->end <= s->start || s->start >= t_end) continue;
                    if (c0 >= W) c0 = W - 1;
                    if (col[c0] == COL_IDLE && cells[c0] == '.') {
                        char one[1];
                        span_label(one, 1, 1, s);
                        cells[c0] = one[0];
                        col[c0] = (unsigned char)span_colour(s);
                    }
                    continue;
                }
                if (c1 <= c0) continue;
                double wn = floor((s->end - s->start) * scale + 0.5);
                span_label(cells + c0, c1 - c0, wn < (double)W ? (int)wn : W, s);
                memset(col + c0, span_colour(s), (size_t)(c1 - c0));
            }
        }
        fprintf(f, "node %*d |", digits, node + 1);
        print_cells(f, cells, col, W, use_color);
        fputs("|\n", f);
    }

    /* Time axis: tick for time t under column P + 1 + col(t), so a block's tick sits under its
     * first character and t_end under the closing bar. Step 1, 2 or 5 x 10^e, wide enough for
     * the labels. */
    /* The step is at least t_end / W (one column), so ee starts near log10(t_end / W); a label
     * needs at most ~25 columns, so a handful of decades always suffices. */
    int m = 1, e = 0, found = 0;
    {
        static const int ms[3] = {1, 2, 5};
        int e0 = (int)floor(log10(t_end / (double)W)) - 1;
        for (int ee = e0; ee <= e0 + 8 && !found; ee++) {
            for (int mi = 0; mi < 3 && !found; mi++) {
                double st = ms[mi] * pow(10.0, ee);
                if (!(st > 0.0) || t_end / st > (double)W) continue;
                char buf[64];
                long last = (long)floor(t_end / st + 1e-9);
                fmt_tick(buf, sizeof buf, last, ms[mi], ee);
                double need = (double)strlen(buf) + 2.0;
                if (need < 5.0) need = 5.0;
                if (st * scale >= need) {
                    m = ms[mi];
                    e = ee;
                    found = 1;
                }
            }
        }
    }
    double step = m * pow(10.0, e);
    long nticks = found ? (long)floor(t_end / step + 1e-9) : 0; /* <= W */

    char axis[PFF_GANTT_MAX_COLS + 2];
    char labels[PFF_GANTT_MAX_COLS + 64];
    memset(axis, '-', (size_t)W + 1);
    axis[W + 1] = '\0';
    memset(labels, ' ', sizeof labels);
    int label_end = -1; /* first free column after the last label */
    for (long i = 0; i <= nticks; i++) {
        int c = time_col((double)i * step, scale, W);
        axis[c] = '+';
        char buf[64];
        fmt_tick(buf, sizeof buf, i, m, e);
        int len = (int)strlen(buf);
        if (c > label_end && c + len < (int)sizeof labels - 1) {
            memcpy(labels + c, buf, (size_t)len);
            label_end = c + len;
        }
    }
    if (label_end < 0) label_end = 0;
    labels[label_end] = '\0';
    fprintf(f, "%*s%s\n", P + 1, "", axis);
    fprintf(f, "%*s%s%s%s\n", P + 1, "", labels, time_unit && *time_unit ? " " : "",
            time_unit ? time_unit : "");

    /* Legend: only what the chart shows. */
    fprintf(f, "%-*s", P + 1, "legend:");
    if (present[PFF_SPAN_TRAIN]) {
        if (use_color) {
            int shown = max_layer < 12 ? max_layer : 12;
            for (int k = 0; k < shown; k++) {
                fprintf(f, "%s L%d %s ", ansi_colour[1 + k % 6], k + 1, ANSI_RESET);
            }
            if (max_layer > shown) fputs("... ", f);
        }
        fputs("[LkcC] layer k trained on chapter C", f);
        if (max_layer > 9) fputs(" (narrow: 1-9, a=10 ...)", f);
        fputs("   ", f);
    }
    if (present[PFF_SPAN_NEGATIVES]) fputs("### negatives   ", f);
    if (present[PFF_SPAN_HEAD]) fputs("+++ softmax head   ", f);
    if (present[PFF_SPAN_MAP]) fputs("=map= mapping data through a layer   ", f);
    if (present[PFF_SPAN_EVAL]) fputs("*** eval   ", f);
    if (present[PFF_SPAN_WAIT]) fputs("~~~ waiting   ", f);
    fputs(". idle\n", f);
}

/* ------------------------------------------------------------------------------------------ */
/* `pff schedule`                                                                             */

#define SCHED_MAX_LAYERS 100000

typedef struct {
    pff_plan_sched schedule;
    int nodes;         /* 0: default for the schedule */
    int layers;        /* L */
    int splits;
    double *costs;     /* (layers) or NULL: from widths or all 1 */
    int ncosts;
    long *widths;      /* (layers+1) or NULL */
    const char *neg;   /* "adaptive" | "fixed" | "random" */
    double neg_cost;
    double map_cost;
    int width;         /* 0: automatic */
    int json;
} sched_opts;

static int usage(FILE *err, const char *fmt, ...)
{
    va_list ap;
    fputs("pff schedule: ", err);
    va_start(ap, fmt);
    vfprintf(err, fmt, ap);
    va_end(ap);
    fputs(" (see 'pff schedule --help')\n", err);
    return 2;
}

static void print_help(FILE *out)
{
    fputs(
        "usage: pff schedule [options]\n"
        "\n"
        "Plans a Pipeline Forward-Forward schedule in units of work (no training) and draws it as a\n"
        "Gantt chart: one row per node, one block per (layer k, chapter c), '.' where a node idles.\n"
        "One time unit = training one layer of cost 1 for one chapter (C = E/S epochs).\n"
        "\n"
        "options:\n"
        "  --schedule S    sequential | single-layer | all-layers | federated (default all-layers)\n"
        "  --nodes N       nodes (default: L for single-layer, 1 for sequential, else 3)\n"
        "  --layers X      layer count (default 3), or widths like 784,2000,2000 (L = count - 1,\n"
        "                  costs proportional to in*out of each layer, mean 1)\n"
        "  --splits S      chapters (default 3)\n"
        "  --costs A,B,..  L positive per-layer block costs (overrides widths)\n"
        "  --neg MODE      adaptive | fixed | random (default random); adaptive makes chapter c\n"
        "                  wait for the network after chapter c-lag (lag 1 for sequential and\n"
        "                  single-layer, N for all-layers and federated)\n"
        "  --neg-cost X    cost of regenerating negatives after each chapter but the last\n"
        "  --map-cost X    cost of mapping the data through a layer, as a fraction of training\n"
        "                  it for a chapter (the trainer: 0.5 / epochs per chapter)\n"
        "                  (default 0; ignored with --neg fixed, which draws them once)\n"
        "  --width COLS    chart width in columns, 8..1000 (default 6 per unit, at most 120)\n"
        "  --json          print one JSON object on stdout; the chart goes to stderr\n"
        "  -h, --help      this help\n"
        "\n"
        "Colour is used when the chart goes to a terminal and NO_COLOR is unset.\n"
        "example: pff schedule --schedule all-layers --nodes 3 --layers 3 --splits 6\n",
        out);
}

/* Strict positive int: the whole string, base 10, 1..max. */
static int parse_pos_int(const char *s, long max, long *out)
{
    if (!s || !*s) return -1;
    errno = 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < 1 || v > max) return -1;
    *out = v;
    return 0;
}

/* Strict finite double over the whole string. */
static int parse_double(const char *s, double *out)
{
    if (!s || !*s) return -1;
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int count_items(const char *s)
{
    int n = 1;
    for (; *s; s++)
        if (*s == ',') n++;
    return n;
}

/* Splits a comma list into a copy whose items are NUL-terminated; returns the copy (free it) and
 * the item pointers in items[0..n). NULL on allocation failure. */
static char *split_list(const char *s, char ***items, int *n)
{
    size_t len = strlen(s);
    int cnt = count_items(s);
    char *copy = malloc(len + 1);
    char **it = malloc((size_t)cnt * sizeof *it);
    if (!copy || !it) {
        free(copy);
        free(it);
        return NULL;
    }
    memcpy(copy, s, len + 1);
    int k = 0;
    it[k++] = copy;
    for (char *p = copy; *p; p++) {
        if (*p == ',') {
            *p = '\0';
            it[k++] = p + 1;
        }
    }
    *items = it;
    *n = cnt;
    return copy;
}

enum { OPT_SCHEDULE, OPT_NODES, OPT_LAYERS, OPT_SPLITS, OPT_COSTS, OPT_NEG, OPT_NEG_COST, OPT_MAP_COST,
       OPT_WIDTH, OPT_JSON, OPT_HELP };

static const struct {
    const char *name;
    int id;
    int has_arg;
} sched_options[] = {
    {"schedule", OPT_SCHEDULE, 1}, {"nodes", OPT_NODES, 1},       {"layers", OPT_LAYERS, 1},
    {"splits", OPT_SPLITS, 1},     {"costs", OPT_COSTS, 1},       {"neg", OPT_NEG, 1},
    {"neg-cost", OPT_NEG_COST, 1}, {"map-cost", OPT_MAP_COST, 1}, {"width", OPT_WIDTH, 1},       {"json", OPT_JSON, 0},
    {"help", OPT_HELP, 0},
};

/* Returns 0 (ok), 2 (usage, message printed), 1 (allocation failure, message printed). */
static int parse_layers(const char *v, sched_opts *o, FILE *err)
{
    free(o->widths);
    o->widths = NULL;
    if (!strchr(v, ',')) {
        long n;
        if (parse_pos_int(v, SCHED_MAX_LAYERS, &n))
            return usage(err, "--layers: expected a layer count (1..%d) or widths like "
                              "784,2000,2000, found '%s'", SCHED_MAX_LAYERS, v);
        o->layers = (int)n;
        return 0;
    }
    char **items = NULL;
    int n = 0;
    char *copy = split_list(v, &items, &n);
    if (!copy) {
        fputs("pff schedule: out of memory parsing --layers\n", err);
        return 1;
    }
    if (n - 1 > SCHED_MAX_LAYERS) {
        free(copy);
        free(items);
        return usage(err, "--layers: expected at most %d layers, found %d", SCHED_MAX_LAYERS,
                     n - 1);
    }
    o->widths = malloc((size_t)n * sizeof *o->widths);
    if (!o->widths) {
        free(copy);
        free(items);
        fputs("pff schedule: out of memory parsing --layers\n", err);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        long w;
        if (parse_pos_int(items[i], 100000000L, &w)) {
            int rc = usage(err, "--layers: width %d: expected a positive integer, found '%s' "
                                "(in '%s')", i + 1, items[i], v);
            free(copy);
            free(items);
            return rc;
        }
        o->widths[i] = w;
    }
    free(copy);
    free(items);
    o->layers = n - 1;
    return 0;
}

static int parse_costs(const char *v, sched_opts *o, FILE *err)
{
    free(o->costs);
    o->costs = NULL;
    char **items = NULL;
    int n = 0;
    char *copy = split_list(v, &items, &n);
    if (!copy) {
        fputs("pff schedule: out of memory parsing --costs\n", err);
        return 1;
    }
    o->costs = malloc((size_t)n * sizeof *o->costs);
    if (!o->costs) {
        free(copy);
        free(items);
        fputs("pff schedule: out of memory parsing --costs\n", err);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        double d;
        if (parse_double(items[i], &d) || d <= 0.0) {
            int rc = usage(err, "--costs: value %d: expected a positive number, found '%s' "
                                "(in '%s')", i + 1, items[i], v);
            free(copy);
            free(items);
            return rc;
        }
        o->costs[i] = d;
    }
    free(copy);
    free(items);
    o->ncosts = n;
    return 0;
}

static int parse_args(int argc, char **argv, sched_opts *o, FILE *out, FILE *err, int *help)
{
    int nodes_set = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!a) continue;
        if (strcmp(a, "-h") == 0) {
            *help = 1;
            print_help(out);
            return 0;
        }
        if (a[0] != '-' || strcmp(a, "--") == 0 || strcmp(a, "-") == 0)
            return usage(err, "unexpected argument '%s' (expected an option such as --nodes 3)", a);
        if (a[1] != '-')
            return usage(err, "unknown option '%s' (expected --schedule, --nodes, --layers, "
                              "--splits, --costs, --neg, --neg-cost, --width, --json or --help)",
                         a);
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        int id = -1, has_arg = 0;
        for (size_t j = 0; j < sizeof sched_options / sizeof sched_options[0]; j++) {
            if (strlen(sched_options[j].name) == nlen &&
                strncmp(sched_options[j].name, name, nlen) == 0) {
                id = sched_options[j].id;
                has_arg = sched_options[j].has_arg;
                break;
            }
        }
        if (id < 0)
            return usage(err, "unknown option '%.*s' (expected --schedule, --nodes, --layers, "
                              "--splits, --costs, --neg, --neg-cost, --width, --json or --help)",
                         (int)(nlen + 2), a);
        const char *v = NULL;
        if (has_arg) {
            if (eq) {
                v = eq + 1;
            } else if (i + 1 < argc && argv[i + 1]) {
                v = argv[++i];
            } else {
                return usage(err, "--%s: missing value", name);
            }
        } else if (eq) {
            return usage(err, "--%.*s: takes no value, found '%s'", (int)nlen, name, eq + 1);
        }
        long n;
        double d;
        int rc;
        switch (id) {
        case OPT_HELP:
            *help = 1;
            print_help(out);
            return 0;
        case OPT_JSON: o->json = 1; break;
        case OPT_SCHEDULE:
            if (pff_plan_sched_parse(v, &o->schedule))
                return usage(err, "--schedule: expected sequential, single-layer, all-layers or "
                                  "federated, found '%s'", v);
            break;
        case OPT_NODES:
            if (parse_pos_int(v, 1000000L, &n))
                return usage(err, "--nodes: expected a positive integer, found '%s'", v);
            o->nodes = (int)n;
            nodes_set = 1;
            break;
        case OPT_SPLITS:
            if (parse_pos_int(v, PFF_PLAN_MAX_BLOCKS, &n))
                return usage(err, "--splits: expected a positive integer (1..%d), found '%s'",
                             PFF_PLAN_MAX_BLOCKS, v);
            o->splits = (int)n;
            break;
        case OPT_WIDTH:
            if (parse_pos_int(v, PFF_GANTT_MAX_COLS, &n) || n < 8)
                return usage(err, "--width: expected a column count from 8 to %d, found '%s'",
                             PFF_GANTT_MAX_COLS, v);
            o->width = (int)n;
            break;
        case OPT_LAYERS:
            if ((rc = parse_layers(v, o, err)) != 0) return rc;
            break;
        case OPT_COSTS:
            if ((rc = parse_costs(v, o, err)) != 0) return rc;
            break;
        case OPT_NEG:
            if (strcmp(v, "adaptive") && strcmp(v, "fixed") && strcmp(v, "random") &&
                strcmp(v, "hard"))
                return usage(err, "--neg: expected adaptive, fixed, random or hard, found '%s'", v);
            o->neg = v;
            break;
        case OPT_NEG_COST:
            if (parse_double(v, &d) || d < 0.0)
                return usage(err, "--neg-cost: expected a number >= 0, found '%s'", v);
            o->neg_cost = d;
            break;
        case OPT_MAP_COST:
            if (parse_double(v, &d) || d < 0.0)
                return usage(err, "--map-cost: expected a number >= 0, found '%s'", v);
            o->map_cost = d;
            break;
        default: break;
        }
    }

    /* Checks across flags. */
    const int L = o->layers;
    if (!nodes_set) {
        o->nodes = o->schedule == PFF_PLAN_SINGLE_LAYER ? L
                   : o->schedule == PFF_PLAN_SEQUENTIAL ? 1
                                                         : 3;
    } else if (o->schedule == PFF_PLAN_SEQUENTIAL && o->nodes != 1) {
        return usage(err, "--nodes: sequential runs on 1 node, found %d", o->nodes);
    } else if (o->schedule == PFF_PLAN_SINGLE_LAYER && o->nodes != L) {
        return usage(err, "--nodes: single-layer needs one node per layer (expected %d = number "
                          "of layers), found %d", L, o->nodes);
    }
    if (o->costs && o->ncosts != L)
        return usage(err, "--costs: expected %d value%s (one per layer), found %d", L,
                     L == 1 ? "" : "s", o->ncosts);
    if ((long long)L * o->splits > PFF_PLAN_MAX_BLOCKS)
        return usage(err, "--layers x --splits: expected at most %d blocks, found %lld",
                     PFF_PLAN_MAX_BLOCKS, (long long)L * o->splits);
    return 0;
}

/* 4 significant digits, but no exponent for values a user reads as plain numbers (1234.5). */
static void print_num(FILE *f, double v)
{
    if (v >= 1000.0 && v < 1e15) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.1f", v);
        size_t n = strlen(buf);
        if (n > 2 && strcmp(buf + n - 2, ".0") == 0) buf[n - 2] = '\0';
        fputs(buf, f);
    } else {
        fprintf(f, "%.4g", v);
    }
}

int pff_schedule_cli(int argc, char **argv, FILE *out, FILE *err, int use_color)
{
    sched_opts o;
    memset(&o, 0, sizeof o);
    o.schedule = PFF_PLAN_ALL_LAYERS;
    o.layers = 3;
    o.splits = 3;
    o.neg = "random";
    int help = 0;
    int rc = parse_args(argc, argv, &o, out, err, &help);
    double *wcosts = NULL;
    pff_plan plan;
    memset(&plan, 0, sizeof plan);
    if (rc != 0 || help) goto done;

    /* Costs from widths: in*out per layer, normalised to mean 1. */
    const double *costs = o.costs;
    if (!costs && o.widths) {
        wcosts = malloc((size_t)o.layers * sizeof *wcosts);
        if (!wcosts) {
            fputs("pff schedule: out of memory\n", err);
            rc = 1;
            goto done;
        }
        double sum = 0.0;
        for (int k = 0; k < o.layers; k++) {
            wcosts[k] = (double)o.widths[k] * (double)o.widths[k + 1];
            sum += wcosts[k];
        }
        for (int k = 0; k < o.layers; k++) wcosts[k] *= (double)o.layers / sum;
        costs = wcosts;
    }
    const int fixed = strcmp(o.neg, "fixed") == 0;
    pff_plan_config cfg = {
        .schedule = o.schedule,
        .nodes = o.nodes,
        .layers = o.layers,
        .splits = o.splits,
        .costs = costs,
        .adaptive = strcmp(o.neg, "adaptive") == 0 || strcmp(o.neg, "hard") == 0,
        .neg_cost = fixed ? 0.0 : o.neg_cost,
        .map_cost = o.map_cost,
    };
    char msg[256];
    rc = pff_plan_compute(&cfg, &plan, msg, sizeof msg);
    if (rc == PFF_PLAN_EINVAL) {
        usage(err, "%s", msg);
        goto done;
    }
    if (rc != PFF_PLAN_OK) {
        fprintf(err, "pff schedule: %s\n", msg);
        goto done;
    }

    FILE *chart = o.json ? err : out;
    int colour = use_color;
    if (colour < 0) colour = isatty(fileno(chart)) && getenv("NO_COLOR") == NULL;

    fprintf(chart, "%s schedule: %d node%s, %d layer%s, %d chapter%s, negatives %s",
            pff_plan_sched_name(plan.schedule), plan.nodes, plan.nodes == 1 ? "" : "s",
            plan.layers, plan.layers == 1 ? "" : "s", plan.splits, plan.splits == 1 ? "" : "s",
            o.neg);
    if (plan.neg_cost > 0.0) {
        fputs(" (regeneration cost ", chart);
        print_num(chart, plan.neg_cost);
        fputc(')', chart);
    } else if (fixed && o.neg_cost > 0.0) {
        fputs(" (drawn once: --neg-cost ignored)", chart);
    }
    fputs("\nlayer costs:", chart);
    for (int k = 0; k < plan.layers && k < 64; k++) {
        fprintf(chart, " L%d=", k + 1);
        print_num(chart, plan.costs[k]);
    }
    if (plan.layers > 64) fputs(" ...", chart);
    if (o.widths && !o.costs) fputs(" (from in*out of each layer, mean 1)", chart);
    fputs("\n\n", chart);

    pff_gantt_print(chart, plan.spans, plan.nspans, plan.nodes, plan.makespan, o.width, colour,
                    "units");

    fputs("\nmakespan ", chart);
    print_num(chart, plan.makespan);
    fputs(" layer-chapter units, sequential ", chart);
    print_num(chart, plan.sequential_makespan);
    fprintf(chart, ", speed-up %.2fx\n", plan.speedup);
    int digits = 1;
    for (int n = plan.nodes; n >= 10; n /= 10) digits++;
    for (int n = 0; n < plan.nodes; n++) {
        fprintf(chart, "node %*d: busy ", digits, n + 1);
        print_num(chart, plan.busy[n]);
        fprintf(chart, ", utilisation %5.1f%%, bubble %5.1f%%\n", 100.0 * plan.utilisation[n],
                100.0 * plan.bubble[n]);
    }
    if (o.json && pff_plan_json(out, &plan, o.neg) != 0) rc = 1;
    if (fflush(out) != 0 || ferror(out)) {
        fputs("pff schedule: error writing the output\n", err);
        rc = 1;
    }

done:
    pff_plan_free(&plan);
    free(wcosts);
    free(o.costs);
    free(o.widths);
    return rc;
}

int pff_schedule_main(int argc, char **argv)
{
    return pff_schedule_cli(argc, argv, stdout, stderr, -1);
}
