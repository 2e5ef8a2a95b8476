/* draw/pictures.c — the pictures of `pff show` and `pff eval --confusion` (pictures.h), drawn
 * on the one canvas (canvas.h) and written as PNG with pff_png_write (atomic: temp file, fsync,
 * rename):
 *   weights    first-layer receptive fields, one grey tile per unit, each scaled to its own range
 *   curves     the training log's loss, goodness and test accuracy against the chapter
 *   accuracy   test accuracy against training seconds (log scale), several runs and references
 *   digit      one image of an IDX set, grey
 *   confusion  the confusion matrix as a heat map
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pff.h"
#include "../layers/layers.h"
#include "canvas.h"
#include "../data/image.h"
#include "pictures.h"

static const pff_rgb WHITE = {255, 255, 255}, BLACK = {0, 0, 0}, GRID = {225, 225, 225},
                     AXIS = {90, 90, 90}, TEXT = {30, 30, 30};
/* One colour per layer or curve, as many as there can be (PFF_MAX_LAYERS, PFF_ACC_MAX_CURVES):
 * eight strong ones, then eight darker ones. */
enum { NCOLOURS = 16 };
static const pff_rgb PALETTE[NCOLOURS] = {
    {31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},  {148, 103, 189}, {140, 86, 75},
    {227, 119, 194}, {127, 127, 127}, {23, 60, 110}, {160, 80, 0},   {20, 90, 20},    {130, 20, 20},
    {85, 50, 120},   {80, 45, 35},    {150, 40, 110}, {60, 60, 60}};
_Static_assert((int)NCOLOURS >= (int)PFF_MAX_LAYERS && (int)NCOLOURS >= (int)PFF_ACC_MAX_CURVES, "a colour each");

/* ------------------------------------------------------------------------ */
/* pff show --weights                                                       */

int pff_picture_weights(const pff_layer *l, const char *path, long units, long scale, char *msg,
                        char *err)
{
    const int dim = l->in, side = pff_square_side(dim);
    if (!side) {
        snprintf(err, PFF_ERRLEN, "--weights: the model's input width %d is not a square image "
                 "(expected e.g. 784 = 28x28)", dim);
        return PFF_EUSAGE;
    }
    const int n = units < l->out ? (int)units : l->out;
    int cols = (int)ceil(sqrt((double)n)), rows = (n + cols - 1) / cols;
    const int t = side * (int)scale, W = cols * (t + 1) + 1, H = rows * (t + 1) + 1;
    pff_canvas c;
    if (pff_canvas_new(&c, W, H, (pff_rgb){70, 130, 180})) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory for a %dx%d picture", path, W, H);
        return PFF_EFAIL;
    }
    /* the first PFF_CLASSES inputs hold the label, not the image: they are
     * left out of each tile's range (and clamped to it) */
    const int skip = dim > 2 * PFF_CLASSES ? PFF_CLASSES : 0;
    for (int u = 0; u < n; u++) {
        const float *w = l->w + (size_t)u * dim;
        float lo = INFINITY, hi = -INFINITY;
        for (int i = skip; i < dim; i++) {
            lo = w[i] < lo ? w[i] : lo;
            hi = w[i] > hi ? w[i] : hi;
        }
        const float span = hi > lo ? hi - lo : 1.0f;
        const int x0 = 1 + (u % cols) * (t + 1), y0 = 1 + (u / cols) * (t + 1);
        for (int i = 0; i < dim; i++) {
            float v = (w[i] - lo) / span;
            v = v < 0 ? 0 : v > 1 ? 1 : v;
            unsigned char g = (unsigned char)lroundf(255.0f * v);
            int px = x0 + (i % side) * (int)scale, py = y0 + (i / side) * (int)scale;
            pff_canvas_fill(&c, px, py, px + (int)scale, py + (int)scale, (pff_rgb){g, g, g});
        }
    }
    int rc = pff_png_write(path, c.px, W, H, 3, err);
    pff_canvas_free(&c);
    if (!rc)
        snprintf(msg, PFF_ERRLEN, "wrote %s: %d receptive fields of layer 1 (%d of %d units, "
                 "%dx%d grid, %dx%d px)", path, n, n, l->out, cols, rows, W, H);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* pff show --curves: the training log                                      */

/* 1, 2 or 5 times a power of ten, near span / n. */
static double nice_step(double span, int n)
{
    double raw = span / n, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

/* A chart's frame: the box (x0, y0, w, h) on the canvas and the ranges it shows, x on a log
 * scale when logx (then xmin and xmax are powers: log10 of the seconds). */
typedef struct {
    int x0, y0, w, h;
    double xmin, xmax, ymin, ymax;
    int logx;
} frame;

static int frame_x(const frame *f, double v)
{
    double t = f->logx ? log10(v) : v;
    return f->x0 + (int)lround((t - f->xmin) / (f->xmax - f->xmin) * (f->w - 1));
}

static int frame_y(const frame *f, double v)
{
    return f->y0 + f->h - 1 - (int)lround((v - f->ymin) / (f->ymax - f->ymin) * (f->h - 1));
}

/* How many steps of `step` after `from` a grid draws up to `to` (beyond it by `slack` steps at
 * most); -1 when none. Counted, never stepped: a step below the spacing of doubles near `from`
 * would never reach the end. At most 1000. */
static int grid_steps(double from, double to, double step, double slack)
{
    double k = floor((to - from) / step + slack);
    return k >= 0 ? (int)fmin(k, 1000) : -1; /* NaN (a step of 0 or infinity): no line */
}

/* A grid line every ys from ymin to ymax, each labelled at the left (-0 is written 0). */
static void frame_ygrid(pff_canvas *c, const frame *f, double ys)
{
    char buf[32];
    for (int i = 0, n = grid_steps(f->ymin, f->ymax, ys, 0.5); i <= n; i++) {
        const double v = f->ymin + i * ys;
        double t = fabs(v) < ys * 1e-9 ? 0 : v;
        int py = frame_y(f, t);
        pff_canvas_fill(c, f->x0, py, f->x0 + f->w, py + 1, GRID);
        snprintf(buf, sizeof buf, "%.4g", t);
        pff_canvas_text(c, f->x0 - 8 - pff_canvas_text_width(buf, 1), py - 3, 1, TEXT, buf);
    }
}

/* The x axis along the bottom and the y axis along the left. */
static void frame_axes(pff_canvas *c, const frame *f)
{
    pff_canvas_fill(c, f->x0, f->y0 + f->h - 1, f->x0 + f->w, f->y0 + f->h, AXIS);
    pff_canvas_fill(c, f->x0, f->y0, f->x0 + 1, f->y0 + f->h, AXIS);
}

typedef struct {
    const double *y; /* value of point i at y[i * stride] */
    int stride, dashed;
    pff_rgb col;
} series;

/* One chart in the box (x0, y0, w, h) of the canvas: grid, ticks, series. */
static void chart(pff_canvas *c, int x0, int y0, int w, int h, const char *title, const double *x,
                  int n, const series *s, int ns)
{
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < n; i++) {
        xmin = x[i] < xmin ? x[i] : xmin;
        xmax = x[i] > xmax ? x[i] : xmax;
        for (int k = 0; k < ns; k++) {
            double v = s[k].y[(size_t)i * s[k].stride];
            if (isfinite(v)) {
                ymin = v < ymin ? v : ymin;
                ymax = v > ymax ? v : ymax;
            }
        }
    }
    if (!(ymin <= ymax))
        ymin = 0, ymax = 1;
    if (ymax - ymin < 1e-12 * (fabs(ymax) + 1)) {
        double d = fabs(ymax) > 0 ? 0.1 * fabs(ymax) : 1;
        ymin -= d;
        ymax += d;
    }
    if (xmax <= xmin)
        xmin -= 1, xmax += 1;
    double ys = nice_step(ymax - ymin, 5), xs = nice_step(xmax - xmin, 10);
    ymin = floor(ymin / ys) * ys;
    ymax = ceil(ymax / ys) * ys;
    if (xs < 1)
        xs = 1;
    pff_canvas_text(c, x0, y0 - 22, 2, TEXT, title);
    const frame f = {x0, y0, w, h, xmin, xmax, ymin, ymax, 0};
    frame_ygrid(c, &f, ys);
    char buf[32];
    const double x1 = ceil(xmin / xs) * xs;
    for (int i = 0, nx = grid_steps(x1, xmax, xs, 0.01); i <= nx; i++) {
        const double v = x1 + i * xs;
        int px = frame_x(&f, v);
        pff_canvas_fill(c, px, y0, px + 1, y0 + h, GRID);
        snprintf(buf, sizeof buf, "%.4g", v);
        pff_canvas_text(c, px - pff_canvas_text_width(buf, 1) / 2, y0 + h + 6, 1, TEXT, buf);
    }
    frame_axes(c, &f);
    for (int k = 0; k < ns; k++) {
        int px = 0, py = 0, prev = 0;
        for (int i = 0; i < n; i++) {
            double v = s[k].y[(size_t)i * s[k].stride];
            if (!isfinite(v))
                continue; /* an empty field: the line joins its neighbours */
            int qx = frame_x(&f, x[i]), qy = frame_y(&f, v);
            if (prev)
                pff_canvas_line(c, px, py, qx, qy, s[k].col, s[k].dashed);
            pff_canvas_fill(c, qx - 2, qy - 2, qx + 3, qy + 3, s[k].col);
            px = qx, py = qy, prev = 1;
        }
    }
}

int pff_picture_curves(const pff_train_log *lg, const char *source, const char *path, char *msg,
                       char *err)
{
    const pff_train_log g = *lg;
    const int L = g.L, panels = 1 + g.has_g + g.has_acc;
    const int left = 80, cw = 640, right = 170, ph = 220, gap = 70, top = 60;
    const int W = left + cw + right, H = top + panels * (ph + gap) + 10;
    pff_canvas c;
    if (pff_canvas_new(&c, W, H, WHITE)) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
        return PFF_EFAIL;
    }
    char buf[64], acc[32];
    snprintf(acc, sizeof acc, "%s accuracy", g.acc_set ? g.acc_set : "test");
    snprintf(buf, sizeof buf, "training curves: %d chapter%s, %d layer%s", g.rows,
             g.rows == 1 ? "" : "s", L, L == 1 ? "" : "s");
    pff_canvas_text(&c, left, 12, 2, BLACK, buf);
    series s[2 * PFF_MAX_LAYERS];
    memset(s, 0, sizeof s);
    int y = top;
    /* loss per layer */
    for (int k = 0; k < L; k++)
        s[k] = (series){g.loss + k, L, 0, PALETTE[k % NCOLOURS]};
    chart(&c, left, y, cw, ph, "loss per layer", g.chapter, g.rows, s, L);
    for (int k = 0; k < L; k++) {
        int ly = y + 4 + 16 * k;
        pff_canvas_fill(&c, left + cw + 20, ly + 3, left + cw + 44, ly + 5, PALETTE[k % NCOLOURS]);
        snprintf(buf, sizeof buf, "L%d", k + 1);
        pff_canvas_text(&c, left + cw + 52, ly, 1, TEXT, buf);
    }
    y += ph + gap;
    if (g.has_g) { /* goodness of positives (solid) and negatives (dashed) */
        for (int k = 0; k < L; k++) {
            s[2 * k] = (series){g.gpos + k, L, 0, PALETTE[k % NCOLOURS]};
            s[2 * k + 1] = (series){g.gneg + k, L, 1, PALETTE[k % NCOLOURS]};
        }
        chart(&c, left, y, cw, ph, "goodness per layer: G+ solid, G- dashed", g.chapter, g.rows, s,
              2 * L);
        for (int k = 0; k < L; k++) {
            int ly = y + 4 + 16 * k;
            pff_canvas_line(&c, left + cw + 20, ly + 3, left + cw + 44, ly + 3, PALETTE[k % NCOLOURS], 0);
            pff_canvas_line(&c, left + cw + 20, ly + 9, left + cw + 44, ly + 9, PALETTE[k % NCOLOURS], 1);
            snprintf(buf, sizeof buf, "L%d G+ G-", k + 1);
            pff_canvas_text(&c, left + cw + 52, ly + 2, 1, TEXT, buf);
        }
        y += ph + gap;
    }
    if (g.has_acc) {
        s[0] = (series){g.acc, 1, 0, PALETTE[3]};
        snprintf(buf, sizeof buf, "%s (%%)", acc);
        chart(&c, left, y, cw, ph, buf, g.chapter, g.rows, s, 1);
        y += ph + gap;
    }
    pff_canvas_text(&c, left + cw / 2 - pff_canvas_text_width("chapter", 2) / 2, y - gap + 26, 2,
                    TEXT, "chapter");
    int rc = pff_png_write(path, c.px, W, H, 3, err);
    pff_canvas_free(&c);
    if (!rc)
        snprintf(msg, PFF_ERRLEN, "wrote %s: %d chapters of %s (loss%s%s%s, %dx%d px)", path, g.rows,
                 source, g.has_g ? ", goodness" : "", g.has_acc ? ", " : "", g.has_acc ? acc : "", W, H);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* pff show --accuracy: test accuracy against seconds, several runs        */

/* A line at every 1..9 times each power of ten, the powers darker, labelled at 1, 2 and 5. */
static void accuracy_xgrid(pff_canvas *c, const frame *f)
{
    char buf[32];
    for (double d = f->xmin; d <= f->xmax + 1e-9; d++)
        for (int m = 1; m < 10; m++) {
            double v = pow(10, d) * m;
            if (log10(v) > f->xmax + 1e-9)
                break;
            int px = frame_x(f, v);
            pff_canvas_fill(c, px, f->y0, px + 1, f->y0 + f->h, m == 1 ? AXIS : GRID);
            if (m == 1 || m == 2 || m == 5) {
                snprintf(buf, sizeof buf, "%g", v);
                pff_canvas_text(c, px - pff_canvas_text_width(buf, 1) / 2, f->y0 + f->h + 6, 1, TEXT,
                                buf);
            }
        }
}

/* Curve i in colour col: open squares (reference points), or a line through dots, dashed for a
 * reference; then its legend line at the right: the name and the last figure (and "(val)" for
 * a validation curve among test ones: mixed). */
static void accuracy_curve(pff_canvas *c, const frame *f, const pff_acc_curve *cv, int i, pff_rgb col,
                           int mixed)
{
    int px = 0, py = 0;
    for (int j = 0; j < cv->n; j++) {
        int qx = frame_x(f, cv->x[j]), qy = frame_y(f, fmax(cv->y[j], f->ymin));
        if (cv->points) {
            pff_canvas_fill(c, qx - 5, qy - 5, qx + 6, qy - 3, col);
            pff_canvas_fill(c, qx - 5, qy + 4, qx + 6, qy + 6, col);
            pff_canvas_fill(c, qx - 5, qy - 5, qx - 3, qy + 6, col);
            pff_canvas_fill(c, qx + 4, qy - 5, qx + 6, qy + 6, col);
            continue;
        }
        if (j)
            pff_canvas_line(c, px, py, qx, qy, col, cv->reference);
        pff_canvas_fill(c, qx - 2, qy - 2, qx + 3, qy + 3, col);
        px = qx, py = qy;
    }
    const int lx = f->x0 + f->w, ly = f->y0 + 6 + 18 * i;
    if (cv->points) {
        pff_canvas_fill(c, lx + 24, ly - 1, lx + 35, ly + 10, col);
        pff_canvas_fill(c, lx + 26, ly + 1, lx + 33, ly + 8, WHITE);
    } else {
        pff_canvas_line(c, lx + 16, ly + 4, lx + 42, ly + 4, col, cv->reference);
    }
    char buf[96];
    snprintf(buf, sizeof buf, "%.30s %.2f%%%s", cv->name, cv->y[cv->n - 1],
             mixed && cv->val ? " (val)" : "");
    pff_canvas_text(c, lx + 50, ly + 1, 1, TEXT, buf);
}

/* Accuracy (y, percent) against seconds (x, log scale): pff's runs as solid
 * lines, reference curves dashed, reference points as open squares. */
int pff_picture_accuracy(const char *path, const pff_acc_curve *cv, int n, char *msg, char *err)
{
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    int points = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < cv[i].n; j++) {
            xmin = fmin(xmin, cv[i].x[j]), xmax = fmax(xmax, cv[i].x[j]);
            ymin = fmin(ymin, cv[i].y[j]), ymax = fmax(ymax, cv[i].y[j]);
            points++;
        }
    /* x: whole decades around the data; y: a grid step below the lowest point (0 at least) to 100
     * at most */
    double lx0 = floor(log10(xmin)), lx1 = ceil(log10(xmax));
    if (lx1 <= lx0)
        lx1 = lx0 + 1;
    double y1 = fmin(100, ceil(ymax + 0.25)), y0 = floor(ymin - 0.25);
    if (y1 - y0 < 1)
        y0 = y1 - 1;
    double ys = nice_step(y1 - y0, 8);
    y0 = fmax(0, floor(y0 / ys) * ys); /* no accuracy below 0% */
    const int left = 70, top = 50, cw = 720, ch = 440, right = 300, H = top + ch + 60;
    const int W = left + cw + right;
    const frame f = {left, top, cw, ch, lx0, lx1, y0, y1, 1};
    pff_canvas c;
    if (pff_canvas_new(&c, W, H, WHITE)) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
        return PFF_EFAIL;
    }
    int vals = 0;
    for (int i = 0; i < n; i++)
        vals += cv[i].val;
    pff_canvas_text(&c, left, 14, 2, BLACK,
                    vals == 0   ? "test accuracy against training time"
                    : vals == n ? "validation accuracy against training time"
                                : "test and validation accuracy against training time");
    frame_ygrid(&c, &f, ys);
    accuracy_xgrid(&c, &f);
    frame_axes(&c, &f);
    const char *xlabel = "training seconds (log scale)";
    pff_canvas_text(&c, left + cw / 2 - pff_canvas_text_width(xlabel, 2) / 2, top + ch + 26, 2, TEXT,
                    xlabel);
    pff_canvas_text(&c, 8, top - 16, 1, TEXT, "accuracy %");
    for (int i = 0; i < n; i++)
        accuracy_curve(&c, &f, &cv[i], i, PALETTE[i % NCOLOURS], vals > 0 && vals < n);
    int rc = pff_png_write(path, c.px, W, H, 3, err);
    pff_canvas_free(&c);
    if (!rc)
        snprintf(msg, PFF_ERRLEN, "wrote %s: %d curve%s, %d points, %.4g..%.4g s (%dx%d px)", path,
                 n, n == 1 ? "" : "s", points, xmin, xmax, W, H);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* pff show --digit                                                         */

int pff_picture_digit(const float *x, int side, int scale, const char *path, char *err)
{
    const int S = side * scale;
    unsigned char *px = malloc((size_t)S * S);
    if (!px) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
        return PFF_EFAIL;
    }
    for (int yy = 0; yy < S; yy++)
        for (int xx = 0; xx < S; xx++) {
            float v = x[(yy / scale) * side + xx / scale];
            px[(size_t)yy * S + xx] = (unsigned char)lroundf(255.0f * (v < 0 ? 0 : v > 1 ? 1 : v));
        }
    int rc = pff_png_write(path, px, S, S, 1, err);
    free(px);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* pff eval --confusion                                                     */

int pff_picture_confusion(const char *png_path, long cnt[PFF_CLASSES][PFF_CLASSES],
                          const long *row, long right, int n, char *err)
{
    enum { K = PFF_CLASSES };
    const int cell = 44, left = 90, top = 100, W = left + K * cell + 30, H = top + K * cell + 20;
    pff_canvas c;
    if (pff_canvas_new(&c, W, H, WHITE)) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", png_path);
        return PFF_EFAIL;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "confusion: %d images, %.2f%%", n, n ? 100.0 * right / n : 0.0);
    pff_canvas_text(&c, 10, 10, 2, BLACK, buf);
    pff_canvas_text(&c, left + K * cell / 2 - pff_canvas_text_width("predicted", 2) / 2, 46, 2, TEXT,
                    "predicted");
    pff_canvas_text(&c, 10, top + K * cell / 2 - 8, 2, TEXT, "true");
    for (int j = 0; j < K; j++) {
        snprintf(buf, sizeof buf, "%d", j);
        pff_canvas_text(&c, left + j * cell + cell / 2 - 5, top - 22, 2, TEXT, buf);
        pff_canvas_text(&c, left - 20, top + j * cell + cell / 2 - 7, 2, TEXT, buf);
    }
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            double t = row[i] ? sqrt((double)cnt[i][j] / row[i]) : 0;
            pff_rgb col = {(unsigned char)lround(255 - t * (255 - 8)),
                       (unsigned char)lround(255 - t * (255 - 48)),
                       (unsigned char)lround(255 - t * (255 - 107))};
            int x0 = left + j * cell, y0 = top + i * cell;
            pff_canvas_fill(&c, x0, y0, x0 + cell, y0 + cell, col);
            snprintf(buf, sizeof buf, "%ld", cnt[i][j]);
            int tw = pff_canvas_text_width(buf, 1);
            if (tw <= cell - 4)
                pff_canvas_text(&c, x0 + (cell - tw) / 2, y0 + cell / 2 - 3, 1,
                                cnt[i][j] == 0 ? (pff_rgb){190, 190, 190} : t > 0.55 ? WHITE : BLACK,
                                buf);
        }
    for (int i = 0; i <= K; i++) { /* cell borders */
        pff_canvas_fill(&c, left, top + i * cell, left + K * cell + 1, top + i * cell + 1, GRID);
        pff_canvas_fill(&c, left + i * cell, top, left + i * cell + 1, top + K * cell + 1, GRID);
    }
    int rc = pff_png_write(png_path, c.px, W, H, 3, err);
    pff_canvas_free(&c);
    return rc;
}
