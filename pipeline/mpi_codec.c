/* pipeline/mpi_codec.c — a run as the MPI transport (mpi.c) sees it: who
 * publishes and who takes each channel's items and which bytes make them
 * (the codec), and, after an MPI run, the merge of what every rank did. */
#include <stdlib.h>

#include "run.h"

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
    int moments = chan_kind(r, chan) == CH_LAYER && !r->cfg->run.stale_adam;
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
        return pff_layer_new(r->cfg->model.widths[j], r->cfg->model.widths[j + 1]);
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

pff_codec pff_run_codec(run *r)
{
    return (pff_codec){r, codec_src, codec_dst, codec_pieces, codec_receiver, codec_sent};
}

/* After an MPI run: every rank holds what its node did; make the whole run's
 * statistics, final layers and timings known, and the spans on rank 0. */
int pff_mpi_merge(run *r, pff_span **spans, int *nspans)
{
    const int L = r->L, S = r->S, N = r->N;
    size_t ns = (size_t)S * (L + 1);
    double *v = calloc(4 * ns + 3 * (size_t)N, sizeof *v);
    if (!v)
        return PFF_EFAIL;
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
        int root = r->cfg->run.schedule == PFF_SINGLE_LAYER ? (k < L ? k : L - 1) : (S - 1) % N;
        pff_mpi_bcast(l->slab, 3 * l->nparam * sizeof(float), root);
        pff_mpi_bcast(&l->step, sizeof l->step, root);
    }
    size_t total = 0;
    pff_span *all = pff_mpi_gather(nd->spans, (size_t)nd->nspans * sizeof *nd->spans, &total);
    *spans = all;
    *nspans = all ? (int)(total / sizeof *all) : 0;
    return PFF_OK;
}
