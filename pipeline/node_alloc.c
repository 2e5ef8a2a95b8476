/* pipeline/node_alloc.c — every buffer a node thread touches, allocated
 * before any thread starts (no allocation in the hot loops), and freed after
 * the last join; and what a transport still holds at teardown. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>

#include "run.h"

/* Buffers of many megabytes (the node's copies of the data and its mapped
 * activations) are asked for in 2 MiB pages where the kernel offers them
 * (transparent huge pages in madvise mode): first touch then faults once per
 * 2 MiB instead of once per 4 KiB, which a virtual machine pays dearly. */
static void *xmalloc(size_t n, int *ok)
{
    void *p = NULL;
#ifdef MADV_HUGEPAGE
    const size_t huge = (size_t)2 << 20;
    if (n >= 4 * huge && (p = aligned_alloc(huge, (n + huge - 1) / huge * huge)))
        madvise(p, (n + huge - 1) / huge * huge, MADV_HUGEPAGE); /* advice only */
#endif
    if (!p)
        p = malloc(n ? n : 1);
    if (!p)
        *ok = 0;
    return p;
}

/* Touches one byte of every page of the first n bytes of p, on `threads` threads, so that the
 * kernel's first-touch faults and page zeroing (measured: about a tenth of a one-epoch run of
 * [784,500,500,500] on 60,000 images) happen here, at set-up, once per run, instead of inside
 * the first chapter's timed work. The bytes' values do not matter: every one is written before
 * it is read. */
static void prefault(void *p, size_t n, int threads)
{
    if (!p)
        return;
    const long pages = (long)((n + 4095) / 4096);
    const int T = threads > 1 ? threads : 1;
    (void)T;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (long i = 0; i < pages; i++)
        ((volatile char *)p)[(size_t)i * 4096] = 0;
}

/* Allocates everything a node will touch before any thread starts. */
int pff_node_alloc(run *r, node *nd)
{
    const pff_config *cfg = r->cfg;
    const int L = r->L, single = cfg->run.schedule == PFF_SINGLE_LAYER;
    const long n = nd->n;
    int ok = 1;
    size_t maxp = 0;
    for (int k = 0; k < L; k++)
        if (r->layers[k]->nparam > maxp)
            maxp = r->layers[k]->nparam;
    if (r->head && r->head->nparam > maxp)
        maxp = r->head->nparam;
    if (pff_work_init(&nd->work, 2 * cfg->model.batch, r->wmax, maxp, cfg->run.threads))
        return PFF_EFAIL;
    int first = !single || nd->id == 0 || cfg->run.sl_recompute, last = !single || nd->id == L - 1;
    nd->neg = xmalloc((size_t)n, &ok);
    nd->neg_next = xmalloc((size_t)n, &ok);
    if (first)
        nd->a0 = xmalloc((size_t)2 * n * r->dim * sizeof(float), &ok);
    /* ping-pong buffers for mapping: All Layers, and recomputing Single Layer nodes above 0 */
    int maps = single ? (cfg->run.sl_recompute ? nd->id : 0) : L - 1;
    if (maps >= 1)
        nd->act[0] = xmalloc((size_t)2 * n * r->wmax * sizeof(float), &ok);
    if (maps >= 2)
        nd->act[1] = xmalloc((size_t)2 * n * r->wmax * sizeof(float), &ok);
    /* the parts the chapters will write: the layer-1 inputs, the widest mapped layer below L */
    int wmap = 0;
    for (int k = 1; k < L; k++)
        wmap = cfg->model.widths[k] > wmap ? cfg->model.widths[k] : wmap;
    prefault(nd->a0, (size_t)2 * n * r->dim * sizeof(float), cfg->run.threads);
    for (int b = 0; b < 2; b++)
        prefault(nd->act[b], (size_t)2 * n * wmap * sizeof(float), cfg->run.threads);
    if (!single) {
        nd->shadow = calloc((size_t)L, sizeof *nd->shadow);
        if (!nd->shadow)
            return PFF_EFAIL;
        for (int k = 0; k < L; k++)
            if (!(nd->shadow[k] = pff_layer_new(r->layers[k]->in, r->layers[k]->out)))
                return PFF_EFAIL;
        if (cfg->run.stale_adam) {
            if (!(nd->stale = calloc((size_t)L + 1, sizeof *nd->stale)))
                return PFF_EFAIL;
            for (int k = 0; k <= L; k++) {
                const pff_layer *src = k < L ? r->layers[k] : r->head;
                if (src && !(nd->stale[k] = pff_layer_new(src->in, src->out)))
                    return PFF_EFAIL;
            }
        }
    }
    if (last && r->head) {
        /* the training set's features; --eval-every's logits take the evaluation set's in groups
         * of at least min(its n, PFF_MAP_ROWS) images (pff_head_logits) */
        long frows = n;
        if (cfg->run.eval_every > 0 && cfg->run.eval_set) {
            long e = cfg->run.eval_set->n < PFF_MAP_ROWS ? cfg->run.eval_set->n : PFF_MAP_ROWS;
            frows = e > frows ? e : frows;
        }
        nd->feat = xmalloc((size_t)frows * r->fdim * sizeof(float), &ok);
        nd->fbuf = xmalloc((size_t)cfg->model.batch * r->fdim * sizeof(float), &ok);
    }
    if (last && pff_neg_from_net(cfg->model.neg))
        nd->table = xmalloc((size_t)n * PFF_CLASSES * sizeof(float), &ok);
    if (last && cfg->run.eval_every > 0 && cfg->run.eval_set)
        nd->etable = xmalloc((size_t)cfg->run.eval_set->n * PFF_CLASSES * sizeof(float), &ok);
    /* spans per chapter: per layer wait, train, map, publish (+ a blocked publish), and the tail */
    int chapters = single ? r->S : (r->S + r->N - 1) / r->N;
    nd->cap = chapters * (6 * L + 12) + 16;
    if (pff_inputs_per_epoch(&cfg->model)) /* a train span per epoch, and its maps */
        nd->cap += chapters * (cfg->model.epochs / r->S) * L * (L + 1);
    nd->spans = xmalloc((size_t)nd->cap * sizeof *nd->spans, &ok);
    return ok ? PFF_OK : PFF_EFAIL;
}

void pff_node_free(run *r, node *nd)
{
    pff_work_free(&nd->work);
    free(nd->neg);
    free(nd->neg_next);
    free(nd->a0);
    free(nd->act[0]);
    free(nd->act[1]);
    if (nd->shadow)
        for (int k = 0; k < r->L; k++)
            pff_layer_free(nd->shadow[k]);
    free(nd->shadow);
    if (nd->stale)
        for (int k = 0; k <= r->L; k++)
            pff_layer_free(nd->stale[k]);
    free(nd->stale);
    free(nd->feat);
    free(nd->fbuf);
    free(nd->table);
    free(nd->etable);
    free(nd->own_img);
    free(nd->own_y);
    free(nd->own_index);
    free(nd->spans);
}

/* What a transport still holds at teardown: channels hold layers, buffers,
 * negatives. ctx is the run. */
void pff_drop_item(void *ctx, int chan, void *obj)
{
    run *r = ctx;
    int kind = chan / (r->L + 1);
    if (kind == CH_SNAP || kind >= CH_RSNAP)
        pff_layer_free(obj);
    else if (kind == CH_NEG)
        free(obj);
    /* layers and activation buffers are owned by the run */
}
