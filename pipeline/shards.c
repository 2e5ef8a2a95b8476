/* pipeline/shards.c — cuts of the training set by keyed draws. Federated: which image goes to
 * which node (pff_train's own cut, and pff_federated_keep_shard for a rank that loads only its
 * shard over MPI); both cut the same keyed shards. --val: which images are held out for
 * validation (pff_dataset_hold_out), before any shard is cut. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

/* Federated shards: disjoint and covering. iid: a keyed permutation cut into
 * N runs. label-skew: an image of class y goes to node y mod N with
 * probability 0.8, otherwise to a node drawn uniformly. */
static int label_skew_shard(const pff_config *cfg, int N, int i, int y)
{
    if (pff_uniform(pff_hash(cfg->model.seed, PFF_RNG_SHARD, 0, 0, (uint64_t)i)) < 0.8f)
        return y % N;
    return (int)(pff_hash(cfg->model.seed, PFF_RNG_SHARD, 1, 0, (uint64_t)i) % (uint64_t)N);
}

/* Which shard each image of d goes to (*shard_out, n) and how many each gets
 * (*count_out, N), both malloc'd; PFF_EUSAGE when a shard is smaller than a
 * batch (nothing is returned then). */
static int assign_shards(const pff_config *cfg, int N, const pff_dataset *d, int **shard_out,
                         int **count_out, char *err)
{
    int *perm = malloc((size_t)d->n * sizeof *perm), *pos = malloc((size_t)d->n * sizeof *pos);
    int *count = calloc((size_t)N, sizeof *count), *shard = malloc((size_t)d->n * sizeof *shard);
    if (!perm || !pos || !count || !shard) {
        free(perm), free(pos), free(count), free(shard);
        snprintf(err, PFF_ERRLEN, "out of memory while cutting %d shards", N);
        return PFF_EFAIL;
    }
    pff_permutation(perm, d->n, cfg->model.seed, PFF_RNG_SHARD, 2, 0);
    for (int i = 0; i < d->n; i++)
        pos[perm[i]] = i;
    for (int i = 0; i < d->n; i++) {
        /* iid: position in the permutation decides the shard */
        shard[i] = cfg->run.shards == PFF_SHARDS_IID ? (int)((long)pos[i] * N / d->n)
                                                 : label_skew_shard(cfg, N, i, d->y[i]);
        count[shard[i]]++;
    }
    free(perm), free(pos);
    for (int s = 0; s < N; s++)
        if (count[s] < cfg->model.batch) {
            snprintf(err, PFF_ERRLEN,
                     "--nodes %d: shard %d holds %d images, fewer than one batch (%d)", N, s + 1,
                     count[s], cfg->model.batch);
            free(count), free(shard);
            return PFF_EUSAGE;
        }
    *shard_out = shard;
    *count_out = count;
    return PFF_OK;
}

int pff_make_shards(run *r, const pff_dataset *d, char *err)
{
    const int N = r->N, dim = d->dim;
    int *count, *shard, rc = assign_shards(r->cfg, N, d, &shard, &count, err);
    if (rc)
        return rc;
    for (int s = 0; s < N; s++) {
        node *nd = &r->nodes[s];
        nd->n = 0;
        nd->own_img = malloc((size_t)count[s] * dim * sizeof(float));
        nd->own_y = malloc((size_t)count[s]);
        nd->own_index = malloc((size_t)count[s] * sizeof(int));
        if (!nd->own_img || !nd->own_y || !nd->own_index) {
            free(count), free(shard);
            snprintf(err, PFF_ERRLEN, "out of memory while cutting %d shards", N);
            return PFF_EFAIL;
        }
    }
    for (int i = 0; i < d->n; i++) {
        node *nd = &r->nodes[shard[i]];
        memcpy(nd->own_img + (size_t)nd->n * dim, d->x + (size_t)i * dim, dim * sizeof(float));
        nd->own_y[nd->n] = d->y[i];
        nd->own_index[nd->n] = i;
        nd->n++;
    }
    for (int s = 0; s < N; s++) {
        r->nodes[s].img = r->nodes[s].own_img;
        r->nodes[s].y = r->nodes[s].own_y;
        r->nodes[s].index = r->nodes[s].own_index;
    }
    free(count), free(shard);
    return PFF_OK;
}

int pff_federated_keep_shard(const pff_config *cfg, pff_dataset *d, int which, char *err)
{
    const int N = cfg->run.nodes, dim = d->dim;
    int *count, *shard, rc = assign_shards(cfg, N, d, &shard, &count, err);
    if (rc)
        return rc;
    int *index = malloc((size_t)(count[which] ? count[which] : 1) * sizeof *index);
    if (!index) {
        free(count), free(shard);
        snprintf(err, PFF_ERRLEN, "out of memory while cutting %d shards", N);
        return PFF_EFAIL;
    }
    /* the shard's rows keep their order: the same rows, in the same order, as pff_train cuts */
    int m = 0;
    for (int i = 0; i < d->n; i++)
        if (shard[i] == which) {
            memmove(d->x + (size_t)m * dim, d->x + (size_t)i * dim, dim * sizeof(float));
            d->y[m] = d->y[i];
            index[m++] = i;
        }
    float *x = realloc(d->x, (size_t)m * dim * sizeof(float));
    if (x)
        d->x = x;
    d->total = d->n;
    d->n = m;
    d->index = index;
    free(count), free(shard);
    return PFF_OK;
}

/* --val N: the N images of train whose keyed draw pff_hash(PFF_VAL_KEY, PFF_RNG_VAL, 0, 0, i) is
 * smallest (i: the image's place in train, ties to the lower i), in their order, move to val; the
 * others stay in train, in their order. The key is fixed, not --seed: every seed, schedule and
 * MPI rank holds out the same images, so runs chosen between see the same validation set. */
#define PFF_VAL_KEY 0x76616c69646174ull /* "validat" */
typedef struct {
    uint64_t h;
    int i;
} val_key;

static int val_key_cmp(const void *a, const void *b)
{
    const val_key *x = a, *y = b;
    return x->h < y->h ? -1 : x->h > y->h ? 1 : x->i - y->i;
}

int pff_dataset_hold_out(pff_dataset *train, int n, pff_dataset *val, char *err)
{
    memset(val, 0, sizeof *val);
    if (n <= 0)
        return PFF_OK;
    if (n >= train->n || train->index) {
        snprintf(err, PFF_ERRLEN, "--val %d: expected fewer than the %d training images", n,
                 train->n);
        return PFF_EUSAGE;
    }
    const int total = train->n, dim = train->dim;
    val_key *k = malloc((size_t)total * sizeof *k);
    uint8_t *held = calloc((size_t)total, 1);
    val->x = malloc((size_t)n * dim * sizeof *val->x);
    val->y = malloc((size_t)n);
    if (!k || !held || !val->x || !val->y) {
        free(k);
        free(held);
        pff_dataset_free(val);
        snprintf(err, PFF_ERRLEN, "--val %d: out of memory", n);
        return PFF_EFAIL;
    }
    for (int i = 0; i < total; i++)
        k[i] = (val_key){pff_hash(PFF_VAL_KEY, PFF_RNG_VAL, 0, 0, (uint64_t)i), i};
    qsort(k, (size_t)total, sizeof *k, val_key_cmp);
    for (int j = 0; j < n; j++)
        held[k[j].i] = 1;
    int nv = 0, nt = 0;
    for (int i = 0; i < total; i++) {
        const float *row = train->x + (size_t)i * dim;
        if (held[i]) {
            memcpy(val->x + (size_t)nv * dim, row, (size_t)dim * sizeof *row);
            val->y[nv++] = train->y[i];
        } else {
            if (nt != i)
                memmove(train->x + (size_t)nt * dim, row, (size_t)dim * sizeof *row);
            train->y[nt++] = train->y[i];
        }
    }
    val->n = nv;
    val->dim = dim;
    train->n = nt;
    free(k);
    free(held);
    return PFF_OK;
}
