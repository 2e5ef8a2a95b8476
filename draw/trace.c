/* draw/trace.c - Writing the spans measured in a real run (`pff train --trace FILE`): the trace
 * file formats below, and the per-node summary of pff_trace_summary.
 *
 * What each format holds:
 *   .json  Chrome Trace Event Format, one object {"traceEvents":[...], "displayTimeUnit":"ms",
 *          "otherData":{...}}: a process_name metadata event ("pff", pid 1), per node a
 *          thread_name ("node 1", tid = node + 1) and a thread_sort_index event, then one complete
 *          "X" event per span (ts and dur in microseconds, 3 decimals, clipped to [0, t_end];
 *          name "L2 c3", "head c3", "negatives c3", "map L1 c3", "wait L2 c3", "eval";
 *          cat = the kind; args {layer, chapter} 1-based, each only when known, and with a
 *          pff_trace_info {images, epochs, gflop, gflops} where they apply) and one
 *          thread-scoped instant "i" event per publish ("publish L2 c3"). Then the hand-offs:
 *          every wait is matched to the publish of the same (layer, chapter) it took (the
 *          latest begun by the wait's end; a publish that blocked begins at its own wait), and
 *          drawn as a flow pair "s" -> "f" (one id, cat "handoff") from inside the publisher's
 *          last busy span to inside the taker's first busy span after the wait. Last, counter
 *          "C" events "queue L2" {depth}: per channel, +1 at each publish, -1 at each take.
 *          Single-layer runs (info->ring == 0) share labels between channels: no flows, no
 *          counters there. Loads in Perfetto (ui.perfetto.dev) and chrome://tracing.
 *   .png   An RGB Gantt picture PFF_TRACE_PNG_WIDTH x PFF_TRACE_PNG_HEIGHT(nodes): a title, one
 *          row per node ("node 1" ..), training blocks coloured by layer (8 colours, repeating)
 *          and labelled "L2c3" where they fit, head / negatives / map / eval blocks in their own
 *          colours, waits as thin light-grey bars, publishes as black markers on the row's top
 *          edge, a time axis with 1-2-5 ticks labelled in seconds, and a two-line legend. Drawn
 *          on the project's one canvas and font, encoded into memory (draw/canvas.c).
 *   .txt   The terminal Gantt chart of plan.c (pff_gantt_print, 100 columns, no colour, unit s).
 *   -      The same chart on stdout, coloured when stdout is a terminal and NO_COLOR is unset.
 * Files are written by the one atomic writer, pff_write_atomic_stream (pff.h, data/atomic.c): a mkstemp file in
 * the target's directory, flushed, fsync'ed and renamed over the target; on any failure the
 * temporary file is removed. Failures return PFF_EUSAGE or PFF_EFAIL (trace.h says which).
 *
 * Why one file of about 780 lines: the three writers share the span helpers (span_ok, clip,
 * effective_end, span_name) and trace_ctx; splitting JSON from PNG would need a private header
 * for them and gain no second user.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "trace.h"
#include "data/json.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../pff.h"
#include "canvas.h"
#include "../data/data.h"

/* ------------------------------------------------------------------------------------------ */
/* Common                                                                                     */


static int span_ok(const pff_span *s, int nodes)
{
    return s->node >= 0 && s->node < nodes && s->kind >= PFF_SPAN_TRAIN &&
           s->kind <= PFF_SPAN_PUBLISH && isfinite(s->start) && isfinite(s->end) &&
           s->end >= s->start;
}

/* t_end if it is a positive finite number, else the latest valid span end (0 if none). */
static double effective_end(const pff_span *spans, int nspans, int nodes, double t_end)
{
    if (isfinite(t_end) && t_end > 0.0) return t_end;
    double t = 0.0;
    for (int i = 0; i < nspans; i++)
        if (span_ok(&spans[i], nodes) && spans[i].end > t) t = spans[i].end;
    return t;
}

static void clip(const pff_span *s, double T, double *a, double *b)
{
    double x = s->start < 0.0 ? 0.0 : s->start > T ? T : s->start;
    double y = s->end < 0.0 ? 0.0 : s->end > T ? T : s->end;
    *a = x;
    *b = y;
}

static int is_busy(int kind)
{
    return kind == PFF_SPAN_TRAIN || kind == PFF_SPAN_HEAD || kind == PFF_SPAN_NEGATIVES ||
           kind == PFF_SPAN_MAP;
}

void pff_trace_summary(const pff_span *spans, int nspans, int nodes, double t_end,
                       double *busy, double *wait, double *utilisation)
{
    if (nodes <= 0) return;
    if (!spans || nspans < 0) nspans = 0;
    double *acc = busy ? busy : utilisation; /* busy seconds accumulate here */
    for (int n = 0; n < nodes; n++) {
        if (busy) busy[n] = 0.0;
        if (wait) wait[n] = 0.0;
        if (utilisation) utilisation[n] = 0.0;
    }
    const double T = effective_end(spans, nspans, nodes, t_end);
    for (int i = 0; i < nspans; i++) {
        const pff_span *s = &spans[i];
        if (!span_ok(s, nodes)) continue;
        double a, b;
        clip(s, T, &a, &b);
        if (is_busy(s->kind) && acc) acc[s->node] += b - a;
        if (s->kind == PFF_SPAN_WAIT && wait) wait[s->node] += b - a;
    }
    if (utilisation)
        for (int n = 0; n < nodes; n++) utilisation[n] = T > 0.0 ? acc[n] / T : 0.0;
}

/* Name of a span: "L2 c3", "head c3", "negatives c3", "map L1 c3", "wait L2 c3", "eval",
 * "publish L2 c3"; unknown (negative) layer or chapter parts are left out. */
static void span_name(char *buf, size_t n, const pff_span *s)
{
    static const char *const prefix[] = {"", "negatives", "head", "eval", "wait", "map", "publish"};
    int with_layer = s->kind == PFF_SPAN_TRAIN || s->kind == PFF_SPAN_MAP ||
                     s->kind == PFF_SPAN_WAIT || s->kind == PFF_SPAN_PUBLISH;
    size_t len = 0;
    buf[0] = '\0';
    len += (size_t)snprintf(buf + len, n - len, "%s", prefix[s->kind]);
    if (with_layer && s->layer >= 0 && len < n)
        len += (size_t)snprintf(buf + len, n - len, "%sL%d", len ? " " : "", s->layer + 1);
    if (s->chapter >= 0 && len < n)
        len += (size_t)snprintf(buf + len, n - len, "%sc%d", len ? " " : "", s->chapter + 1);
    if (len == 0) snprintf(buf, n, "train");
}

/* ------------------------------------------------------------------------------------------ */
/* What the emitters write from                                                               */

typedef struct {
    const pff_span *spans;
    int nspans, nodes;
    double T;
    const unsigned char *png;    /* PNG only: the encoded file */
    size_t png_size;
    const pff_trace_info *info;  /* JSON only; may be NULL */
} trace_ctx;

/* ------------------------------------------------------------------------------------------ */
/* JSON                                                                                       */

static const char *const kind_cat[] = {"train", "negatives", "head", "eval", "wait", "map",
                                       "publish"};

static double us3(double seconds) { return floor(seconds * 1e9 + 0.5) / 1000.0; }

/* Nanoseconds from the start, clipped (the JSON's times are microseconds with 3 decimals). */
static long long clip_ns(double seconds, double T)
{
    double x = seconds < 0.0 ? 0.0 : seconds > T ? T : seconds;
    return (long long)floor(x * 1e9 + 0.5);
}

/* Training images of the span's node, 0 when unknown. */
static long span_images(const pff_span *s, const pff_trace_info *info)
{
    return info && info->node_images && info->node_images[s->node] > 0 ? info->node_images[s->node]
                                                                       : 0;
}

/* GFLOP of a training or mapping span (DESIGN.md section 5), 0 when unknown. */
static double span_gflop(const pff_span *s, const pff_trace_info *info)
{
    const long n = span_images(s, info);
    if (!n || !info->widths || s->layer < 0 || s->layer >= info->nlayers) return 0.0;
    const double mac = (double)info->widths[s->layer] * info->widths[s->layer + 1] * (double)n;
    if (s->kind == PFF_SPAN_TRAIN && info->epochs_per_chapter > 0)
        return 8.0 * mac * info->epochs_per_chapter / 1e9;
    if (s->kind == PFF_SPAN_MAP) return 4.0 * mac / 1e9;
    return 0.0;
}

static void json_args(FILE *f, const pff_span *s, const pff_trace_info *info, double seconds)
{
    const char *sep = "";
    fputs(",\"args\":{", f);
    if (s->layer >= 0) {
        fprintf(f, "\"layer\":%d", s->layer + 1);
        sep = ",";
    }
    if (s->chapter >= 0) {
        fprintf(f, "%s\"chapter\":%d", sep, s->chapter + 1);
        sep = ",";
    }
    const long n = span_images(s, info);
    if (n && s->kind != PFF_SPAN_WAIT && s->kind != PFF_SPAN_PUBLISH && s->kind != PFF_SPAN_EVAL) {
        fprintf(f, "%s\"images\":%ld", sep, n);
        if (s->kind == PFF_SPAN_TRAIN && info->epochs_per_chapter > 0)
            fprintf(f, ",\"epochs\":%d", info->epochs_per_chapter);
        const double g = span_gflop(s, info);
        if (g > 0.0) {
            fprintf(f, ",\"gflop\":%.4f", g);
            if (seconds > 0.0) fprintf(f, ",\"gflops\":%.3f", g / seconds);
        }
    }
    fputc('}', f);
}

static int is_work(int kind) { return kind != PFF_SPAN_WAIT && kind != PFF_SPAN_PUBLISH; }

/* One hand-off: publish p (span index) taken by wait w; the flow's ends bound inside the spans
 * ws (publisher's work before p) and wf (taker's work after w), -1 when there is none. begin: when
 * the publish call began (a publish that blocks records a wait ending at the publish instant). */
typedef struct {
    int p, w, ws, wf;
    double begin;
} handoff;

/* Is wait w the blocking of a publish p on its own node (same label, ending at the instant)? */
static int own_blocking(const pff_span *w, const pff_span *p)
{
    return w->kind == PFF_SPAN_WAIT && p->kind == PFF_SPAN_PUBLISH && p->node == w->node &&
           p->layer == w->layer && p->chapter == w->chapter && p->start == w->end;
}

/* When publish j began: the start of its own blocking wait, else its instant. */
static double publish_begin(const trace_ctx *c, int j)
{
    for (int i = 0; i < c->nspans; i++)
        if (span_ok(&c->spans[i], c->nodes) && own_blocking(&c->spans[i], &c->spans[j]))
            return c->spans[i].start;
    return c->spans[j].start;
}

/* Matches every wait that took something to the publish of the same (layer, chapter), the latest
 * one begun by the wait's end; returns the count. */
static int match_handoffs(const trace_ctx *c, handoff *h)
{
    int n = 0;
    const pff_span *sp = c->spans;
    for (int i = 0; i < c->nspans; i++) {
        const pff_span *w = &sp[i];
        if (!span_ok(w, c->nodes) || w->kind != PFF_SPAN_WAIT) continue;
        int best = -1, own = 0;
        double best_begin = 0.0;
        for (int j = 0; j < c->nspans && !own; j++) {
            const pff_span *p = &sp[j];
            if (!span_ok(p, c->nodes) || p->kind != PFF_SPAN_PUBLISH || p->layer != w->layer ||
                p->chapter != w->chapter)
                continue;
            if (own_blocking(w, p)) {
                own = 1;
                break;
            }
            double b = publish_begin(c, j);
            if (b <= w->end + 1e-4 && (best < 0 || b > best_begin)) { /* unrecorded blocking */
                best = j;
                best_begin = b;
            }
        }
        if (own || best < 0) continue;
        const pff_span *p = &sp[best];
        int ws = -1, wf = -1;
        for (int j = 0; j < c->nspans; j++) {
            const pff_span *s = &sp[j];
            if (!span_ok(s, c->nodes) || !is_work(s->kind)) continue;
            if (s->node == p->node && s->end <= best_begin && (ws < 0 || s->end > sp[ws].end))
                ws = j;
            if (s->node == w->node && s->start >= w->end && (wf < 0 || s->start < sp[wf].start))
                wf = j;
        }
        h[n++] = (handoff){best, i, ws, wf, best_begin};
    }
    return n;
}

/* A time strictly inside span s (near its end when late, its start otherwise), in ns; t_ns when
 * s is -1 or has no length. */
static long long inside_ns(const trace_ctx *c, int s, int late, long long t_ns)
{
    if (s < 0) return t_ns;
    long long a = clip_ns(c->spans[s].start, c->T), b = clip_ns(c->spans[s].end, c->T);
    if (b - a < 2) return late ? b : a;
    long long d = (b - a) / 2 < 500 ? (b - a) / 2 : 500;
    return late ? b - d : a + d;
}

static void handoff_name(char *buf, size_t n, const pff_span *p, const pff_trace_info *info)
{
    if (p->layer < 0)
        snprintf(buf, n, "hand-off negatives c%d", p->chapter + 1);
    else if (info && p->layer == info->nlayers)
        snprintf(buf, n, "hand-off head c%d", p->chapter + 1);
    else
        snprintf(buf, n, "hand-off L%d c%d", p->layer + 1, p->chapter + 1);
}

/* The opening of one event, up to its name: ",\n{"name":"..."" (names escaped by the one writer). */
static void event_name(FILE *f, const char *name)
{
    fputs(",\n{\"name\":", f);
    pff_json_str(f, name);
}

static void emit_flows(FILE *f, const trace_ctx *c, const handoff *h, int nh)
{
    for (int i = 0; i < nh; i++) {
        const pff_span *p = &c->spans[h[i].p], *w = &c->spans[h[i].w];
        char name[64];
        handoff_name(name, sizeof name, p, c->info);
        long long ts = inside_ns(c, h[i].ws, 1, clip_ns(h[i].begin, c->T));
        long long tf = inside_ns(c, h[i].wf, 0, clip_ns(w->end, c->T));
        char args[128];
        snprintf(args, sizeof args, "{\"from\":\"node %d\",\"to\":\"node %d\",\"waited_ms\":%.3f}",
                 p->node + 1, w->node + 1, (w->end - w->start) * 1e3);
        event_name(f, name);
        fprintf(f, ",\"cat\":\"handoff\",\"ph\":\"s\",\"id\":%d,\"ts\":%.3f,\"pid\":1,\"tid\":%d,"
                   "\"args\":%s}",
                i + 1, (double)ts / 1e3, p->node + 1, args);
        event_name(f, name);
        fprintf(f, ",\"cat\":\"handoff\",\"ph\":\"f\",\"bp\":\"e\",\"id\":%d,\"ts\":%.3f,\"pid\":1,"
                   "\"tid\":%d,\"args\":%s}",
                i + 1, (double)tf / 1e3, w->node + 1, args);
    }
}

typedef struct {
    int chan;     /* the layer label: -1 negatives, 0.. layers (L: the head with info) */
    long long t;  /* ns */
    int delta;    /* +1 publish, -1 take */
} queue_event;

static int queue_event_cmp(const void *a, const void *b)
{
    const queue_event *x = a, *y = b;
    if (x->chan != y->chan) return x->chan < y->chan ? -1 : 1;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return (x->delta < y->delta) - (x->delta > y->delta); /* a publish before its take */
}

/* Queue depth per channel: +1 at every publish, -1 at the end of every wait that took one. */
static int emit_counters(FILE *f, const trace_ctx *c, const handoff *h, int nh)
{
    int n = 0;
    for (int i = 0; i < c->nspans; i++)
        n += span_ok(&c->spans[i], c->nodes) && c->spans[i].kind == PFF_SPAN_PUBLISH;
    queue_event *q = malloc((size_t)(n + nh + 1) * sizeof *q);
    if (!q) return ENOMEM;
    n = 0;
    for (int i = 0; i < c->nspans; i++) {
        const pff_span *s = &c->spans[i];
        if (span_ok(s, c->nodes) && s->kind == PFF_SPAN_PUBLISH)
            q[n++] = (queue_event){s->layer, clip_ns(publish_begin(c, i), c->T), +1};
    }
    for (int i = 0; i < nh; i++)
        q[n++] = (queue_event){c->spans[h[i].w].layer, clip_ns(c->spans[h[i].w].end, c->T), -1};
    qsort(q, (size_t)n, sizeof *q, queue_event_cmp);
    int depth = 0;
    for (int i = 0; i < n; i++) {
        char name[32];
        const int k = q[i].chan;
        if (k < 0)
            snprintf(name, sizeof name, "queue negatives");
        else if (c->info && k == c->info->nlayers)
            snprintf(name, sizeof name, "queue head");
        else
            snprintf(name, sizeof name, "queue L%d", k + 1);
        if (i == 0 || q[i - 1].chan != k) {
            depth = 0;
            event_name(f, name);
            fputs(",\"cat\":\"queue\",\"ph\":\"C\",\"ts\":0.000,\"pid\":1,\"args\":{\"depth\":0}}", f);
        }
        depth += q[i].delta;
        event_name(f, name);
        fprintf(f, ",\"cat\":\"queue\",\"ph\":\"C\",\"ts\":%.3f,\"pid\":1,\"args\":{\"depth\":%d}}",
                (double)q[i].t / 1e3, depth);
    }
    free(q);
    return 0;
}

static int emit_json(FILE *f, void *ctx)
{
    const trace_ctx *c = ctx;
    fputs("{\"traceEvents\":[\n", f);
    fputs("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,"
          "\"args\":{\"name\":\"pff\"}}", f);
    for (int n = 0; n < c->nodes; n++) {
        fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%d,"
                   "\"args\":{\"name\":\"node %d\"}}", n + 1, n + 1);
        fprintf(f, ",\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":%d,"
                   "\"args\":{\"sort_index\":%d}}", n + 1, n + 1);
    }
    for (int i = 0; i < c->nspans; i++) {
        const pff_span *s = &c->spans[i];
        if (!span_ok(s, c->nodes)) continue;
        char name[96];
        span_name(name, sizeof name, s);
        double a, b;
        clip(s, c->T, &a, &b);
        double ts = us3(a), te = us3(b);
        if (s->kind == PFF_SPAN_PUBLISH) {
            event_name(f, name);
            fprintf(f, ",\"cat\":\"publish\",\"ph\":\"i\",\"s\":\"t\",\"ts\":%.3f,\"pid\":1,\"tid\":%d",
                    ts, s->node + 1);
        } else {
            event_name(f, name);
            fprintf(f, ",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":1,\"tid\":%d",
                    kind_cat[s->kind], ts, te - ts, s->node + 1);
        }
        json_args(f, s, c->info, b - a);
        fputc('}', f);
    }
    int nh = 0;
    if (!c->info || c->info->ring) {
        handoff *h = malloc((size_t)(c->nspans + 1) * sizeof *h);
        if (!h) return ENOMEM;
        nh = match_handoffs(c, h);
        emit_flows(f, c, h, nh);
        int rc = emit_counters(f, c, h, nh);
        free(h);
        if (rc) return rc;
    }
    fprintf(f, "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"generator\":\"pff\","
               "\"nodes\":%d,\"t_end_us\":%.3f,\"handoffs\":%d",
            c->nodes, us3(c->T), nh);
    if (c->info && c->info->schedule) {
        fputs(",\"schedule\":", f);
        pff_json_str(f, c->info->schedule);
    }
    fputs("}}\n", f);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Text                                                                                       */

#define TRACE_TEXT_COLS 100

static int emit_txt(FILE *f, void *ctx)
{
    const trace_ctx *c = ctx;
    pff_gantt_print(f, c->spans, c->nspans, c->nodes, c->T, TRACE_TEXT_COLS, 0, "s");
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* PNG                                                                                        */

#define PNG_TOP 40
#define PNG_LEFT 124
#define PNG_RIGHT 28
#define PNG_BAR_PAD 4 /* bar: row top + 4 .. row bottom - 4 */
#define PNG_LAYER_COLOURS 8

static const pff_rgb layer_rgb[PNG_LAYER_COLOURS] = {
    {31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
    {148, 103, 189}, {23, 190, 207}, {188, 189, 34}, {227, 119, 194},
};
static const pff_rgb head_rgb = {140, 86, 75}, neg_rgb = {127, 127, 127}, map_rgb = {40, 40, 40},
                 wait_rgb = {200, 200, 200}, eval_rgb = {255, 215, 0}, publish_rgb = {0, 0, 0},
                 text_rgb = {20, 20, 20}, white_rgb = {255, 255, 255},
                 band_rgb[2] = {{248, 248, 248}, {236, 236, 236}};

static pff_rgb kind_rgb(const pff_span *s)
{
    switch (s->kind) {
    case PFF_SPAN_TRAIN: return layer_rgb[(s->layer < 0 ? 0 : s->layer) % PNG_LAYER_COLOURS];
    case PFF_SPAN_HEAD: return head_rgb;
    case PFF_SPAN_NEGATIVES: return neg_rgb;
    case PFF_SPAN_MAP: return map_rgb;
    case PFF_SPAN_EVAL: return eval_rgb;
    case PFF_SPAN_WAIT: return wait_rgb;
    default: return publish_rgb;
    }
}

static pff_rgb darker(pff_rgb c)
{
    pff_rgb d = {(unsigned char)(c.r * 6 / 10), (unsigned char)(c.g * 6 / 10),
             (unsigned char)(c.b * 6 / 10)};
    return d;
}

static pff_rgb text_on(pff_rgb c)
{
    int lum = 299 * c.r + 587 * c.g + 114 * c.b; /* x1000 */
    return lum > 150000 ? text_rgb : white_rgb;
}

static void swatch(pff_canvas *cv, int x, int y, const char *label, pff_rgb c, int *next_x)
{
    pff_canvas_fill(cv, x, y, x + 14, y + 14, c);
    pff_canvas_text(cv, x + 20, y, 2, text_rgb, label);
    *next_x = x + 20 + pff_canvas_text_width(label, 2) + 20;
}

static void publish_marker(pff_canvas *cv, int x, int y)
{
    for (int r = 0; r < 5; r++)
        pff_canvas_fill(cv, x - 4 + r, y + r, x + 5 - r, y + r + 1, publish_rgb);
}

/* Tick label i * m * 10^e without binary noise. */
static void tick_label(char *buf, size_t n, long i, int m, int e)
{
    if (i == 0)
        snprintf(buf, n, "0");
    else if (e > 15 || e < -9)
        snprintf(buf, n, "%.3g", (double)i * m * pow(10.0, e));
    else if (e >= 0)
        snprintf(buf, n, "%.0f", (double)i * m * pow(10.0, e));
    else
        snprintf(buf, n, "%.*f", -e, (double)i * m / pow(10.0, -e));
}

static int time_x(double t, double T, int pw)
{
    double x = floor(t / T * pw + 0.5);
    if (!(x > 0.0)) return PNG_LEFT;
    if (x > pw) x = pw;
    return PNG_LEFT + (int)x;
}

/* One work span as a block of node row y0: its colour, dark edges when it is wide enough to need
 * them, and the longest label that fits ("L2c3", then "L2"; "neg", "map", ...). */
static void png_block(pff_canvas *cv, const pff_span *s, int x0, int x1, int y0)
{
    const int R = PFF_TRACE_PNG_ROW, by0 = y0 + PNG_BAR_PAD, by1 = y0 + R - PNG_BAR_PAD;
    const pff_rgb col = kind_rgb(s);
    pff_canvas_fill(cv, x0, by0, x1, by1, col);
    if (x1 - x0 >= 4) { /* separate adjacent blocks */
        pff_canvas_fill(cv, x0, by0, x0 + 1, by1, darker(col));
        pff_canvas_fill(cv, x1 - 1, by0, x1, by1, darker(col));
    }
    char lab[2][40] = {"", ""};
    switch (s->kind) {
    case PFF_SPAN_TRAIN:
        if (s->chapter >= 0)
            snprintf(lab[0], sizeof lab[0], "L%dc%d", s->layer + 1, s->chapter + 1);
        snprintf(lab[1], sizeof lab[1], "L%d", s->layer + 1);
        break;
    case PFF_SPAN_HEAD: snprintf(lab[0], sizeof lab[0], "head"); break;
    case PFF_SPAN_NEGATIVES: snprintf(lab[0], sizeof lab[0], "neg"); break;
    case PFF_SPAN_MAP: snprintf(lab[0], sizeof lab[0], "map"); break;
    case PFF_SPAN_EVAL: snprintf(lab[0], sizeof lab[0], "eval"); break;
    default: break;
    }
    for (int li = 0; li < 2; li++) {
        if (!lab[li][0]) continue;
        int scale = pff_canvas_text_width(lab[li], 2) + 6 <= x1 - x0 ? 2
                    : pff_canvas_text_width(lab[li], 1) + 4 <= x1 - x0 ? 1
                                                                      : 0;
        if (!scale) continue;
        const int tw = pff_canvas_text_width(lab[li], scale);
        pff_canvas_text(cv, x0 + (x1 - x0 - tw) / 2, by0 + (by1 - by0 - 7 * scale) / 2, scale,
                        text_on(col), lab[li]);
        break;
    }
}

/* Node n's row: its band and name, then its waits (thin), its work, its publish markers. */
static void png_row(pff_canvas *cv, const trace_ctx *c, int n, double T, int pw)
{
    const int R = PFF_TRACE_PNG_ROW, y0 = PNG_TOP + n * R;
    char buf[32];
    pff_canvas_fill(cv, PNG_LEFT, y0, PNG_LEFT + pw, y0 + R, band_rgb[n % 2]);
    snprintf(buf, sizeof buf, "node %d", n + 1);
    pff_canvas_text(cv, PNG_LEFT - 8 - pff_canvas_text_width(buf, 2), y0 + (R - 14) / 2, 2,
                    text_rgb, buf);
    for (int pass = 0; pass < 3; pass++) {
        for (int i = 0; i < c->nspans; i++) {
            const pff_span *s = &c->spans[i];
            if (s->node != n || !span_ok(s, c->nodes)) continue;
            int p = s->kind == PFF_SPAN_WAIT ? 0 : s->kind == PFF_SPAN_PUBLISH ? 2 : 1;
            if (p != pass) continue;
            double a, b;
            clip(s, c->T, &a, &b);
            int x0 = time_x(a, T, pw), x1 = time_x(b, T, pw);
            if (pass == 2) {
                publish_marker(cv, x0, y0);
                continue;
            }
            if (!(b > a)) continue;
            if (x1 <= x0) { /* at least one pixel */
                if (x0 >= PNG_LEFT + pw) x0 = PNG_LEFT + pw - 1;
                x1 = x0 + 1;
            }
            if (pass == 0)
                pff_canvas_fill(cv, x0, y0 + R / 2 - 3, x1, y0 + R / 2 + 3, kind_rgb(s));
            else
                png_block(cv, s, x0, x1, y0);
        }
    }
}

/* The time axis at height ya: 1-2-5 steps at least 80 pixels apart and wider than their
 * labels. */
static void png_axis(pff_canvas *cv, int ya, double T, int pw)
{
    char buf[128];
    pff_canvas_fill(cv, PNG_LEFT, ya, PNG_LEFT + pw + 1, ya + 1, text_rgb);
    int m = 1, e = 0, found = 0;
    static const int ms[3] = {1, 2, 5};
    const int e0 = (int)floor(log10(T * 80.0 / pw)) - 1;
    for (int ee = e0; ee <= e0 + 8 && !found; ee++) {
        for (int mi = 0; mi < 3 && !found; mi++) {
            double st = ms[mi] * pow(10.0, ee);
            tick_label(buf, sizeof buf, (long)floor(T / st + 1e-9), ms[mi], ee);
            double need = pff_canvas_text_width(buf, 2) + 24.0;
            if (st * pw / T >= (need > 80.0 ? need : 80.0)) {
                m = ms[mi];
                e = ee;
                found = 1;
            }
        }
    }
    const double step = m * pow(10.0, e);
    const long nt = found ? (long)floor(T / step + 1e-9) : 0; /* at most pw / 80 */
    for (long i = 0; i <= nt; i++) {
        int x = time_x((double)i * step, T, pw);
        pff_canvas_fill(cv, x, ya, x + 1, ya + 7, text_rgb);
        tick_label(buf, sizeof buf, i, m, e);
        int tw = pff_canvas_text_width(buf, 2), tx = x - tw / 2;
        if (tx < PNG_LEFT - 2) tx = PNG_LEFT - 2; /* clear of "time (s)" */
        if (tx + tw > cv->w - 2) tx = cv->w - 2 - tw;
        pff_canvas_text(cv, tx, ya + 10, 2, text_rgb, buf);
    }
    pff_canvas_text(cv, 8, ya + 10, 2, text_rgb, "time (s)");
}

/* The legend at height y: the layers on one line, the other kinds on the next. */
static void png_legend(pff_canvas *cv, int y, int max_layer)
{
    char buf[32];
    int x = PNG_LEFT;
    pff_canvas_text(cv, 8, y, 2, text_rgb, "layers");
    if (max_layer == 0) pff_canvas_text(cv, x, y, 2, text_rgb, "none");
    for (int k = 0; k < max_layer && k < PNG_LAYER_COLOURS; k++) {
        snprintf(buf, sizeof buf, "L%d", k + 1);
        swatch(cv, x, y, buf, layer_rgb[k], &x);
    }
    if (max_layer > PNG_LAYER_COLOURS) {
        snprintf(buf, sizeof buf, "(L%d = L1 ...)", PNG_LAYER_COLOURS + 1);
        pff_canvas_text(cv, x, y, 2, text_rgb, buf);
    }
    x = PNG_LEFT;
    y += 28;
    pff_canvas_text(cv, 8, y, 2, text_rgb, "other");
    swatch(cv, x, y, "head", head_rgb, &x);
    swatch(cv, x, y, "negatives", neg_rgb, &x);
    swatch(cv, x, y, "map", map_rgb, &x);
    pff_canvas_fill(cv, x, y, x + 14, y + 14, band_rgb[0]);
    pff_canvas_fill(cv, x, y + 4, x + 14, y + 10, wait_rgb);
    pff_canvas_text(cv, x + 20, y, 2, text_rgb, "wait");
    x += 20 + pff_canvas_text_width("wait", 2) + 20;
    swatch(cv, x, y, "eval", eval_rgb, &x);
    publish_marker(cv, x + 7, y + 2);
    pff_canvas_text(cv, x + 20, y, 2, text_rgb, "publish");
    x += 20 + pff_canvas_text_width("publish", 2) + 20;
    pff_canvas_fill(cv, x, y, x + 14, y + 14, band_rgb[1]);
    pff_canvas_text(cv, x + 20, y, 2, text_rgb, "idle");
}

/* The Gantt picture: a title, one row per node, the time axis and the legend. */
static void render_png(pff_canvas *cv, const trace_ctx *c)
{
    const int pw = cv->w - PNG_LEFT - PNG_RIGHT;
    const double T = c->T > 0.0 ? c->T : 1.0;
    pff_canvas_fill(cv, 0, 0, cv->w, cv->h, white_rgb);

    char buf[128];
    snprintf(buf, sizeof buf, "pff trace: %d node%s, %.4g s", c->nodes, c->nodes == 1 ? "" : "s",
             c->T);
    pff_canvas_text(cv, 8, 12, 2, text_rgb, buf);

    int max_layer = 0;
    for (int i = 0; i < c->nspans; i++) {
        const pff_span *s = &c->spans[i];
        if (span_ok(s, c->nodes) && s->kind == PFF_SPAN_TRAIN && s->layer + 1 > max_layer)
            max_layer = s->layer + 1;
    }
    for (int n = 0; n < c->nodes; n++)
        png_row(cv, c, n, T, pw);
    const int ya = PNG_TOP + c->nodes * PFF_TRACE_PNG_ROW;
    png_axis(cv, ya, T, pw);
    png_legend(cv, ya + 44, max_layer);
}

static int emit_png(FILE *f, void *ctx)
{
    const trace_ctx *c = ctx;
    return fwrite(c->png, 1, c->png_size, f) == c->png_size ? 0 : -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Entry point                                                                                */

int pff_trace_write(const char *path, const pff_span *spans, int nspans, int nodes, double t_end,
                    char *err)
{
    return pff_trace_write_run(path, spans, nspans, nodes, t_end, NULL, err);
}

/* pff_write_atomic_stream with its message copied into err[PFF_ERRLEN]. */
static int write_file(const char *path, int (*emit)(FILE *f, void *ctx), trace_ctx *c, char *err)
{
    char msg[PFF_ERRLEN] = "";
    int rc = pff_write_atomic_stream(path, emit, c, msg);
    if (rc) snprintf(err, PFF_ERRLEN, "%s", msg);
    return rc;
}

/* The Gantt picture, encoded, then written. */
static int write_png(const char *path, trace_ctx *c, char *err)
{
    if (c->nodes > PFF_TRACE_PNG_MAX_NODES) {
        snprintf(err, PFF_ERRLEN, "%s: a PNG trace shows at most %d nodes, found %d (use .json)",
                         path, PFF_TRACE_PNG_MAX_NODES, c->nodes);
        return PFF_EUSAGE;
    }
    pff_canvas cv;
    const pff_rgb white = {255, 255, 255};
    if (pff_canvas_new(&cv, PFF_TRACE_PNG_WIDTH, PFF_TRACE_PNG_HEIGHT(c->nodes), white)) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory for a %dx%d picture", path,
                         PFF_TRACE_PNG_WIDTH, PFF_TRACE_PNG_HEIGHT(c->nodes));
        return PFF_EFAIL;
    }
    render_png(&cv, c);
    unsigned char *png = NULL;
    char msg[PFF_ERRLEN] = "";
    int rc = pff_png_encode(cv.px, cv.w, cv.h, 3, &png, &c->png_size, path, msg);
    pff_canvas_free(&cv);
    if (rc) {
        snprintf(err, PFF_ERRLEN, "%s", msg);
        return rc;
    }
    c->png = png;
    rc = write_file(path, emit_png, c, err);
    free(png);
    c->png = NULL;
    return rc;
}

int pff_trace_write_run(const char *path, const pff_span *spans, int nspans, int nodes,
                        double t_end, const pff_trace_info *info, char *err)
{
    err[0] = '\0';
    if (!path || !*path) {
        snprintf(err, PFF_ERRLEN, "trace: no file name given");
        return PFF_EUSAGE;
    }
    if (nodes < 1) {
        snprintf(err, PFF_ERRLEN, "%s: expected at least 1 node, found %d", path, nodes);
        return PFF_EUSAGE;
    }
    if (!spans || nspans < 0) nspans = 0;
    trace_ctx c = {spans, nspans, nodes, effective_end(spans, nspans, nodes, t_end), NULL, 0, info};

    if (strcmp(path, "-") == 0) {
        int colour = isatty(fileno(stdout)) && getenv("NO_COLOR") == NULL;
        pff_gantt_print(stdout, spans, nspans, nodes, c.T, TRACE_TEXT_COLS, colour, "s");
        if (fflush(stdout) != 0 || ferror(stdout)) {
            snprintf(err, PFF_ERRLEN, "-: cannot write the trace to standard output: %s",
                    strerror(errno));
            return PFF_EFAIL;
        }
        return PFF_OK;
    }

    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (dot && strcasecmp(dot, ".json") == 0) return write_file(path, emit_json, &c, err);
    if (dot && strcasecmp(dot, ".txt") == 0) return write_file(path, emit_txt, &c, err);
    if (dot && strcasecmp(dot, ".png") == 0) return write_png(path, &c, err);
    snprintf(err, PFF_ERRLEN, "%s: unknown trace format '%s' (expected a file ending in .json, "
                         ".png or .txt, or - for the terminal)", path, dot ? dot : "");
    return PFF_EUSAGE;
}
