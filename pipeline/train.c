/* pipeline/train.c — pff_train: one training run from its configuration to
 * its model, on the calling thread.
 *
 * The steps, each a function below: resolve (the run's shape, and the checks
 * only a run can make), set_up (layers, statistics, the checkpoint's state),
 * place_data (each node's view of the training set, its buffers),
 * open_channels (the transport: the hub, or MPI), then run_nodes: start the
 * node threads (schedule.c), watch them from this thread (monitor: finished
 * chapters to the reporter and the checkpoint, progress, a stop on a signal),
 * join them, merge the ranks over MPI, and collect the model and the result.
 * Whatever was set up is torn down in reverse (close_channels, free_run).
 *
 * The run tells what it does through cfg->report.reporter (pff_reporter in pff.h) and
 * never prints: the command line decides what a chapter looks like. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "run.h"

volatile sig_atomic_t pff_stop_signal;

void pff_request_stop(int sig) { pff_stop_signal = sig; }
int pff_stop_requested(void) { return (int)pff_stop_signal; }

/* ---- what the reporter hears ---- */

/* Chapter c's record, from the stages' sums. */
static pff_history history_of(const run *r, int c)
{
    const pff_config *cfg = r->cfg;
    const int C = cfg->model.epochs / cfg->model.splits;
    pff_history h;
    memset(&h, 0, sizeof h);
    h.chapter = c + 1;
    h.lr = pff_cooldown(cfg->model.lr, (c + 1) * C - 1, cfg->model.epochs);
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

/* Tells the reporter that chapter c is complete (elapsed -1: not timed). */
static void tell_chapter(const run *r, int c, int log_only, double elapsed, double eta)
{
    const pff_reporter *rep = r->cfg->report.reporter;
    if (!rep || !rep->on_chapter)
        return;
    const int L = r->L;
    pff_chapter_note note;
    memset(&note, 0, sizeof note);
    note.chapters = r->S;
    note.nlayers = L;
    note.log_only = log_only;
    for (int k = 0; k < L; k++) {
        const pff_stage_stats *s = &r->stats[(size_t)c * (L + 1) + k];
        double b = s->batches ? (double)s->batches : 1.0;
        note.loss[k] = s->loss / b;
        note.gpos[k] = s->gpos / b;
        note.gneg[k] = s->gneg / b;
    }
    const pff_stage_stats *h = &r->stats[(size_t)c * (L + 1) + L];
    note.head_loss = r->head && h->batches ? h->loss / h->batches : -1;
    note.test_accuracy = r->acc[c];
    note.seconds = log_seconds(r, c);
    note.elapsed = elapsed;
    note.eta = eta;
    pff_history hist = history_of(r, c);
    rep->on_chapter(rep->ctx, &hist, &note);
}

/* ---- the main thread while the nodes run ---- */

/* Threads: every chapter complete from `next` on goes to the reporter, then
 * into the checkpoint (r->mu held). Returns the next chapter not complete. */
static int finished_chapters(run *r, int next)
{
    while (next < r->S && r->stages_done[next] == r->L + 1) {
        double el = pff_now() - r->t0;
        long done = atomic_load(&r->progress);
        double eta = done > 0 ? el * (double)(r->total - done) / (double)done : 0.0;
        tell_chapter(r, next, 0, el, eta > 0 ? eta : 0);
        if (r->cfg->run.checkpoint && !atomic_load(&r->tp->failed))
            pff_save_checkpoint(r, next);
        next++;
    }
    return next;
}

/* Waits (r->mu held) until a node reports, or a short while has passed. */
static void nap(run *r)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += r->ck_mpi ? 10000000L : 200000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&r->cv, &r->mu, &ts);
}

/* Main thread while nodes run: finished chapters in order to the reporter,
 * the checkpoint after each chapter, progress, and a stop when a signal asks
 * for one. */
static void monitor(run *r)
{
    const pff_reporter *rep = r->cfg->report.reporter;
    int next = r->start;
    /* a resumed run's log starts with the chapters the checkpoint holds, so it
     * ends as the log of an uninterrupted run */
    for (int c = 0; !r->mpi && c < r->start; c++)
        tell_chapter(r, c, 1, -1, 0);
    pff_lock(&r->mu);
    for (;;) {
        if (!r->mpi)
            next = finished_chapters(r, next);
        if (r->ck_mpi) /* over MPI: parts of each chapter's state travel to rank 0, which saves */
            next = pff_checkpoint_exchange(r, next);
        if (r->nodes_done == r->nlocal &&
            (!r->ck_mpi || next == r->S || atomic_load(&r->tp->failed)))
            break;
        nap(r);
        if (pff_stop_signal && !atomic_load(&r->tp->failed)) {
            char msg[64];
            snprintf(msg, sizeof msg, "interrupted by signal %d", (int)pff_stop_signal);
            pff_unlock(&r->mu);
            r->tp->fail(r->tp, msg);
            pff_lock(&r->mu);
        }
        if (rep && rep->on_progress)
            rep->on_progress(rep->ctx, atomic_load(&r->progress), r->total);
    }
    pff_unlock(&r->mu);
    if (rep && rep->on_nodes_done)
        rep->on_nodes_done(rep->ctx);
}

/* ---- set-up ---- */

/* The run's shape from cfg, and the checks only pff_train can make
 * (PFF_EUSAGE with a message); nothing is allocated. */
static int resolve(run *r, const pff_config *cfg, const pff_dataset *train, char *err)
{
    r->cfg = cfg;
    r->L = cfg->model.nlayers;
    r->S = cfg->model.splits;
    r->N = cfg->run.schedule == PFF_SEQUENTIAL ? 1 : cfg->run.schedule == PFF_SINGLE_LAYER ? r->L : cfg->run.nodes;
    r->dim = train->dim;
    r->train_n = train->index ? train->total : train->n;
    r->mpi = cfg->run.transport == PFF_TRANSPORT_MPI;
    r->me = r->mpi ? cfg->run.rank : -1;
    r->nlocal = r->mpi ? 1 : r->N;
    r->lag = cfg->run.schedule == PFF_SINGLE_LAYER ? 1 : r->N;
    for (int k = 0; k <= r->L; k++)
        if (cfg->model.widths[k] > r->wmax)
            r->wmax = cfg->model.widths[k];
    if (r->mpi && ((cfg->run.schedule == PFF_SINGLE_LAYER && !cfg->run.sl_recompute) || r->me < 0 ||
                   r->me >= r->N)) {
        snprintf(err, PFF_ERRLEN, "--transport mpi: needs rank < nodes, and --recompute for "
                                  "single-layer");
        return PFF_EUSAGE;
    }
    if (pff_inputs_per_epoch(&cfg->model) && cfg->run.schedule == PFF_SINGLE_LAYER && !cfg->run.sl_recompute) {
        snprintf(err, PFF_ERRLEN, "--augment shift with several epochs per chapter needs "
                                  "--recompute on single-layer (see pff_config_check)");
        return PFF_EUSAGE;
    }
    return PFF_OK;
}

static int out_of_memory(const run *r, const pff_dataset *train, char *err)
{
    snprintf(err, PFF_ERRLEN,
             "out of memory setting up the network %s with %d images on %d node(s)",
             "(see --layers)", train->n, r->N);
    return PFF_EFAIL;
}

/* The run's layers (initialised), its per-chapter records and, with
 * --checkpoint or --resume, room for each chapter's state. */
static int set_up(run *r, const pff_dataset *train, char *err)
{
    const pff_config *cfg = r->cfg;
    const int L = r->L, N = r->N, S = r->S;
    r->layers = calloc((size_t)L, sizeof *r->layers);
    r->nodes = calloc((size_t)N, sizeof *r->nodes);
    r->stats = calloc((size_t)S * (L + 1), sizeof *r->stats);
    r->stages_done = calloc((size_t)S, sizeof *r->stages_done);
    r->acc = malloc((size_t)S * sizeof *r->acc);
    r->done_at = malloc((size_t)S * sizeof *r->done_at);
    r->eval_sec = calloc((size_t)S, sizeof *r->eval_sec);
    if (!r->layers || !r->nodes || !r->stats || !r->stages_done || !r->acc || !r->done_at ||
        !r->eval_sec)
        return out_of_memory(r, train, err);
    for (int c = 0; c < S; c++)
        r->acc[c] = r->done_at[c] = -1.0;
    for (int k = 0; k < L; k++) {
        if (!(r->layers[k] = pff_layer_new(cfg->model.widths[k], cfg->model.widths[k + 1])))
            return out_of_memory(r, train, err);
        pff_layer_init(r->layers[k], cfg->model.seed, k);
    }
    r->fdim = pff_feature_dim(r->layers, L);
    if (cfg->model.classifier == PFF_CLS_SOFTMAX) {
        if (!(r->head = pff_layer_new(r->fdim, PFF_CLASSES)))
            return out_of_memory(r, train, err);
        pff_layer_init(r->head, cfg->model.seed, L);
        memset(r->head->w, 0, (size_t)r->fdim * PFF_CLASSES * sizeof(float));
    }
    if (cfg->run.checkpoint || cfg->run.resume) {
        r->ck_layer = calloc((size_t)S * (L + 1), sizeof *r->ck_layer);
        r->ck_neg = calloc((size_t)S, sizeof *r->ck_neg);
        r->ck_neg_n = calloc((size_t)S, sizeof *r->ck_neg_n);
        if (!r->ck_layer || !r->ck_neg || !r->ck_neg_n)
            return out_of_memory(r, train, err);
        r->ck_mpi = r->mpi && cfg->run.checkpoint;
        if (r->ck_mpi && r->me == 0 && !(r->ck_stats = calloc((size_t)S * (L + 1), sizeof *r->ck_stats)))
            return out_of_memory(r, train, err);
    }
    return PFF_OK;
}

/* --resume: the state after chapter start-1, as the checkpoint holds it. */
static int resume(run *r, char *err)
{
    const pff_checkpoint *ck = r->cfg->run.resume;
    const int L = r->L, S = r->S;
    r->start = ck->next;
    /* start == S: every chapter was trained (the run died before saving its model);
     * the nodes have nothing to do and the model comes straight from the checkpoint */
    if (!ck->head != !r->head || ck->train_n != r->train_n) {
        snprintf(err, PFF_ERRLEN,
                 "--resume: the checkpoint was made on %ld training images after %d of %d "
                 "chapters; this run has %ld images",
                 ck->train_n, ck->next, S, r->train_n);
        return PFF_EUSAGE;
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
    return PFF_OK;
}

/* Each node's view of the training set (the whole set, or its shard), and
 * its buffers (this process's nodes only, over MPI). */
static int place_data(run *r, const pff_dataset *train, char *err)
{
    for (int i = 0; i < r->N; i++) {
        node *nd = &r->nodes[i];
        nd->r = r;
        nd->id = i;
        nd->n = train->n;
        nd->img = train->x;
        nd->y = train->y;
    }
    if (train->index && !(r->mpi && r->cfg->run.schedule == PFF_FEDERATED)) {
        snprintf(err, PFF_ERRLEN, "a training set cut to one shard needs --schedule federated "
                                  "--transport mpi");
        return PFF_EUSAGE;
    }
    int rc;
    if (train->index) /* MPI Federated: this process holds its node's shard only */
        r->nodes[r->me].index = train->index;
    else if (r->cfg->run.schedule == PFF_FEDERATED && (rc = pff_make_shards(r, train, err)))
        return rc;
    for (int i = 0; i < r->N; i++)
        if ((!r->mpi || i == r->me) && pff_node_alloc(r, &r->nodes[i]))
            return out_of_memory(r, train, err);
    return PFF_OK;
}

/* The transport and the run's lock; *open is set once close_channels must
 * undo them. Single Layer's activation buffers start in their FREE channels. */
static int open_channels(run *r, const pff_dataset *train, int *open, char *err)
{
    const pff_config *cfg = r->cfg;
    const int L = r->L, S = r->S;
    /* channels: LAYER k (k = L: head) cap 1; ACT/FREE/SNAP/RSNAP cap 2; NEG k cap S+1 */
    int nchan = ch(r, CH_RSNAP, 0) + L * L;
    int caps[(CH_RSNAP + 1) * (PFF_MAX_LAYERS + 1) + PFF_MAX_LAYERS * PFF_MAX_LAYERS];
    for (int i = 0; i < nchan; i++)
        caps[i] = i < L + 1 ? 1 : (i / (L + 1) == CH_NEG ? S + 1 : 2);
    if (r->mpi) {
        pff_codec codec = pff_run_codec(r);
        if (!(r->tp = pff_mpi_transport_new(&codec, nchan, S, cfg->report.reporter, err)))
            return PFF_EFAIL;
    } else {
        if (pff_hub_init(&r->hub, nchan, caps))
            return out_of_memory(r, train, err);
        r->tp = &r->hub.base;
    }
    /* glibc's default mutexes and conditions cannot fail to initialise */
    pff_sync_check(pthread_mutex_init(&r->mu, NULL), "pthread_mutex_init", __FILE__, __LINE__);
    pff_sync_check(pthread_cond_init(&r->cv, NULL), "pthread_cond_init", __FILE__, __LINE__);
    *open = 1;
    if (cfg->run.schedule == PFF_SINGLE_LAYER && L > 1 && !cfg->run.sl_recompute) {
        if (!(r->links = calloc((size_t)2 * (L - 1), sizeof *r->links)))
            goto oom;
        for (int k = 0; k + 1 < L; k++)
            for (int b = 0; b < 2; b++) {
                float *p = malloc((size_t)2 * train->n * cfg->model.widths[k + 1] * sizeof(float));
                if (!p)
                    goto oom;
                r->links[2 * k + b] = p;
                r->tp->publish(r->tp, ch(r, CH_FREE, k), r->start + b, p);
            }
    }
    return PFF_OK;
oom:
    snprintf(err, PFF_ERRLEN, "out of memory setting up the %s schedule",
             pff_schedule_name(cfg->run.schedule));
    return PFF_EFAIL;
}

/* Batches in the whole run, for the ETA and the bar. */
static long total_batches(const run *r)
{
    const pff_config *cfg = r->cfg;
    long total = 0;
    for (int c = r->start; c < r->S; c++) {
        long nb = (r->nodes[c % r->N].n + cfg->model.batch - 1) / cfg->model.batch;
        total += (long)(r->L + (r->head != NULL)) * (cfg->model.epochs / r->S) * nb;
    }
    return total;
}

/* ---- the run ---- */

/* Starts this process's node threads; returns how many started (the rest
 * count as done, and the run is failed). */
static int start_nodes(run *r, int first)
{
    int started = 0;
    for (; started < r->nlocal; started++)
        if (pthread_create(&r->nodes[first + started].thread, NULL, pff_node_main,
                           &r->nodes[first + started])) {
            r->tp->fail(r->tp, "cannot start a node thread");
            pff_lock(&r->mu);
            r->nodes_done += r->nlocal - started;
            pff_unlock(&r->mu);
            break;
        }
    return started;
}

static void join_nodes(run *r, int first, int started)
{
    int joined = 0;
    for (int i = 0; i < started; i++)
        joined += pthread_join(r->nodes[first + i].thread, NULL) == 0;
    if (joined != started && !atomic_load(&r->tp->failed))
        r->tp->fail(r->tp, "a node thread could not be joined");
}

/* A successful run's figures into res (spans: the trace, from the ranks over
 * MPI, else merged here), and its model, which takes the run's layers. */
static void collect(run *r, pff_model *model, pff_result *res, double seconds, pff_span *mpi_spans,
                    int mpi_nspans)
{
    const pff_config *cfg = r->cfg;
    const int L = r->L, N = r->N, S = r->S;
    /* training time excludes the --eval-every evaluations (one accounting everywhere: the log's
     * seconds do the same); they are eval_seconds, to which pff train adds its final one */
    double eval = 0;
    for (int c = r->start; c < S; c++)
        eval += r->eval_sec[c] > 0 ? r->eval_sec[c] : 0;
    res->train_seconds = seconds - eval > 0 ? seconds - eval : 0;
    res->eval_seconds = eval;
    res->neg_seconds = 0;
    double flops = 0;
    for (int k = 0; k < L; k++)
        flops += 8.0 * cfg->model.widths[k] * cfg->model.widths[k + 1];
    /* the epochs this process trained: a resumed run's seconds count from its own start */
    flops *= (double)r->train_n * cfg->model.epochs * (S - r->start) / S;
    res->gflops = res->train_seconds > 0 ? flops / res->train_seconds / 1e9 : 0.0;
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
        for (int c = 0; cfg->run.rank == 0 && c < S; c++) /* rank 0 tells, once the stats are merged */
            tell_chapter(r, c, 0, -1, 0);
    } else if (all) {
        for (int i = 0, at = 0; i < N; i++) {
            memcpy(all + at, r->nodes[i].spans, (size_t)r->nodes[i].nspans * sizeof *all);
            at += r->nodes[i].nspans;
        }
        res->spans = all;
        res->nspans = total_spans;
    }
    res->trace_nodes = N;
    res->trace_end = seconds;
    model->cfg = cfg->model;
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

/* Starts the nodes, watches them, joins them, merges the ranks (MPI; *rss_sum
 * then receives the job's peak memory) and collects the result. */
static int run_nodes(run *r, pff_model *model, pff_result *res, double *rss_sum, char *err)
{
    const int first = r->mpi ? r->me : 0;
    r->t0 = pff_now();
    int started = start_nodes(r, first);
    monitor(r);
    join_nodes(r, first, started);
    pff_span *mpi_spans = NULL;
    int mpi_nspans = 0;
    if (r->mpi && !atomic_load(&r->tp->failed)) {
        pff_mpi_transport_finish(r->tp); /* every rank's node is done */
        if (pff_mpi_merge(r, &mpi_spans, &mpi_nspans))
            r->tp->fail(r->tp, "out of memory merging the ranks' results");
        struct rusage ru;
        *rss_sum = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss / 1024.0 : 0;
        pff_mpi_sum(rss_sum, 1); /* the job's memory: every rank's peak */
    }
    double t1 = pff_now();
    if (atomic_load(&r->tp->failed)) {
        snprintf(err, PFF_ERRLEN, "%s", r->tp->error);
        free(mpi_spans);
        return PFF_EFAIL;
    }
    collect(r, model, res, t1 - r->t0, mpi_spans, mpi_nspans);
    return PFF_OK;
}

/* ---- tear-down ---- */

static void close_channels(run *r)
{
    if (r->mpi)
        pff_mpi_transport_free(r->tp, pff_drop_item, r);
    else
        pff_hub_destroy(&r->hub, pff_drop_item, r);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
}

static void free_run(run *r)
{
    const int L = r->L, N = r->N, S = r->S;
    if (r->links)
        for (int i = 0; i < 2 * (L - 1); i++)
            free(r->links[i]);
    free(r->links);
    if (r->nodes)
        for (int i = 0; i < N; i++)
            pff_node_free(r, &r->nodes[i]);
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
}

int pff_train(const pff_config *cfg, const pff_dataset *train, pff_model *model, pff_result *res,
              char *err)
{
    run rr, *r = &rr;
    memset(r, 0, sizeof *r);
    memset(model, 0, sizeof *model);
    int rc = resolve(r, cfg, train, err);
    if (rc)
        return rc;
    pff_blas_init();
    int open = 0, agreed = 0;
    double rss_sum = -1;
    rc = set_up(r, train, err);
    if (!rc && cfg->run.resume)
        rc = resume(r, err);
    if (!rc)
        rc = place_data(r, train, err);
    if (!rc)
        rc = open_channels(r, train, &open, err);
    if (!rc) {
        r->total = total_batches(r);
        atomic_init(&r->progress, 0);
    }
    if (!rc && r->mpi) { /* every rank set up, or none starts; then one clock start for all */
        agreed = 1;
        if ((rc = pff_mpi_agree(PFF_OK)))
            snprintf(err, PFF_ERRLEN, "another rank could not set up");
        else
            pff_mpi_barrier();
    }
    if (!rc)
        rc = run_nodes(r, model, res, &rss_sum, err);
    if (open)
        close_channels(r);
    if (r->mpi && !agreed) /* set-up failed here: the other ranks must not wait for us */
        pff_mpi_agree(rc ? rc : PFF_EFAIL);
    free_run(r);
    struct rusage ru;
    if (rss_sum >= 0)
        res->peak_rss_mb = rss_sum;
    else if (getrusage(RUSAGE_SELF, &ru) == 0)
        res->peak_rss_mb = ru.ru_maxrss / 1024.0;
    return rc;
}
