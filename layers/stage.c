/* layers/stage.c — one stage of a chapter: C epochs of one FF layer (or of
 * the softmax head) on inputs that are already mapped through the layers
 * below. Every schedule calls exactly these functions; what differs between
 * schedules is only which thread calls them, and when (DESIGN.md §2).
 *
 * Epoch e of the whole run (e = chapter * C + j) uses the learning rate
 * pff_cooldown(lr, e, E) and the permutation keyed by (seed, stage, e), so
 * the batches are the same whichever thread trains the stage. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"

static int aborted(const atomic_int *abort) { return abort && atomic_load(abort); }

int pff_stage_ff(const pff_config *cfg, pff_layer *l, int k, int chapter, pff_work *w,
                 const float *a, long n, const atomic_int *abort, atomic_long *progress,
                 pff_stage_stats *st, char *err)
{
    const int C = cfg->epochs / cfg->splits, B = cfg->batch, in = l->in;
    const float theta = cfg->threshold * (float)l->out;
    int *perm = malloc((size_t)n * sizeof *perm);
    if (!perm) {
        snprintf(err, PFF_ERRLEN, "layer %d, chapter %d: out of memory", k + 1, chapter + 1);
        return PFF_EFAIL;
    }
    for (int j = 0; j < C; j++) {
        const int e = chapter * C + j;
        const float lr = pff_cooldown(cfg->lr, e, cfg->epochs);
        pff_permutation(perm, (int)n, cfg->seed, PFF_RNG_SHUFFLE, (uint64_t)k, (uint64_t)e);
        for (long b0 = 0; b0 < n; b0 += B) {
            if (aborted(abort)) {
                free(perm);
                return -1;
            }
            int rows = (int)(n - b0 < B ? n - b0 : B);
            for (int i = 0; i < rows; i++) {
                long p = perm[b0 + i];
                memcpy(w->x + (size_t)i * in, a + (size_t)p * in, (size_t)in * sizeof(float));
                memcpy(w->x + (size_t)(rows + i) * in, a + (size_t)(n + p) * in,
                       (size_t)in * sizeof(float));
            }
            double loss = pff_ff_batch(l, w, w->x, rows, theta, lr, st);
            if (!isfinite(loss)) {
                snprintf(err, PFF_ERRLEN,
                         "layer %d, chapter %d, epoch %d: loss is not finite (%g); "
                         "try a smaller --lr (now %g)",
                         k + 1, chapter + 1, e + 1, loss, (double)cfg->lr);
                free(perm);
                return PFF_EFAIL;
            }
            if (progress)
                atomic_fetch_add(progress, 1);
        }
    }
    free(perm);
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

int pff_stage_softmax(const pff_config *cfg, pff_layer *h, int stage, int chapter, pff_work *w,
                      const float *feat, const uint8_t *y, long n, float *fbuf,
                      const atomic_int *abort, atomic_long *progress, pff_stage_stats *st,
                      char *err)
{
    const int C = cfg->epochs / cfg->splits, B = cfg->batch, D = h->in;
    int *perm = malloc((size_t)n * sizeof *perm);
    uint8_t yb[4096];
    if (!perm || B > (int)sizeof yb) {
        free(perm);
        snprintf(err, PFF_ERRLEN, "softmax head, chapter %d: out of memory", chapter + 1);
        return PFF_EFAIL;
    }
    for (int j = 0; j < C; j++) {
        const int e = chapter * C + j;
        const float lr = pff_cooldown(cfg->softmax_lr, e, cfg->epochs);
        pff_permutation(perm, (int)n, cfg->seed, PFF_RNG_SHUFFLE, (uint64_t)stage, (uint64_t)e);
        for (long b0 = 0; b0 < n; b0 += B) {
            if (aborted(abort)) {
                free(perm);
                return -1;
            }
            int rows = (int)(n - b0 < B ? n - b0 : B);
            for (int i = 0; i < rows; i++) {
                long p = perm[b0 + i];
                memcpy(fbuf + (size_t)i * D, feat + (size_t)p * D, (size_t)D * sizeof(float));
                yb[i] = y[p];
            }
            double loss = pff_softmax_batch(h, w, fbuf, yb, rows, lr);
            if (!isfinite(loss)) {
                snprintf(err, PFF_ERRLEN,
                         "softmax head, chapter %d, epoch %d: loss is not finite (%g); "
                         "try a smaller --softmax-lr",
                         chapter + 1, e + 1, loss);
                free(perm);
                return PFF_EFAIL;
            }
            if (st) {
                st->loss += loss;
                st->batches++;
            }
            if (progress)
                atomic_fetch_add(progress, 1);
        }
    }
    free(perm);
    return PFF_OK;
}

void pff_embed_rows(float *out, const float *img, const uint8_t *labels, long n, int dim)
{
    for (long i = 0; i < n; i++) {
        float *o = out + (size_t)i * dim;
        pff_embed(img + (size_t)i * dim, dim, labels ? labels[i] : PFF_LABEL_NEUTRAL, o);
        pff_rms_normalise(o, dim);
    }
}

void pff_negatives_draw(const pff_config *cfg, uint8_t *neg, const uint8_t *y, const int *index,
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
