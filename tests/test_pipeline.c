/* tests/test_pipeline.c — the thread transport and the schedules, run under
 * ThreadSanitizer by `make tsan`:
 *   - queue stress: a chain of stage threads and independent producer /
 *     consumer pairs pass thousands of items through bounded channels, order
 *     and payload checked;
 *   - failure wakes every waiter (blocked getters and a blocked publisher);
 *   - schedules: with fixed or random negatives, sequential, single-layer and
 *     all-layers with N = 2, 3, 4 write byte-identical models; adaptive
 *     single-layer (waiting mode) equals sequential; every schedule run twice
 *     gives the same bytes; fast mode and federated complete; the same with
 *     --dropout and --weight-decay, whose stage equals a batch-by-batch
 *     rebuild keyed by the shard's global image ids;
 *   - a non-finite loss stops every schedule with a message naming layer and
 *     chapter.
 * Built with the plain C products (make tsan), floating-point traps are on
 * (but for that last test): a NaN made anywhere is a SIGFPE, not a number
 * that a check might miss. */
#define _GNU_SOURCE /* feenableexcept */
#include <fenv.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../layers/layers.h"
#include "../pipeline/pipeline.h"
#include "check.h"

#define ITEMS 4000
#define STAGES 4

static pff_hub hub;

typedef struct {
    int id;
    int errors;
} stage_arg;

static void *chain_stage(void *p)
{
    stage_arg *a = p;
    pff_transport *t = &hub.base;
    for (int c = 0; c < ITEMS; c++) {
        intptr_t v = c * 3 + 1;
        if (a->id > 0) {
            void *got = t->get(t, a->id - 1, c);
            if ((intptr_t)got != c * 3 + a->id)
                a->errors++;
            v = (intptr_t)got + 1;
        }
        if (a->id < STAGES - 1 && t->publish(t, a->id, c, (void *)v))
            a->errors++;
    }
    return NULL;
}

static void *pair_producer(void *p)
{
    stage_arg *a = p;
    for (int c = 0; c < ITEMS; c++)
        if (hub.base.publish(&hub.base, a->id, c, (void *)(intptr_t)(c ^ a->id)))
            a->errors++;
    return NULL;
}

static void *pair_consumer(void *p)
{
    stage_arg *a = p;
    for (int c = 0; c < ITEMS; c++)
        if ((intptr_t)hub.base.get(&hub.base, a->id, c) != (c ^ a->id))
            a->errors++;
    return NULL;
}

static void test_queue_stress(void)
{
    /* channels 0..2: the chain; 3..8: three producer/consumer pairs */
    int caps[9] = {2, 2, 2, 1, 1, 2, 2, 3, 3};
    CHECK(pff_hub_init(&hub, 9, caps) == 0, "hub");
    pthread_t th[STAGES + 6];
    stage_arg args[STAGES + 6];
    for (int i = 0; i < STAGES; i++) {
        args[i] = (stage_arg){i, 0};
        pthread_create(&th[i], NULL, chain_stage, &args[i]);
    }
    for (int i = 0; i < 3; i++) {
        args[STAGES + 2 * i] = (stage_arg){3 + 2 * i, 0};
        args[STAGES + 2 * i + 1] = (stage_arg){3 + 2 * i, 0};
        pthread_create(&th[STAGES + 2 * i], NULL, pair_producer, &args[STAGES + 2 * i]);
        pthread_create(&th[STAGES + 2 * i + 1], NULL, pair_consumer, &args[STAGES + 2 * i + 1]);
    }
    int errors = 0, joined = 0;
    for (int i = 0; i < STAGES + 6; i++) {
        joined += pthread_join(th[i], NULL) == 0;
        errors += args[i].errors;
    }
    CHECK(joined == STAGES + 6, "every thread joined");
    CHECK(errors == 0, "queue stress: %d items out of order or wrong", errors);
    CHECK(!atomic_load(&hub.base.failed), "no failure");
    pff_hub_destroy(&hub, NULL, NULL);
}

static void *blocked_get(void *p)
{
    stage_arg *a = p;
    a->errors = hub.base.get(&hub.base, a->id, 0) != NULL;
    return NULL;
}

static void *blocked_put(void *p)
{
    stage_arg *a = p;
    int rc = hub.base.publish(&hub.base, a->id, 0, (void *)1);
    rc |= hub.base.publish(&hub.base, a->id, 1, (void *)1); /* full: blocks */
    a->errors = rc == 0;
    return NULL;
}

static void test_failure_wakes_all(void)
{
    int caps[4] = {1, 1, 1, 1};
    pff_hub_init(&hub, 4, caps);
    pthread_t th[4];
    stage_arg a[4] = {{0, 1}, {1, 1}, {2, 1}, {3, 1}};
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, blocked_get, &a[i]);
    pthread_create(&th[3], NULL, blocked_put, &a[3]);
    nanosleep(&(struct timespec){0, 50000000L}, NULL);
    hub.base.fail(&hub.base, "first error");
    hub.base.fail(&hub.base, "second error");
    int errors = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        errors += a[i].errors;
    }
    CHECK(errors == 0, "every waiter woke with the failure");
    CHECK(strcmp(hub.base.error, "first error") == 0, "the first error is kept: '%s'", hub.base.error);
    pff_hub_destroy(&hub, NULL, NULL);
}

/* ---- schedules on a tiny synthetic problem ---- */
static pff_dataset data;

static void make_data(void)
{
    data.n = 300;
    data.dim = 64;
    data.x = malloc(sizeof(float) * data.n * data.dim);
    data.y = malloc((size_t)data.n);
    for (int i = 0; i < data.n; i++) {
        data.y[i] = (uint8_t)(pff_hash(5, 0, 0, 0, i) % 10);
        for (int j = 0; j < data.dim; j++) {
            float base = (j % 10 == data.y[i]) ? 0.8f : 0.1f;
            data.x[i * data.dim + j] = base + 0.2f * pff_uniform(pff_hash(5, 1, 0, i, j));
        }
    }
}

static void base_config(pff_config *c)
{
    pff_config_default(c);
    c->model.nlayers = 3;
    c->model.widths[0] = 64, c->model.widths[1] = 32, c->model.widths[2] = 24, c->model.widths[3] = 16;
    c->model.epochs = 4;
    c->model.splits = 4;
    c->model.batch = 32;
    c->run.threads = 1;
    c->report.quiet = 1;
    c->model.seed = 42;
}

static atomic_int tmp_id;

/* Trains and returns the model file's bytes (NULL on failure, err set). */
static unsigned char *train_bytes(const pff_config *cfg, size_t *n, char *err)
{
    pff_model m;
    pff_result res;
    memset(&res, 0, sizeof res);
    if (pff_train(cfg, &data, &m, &res, err))
        return NULL;
    free(res.spans);
    char path[64];
    snprintf(path, sizeof path, "/tmp/pff_test_pipe_%d_%d.pff", (int)getpid(),
             atomic_fetch_add(&tmp_id, 1));
    int rc = pff_model_save(&m, path, err);
    pff_model_free(&m);
    if (rc)
        return NULL;
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(*n);
    if (fread(p, 1, *n, f) != *n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    unlink(path);
    return p;
}

static const char *describe(const pff_config *c)
{
    static char s[128];
    snprintf(s, sizeof s, "%s N=%d %s %s%s%s%s%s%s%s", pff_schedule_name(c->run.schedule),
             c->run.nodes,
             pff_neg_name(c->model.neg), pff_classifier_name(c->model.classifier), c->run.fast ? " fast" : "",
             c->run.sl_recompute ? " recompute" : "", c->run.stale_adam ? " stale-adam" : "",
             c->model.augment ? " shift" : "", c->model.dropout > 0 ? " dropout" : "",
             c->model.weight_decay > 0 ? " decay" : "");
    return s;
}

static void expect_same(const pff_config *ref, const pff_config *other)
{
    char err[PFF_ERRLEN] = "";
    size_t na = 0, nb = 0;
    unsigned char *a = train_bytes(ref, &na, err);
    CHECK(a != NULL, "%s: %s", describe(ref), err);
    unsigned char *b = train_bytes(other, &nb, err);
    CHECK(b != NULL, "%s: %s", describe(other), err);
    char what[300];
    snprintf(what, sizeof what, "%s", describe(ref));
    CHECK(a && b && na == nb && memcmp(a, b, na) == 0, "%s and %s give byte-identical models", what,
          describe(other));
    printf("  %-40s == %s\n", what, describe(other));
    free(a);
    free(b);
}

/* Negatives that depend on the model (adaptive, hard): single-layer in waiting mode, with and
 * without --recompute, and all-layers on one node are Sequential; all-layers on two nodes
 * reproduces itself. */
static void expect_model_led_schedules(const pff_config *seq)
{
    pff_config o = *seq;
    o.run.schedule = PFF_SINGLE_LAYER;
    o.run.nodes = 3;
    expect_same(seq, &o);
    o.run.sl_recompute = 1;
    expect_same(seq, &o);
    o = *seq;
    o.run.schedule = PFF_ALL_LAYERS;
    o.run.nodes = 1;
    expect_same(seq, &o);
    o.run.nodes = 2;
    expect_same(&o, &o);
}

static void test_equivalence(void)
{
    pff_neg_kind negs[2] = {PFF_NEG_FIXED, PFF_NEG_RANDOM};
    pff_classifier_kind cls[2] = {PFF_CLS_GOODNESS, PFF_CLS_SOFTMAX};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            pff_config seq, o;
            base_config(&seq);
            seq.model.neg = negs[i];
            seq.model.classifier = cls[j];
            o = seq;
            o.run.schedule = PFF_SINGLE_LAYER;
            o.run.nodes = 3;
            expect_same(&seq, &o);
            o.run.sl_recompute = 1;
            expect_same(&seq, &o);
            for (int n = 2; n <= 4; n++) {
                o = seq;
                o.run.schedule = PFF_ALL_LAYERS;
                o.run.nodes = n;
                expect_same(&seq, &o);
            }
        }
    /* --eval-every: the test accuracy is measured on the network of each chapter, wherever it is */
    {
        pff_config e;
        base_config(&e);
        e.model.neg = PFF_NEG_RANDOM;
        e.run.eval_every = 2;
        e.run.eval_set = &data;
        pff_config o = e;
        o.run.schedule = PFF_SINGLE_LAYER;
        o.run.nodes = 3;
        expect_same(&e, &o);
        o = e;
        o.run.schedule = PFF_ALL_LAYERS;
        o.run.nodes = 3;
        expect_same(&e, &o);
    }
    /* adaptive: single-layer in waiting mode is sequential; all-layers is reproducible */
    pff_config seq, o;
    base_config(&seq);
    seq.model.neg = PFF_NEG_ADAPTIVE;
    seq.model.classifier = PFF_CLS_SOFTMAX;
    expect_model_led_schedules(&seq);
    o = seq;
    o.run.schedule = PFF_ALL_LAYERS;
    o.run.nodes = 1;
    /* --handoff weights: with one node it is the full hand-off; with two it differs, reproducibly */
    o.run.stale_adam = 1;
    expect_same(&seq, &o);
    o.run.nodes = 2;
    expect_same(&o, &o);
    {
        pff_config full = o;
        full.run.stale_adam = 0;
        char err[PFF_ERRLEN] = "";
        size_t na = 0, nb = 0;
        unsigned char *a = train_bytes(&full, &na, err), *b = train_bytes(&o, &nb, err);
        CHECK(a && b && (na != nb || memcmp(a, b, na) != 0),
              "--handoff weights (stale Adam moments) changes the 2-node model");
        free(a);
        free(b);
    }
    o = seq;
    o.run.schedule = PFF_FEDERATED;
    o.run.nodes = 2;
    expect_same(&o, &o);
    o.run.shards = PFF_SHARDS_LABEL_SKEW;
    o.run.nodes = 3;
    expect_same(&o, &o);
    /* fast mode completes (its bytes may differ from run to run) */
    o = seq;
    o.run.schedule = PFF_SINGLE_LAYER;
    o.run.nodes = 3;
    o.run.fast = 1;
    char err[PFF_ERRLEN] = "";
    size_t n;
    unsigned char *p = train_bytes(&o, &n, err);
    CHECK(p != NULL, "fast mode trains: %s", err);
    free(p);
}

/* Two configurations give different models (the option really changes the training). */
static void expect_differ(const pff_config *a_cfg, const pff_config *b_cfg, const char *what)
{
    char err[PFF_ERRLEN] = "";
    size_t na = 0, nb = 0;
    unsigned char *a = train_bytes(a_cfg, &na, err), *b = train_bytes(b_cfg, &nb, err);
    CHECK(a && b && (na != nb || memcmp(a, b, na) != 0), "%s changes the model (%s)", what, err);
    printf("  %-40s != %s\n", describe(a_cfg), describe(b_cfg));
    free(a);
    free(b);
}

/* seq's bytes from Single Layer on 3 nodes (with --recompute, and in waiting mode too when
 * handover) and from All Layers on 2 and 3 nodes */
static void expect_schedules_equal(const pff_config *seq, int handover)
{
    pff_config o = *seq;
    o.run.schedule = PFF_SINGLE_LAYER;
    o.run.nodes = 3;
    if (handover)
        expect_same(seq, &o);
    o.run.sl_recompute = 1;
    expect_same(seq, &o);
    for (int n = 2; n <= 3; n++) {
        o = *seq;
        o.run.schedule = PFF_ALL_LAYERS;
        o.run.nodes = n;
        expect_same(seq, &o);
    }
}

/* Federated on 2 nodes, run twice: the same bytes */
static void expect_federated_reproducible(const pff_config *seq)
{
    pff_config o = *seq;
    o.run.schedule = PFF_FEDERATED;
    o.run.nodes = 2;
    expect_same(&o, &o);
}

/* --augment shift and --neg hard: the same function on every schedule */
static void test_equivalence_new_options(void)
{
    pff_config seq, o;
    /* shifts with random negatives: every schedule writes the same bytes */
    base_config(&seq);
    seq.model.widths[0] = 64; /* 8 x 8 pictures */
    seq.model.neg = PFF_NEG_RANDOM;
    seq.model.augment = PFF_AUGMENT_SHIFT;
    o = seq;
    o.model.augment = PFF_AUGMENT_NONE;
    expect_differ(&o, &seq, "--augment shift");
    expect_schedules_equal(&seq, 1);
    o = seq;
    o.model.augment = PFF_AUGMENT_SHIFT1;
    expect_differ(&o, &seq, "--augment shift1 (against shift)");
    expect_schedules_equal(&o, 1);
    /* several epochs per chapter: each epoch's shifted images are mapped again */
    seq.model.epochs = 4;
    seq.model.splits = 2;
    expect_schedules_equal(&seq, 0);
    {
        char err[PFF_ERRLEN] = "";
        pff_model m;
        pff_result res;
        o = seq;
        o.run.schedule = PFF_SINGLE_LAYER;
        o.run.nodes = 3;
        CHECK(pff_train(&o, &data, &m, &res, err) == PFF_EUSAGE && strstr(err, "--recompute"),
              "single-layer hand-over refuses per-epoch inputs: '%s'", err);
    }
    seq.model.epochs = seq.model.splits = 4;
    /* hard negatives (with shifts, and a softmax head): single-layer waiting mode is
     * sequential, all-layers with one node is sequential; with more it is reproducible */
    seq.model.neg = PFF_NEG_HARD;
    seq.model.hard_temp = 20.0f;
    seq.model.classifier = PFF_CLS_SOFTMAX;
    o = seq;
    o.model.neg = PFF_NEG_ADAPTIVE;
    expect_differ(&o, &seq, "--neg hard (against adaptive)");
    o = seq;
    o.model.hard_temp = 40.0f;
    expect_differ(&o, &seq, "--hard-temp");
    for (int aug = 0; aug < 2; aug++) {
        seq.model.augment = aug ? PFF_AUGMENT_SHIFT : PFF_AUGMENT_NONE;
        expect_model_led_schedules(&seq);
        expect_federated_reproducible(&seq);
    }
}

/* --dropout 0.2 --weight-decay 0.01: the same function on every schedule */
static void test_equivalence_regularisers(void)
{
    pff_config seq, o;
    base_config(&seq);
    seq.model.neg = PFF_NEG_RANDOM;
    seq.model.dropout = 0.2f;
    seq.model.weight_decay = 0.01f;
    o = seq;
    o.model.dropout = 0.0f;
    expect_differ(&o, &seq, "--dropout");
    o = seq;
    o.model.weight_decay = 0.0f;
    expect_differ(&o, &seq, "--weight-decay");
    /* random negatives: sequential, single-layer (waiting) and all-layers write the same bytes */
    expect_schedules_equal(&seq, 1);
    /* two epochs per chapter: the mask follows the global epoch, not the chapter */
    seq.model.epochs = 4;
    seq.model.splits = 2;
    expect_schedules_equal(&seq, 0);
    seq.model.epochs = seq.model.splits = 4;
    /* with hard negatives, shifted images and a softmax head (which never drops) */
    seq.model.neg = PFF_NEG_HARD;
    seq.model.hard_temp = 20.0f;
    seq.model.augment = PFF_AUGMENT_SHIFT;
    seq.model.classifier = PFF_CLS_SOFTMAX;
    expect_model_led_schedules(&seq);
    expect_federated_reproducible(&seq);
}

/* --goodness-from 1 changes what the goodness classifier sums, never training: with adaptive
 * negatives (drawn from the goodness table) the weights are those of the paper's rule, to the
 * bit, on every schedule; the chapters' test accuracies are measured with the chosen layers. */
static void test_goodness_from(void)
{
    pff_config a, b;
    base_config(&a);
    a.run.eval_set = &data;
    a.run.eval_every = 1;
    b = a;
    b.model.goodness_from = 1;
    pff_model ma, mb;
    pff_result ra, rb;
    char err[PFF_ERRLEN] = "";
    memset(&ra, 0, sizeof ra);
    memset(&rb, 0, sizeof rb);
    int ok = pff_train(&a, &data, &ma, &ra, err) == 0;
    CHECK(ok, "train (paper's rule): %s", err);
    ok = ok && pff_train(&b, &data, &mb, &rb, err) == 0;
    CHECK(ok, "train (--goodness-from 1): %s", err);
    if (!ok)
        return;
    int same = 1, acc_differ = 0;
    for (int k = 0; k < a.model.nlayers; k++)
        same &= memcmp(ma.layer[k]->slab, mb.layer[k]->slab, 3 * ma.layer[k]->nparam * sizeof(float)) == 0;
    for (int c = 0; c < ma.nhistory; c++)
        acc_differ |= ma.history[c].test_accuracy != mb.history[c].test_accuracy;
    /* the reference: the chapter-4 accuracy of layers 1..3 from the table, by hand */
    float *t = malloc(sizeof(float) * data.n * PFF_CLASSES);
    pff_work w;
    pff_work_init(&w, 2, 64, 64 * 32 + 32, 1);
    pff_goodness_table(mb.layer, 3, 0, &w, data.x, data.n, data.dim, NULL, t);
    long right = 0;
    for (int i = 0; i < data.n; i++)
        right += pff_table_argmax(t + (size_t)i * PFF_CLASSES, -1) == data.y[i];
    double want = 100.0 * right / data.n, got = mb.history[mb.nhistory - 1].test_accuracy;
    CHECK(same, "--goodness-from 1 trains the same weights and Adam state as the paper's rule");
    CHECK(fabs(got - want) < 1e-4, "--goodness-from 1: the last chapter's accuracy %.4f is that of "
          "layers 1..3 (%.4f)", got, want);
    printf("  --goodness-from 1: same weights, accuracy per chapter %s (last %.2f%% against %.2f%%)\n",
           acc_differ ? "differs" : "happens to agree", got, ma.history[ma.nhistory - 1].test_accuracy);
    free(t);
    pff_work_free(&w);
    free(ra.spans);
    free(rb.spans);
    pff_model_free(&ma);
    pff_model_free(&mb);
    b.run.eval_set = NULL;
    b.run.eval_every = 0;
    expect_model_led_schedules(&b);
}

/* --eval-every measures the run's classifier: with a softmax head each chapter's accuracy is the
 * head's, and the last chapter's is what pff_evaluate gives the trained model, on every schedule
 * (Federated computes a chapter's logits a shard's images at a time, pff_evaluate all at once). */
static void test_eval_softmax(void)
{
    pff_config a;
    base_config(&a);
    a.model.classifier = PFF_CLS_SOFTMAX;
    a.run.eval_set = &data;
    a.run.eval_every = 1;
    const struct {
        pff_schedule_kind schedule;
        int nodes;
        const char *name;
    } runs[] = {{PFF_SEQUENTIAL, 1, "sequential"},
                {PFF_SINGLE_LAYER, 3, "single-layer, 3 nodes"},
                {PFF_ALL_LAYERS, 2, "all-layers, 2 nodes"},
                {PFF_FEDERATED, 2, "federated, 2 nodes"}};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        pff_config c = a;
        c.run.schedule = runs[i].schedule;
        c.run.nodes = runs[i].nodes;
        pff_model m;
        pff_result res;
        char err[PFF_ERRLEN] = "";
        memset(&res, 0, sizeof res);
        if (pff_train(&c, &data, &m, &res, err)) {
            CHECK(0, "%s: train: %s", runs[i].name, err);
            continue;
        }
        double good = 0, soft = 0;
        CHECK(pff_evaluate(&m, &data, 1, &good, &soft, err) == 0, "%s: evaluate: %s", runs[i].name, err);
        double last = m.history[m.nhistory - 1].test_accuracy;
        CHECK(m.nhistory == 4 && fabs(last - 100 * soft) < 1e-4,
              "%s: the last chapter's accuracy %.4f%% is the softmax head's (%.4f%%; goodness %.4f%%)",
              runs[i].name, last, 100 * soft, 100 * good);
        free(res.spans);
        pff_model_free(&m);
    }
}

/* A --dropout --weight-decay stage on a shard (rows whose ids in the whole
 * set are index[]) equals a batch-by-batch rebuild from pff_ff_batch with the
 * documented key: layer k, global epoch e, the ids of the whole set. */
static void test_dropout_stage(void)
{
    pff_config cfg;
    base_config(&cfg);
    cfg.model.epochs = 4;
    cfg.model.splits = 2; /* chapter 1 holds global epochs 2 and 3 */
    cfg.model.dropout = 0.25f;
    cfg.model.weight_decay = 0.05f;
    const int k = 1, chapter = 1, B = cfg.model.batch, in = 64, out = 24;
    const long n = 100;
    int index[100];
    for (long i = 0; i < n; i++)
        index[i] = (int)(3 * i + 11); /* a shard: its rows are not the images' ids */
    float *a = malloc(sizeof(float) * 2 * n * in);
    for (long i = 0; i < 2 * n * in; i++)
        a[i] = pff_uniform(pff_hash(9, 9, 9, 9, (uint64_t)i));
    for (long r = 0; r < 2 * n; r++)
        pff_rms_normalise(a + r * in, in);
    pff_layer *l = pff_layer_new(in, out), *ref = pff_layer_new(in, out);
    pff_layer *local = pff_layer_new(in, out);
    pff_layer_init(l, cfg.model.seed, k);
    pff_layer_copy(ref, l);
    pff_layer_copy(local, l);
    pff_work w;
    pff_work_init(&w, 2 * B, in, l->nparam, 1);
    char err[PFF_ERRLEN] = "";
    int rc = pff_stage_ff(&cfg.model, l, k, chapter, &w, a, n, index, NULL, NULL, NULL, err);
    rc |= pff_stage_ff(&cfg.model, local, k, chapter, &w, a, n, NULL, NULL, NULL, NULL, err);
    CHECK(rc == 0, "stages: %s", err);
    int perm[100], ids[100];
    float *x = malloc(sizeof(float) * 2 * B * in);
    for (int e = 2; e < 4; e++) {
        pff_permutation(perm, (int)n, cfg.model.seed, PFF_RNG_SHUFFLE, (uint64_t)k, (uint64_t)e);
        for (long b0 = 0; b0 < n; b0 += B) {
            const int rows = (int)(n - b0 < B ? n - b0 : B);
            for (int i = 0; i < rows; i++) {
                memcpy(x + (size_t)i * in, a + (size_t)perm[b0 + i] * in, sizeof(float) * in);
                memcpy(x + (size_t)(rows + i) * in, a + (size_t)(n + perm[b0 + i]) * in,
                       sizeof(float) * in);
                ids[i] = index[perm[b0 + i]];
            }
            const pff_ff_reg reg = {0.25f, 0.05f, cfg.model.seed, k, e, ids};
            pff_ff_batch(ref, &w, x, rows, cfg.model.threshold * out,
                         pff_cooldown(cfg.model.lr, e, cfg.model.epochs), &reg, NULL);
        }
    }
    CHECK(memcmp(l->slab, ref->slab, 3 * l->nparam * sizeof(float)) == 0 && l->step == ref->step,
          "a dropout stage equals its rebuild keyed by (seed, layer, global epoch, image id)");
    CHECK(memcmp(l->slab, local->slab, l->nparam * sizeof(float)) != 0,
          "the check can fail: the shard's row numbers as ids give another layer");
    printf("  --dropout stage on a shard: equals a batch-by-batch rebuild with the global ids\n");
    free(x);
    free(a);
    pff_work_free(&w);
    pff_layer_free(l);
    pff_layer_free(ref);
    pff_layer_free(local);
}

/* --augment shift, 3 epochs in one chapter: layer 1 trains epoch e on the
 * images shifted for e; layer 2 trains epoch e on those images mapped through
 * the final layer 1 of the chapter (DESIGN.md §2). Rebuilt here stage by
 * stage from layers/ alone, the weights must equal pff_train's bit for bit. */
static void test_shift_dataflow(void)
{
    pff_config cfg;
    base_config(&cfg);
    cfg.model.nlayers = 2;
    cfg.model.epochs = 3;
    cfg.model.splits = 1;
    cfg.model.neg = PFF_NEG_FIXED;
    cfg.model.augment = PFF_AUGMENT_SHIFT;
    char err[PFF_ERRLEN] = "";
    pff_model m;
    pff_result res;
    memset(&res, 0, sizeof res);
    int rc = pff_train(&cfg, &data, &m, &res, err);
    CHECK(rc == 0, "train: %s", err);
    if (rc)
        return;
    free(res.spans);
    const long n = data.n;
    const int dim = data.dim, C = cfg.model.epochs;
    pff_layer *l1 = pff_layer_new(dim, cfg.model.widths[1]), *l2 = pff_layer_new(cfg.model.widths[1], cfg.model.widths[2]);
    pff_layer_init(l1, cfg.model.seed, 0);
    pff_layer_init(l2, cfg.model.seed, 1);
    pff_work w;
    pff_work_init(&w, 2 * cfg.model.batch, dim, l1->nparam, 1);
    float *a = malloc(sizeof(float) * 2 * n * dim), *h = malloc(sizeof(float) * 2 * n * dim);
    uint8_t *neg = malloc((size_t)n);
    pff_negatives_draw(&cfg.model, neg, data.y, NULL, n, 0);
    pff_stage_stats st = {0};
    for (int e = 0; e < C; e++) {
        pff_embed_inputs(&cfg.model, a, data.x, data.y, neg, NULL, n, dim, e, 1, 2);
        rc |= pff_stage_ff_epochs(&cfg.model, l1, 0, 0, e, e + 1, &w, a, n, NULL, NULL, NULL, &st,
                                  err);
    }
    for (int e = 0; e < C; e++) {
        pff_embed_inputs(&cfg.model, a, data.x, data.y, neg, NULL, n, dim, e, 1, 2);
        pff_ff_map(l1, &w, a, 2 * n, h);
        rc |= pff_stage_ff_epochs(&cfg.model, l2, 1, 0, e, e + 1, &w, h, n, NULL, NULL, NULL, &st,
                                  err);
    }
    CHECK(rc == 0, "reference stages: %s", err);
    CHECK(memcmp(m.layer[0]->slab, l1->slab, l1->nparam * sizeof(float)) == 0,
          "layer 1 trained epoch e on the images shifted for e");
    CHECK(memcmp(m.layer[1]->slab, l2->slab, l2->nparam * sizeof(float)) == 0,
          "layer 2 trained epoch e on epoch e's shifted images mapped through the final layer 1");
    /* and not on the unshifted images: the same reference without shifts differs */
    pff_config plain = cfg;
    plain.model.augment = PFF_AUGMENT_NONE;
    pff_embed_inputs(&plain.model, a, data.x, data.y, neg, NULL, n, dim, 0, 1, 1);
    pff_ff_map(l1, &w, a, 2 * n, h);
    pff_layer_init(l2, cfg.model.seed, 1);
    memset(l2->m, 0, 2 * l2->nparam * sizeof(float));
    l2->step = 0;
    for (int e = 0; e < C; e++)
        pff_stage_ff_epochs(&cfg.model, l2, 1, 0, e, e + 1, &w, h, n, NULL, NULL, NULL, &st, err);
    CHECK(memcmp(m.layer[1]->slab, l2->slab, l2->nparam * sizeof(float)) != 0,
          "the check can fail: unshifted inputs give another layer 2");
    printf("  --augment shift, 3 epochs in 1 chapter: both layers equal a stage-by-stage reference\n");
    free(a);
    free(h);
    free(neg);
    pff_work_free(&w);
    pff_layer_free(l1);
    pff_layer_free(l2);
    pff_model_free(&m);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void test_fault(void)
{
    pff_schedule_kind s[4] = {PFF_SEQUENTIAL, PFF_SINGLE_LAYER, PFF_ALL_LAYERS, PFF_FEDERATED};
    int nodes[4] = {1, 3, 3, 2};
    for (int i = 0; i < 4; i++)
        for (int cls = 0; cls < 2; cls++) {
            pff_config c;
            base_config(&c);
            c.run.schedule = s[i];
            c.run.nodes = nodes[i];
            c.model.classifier = cls ? PFF_CLS_SOFTMAX : PFF_CLS_GOODNESS;
            c.model.neg = PFF_NEG_ADAPTIVE;
            c.model.lr = 1e36f;
            char err[PFF_ERRLEN] = "";
            pff_model m;
            pff_result res;
            double t0 = now();
            int rc = pff_train(&c, &data, &m, &res, err);
            double dt = now() - t0;
            CHECK(rc == PFF_EFAIL, "%s: a non-finite loss fails the run (rc %d)", describe(&c), rc);
            CHECK(strstr(err, "layer ") && strstr(err, "chapter "), "%s: message names layer and chapter: '%s'",
                  describe(&c), err);
            CHECK(strstr(err, "not finite") && !strstr(err, "out of memory"),
                  "%s: the message says not finite, not out of memory: '%s'", describe(&c), err);
            CHECK(dt < 30, "%s: stopped in %.2f s", describe(&c), dt);
            printf("  %-40s stopped in %.3f s: %s\n", describe(&c), dt, err);
        }
}

/* Two pff_train calls at once in one process: each gives the bytes it gives
 * alone (nothing in a run is shared with another run). */
typedef struct {
    pff_config cfg;
    unsigned char *bytes;
    size_t n;
    char err[PFF_ERRLEN];
} concurrent_run;

static void *concurrent_train(void *p)
{
    concurrent_run *c = p;
    c->bytes = train_bytes(&c->cfg, &c->n, c->err);
    return NULL;
}

static void test_two_runs_at_once(void)
{
    concurrent_run a, b;
    base_config(&a.cfg);
    a.cfg.run.schedule = PFF_ALL_LAYERS, a.cfg.run.nodes = 2, a.cfg.model.neg = PFF_NEG_ADAPTIVE;
    base_config(&b.cfg);
    b.cfg.run.schedule = PFF_SINGLE_LAYER, b.cfg.run.nodes = 3, b.cfg.model.neg = PFF_NEG_RANDOM;
    b.cfg.model.classifier = PFF_CLS_SOFTMAX, b.cfg.model.seed = 7;
    size_t na = 0, nb = 0;
    char err[PFF_ERRLEN];
    unsigned char *alone_a = train_bytes(&a.cfg, &na, err);
    unsigned char *alone_b = train_bytes(&b.cfg, &nb, err);
    pthread_t ta, tb;
    int started = !pthread_create(&ta, NULL, concurrent_train, &a);
    started += !pthread_create(&tb, NULL, concurrent_train, &b);
    CHECK(started == 2, "two training threads started");
    if (started == 2) {
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        CHECK(alone_a && a.bytes && na == a.n && !memcmp(alone_a, a.bytes, na),
              "all-layers N=2 adaptive: the same bytes alone and beside another run (%s)", a.err);
        CHECK(alone_b && b.bytes && nb == b.n && !memcmp(alone_b, b.bytes, nb),
              "single-layer N=3 softmax: the same bytes alone and beside another run (%s)", b.err);
        free(a.bytes), free(b.bytes);
    }
    free(alone_a), free(alone_b);
}

int main(void)
{
    pff_blas_init();
#ifdef PFF_NO_BLAS
    /* an invalid operation or a division by zero in any node or worker thread stops the test
     * with SIGFPE (threads inherit the setting when they start): in the builds whose products
     * are pff's own (the ThreadSanitizer one), as test_layers says why */
    feenableexcept(FE_INVALID | FE_DIVBYZERO);
#endif
    test_queue_stress();
    test_failure_wakes_all();
    make_data();
    test_equivalence();
    test_equivalence_new_options();
    test_equivalence_regularisers();
    test_goodness_from();
    test_eval_softmax();
    test_dropout_stage();
    test_shift_dataflow();
#ifdef PFF_NO_BLAS
    fedisableexcept(FE_INVALID | FE_DIVBYZERO); /* the fault test makes its loss non-finite */
#endif
    test_fault();
    test_two_runs_at_once();
    pff_dataset_free(&data);
    return check_report("test_pipeline");
}
