/* layers/model.c — configurations, model files and evaluation.
 *
 * Model file, version 2, little-endian:
 *   "PFFMODEL"  u32 version  u32 L  u32 widths[L+1]  f32 threshold
 *   u32 epochs  u32 splits  u32 batch  f32 lr  f32 softmax_lr  u32 neg
 *   u32 classifier  u64 seed  u32 has_head
 *   for each layer: f32 W[out*in]  f32 b[out]
 *   when has_head:  f32 W[10*D]    f32 b[10]
 *   u32 H, then H chapter records: u32 chapter  f32 lr  f32 test_accuracy
 *                                  f32 loss[L]  f32 gpos[L]  f32 gneg[L]
 *   u64 FNV-1a of every byte before it
 * Version 3 is version 2 with two fields after the seed, u32 augment and
 * f32 hard_temp; it is written only when a run used them (--neg hard or
 * --augment shift), so every other model keeps its version-2 bytes. Both
 * versions load.
 * Only what defines the function is stored (no schedule, nodes, threads or
 * timings), so schedules that compute the same model write the same bytes.
 * Files are written to a temporary name in the same directory, flushed and
 * renamed, so a reader never sees half a model and a failed save leaves any
 * existing file untouched. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "layers.h"

#define MODEL_MAGIC "PFFMODEL"
#define MODEL_VERSION 2u /* 2: chapter records after the head */
#define MODEL_VERSION_EXT 3u /* 3: + augment and hard_temp (written only when used) */

const char *const pff_schedule_names[4] = {"sequential", "single-layer", "all-layers",
                                            "federated"};
const char *const pff_neg_names[4] = {"adaptive", "fixed", "random", "hard"};
const char *const pff_classifier_names[2] = {"goodness", "softmax"};
const char *const pff_shard_names[2] = {"iid", "label-skew"};
const char *const pff_augment_names[2] = {"none", "shift"};

const char *pff_schedule_name(pff_schedule_kind s)
{
    return (unsigned)s < 4 ? pff_schedule_names[s] : "?";
}
const char *pff_neg_name(pff_neg_kind n) { return (unsigned)n < 4 ? pff_neg_names[n] : "?"; }
const char *pff_augment_name(pff_augment_kind a)
{
    return (unsigned)a < 2 ? pff_augment_names[a] : "?";
}
const char *pff_classifier_name(pff_classifier_kind c)
{
    return (unsigned)c < 2 ? pff_classifier_names[c] : "?";
}

void pff_config_default(pff_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->nlayers = 3;
    cfg->widths[0] = 784;
    cfg->widths[1] = cfg->widths[2] = cfg->widths[3] = 500;
    cfg->threshold = 1.0f;
    cfg->epochs = 10;
    cfg->splits = 5;
    cfg->batch = 64;
    cfg->lr = 0.001f;
    cfg->softmax_lr = 0.001f;
    cfg->neg = PFF_NEG_ADAPTIVE;
    cfg->hard_temp = 1.0f;
    cfg->classifier = PFF_CLS_GOODNESS;
    cfg->seed = 1;
    cfg->schedule = PFF_SEQUENTIAL;
    cfg->nodes = 1;
    cfg->threads = 1;
}

double pff_memory_estimate(const pff_config *cfg, long n)
{
    double params = 0, wmax = cfg->widths[0], fdim = 0;
    for (int k = 0; k < cfg->nlayers; k++) {
        params += (double)cfg->widths[k] * cfg->widths[k + 1] + cfg->widths[k + 1];
        if (cfg->widths[k + 1] > wmax)
            wmax = cfg->widths[k + 1];
        if (k > 0 || cfg->nlayers == 1)
            fdim += cfg->widths[k + 1];
    }
    int N = cfg->schedule == PFF_SEQUENTIAL ? 1 : cfg->nodes;
    double per_node = 2.0 * n * (cfg->widths[0] + 2 * wmax) * 4 + params * 4 +
                      (cfg->classifier == PFF_CLS_SOFTMAX ? n * fdim * 4 : 0);
    return params * 12 + N * per_node;
}

int pff_config_check(const pff_config *cfg, int input_dim, long train_n, int cores,
                     int oversubscribe, char *err)
{
    const int L = cfg->nlayers;
    if (L < 1 || L > PFF_MAX_LAYERS) {
        snprintf(err, PFF_ERRLEN, "--layers: %d layers, expected 1..%d after the input width", L,
                 PFF_MAX_LAYERS);
        return PFF_EUSAGE;
    }
    if (cfg->widths[0] != input_dim) {
        snprintf(err, PFF_ERRLEN,
                 "--layers: input width %d, but the images have %d pixels (expected --layers %d,...)",
                 cfg->widths[0], input_dim, input_dim);
        return PFF_EUSAGE;
    }
    for (int k = 1; k <= L; k++)
        if (cfg->widths[k] < 1) {
            snprintf(err, PFF_ERRLEN, "--layers: width %d of layer %d, expected at least 1",
                     cfg->widths[k], k);
            return PFF_EUSAGE;
        }
    if (cfg->epochs < 1 || cfg->splits < 1 || cfg->epochs % cfg->splits) {
        snprintf(err, PFF_ERRLEN,
                 "--epochs %d --splits %d: epochs must be a positive multiple of splits "
                 "(each chapter trains epochs/splits whole epochs)",
                 cfg->epochs, cfg->splits);
        return PFF_EUSAGE;
    }
    if (cfg->batch < 1 || cfg->batch > 4096) {
        snprintf(err, PFF_ERRLEN, "--batch %d: expected 1..4096", cfg->batch);
        return PFF_EUSAGE;
    }
    if (!(cfg->lr > 0 && isfinite(cfg->lr)) || !(cfg->softmax_lr > 0 && isfinite(cfg->softmax_lr)) ||
        !(cfg->threshold > 0 && isfinite(cfg->threshold))) {
        snprintf(err, PFF_ERRLEN, "--lr, --softmax-lr and --threshold must be positive numbers");
        return PFF_EUSAGE;
    }
    if (!(cfg->hard_temp > 0 && isfinite(cfg->hard_temp))) {
        snprintf(err, PFF_ERRLEN, "--hard-temp %g: expected a positive number", (double)cfg->hard_temp);
        return PFF_EUSAGE;
    }
    if ((unsigned)cfg->neg > PFF_NEG_HARD || (unsigned)cfg->augment > PFF_AUGMENT_SHIFT) {
        snprintf(err, PFF_ERRLEN, "--neg or --augment: unknown kind (%d, %d)", (int)cfg->neg,
                 (int)cfg->augment);
        return PFF_EUSAGE;
    }
    if (cfg->augment == PFF_AUGMENT_SHIFT) {
        int side = (int)lround(sqrt((double)input_dim));
        if (side * side != input_dim || side <= 2 * PFF_SHIFT_MAX) {
            snprintf(err, PFF_ERRLEN,
                     "--augment shift: the images have %d pixels, not a square picture wider than "
                     "%d pixels",
                     input_dim, 2 * PFF_SHIFT_MAX);
            return PFF_EUSAGE;
        }
        /* layer k trains on the shifted images of each epoch mapped through layers < k
         * (DESIGN.md §2); with several epochs per chapter a node maps them once per epoch
         * through the chapter's layers below, which a single-layer node can only do from
         * parameter snapshots */
        if (pff_inputs_per_epoch(cfg) && cfg->schedule == PFF_SINGLE_LAYER && !cfg->sl_recompute) {
            snprintf(err, PFF_ERRLEN,
                     "--augment shift with %d epochs per chapter on --schedule single-layer: "
                     "each epoch's shifted images must be mapped through the layers below, "
                     "which a node does from parameter snapshots: add --recompute (or give one "
                     "epoch per chapter, --splits %d)",
                     cfg->splits > 0 ? cfg->epochs / cfg->splits : 0, cfg->epochs);
            return PFF_EUSAGE;
        }
    }
    int N = cfg->nodes;
    if (cfg->schedule == PFF_SEQUENTIAL && N != 1) {
        snprintf(err, PFF_ERRLEN, "--nodes %d: the sequential schedule runs on 1 node", N);
        return PFF_EUSAGE;
    }
    if (cfg->schedule == PFF_SINGLE_LAYER && N != L) {
        snprintf(err, PFF_ERRLEN,
                 "--nodes %d: single-layer runs one node per FF layer; --layers has %d layers, so "
                 "use --nodes %d",
                 N, L, L);
        return PFF_EUSAGE;
    }
    if (N < 1 || N > PFF_MAX_NODES) {
        snprintf(err, PFF_ERRLEN, "--nodes %d: expected 1..%d", N, PFF_MAX_NODES);
        return PFF_EUSAGE;
    }
    if (cfg->fast && cfg->schedule != PFF_SINGLE_LAYER) {
        snprintf(err, PFF_ERRLEN, "--fast applies to --schedule single-layer only");
        return PFF_EUSAGE;
    }
    if (cfg->sl_recompute && cfg->schedule != PFF_SINGLE_LAYER) {
        snprintf(err, PFF_ERRLEN, "--recompute applies to --schedule single-layer only");
        return PFF_EUSAGE;
    }
    if (cfg->stale_adam && cfg->schedule != PFF_ALL_LAYERS && cfg->schedule != PFF_FEDERATED) {
        snprintf(err, PFF_ERRLEN,
                 "--handoff weights applies to --schedule all-layers or federated only (layers "
                 "do not travel in the others)");
        return PFF_EUSAGE;
    }
    if (cfg->threads < 1 || cfg->threads > 256) {
        snprintf(err, PFF_ERRLEN, "--threads %d: expected 1..256", cfg->threads);
        return PFF_EUSAGE;
    }
    if (!oversubscribe && (long)N * cfg->threads > cores) {
        snprintf(err, PFF_ERRLEN,
                 "--nodes %d x --threads %d = %d threads on %d cores; lower them, or add "
                 "--oversubscribe to run anyway",
                 N, cfg->threads, N * cfg->threads, cores);
        return PFF_EUSAGE;
    }
    if (train_n < (long)N * cfg->batch && cfg->schedule == PFF_FEDERATED) {
        snprintf(err, PFF_ERRLEN, "--nodes %d: %ld training images cannot feed %d shards of a batch",
                 N, train_n, N);
        return PFF_EUSAGE;
    }
    double need = pff_memory_estimate(cfg, train_n);
    double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (have > 0 && need > have) {
        snprintf(err, PFF_ERRLEN,
                 "--layers: this network needs about %.1f GiB for %ld images, but the machine has "
                 "%.1f GiB of memory",
                 need / 1073741824.0, train_n, have / 1073741824.0);
        return PFF_EUSAGE;
    }
    return PFF_OK;
}

/* ---- serialisation (layers/bytes.h) ---- */
static size_t header_size(int L, uint32_t version)
{
    return 8 + 4 + 4 + 4 * (size_t)(L + 1) + 4 * 8 + 8 + 4 + (version >= MODEL_VERSION_EXT ? 8 : 0);
}

/* Does a configuration need the version-3 fields? */
static int needs_ext(const pff_config *c)
{
    return c->neg == PFF_NEG_HARD || c->augment != PFF_AUGMENT_NONE;
}

static size_t body_floats(const int *widths, int L, int head_in)
{
    size_t f = 0;
    for (int k = 0; k < L; k++)
        f += (size_t)widths[k] * widths[k + 1] + widths[k + 1];
    if (head_in)
        f += (size_t)head_in * PFF_CLASSES + PFF_CLASSES;
    return f;
}

/* Writes bytes to path atomically: temp file in the same directory, fsync, rename. */
int pff_write_atomic(const char *path, const void *data, size_t n, char *err)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
        return PFF_EFAIL;
    }
    snprintf(tmp, len + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, PFF_ERRLEN, "%s: cannot create a file there: %s", path, strerror(errno));
        free(tmp);
        return PFF_EUSAGE;
    }
    const unsigned char *p = data;
    size_t left = n;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, PFF_ERRLEN, "%s: write failed: %s", path, strerror(errno));
            close(fd);
            unlink(tmp);
            free(tmp);
            return PFF_EFAIL;
        }
        p += w;
        left -= (size_t)w;
    }
    fchmod(fd, 0644);
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        snprintf(err, PFF_ERRLEN, "%s: cannot finish writing: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return PFF_EFAIL;
    }
    free(tmp);
    return PFF_OK;
}

/* The start both file formats share: magic, version, widths and the maths settings. */
void pff_put_header(pff_bytes *b, const char *magic, uint32_t version, const pff_config *c)
{
    pff_put(b, magic, 8);
    pff_put32(b, version);
    pff_put32(b, (uint32_t)c->nlayers);
    for (int k = 0; k <= c->nlayers; k++)
        pff_put32(b, (uint32_t)c->widths[k]);
    pff_putf(b, c->threshold);
    pff_put32(b, (uint32_t)c->epochs);
    pff_put32(b, (uint32_t)c->splits);
    pff_put32(b, (uint32_t)c->batch);
    pff_putf(b, c->lr);
    pff_putf(b, c->softmax_lr);
    pff_put32(b, (uint32_t)c->neg);
    pff_put32(b, (uint32_t)c->classifier);
    pff_put64(b, c->seed);
}

int pff_model_save(const pff_model *m, const char *path, char *err)
{
    const pff_config *c = &m->cfg;
    const int L = c->nlayers, head_in = m->head ? m->head->in : 0;
    const uint32_t version = needs_ext(c) ? MODEL_VERSION_EXT : MODEL_VERSION;
    pff_bytes b = {NULL, 0, 0, 1};
    b.cap = header_size(L, version) + 4 * body_floats(c->widths, L, head_in) + 4 +
            (size_t)m->nhistory * (12 + 12 * (size_t)L) + 8;
    if (!(b.p = malloc(b.cap))) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
        return PFF_EFAIL;
    }
    pff_put_header(&b, MODEL_MAGIC, version, c);
    if (version >= MODEL_VERSION_EXT) {
        pff_put32(&b, (uint32_t)c->augment);
        pff_putf(&b, c->hard_temp);
    }
    pff_put32(&b, (uint32_t)head_in);
    for (int k = 0; k < L; k++)
        pff_putfs(&b, m->layer[k]->slab, m->layer[k]->nparam);
    if (m->head)
        pff_putfs(&b, m->head->slab, m->head->nparam);
    pff_put32(&b, (uint32_t)m->nhistory);
    for (int i = 0; i < m->nhistory; i++) {
        const pff_history *h = &m->history[i];
        pff_put32(&b, (uint32_t)h->chapter);
        pff_putf(&b, h->lr);
        pff_putf(&b, h->test_accuracy);
        pff_putfs(&b, h->loss, (size_t)L);
        pff_putfs(&b, h->gpos, (size_t)L);
        pff_putfs(&b, h->gneg, (size_t)L);
    }
    pff_put64(&b, pff_fnv1a(b.p, b.n));
    int rc = b.ok ? pff_write_atomic(path, b.p, b.n, err) : PFF_EFAIL;
    if (!b.ok)
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
    free(b.p);
    return rc;
}

static unsigned char *read_file(const char *path, size_t *n, char *err)
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, PFF_ERRLEN, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, PFF_ERRLEN, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    unsigned char *p = malloc((size_t)st.st_size + 1);
    if (!p || fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        snprintf(err, PFF_ERRLEN, "%s: cannot read %lld bytes", path, (long long)st.st_size);
        free(p);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *n = (size_t)st.st_size;
    return p;
}

int pff_model_load(pff_model *m, const char *path, char *err)
{
    memset(m, 0, sizeof *m);
    size_t n;
    unsigned char *p = read_file(path, &n, err);
    if (!p)
        return PFF_EUSAGE;
    int rc = PFF_EUSAGE;
    pff_config *c = &m->cfg;
    pff_config_default(c);
    if (n < 20 || memcmp(p, MODEL_MAGIC, 8) != 0) {
        snprintf(err, PFF_ERRLEN, "%s: not a pff model (bad magic; expected \"%s\")", path, MODEL_MAGIC);
        goto out;
    }
    uint32_t version = pff_get32(p + 8), L = pff_get32(p + 12);
    if (version != MODEL_VERSION && version != MODEL_VERSION_EXT) {
        snprintf(err, PFF_ERRLEN, "%s: model format version %u, this pff reads versions %u and %u%s",
                 path, version, MODEL_VERSION, MODEL_VERSION_EXT,
                 version > MODEL_VERSION_EXT ? " (written by a newer pff)" : "");
        goto out;
    }
    if (L < 1 || L > PFF_MAX_LAYERS || n < header_size((int)L, version) + 8) {
        snprintf(err, PFF_ERRLEN, "%s: layer count %u or size %zu bytes is invalid", path, L, n);
        goto out;
    }
    const unsigned char *q = p + 16;
    c->nlayers = (int)L;
    for (uint32_t k = 0; k <= L; k++, q += 4) {
        uint32_t w = pff_get32(q);
        if (w < 1 || w > (1u << 24) || (k == 0 && w < PFF_CLASSES)) {
            snprintf(err, PFF_ERRLEN, "%s: width %u of layer %u is invalid", path, w, k);
            goto out;
        }
        c->widths[k] = (int)w;
    }
    c->threshold = pff_getf(q), q += 4;
    c->epochs = (int)pff_get32(q), q += 4;
    c->splits = (int)pff_get32(q), q += 4;
    c->batch = (int)pff_get32(q), q += 4;
    c->lr = pff_getf(q), q += 4;
    c->softmax_lr = pff_getf(q), q += 4;
    c->neg = (pff_neg_kind)pff_get32(q), q += 4;
    c->classifier = (pff_classifier_kind)pff_get32(q), q += 4;
    c->seed = pff_get64(q), q += 8;
    if (version >= MODEL_VERSION_EXT) {
        c->augment = (pff_augment_kind)pff_get32(q), q += 4;
        c->hard_temp = pff_getf(q), q += 4;
        /* only runs that used these settings write version 3: one model, one byte string */
        if ((unsigned)c->augment > PFF_AUGMENT_SHIFT || !(c->hard_temp > 0 && isfinite(c->hard_temp)) ||
            !needs_ext(c)) {
            snprintf(err, PFF_ERRLEN, "%s: version-3 settings are invalid (augment %u, hard_temp %g, "
                     "negatives %u)", path, (unsigned)c->augment, (double)c->hard_temp, (unsigned)c->neg);
            goto out;
        }
    } else if (needs_ext(c)) {
        snprintf(err, PFF_ERRLEN, "%s: version-2 model with negatives kind %u (hard), which only "
                 "version 3 holds", path, (unsigned)c->neg);
        goto out;
    }
    uint32_t head_in = pff_get32(q);
    q += 4;
    int fdim = 0;
    for (uint32_t k = (L == 1 ? 0 : 1); k < L; k++)
        fdim += c->widths[k + 1];
    if (head_in != 0 && head_in != (uint32_t)fdim) {
        snprintf(err, PFF_ERRLEN, "%s: softmax head of %u inputs, expected %d for these layers", path,
                 head_in, fdim);
        goto out;
    }
    size_t body = header_size((int)L, version) + 4 * body_floats(c->widths, (int)L, (int)head_in);
    uint32_t nhist = n >= body + 4 ? pff_get32(p + body) : 0;
    if (nhist > (uint32_t)(c->splits > 0 ? c->splits : 0)) {
        snprintf(err, PFF_ERRLEN, "%s: %u chapter records, expected at most %d (one per chapter)",
                 path, nhist, c->splits);
        goto out;
    }
    size_t want = body + 4 + (size_t)nhist * (12 + 12 * (size_t)L) + 8;
    if (n != want) {
        snprintf(err, PFF_ERRLEN, "%s: %zu bytes, expected %zu for this network (file %s)", path, n,
                 want, n < want ? "truncated" : "has trailing bytes");
        goto out;
    }
    if (pff_fnv1a(p, n - 8) != pff_get64(p + n - 8)) {
        snprintf(err, PFF_ERRLEN, "%s: checksum mismatch: the file is damaged", path);
        goto out;
    }
    rc = PFF_EFAIL;
    if (!(m->layer = calloc(L, sizeof *m->layer))) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
        goto out;
    }
    for (uint32_t k = 0; k < L; k++) {
        pff_layer *l = m->layer[k] = pff_layer_new(c->widths[k], c->widths[k + 1]);
        if (!l) {
            snprintf(err, PFF_ERRLEN, "%s: out of memory for layer %u", path, k + 1);
            goto out;
        }
        for (size_t i = 0; i < l->nparam; i++, q += 4)
            l->slab[i] = pff_getf(q);
    }
    if (head_in) {
        if (!(m->head = pff_layer_new((int)head_in, PFF_CLASSES))) {
            snprintf(err, PFF_ERRLEN, "%s: out of memory for the softmax head", path);
            goto out;
        }
        for (size_t i = 0; i < m->head->nparam; i++, q += 4)
            m->head->slab[i] = pff_getf(q);
    }
    q += 4; /* nhist, read above */
    if (nhist && !(m->history = calloc(nhist, sizeof *m->history))) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory for %u chapter records", path, nhist);
        goto out;
    }
    m->nhistory = (int)nhist;
    for (uint32_t i = 0; i < nhist; i++) {
        pff_history *h = &m->history[i];
        h->chapter = (int)pff_get32(q), q += 4;
        h->lr = pff_getf(q), q += 4;
        h->test_accuracy = pff_getf(q), q += 4;
        for (uint32_t k = 0; k < L; k++, q += 4)
            h->loss[k] = pff_getf(q);
        for (uint32_t k = 0; k < L; k++, q += 4)
            h->gpos[k] = pff_getf(q);
        for (uint32_t k = 0; k < L; k++, q += 4)
            h->gneg[k] = pff_getf(q);
    }
    rc = PFF_OK;
out:
    free(p);
    if (rc)
        pff_model_free(m);
    return rc;
}

void pff_model_free(pff_model *m)
{
    if (m->layer)
        for (int k = 0; k < m->cfg.nlayers; k++)
            pff_layer_free(m->layer[k]);
    free(m->layer);
    pff_layer_free(m->head);
    free(m->history);
    m->layer = NULL;
    m->head = NULL;
    m->history = NULL;
    m->nhistory = 0;
}

/* ---- evaluation ---- */
int pff_predict(const pff_model *m, const float *img, long n, int threads, int *good_pred,
                int *soft_pred, float *scores, char *err)
{
    const pff_config *c = &m->cfg;
    const int L = c->nlayers;
    int wmax = 0;
    size_t maxp = 0;
    for (int k = 0; k <= L; k++)
        wmax = c->widths[k] > wmax ? c->widths[k] : wmax;
    for (int k = 0; k < L; k++)
        maxp = m->layer[k]->nparam > maxp ? m->layer[k]->nparam : maxp;
    pff_work w;
    float *table = malloc((size_t)n * PFF_CLASSES * sizeof(float));
    if (!table || pff_work_init(&w, 2, wmax, maxp, threads)) {
        free(table);
        snprintf(err, PFF_ERRLEN, "out of memory evaluating %ld images", n);
        return PFF_EFAIL;
    }
    pff_goodness_table(m->layer, L, &w, img, n, c->widths[0], NULL, table);
    for (long i = 0; i < n; i++)
        good_pred[i] = pff_table_argmax(table + (size_t)i * PFF_CLASSES, -1);
    if (scores)
        memcpy(scores, table, (size_t)n * PFF_CLASSES * sizeof(float));
    int rc = PFF_OK;
    if (m->head && soft_pred) {
        const int D = m->head->in;
        float *feat = malloc((size_t)n * D * sizeof(float));
        float *lg = malloc((size_t)n * PFF_CLASSES * sizeof(float));
        if (!feat || !lg) {
            snprintf(err, PFF_ERRLEN, "out of memory evaluating %ld images", n);
            rc = PFF_EFAIL;
        } else {
            pff_features(m->layer, L, &w, img, n, c->widths[0], feat);
            /* logits = feat · W^T */
            pff_matmul(0, 1, (int)n, PFF_CLASSES, D, 1.0f, feat, D, m->head->w, D, 0.0f, lg,
                       PFF_CLASSES);
            for (long i = 0; i < n; i++) {
                float *r = lg + (size_t)i * PFF_CLASSES;
                for (int j = 0; j < PFF_CLASSES; j++)
                    r[j] += m->head->b[j];
                soft_pred[i] = pff_table_argmax(r, -1);
            }
        }
        free(feat);
        free(lg);
    }
    free(table);
    pff_work_free(&w);
    return rc;
}

/* Softmax probabilities of the head for n images: probs (n, 10) (what pff predict prints). */
int pff_head_softmax(const pff_model *m, const float *img, long n, int threads, float *probs,
                     char *err)
{
    const pff_config *c = &m->cfg;
    const int L = c->nlayers, D = m->head->in;
    if (pff_feature_dim(m->layer, L) != D) {
        snprintf(err, PFF_ERRLEN, "the softmax head takes %d features, the layers give %d", D,
                 pff_feature_dim(m->layer, L));
        return PFF_EFAIL;
    }
    int wmax = 0;
    for (int k = 0; k <= L; k++)
        wmax = c->widths[k] > wmax ? c->widths[k] : wmax;
    pff_work w;
    float *feat = malloc((size_t)n * D * sizeof(float));
    if (!feat || pff_work_init(&w, 2, wmax, 1, threads)) {
        free(feat);
        snprintf(err, PFF_ERRLEN, "out of memory for the softmax of %ld images", n);
        return PFF_EFAIL;
    }
    pff_features(m->layer, L, &w, img, n, c->widths[0], feat);
    pff_matmul(0, 1, (int)n, PFF_CLASSES, D, 1.0f, feat, D, m->head->w, D, 0.0f, probs,
               PFF_CLASSES);
    for (long i = 0; i < n; i++) {
        float *r = probs + (size_t)i * PFF_CLASSES;
        float mx = -INFINITY;
        for (int j = 0; j < PFF_CLASSES; j++) {
            r[j] += m->head->b[j];
            mx = r[j] > mx ? r[j] : mx;
        }
        double s = 0;
        for (int j = 0; j < PFF_CLASSES; j++)
            s += exp((double)(r[j] - mx));
        for (int j = 0; j < PFF_CLASSES; j++)
            r[j] = (float)(exp((double)(r[j] - mx)) / s);
    }
    free(feat);
    pff_work_free(&w);
    return PFF_OK;
}

int pff_evaluate(const pff_model *m, const pff_dataset *d, int threads, double *goodness_acc,
                 double *softmax_acc, char *err)
{
    int *gp = malloc((size_t)d->n * sizeof(int)), *sp = malloc((size_t)d->n * sizeof(int));
    if (!gp || !sp) {
        free(gp);
        free(sp);
        snprintf(err, PFF_ERRLEN, "out of memory evaluating %d images", d->n);
        return PFF_EFAIL;
    }
    int rc = pff_predict(m, d->x, d->n, threads, gp, m->head ? sp : NULL, NULL, err);
    if (!rc) {
        long g = 0, s = 0;
        for (int i = 0; i < d->n; i++) {
            g += gp[i] == d->y[i];
            s += m->head && sp[i] == d->y[i];
        }
        *goodness_acc = d->n ? (double)g / d->n : 0.0;
        *softmax_acc = m->head && d->n ? (double)s / d->n : -1.0;
    }
    free(gp);
    free(sp);
    return rc;
}
