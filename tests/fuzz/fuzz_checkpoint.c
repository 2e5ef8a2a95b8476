/* tests/fuzz/fuzz_checkpoint.c — libFuzzer target for checkpoints (data/checkpoint.c).
 *
 * The input is a checkpoint file (`pff train --checkpoint`, read back by
 * `--resume`). It is written to a temporary path (one per process:
 * $PFF_FUZZ_TMPDIR, else /dev/shm when writable, else /tmp; the names carry
 * the pid) and loaded with pff_checkpoint_load.
 *
 * The file ends in a 64-bit FNV-1a of every byte before it, which a mutator
 * almost never gets right, so most mutants would stop at the checksum. When
 * the input starts with the magic and its checksum is wrong, the target
 * therefore also loads a copy with the checksum recomputed: the raw input
 * fuzzes the checksum refusal, the fixed copy everything behind it.
 *
 * Oracles (__builtin_trap when violated), for each file loaded:
 *   on failure  rc is PFF_EUSAGE or PFF_EFAIL, the message is non-empty, and
 *               *ck is NULL;
 *   on success  the file is at least 20 bytes, starts with the magic and its
 *               checksum is right (a wrong checksum must be refused);
 *               1 <= L <= PFF_MAX_LAYERS, every width is 1..2^24;
 *               1 <= next <= splits, epochs is a positive multiple of splits,
 *               1 <= nodes <= 64, schedule, neg, classifier and shards are
 *               known kinds, fast / stale_adam / sl_recompute are 0 or 1,
 *               1 <= threads <= 256, 1 <= batch <= 4096, eval_every >= 0,
 *               lr, softmax_lr and threshold are positive and finite;
 *               0 <= dropout < 1, weight_decay finite and >= 0;
 *               0 <= goodness_from <= L, never the paper's rule spelt out;
 *               every layer is allocated with in/out = widths[k]/widths[k+1],
 *               a head has 10 outputs and the feature width of the layers;
 *               stats and acc are allocated; 0 <= nneg <= 64, and every
 *               negative array is allocated and holds labels < 10 only;
 *               the run record's limits are 0..2^31-1, its validation split
 *               (--val) is 0..2^31-1 and not 0 exactly when the file is of
 *               version 6, its strings are NULL or absolute paths without a
 *               NUL (the trace may also be "-");
 *               pff_checkpoint_config / pff_checkpoint_chapters /
 *               pff_checkpoint_record give cfg / next / the record;
 *               pff_checkpoint_save to a second temp path succeeds and its
 *               bytes are identical to the file loaded (the format is
 *               canonical: one byte string per training state).
 * The checkpoint is freed with pff_checkpoint_free (LeakSanitizer checks at
 * exit).
 *
 * PFF_FUZZ_WRITE_SEEDS=DIR ./fuzz_checkpoint writes the seed corpus into DIR
 * and exits: valid checkpoints built by hand and saved by
 * pff_checkpoint_save (so the seeds follow the format of the library they are
 * built with) and damaged copies, one per refusal of pff_checkpoint_load.
 * That is how tests/fuzz/corpus/checkpoint/ was made (`make fuzz-seeds`;
 * rerun it when the format changes).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>

#include "data/checkpoint.h" /* struct pff_checkpoint (moved from layers/layers.h) */
#include "tests/fuzz/fuzz_common.h"

#define CK_MAGIC "PFFCKPT1"

static char in_path[256], out_path[256];

static void init_paths(void)
{
    fuzz_init_paths(in_path, out_path, sizeof in_path, "checkpoint", "in.ckpt", "out.ckpt");
}

/* A broken invariant: name it on stderr, then trap (libFuzzer reports the input). */
#define CHECK(cond, what)                                                                     \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "fuzz_checkpoint: broken invariant: %s\n", what);                 \
            __builtin_trap();                                                                 \
        }                                                                                     \
    } while (0)

static void check_loaded(const pff_checkpoint *ck, const uint8_t *data, size_t size)
{
    CHECK(size >= 20 && memcmp(data, CK_MAGIC, 8) == 0 &&
              fnv1a(data, size - 8) == get64(data + size - 8),
          "loaded a file without the magic or with a wrong checksum");
    const pff_config *c = &ck->cfg;
    const int L = c->model.nlayers;
    CHECK(L >= 1 && L <= PFF_MAX_LAYERS && ck->layer, "layer count");
    for (int k = 0; k <= L; k++)
        CHECK(c->model.widths[k] >= 1 && c->model.widths[k] <= (1 << 24), "width out of 1..2^24");
    CHECK(c->model.splits >= 1 && c->model.epochs >= 1 && c->model.epochs % c->model.splits == 0, "epochs / splits");
    CHECK(ck->next >= 1 && ck->next <= c->model.splits, "next out of 1..splits");
    CHECK(c->run.nodes >= 1 && c->run.nodes <= 64 && (unsigned)c->run.schedule <= PFF_FEDERATED &&
              (unsigned)c->model.neg <= PFF_NEG_HARD && (unsigned)c->model.augment < PFF_AUGMENT_KINDS,
          "nodes / schedule / negatives kind");
    CHECK((unsigned)c->model.classifier <= PFF_CLS_SOFTMAX && (unsigned)c->run.shards <= PFF_SHARDS_LABEL_SKEW &&
              (unsigned)c->run.fast <= 1 && (unsigned)c->run.stale_adam <= 1 &&
              (unsigned)c->run.sl_recompute <= 1 && c->run.threads >= 1 && c->run.threads <= 256 &&
              c->model.batch >= 1 && c->model.batch <= 4096 && c->run.eval_every >= 0,
          "classifier / shards / flags / threads / batch / eval_every");
    CHECK(c->model.lr > 0 && isfinite(c->model.lr) && c->model.softmax_lr > 0 && isfinite(c->model.softmax_lr) &&
              c->model.threshold > 0 && isfinite(c->model.threshold),
          "learning rates / threshold not positive and finite");
    CHECK(c->model.dropout >= 0 && c->model.dropout < 1 && c->model.weight_decay >= 0 &&
              isfinite(c->model.weight_decay),
          "dropout outside [0, 1) or weight decay not finite and >= 0");
    CHECK(c->model.goodness_from >= 0 && c->model.goodness_from <= L &&
              (c->model.goodness_from == 0 ||
               pff_goodness_first(L, c->model.goodness_from) != pff_goodness_first(L, 0)),
          "goodness_from outside 0..L or the paper's rule spelt out");
    for (int k = 0; k < L; k++) {
        const pff_layer *l = ck->layer[k];
        CHECK(l && l->in == c->model.widths[k] && l->out == c->model.widths[k + 1] &&
                  l->nparam == (size_t)l->out * l->in + l->out && l->slab,
              "layer shape differs from the widths");
    }
    CHECK(!ck->head || (ck->head->out == PFF_CLASSES &&
                        ck->head->in == pff_feature_dim(ck->layer, L) && ck->head->slab),
          "head shape");
    CHECK(ck->stats && ck->acc, "stats / acc not allocated");
    CHECK(ck->nneg >= 0 && ck->nneg <= 64 && ck->neg && ck->neg_n && ck->neg_chapter,
          "negative arrays");
    for (int i = 0; i < ck->nneg; i++) {
        CHECK(ck->neg[i] && ck->neg_n[i] >= 0, "negative array not allocated");
        for (long j = 0; j < ck->neg_n[i]; j++)
            CHECK(ck->neg[i][j] < PFF_CLASSES, "negative label >= 10");
    }
    const pff_run_record *rec = &ck->rec;
    CHECK(rec->train_limit >= 0 && rec->train_limit <= 0x7fffffffL && rec->test_limit >= 0 &&
              rec->test_limit <= 0x7fffffffL && rec->val_n >= 0 && rec->val_n <= 0x7fffffffL,
          "run record limits");
    const uint32_t version = data[8] | (uint32_t)data[9] << 8 | (uint32_t)data[10] << 16 |
                             (uint32_t)data[11] << 24;
    CHECK((rec->val_n > 0) == (version == 6), "a validation split without version 6, or the reverse");
    const char *str[4] = {rec->data_dir, rec->save, rec->log, rec->trace};
    for (int i = 0; i < 4; i++)
        CHECK(!str[i] || str[i][0] == '/' || (i == 3 && !strcmp(str[i], "-")),
              "run record path neither absolute nor -");
    CHECK(pff_checkpoint_config(ck) == &ck->cfg && pff_checkpoint_chapters(ck) == ck->next &&
              pff_checkpoint_record(ck) == &ck->rec,
          "accessors");
}

static void check_one(const uint8_t *data, size_t size)
{
    write_file(in_path, data, size);
    pff_checkpoint *ck = (pff_checkpoint *)&ck; /* must be set to NULL on failure */
    char err[PFF_ERRLEN] = "";
    int rc = pff_checkpoint_load(in_path, &ck, err);
    if (rc != PFF_OK) {
        CHECK(rc == PFF_EUSAGE || rc == PFF_EFAIL, "refusal code");
        CHECK(ck == NULL, "*ck not NULL after a refusal");
        CHECK(memchr(err, '\0', PFF_ERRLEN) != NULL && err[0] != '\0', "empty message");
        return;
    }
    CHECK(ck != NULL, "NULL checkpoint after success");
    check_loaded(ck, data, size);

    /* canonical: save gives back the very bytes we loaded */
    CHECK(pff_checkpoint_save(ck, out_path, err) == PFF_OK, "save failed");
    size_t n;
    uint8_t *p = read_back(out_path, &n);
    CHECK(n == size && memcmp(p, data, size) == 0, "save does not give back the bytes loaded");
    free(p);
    pff_checkpoint_free(ck);
}

/* ---- seed corpus ---- */

/* Byte offsets of a checkpoint's parts, as data/checkpoint.c lays them out. */
typedef struct {
    size_t cfg;    /* threshold, the first field after the widths */
    size_t layers; /* the first layer's Adam step */
    size_t head;   /* the has_head flag */
    size_t nneg;   /* the count of negative arrays */
    size_t rec;    /* the run record: train_limit */
    size_t size;   /* the whole file */
} layout;

static layout layout_of(const pff_checkpoint *ck)
{
    const int L = ck->cfg.model.nlayers;
    layout o;
    o.cfg = 16 + 4 * (size_t)(L + 1);
    /* version 3 (--neg hard or --augment shift) adds augment and hard_temp to the settings,
     * version 4 (--dropout, --weight-decay) those and dropout and weight_decay, version 5
     * (--goodness-from) those and goodness_from; version 6 (--val) all of them, and val_n in
     * the run record */
    const int val = ck->rec.val_n > 0;
    const int cls = val || ck->cfg.model.goodness_from != 0;
    const int reg = cls || ck->cfg.model.dropout > 0 || ck->cfg.model.weight_decay > 0;
    const int ext =
        reg || ck->cfg.model.neg == PFF_NEG_HARD || ck->cfg.model.augment != PFF_AUGMENT_NONE;
    o.layers = o.cfg + 80 + (ext ? 8 : 0) + (reg ? 8 : 0) + (cls ? 4 : 0);
    size_t q = o.layers;
    for (int k = 0; k < L; k++)
        q += 8 + 12 * ck->layer[k]->nparam;
    o.head = q;
    q += 4 + (ck->head ? 8 + 12 * ck->head->nparam : 0);
    q += (size_t)ck->next * (L + 1) * 32 + (size_t)ck->next * 8;
    o.nneg = q;
    q += 4;
    for (int i = 0; i < ck->nneg; i++)
        q += 8 + (size_t)ck->neg_n[i];
    o.rec = q;
    const pff_run_record *r = &ck->rec;
    q += 8 + (val ? 4 : 0) + 16 * PFF_DATA_FILES;
    const char *str[4] = {r->data_dir, r->save, r->log, r->trace};
    for (int i = 0; i < 4; i++)
        q += 4 + (str[i] ? strlen(str[i]) : 0);
    o.size = q + 8;
    return o;
}

typedef struct {
    int L;
    int w[5];
    int head;
    int next, splits, epochs;
    int nneg;
    long negn[2];
    int specials;
    pff_schedule_kind schedule;
    int nodes;
    uint64_t seed;
    int record; /* 0: none, 1: data and limits, 2: also every output (trace "-") */
    int ext; /* --neg hard --augment shift: a version-3 checkpoint */
    int reg; /* --dropout 0.2 --weight-decay 0.01: a version-4 checkpoint */
    int cls; /* --goodness-from 1: a version-5 checkpoint */
    long val; /* --val N in the run record: a version-6 checkpoint */
} seed_spec;

static pff_checkpoint *seed_build(const seed_spec *s)
{
    pff_checkpoint *ck = calloc(1, sizeof *ck);
    if (!ck)
        abort();
    pff_config *c = &ck->cfg;
    pff_config_default(c);
    const int L = s->L;
    c->model.nlayers = L;
    for (int k = 0; k <= L; k++)
        c->model.widths[k] = s->w[k];
    c->model.epochs = s->epochs, c->model.splits = s->splits, c->model.batch = 8;
    c->model.classifier = s->head ? PFF_CLS_SOFTMAX : PFF_CLS_GOODNESS;
    c->model.neg = (pff_neg_kind)(s->seed % 3);
    if (s->ext) {
        c->model.neg = PFF_NEG_HARD;
        c->model.augment = PFF_AUGMENT_SHIFT;
        c->model.hard_temp = 2.5f;
    }
    if (s->reg) {
        c->model.dropout = 0.2f;
        c->model.weight_decay = 0.01f;
    }
    if (s->cls)
        c->model.goodness_from = 1;
    c->model.seed = s->seed;
    c->run.schedule = s->schedule;
    c->run.nodes = s->nodes;
    c->run.threads = 2;
    c->run.shards = s->schedule == PFF_FEDERATED ? PFF_SHARDS_LABEL_SKEW : PFF_SHARDS_IID;
    c->run.eval_every = 1;
    ck->next = s->next;
    ck->train_n = 50 + (long)s->seed;
    if (!(ck->layer = calloc((size_t)L, sizeof *ck->layer)))
        abort();
    for (int k = 0; k < L; k++) {
        pff_layer *l = ck->layer[k] = pff_layer_new(s->w[k], s->w[k + 1]);
        if (!l)
            abort();
        pff_layer_init(l, s->seed, k);
        l->b[0] = 0.25f * (float)(k + 1);
        for (size_t i = 0; i < l->nparam; i++)
            l->m[i] = 1e-3f * (float)i, l->v[i] = 1e-6f * (float)(i + 1);
        l->step = 7 * (long long)(k + 1) * s->next;
    }
    if (s->head) {
        pff_layer *h = ck->head = pff_layer_new(pff_feature_dim(ck->layer, L), PFF_CLASSES);
        if (!h)
            abort();
        pff_layer_init(h, s->seed, L);
        h->m[0] = 0.5f, h->v[0] = 0.25f;
        h->step = 3 * (long long)s->next;
    }
    const size_t ns = (size_t)s->next * (L + 1);
    if (!(ck->stats = calloc(ns, sizeof *ck->stats)) ||
        !(ck->acc = calloc((size_t)s->next, sizeof *ck->acc)))
        abort();
    for (size_t i = 0; i < ns; i++)
        ck->stats[i].loss = 1.5 / (double)(i + 1), ck->stats[i].gpos = 20.0 + (double)i,
        ck->stats[i].gneg = 2.0, ck->stats[i].batches = 6 + (long)i;
    for (int i = 0; i < s->next; i++)
        ck->acc[i] = i % 2 ? -1.0 : 90.0 + i;
    const int nn = s->nneg;
    if (!(ck->neg = calloc(nn ? (size_t)nn : 1, sizeof *ck->neg)) ||
        !(ck->neg_n = calloc(nn ? (size_t)nn : 1, sizeof *ck->neg_n)) ||
        !(ck->neg_chapter = calloc(nn ? (size_t)nn : 1, sizeof *ck->neg_chapter)))
        abort();
    ck->nneg = nn;
    for (int i = 0; i < nn; i++) {
        ck->neg_chapter[i] = s->next + i;
        ck->neg_n[i] = s->negn[i];
        if (!(ck->neg[i] = malloc((size_t)s->negn[i] + 1)))
            abort();
        for (long j = 0; j < s->negn[i]; j++)
            ck->neg[i][j] = (uint8_t)((j * 7 + i) % PFF_CLASSES);
    }
    if (s->record) {
        pff_run_record *r = &ck->rec;
        r->data_dir = strdup("/srv/data/mnist");
        r->train_limit = 6000;
        r->test_limit = s->record == 2 ? 1000 : 0;
        r->val_n = s->val;
        for (int i = 0; i < PFF_DATA_FILES; i++)
            r->data_size[i] = 16 + 1000 * (uint64_t)i, r->data_hash[i] = s->seed * 0x9e3779b97f4a7c15ull + (uint64_t)i;
        if (s->record == 2) {
            r->save = strdup("/home/u/run/model.pff");
            r->log = strdup("/home/u/run/log.jsonl");
            r->trace = strdup("-");
        }
        if (!r->data_dir || (s->record == 2 && (!r->save || !r->log || !r->trace)))
            abort();
    }
    if (s->specials) {
        float *p = ck->layer[0]->w;
        p[0] = __builtin_nanf(""), p[1] = __builtin_inff(), p[2] = -__builtin_inff();
        p[3] = -0.0f, p[4] = 1e-45f;
        ck->layer[0]->v[0] = __builtin_nanf("");
        ck->layer[0]->step = 0x7fffffffffffffffll;
        c->model.threshold = 0.01f, c->model.lr = 0.01f;
        ck->stats[0].loss = __builtin_nan(""), ck->stats[0].batches = -1;
        ck->acc[0] = -__builtin_inf();
        ck->train_n = 0xffffffffl;
    }
    return ck;
}

static pff_checkpoint *seed_write(const char *dir, const char *name, const seed_spec *s)
{
    pff_checkpoint *ck = seed_build(s);
    char path[4096], err[PFF_ERRLEN];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (pff_checkpoint_save(ck, path, err) != PFF_OK) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    size_t n;
    free(read_back(path, &n));
    if (n != layout_of(ck).size) {
        fprintf(stderr, "fuzz_checkpoint: %s: %zu bytes, the seed layout expects %zu\n", name, n,
                layout_of(ck).size);
        exit(1);
    }
    return ck;
}

static void write_seeds(const char *dir)
{
    static const seed_spec specs[] = {
        /* L, widths, head, next, splits, epochs, nneg, negn, specials, schedule, nodes, seed,
         * record, ext, reg, cls, val */
        {1, {1, 1}, 0, 1, 1, 1, 0, {0, 0}, 0, PFF_SEQUENTIAL, 1, 3, 0, 0, 0, 0, 0},
        {1, {10, 3}, 1, 1, 2, 4, 1, {12, 0}, 0, PFF_SEQUENTIAL, 1, 7, 1, 0, 0, 0, 0},
        {2, {12, 4, 3}, 1, 2, 4, 8, 2, {9, 5}, 0, PFF_ALL_LAYERS, 3, 1234567890123ull, 2, 0, 0, 0, 0},
        {3, {10, 2, 2, 2}, 0, 3, 3, 3, 1, {0, 0}, 0, PFF_SINGLE_LAYER, 4, 2, 0, 0, 0, 0, 0},
        {3, {16, 5, 4, 3}, 1, 2, 5, 10, 0, {0, 0}, 1, PFF_FEDERATED, 64, 4, 2, 0, 0, 0, 0},
        {2, {11, 3, 2}, 0, 1, 2, 2, 2, {20, 1}, 0, PFF_SEQUENTIAL, 1, 5, 1, 0, 0, 0, 0},
        {2, {11, 3, 2}, 1, 1, 2, 2, 1, {20, 0}, 0, PFF_ALL_LAYERS, 2, 6, 1, 1, 0, 0, 0},
        {2, {11, 3, 2}, 1, 1, 2, 2, 1, {20, 0}, 0, PFF_ALL_LAYERS, 2, 8, 1, 0, 1, 0, 0},
        {2, {11, 3, 2}, 0, 1, 2, 2, 0, {0, 0}, 0, PFF_SEQUENTIAL, 1, 9, 2, 1, 1, 0, 0},
        {2, {11, 3, 2}, 0, 1, 2, 2, 0, {0, 0}, 0, PFF_SEQUENTIAL, 1, 12, 1, 0, 0, 1, 0},
        {2, {11, 3, 2}, 1, 1, 2, 2, 1, {20, 0}, 0, PFF_ALL_LAYERS, 2, 13, 2, 1, 1, 0, 1000},
    };
    static const char *const names[] = {
        "valid-L1-1-1-min",
        "valid-L1-10-3-head-neg1",
        "valid-L2-12-4-3-head-neg2",
        "valid-L3-10-2-2-2-neg-empty",
        "valid-L3-16-5-4-3-head-specials",
        "valid-L2-11-3-2-neg2",
        "valid-v3-L2-11-3-2-hard-shift",
        "valid-v4-L2-11-3-2-head-dropout-decay",
        "valid-v4-L2-11-3-2-hard-shift-dropout-decay",
        "valid-v5-L2-11-3-2-goodness-from-1",
        "valid-v6-L2-11-3-2-head-val-1000",
    };
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++)
        pff_checkpoint_free(seed_write(dir, names[i], &specs[i]));

    /* damaged copies of valid-L2-12-4-3-head-neg2 */
    const char *v = names[2];
    pff_checkpoint *ck = seed_build(&specs[2]);
    const layout o = layout_of(ck);
    pff_checkpoint_free(ck);
    const long C = (long)o.cfg, N = (long)o.nneg, S = (long)o.size, R = (long)o.rec;
    seed_damaged(dir, v, "bad-magic", 4, 0x31545058u /* "PFFCXPT1" */, 4, 0, 1);
    seed_damaged(dir, v, "bad-version-1", 8, 1, 4, 0, 1);
    seed_damaged(dir, v, "bad-version-7", 8, 7, 4, 0, 1);
    /* version 4: after the eight run settings, augment, hard_temp, dropout, weight_decay */
    const char *v4 = names[7];
    const long D = C + 80;
    seed_damaged(dir, v4, "bad-v4-dropout-1", D, 0x3f800000u /* 1.0f */, 4, 0, 1);
    seed_damaged(dir, v4, "bad-v4-dropout-nan", D, 0x7fc00000u, 4, 0, 1);
    seed_damaged(dir, v4, "bad-v4-weight-decay-negative", D + 4, 0xbf800000u /* -1.0f */, 4, 0, 1);
    seed_damaged(dir, v4, "bad-v4-unused", D, 0, 4, 0, 1);
    seed_damaged(dir, "bad-v4-unused", "bad-v4-unused", D + 4, 0, 4, 0, 1);
    /* version 5: goodness_from after weight_decay; 2 is the paper's rule (never written), 3 > L */
    seed_damaged(dir, names[9], "bad-v5-goodness-from-2", D + 8, 2, 4, 0, 1);
    seed_damaged(dir, names[9], "bad-v5-goodness-from-3", D + 8, 3, 4, 0, 1);
    /* version 6: the validation split after the two limits; 0 is --val's absence (version 5 or
     * below), 2^31 out of range; and a version-2 file relabelled 6 (its record one field short) */
    {
        pff_checkpoint *c6 = seed_build(&specs[10]);
        const long V = (long)layout_of(c6).rec + 8;
        pff_checkpoint_free(c6);
        seed_damaged(dir, names[10], "bad-v6-val-0", V, 0, 4, 0, 1);
        seed_damaged(dir, names[10], "bad-v6-val-2g", V, 0x80000000u, 4, 0, 1);
        seed_damaged(dir, v, "bad-version-6-body-2", 8, 6, 4, 0, 1);
    }
    /* the run record: limits, then the data directory ("/srv/data/mnist", 15 bytes) */
    seed_damaged(dir, v, "bad-record-train-limit-2g", R, 0x80000000u, 4, 0, 1);
    seed_damaged(dir, v, "bad-record-dir-relative", R + 12, 's', 1, 0, 1);
    seed_damaged(dir, v, "bad-record-dir-nul", R + 15, 0, 1, 0, 1);
    seed_damaged(dir, v, "bad-record-dir-too-long", R + 8, 4097, 4, 0, 1);
    seed_damaged(dir, v, "bad-record-dir-past-end", R + 8, 0x7fffffffu, 4, 0, 1);
    seed_damaged(dir, v, "bad-layers-0", 12, 0, 4, 0, 1);
    seed_damaged(dir, v, "bad-layers-17", 12, 17, 4, 0, 1);
    seed_damaged(dir, v, "bad-width-0", 20, 0, 4, 0, 1);
    seed_damaged(dir, v, "bad-width-over-max", 16, (1u << 24) + 1, 4, 0, 1);
    seed_damaged(dir, v, "bad-epochs-0", C + 4, 0, 4, 0, 1);
    seed_damaged(dir, v, "bad-splits-0", C + 8, 0, 4, 0, 1);
    seed_damaged(dir, v, "bad-epochs-not-multiple", C + 4, 9, 4, 0, 1);
    seed_damaged(dir, v, "bad-neg-kind-3", C + 24, 3, 4, 0, 1);
    seed_damaged(dir, v, "bad-schedule-4", C + 40, 4, 4, 0, 1);
    seed_damaged(dir, v, "bad-nodes-0", C + 44, 0, 4, 0, 1);
    seed_damaged(dir, v, "bad-nodes-65", C + 44, 65, 4, 0, 1);
    seed_damaged(dir, v, "bad-next-0", C + 72, 0, 4, 0, 1);
    seed_damaged(dir, v, "bad-next-over-splits", C + 72, 5, 4, 0, 1);
    seed_damaged(dir, v, "bad-threshold-0", C, 0, 4, 0, 1);
    seed_damaged(dir, v, "bad-batch-0", C + 12, 0, 4, 0, 1);
    seed_damaged(dir, v, "bad-batch-4097", C + 12, 4097, 4, 0, 1);
    seed_damaged(dir, v, "bad-lr-nan", C + 16, 0x7fc00000u, 4, 0, 1);
    seed_damaged(dir, v, "bad-softmax-lr-inf", C + 20, 0x7f800000u, 4, 0, 1);
    seed_damaged(dir, v, "bad-classifier-2", C + 28, 2, 4, 0, 1);
    seed_damaged(dir, v, "bad-threads-0", C + 48, 0, 4, 0, 1);
    seed_damaged(dir, v, "bad-threads-257", C + 48, 257, 4, 0, 1);
    seed_damaged(dir, v, "bad-fast-2", C + 52, 2, 4, 0, 1);
    seed_damaged(dir, v, "bad-shards-2", C + 56, 2, 4, 0, 1);
    seed_damaged(dir, v, "bad-stale-adam-2", C + 60, 2, 4, 0, 1);
    seed_damaged(dir, v, "bad-sl-recompute-2", C + 64, 2, 4, 0, 1);
    seed_damaged(dir, v, "bad-eval-every-negative", C + 68, 0xffffffffu, 4, 0, 1);
    seed_damaged(dir, v, "bad-head-flag-2", (long)o.head, 2, 4, 0, 1);
    /* headers that declare far more than the file holds: refused before allocating */
    seed_damaged(dir, v, "bad-width-max-short-file", 20, 1u << 24, 4, 0, 1);
    seed_damaged(dir, v, "bad-next-huge-short-file", C + 4, 1u << 30, 4, 0, 1);
    seed_damaged(dir, "bad-next-huge-short-file", "bad-next-huge-short-file", C + 8, 1u << 30, 4, 0,
                 1);
    seed_damaged(dir, "bad-next-huge-short-file", "bad-next-huge-short-file", C + 72, 1u << 30, 4,
                 0, 1);
    seed_damaged(dir, v, "bad-nneg-65", N, 65, 4, 0, 1);
    seed_damaged(dir, v, "bad-nneg-3", N, 3, 4, 0, 1);
    seed_damaged(dir, v, "bad-neg-label-10", N + 4 + 8 + 3, 10, 1, 0, 1);
    seed_damaged(dir, v, "bad-neg-n-too-long", N + 4 + 8 + 9 + 4, 6, 4, 0, 1);
    seed_damaged(dir, v, "bad-truncated-fixed-sum", -1, 0, 4, -(S - (long)o.head), 1);
    seed_damaged(dir, v, "bad-truncated", -1, 0, 4, -5, 0);
    seed_damaged(dir, v, "bad-trailing-fixed-sum", -1, 0, 4, 1, 1);
    seed_damaged(dir, v, "bad-trailing", -1, 0, 4, 1, 0);
    seed_damaged(dir, v, "bad-checksum", (long)o.layers + 40, 0x3f800000u, 4, 0, 0);
    seed_damaged(dir, v, "bad-19-bytes", -1, 0, 4, 19 - S, 0);
    seed_damaged(dir, v, "bad-empty", -1, 0, 4, -S, 0);
}

FUZZ_INITIALIZE("fuzz_checkpoint", init_paths, write_seeds)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_paths();
    check_with_fixed_sum(data, size, CK_MAGIC, 20, check_one);
    return 0;
}
