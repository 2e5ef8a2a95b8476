/* pipeline/schedule.c — the PFF schedules on POSIX threads.
 *
 * Every schedule computes the same function (DESIGN.md §2): layer k after
 * chapter c is C epochs of training of layer k after chapter c-1, on the
 * training set mapped through layers 1..k-1 after chapter c. The maths of a
 * stage lives in layers/ (pff_stage_ff, pff_stage_softmax); this file only
 * decides which node thread runs which stage, and hands things over:
 *
 *   Sequential   all-layers with one node.
 *   All Layers   node c mod N trains chapter c: it gets layer k of chapter
 *                c-1 from the previous node (channel LAYER k), trains it,
 *                keeps a copy of its parameters (the node's "shadow"
 *                network), publishes the layer to the next node at once, and
 *                then maps its data through the shadow copy while the next
 *                node already trains. The softmax head is stage L, passed
 *                round the ring like a layer. Adaptive negatives: after its
 *                chapter c a node rebuilds its own negatives from its shadow
 *                network; they serve its next chapter c+N.
 *   Federated    All Layers, node i on its own shard of the training set.
 *   Single Layer node k owns layer k. Node 0 embeds positives and
 *                negatives; node k trains on the activations node k-1 mapped
 *                (channel ACT k) and maps them through its layer into one of
 *                two buffers it owns (channel FREE k brings them back from
 *                node k+1): handing the mapped activations over costs no
 *                recomputation, at the price of two buffers per link. When
 *                the chapter tail needs the whole network (softmax head,
 *                adaptive negatives) nodes send a parameter snapshot (channel
 *                SNAP k) to the last node, which trains the head and rebuilds
 *                the negatives (channel NEG to node 0). Waiting mode (the
 *                default): node 0 waits for the negatives of the previous
 *                chapter, which equals Sequential bit for bit. Fast mode
 *                (--fast, the paper's): node 0 takes whatever negatives have
 *                arrived and never waits; not reproducible.
 *
 * Shifted images (--augment shift) change every epoch. With one epoch per
 * chapter the flow above is unchanged (the node embeds the chapter's shifted
 * images). With several, a node rebuilds layer k's input before each epoch:
 * shift, embed, map through the chapter's layers below from its own copies
 * (All Layers: the shadow network; Single Layer: --recompute snapshots;
 * train_layer, epoch_input).

 * Ownership: a layer object is owned by whichever node last got it; the
 * channel hands the pointer over, never a copy. Activation buffers are owned
 * by the node that maps into them until the consumer hands them back.
 *
 * Threads and cores: a node is one pthread. Inside a node, products and
 * element-wise passes use T = --threads OpenMP threads over disjoint tiles,
 * each product single-threaded in OpenBLAS (pff_blas_init sets OpenBLAS to
 * one thread), so node threads never share a BLAS pool and their products run
 * at the same time. N nodes x T threads may not exceed the cores unless
 * --oversubscribe is given (pff_config_check).
 *
 * Failure: a node that fails calls transport->fail with its message; every
 * wait wakes, every compute loop sees the flag at its next batch, every node
 * returns, the main thread joins them all and returns the first message. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../layers/layers.h"
#include "../data/bytes.h"      /* moved from layers/ (file formats live in data/) */
#include "../data/checkpoint.h" /* struct pff_checkpoint, pff_checkpoint_save */
#include "pipeline.h"
#include "plan.h"
#include "../data/log.h" /* pff_log_row */


typedef struct run run;

typedef struct {
    run *r;
    int id;
    pthread_t thread;
    pff_work work;
    /* the node's view of the training data (a shard for Federated) */
    long n;
    const float *img;   /* (n, dim) */
    const uint8_t *y;   /* (n) */
    const int *index;   /* (n) global image ids, NULL for 0..n-1 */
    float *own_img;     /* shard copies (Federated) */
    uint8_t *own_y;
    int *own_index;
    float *a0;          /* (2n, dim) layer-1 input: positives | negatives */
    float *act[2];      /* (2n, wmax) mapped activations, ping-pong */
    uint8_t *neg;       /* (n) negatives of the chapter being trained */
    uint8_t *neg_next;  /* (n) adaptive negatives for this node's next chapter */
    pff_layer **shadow; /* [L] parameter copies of this node's last chapter */
    pff_layer **stale;  /* [L+1] --handoff weights: this node's own Adam moments per stage */
    float *feat;        /* (n, D) softmax features */
    float *fbuf;        /* (batch, D) one gathered batch of features */
    float *table;       /* (n, 10) goodness table */
    float *etable;      /* (test n, 10) goodness table for --eval-every */
    double busy, wait, negsec;
    pff_span *spans;    /* [cap] what this node did and when (trace mode, --json summary) */
    int nspans, cap;
} node;

struct run {
    const pff_config *cfg;
    int L, N, S, dim, wmax, fdim;
    pff_hub hub;
    pff_transport *tp;
    pff_layer **layers; /* [L] */
    pff_layer *head;    /* softmax head or NULL */
    node *nodes;        /* [N] */
    float **links;      /* single-layer: [2 (L-1)] activation buffers */
    pthread_mutex_t mu; /* guards the reporting fields below */
    pthread_cond_t cv;
    pff_stage_stats *stats; /* [S][L+1] */
    double *acc;            /* [S] test accuracy after the chapter (percent), -1: not measured */
    double *done_at;        /* [S] seconds from t0 when the chapter's last stage reported */
    double *eval_sec;       /* [S] seconds the chapter's --eval-every evaluation took */
    int *stages_done;       /* [S] stages finished per chapter, L+1 when complete */
    int nodes_done;
    int mpi, me;            /* --transport mpi: this process runs node `me` only */
    int nlocal;             /* node threads in this process */
    atomic_long progress;   /* batches trained, all nodes */
    double t0;              /* when the node threads started (span times count from it) */
    int start;              /* first chapter of this run (> 0 when resumed) */
    long train_n;           /* training images */
    int lag;                /* adaptive negatives of chapter c come from chapter c - lag */
    /* --checkpoint: the state of each chapter, gathered as its stages finish (under mu) */
    pff_layer **ck_layer;   /* [S][L+1] full copies (layers, head) */
    uint8_t **ck_neg;       /* [S] adaptive negatives made for chapter c (until c is saved) */
    long *ck_neg_n;         /* [S] */
    int ck_mpi;             /* --checkpoint over MPI: parts go to rank 0, which writes */
    pff_stage_stats *ck_stats; /* rank 0: [S][L+1] stats of the stages other ranks trained */
};

volatile sig_atomic_t pff_stop_signal;

/* Channels: kind * (L+1) + k; CH_RSNAP (recompute mode) is an L x L block:
 * rsnap + j*L + m carries layer j's snapshots to node m. */
enum { CH_LAYER, CH_ACT, CH_FREE, CH_SNAP, CH_NEG, CH_RSNAP };
static int ch(const run *r, int kind, int k) { return kind * (r->L + 1) + k; }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Records one span of this node (a preallocated array: no lock, no allocation). */
static void span(node *nd, int kind, int layer, int chapter, double t0, double t1)
{
    if (nd->nspans < nd->cap)
        nd->spans[nd->nspans++] =
            (pff_span){nd->id, layer, chapter, kind, t0 - nd->r->t0, t1 - nd->r->t0};
}

/* Transport calls, timed as waiting; `layer` names what is waited for. */
static void *get(node *nd, int chan, int layer, int chapter)
{
    double t0 = now();
    void *p = nd->r->tp->get(nd->r->tp, chan, chapter);
    double t1 = now();
    nd->wait += t1 - t0;
    span(nd, PFF_SPAN_WAIT, layer, chapter, t0, t1);
    return p;
}

static int publish(node *nd, int chan, int layer, int chapter, void *obj)
{
    double t0 = now();
    int rc = nd->r->tp->publish(nd->r->tp, chan, chapter, obj);
    double t1 = now();
    nd->wait += t1 - t0;
    if (t1 - t0 > 1e-4)
        span(nd, PFF_SPAN_WAIT, layer, chapter, t0, t1);
    span(nd, PFF_SPAN_PUBLISH, layer, chapter, t1, t1);
    return rc;
}

static void report(run *r, int c, int stage, const pff_stage_stats *st)
{
    pff_lock(&r->mu);
    r->stats[(size_t)c * (r->L + 1) + stage] = *st;
    if (++r->stages_done[c] == r->L + 1)
        r->done_at[c] = now() - r->t0;
    pff_broadcast(&r->cv);
    pff_unlock(&r->mu);
}

/* --checkpoint: keeps a full copy of stage k's state after chapter c. */
static int keep_state(node *nd, int c, int k, const pff_layer *l, char *err)
{
    run *r = nd->r;
    if (!r->cfg->checkpoint)
        return 0;
    pff_layer *copy = pff_layer_new(l->in, l->out);
    if (!copy) {
        snprintf(err, PFF_ERRLEN, "chapter %d: out of memory for the checkpoint", c + 1);
        return PFF_EFAIL;
    }
    pff_layer_copy(copy, l);
    pff_lock(&r->mu);
    r->ck_layer[(size_t)c * (r->L + 1) + k] = copy;
    pff_unlock(&r->mu);
    return 0;
}

/* --checkpoint: keeps the adaptive negatives made for chapter `serves`. */
static int keep_negatives(node *nd, int serves, const uint8_t *neg, char *err)
{
    run *r = nd->r;
    if (!r->cfg->checkpoint || serves >= r->S)
        return 0;
    uint8_t *copy = malloc((size_t)nd->n + 1);
    if (!copy) {
        snprintf(err, PFF_ERRLEN, "out of memory for the checkpoint's negatives");
        return PFF_EFAIL;
    }
    memcpy(copy, neg, (size_t)nd->n);
    pff_lock(&r->mu);
    free(r->ck_neg[serves]);
    r->ck_neg[serves] = copy;
    r->ck_neg_n[serves] = nd->n;
    pff_unlock(&r->mu);
    return 0;
}

/* Resumed run: the adaptive negatives the checkpoint holds for chapter c. */
static int resumed_negatives(node *nd, int c, char *err)
{
    run *r = nd->r;
    const uint8_t *neg = NULL;
    pff_lock(&r->mu);
    if (r->ck_neg && r->ck_neg[c] && r->ck_neg_n[c] == nd->n)
        neg = r->ck_neg[c];
    pff_unlock(&r->mu);
    if (!neg) {
        snprintf(err, PFF_ERRLEN, "--resume: the checkpoint lacks the negatives of chapter %d",
                 c + 1);
        return PFF_EUSAGE;
    }
    memcpy(nd->neg, neg, (size_t)nd->n);
    return 0;
}

/* Negatives of chapter c that do not depend on the network. */
static void draw_negatives(node *nd, int c)
{
    pff_negatives_draw(nd->r->cfg, nd->neg, nd->y, nd->index, nd->n, c);
}

/* Is the test accuracy measured after chapter c (--eval-every)? */
static int eval_at(const pff_config *cfg, int c)
{
    return cfg->eval_every > 0 && cfg->eval_set &&
           ((c + 1) % cfg->eval_every == 0 || c + 1 == cfg->splits);
}

/* Does the chapter tail of chapter c need the whole network? */
static int tail_needs_net(const run *r, int c)
{
    return r->head != NULL || pff_neg_from_net(r->cfg->neg) || eval_at(r->cfg, c);
}

/* The chapter tail on a whole network: softmax head, then the adaptive or
 * hard negatives of chapter `serves` into neg_out (NULL: none wanted), then
 * the test accuracy when asked for. */
static int chapter_tail(node *nd, int c, pff_layer *const *net, pff_layer *head, uint8_t *neg_out,
                        int serves, pff_stage_stats *st, char *err)
{
    run *r = nd->r;
    const pff_config *cfg = r->cfg;
    if (head) {
        double t0 = now();
        pff_features(net, r->L, &nd->work, nd->img, nd->n, r->dim, nd->feat);
        int rc = pff_stage_softmax(cfg, head, r->L, c, &nd->work, nd->feat, nd->y, nd->n, nd->fbuf,
                                   &r->tp->failed, &r->progress, st, err);
        span(nd, PFF_SPAN_HEAD, r->L, c, t0, now());
        if (rc)
            return rc;
    }
    if (neg_out) {
        double t0 = now();
        pff_goodness_table(net, r->L, &nd->work, nd->img, nd->n, r->dim, nd->y, nd->table);
        pff_negatives_from_table(cfg, neg_out, nd->table, nd->y, nd->index, nd->n, serves);
        double t1 = now();
        nd->negsec += t1 - t0;
        span(nd, PFF_SPAN_NEGATIVES, -1, c, t0, t1);
    }
    if (eval_at(cfg, c)) {
        const pff_dataset *e = cfg->eval_set;
        double t0 = now();
        pff_goodness_table(net, r->L, &nd->work, e->x, e->n, r->dim, NULL, nd->etable);
        long right = 0;
        for (long i = 0; i < e->n; i++)
            right += pff_table_argmax(nd->etable + (size_t)i * PFF_CLASSES, -1) == e->y[i];
        r->acc[c] = e->n ? 100.0 * right / e->n : 0.0; /* chapter c's own slot: no lock needed */
        double t1 = now();
        r->eval_sec[c] = t1 - t0;
        span(nd, PFF_SPAN_EVAL, -1, c, t0, t1);
    }
    return 0;
}

/* --augment shift with several epochs per chapter: layer k's input of global
 * epoch e is the images shifted for e, embedded with the chapter's labels and
 * mapped through the chapter's layers below (net[0..k-1]), as DESIGN.md §2
 * implies; it is rebuilt for every epoch. Returns the buffer holding it. */
static const float *epoch_input(node *nd, pff_layer *const *net, int k, int c, int e)
{
    run *r = nd->r;
    pff_embed_inputs(r->cfg, nd->a0, nd->img, nd->y, nd->neg, nd->index, nd->n, r->dim, e, 1);
    const float *in = nd->a0;
    for (int j = 0; j < k; j++) {
        float *out = in == nd->act[0] ? nd->act[1] : nd->act[0];
        double t0 = now();
        pff_ff_map(net[j], &nd->work, in, 2 * nd->n, out);
        span(nd, PFF_SPAN_MAP, j, c, t0, now());
        in = out;
    }
    return in;
}

/* The C epochs of layer k in chapter c: on `in`, or, when every epoch has
 * inputs of its own (pff_inputs_per_epoch), epoch by epoch on each one's. */
static int train_layer(node *nd, pff_layer *l, int k, int c, const float *in,
                       pff_layer *const *net, pff_stage_stats *st, char *err)
{
    run *r = nd->r;
    const pff_config *cfg = r->cfg;
    const int C = cfg->epochs / cfg->splits;
    if (!pff_inputs_per_epoch(cfg)) {
        double t0 = now();
        int rc = pff_stage_ff(cfg, l, k, c, &nd->work, in, nd->n, &r->tp->failed, &r->progress,
                              st, err);
        span(nd, PFF_SPAN_TRAIN, k, c, t0, now());
        return rc;
    }
    for (int j = 0; j < C; j++) {
        const float *a = epoch_input(nd, net, k, c, c * C + j);
        double t0 = now();
        int rc = pff_stage_ff_epochs(cfg, l, k, c, j, j + 1, &nd->work, a, nd->n, &r->tp->failed,
                                     &r->progress, st, err);
        span(nd, PFF_SPAN_TRAIN, k, c, t0, now());
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- All Layers (and Sequential, and Federated) ---- */
static int all_layers_node(node *nd, char *err)
{
    run *r = nd->r;
    const pff_config *cfg = r->cfg;
    const int L = r->L, N = r->N, S = r->S;
    const long n = nd->n;
    const int C = cfg->epochs / S;
    int c0 = r->start + ((nd->id - r->start % N) + N) % N; /* this node's first chapter */
    for (int c = c0; c < S; c += N) {
        int rc;
        if (pff_neg_from_net(cfg->neg) && c >= N) {
            if (c == c0) { /* resumed: made before the checkpoint */
                if ((rc = resumed_negatives(nd, c, err)))
                    return rc;
            } else {
                uint8_t *t = nd->neg;
                nd->neg = nd->neg_next;
                nd->neg_next = t;
            }
        } else if (cfg->neg != PFF_NEG_FIXED || c == c0) {
            draw_negatives(nd, c);
        }
        /* the chapter's inputs (of its one epoch, when shifts change every epoch) */
        const int per_epoch = pff_inputs_per_epoch(cfg);
        if (!per_epoch)
            pff_embed_inputs(cfg, nd->a0, nd->img, nd->y, nd->neg, nd->index, n, r->dim, c * C,
                             c == c0 || cfg->augment);
        const float *in = nd->a0;
        for (int k = 0; k < L; k++) {
            pff_layer *l = c == r->start ? r->layers[k] : get(nd, ch(r, CH_LAYER, k), k, c - 1);
            if (!l)
                return -1;
            if (nd->stale) /* weights arrive, the Adam state is this node's own */
                pff_layer_copy_moments(l, nd->stale[k]);
            pff_stage_stats st = {0};
            rc = train_layer(nd, l, k, c, in, nd->shadow, &st, err);
            if (nd->stale)
                pff_layer_copy_moments(nd->stale[k], l);
            if (rc || (rc = keep_state(nd, c, k, l, err)))
                return rc;
            pff_layer_copy_params(nd->shadow[k], l);
            if (publish(nd, ch(r, CH_LAYER, k), k, c, l))
                return -1;
            if (k + 1 < L && !per_epoch) {
                float *out = in == nd->act[0] ? nd->act[1] : nd->act[0];
                double t0 = now();
                pff_ff_map(nd->shadow[k], &nd->work, in, 2 * n, out);
                span(nd, PFF_SPAN_MAP, k, c, t0, now());
                in = out;
            }
            report(r, c, k, &st);
        }
        pff_stage_stats st = {0};
        pff_layer *head = NULL;
        if (r->head && !(head = c == r->start ? r->head : get(nd, ch(r, CH_LAYER, L), L, c - 1)))
            return -1;
        int want_neg = pff_neg_from_net(cfg->neg) && c + N < S;
        if (head && nd->stale)
            pff_layer_copy_moments(head, nd->stale[L]);
        rc = chapter_tail(nd, c, nd->shadow, head, want_neg ? nd->neg_next : NULL, c + N, &st, err);
        if (head && nd->stale)
            pff_layer_copy_moments(nd->stale[L], head);
        if (!rc && head)
            rc = keep_state(nd, c, L, head, err);
        if (!rc && want_neg)
            rc = keep_negatives(nd, c + N, nd->neg_next, err);
        if (rc)
            return rc;
        if (head && publish(nd, ch(r, CH_LAYER, L), L, c, head))
            return -1;
        report(r, c, L, &st);
    }
    return 0;
}

/* ---- Single Layer ---- */

/* A copy of a layer's parameters for another node (NULL when out of memory). */
static pff_layer *snapshot(const pff_layer *l, int k, int c, char *err)
{
    pff_layer *s = pff_layer_new(l->in, l->out);
    if (!s)
        snprintf(err, PFF_ERRLEN, "layer %d, chapter %d: out of memory for a snapshot", k + 1, c + 1);
    else
        pff_layer_copy_params(s, l);
    return s;
}

/* Single Layer: the negatives of chapter c for a node that embeds its own
 * inputs (node 0; every node when recomputing). */
static int single_layer_negatives(node *nd, int c, char *err)
{
    run *r = nd->r;
    const pff_config *cfg = r->cfg;
    const int chan = ch(r, CH_NEG, nd->id);
    if (!pff_neg_from_net(cfg->neg) || c == 0) {
        if (cfg->neg != PFF_NEG_FIXED || c == r->start)
            draw_negatives(nd, c);
        return 0;
    }
    if (c == r->start) /* resumed: made before the checkpoint */
        return resumed_negatives(nd, c, err);
    int got;
    uint8_t *neg = cfg->fast ? r->tp->latest(r->tp, chan, &got, free) : get(nd, chan, -1, c);
    if (!neg)
        return cfg->fast ? 0 : -1; /* fast: nothing new arrived, keep the current ones */
    memcpy(nd->neg, neg, (size_t)nd->n);
    free(neg);
    return 0;
}

static void free_net(pff_layer **net, int n)
{
    for (int j = 0; j < n; j++) {
        pff_layer_free(net[j]);
        net[j] = NULL;
    }
}

static int single_layer_node(node *nd, char *err)
{
    run *r = nd->r;
    const pff_config *cfg = r->cfg;
    const int L = r->L, S = r->S, k = nd->id, recompute = cfg->sl_recompute;
    const long n = nd->n;
    pff_layer *l = r->layers[k];
    const int adaptive = pff_neg_from_net(cfg->neg), C = cfg->epochs / S;
    const int embeds = k == 0 || recompute;
    pff_layer *net[PFF_MAX_LAYERS] = {0}; /* snapshots of layers 0..k-1 (or L-2) of chapter c */
    for (int c = r->start; c < S; c++) {
        const float *in;
        int rc;
        if (embeds) {
            if ((rc = single_layer_negatives(nd, c, err)))
                return rc;
            const int per_epoch = pff_inputs_per_epoch(cfg); /* then train_layer maps */
            if (!per_epoch)
                pff_embed_inputs(cfg, nd->a0, nd->img, nd->y, nd->neg, nd->index, n, r->dim,
                                 c * C, c == r->start || cfg->augment);
            in = nd->a0;
            /* recompute: map the data through the layers below, from their snapshots */
            for (int j = 0; recompute && j < k; j++) {
                if (!(net[j] = get(nd, ch(r, CH_RSNAP, 0) + j * L + k, j, c))) {
                    free_net(net, j);
                    return -1;
                }
                if (per_epoch)
                    continue;
                float *out = in == nd->act[0] ? nd->act[1] : nd->act[0];
                double t0 = now();
                pff_ff_map(net[j], &nd->work, in, 2 * n, out);
                span(nd, PFF_SPAN_MAP, j, c, t0, now());
                in = out;
            }
        } else if (!(in = get(nd, ch(r, CH_ACT, k), k, c))) {
            return -1;
        }
        pff_stage_stats st = {0};
        rc = train_layer(nd, l, k, c, in, net, &st, err);
        if (rc || (rc = keep_state(nd, c, k, l, err))) {
            free_net(net, k);
            return rc;
        }
        if (k + 1 < L) {
            if (!recompute) {
                float *out = get(nd, ch(r, CH_FREE, k), k, c);
                if (!out)
                    return -1;
                double t0 = now();
                pff_ff_map(l, &nd->work, in, 2 * n, out);
                span(nd, PFF_SPAN_MAP, k, c, t0, now());
                if (publish(nd, ch(r, CH_ACT, k + 1), k + 1, c, out))
                    return -1;
            }
            /* parameter snapshots: to every node above (recompute), or to the last node */
            for (int m = recompute ? k + 1 : L - 1; m < L; m++) {
                if (!recompute && !tail_needs_net(r, c))
                    break;
                pff_layer *s = snapshot(l, k, c, err);
                int chan = recompute ? ch(r, CH_RSNAP, 0) + k * L + m : ch(r, CH_SNAP, k);
                if (!s)
                    return PFF_EFAIL;
                if (publish(nd, chan, k, c, s)) {
                    pff_layer_free(s);
                    return -1;
                }
            }
        }
        if (!recompute && k > 0 && publish(nd, ch(r, CH_FREE, k - 1), k - 1, c + 2, (void *)in))
            return -1;
        report(r, c, k, &st);
        if (k + 1 < L) {
            free_net(net, k);
            continue;
        }
        /* the last node: chapter tail on the network of chapter c */
        pff_stage_stats tst = {0};
        if (tail_needs_net(r, c)) {
            for (int j = 0; !recompute && j + 1 < L; j++)
                if (!(net[j] = get(nd, ch(r, CH_SNAP, j), j, c))) {
                    free_net(net, j);
                    return -1;
                }
            net[L - 1] = l;
            uint8_t *neg = NULL;
            if (adaptive && c + 1 < S && !(neg = malloc((size_t)n))) {
                snprintf(err, PFF_ERRLEN, "chapter %d: out of memory for negatives", c + 1);
                rc = PFF_EFAIL;
            }
            if (!rc)
                rc = chapter_tail(nd, c, net, r->head, neg, c + 1, &tst, err);
            if (!rc && r->head)
                rc = keep_state(nd, c, L, r->head, err);
            if (!rc && neg)
                rc = keep_negatives(nd, c + 1, neg, err);
            net[L - 1] = NULL;
            /* the new negatives go to node 0, or to every node when each embeds its own */
            for (int m = 0; !rc && neg && m < (recompute ? L : 1); m++) {
                uint8_t *copy = m + 1 < (recompute ? L : 1) ? malloc((size_t)n) : neg;
                if (!copy) {
                    snprintf(err, PFF_ERRLEN, "chapter %d: out of memory for negatives", c + 1);
                    rc = PFF_EFAIL;
                    break;
                }
                if (copy != neg)
                    memcpy(copy, neg, (size_t)n);
                if (publish(nd, ch(r, CH_NEG, m), -1, c + 1, copy)) {
                    free(copy);
                    rc = -1;
                }
                if (copy == neg)
                    neg = NULL;
            }
            free(neg);
        }
        free_net(net, L - 1);
        if (rc)
            return rc;
        report(r, c, L, &tst);
    }
    return 0;
}

static void *node_main(void *arg)
{
    node *nd = arg;
    run *r = nd->r;
    char err[PFF_ERRLEN] = "";
    double t0 = now();
    int rc = r->cfg->schedule == PFF_SINGLE_LAYER ? single_layer_node(nd, err)
                                                   : all_layers_node(nd, err);
    if (rc > 0)
        r->tp->fail(r->tp, err[0] ? err : "node failed");
    nd->busy = now() - t0 - nd->wait;
    pff_lock(&r->mu);
    r->nodes_done++;
    pff_broadcast(&r->cv);
    pff_unlock(&r->mu);
    return NULL;
}

/* ---- set-up ---- */

/* Federated shards: disjoint and covering. iid: a keyed permutation cut into
 * N runs. label-skew: an image of class y goes to node y mod N with
 * probability 0.8, otherwise to a node drawn uniformly. */
static int label_skew_shard(const pff_config *cfg, int N, int i, int y)
{
    if (pff_uniform(pff_hash(cfg->seed, PFF_RNG_SHARD, 0, 0, (uint64_t)i)) < 0.8f)
        return y % N;
    return (int)(pff_hash(cfg->seed, PFF_RNG_SHARD, 1, 0, (uint64_t)i) % (uint64_t)N);
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
    pff_permutation(perm, d->n, cfg->seed, PFF_RNG_SHARD, 2, 0);
    for (int i = 0; i < d->n; i++)
        pos[perm[i]] = i;
    for (int i = 0; i < d->n; i++) {
        /* iid: position in the permutation decides the shard */
        shard[i] = cfg->shards == PFF_SHARDS_IID ? (int)((long)pos[i] * N / d->n)
                                                 : label_skew_shard(cfg, N, i, d->y[i]);
        count[shard[i]]++;
    }
    free(perm), free(pos);
    for (int s = 0; s < N; s++)
        if (count[s] < cfg->batch) {
            snprintf(err, PFF_ERRLEN,
                     "--nodes %d: shard %d holds %d images, fewer than one batch (%d)", N, s + 1,
                     count[s], cfg->batch);
            free(count), free(shard);
            return PFF_EUSAGE;
        }
    *shard_out = shard;
    *count_out = count;
    return 0;
}

static int make_shards(run *r, const pff_dataset *d, char *err)
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
    return 0;
}

int pff_federated_keep_shard(const pff_config *cfg, pff_dataset *d, int which, char *err)
{
    const int N = cfg->nodes, dim = d->dim;
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
    return 0;
}

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

/* Allocates everything a node will touch before any thread starts. */
static int node_alloc(run *r, node *nd)
{
    const pff_config *cfg = r->cfg;
    const int L = r->L, single = cfg->schedule == PFF_SINGLE_LAYER;
    const long n = nd->n;
    int ok = 1;
    size_t maxp = 0;
    for (int k = 0; k < L; k++)
        if (r->layers[k]->nparam > maxp)
            maxp = r->layers[k]->nparam;
    if (r->head && r->head->nparam > maxp)
        maxp = r->head->nparam;
    if (pff_work_init(&nd->work, 2 * cfg->batch, r->wmax, maxp, cfg->threads))
        return -1;
    int first = !single || nd->id == 0 || cfg->sl_recompute, last = !single || nd->id == L - 1;
    nd->neg = xmalloc((size_t)n, &ok);
    nd->neg_next = xmalloc((size_t)n, &ok);
    if (first)
        nd->a0 = xmalloc((size_t)2 * n * r->dim * sizeof(float), &ok);
    /* ping-pong buffers for mapping: All Layers, and recomputing Single Layer nodes above 0 */
    int maps = single ? (cfg->sl_recompute ? nd->id : 0) : L - 1;
    if (maps >= 1)
        nd->act[0] = xmalloc((size_t)2 * n * r->wmax * sizeof(float), &ok);
    if (maps >= 2)
        nd->act[1] = xmalloc((size_t)2 * n * r->wmax * sizeof(float), &ok);
    if (!single) {
        nd->shadow = calloc((size_t)L, sizeof *nd->shadow);
        if (!nd->shadow)
            return -1;
        for (int k = 0; k < L; k++)
            if (!(nd->shadow[k] = pff_layer_new(r->layers[k]->in, r->layers[k]->out)))
                return -1;
        if (cfg->stale_adam) {
            if (!(nd->stale = calloc((size_t)L + 1, sizeof *nd->stale)))
                return -1;
            for (int k = 0; k <= L; k++) {
                const pff_layer *src = k < L ? r->layers[k] : r->head;
                if (src && !(nd->stale[k] = pff_layer_new(src->in, src->out)))
                    return -1;
            }
        }
    }
    if (last && r->head) {
        nd->feat = xmalloc((size_t)n * r->fdim * sizeof(float), &ok);
        nd->fbuf = xmalloc((size_t)cfg->batch * r->fdim * sizeof(float), &ok);
    }
    if (last && pff_neg_from_net(cfg->neg))
        nd->table = xmalloc((size_t)n * PFF_CLASSES * sizeof(float), &ok);
    if (last && cfg->eval_every > 0 && cfg->eval_set)
        nd->etable = xmalloc((size_t)cfg->eval_set->n * PFF_CLASSES * sizeof(float), &ok);
    /* spans per chapter: per layer wait, train, map, publish (+ a blocked publish), and the tail */
    int chapters = single ? r->S : (r->S + r->N - 1) / r->N;
    nd->cap = chapters * (6 * L + 12) + 16;
    if (pff_inputs_per_epoch(cfg)) /* a train span per epoch, and its maps */
        nd->cap += chapters * (cfg->epochs / r->S) * L * (L + 1);
    nd->spans = xmalloc((size_t)nd->cap * sizeof *nd->spans, &ok);
    return ok ? 0 : -1;
}

static void node_free(run *r, node *nd)
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
static void drop_item(void *ctx, int chan, void *obj)
{
    run *r = ctx;
    int kind = chan / (r->L + 1);
    if (kind == CH_SNAP || kind >= CH_RSNAP)
        pff_layer_free(obj);
    else if (kind == CH_NEG)
        free(obj);
    /* layers and activation buffers are owned by the run */
}

/* ---- the codec: the channels as the MPI transport sees them ----
 * Over MPI a Single Layer node recomputes the layers below from their
 * parameters (--recompute, as the paper's nodes did): only layers and
 * negatives cross between processes, never activations. So three kinds of
 * item travel: LAYER k of chapter c, from node c mod N to node (c+1) mod N
 * (parameters, plus the Adam state unless --handoff weights); RSNAP j -> m,
 * layer j's parameters for node m; NEG m, the adaptive negatives from the
 * last node to node m. */
static int chan_kind(const run *r, int chan)
{
    return chan >= ch(r, CH_RSNAP, 0) ? CH_RSNAP : chan / (r->L + 1);
}

static int codec_src(void *ctx, int chan, int chapter)
{
    run *r = ctx;
    switch (chan_kind(r, chan)) {
    case CH_LAYER: return chapter % r->N;
    case CH_RSNAP: return (chan - ch(r, CH_RSNAP, 0)) / r->L;
    case CH_NEG: return r->L - 1;
    default: return -1;
    }
}

static int codec_dst(void *ctx, int chan, int chapter)
{
    run *r = ctx;
    switch (chan_kind(r, chan)) {
    case CH_LAYER: return chapter + 1 < r->S ? (chapter + 1) % r->N : -1;
    case CH_RSNAP: return (chan - ch(r, CH_RSNAP, 0)) % r->L;
    case CH_NEG: return chan - ch(r, CH_NEG, 0);
    default: return -1;
    }
}

static int codec_pieces(void *ctx, int chan, void *obj, void *ptr[2], size_t len[2])
{
    run *r = ctx;
    if (chan_kind(r, chan) == CH_NEG) {
        ptr[0] = obj;
        len[0] = (size_t)r->train_n;
        return 1;
    }
    pff_layer *l = obj;
    int moments = chan_kind(r, chan) == CH_LAYER && !r->cfg->stale_adam;
    ptr[0] = l->slab;
    len[0] = (moments ? 3 : 1) * l->nparam * sizeof(float);
    ptr[1] = &l->step;
    len[1] = sizeof l->step;
    return 2;
}

static void *codec_receiver(void *ctx, int chan, int chapter)
{
    run *r = ctx;
    (void)chapter;
    switch (chan_kind(r, chan)) {
    case CH_NEG: return malloc((size_t)r->train_n);
    case CH_LAYER: { /* the run's own copy of the layer: it circulates, as on threads */
        int k = chan - ch(r, CH_LAYER, 0);
        return k < r->L ? (void *)r->layers[k] : (void *)r->head;
    }
    default: {
        int j = (chan - ch(r, CH_RSNAP, 0)) / r->L;
        return pff_layer_new(r->cfg->widths[j], r->cfg->widths[j + 1]);
    }
    }
}

static void codec_sent(void *ctx, int chan, void *obj)
{
    run *r = ctx;
    int kind = chan_kind(r, chan);
    if (kind == CH_NEG)
        free(obj);
    else if (kind == CH_RSNAP)
        pff_layer_free(obj);
}

/* After an MPI run: every rank holds what its node did; make the whole run's
 * statistics, final layers and timings known, and the spans on rank 0. */
static int mpi_merge(run *r, pff_span **spans, int *nspans)
{
    const int L = r->L, S = r->S, N = r->N;
    size_t ns = (size_t)S * (L + 1);
    double *v = calloc(4 * ns + 3 * (size_t)N, sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < ns; i++) {
        v[4 * i] = r->stats[i].loss;
        v[4 * i + 1] = r->stats[i].gpos;
        v[4 * i + 2] = r->stats[i].gneg;
        v[4 * i + 3] = (double)r->stats[i].batches;
    }
    double *per = v + 4 * ns;
    node *nd = &r->nodes[r->me];
    per[r->me] = nd->busy;
    per[N + r->me] = nd->wait;
    per[2 * N + r->me] = nd->negsec;
    pff_mpi_sum(v, (int)(4 * ns + 3 * (size_t)N));
    for (size_t i = 0; i < ns; i++) {
        r->stats[i].loss = v[4 * i];
        r->stats[i].gpos = v[4 * i + 1];
        r->stats[i].gneg = v[4 * i + 2];
        r->stats[i].batches = (long)v[4 * i + 3];
    }
    for (int i = 0; i < N; i++) {
        r->nodes[i].busy = per[i];
        r->nodes[i].wait = per[N + i];
        r->nodes[i].negsec = per[2 * N + i];
    }
    free(v);
    pff_mpi_max(r->acc, S);
    /* the final layers: on the node of the last chapter, or each on its own node */
    for (int k = 0; k <= L; k++) {
        pff_layer *l = k < L ? r->layers[k] : r->head;
        if (!l)
            continue;
        int root = r->cfg->schedule == PFF_SINGLE_LAYER ? (k < L ? k : L - 1) : (S - 1) % N;
        pff_mpi_bcast(l->slab, 3 * l->nparam * sizeof(float), root);
        pff_mpi_bcast(&l->step, sizeof l->step, root);
    }
    size_t total = 0;
    pff_span *all = pff_mpi_gather(nd->spans, (size_t)nd->nspans * sizeof *nd->spans, &total);
    *spans = all;
    *nspans = all ? (int)(total / sizeof *all) : 0;
    return 0;
}

/* Chapter c's record, from the stages' sums. */
static pff_history history_of(const run *r, int c)
{
    const pff_config *cfg = r->cfg;
    const int C = cfg->epochs / cfg->splits;
    pff_history h;
    memset(&h, 0, sizeof h);
    h.chapter = c + 1;
    h.lr = pff_cooldown(cfg->lr, (c + 1) * C - 1, cfg->epochs);
    h.test_accuracy = (float)r->acc[c];
    for (int k = 0; k < r->L; k++) {
        const pff_stage_stats *s = &r->stats[(size_t)c * (r->L + 1) + k];
        double b = s->batches ? (double)s->batches : 1.0;
        h.loss[k] = (float)(s->loss / b);
        h.gpos[k] = (float)(s->gpos / b);
        h.gneg[k] = (float)(s->gneg / b);
    }
    return h;
}

/* The log's `seconds` of chapter c: training time of this run (since its
 * node threads started) when chapter c was complete, without the time the
 * --eval-every evaluations of chapters <= c took; -1 (empty) when unknown
 * (MPI: each rank has its own clock). In a pipeline an evaluation may overlap
 * another node's training, so there the figure is a slight underestimate. */
static double log_seconds(const run *r, int c)
{
    if (r->mpi || r->done_at[c] < 0)
        return -1;
    double t = r->done_at[c];
    for (int j = r->start; j <= c; j++)
        t -= r->eval_sec[j];
    return t > 0 ? t : 0;
}

static void log_chapter(const run *r, const pff_history *h)
{
    const pff_config *cfg = r->cfg;
    const int L = r->L, C = cfg->epochs / cfg->splits;
    const double secs = log_seconds(r, h->chapter - 1);
    if (!cfg->log_jsonl) {
        double loss[PFF_MAX_LAYERS], gp[PFF_MAX_LAYERS], gn[PFF_MAX_LAYERS];
        for (int k = 0; k < L; k++)
            loss[k] = h->loss[k], gp[k] = h->gpos[k], gn[k] = h->gneg[k];
        pff_log_row(cfg->log, h->chapter, (double)h->chapter * C, h->lr, L, loss, gp, gn, secs,
                    h->test_accuracy);
    } else {
        fprintf(cfg->log, "{\"chapter\":%d,\"epoch\":%d,\"lr\":%g,", h->chapter,
                h->chapter * C, (double)h->lr);
        if (secs >= 0)
            fprintf(cfg->log, "\"seconds\":%.3f,\"loss\":[", secs);
        else
            fprintf(cfg->log, "\"seconds\":null,\"loss\":[");
        for (int k = 0; k < L; k++)
            fprintf(cfg->log, "%s%.6g", k ? "," : "", (double)h->loss[k]);
        fprintf(cfg->log, "],\"gpos\":[");
        for (int k = 0; k < L; k++)
            fprintf(cfg->log, "%s%.6g", k ? "," : "", (double)h->gpos[k]);
        fprintf(cfg->log, "],\"gneg\":[");
        for (int k = 0; k < L; k++)
            fprintf(cfg->log, "%s%.6g", k ? "," : "", (double)h->gneg[k]);
        if (h->test_accuracy >= 0)
            fprintf(cfg->log, "],\"test_accuracy\":%.4f}\n", (double)h->test_accuracy);
        else
            fprintf(cfg->log, "],\"test_accuracy\":null}\n");
    }
    fflush(cfg->log);
}

static void print_chapter(run *r, int c, double elapsed, double eta)
{
    const int L = r->L;
    fprintf(stderr, "chapter %d/%d", c + 1, r->S);
    for (int k = 0; k < L; k++) {
        const pff_stage_stats *s = &r->stats[(size_t)c * (L + 1) + k];
        double b = s->batches ? (double)s->batches : 1.0;
        fprintf(stderr, " | L%d loss %.4f G+ %.1f G- %.1f", k + 1, s->loss / b, s->gpos / b,
                s->gneg / b);
    }
    const pff_stage_stats *h = &r->stats[(size_t)c * (L + 1) + L];
    if (r->head && h->batches)
        fprintf(stderr, " | head CE %.4f", h->loss / h->batches);
    if (r->acc[c] >= 0)
        fprintf(stderr, " | test %.2f%%", r->acc[c]);
    if (elapsed >= 0)
        fprintf(stderr, " | %.1fs, ETA %.0fs\n", elapsed, eta);
    else
        fputc('\n', stderr);
}

/* MPI, rank 0: the chapter lines and the log, once the ranks' statistics are merged. */
static void mpi_chapter_lines(run *r)
{
    for (int c = 0; c < r->S; c++) {
        if (!r->cfg->quiet)
            print_chapter(r, c, -1, 0);
        if (r->cfg->log) {
            pff_history h = history_of(r, c);
            log_chapter(r, &h);
        }
    }
}

/* ---- checkpoints over MPI ----
 * Every rank keeps the state of the stages it trains (keep_state,
 * keep_negatives), as on threads. Once its part of chapter c is complete,
 * its main thread sends that part to rank 0 (send_part); rank 0's main
 * thread takes the parts as they come (take_part) and writes the checkpoint
 * of chapter c once all L+1 stages of c are in, in chapter order. A part:
 *   u32 chapter, u32 stages; per stage: u32 k, f64 loss, gpos, gneg,
 *   u64 batches, u32 has_layer, [u64 Adam step, f32 slab[3 nparam]];
 *   f64 test accuracy (-1: none); u32 serves (-1: no negatives), u32 n, u8 [n] */

/* Stages of chapter c this process trains. */
static int local_stages(const run *r, int c)
{
    if (r->cfg->schedule == PFF_SINGLE_LAYER)
        return r->me == r->L - 1 ? 2 : 1;
    return c % r->N == r->me ? r->L + 1 : 0;
}

/* This rank's part of chapter c for rank 0, as bytes (called with r->mu
 * held); frees what the rank kept for it. b->ok is 0 when out of memory. */
static void make_part(run *r, int c, pff_bytes *out)
{
    const int L = r->L;
    const int first = r->cfg->schedule == PFF_SINGLE_LAYER ? r->me : 0;
    const int n = local_stages(r, c);
    pff_bytes b = {NULL, 0, 0, 1};
    pff_put32(&b, (uint32_t)c);
    pff_put32(&b, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        /* single-layer's last node: its layer, then the head stage */
        int k = n == 2 && i == 1 ? L : first + i;
        const pff_stage_stats *st = &r->stats[(size_t)c * (L + 1) + k];
        const pff_layer *l = r->ck_layer[(size_t)c * (L + 1) + k];
        pff_put32(&b, (uint32_t)k);
        pff_putd(&b, st->loss);
        pff_putd(&b, st->gpos);
        pff_putd(&b, st->gneg);
        pff_put64(&b, (uint64_t)st->batches);
        pff_put32(&b, l != NULL);
        if (l) {
            pff_put64(&b, (uint64_t)l->step);
            pff_putfs(&b, l->slab, 3 * l->nparam);
        }
    }
    pff_putd(&b, r->acc[c]);
    int serves = c + r->lag;
    int has_neg = n > 0 && serves < r->S && r->ck_neg[serves] &&
                  (r->cfg->schedule != PFF_SINGLE_LAYER || r->me == L - 1);
    pff_put32(&b, has_neg ? (uint32_t)serves : 0xffffffffu);
    pff_put32(&b, has_neg ? (uint32_t)r->ck_neg_n[serves] : 0);
    if (has_neg)
        pff_put(&b, r->ck_neg[serves], (size_t)r->ck_neg_n[serves]);
    *out = b;
    for (int k = 0; k <= L; k++) {
        pff_layer_free(r->ck_layer[(size_t)c * (L + 1) + k]);
        r->ck_layer[(size_t)c * (L + 1) + k] = NULL;
    }
    if (has_neg) {
        free(r->ck_neg[serves]);
        r->ck_neg[serves] = NULL;
    }
}

/* Rank 0: one part from another rank, into the chapter's state (r->mu held). */
static int take_part(run *r, const unsigned char *p, size_t len)
{
    const int L = r->L;
    size_t at = 0;
#define NEED(x) if (len - at < (size_t)(x)) return PFF_EFAIL
    NEED(8);
    uint32_t c = pff_get32(p), n = pff_get32(p + 4);
    at = 8;
    if (c >= (uint32_t)r->S || n > (uint32_t)L + 1)
        return PFF_EFAIL;
    for (uint32_t i = 0; i < n; i++) {
        NEED(40);
        uint32_t k = pff_get32(p + at);
        if (k > (uint32_t)L)
            return PFF_EFAIL;
        pff_stage_stats *st = &r->ck_stats[(size_t)c * (L + 1) + k];
        memcpy(&st->loss, p + at + 4, 8);
        memcpy(&st->gpos, p + at + 12, 8);
        memcpy(&st->gneg, p + at + 20, 8);
        st->batches = (long)pff_get64(p + at + 28);
        uint32_t has = pff_get32(p + at + 36);
        at += 40;
        if (has) {
            const pff_layer *shape = k < (uint32_t)L ? r->layers[k] : r->head;
            if (!shape)
                return PFF_EFAIL;
            NEED(8 + 12 * shape->nparam);
            pff_layer *l = pff_layer_new(shape->in, shape->out);
            if (!l)
                return PFF_EFAIL;
            l->step = (long long)pff_get64(p + at);
            for (size_t j = 0; j < 3 * l->nparam; j++)
                l->slab[j] = pff_getf(p + at + 8 + 4 * j);
            at += 8 + 12 * l->nparam;
            pff_layer_free(r->ck_layer[(size_t)c * (L + 1) + k]);
            r->ck_layer[(size_t)c * (L + 1) + k] = l;
        }
    }
    NEED(16);
    double acc;
    memcpy(&acc, p + at, 8);
    if (acc >= 0)
        r->acc[c] = acc;
    uint32_t serves = pff_get32(p + at + 8), nn = pff_get32(p + at + 12);
    at += 16;
    if (serves != 0xffffffffu) {
        NEED(nn);
        if (serves >= (uint32_t)r->S)
            return PFF_EFAIL;
        uint8_t *neg = malloc((size_t)nn + 1);
        if (!neg)
            return PFF_EFAIL;
        memcpy(neg, p + at, nn);
        free(r->ck_neg[serves]);
        r->ck_neg[serves] = neg;
        r->ck_neg_n[serves] = (long)nn;
    }
#undef NEED
    r->stages_done[c] += (int)n;
    return 0;
}

/* Writes the checkpoint of chapter c (called with r->mu held; unlocks it while
 * writing), then frees what chapter c kept. A failed write stops the run. */
static void save_checkpoint(run *r, int c)
{
    const int L = r->L;
    pff_checkpoint ck;
    memset(&ck, 0, sizeof ck);
    ck.cfg = *r->cfg;
    ck.next = c + 1;
    ck.train_n = r->train_n;
    if (r->cfg->record)
        ck.rec = *r->cfg->record; /* borrowed: ck is never freed */
    ck.layer = &r->ck_layer[(size_t)c * (L + 1)];
    ck.head = r->head ? r->ck_layer[(size_t)c * (L + 1) + L] : NULL;
    ck.stats = r->stats;
    ck.acc = r->acc;
    pff_stage_stats *merged = NULL;
    if (r->ck_stats) { /* MPI: this rank's stages and the ones the others sent (zero here) */
        size_t ns = (size_t)(c + 1) * (L + 1);
        if (!(merged = malloc(ns * sizeof *merged))) {
            r->tp->fail(r->tp, "checkpoint: out of memory");
            return;
        }
        for (size_t i = 0; i < ns; i++) {
            merged[i].loss = r->stats[i].loss + r->ck_stats[i].loss;
            merged[i].gpos = r->stats[i].gpos + r->ck_stats[i].gpos;
            merged[i].gneg = r->stats[i].gneg + r->ck_stats[i].gneg;
            merged[i].batches = r->stats[i].batches + r->ck_stats[i].batches;
        }
        ck.stats = merged;
    }
    uint8_t *neg[PFF_MAX_NODES]; /* at most lag <= N chapters ahead */
    long neg_n[PFF_MAX_NODES];
    int neg_chapter[PFF_MAX_NODES];
    for (int j = c + 1; j <= c + r->lag && j < r->S && ck.nneg < PFF_MAX_NODES; j++)
        if (r->ck_neg[j]) {
            neg[ck.nneg] = r->ck_neg[j];
            neg_n[ck.nneg] = r->ck_neg_n[j];
            neg_chapter[ck.nneg++] = j;
        }
    ck.neg = neg;
    ck.neg_n = neg_n;
    ck.neg_chapter = neg_chapter;
    int complete = 1;
    for (int k = 0; k < L; k++)
        complete &= ck.layer[k] != NULL;
    char err[PFF_ERRLEN];
    pff_unlock(&r->mu);
    int rc = complete ? pff_checkpoint_save(&ck, r->cfg->checkpoint, err) : PFF_EFAIL;
    free(merged);
    if (!complete)
        snprintf(err, PFF_ERRLEN, "internal error: chapter %d's state is incomplete", c + 1);
    if (rc) {
        char msg[PFF_ERRLEN + 32];
        snprintf(msg, sizeof msg, "checkpoint: %s", err);
        r->tp->fail(r->tp, msg);
    }
    pff_lock(&r->mu);
    for (int k = 0; k <= L; k++) {
        pff_layer_free(r->ck_layer[(size_t)c * (L + 1) + k]);
        r->ck_layer[(size_t)c * (L + 1) + k] = NULL;
    }
    free(r->ck_neg[c]);
    r->ck_neg[c] = NULL;
}

/* Main thread while nodes run: chapter lines in order, the checkpoint after
 * each chapter, a live bar, and a stop when a signal asks for one. */
static void monitor(run *r, double t0, long total)
{
    const pff_config *cfg = r->cfg;
    int next = r->start, bar = 0;
    /* a resumed run's log starts with the chapters the checkpoint holds, so it
     * ends as the log of an uninterrupted run */
    for (int c = 0; cfg->log && !r->mpi && c < r->start; c++) {
        pff_history h = history_of(r, c);
        log_chapter(r, &h);
    }
    pff_lock(&r->mu);
    for (;;) {
        while (!r->mpi && next < r->S && r->stages_done[next] == r->L + 1) {
            double el = now() - t0;
            long done = atomic_load(&r->progress);
            double eta = done > 0 ? el * (double)(total - done) / (double)done : 0.0;
            if (!cfg->quiet) {
                if (bar)
                    fprintf(stderr, "\r\033[K");
                bar = 0;
                print_chapter(r, next, el, eta > 0 ? eta : 0);
            }
            if (cfg->log) {
                pff_history h = history_of(r, next);
                log_chapter(r, &h);
            }
            if (cfg->checkpoint && !atomic_load(&r->tp->failed))
                save_checkpoint(r, next);
            next++;
        }
        /* over MPI: parts of each chapter's state travel to rank 0, which saves */
        while (r->ck_mpi && r->me != 0 && next < r->S &&
               r->stages_done[next] == local_stages(r, next) && !atomic_load(&r->tp->failed)) {
            if (local_stages(r, next)) {
                pff_bytes part;
                make_part(r, next, &part);
                pff_unlock(&r->mu); /* the nodes go on while the part travels */
                if (!part.ok || pff_mpi_note_send(part.p, part.n, next))
                    r->tp->fail(r->tp, "checkpoint: cannot send this rank's part to rank 0");
                free(part.p);
                pff_lock(&r->mu);
            }
            next++;
        }
        for (;;) {
            size_t len = 0;
            int tag = 0;
            unsigned char *part = r->ck_mpi && r->me == 0 ? pff_mpi_note_poll(&len, &tag) : NULL;
            if (!part)
                break;
            if (take_part(r, part, len)) {
                pff_unlock(&r->mu);
                r->tp->fail(r->tp, "checkpoint: a damaged part arrived from another rank");
                pff_lock(&r->mu);
            }
            free(part);
        }
        while (r->ck_mpi && r->me == 0 && next < r->S && r->stages_done[next] == r->L + 1) {
            if (!atomic_load(&r->tp->failed))
                save_checkpoint(r, next);
            next++;
        }
        if (r->nodes_done == r->nlocal &&
            (!r->ck_mpi || next == r->S || atomic_load(&r->tp->failed)))
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += r->ck_mpi ? 10000000L : 200000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
        if (pff_stop_signal && !atomic_load(&r->tp->failed)) {
            char msg[64];
            snprintf(msg, sizeof msg, "interrupted by signal %d", (int)pff_stop_signal);
            pff_unlock(&r->mu);
            r->tp->fail(r->tp, msg);
            pff_lock(&r->mu);
        }
        if (cfg->progress_bar && !cfg->quiet) {
            long done = atomic_load(&r->progress);
            int w = 30, f = total > 0 ? (int)(w * done / total) : 0;
            fprintf(stderr, "\r[%.*s%*s] %5.1f%%", f, "==============================", w - f, "",
                    total > 0 ? 100.0 * done / total : 0.0);
            bar = 1;
        }
    }
    pff_unlock(&r->mu);
    if (bar)
        fprintf(stderr, "\r\033[K");
}

int pff_train(const pff_config *cfg, const pff_dataset *train, pff_model *model, pff_result *res,
              char *err)
{
    run rr, *r = &rr;
    memset(r, 0, sizeof *r);
    memset(model, 0, sizeof *model);
    r->cfg = cfg;
    r->L = cfg->nlayers;
    r->S = cfg->splits;
    r->N = cfg->schedule == PFF_SEQUENTIAL ? 1 : cfg->schedule == PFF_SINGLE_LAYER ? r->L : cfg->nodes;
    r->dim = train->dim;
    r->train_n = train->index ? train->total : train->n;
    const int L = r->L, N = r->N, S = r->S;
    int rc = PFF_EFAIL, agreed = 0;
    double rss_sum = -1;
    r->mpi = cfg->transport == PFF_TRANSPORT_MPI;
    r->me = r->mpi ? cfg->rank : -1;
    r->nlocal = r->mpi ? 1 : N;
    if (r->mpi && ((cfg->schedule == PFF_SINGLE_LAYER && !cfg->sl_recompute) || r->me < 0 ||
                   r->me >= N)) {
        snprintf(err, PFF_ERRLEN, "--transport mpi: needs rank < nodes, and --recompute for "
                                  "single-layer");
        return PFF_EUSAGE;
    }
    if (pff_inputs_per_epoch(cfg) && cfg->schedule == PFF_SINGLE_LAYER && !cfg->sl_recompute) {
        snprintf(err, PFF_ERRLEN, "--augment shift with several epochs per chapter needs "
                                  "--recompute on single-layer (see pff_config_check)");
        return PFF_EUSAGE;
    }
    pff_blas_init();
    for (int k = 0; k <= L; k++)
        if (cfg->widths[k] > r->wmax)
            r->wmax = cfg->widths[k];

    r->layers = calloc((size_t)L, sizeof *r->layers);
    r->nodes = calloc((size_t)N, sizeof *r->nodes);
    r->stats = calloc((size_t)S * (L + 1), sizeof *r->stats);
    r->stages_done = calloc((size_t)S, sizeof *r->stages_done);
    r->acc = malloc((size_t)S * sizeof *r->acc);
    r->done_at = malloc((size_t)S * sizeof *r->done_at);
    r->eval_sec = calloc((size_t)S, sizeof *r->eval_sec);
    if (!r->layers || !r->nodes || !r->stats || !r->stages_done || !r->acc || !r->done_at ||
        !r->eval_sec)
        goto oom;
    for (int c = 0; c < S; c++)
        r->acc[c] = r->done_at[c] = -1.0;
    for (int k = 0; k < L; k++) {
        if (!(r->layers[k] = pff_layer_new(cfg->widths[k], cfg->widths[k + 1])))
            goto oom;
        pff_layer_init(r->layers[k], cfg->seed, k);
    }
    r->fdim = pff_feature_dim(r->layers, L);
    if (cfg->classifier == PFF_CLS_SOFTMAX) {
        if (!(r->head = pff_layer_new(r->fdim, PFF_CLASSES)))
            goto oom;
        pff_layer_init(r->head, cfg->seed, L);
        memset(r->head->w, 0, (size_t)r->fdim * PFF_CLASSES * sizeof(float));
    }
    r->lag = cfg->schedule == PFF_SINGLE_LAYER ? 1 : N;
    if (cfg->checkpoint || cfg->resume) {
        r->ck_layer = calloc((size_t)S * (L + 1), sizeof *r->ck_layer);
        r->ck_neg = calloc((size_t)S, sizeof *r->ck_neg);
        r->ck_neg_n = calloc((size_t)S, sizeof *r->ck_neg_n);
        if (!r->ck_layer || !r->ck_neg || !r->ck_neg_n)
            goto oom;
        r->ck_mpi = r->mpi && cfg->checkpoint;
        if (r->ck_mpi && r->me == 0 && !(r->ck_stats = calloc((size_t)S * (L + 1), sizeof *r->ck_stats)))
            goto oom;
    }
    if (cfg->resume) { /* the state after chapter start-1, as the checkpoint holds it */
        const pff_checkpoint *ck = cfg->resume;
        r->start = ck->next;
        /* start == S: every chapter was trained (the run died before saving its model);
         * the nodes have nothing to do and the model comes straight from the checkpoint */
        if (!ck->head != !r->head || ck->train_n != r->train_n) {
            snprintf(err, PFF_ERRLEN,
                     "--resume: the checkpoint was made on %ld training images after %d of %d "
                     "chapters; this run has %ld images",
                     ck->train_n, ck->next, S, r->train_n);
            rc = PFF_EUSAGE;
            goto out;
        }
        for (int k = 0; k < L; k++)
            pff_layer_copy(r->layers[k], ck->layer[k]);
        if (r->head)
            pff_layer_copy(r->head, ck->head);
        if (!r->mpi || r->me == 0) /* over MPI the ranks' stats are summed at the end */
            memcpy(r->stats, ck->stats, (size_t)r->start * (L + 1) * sizeof *r->stats);
        memcpy(r->acc, ck->acc, (size_t)r->start * sizeof *r->acc);
        for (int c = 0; c < r->start; c++)
            r->stages_done[c] = L + 1;
        for (int i = 0; i < ck->nneg; i++) {
            int j = ck->neg_chapter[i];
            if (j < r->start || j >= S || !(r->ck_neg[j] = malloc((size_t)ck->neg_n[i] + 1)))
                continue;
            memcpy(r->ck_neg[j], ck->neg[i], (size_t)ck->neg_n[i]);
            r->ck_neg_n[j] = ck->neg_n[i];
        }
    }
    for (int i = 0; i < N; i++) {
        node *nd = &r->nodes[i];
        nd->r = r;
        nd->id = i;
        nd->n = train->n;
        nd->img = train->x;
        nd->y = train->y;
    }
    if (train->index && !(r->mpi && cfg->schedule == PFF_FEDERATED)) {
        snprintf(err, PFF_ERRLEN, "a training set cut to one shard needs --schedule federated "
                                  "--transport mpi");
        rc = PFF_EUSAGE;
        goto out;
    }
    if (train->index) { /* MPI Federated: this process holds its node's shard only */
        r->nodes[r->me].index = train->index;
    } else if (cfg->schedule == PFF_FEDERATED && (rc = make_shards(r, train, err))) {
        goto out;
    }
    rc = PFF_EFAIL;
    for (int i = 0; i < N; i++)
        if ((!r->mpi || i == r->me) && node_alloc(r, &r->nodes[i]))
            goto oom;

    /* channels: LAYER k (k = L: head) cap 1; ACT/FREE/SNAP/RSNAP cap 2; NEG k cap S+1 */
    int nchan = ch(r, CH_RSNAP, 0) + L * L;
    int caps[(CH_RSNAP + 1) * (PFF_MAX_LAYERS + 1) + PFF_MAX_LAYERS * PFF_MAX_LAYERS];
    for (int i = 0; i < nchan; i++)
        caps[i] = i < L + 1 ? 1 : (i / (L + 1) == CH_NEG ? S + 1 : 2);
    if (r->mpi) {
        pff_codec codec = {r, codec_src, codec_dst, codec_pieces, codec_receiver, codec_sent};
        if (!(r->tp = pff_mpi_transport_new(&codec, nchan, S, err)))
            goto out;
    } else {
        if (pff_hub_init(&r->hub, nchan, caps))
            goto oom;
        r->tp = &r->hub.base;
    }
    /* glibc's default mutexes and conditions cannot fail to initialise */
    pff_sync_check(pthread_mutex_init(&r->mu, NULL), "pthread_mutex_init", __FILE__, __LINE__);
    pff_sync_check(pthread_cond_init(&r->cv, NULL), "pthread_cond_init", __FILE__, __LINE__);
    if (cfg->schedule == PFF_SINGLE_LAYER && L > 1 && !cfg->sl_recompute) {
        if (!(r->links = calloc((size_t)2 * (L - 1), sizeof *r->links)))
            goto oom_hub;
        for (int k = 0; k + 1 < L; k++)
            for (int b = 0; b < 2; b++) {
                float *p = malloc((size_t)2 * train->n * cfg->widths[k + 1] * sizeof(float));
                if (!p)
                    goto oom_hub;
                r->links[2 * k + b] = p;
                r->tp->publish(r->tp, ch(r, CH_FREE, k), r->start + b, p);
            }
    }

    /* batches in the whole run, for the ETA and the bar */
    long total = 0;
    for (int c = r->start; c < S; c++) {
        long nb = (r->nodes[c % N].n + cfg->batch - 1) / cfg->batch;
        total += (long)(L + (r->head != NULL)) * (cfg->epochs / S) * nb;
    }
    atomic_init(&r->progress, 0);
    if (r->mpi) { /* every rank set up, or none starts; then one clock start for all */
        agreed = 1;
        if ((rc = pff_mpi_agree(0))) {
            snprintf(err, PFF_ERRLEN, "another rank could not set up");
            goto teardown;
        }
        pff_mpi_barrier();
    }

    double t0 = r->t0 = now();
    int started = 0, first = r->mpi ? r->me : 0;
    for (; started < r->nlocal; started++)
        if (pthread_create(&r->nodes[first + started].thread, NULL, node_main,
                           &r->nodes[first + started])) {
            r->tp->fail(r->tp, "cannot start a node thread");
            pff_lock(&r->mu);
            r->nodes_done += r->nlocal - started;
            pff_unlock(&r->mu);
            break;
        }
    monitor(r, t0, total);
    int joined = 0;
    for (int i = 0; i < started; i++)
        joined += pthread_join(r->nodes[first + i].thread, NULL) == 0;
    if (joined != started && !atomic_load(&r->tp->failed))
        r->tp->fail(r->tp, "a node thread could not be joined");
    pff_span *mpi_spans = NULL;
    int mpi_nspans = 0;
    if (r->mpi && !atomic_load(&r->tp->failed)) {
        pff_mpi_transport_finish(r->tp); /* every rank's node is done */
        if (mpi_merge(r, &mpi_spans, &mpi_nspans))
            r->tp->fail(r->tp, "out of memory merging the ranks' results");
        struct rusage ru;
        rss_sum = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss / 1024.0 : 0;
        pff_mpi_sum(&rss_sum, 1); /* the job's memory: every rank's peak */
    }
    double t1 = now();

    if (atomic_load(&r->tp->failed)) {
        snprintf(err, PFF_ERRLEN, "%s", r->tp->error);
        rc = PFF_EFAIL;
    } else {
        rc = PFF_OK;
        res->train_seconds = t1 - t0;
        res->neg_seconds = 0;
        double flops = 0;
        for (int k = 0; k < L; k++)
            flops += 8.0 * cfg->widths[k] * cfg->widths[k + 1];
        flops *= (double)r->train_n * cfg->epochs;
        res->gflops = flops / res->train_seconds / 1e9;
        for (int i = 0; i < N && i < PFF_MAX_NODES; i++) {
            res->neg_seconds += r->nodes[i].negsec;
            res->node_busy[i] = r->nodes[i].busy;
            res->node_wait[i] = r->nodes[i].wait;
            res->node_images[i] = r->nodes[i].n;
        }
        res->train_n = (int)r->train_n;
        /* the nodes' spans, merged: the trace of the run */
        int total_spans = 0;
        for (int i = 0; i < N; i++)
            total_spans += r->nodes[i].nspans;
        pff_span *all = r->mpi ? NULL : malloc((size_t)(total_spans + 1) * sizeof *all);
        if (r->mpi) {
            res->spans = mpi_spans;
            res->nspans = mpi_nspans;
            if (cfg->rank == 0)
                mpi_chapter_lines(r);
        } else if (all) {
            for (int i = 0, at = 0; i < N; i++) {
                memcpy(all + at, r->nodes[i].spans, (size_t)r->nodes[i].nspans * sizeof *all);
                at += r->nodes[i].nspans;
            }
            res->spans = all;
            res->nspans = total_spans;
        }
        res->trace_nodes = N;
        res->trace_end = t1 - t0;
        model->cfg = *cfg;
        model->cfg.eval_set = NULL;
        model->cfg.log = NULL;
        model->cfg.record = NULL; /* the caller's, for checkpoints only */
        if ((model->history = malloc((size_t)S * sizeof *model->history))) {
            model->nhistory = S;
            for (int c = 0; c < S; c++)
                model->history[c] = history_of(r, c);
        }
        model->layer = r->layers;
        model->head = r->head;
        r->layers = NULL;
        r->head = NULL;
    }
    goto teardown;

oom_hub:
    snprintf(err, PFF_ERRLEN, "out of memory setting up the %s schedule", pff_schedule_name(cfg->schedule));
    rc = PFF_EFAIL;
teardown:
    if (r->mpi)
        pff_mpi_transport_free(r->tp, drop_item, r);
    else
        pff_hub_destroy(&r->hub, drop_item, r);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    goto out;
oom:
    snprintf(err, PFF_ERRLEN,
             "out of memory setting up the network %s with %d images on %d node(s)",
             "(see --layers)", train->n, N);
    rc = PFF_EFAIL;
out:
    if (r->mpi && !agreed) /* set-up failed here: the other ranks must not wait for us */
        pff_mpi_agree(rc ? rc : PFF_EFAIL);
    if (r->links)
        for (int i = 0; i < 2 * (L - 1); i++)
            free(r->links[i]);
    free(r->links);
    if (r->nodes)
        for (int i = 0; i < N; i++)
            node_free(r, &r->nodes[i]);
    free(r->nodes);
    if (r->layers)
        for (int k = 0; k < L; k++)
            pff_layer_free(r->layers[k]);
    free(r->layers);
    pff_layer_free(r->head);
    free(r->stats);
    free(r->stages_done);
    free(r->acc);
    free(r->done_at);
    free(r->eval_sec);
    if (r->ck_layer)
        for (size_t i = 0; i < (size_t)S * (L + 1); i++)
            pff_layer_free(r->ck_layer[i]);
    free(r->ck_layer);
    if (r->ck_neg)
        for (int c = 0; c < S; c++)
            free(r->ck_neg[c]);
    free(r->ck_neg);
    free(r->ck_neg_n);
    free(r->ck_stats);
    struct rusage ru;
    if (rss_sum >= 0)
        res->peak_rss_mb = rss_sum;
    else if (getrusage(RUSAGE_SELF, &ru) == 0)
        res->peak_rss_mb = ru.ru_maxrss / 1024.0;
    return rc;
}
