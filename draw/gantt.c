/* draw/gantt.c - the text Gantt chart of a list of spans (see gantt.h): one row per node, a block
 * per span labelled as wide as it allows ("[L1c2]", "[L1]", "[1]", "1"), a time axis with round
 * ticks and a legend of what the chart shows. `pff schedule` draws its plan with it, a training
 * run's trace its measured spans (`--trace FILE.txt`, `--trace -`).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "gantt.h"

#include <math.h>
#include <string.h>

static double dmax(double a, double b) { return a > b ? a : b; }

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

/* One node's row of W cells: waits first, then every span at least one column wide (its label
 * and colour), then spans narrower than a column, into idle cells only. */
static void node_row(const pff_span *spans, int nspans, int nodes, int node, double t_end,
                     double scale, int W, char *cells, unsigned char *col)
{
    memset(cells, '.', (size_t)W);
    memset(col, COL_IDLE, (size_t)W);
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
}

/* The time axis's step, m x 10^e with m = 1, 2 or 5: the smallest that leaves room for the
 * labels. The step is at least t_end / W (one column), so e starts near log10(t_end / W); a
 * label needs at most ~25 columns, so a handful of decades always suffices. Returns 0 when
 * none fits (no ticks then). */
static int tick_step(double t_end, int W, double scale, int *m, int *e)
{
    static const int ms[3] = {1, 2, 5};
    int e0 = (int)floor(log10(t_end / (double)W)) - 1;
    for (int ee = e0; ee <= e0 + 8; ee++) {
        for (int mi = 0; mi < 3; mi++) {
            double st = ms[mi] * pow(10.0, ee);
            if (!(st > 0.0) || t_end / st > (double)W) continue;
            char buf[64];
            long last = (long)floor(t_end / st + 1e-9);
            fmt_tick(buf, sizeof buf, last, ms[mi], ee);
            double need = (double)strlen(buf) + 2.0;
            if (need < 5.0) need = 5.0;
            if (st * scale >= need) {
                *m = ms[mi];
                *e = ee;
                return 1;
            }
        }
    }
    return 0;
}

/* The time axis: the tick for time t under column P + 1 + col(t), so a block's tick sits under
 * its first character and t_end under the closing bar; its labels on the line below. */
static void print_axis(FILE *f, double t_end, int W, double scale, int P, const char *time_unit)
{
    int m = 1, e = 0;
    const int found = tick_step(t_end, W, scale, &m, &e);
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
}

/* The legend: only the kinds of span the chart shows. */
static void print_legend(FILE *f, const int *present, int max_layer, int P, int use_color)
{
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
        node_row(spans, nspans, nodes, node, t_end, scale, W, cells, col);
        fprintf(f, "node %*d |", digits, node + 1);
        print_cells(f, cells, col, W, use_color);
        fputs("|\n", f);
    }
    print_axis(f, t_end, W, scale, P, time_unit);
    print_legend(f, present, max_layer, P, use_color);
}
