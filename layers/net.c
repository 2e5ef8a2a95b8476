/* layers/net.c — network-level maths: the goodness table over the 10 labels
 * (goodness classifier and adaptive negatives), softmax features and the
 * softmax head, random negatives.
 *
 * Goodness table, chunk of PFF_EVAL_IMAGES images (DESIGN.md §5):
 *   the label only overwrites the first 10 inputs, and a one-hot label adds
 *   exactly 1 to the sum of squares whatever the label, so the RMS of the
 *   input is known before the label is chosen. Layer 1 is therefore one
 *   product per image on the image with its label slots zeroed, plus one
 *   weight column per label:  z(l) = (x0 W1^T + W1[:, l]) / rms + b.
 *   Layers 2..L then run on all (image, label) rows, 10 per image, image-major;
 *   9 when the true label is skipped (negatives need only the wrong labels).
 *   Goodness sums layers 2..L (layer 1 alone when L == 1). */
#include <math.h>
#include <string.h>

#include "layers.h"

/* relu(z + b) in place over rows; adds each row's goodness to gsum[r] when
 * gsum is given, then RMS-normalises the row. */
static void relu_goodness_norm(float *z, int rows, int width, const float *b, float *gsum)
{
    for (int r = 0; r < rows; r++) {
        float *zr = z + (size_t)r * width;
        float s = pff_relu_bias_sumsq(zr, b, width);
        if (gsum)
            gsum[r] += s;
        pff_scale(zr, pff_rms_scale(s, width), width);
    }
}

/* h = (base + wcol) * s: layer 1's pre-activation for one (image, label). */
static void label_row(float *restrict h, const float *restrict base, const float *restrict wcol,
                      float s, int n)
{
#pragma omp simd /* element-wise: the same bits as the scalar loop -O2 would leave */
    for (int j = 0; j < n; j++)
        h[j] = (base[j] + wcol[j]) * s;
}

static void table_chunk(pff_layer *const *layers, int L, int first, float *scratch, int wmax,
                        const float *img, const uint8_t *skip, int nimg, int dim, float *table)
{
    const pff_layer *l1 = layers[0];
    const int w1 = l1->out;
    int slot[PFF_EVAL_IMAGES * PFF_CLASSES]; /* row r of h is table entry slot[r] */
    int R = 0;
    for (int i = 0; i < nimg; i++)
        for (int lab = 0; lab < PFF_CLASSES; lab++)
            if (!skip || lab != skip[i])
                slot[R++] = i * PFF_CLASSES + lab;
    float gsum[PFF_EVAL_IMAGES * PFF_CLASSES];
    float *x0 = scratch;                                   /* (nimg, dim) */
    float *base = x0 + (size_t)PFF_EVAL_IMAGES * wmax;     /* (nimg, w1) */
    float *h = base + (size_t)PFF_EVAL_IMAGES * wmax;      /* (R, wmax) */
    float *h2 = h + (size_t)PFF_EVAL_IMAGES * PFF_CLASSES * wmax; /* (R, wmax) */
    float rscale[PFF_EVAL_IMAGES]; /* 1 / RMS of each image with a one-hot label */
    for (int i = 0; i < nimg; i++) {
        float *xi = x0 + (size_t)i * dim;
        pff_embed(img + (size_t)i * dim, dim, PFF_LABEL_NONE, xi);
        /* the one-hot label adds 1 to the sum of squares */
        rscale[i] = pff_rms_scale(pff_sumsq(xi, dim) + 1.0f, dim);
    }
    /* base = x0 · W1^T */
    pff_matmul(0, 1, nimg, w1, dim, 1.0f, x0, dim, l1->w, dim, 0.0f, base, w1);
    for (int r = 0; r < R; r++)
        gsum[r] = 0.0f;
    float *wcol = x0; /* (10, w1): W1's label columns, contiguous; x0 is no longer needed */
    for (int j = 0; j < w1; j++)
        for (int lab = 0; lab < PFF_CLASSES; lab++)
            wcol[(size_t)lab * w1 + j] = l1->w[(size_t)j * dim + lab];
    for (int r = 0; r < R; r++) {
        int i = slot[r] / PFF_CLASSES, lab = slot[r] % PFF_CLASSES;
        label_row(h + (size_t)r * w1, base + (size_t)i * w1, wcol + (size_t)lab * w1, rscale[i], w1);
    }
    relu_goodness_norm(h, R, w1, l1->b, first == 0 ? gsum : NULL);
    for (int k = 1; k < L; k++) {
        const pff_layer *l = layers[k];
        /* h2 = h · W_k^T, for every (image, label) row */
        pff_matmul(0, 1, R, l->out, l->in, 1.0f, h, l->in, l->w, l->in, 0.0f, h2, l->out);
        relu_goodness_norm(h2, R, l->out, l->b, k >= first ? gsum : NULL);
        float *t = h;
        h = h2;
        h2 = t;
    }
    for (int r = 0; r < nimg * PFF_CLASSES; r++)
        table[r] = 0.0f; /* a skipped (true) label's entry */
    for (int r = 0; r < R; r++)
        table[slot[r]] = gsum[r];
}

void pff_goodness_table(pff_layer *const *layers, int L, int first, pff_work *w,
                        const float *images, long n, int dim, const uint8_t *skip, float *table)
{
    const int T = w->threads;
    const long nchunk = (n + PFF_EVAL_IMAGES - 1) / PFF_EVAL_IMAGES;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (long c = 0; c < nchunk; c++) {
        long i0 = c * PFF_EVAL_IMAGES;
        int nimg = (int)(n - i0 < PFF_EVAL_IMAGES ? n - i0 : PFF_EVAL_IMAGES);
        table_chunk(layers, L, first, pff_work_scratch(w, pff_thread_id()), w->wmax, images + (size_t)i0 * dim,
                    skip ? skip + i0 : NULL, nimg, dim, table + (size_t)i0 * PFF_CLASSES);
    }
}

int pff_table_argmax(const float *row, int exclude)
{
    int best = -1;
    for (int j = 0; j < PFF_CLASSES; j++)
        if (j != exclude && (best < 0 || row[j] > row[best]))
            best = j;
    return best;
}

int pff_feature_dim(pff_layer *const *layers, int L)
{
    if (L == 1)
        return layers[0]->out;
    int d = 0;
    for (int k = 1; k < L; k++)
        d += layers[k]->out;
    return d;
}

static void feature_chunk(pff_layer *const *layers, int L, float *scratch, int wmax, const float *img,
                          int rows, int dim, float *feat, int fdim)
{
    float *x = scratch, *h = x + (size_t)PFF_MAP_ROWS * wmax, *h2 = h + (size_t)PFF_MAP_ROWS * wmax;
    for (int r = 0; r < rows; r++) {
        pff_embed(img + (size_t)r * dim, dim, PFF_LABEL_NEUTRAL, x + (size_t)r * dim);
        pff_rms_normalise(x + (size_t)r * dim, dim);
    }
    int off = 0;
    const float *in = x;
    for (int k = 0; k < L; k++) {
        const pff_layer *l = layers[k];
        /* h = in · W_k^T */
        pff_matmul(0, 1, rows, l->out, l->in, 1.0f, in, l->in, l->w, l->in, 0.0f, h, l->out);
        relu_goodness_norm(h, rows, l->out, l->b, NULL);
        if (k >= 1 || L == 1) {
            for (int r = 0; r < rows; r++)
                memcpy(feat + (size_t)r * fdim + off, h + (size_t)r * l->out, l->out * sizeof(float));
            off += l->out;
        }
        in = h;
        float *t = h;
        h = h2;
        h2 = t;
    }
}

void pff_features(pff_layer *const *layers, int L, pff_work *w, const float *images, long n, int dim,
                  float *feat)
{
    const int T = w->threads, fdim = pff_feature_dim(layers, L);
    const long nchunk = (n + PFF_MAP_ROWS - 1) / PFF_MAP_ROWS;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (long c = 0; c < nchunk; c++) {
        long r0 = c * PFF_MAP_ROWS;
        int rows = (int)(n - r0 < PFF_MAP_ROWS ? n - r0 : PFF_MAP_ROWS);
        feature_chunk(layers, L, pff_work_scratch(w, pff_thread_id()), w->wmax, images + (size_t)r0 * dim,
                      rows, dim, feat + (size_t)r0 * fdim, fdim);
    }
}

void pff_head_logits(pff_layer *const *layers, int L, const pff_layer *head, pff_work *w,
                     const float *images, long n, int dim, float *feat, long rows, float *logits)
{
    /* OpenBLAS's bits depend on a product's row count, so every product here covers the same
     * PFF_MAP_ROWS images whatever `rows` is: pff_features cuts its chunks from the group's start
     * and a group is a whole number of them. */
    const int D = head->in;
    const long group = rows < PFF_MAP_ROWS ? PFF_MAP_ROWS : rows / PFF_MAP_ROWS * PFF_MAP_ROWS;
    for (long i0 = 0; i0 < n; i0 += group) {
        const long m = n - i0 < group ? n - i0 : group;
        pff_features(layers, L, w, images + (size_t)i0 * dim, m, dim, feat);
        for (long r0 = 0; r0 < m; r0 += PFF_MAP_ROWS) {
            const int mr = (int)(m - r0 < PFF_MAP_ROWS ? m - r0 : PFF_MAP_ROWS);
            float *lg = logits + (size_t)(i0 + r0) * PFF_CLASSES;
            /* logits = f · W_head^T, then + b */
            pff_matmul(0, 1, mr, PFF_CLASSES, D, 1.0f, feat + (size_t)r0 * D, D, head->w, D, 0.0f, lg,
                       PFF_CLASSES);
            for (int i = 0; i < mr; i++)
                for (int j = 0; j < PFF_CLASSES; j++)
                    lg[(size_t)i * PFF_CLASSES + j] += head->b[j];
        }
    }
}

/* Softmax head: logits = f W^T + b (B, 10), cross-entropy, backprop into the
 * head only, one Adam step when lr > 0. The gradient is left in w->g. */
double pff_softmax_batch(pff_layer *h, pff_work *w, const float *f, const uint8_t *y, int B, float lr)
{
    const int D = h->in, K = h->out;
    float *lg = w->z; /* (B, K) */
    /* logits = f · W^T */
    pff_matmul(0, 1, B, K, D, 1.0f, f, D, h->w, D, 0.0f, lg, K);
    double loss = 0.0;
    for (int i = 0; i < B; i++) {
        float *r = lg + (size_t)i * K;
        float mx = -INFINITY;
        for (int j = 0; j < K; j++) {
            r[j] += h->b[j];
            if (r[j] > mx)
                mx = r[j];
        }
        double s = 0.0;
        for (int j = 0; j < K; j++)
            s += exp((double)(r[j] - mx));
        loss += log(s) + mx - r[y[i]];
        for (int j = 0; j < K; j++)
            r[j] = (float)(exp((double)(r[j] - mx)) / s / B) - (j == y[i] ? 1.0f / B : 0.0f);
    }
    loss /= B;
    if (!isfinite(loss))
        return loss;
    float *gw = w->g, *gb = w->g + (size_t)K * D;
    /* gW = dlogits^T · f */
    pff_matmul(1, 0, K, D, B, 1.0f, lg, K, f, D, 0.0f, gw, D);
    for (int j = 0; j < K; j++) {
        gb[j] = 0.0f;
        for (int i = 0; i < B; i++)
            gb[j] += lg[(size_t)i * K + j];
    }
    if (lr > 0.0f) {
        h->step++;
        float bc1 = 1.0f - powf(PFF_ADAM_B1, (float)h->step);
        float bc2 = 1.0f - powf(PFF_ADAM_B2, (float)h->step);
        pff_adam(h->slab, h->m, h->v, w->g, h->nparam, lr, bc1, bc2, 0.0f);
    }
    return loss;
}

/* Uniform among the 9 wrong classes, keyed by (seed, chapter, image index). */
void pff_negatives_random(uint8_t *neg, const uint8_t *y, const int *index, long n, uint64_t seed,
                          int chapter)
{
    for (long i = 0; i < n; i++) {
        uint64_t id = index ? (uint64_t)index[i] : (uint64_t)i;
        int r = (int)(pff_hash(seed, PFF_RNG_NEG, (uint64_t)chapter, 0, id) % (PFF_CLASSES - 1));
        neg[i] = (uint8_t)(r >= y[i] ? r + 1 : r);
    }
}

/* --neg hard: the softmax of the goodness table over the 9 wrong labels, at
 * temperature temp, sampled with one keyed uniform draw per image. The
 * logits are shifted by their maximum so exp never overflows; the arithmetic
 * is in double and row by row, so the draw does not depend on the thread. */
void pff_negatives_hard(uint8_t *neg, const float *table, const uint8_t *y, const int *index,
                        long n, uint64_t seed, int chapter, float temp)
{
    for (long i = 0; i < n; i++) {
        const float *row = table + (size_t)i * PFF_CLASSES;
        const int truth = y[i], best = pff_table_argmax(row, truth);
        double p[PFF_CLASSES], sum = 0.0;
        for (int j = 0; j < PFF_CLASSES; j++) {
            p[j] = j == truth ? 0.0 : exp(((double)row[j] - row[best]) / temp);
            sum += p[j];
        }
        uint64_t id = index ? (uint64_t)index[i] : (uint64_t)i;
        double u = pff_uniform(pff_hash(seed, PFF_RNG_NEG, (uint64_t)chapter, 1, id)) * sum;
        int pick = best; /* rounding at the top end: the most preferred wrong label */
        for (int j = 0; j < PFF_CLASSES; j++) {
            if (j == truth || p[j] <= 0.0)
                continue;
            if (u < p[j]) {
                pick = j;
                break;
            }
            u -= p[j];
        }
        neg[i] = (uint8_t)pick;
    }
}
