/* pipeline/chapter_state.c — --checkpoint: the state of each chapter, kept as
 * its stages finish and saved once the chapter is complete.
 *
 * On threads, a node that finishes stage k of chapter c keeps a full copy of
 * it (pff_keep_state), and the node that makes the adaptive negatives of a
 * later chapter keeps a copy of them (pff_keep_negatives); the main thread
 * writes the checkpoint of chapter c once all L+1 stages of c are in, in
 * chapter order (pff_save_checkpoint), and frees what chapter c kept. A
 * resumed run starts from the negatives its checkpoint holds
 * (pff_resumed_negatives). The copies live in run.ck_layer / run.ck_neg,
 * under run.mu.
 *
 * Over MPI (pff_checkpoint_exchange), see the block comment below. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"

/* --checkpoint: keeps a full copy of stage k's state after chapter c. */
int pff_keep_state(node *nd, int c, int k, const pff_layer *l, char *err)
{
    run *r = nd->r;
    if (!r->cfg->run.checkpoint)
        return PFF_OK;
    pff_layer *copy = pff_layer_new(l->in, l->out);
    if (!copy) {
        snprintf(err, PFF_ERRLEN, "chapter %d: out of memory for the checkpoint", c + 1);
        return PFF_EFAIL;
    }
    pff_layer_copy(copy, l);
    pff_lock(&r->mu);
    r->ck_layer[(size_t)c * (r->L + 1) + k] = copy;
    pff_unlock(&r->mu);
    return PFF_OK;
}

/* --checkpoint: keeps the adaptive negatives made for chapter `serves`. */
int pff_keep_negatives(node *nd, int serves, const uint8_t *neg, char *err)
{
    run *r = nd->r;
    if (!r->cfg->run.checkpoint || serves >= r->S)
        return PFF_OK;
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
    return PFF_OK;
}

/* Resumed run: the adaptive negatives the checkpoint holds for chapter c. */
int pff_resumed_negatives(node *nd, int c, char *err)
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
    return PFF_OK;
}

/* ---- checkpoints over MPI ----
 * Every rank keeps the state of the stages it trains (pff_keep_state,
 * pff_keep_negatives), as on threads. Once its part of chapter c is complete,
 * its main thread sends that part to rank 0 (make_part,
 * pff_checkpoint_exchange); rank 0's main
 * thread takes the parts as they come (take_part) and writes the checkpoint
 * of chapter c once all L+1 stages of c are in, in chapter order. A part:
 *   u32 chapter, u32 stages; per stage: u32 k, f64 loss, gpos, gneg,
 *   u64 batches, u32 has_layer, [u64 Adam step, f32 slab[3 nparam]];
 *   f64 test accuracy (-1: none); u32 serves (-1: no negatives), u32 n, u8 [n] */

/* Stages of chapter c this process trains. */
static int local_stages(const run *r, int c)
{
    if (r->cfg->run.schedule == PFF_SINGLE_LAYER)
        return r->me == r->L - 1 ? 2 : 1;
    return c % r->N == r->me ? r->L + 1 : 0;
}

/* This rank's part of chapter c for rank 0, as bytes (called with r->mu
 * held); frees what the rank kept for it. b->ok is 0 when out of memory. */
static void make_part(run *r, int c, pff_bytes *out)
{
    const int L = r->L;
    const int first = r->cfg->run.schedule == PFF_SINGLE_LAYER ? r->me : 0;
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
                  (r->cfg->run.schedule != PFF_SINGLE_LAYER || r->me == L - 1);
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
    return PFF_OK;
}

/* Writes the checkpoint of chapter c (called with r->mu held; unlocks it while
 * writing), then frees what chapter c kept. A failed write stops the run. */
void pff_save_checkpoint(run *r, int c)
{
    const int L = r->L;
    pff_checkpoint ck;
    memset(&ck, 0, sizeof ck);
    ck.cfg = *r->cfg;
    ck.next = c + 1;
    ck.train_n = r->train_n;
    if (r->cfg->run.record)
        ck.rec = *r->cfg->run.record; /* borrowed: ck is never freed */
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
    int rc = complete ? pff_checkpoint_save(&ck, r->cfg->run.checkpoint, err) : PFF_EFAIL;
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

/* Over MPI, with r->mu held (see the block comment above make_part). */
int pff_checkpoint_exchange(run *r, int next)
{
    /* another rank: send each part of this rank's as soon as it is complete */
    while (r->me != 0 && next < r->S && r->stages_done[next] == local_stages(r, next) &&
           !atomic_load(&r->tp->failed)) {
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
    /* rank 0: take the parts that have arrived, save every chapter that is complete */
    for (;;) {
        size_t len = 0;
        int tag = 0;
        unsigned char *part = r->me == 0 ? pff_mpi_note_poll(&len, &tag) : NULL;
        if (!part)
            break;
        if (take_part(r, part, len)) {
            pff_unlock(&r->mu);
            r->tp->fail(r->tp, "checkpoint: a damaged part arrived from another rank");
            pff_lock(&r->mu);
        }
        free(part);
    }
    while (r->me == 0 && next < r->S && r->stages_done[next] == r->L + 1) {
        if (!atomic_load(&r->tp->failed))
            pff_save_checkpoint(r, next);
        next++;
    }
    return next;
}
