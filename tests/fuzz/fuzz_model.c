/* tests/fuzz/fuzz_model.c — libFuzzer target for model files (data/model_file.c).
 *
 * The input is a model file. It is written to a temporary path (one per
 * process: $PFF_FUZZ_TMPDIR, else /dev/shm when writable, else /tmp; the
 * names carry the pid) and loaded with pff_model_load.
 *
 * The file ends in a 64-bit FNV-1a of every byte before it, which a mutator
 * almost never gets right, so most mutants would stop at the checksum. When
 * the input starts with the magic and its checksum is wrong, the target
 * therefore also loads a copy with the checksum recomputed: the raw input
 * fuzzes the checksum refusal, the fixed copy everything behind it.
 *
 * Oracles (__builtin_trap when violated), for each file loaded:
 *   on failure  rc is PFF_EUSAGE or PFF_EFAIL, the message is non-empty, and
 *               the model holds nothing (layer == head == NULL);
 *   on success  1 <= L <= PFF_MAX_LAYERS, widths[0] >= 10, every layer is
 *               allocated with in/out = widths[k]/widths[k+1], a head has
 *               10 outputs and the feature width of the layers;
 *               pff_model_save to a second temp path succeeds and its bytes
 *               are identical to the file loaded (the format is canonical:
 *               one byte string per model); that file loads again, with the
 *               same configuration and the same parameter bits;
 *               0 <= goodness_from <= L and never the paper's rule spelt out;
 *               pff_predict on one blank image succeeds and every prediction
 *               is a label 0..9 (what `pff eval` does with a model file).
 * The model is freed with pff_model_free (LeakSanitizer checks at exit).
 * The byte comparison covers every field of the format, the chapter records
 * included.
 *
 * PFF_FUZZ_WRITE_SEEDS=DIR ./fuzz_model writes the seed corpus into DIR and
 * exits: valid models saved by pff_model_save itself (so the seeds follow the
 * format of the library they are built with) and damaged copies, one per
 * refusal of pff_model_load. That is how tests/fuzz/corpus/model/ was made
 * (`make fuzz-seeds`; rerun it when the format changes).
 */
#define _POSIX_C_SOURCE 200809L
#include "layers/layers.h"
#include "tests/fuzz/fuzz_common.h"

static char in_path[256], out_path[256];

static void init_paths(void)
{
    fuzz_init_paths(in_path, out_path, sizeof in_path, "model", "in.pff", "out.pff");
}

static void check_shapes(const pff_model *m)
{
    const pff_model_config *c = &m->cfg;
    const int L = c->nlayers;
    if (L < 1 || L > PFF_MAX_LAYERS || c->widths[0] < PFF_CLASSES || !m->layer)
        __builtin_trap();
    if (c->goodness_from < 0 || c->goodness_from > L ||
        (c->goodness_from && pff_goodness_first(L, c->goodness_from) == pff_goodness_first(L, 0)))
        __builtin_trap();
    for (int k = 0; k < L; k++) {
        const pff_layer *l = m->layer[k];
        if (!l || l->in != c->widths[k] || l->out != c->widths[k + 1] || l->out < 1 ||
            l->nparam != (size_t)l->out * l->in + l->out)
            __builtin_trap();
    }
    if (m->head && (m->head->out != PFF_CLASSES ||
                    m->head->in != pff_feature_dim(m->layer, L)))
        __builtin_trap();
}

static void check_same(const pff_model *a, const pff_model *b)
{
    const pff_model_config *x = &a->cfg, *y = &b->cfg;
    if (x->nlayers != y->nlayers || memcmp(x->widths, y->widths, sizeof x->widths) != 0 ||
        memcmp(&x->threshold, &y->threshold, sizeof x->threshold) != 0 ||
        x->epochs != y->epochs || x->splits != y->splits || x->batch != y->batch ||
        memcmp(&x->lr, &y->lr, sizeof x->lr) != 0 ||
        memcmp(&x->softmax_lr, &y->softmax_lr, sizeof x->softmax_lr) != 0 || x->neg != y->neg ||
        x->classifier != y->classifier || x->seed != y->seed || !a->head != !b->head ||
        x->augment != y->augment ||
        memcmp(&x->hard_temp, &y->hard_temp, sizeof x->hard_temp) != 0 ||
        memcmp(&x->dropout, &y->dropout, sizeof x->dropout) != 0 ||
        memcmp(&x->weight_decay, &y->weight_decay, sizeof x->weight_decay) != 0 ||
        x->goodness_from != y->goodness_from)
        __builtin_trap();
    for (int k = 0; k < x->nlayers; k++)
        if (memcmp(a->layer[k]->slab, b->layer[k]->slab, a->layer[k]->nparam * sizeof(float)))
            __builtin_trap();
    if (a->head && memcmp(a->head->slab, b->head->slab, a->head->nparam * sizeof(float)))
        __builtin_trap();
}

static void check_failed(int rc, const char *err, const pff_model *m)
{
    if (rc != PFF_EUSAGE && rc != PFF_EFAIL)
        __builtin_trap();
    if (memchr(err, '\0', PFF_ERRLEN) == NULL || err[0] == '\0')
        __builtin_trap();
    if (m->layer || m->head || m->history || m->nhistory)
        __builtin_trap();
}

static void check_one(const uint8_t *data, size_t size)
{
    write_file(in_path, data, size);
    pff_model m;
    char err[PFF_ERRLEN] = "";
    int rc = pff_model_load(&m, in_path, err);
    if (rc != PFF_OK) {
        check_failed(rc, err, &m);
        return;
    }
    check_shapes(&m);

    /* canonical: save gives back the very bytes we loaded */
    if (pff_model_save(&m, out_path, err) != PFF_OK)
        __builtin_trap();
    size_t n;
    uint8_t *p = read_back(out_path, &n);
    if (n != size || memcmp(p, data, size) != 0)
        __builtin_trap();
    free(p);
    pff_model r;
    char err2[PFF_ERRLEN] = "";
    if (pff_model_load(&r, out_path, err2) != PFF_OK)
        __builtin_trap();
    check_shapes(&r);
    check_same(&m, &r);
    pff_model_free(&r);

    /* what `pff eval` does with it: one blank image through the network */
    const int dim = m.cfg.widths[0];
    float *img = calloc((size_t)dim, sizeof(float));
    int good = -1, soft = -1;
    if (!img)
        abort();
    img[dim - 1] = 0.5f;
    if (pff_predict(&m, img, 1, 1, &good, m.head ? &soft : NULL, NULL, err) == PFF_OK) {
        if (good < 0 || good >= PFF_CLASSES || (m.head && (soft < 0 || soft >= PFF_CLASSES)))
            __builtin_trap();
    }
    free(img);
    pff_model_free(&m);
    if (m.layer || m.head)
        __builtin_trap();
}

/* ---- seed corpus ---- */
static int seed_v3; /* the next seed_model is a --neg hard --augment shift run: version 3 */
static int seed_v4; /* ... a --dropout 0.2 --weight-decay 0.01 run: version 4 (with seed_v3 too) */
static int seed_v5; /* ... a --goodness-from 1 run: version 5 */

static void seed_model(const char *dir, const char *name, int L, const int *w, int head,
                       int nhist, int specials, uint64_t seed)
{
    pff_model m;
    memset(&m, 0, sizeof m);
    pff_model_config_default(&m.cfg);
    m.cfg.nlayers = L;
    for (int k = 0; k <= L; k++)
        m.cfg.widths[k] = w[k];
    m.cfg.classifier = head ? PFF_CLS_SOFTMAX : PFF_CLS_GOODNESS;
    m.cfg.neg = (pff_neg_kind)(seed % 3);
    if (seed_v3) {
        m.cfg.neg = PFF_NEG_HARD;
        m.cfg.augment = PFF_AUGMENT_SHIFT;
        m.cfg.hard_temp = 2.5f;
    }
    if (seed_v4) {
        m.cfg.dropout = 0.2f;
        m.cfg.weight_decay = 0.01f;
    }
    if (seed_v5)
        m.cfg.goodness_from = 1;
    m.cfg.seed = seed;
    m.cfg.epochs = 4, m.cfg.splits = 2, m.cfg.batch = 8;
    if (!(m.layer = calloc((size_t)L, sizeof *m.layer)))
        abort();
    for (int k = 0; k < L; k++) {
        if (!(m.layer[k] = pff_layer_new(w[k], w[k + 1])))
            abort();
        pff_layer_init(m.layer[k], seed, k);
        m.layer[k]->b[0] = 0.25f * (float)(k + 1);
    }
    if (head) {
        if (!(m.head = pff_layer_new(pff_feature_dim(m.layer, L), PFF_CLASSES)))
            abort();
        pff_layer_init(m.head, seed, L);
    }
    if (nhist) {
        if (!(m.history = calloc((size_t)nhist, sizeof *m.history)))
            abort();
        m.nhistory = nhist;
        for (int i = 0; i < nhist; i++) {
            pff_history *h = &m.history[i];
            h->chapter = i + 1;
            h->lr = 0.001f * (float)(nhist - i);
            h->test_accuracy = i % 2 ? -1.0f : 90.0f + (float)i;
            for (int k = 0; k < L; k++)
                h->loss[k] = 1.5f / (float)(i + k + 1), h->gpos[k] = 20.0f + (float)k,
                h->gneg[k] = 2.0f + (float)i;
        }
    }
    if (specials) {
        float *p = m.layer[0]->w;
        p[0] = __builtin_nanf(""), p[1] = __builtin_inff(), p[2] = -__builtin_inff();
        p[3] = -0.0f, p[4] = 1e-45f;
        m.cfg.threshold = 0.01f, m.cfg.lr = 0.01f;
        if (nhist)
            m.history[0].loss[0] = __builtin_nanf("");
    }
    char path[4096], err[PFF_ERRLEN];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (pff_model_save(&m, path, err) != PFF_OK) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    pff_model_free(&m);
}

static void write_seeds(const char *dir)
{
    const int w1[] = {10, 1}, w2[] = {10, 3}, w3[] = {12, 4, 3}, w4[] = {10, 2, 2, 2},
              w6[] = {16, 5, 4};
    int w16[PFF_MAX_LAYERS + 1];
    w16[0] = 10;
    for (int k = 1; k <= PFF_MAX_LAYERS; k++)
        w16[k] = 1;
    seed_model(dir, "valid-L1-10-1", 1, w1, 0, 0, 0, 1);
    seed_model(dir, "valid-L1-10-1-history", 1, w1, 0, 1, 0, 5);
    seed_model(dir, "valid-L1-10-3-head", 1, w2, 1, 0, 0, 7);
    seed_model(dir, "valid-L2-12-4-3-head-history", 2, w3, 1, 3, 0, 1234567890123ull);
    seed_model(dir, "valid-L3-10-2-2-2", 3, w4, 0, 2, 0, 2);
    seed_model(dir, "valid-L16-10-1x16-head", PFF_MAX_LAYERS, w16, 1, 1, 0, 3);
    seed_model(dir, "valid-L2-16-5-4-specials", 2, w6, 0, 2, 1, 4);
    seed_v3 = 1;
    seed_model(dir, "valid-v3-L2-12-4-3-head-hard-shift", 2, w3, 1, 2, 0, 9);
    seed_v4 = 1;
    seed_model(dir, "valid-v4-L3-10-2-2-2-hard-shift-dropout-decay", 3, w4, 0, 1, 0, 10);
    seed_v3 = 0;
    seed_model(dir, "valid-v4-L2-12-4-3-head-dropout-decay", 2, w3, 1, 2, 0, 11);
    seed_v4 = 0;
    seed_v5 = 1;
    seed_model(dir, "valid-v5-L2-12-4-3-goodness-from-1", 2, w3, 0, 2, 0, 12);
    seed_v5 = 0;

    /* damaged copies of valid-L2-12-4-3-head-history: L = 2, widths at 16..27,
     * head_in at 68, the record count at 500 (72 bytes of header, 107 floats),
     * then 3 records of 36 bytes and the checksum: 620 bytes */
    const char *v = "valid-L2-12-4-3-head-history";
    const long whead = 16 + 4 * 3 + 32 + 8, body = whead + 4 + 4 * (12 * 4 + 4 + 4 * 3 + 3 + 3 * 10 + 10);
    seed_damaged(dir, v, "bad-magic", 4, 0x58444f4du /* "PFFMMODX" */, 4, 0, 1);
    seed_damaged(dir, v, "bad-version-2", 8, 2, 4, 0, 1);
    seed_damaged(dir, v, "bad-layers-0", 12, 0, 4, 0, 1);
    seed_damaged(dir, v, "bad-layers-17", 12, 17, 4, 0, 1);
    seed_damaged(dir, v, "bad-input-width-9", 16, 9, 4, 0, 1);
    seed_damaged(dir, v, "bad-width-0", 20, 0, 4, 0, 1);
    seed_damaged(dir, v, "bad-head-inputs", whead, 5, 4, 0, 1);
    seed_damaged(dir, v, "bad-history-count", body, 4, 4, 0, 1);
    seed_damaged(dir, v, "bad-history-over-max", body, (1u << 24) + 1, 4, 0, 1);
    seed_damaged(dir, v, "bad-truncated", -1, 0, 4, -5, 0);
    seed_damaged(dir, v, "bad-trailing", -1, 0, 4, 1, 0);
    seed_damaged(dir, v, "bad-checksum", 200, 0x3f800000u, 4, 0, 0);
    seed_damaged(dir, v, "bad-19-bytes", -1, 0, 4, 19 - (long)(body + 4 + 3 * (12 + 24) + 8), 0);
    seed_damaged(dir, v, "bad-empty", -1, 0, 4, -(long)(body + 4 + 3 * (12 + 24) + 8), 0);
    /* version 4 (two layers): augment at 68, hard_temp 72, dropout 76, weight_decay 80 */
    const char *v4 = "valid-v4-L2-12-4-3-head-dropout-decay";
    seed_damaged(dir, v4, "bad-v4-dropout-1", 76, 0x3f800000u /* 1.0f */, 4, 0, 1);
    seed_damaged(dir, v4, "bad-v4-dropout-nan", 76, 0x7fc00000u, 4, 0, 1);
    seed_damaged(dir, v4, "bad-v4-weight-decay-negative", 80, 0xbf800000u /* -1.0f */, 4, 0, 1);
    seed_damaged(dir, v4, "bad-v4-weight-decay-inf", 80, 0x7f800000u, 4, 0, 1);
    seed_damaged(dir, v4, "bad-v4-unused", 76, 0, 4, 0, 1);
    seed_damaged(dir, "bad-v4-unused", "bad-v4-unused", 80, 0, 4, 0, 1);
    seed_damaged(dir, v, "bad-version-6", 8, 6, 4, 0, 1);
    /* version 5 (two layers): goodness_from at 84; 2 is the paper's rule (never written), 3 > L */
    seed_damaged(dir, "valid-v5-L2-12-4-3-goodness-from-1", "bad-v5-goodness-from-2", 84, 2, 4, 0, 1);
    seed_damaged(dir, "valid-v5-L2-12-4-3-goodness-from-1", "bad-v5-goodness-from-3", 84, 3, 4, 0, 1);
}

FUZZ_INITIALIZE("fuzz_model", init_paths, write_seeds)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_paths();
    check_with_fixed_sum(data, size, "PFFMODEL", 28, check_one);
    return 0;
}
