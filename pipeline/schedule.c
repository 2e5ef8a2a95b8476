/* pipeline/schedule.c — the PFF schedules on POSIX threads: the node bodies.
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
 *
 * Ownership: a layer object is owned by whichever node last got it; the
 * channel hands the pointer over, never a copy. Activation buffers are owned
 * by the node that maps into them until the consumer hands them back.
 *
 * Threads and cores: a node is one pthread. Inside a node, products and
 * element-wise passes use T = --threads OpenMP threads over disjoint tiles,
 * each product single-threaded in OpenBLAS (pff_blas_init sets OpenBLAS to
 * one thread), so node threads never share a BLAS pool and their products run
 * at the same time. N nodes x T threads may not exceed the cores unless
 * --oversubscribe is given (the command line's threads policy, cli/cmd_train.c).
 *
 * Failure: a node that fails calls transport->fail with its message; every
 * wait wakes, every compute loop sees the flag at its next batch, every node
 * returns, the main thread joins them all and returns the first message.
 *
 * This file holds the node bodies (what a node thread does, chapter by
 * chapter); pff_train (train.c) sets the run up, starts them and collects the
 * result, and the other files of a run are listed in run.h. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

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
    double t0 = pff_now();
    void *p = nd->r->tp->get(nd->r->tp, chan, chapter);
    double t1 = pff_now();
    nd->wait += t1 - t0;
    span(nd, PFF_SPAN_WAIT, layer, chapter, t0, t1);
    return p;
}

static int publish(node *nd, int chan, int layer, int chapter, void *obj)
{
    double t0 = pff_now();
    int rc = nd->r->tp->publish(nd->r->tp, chan, chapter, obj);
    double t1 = pff_now();
    nd->wait += t1 - t0;
    if (t1 - t0 > 1e-4)
        span(nd, PFF_SPAN_WAIT, layer, chapter, t0, t1);
    span(nd, PFF_SPAN_PUBLISH, layer, chapter, t1, t1);
    return rc;
}

/* Stage `stage` of chapter c is done: its statistics go to the main thread
 * (monitor, train.c), which tells the reporter once all L+1 stages are in. */
static void stage_finished(run *r, int c, int stage, const pff_stage_stats *st)
{
    pff_lock(&r->mu);
    r->stats[(size_t)c * (r->L + 1) + stage] = *st;
    if (++r->stages_done[c] == r->L + 1)
        r->done_at[c] = pff_now() - r->t0;
    pff_broadcast(&r->cv);
    pff_unlock(&r->mu);
}

/* Negatives of chapter c that do not depend on the network. */
static void draw_negatives(node *nd, int c)
{
    pff_negatives_draw(&nd->r->cfg->model, nd->neg, nd->y, nd->index, nd->n, c);
}

/* Is the test accuracy measured after chapter c (--eval-every)? */
static int eval_at(const pff_config *cfg, int c)
{
    return cfg->run.eval_every > 0 && cfg->run.eval_set &&
           ((c + 1) % cfg->run.eval_every == 0 || c + 1 == cfg->model.splits);
}

/* Does the chapter tail of chapter c need the whole network? */
static int tail_needs_net(const run *r, int c)
{
    return r->head != NULL || pff_neg_from_net(r->cfg->model.neg) || eval_at(r->cfg, c);
}

/* The chapter tail on a whole network: softmax head, then the adaptive or
 * hard negatives of chapter `serves` into neg_out (NULL: none wanted), then
 * the accuracy of the run's classifier on the evaluation set when asked for. */
static int chapter_tail(node *nd, int c, pff_layer *const *net, pff_layer *head, uint8_t *neg_out,
                        int serves, pff_stage_stats *st, char *err)
{
    run *r = nd->r;
    const pff_config *cfg = r->cfg;
    if (head) {
        double t0 = pff_now();
        pff_features(net, r->L, &nd->work, nd->img, nd->n, r->dim, nd->feat);
        int rc = pff_stage_softmax(&cfg->model, head, r->L, c, &nd->work, nd->feat, nd->y, nd->n, nd->fbuf,
                                   &r->tp->failed, &r->progress, st, err);
        span(nd, PFF_SPAN_HEAD, r->L, c, t0, pff_now());
        if (rc)
            return rc;
    }
    if (neg_out) {
        double t0 = pff_now();
        /* the paper's layers, whatever the classifier sums: --goodness-from never changes training */
        pff_goodness_table(net, r->L, pff_goodness_first(r->L, 0), &nd->work, nd->img, nd->n, r->dim,
                           nd->y, nd->table);
        pff_negatives_from_table(&cfg->model, neg_out, nd->table, nd->y, nd->index, nd->n, serves);
        double t1 = pff_now();
        nd->negsec += t1 - t0;
        span(nd, PFF_SPAN_NEGATIVES, -1, c, t0, t1);
    }
    if (eval_at(cfg, c)) {
        /* the run's classifier, as the final evaluation's test_accuracy: the head's logits (the
         * features nd->n images at a time in nd->feat, free again once the head has trained),
         * or the goodness of --goodness-from's layers */
        const pff_dataset *e = cfg->run.eval_set;
        double t0 = pff_now();
        if (head)
            pff_head_logits(net, r->L, head, &nd->work, e->x, e->n, r->dim, nd->feat, nd->n, nd->etable);
        else
            pff_goodness_table(net, r->L, pff_goodness_first(r->L, cfg->model.goodness_from),
                               &nd->work, e->x, e->n, r->dim, NULL, nd->etable);
        long right = 0;
        for (long i = 0; i < e->n; i++)
            right += pff_table_argmax(nd->etable + (size_t)i * PFF_CLASSES, -1) == e->y[i];
        r->acc[c] = e->n ? 100.0 * right / e->n : 0.0; /* chapter c's own slot: no lock needed */
        double t1 = pff_now();
        r->eval_sec[c] = t1 - t0;
        span(nd, PFF_SPAN_EVAL, -1, c, t0, t1);
    }
    return PFF_OK;
}

/* --augment shift with several epochs per chapter: layer k's input of global
 * epoch e is the images shifted for e, embedded with the chapter's labels and
 * mapped through the chapter's layers below (net[0..k-1]), as DESIGN.md §2
 * implies; it is rebuilt for every epoch. Returns the buffer holding it. */
static const float *epoch_input(node *nd, pff_layer *const *net, int k, int c, int e)
{
    run *r = nd->r;
    pff_embed_inputs(&r->cfg->model, nd->a0, nd->img, nd->y, nd->neg, nd->index, nd->n, r->dim, e, 1,
                     nd->work.threads);
    const float *in = nd->a0;
    for (int j = 0; j < k; j++) {
        float *out = in == nd->act[0] ? nd->act[1] : nd->act[0];
        double t0 = pff_now();
        pff_ff_map(net[j], &nd->work, in, 2 * nd->n, out);
        span(nd, PFF_SPAN_MAP, j, c, t0, pff_now());
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
    const int C = cfg->model.epochs / cfg->model.splits;
    if (!pff_inputs_per_epoch(&cfg->model)) {
        double t0 = pff_now();
        int rc = pff_stage_ff(&cfg->model, l, k, c, &nd->work, in, nd->n, nd->index, &r->tp->failed,
                              &r->progress, st, err);
        span(nd, PFF_SPAN_TRAIN, k, c, t0, pff_now());
        return rc;
    }
    for (int j = 0; j < C; j++) {
        const float *a = epoch_input(nd, net, k, c, c * C + j);
        double t0 = pff_now();
        int rc = pff_stage_ff_epochs(&cfg->model, l, k, c, j, j + 1, &nd->work, a, nd->n, nd->index,
                                     &r->tp->failed, &r->progress, st, err);
        span(nd, PFF_SPAN_TRAIN, k, c, t0, pff_now());
        if (rc)
            return rc;
    }
    return PFF_OK;
}

/* ---- All Layers (and Sequential, and Federated) ---- */

/* All Layers: the negatives of chapter c for a node whose first chapter is c0: made from the
 * network by this node after its chapter c - N (or, resumed, before the checkpoint), or drawn. */
static int all_layers_negatives(node *nd, int c, int c0, char *err)
{
    const pff_negs_source src = pff_negatives_source(nd->r->cfg->model.neg, c, c0, nd->r->N);
    if (src == PFF_NEGS_DRAW)
        draw_negatives(nd, c);
    if (src != PFF_NEGS_FROM_NET)
        return PFF_OK;
    if (c == c0)
        return pff_resumed_negatives(nd, c, err);
    uint8_t *t = nd->neg;
    nd->neg = nd->neg_next;
    nd->neg_next = t;
    return PFF_OK;
}

/* All Layers, after the L layers of chapter c: the head (from the previous node), the chapter
 * tail on this node's shadow network, which makes the negatives of its next chapter c + N, and
 * the head handed on. */
static int all_layers_tail(node *nd, int c, char *err)
{
    run *r = nd->r;
    const int L = r->L, N = r->N;
    pff_stage_stats st = {0};
    pff_layer *head = NULL;
    if (r->head && !(head = c == r->start ? r->head : get(nd, ch(r, CH_LAYER, L), L, c - 1)))
        return PFF_ABORTED;
    int want_neg = pff_neg_from_net(r->cfg->model.neg) && c + N < r->S;
    if (head && nd->stale)
        pff_layer_copy_moments(head, nd->stale[L]);
    int rc = chapter_tail(nd, c, nd->shadow, head, want_neg ? nd->neg_next : NULL, c + N, &st, err);
    if (head && nd->stale)
        pff_layer_copy_moments(nd->stale[L], head);
    if (!rc && head)
        rc = pff_keep_state(nd, c, L, head, err);
    if (!rc && want_neg)
        rc = pff_keep_negatives(nd, c + N, nd->neg_next, err);
    if (rc)
        return rc;
    if (head && publish(nd, ch(r, CH_LAYER, L), L, c, head))
        return PFF_ABORTED;
    stage_finished(r, c, L, &st);
    return PFF_OK;
}

/* All Layers: node nd trains chapters c0, c0 + N, ...: each layer in turn, got from the previous
 * node, trained, kept in the shadow network, handed on, and the data mapped through it. */
static int all_layers_node(node *nd, char *err)
{
    run *r = nd->r;
    const pff_config *cfg = r->cfg;
    const int L = r->L, N = r->N, S = r->S;
    const int C = cfg->model.epochs / S;
    const int per_epoch = pff_inputs_per_epoch(&cfg->model); /* then train_layer embeds and maps */
    int c0 = r->start + ((nd->id - r->start % N) + N) % N; /* this node's first chapter */
    for (int c = c0; c < S; c += N) {
        int rc = all_layers_negatives(nd, c, c0, err);
        if (rc)
            return rc;
        if (!per_epoch)
            pff_embed_inputs(&cfg->model, nd->a0, nd->img, nd->y, nd->neg, nd->index, nd->n, r->dim,
                             c * C, c == c0 || cfg->model.augment, nd->work.threads);
        const float *in = nd->a0;
        for (int k = 0; k < L; k++) {
            pff_layer *l = c == r->start ? r->layers[k] : get(nd, ch(r, CH_LAYER, k), k, c - 1);
            if (!l)
                return PFF_ABORTED;
            if (nd->stale) /* weights arrive, the Adam state is this node's own */
                pff_layer_copy_moments(l, nd->stale[k]);
            pff_stage_stats st = {0};
            rc = train_layer(nd, l, k, c, in, nd->shadow, &st, err);
            if (nd->stale)
                pff_layer_copy_moments(nd->stale[k], l);
            if (rc || (rc = pff_keep_state(nd, c, k, l, err)))
                return rc;
            pff_layer_copy_params(nd->shadow[k], l);
            if (publish(nd, ch(r, CH_LAYER, k), k, c, l))
                return PFF_ABORTED;
            if (k + 1 < L && !per_epoch) {
                float *out = in == nd->act[0] ? nd->act[1] : nd->act[0];
                double t0 = pff_now();
                pff_ff_map(nd->shadow[k], &nd->work, in, 2 * nd->n, out);
                span(nd, PFF_SPAN_MAP, k, c, t0, pff_now());
                in = out;
            }
            stage_finished(r, c, k, &st);
        }
        if ((rc = all_layers_tail(nd, c, err)))
            return rc;
    }
    return PFF_OK;
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
    const pff_negs_source src = pff_negatives_source(cfg->model.neg, c, r->start, 1);
    if (src != PFF_NEGS_FROM_NET) {
        if (src == PFF_NEGS_DRAW)
            draw_negatives(nd, c);
        return PFF_OK;
    }
    if (c == r->start) /* resumed: made before the checkpoint */
        return pff_resumed_negatives(nd, c, err);
    int got;
    uint8_t *neg = cfg->run.fast ? r->tp->latest(r->tp, chan, &got, free) : get(nd, chan, -1, c);
    if (!neg)
        return cfg->run.fast ? PFF_OK : PFF_ABORTED; /* fast: nothing new arrived, keep the current ones */
    memcpy(nd->neg, neg, (size_t)nd->n);
    free(neg);
    return PFF_OK;
}

static void free_net(pff_layer **net, int n)
{
    for (int j = 0; j < n; j++) {
        pff_layer_free(net[j]);
        net[j] = NULL;
    }
}

/* Single Layer, node k's input of chapter c into *in: embedded here (node 0,
 * and every node when recomputing: then mapped through the snapshots of the
 * layers below, kept in net[0..k-1]), or the activations node k-1 mapped. */
static int single_layer_input(node *nd, int c, pff_layer **net, const float **in, char *err)
{
    run *r = nd->r;
    const pff_config *cfg = r->cfg;
    const int L = r->L, k = nd->id, recompute = cfg->run.sl_recompute;
    const long n = nd->n;
    const int C = cfg->model.epochs / r->S;
    if (!(k == 0 || recompute))
        return (*in = get(nd, ch(r, CH_ACT, k), k, c)) ? PFF_OK : PFF_ABORTED;
    int rc;
    if ((rc = single_layer_negatives(nd, c, err)))
        return rc;
    const int per_epoch = pff_inputs_per_epoch(&cfg->model); /* then train_layer maps */
    if (!per_epoch)
        pff_embed_inputs(&cfg->model, nd->a0, nd->img, nd->y, nd->neg, nd->index, n, r->dim, c * C,
                         c == r->start || cfg->model.augment, nd->work.threads);
    *in = nd->a0;
    /* recompute: map the data through the layers below, from their snapshots */
    for (int j = 0; recompute && j < k; j++) {
        if (!(net[j] = get(nd, ch(r, CH_RSNAP, 0) + j * L + k, j, c)))
            return PFF_ABORTED;
        if (per_epoch)
            continue;
        float *out = *in == nd->act[0] ? nd->act[1] : nd->act[0];
        double t0 = pff_now();
        pff_ff_map(net[j], &nd->work, *in, 2 * n, out);
        span(nd, PFF_SPAN_MAP, j, c, t0, pff_now());
        *in = out;
    }
    return PFF_OK;
}

/* Single Layer, node k below the last after training layer l in chapter c:
 * the mapped activations to node k+1 (unless recomputing), and parameter
 * snapshots to every node above (recompute) or to the last node. */
static int single_layer_hand_on(node *nd, int c, const pff_layer *l, const float *in, char *err)
{
    run *r = nd->r;
    const int L = r->L, k = nd->id, recompute = r->cfg->run.sl_recompute;
    if (!recompute) {
        float *out = get(nd, ch(r, CH_FREE, k), k, c);
        if (!out)
            return PFF_ABORTED;
        double t0 = pff_now();
        pff_ff_map(l, &nd->work, in, 2 * nd->n, out);
        span(nd, PFF_SPAN_MAP, k, c, t0, pff_now());
        if (publish(nd, ch(r, CH_ACT, k + 1), k + 1, c, out))
            return PFF_ABORTED;
    }
    for (int m = recompute ? k + 1 : L - 1; m < L; m++) {
        if (!recompute && !tail_needs_net(r, c))
            break;
        pff_layer *s = snapshot(l, k, c, err);
        int chan = recompute ? ch(r, CH_RSNAP, 0) + k * L + m : ch(r, CH_SNAP, k);
        if (!s)
            return PFF_EFAIL;
        if (publish(nd, chan, k, c, s)) {
            pff_layer_free(s);
            return PFF_ABORTED;
        }
    }
    return PFF_OK;
}

/* Single Layer, the last node: the chapter tail of chapter c on the network
 * of chapter c (net[0..L-2]: snapshots of the layers below, l: its own), and
 * the new negatives to node 0, or to every node when each embeds its own. */
static int single_layer_tail(node *nd, int c, pff_layer **net, pff_layer *l, pff_stage_stats *tst,
                             char *err)
{
    run *r = nd->r;
    const pff_config *cfg = r->cfg;
    const int L = r->L, S = r->S, recompute = cfg->run.sl_recompute;
    const long n = nd->n;
    int rc = PFF_OK;
    for (int j = 0; !recompute && j + 1 < L; j++)
        if (!(net[j] = get(nd, ch(r, CH_SNAP, j), j, c)))
            return PFF_ABORTED;
    net[L - 1] = l;
    uint8_t *neg = NULL;
    if (pff_neg_from_net(cfg->model.neg) && c + 1 < S && !(neg = malloc((size_t)n))) {
        snprintf(err, PFF_ERRLEN, "chapter %d: out of memory for negatives", c + 1);
        rc = PFF_EFAIL;
    }
    if (!rc)
        rc = chapter_tail(nd, c, net, r->head, neg, c + 1, tst, err);
    if (!rc && r->head)
        rc = pff_keep_state(nd, c, L, r->head, err);
    if (!rc && neg)
        rc = pff_keep_negatives(nd, c + 1, neg, err);
    net[L - 1] = NULL;
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
            rc = PFF_ABORTED;
        }
        if (copy == neg)
            neg = NULL;
    }
    free(neg);
    return rc;
}

static int single_layer_node(node *nd, char *err)
{
    run *r = nd->r;
    const int L = r->L, S = r->S, k = nd->id, recompute = r->cfg->run.sl_recompute;
    pff_layer *l = r->layers[k];
    pff_layer *net[PFF_MAX_LAYERS] = {0}; /* snapshots of layers 0..k-1 (or L-2) of chapter c */
    for (int c = r->start; c < S; c++) {
        const float *in = NULL;
        pff_stage_stats st = {0};
        int rc = single_layer_input(nd, c, net, &in, err);
        if (!rc)
            rc = train_layer(nd, l, k, c, in, net, &st, err);
        if (!rc)
            rc = pff_keep_state(nd, c, k, l, err);
        if (!rc && k + 1 < L)
            rc = single_layer_hand_on(nd, c, l, in, err);
        if (rc) {
            free_net(net, k);
            return rc;
        }
        if (!recompute && k > 0 && publish(nd, ch(r, CH_FREE, k - 1), k - 1, c + 2, (void *)in))
            return PFF_ABORTED;
        stage_finished(r, c, k, &st);
        if (k + 1 < L) {
            free_net(net, k);
            continue;
        }
        pff_stage_stats tst = {0};
        if (tail_needs_net(r, c))
            rc = single_layer_tail(nd, c, net, l, &tst, err);
        free_net(net, L - 1);
        if (rc)
            return rc;
        stage_finished(r, c, L, &tst);
    }
    return PFF_OK;
}

void *pff_node_main(void *arg)
{
    node *nd = arg;
    run *r = nd->r;
    char err[PFF_ERRLEN] = "";
    double t0 = pff_now();
    int rc = r->cfg->run.schedule == PFF_SINGLE_LAYER ? single_layer_node(nd, err)
                                                   : all_layers_node(nd, err);
    if (rc != PFF_OK && rc != PFF_ABORTED) /* a failure of its own: tell everyone */
        r->tp->fail(r->tp, err[0] ? err : "node failed");
    nd->busy = pff_now() - t0 - nd->wait;
    pff_lock(&r->mu);
    r->nodes_done++;
    pff_broadcast(&r->cv);
    pff_unlock(&r->mu);
    return NULL;
}
