/* layers/stage.c — one stage of a chapter: C epochs of one FF layer (or of
 * the softmax head) on inputs that are already mapped through the layers
 * below. Every schedule calls exactly these functions; what differs between
 * schedules is only which thread calls them, and when (DESIGN.md §2).
 *
 * Epoch e of the whole run (e = chapter * C + j) uses the learning rate
 * pff_cooldown(lr, e, E) and the permutation keyed by (seed, stage, e), so
 * the batches are the same whichever thread trains the stage. With
 * --dropout, FF layer k's mask in epoch e is keyed by (seed, k, e, image id)
 * (layers/ff.c), the id being the image's index in the whole training set
 * (a federated shard passes its rows' ids), so it is the same too.
 *
 * Also here, what a stage trains on: the layer-1 inputs of an epoch (label
 * embedded, RMS-normalised; with --augment shift each image first moved by
 * its offset keyed by (seed, e, image)), and the negative labels: drawn, or
 * made from the network's goodness table (adaptive: the argmax, hard: a
 * keyed draw from the softmax, layers/net.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"

/* One batch of a stage in global epoch e: gathers the rows perm[0..rows) and
 * trains on them; returns the batch loss. */
typedef double (*batch_fn)(void *ctx, const int *perm, int rows, float lr, int e);

/* What run_epochs ends with. Named apart from PFF_EFAIL (1) on purpose: a
 * non-finite loss and a failed allocation once shared the value 1, and every
 * non-finite loss was reported as "out of memory". */
typedef enum {
    EPOCHS_DONE = 0,
    EPOCHS_ABORTED = -1,  /* the run's failure flag was raised elsewhere */
    EPOCHS_NONFINITE = 3, /* a batch loss was NaN or infinite (*bad, *bad_epoch) */
    EPOCHS_NOMEM = 4      /* the permutation could not be allocated */
} epochs_rc;

/* Epochs j0..j1-1 of a stage in chapter `chapter`: cooldown, keyed
 * permutation, batches. */
static epochs_rc run_epochs(const pff_model_config *cfg, int stage, int chapter, int j0, int j1,
                            float lr0, long n, const atomic_int *abort, atomic_long *progress,
                            batch_fn batch, void *ctx, double *bad, int *bad_epoch)
{
    const int C = cfg->epochs / cfg->splits, B = cfg->batch;
    int *perm = malloc((size_t)n * sizeof *perm);
    if (!perm)
        return EPOCHS_NOMEM;
    epochs_rc rc = EPOCHS_DONE;
    for (int j = j0; j < j1 && !rc; j++) {
        const int e = chapter * C + j;
        const float lr = pff_cooldown(lr0, e, cfg->epochs);
        pff_permutation(perm, (int)n, cfg->seed, PFF_RNG_SHUFFLE, (uint64_t)stage, (uint64_t)e);
        for (long b0 = 0; b0 < n && !rc; b0 += B) {
            if (abort && atomic_load(abort)) {
                rc = EPOCHS_ABORTED;
                break;
            }
            double loss = batch(ctx, perm + b0, (int)(n - b0 < B ? n - b0 : B), lr, e);
            if (!isfinite(loss)) {
                *bad = loss;
                *bad_epoch = e;
                rc = EPOCHS_NONFINITE;
            } else if (progress) {
                atomic_fetch_add(progress, 1);
            }
        }
    }
    free(perm);
    return rc;
}

typedef struct {
    pff_layer *l;
    pff_work *w;
    const float *a; /* (2n, in) */
    long n;
    const int *index; /* (n) global image ids, NULL: 0..n-1 */
    float theta;
    pff_stage_stats *st;
    pff_ff_reg reg;   /* --dropout, --weight-decay; epoch and ids set per batch */
    int ids[PFF_MAX_BATCH]; /* (rows) the batch's global image ids */
} ff_ctx;

static double ff_batch(void *p, const int *perm, int rows, float lr, int e)
{
    ff_ctx *c = p;
    const int in = c->l->in;
    for (int i = 0; i < rows; i++) { /* positives, then the same images as negatives */
        memcpy(c->w->x + (size_t)i * in, c->a + (size_t)perm[i] * in, (size_t)in * sizeof(float));
        memcpy(c->w->x + (size_t)(rows + i) * in, c->a + (size_t)(c->n + perm[i]) * in,
               (size_t)in * sizeof(float));
    }
    /* the dropout mask is keyed by the image's id in the whole set, never its row in a shard */
    for (int i = 0; i < rows && c->reg.dropout > 0.0f; i++)
        c->ids[i] = c->index ? c->index[perm[i]] : perm[i];
    c->reg.epoch = e;
    return pff_ff_batch(c->l, c->w, c->w->x, rows, c->theta, lr, &c->reg, c->st);
}

int pff_stage_ff(const pff_model_config *cfg, pff_layer *l, int k, int chapter, pff_work *w,
                 const float *a, long n, const int *index, const atomic_int *abort,
                 atomic_long *progress, pff_stage_stats *st, char *err)
{
    return pff_stage_ff_epochs(cfg, l, k, chapter, 0, cfg->epochs / cfg->splits, w, a, n, index,
                               abort, progress, st, err);
}

int pff_stage_ff_epochs(const pff_model_config *cfg, pff_layer *l, int k, int chapter, int j0, int j1,
                        pff_work *w, const float *a, long n, const int *index,
                        const atomic_int *abort, atomic_long *progress, pff_stage_stats *st,
                        char *err)
{
    ff_ctx ctx = {l, w, a, n, index, cfg->threshold * (float)l->out, st,
                  {cfg->dropout, cfg->weight_decay, cfg->seed, k, 0, NULL}, {0}};
    ctx.reg.ids = ctx.ids;
    double bad = 0;
    int bad_epoch = 0;
    epochs_rc rc = run_epochs(cfg, k, chapter, j0, j1, cfg->lr, n, abort, progress, ff_batch, &ctx,
                              &bad, &bad_epoch);
    switch (rc) {
    case EPOCHS_DONE:
        break;
    case EPOCHS_ABORTED:
        return PFF_ABORTED;
    case EPOCHS_NONFINITE:
        snprintf(err, PFF_ERRLEN,
                 "layer %d, chapter %d, epoch %d: loss is not finite (%g); try a smaller --lr "
                 "(now %g)",
                 k + 1, chapter + 1, bad_epoch + 1, bad, (double)cfg->lr);
        return PFF_EFAIL;
    case EPOCHS_NOMEM:
        snprintf(err, PFF_ERRLEN, "layer %d, chapter %d: out of memory", k + 1, chapter + 1);
        return PFF_EFAIL;
    }
    /* a cheap guard at the end of the stage: every parameter still finite */
    for (size_t i = 0; i < l->nparam; i++)
        if (!isfinite(l->slab[i])) {
            snprintf(err, PFF_ERRLEN,
                     "layer %d, chapter %d: weights are not finite; try a smaller --lr (now %g)",
                     k + 1, chapter + 1, (double)cfg->lr);
            return PFF_EFAIL;
        }
    return PFF_OK;
}

typedef struct {
    pff_layer *h;
    pff_work *w;
    const float *feat; /* (n, D) */
    const uint8_t *y;
    float *fbuf;       /* (B, D) */
    uint8_t yb[4096];
    pff_stage_stats *st;
} head_ctx;

static double head_batch(void *p, const int *perm, int rows, float lr, int e)
{
    (void)e;
    head_ctx *c = p;
    const int D = c->h->in;
    for (int i = 0; i < rows; i++) {
        memcpy(c->fbuf + (size_t)i * D, c->feat + (size_t)perm[i] * D, (size_t)D * sizeof(float));
        c->yb[i] = c->y[perm[i]];
    }
    double loss = pff_softmax_batch(c->h, c->w, c->fbuf, c->yb, rows, lr);
    if (c->st && isfinite(loss)) {
        c->st->loss += loss;
        c->st->batches++;
    }
    return loss;
}

int pff_stage_softmax(const pff_model_config *cfg, pff_layer *h, int stage, int chapter, pff_work *w,
                      const float *feat, const uint8_t *y, long n, float *fbuf,
                      const atomic_int *abort, atomic_long *progress, pff_stage_stats *st,
                      char *err)
{
    head_ctx ctx = {h, w, feat, y, fbuf, {0}, st};
    double bad = 0;
    int bad_epoch = 0;
    if (cfg->batch > (int)sizeof ctx.yb) {
        snprintf(err, PFF_ERRLEN, "--batch %d: the softmax head takes at most %zu", cfg->batch,
                 sizeof ctx.yb);
        return PFF_EUSAGE;
    }
    epochs_rc rc = run_epochs(cfg, stage, chapter, 0, cfg->epochs / cfg->splits, cfg->softmax_lr, n, abort, progress,
                              head_batch, &ctx, &bad, &bad_epoch);
    switch (rc) {
    case EPOCHS_DONE:
        return PFF_OK;
    case EPOCHS_ABORTED:
        return PFF_ABORTED;
    case EPOCHS_NONFINITE:
        snprintf(err, PFF_ERRLEN,
                 "softmax head (the stage after layer %d), chapter %d, epoch %d: loss is not "
                 "finite (%g); try a smaller --softmax-lr (now %g)",
                 stage, chapter + 1, bad_epoch + 1, bad, (double)cfg->softmax_lr);
        return PFF_EFAIL;
    case EPOCHS_NOMEM:
        snprintf(err, PFF_ERRLEN, "softmax head, chapter %d: out of memory", chapter + 1);
        return PFF_EFAIL;
    }
    return PFF_EFAIL;
}

void pff_embed_rows(float *out, const float *img, const uint8_t *labels, long n, int dim,
                    int threads)
{
    const int T = threads > 1 ? threads : 1;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (long i = 0; i < n; i++) {
        float *o = out + (size_t)i * dim;
        pff_embed(img + (size_t)i * dim, dim, labels ? labels[i] : PFF_LABEL_NEUTRAL, o);
        pff_rms_normalise(o, dim);
    }
}

void pff_negatives_draw(const pff_model_config *cfg, uint8_t *neg, const uint8_t *y, const int *index,
                        long n, int chapter)
{
    /* fixed: the chapter-0 draw forever; random and adaptive's first chapters: keyed by chapter */
    pff_negatives_random(neg, y, index, n, cfg->seed, cfg->neg == PFF_NEG_FIXED ? 0 : chapter);
}

void pff_negatives_adaptive(uint8_t *neg, const float *table, const uint8_t *y, long n)
{
    for (long i = 0; i < n; i++)
        neg[i] = (uint8_t)pff_table_argmax(table + (size_t)i * PFF_CLASSES, y[i]);
}

void pff_negatives_from_table(const pff_model_config *cfg, uint8_t *neg, const float *table,
                              const uint8_t *y, const int *index, long n, int serves)
{
    if (cfg->neg == PFF_NEG_HARD)
        pff_negatives_hard(neg, table, y, index, n, cfg->seed, serves, cfg->hard_temp);
    else
        pff_negatives_adaptive(neg, table, y, n);
}

/* ---- --augment shift ---- */

void pff_shift_offset(uint64_t seed, int epoch, uint64_t id, int s, int *dx, int *dy)
{
    const uint64_t span = 2 * (uint64_t)s + 1;
    uint64_t h = pff_hash(seed, PFF_RNG_AUGMENT, (uint64_t)epoch, 0, id);
    *dx = (int)(h % span) - s;
    *dy = (int)(h / span % span) - s;
}

void pff_shift_image(const float *src, int side, int dx, int dy, float *dst)
{
    for (int r = 0; r < side; r++) {
        const int sr = r - dy;
        float *d = dst + (size_t)r * side;
        for (int c = 0; c < side; c++) {
            const int sc = c - dx;
            d[c] = sr >= 0 && sr < side && sc >= 0 && sc < side ? src[(size_t)sr * side + sc] : 0.0f;
        }
    }
}

void pff_embed_inputs(const pff_model_config *cfg, float *a, const float *img, const uint8_t *y,
                      const uint8_t *neg, const int *index, long n, int dim, int epoch, int pos,
                      int threads)
{
    if (cfg->augment == PFF_AUGMENT_NONE) {
        if (pos)
            pff_embed_rows(a, img, y, n, dim, threads);
        pff_embed_rows(a + (size_t)n * dim, img, neg, n, dim, threads);
        return;
    }
    const int side = (int)lround(sqrt((double)dim)), s = pff_shift_max(cfg->augment);
    const int T = threads > 1 ? threads : 1;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (long i = 0; i < n; i++) {
        int dx, dy;
        pff_shift_offset(cfg->seed, epoch, index ? (uint64_t)index[i] : (uint64_t)i, s, &dx, &dy);
        float *p = a + (size_t)i * dim, *q = a + (size_t)(n + i) * dim;
        /* shift into the negative row, embed the positive from it, then the negative in place */
        pff_shift_image(img + (size_t)i * dim, side, dx, dy, q);
        pff_embed(q, dim, y[i], p);
        pff_rms_normalise(p, dim);
        pff_embed(q, dim, neg[i], q);
        pff_rms_normalise(q, dim);
    }
}
