/* tests/test_model.c — model and checkpoint files: save → load → save gives
 * the same bytes for every version (models: 2, 3 for --neg hard / --augment
 * shift, 4 for --dropout / --weight-decay, 5 for --goodness-from; checkpoints:
 * 4, 5, and 6 for --val); a flipped byte, a truncated file, a bad magic, a
 * future version, out-of-range settings and a later version whose settings
 * need an earlier one are refused with the field named; a failed save leaves
 * the existing file alone. The table of settings is checked first. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../layers/layers.h"
#include "../data/bytes.h" /* pff_fnv1a (moved from layers/) */
#include "../data/checkpoint.h" /* struct pff_checkpoint, pff_checkpoint_save */
#include "../data/model_file.h" /* pff_settings_bytes */
#include "../layers/settings.h"
#include "check.h"

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(*n + 1);
    if (fread(p, 1, *n, f) != *n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    return p;
}

static void spit(const char *path, const unsigned char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, n, f);
    fclose(f);
}

/* The last 8 bytes of a file become the FNV-1a of the bytes before them. */
static void fix_sum(unsigned char *p, size_t n)
{
    uint64_t h = pff_fnv1a(p, n - 8);
    for (int i = 0; i < 8; i++)
        p[n - 8 + i] = (unsigned char)(h >> (8 * i));
}

/* p[at..at+4) = u (little-endian), then the trailing FNV-1a made right again */
static void put_u32_fix_sum(unsigned char *p, size_t n, size_t at, uint32_t u)
{
    for (int i = 0; i < 4; i++)
        p[at + i] = (unsigned char)(u >> (8 * i));
    fix_sum(p, n);
}

static void put_f32_fix_sum(unsigned char *p, size_t n, size_t at, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    put_u32_fix_sum(p, n, at, u);
}

static void expect_refused(const char *path, const char *what, const char *needle)
{
    pff_model m;
    char err[PFF_ERRLEN] = "";
    int rc = pff_model_load(&m, path, err);
    CHECK(rc == PFF_EUSAGE, "%s: rc %d", what, rc);
    CHECK(strstr(err, needle) != NULL, "%s: message '%s' lacks '%s'", what, err, needle);
    printf("  refused %-18s %s\n", what, err);
}

/* A loaded checkpoint saved again to path2 gives the n bytes p it was loaded from. */
static void check_resave(const pff_checkpoint *back, const char *path2, const unsigned char *p,
                         size_t n, int version)
{
    char err[PFF_ERRLEN];
    size_t n2 = 0;
    CHECK(pff_checkpoint_save(back, path2, err) == 0, "save it again: %s", err);
    unsigned char *p2 = slurp(path2, &n2);
    CHECK(p && p2 && n2 == n && memcmp(p, p2, n) == 0,
          "version-%d checkpoint: save → load → save identical", version);
    free(p2);
}

/* A damaged checkpoint at path is refused (status 2, nothing loaded) with a message that names
 * the file and contains needle. */
static void expect_ck_refused(const char *path, const char *needle, const char *what)
{
    pff_checkpoint *back = NULL;
    char err[PFF_ERRLEN] = "";
    CHECK(pff_checkpoint_load(path, &back, err) == PFF_EUSAGE && !back && strstr(err, needle) &&
              strstr(err, path),
          "a checkpoint with %s is refused: '%s'", what, err);
    pff_checkpoint_free(back);
}

/* The checkpoint state the checks below save: 20 -> 8 -> 6, 4 epochs in 4 splits, two chapters
 * done on 500 images, some Adam moments and steps set, the other settings at their defaults. */
static pff_checkpoint *checkpoint_fixture(void)
{
    pff_checkpoint *ck = calloc(1, sizeof *ck);
    pff_config *c = &ck->cfg;
    pff_config_default(c);
    c->model.nlayers = 2;
    c->model.widths[0] = 20, c->model.widths[1] = 8, c->model.widths[2] = 6;
    c->model.epochs = c->model.splits = 4;
    ck->next = 2;
    ck->train_n = 500;
    ck->layer = calloc(2, sizeof *ck->layer);
    for (int k = 0; k < 2; k++) {
        ck->layer[k] = pff_layer_new(c->model.widths[k], c->model.widths[k + 1]);
        pff_layer_init(ck->layer[k], 5, k);
        ck->layer[k]->m[1] = 0.5f, ck->layer[k]->v[2] = 0.25f;
        ck->layer[k]->step = 40;
    }
    ck->stats = calloc((size_t)ck->next * 3, sizeof *ck->stats);
    ck->acc = calloc((size_t)ck->next, sizeof *ck->acc);
    ck->stats[1].loss = 0.75, ck->acc[1] = -1;
    return ck;
}

/* Where a two-layer checkpoint's settings sit: magic 8, version 4, L 4, widths 12, threshold ..
 * seed 40, the run's eight u32 32: the version-3 u32 augment at 100, then f32 hard_temp, f32
 * dropout, f32 weight_decay (version 4), u32 goodness_from (version 5). */
enum { CK_AUG_AT = 100, CK_DROP_AT = CK_AUG_AT + 8, CK_WD_AT = CK_AUG_AT + 12, CK_FROM_AT = 116 };

/* A checkpoint of a --dropout --weight-decay run: version 4, save -> load -> save identical, bad
 * values refused with the field named; each setting out of range (with a right checksum) refused
 * with the setting named; the same state without them is version 2. Returns version 2's size. */
static size_t test_checkpoint_v4(pff_checkpoint *ck, const char *path, const char *path2)
{
    char err[PFF_ERRLEN] = "";
    pff_config *c = &ck->cfg;
    c->model.dropout = 0.3f;
    c->model.weight_decay = 0.002f;
    CHECK(pff_checkpoint_save(ck, path, err) == 0, "save a version-4 checkpoint: %s", err);
    size_t n = 0;
    unsigned char *p = slurp(path, &n);
    CHECK(p && n > 120 && p[8] == 4, "a --dropout --weight-decay checkpoint is version 4");
    pff_checkpoint *back = NULL;
    CHECK(pff_checkpoint_load(path, &back, err) == 0, "load it: %s", err);
    if (back) {
        const pff_config *b = pff_checkpoint_config(back);
        CHECK(b->model.dropout == 0.3f && b->model.weight_decay == 0.002f &&
                  b->model.neg == c->model.neg && b->model.augment == PFF_AUGMENT_NONE &&
                  back->layer[1]->step == 40 && back->layer[1]->m[1] == 0.5f,
              "version-4 checkpoint round trip");
        check_resave(back, path2, p, n, 4);
        pff_checkpoint_free(back);
    }
    if (!p)
        return 0;
    put_f32_fix_sum(p, n, CK_DROP_AT, 1.0f);
    spit(path2, p, n);
    expect_ck_refused(path2, "dropout is 1, expected a number in [0, 1)", "dropout 1");
    put_f32_fix_sum(p, n, CK_DROP_AT, 0.3f);
    put_f32_fix_sum(p, n, CK_WD_AT, -0.5f);
    spit(path2, p, n);
    expect_ck_refused(path2, "weight_decay is -0.5, expected a number >= 0", "weight decay -0.5");
    put_f32_fix_sum(p, n, CK_DROP_AT, 0.0f);
    put_f32_fix_sum(p, n, CK_WD_AT, 0.0f);
    spit(path2, p, n);
    expect_ck_refused(path2, "a version-4 checkpoint whose settings need version 2",
                      "version 4 using neither");
    put_f32_fix_sum(p, n, CK_DROP_AT, 0.3f);
    put_f32_fix_sum(p, n, CK_WD_AT, 0.002f);
    const struct {
        size_t at;
        uint32_t bad;
        const char *says;
    } field[] = {
        {36, 3, "epochs (4) are not a multiple of its splits (3"},  /* splits */
        {36, 0, "splits is 0, expected 1.."},
        {40, 5000, "batch is 5000, expected 1..4096"},
        {44, 0xbf800000u, "lr is -1, expected a positive number"},      /* -1.0f */
        {28, 0x7fc00000u, "threshold is nan, expected a positive number"}, /* NaN */
        {52, 9, "neg is 9, expected one of adaptive, fixed, random, hard"},
        {68, 7, "schedule is 7, expected one of sequential,"},
        {72, 0, "nodes is 0, expected 1..64"},
        {76, 100000, "threads is 100000, expected 1..256"},
        {CK_AUG_AT, 5, "augment is 5, expected one of none, shift, shift1"},
    };
    unsigned char *q = malloc(n);
    for (size_t i = 0; q && i < sizeof field / sizeof field[0]; i++) {
        memcpy(q, p, n);
        put_u32_fix_sum(q, n, field[i].at, field[i].bad);
        spit(path2, q, n);
        expect_ck_refused(path2, field[i].says, field[i].says);
    }
    free(q);
    free(p);
    c->model.dropout = c->model.weight_decay = 0.0f;
    CHECK(pff_checkpoint_save(ck, path, err) == 0, "save: %s", err);
    size_t n2 = 0;
    unsigned char *p2 = slurp(path, &n2);
    CHECK(p2 && p2[8] == 2 && n2 == n - 16, "the same state without them: version 2, 16 bytes "
          "shorter");
    free(p2);
    return n2;
}

/* --goodness-from 1: version 5, the version-3 and -4 fields (here unused) then u32 goodness_from,
 * 20 bytes longer than version 2's n2; goodness_from 2 and 3 of two layers refused. */
static void test_checkpoint_v5(pff_checkpoint *ck, const char *path, const char *path2, size_t n2)
{
    char err[PFF_ERRLEN] = "";
    ck->cfg.model.goodness_from = 1;
    CHECK(pff_checkpoint_save(ck, path, err) == 0, "save a version-5 checkpoint: %s", err);
    size_t n = 0;
    unsigned char *p = slurp(path, &n);
    CHECK(p && p[8] == 5 && n == n2 + 20, "a --goodness-from 1 checkpoint is version 5, 20 bytes "
          "longer (%zu vs %zu)", n, n2);
    pff_checkpoint *back = NULL;
    CHECK(pff_checkpoint_load(path, &back, err) == 0, "load version 5: %s", err);
    if (back) {
        const pff_config *b = pff_checkpoint_config(back);
        CHECK(b->model.goodness_from == 1 && b->model.dropout == 0.0f &&
                  b->model.weight_decay == 0.0f && back->layer[1]->step == 40,
              "version-5 checkpoint round trip");
        check_resave(back, path2, p, n, 5);
        pff_checkpoint_free(back);
    }
    for (int bad = 2; p && bad <= 3; bad++) { /* 2: the paper's rule is never written; 3 > L */
        p[CK_FROM_AT] = (unsigned char)bad;
        fix_sum(p, n);
        spit(path2, p, n);
        expect_ck_refused(path2, "goodness_from", bad == 2 ? "goodness_from 2" : "goodness_from 3");
    }
    free(p);
    ck->cfg.model.goodness_from = 0;
}

/* --val: version 6, the fields of versions 3 to 5 whatever they hold (here unused), and u32 val_n
 * after the limits in the run record: 24 bytes longer than version 2's n2. The record ends the
 * file: limits, val_n, the data directory (u32 0: none), 4 x (u64 size, u64 hash), three empty
 * paths, the checksum; so val_n is 92 bytes from the end. Version 6 says a validation split was
 * held out, so val_n 0 is a damaged file. */
static void test_checkpoint_v6(pff_checkpoint *ck, const char *path, const char *path2, size_t n2)
{
    char err[PFF_ERRLEN] = "";
    ck->rec.val_n = 1234;
    CHECK(pff_checkpoint_save(ck, path, err) == 0, "save a version-6 checkpoint: %s", err);
    size_t n = 0;
    unsigned char *p = slurp(path, &n);
    CHECK(p && p[8] == 6 && n == n2 + 24 && pff_get32(p + n - 92) == 1234,
          "a --val checkpoint is version 6, 24 bytes longer (%zu vs %zu), val_n in its record", n, n2);
    pff_checkpoint *back = NULL;
    CHECK(pff_checkpoint_load(path, &back, err) == 0, "load version 6: %s", err);
    if (back) {
        CHECK(pff_checkpoint_record(back)->val_n == 1234 &&
                  pff_checkpoint_config(back)->model.goodness_from == 0 &&
                  back->layer[1]->step == 40,
              "version-6 checkpoint round trip (val_n %ld)", pff_checkpoint_record(back)->val_n);
        check_resave(back, path2, p, n, 6);
        pff_checkpoint_free(back);
    }
    if (p) {
        put_u32_fix_sum(p, n, n - 92, 0);
        spit(path2, p, n);
        expect_ck_refused(path2, "validation split", "val_n 0 in version 6");
    }
    free(p);
    ck->rec.val_n = 0;
}

/* Checkpoints of versions 4, 5 and 6 (tests/test_cli.sh resumes from real ones of versions 2 to 6). */
static void test_checkpoints(const char *dir)
{
    char path[128], path2[128];
    snprintf(path, sizeof path, "%s/a.ck", dir);
    snprintf(path2, sizeof path2, "%s/b.ck", dir);
    pff_checkpoint *ck = checkpoint_fixture();
    size_t n2 = test_checkpoint_v4(ck, path, path2);
    test_checkpoint_v5(ck, path, path2, n2);
    test_checkpoint_v6(ck, path, path2, n2);
    pff_checkpoint_free(ck);
}

/* The table of settings (layers/settings.h): names and flags unique, every default in its range,
 * the defaults those of pff_config_default, the file fields where the formats put them, and the
 * version each use of a setting needs. */
static void test_settings_table(void)
{
    pff_config cfg;
    pff_config_default(&cfg);
    for (int i = 0; i < pff_nsettings; i++) {
        const pff_setting *s = &pff_settings[i];
        CHECK(pff_setting_ok(s, &cfg.model, &cfg.run), "the default of %s is in its range", s->name);
        CHECK(pff_setting_find(s->name) == s && pff_setting_find(s->flag) == s,
              "%s (--%s) is found by name and by flag, and is the only one", s->name, s->flag);
        CHECK(!pff_setting_used(s, &cfg.model), "%s at its default is not 'used'", s->name);
        CHECK(s->version >= 2 && s->version <= 5 && (s->version == 2 || s->stored == PFF_STORED_MODEL),
              "%s: version %u", s->name, s->version);
    }
    /* the version-2 recipe is 40 bytes in both files, the run 32 in checkpoints; 3..5 add 8, 8, 4 */
    CHECK(pff_settings_bytes(PFF_STORED_MODEL, 2, 2) == 40, "the version-2 recipe: 40 bytes");
    CHECK(pff_settings_bytes(PFF_STORED_RUN, 2, 2) == 32, "the run: 8 u32 in a checkpoint");
    CHECK(pff_settings_bytes(PFF_STORED_MODEL, 3, 3) == 8 &&
              pff_settings_bytes(PFF_STORED_MODEL, 4, 4) == 8 &&
              pff_settings_bytes(PFF_STORED_MODEL, 5, 5) == 4,
          "versions 3, 4, 5 add augment + hard_temp, dropout + weight_decay, goodness_from");
    /* the version a model needs, setting by setting */
    const struct {
        const char *name;
        double value;
        unsigned version;
    } use[] = {{"neg", PFF_NEG_RANDOM, 2}, {"neg", PFF_NEG_HARD, 3}, {"augment", 2, 3},
               {"hard_temp", 2, 3},       {"dropout", 0.1, 4},      {"weight_decay", 0.5, 4},
               {"goodness_from", 1, 5},   {"lr", 0.5, 2},           {"seed", 9, 2}};
    for (size_t i = 0; i < sizeof use / sizeof use[0]; i++) {
        pff_config c = cfg;
        const pff_setting *s = pff_setting_find(use[i].name);
        pff_setting_set(s, &c.model, &c.run, use[i].value);
        CHECK(pff_settings_version(&c.model) == use[i].version, "%s = %g needs version %u (got %u)",
              use[i].name, use[i].value, use[i].version, pff_settings_version(&c.model));
    }
    /* ranges, and how a value out of range is worded */
    pff_config c = cfg;
    char err[PFF_ERRLEN];
    c.model.dropout = 1.0f;
    CHECK(pff_check_settings(&c.model, NULL, err) == PFF_EUSAGE &&
              strstr(err, "--dropout 1: expected a number in [0, 1)"), "dropout 1: '%s'", err);
    c = cfg;
    c.model.goodness_from = 2; /* the paper's rule is written 0 */
    CHECK(pff_check_settings(&c.model, NULL, err) == PFF_EUSAGE, "goodness_from 2 of 3 layers is 0");
    c = cfg;
    c.run.threads = 0;
    CHECK(pff_check_settings(NULL, &c.run, err) == PFF_EUSAGE &&
              strstr(err, "--threads 0: expected 1..256"), "threads 0: '%s'", err);
    CHECK(pff_check_settings(&cfg.model, &cfg.run, err) == PFF_OK, "the defaults pass");
}

/* The files of one run of this test, in a fresh temporary directory. */
struct files {
    char dir[64];       /* the directory, removed at the end */
    char a[128], b[128]; /* the version-2 model, and it saved again */
    char c[128], d[128]; /* scratch: a variant or a damaged copy, and it saved again */
};

/* Where the settings of a two-layer model file sit: magic 8, version 4, L 4, widths 12, then
 * eight fields (threshold .. neg .. seed) 40 bytes; version 3 adds u32 augment and f32 hard_temp,
 * version 4 f32 dropout and f32 weight_decay, version 5 u32 goodness_from. */
enum {
    MODEL_NEG_AT = 8 + 4 + 4 + 4 * 3 + 4 * 6, /* u32 neg, the 7th field after the widths */
    MODEL_AUG_AT = 8 + 4 + 4 + 4 * 3 + 4 * 8 + 8, /* u32 augment, after the u64 seed */
    MODEL_DROP_AT = MODEL_AUG_AT + 8,
    MODEL_WD_AT = MODEL_AUG_AT + 12,
    MODEL_FROM_AT = MODEL_WD_AT + 4,
};

/* The model every check here starts from: 20 -> 8 -> 6 with a softmax head, three chapter
 * records (the second without a test accuracy), every later-version setting at its default. */
static void model_fixture(pff_model *m)
{
    memset(m, 0, sizeof *m);
    pff_model_config_default(&m->cfg);
    m->cfg.nlayers = 2;
    m->cfg.widths[0] = 20, m->cfg.widths[1] = 8, m->cfg.widths[2] = 6;
    m->cfg.classifier = PFF_CLS_SOFTMAX;
    m->cfg.seed = 1234567890123ull;
    m->layer = calloc(2, sizeof *m->layer);
    for (int k = 0; k < 2; k++) {
        m->layer[k] = pff_layer_new(m->cfg.widths[k], m->cfg.widths[k + 1]);
        pff_layer_init(m->layer[k], 9, k);
    }
    m->head = pff_layer_new(6, PFF_CLASSES);
    pff_layer_init(m->head, 9, 2);
    m->nhistory = 3;
    m->history = calloc(3, sizeof *m->history);
    for (int i = 0; i < 3; i++) {
        m->history[i].chapter = i + 1;
        m->history[i].lr = 0.001f * (3 - i);
        m->history[i].test_accuracy = i == 1 ? -1.0f : 90.0f + i;
        m->history[i].loss[1] = 1.5f / (i + 1);
        m->history[i].gneg[0] = 7.0f + i;
    }
}

static void model_defaults_again(pff_model *m)
{
    m->cfg.neg = PFF_NEG_RANDOM;
    m->cfg.augment = PFF_AUGMENT_NONE;
    m->cfg.hard_temp = 1.0f;
    m->cfg.dropout = m->cfg.weight_decay = 0.0f;
    m->cfg.goodness_from = 0;
}

/* Version 2: save -> load -> save gives the same bytes. Returns the bytes of f->a (*na of them). */
static unsigned char *test_round_trip(const pff_model *m, const struct files *f, size_t *na)
{
    char err[PFF_ERRLEN];
    pff_model r;
    CHECK(pff_model_save(m, f->a, err) == 0, "save: %s", err);
    CHECK(pff_model_load(&r, f->a, err) == 0, "load: %s", err);
    CHECK(r.cfg.nlayers == 2 && r.cfg.widths[2] == 6 && r.cfg.seed == m->cfg.seed && r.head,
          "config round trip");
    CHECK(memcmp(r.layer[1]->w, m->layer[1]->w, 6 * 8 * sizeof(float)) == 0, "weights round trip");
    CHECK(r.nhistory == 3 && r.history[2].chapter == 3 && r.history[1].test_accuracy == -1.0f &&
              r.history[2].test_accuracy == 92.0f && r.history[0].loss[1] == 1.5f &&
              r.history[2].gneg[0] == 9.0f,
          "chapter records round trip");
    CHECK(pff_model_save(&r, f->b, err) == 0, "save again: %s", err);
    pff_model_free(&r);
    size_t nb = 0;
    unsigned char *pa = slurp(f->a, na), *pb = slurp(f->b, &nb);
    CHECK(pa && pb && *na == nb && memcmp(pa, pb, nb) == 0, "save → load → save: identical bytes");
    CHECK(pa && pa[8] == 2, "a model without the later settings is version 2");
    free(pb);
    return pa;
}

/* Damaged copies of the version-2 bytes p (restored after each) are refused with the reason. */
static void test_damaged(unsigned char *p, size_t n, const struct files *f)
{
    for (size_t at = 30; at < n; at += n / 7) {
        p[at] ^= 0x10;
        spit(f->c, p, n);
        p[at] ^= 0x10;
        expect_refused(f->c, "flipped byte", "");
    }
    p[n / 2] ^= 1;
    spit(f->c, p, n);
    p[n / 2] ^= 1;
    expect_refused(f->c, "flipped weight", "checksum");
    spit(f->c, p, n - 5);
    expect_refused(f->c, "truncated", "truncated");
    spit(f->c, p, 10);
    expect_refused(f->c, "10 bytes", "bad magic");
    p[0] = 'X';
    spit(f->c, p, n);
    p[0] = 'P';
    expect_refused(f->c, "bad magic", "bad magic");
    p[8] = 6; /* 3 to 5: --neg hard / --augment shift, --dropout, --goodness-from models */
    spit(f->c, p, n);
    p[8] = 2;
    expect_refused(f->c, "future version", "newer pff");
    p[20] = 9; /* first hidden width 8 -> 9: sizes no longer match */
    spit(f->c, p, n);
    p[20] = 8;
    expect_refused(f->c, "mismatched sizes", "");
    expect_refused(f->dir, "a directory", "not a regular file");
}

/* m saved at f->c is `version`, `extra` bytes longer than version 2's n2; it is loaded into *r
 * (the caller checks its fields and frees it) and *r saved at f->d gives the same bytes.
 * Returns the bytes of f->c (*n of them). */
static unsigned char *versioned_round_trip(const pff_model *m, pff_model *r, const struct files *f,
                                           int version, size_t n2, size_t extra, size_t *n)
{
    char err[PFF_ERRLEN];
    CHECK(pff_model_save(m, f->c, err) == 0, "save version %d: %s", version, err);
    unsigned char *p = slurp(f->c, n);
    CHECK(p && *n == n2 + extra && p[8] == version, "version %d is %zu bytes longer (%zu vs %zu)",
          version, extra, *n, n2);
    CHECK(pff_model_load(r, f->c, err) == 0, "load version %d: %s", version, err);
    CHECK(pff_model_save(r, f->d, err) == 0, "save version %d again: %s", version, err);
    size_t nd = 0;
    unsigned char *pd = slurp(f->d, &nd);
    CHECK(p && pd && nd == *n && memcmp(p, pd, nd) == 0, "version %d: save → load → save identical",
          version);
    free(pd);
    return p;
}

/* --neg hard / --augment shift: version 3, two more fields; a version-3 file whose settings need
 * no version 3 is refused (one model, one byte string). */
static void test_version3(pff_model *m, const struct files *f, size_t n2)
{
    m->cfg.neg = PFF_NEG_HARD;
    m->cfg.hard_temp = 2.5f;
    m->cfg.augment = PFF_AUGMENT_SHIFT;
    pff_model r;
    size_t n;
    unsigned char *p = versioned_round_trip(m, &r, f, 3, n2, 8, &n);
    CHECK(r.cfg.neg == PFF_NEG_HARD && r.cfg.augment == PFF_AUGMENT_SHIFT && r.cfg.hard_temp == 2.5f &&
              memcmp(r.layer[1]->w, m->layer[1]->w, 6 * 8 * sizeof(float)) == 0,
          "version 3 round trip");
    pff_model_free(&r);
    memset(p + MODEL_AUG_AT, 0, 4);
    p[MODEL_NEG_AT] = PFF_NEG_RANDOM;
    put_f32_fix_sum(p, n, MODEL_AUG_AT + 4, 1.0f); /* hard_temp at its default */
    spit(f->c, p, n);
    expect_refused(f->c, "v3 without hard/shift", "a version-3 model whose settings need version 2");
    free(p);
    model_defaults_again(m);
}

/* --dropout / --weight-decay: version 4 = version 3's layout + f32 dropout, f32 weight_decay,
 * with or without the version-3 settings; out of range, or neither in use: refused, the field
 * named. */
static void test_version4(pff_model *m, const struct files *f, size_t n2)
{
    for (int with_v3 = 0; with_v3 < 2; with_v3++) {
        m->cfg.dropout = 0.2f;
        m->cfg.weight_decay = 0.01f;
        m->cfg.neg = with_v3 ? PFF_NEG_HARD : PFF_NEG_RANDOM;
        m->cfg.augment = with_v3 ? PFF_AUGMENT_SHIFT : PFF_AUGMENT_NONE;
        m->cfg.hard_temp = with_v3 ? 2.5f : 1.0f;
        pff_model r;
        size_t n;
        unsigned char *p = versioned_round_trip(m, &r, f, 4, n2, 16, &n);
        CHECK(r.cfg.dropout == 0.2f && r.cfg.weight_decay == 0.01f && r.cfg.neg == m->cfg.neg &&
                  r.cfg.augment == m->cfg.augment && r.cfg.hard_temp == m->cfg.hard_temp &&
                  memcmp(r.layer[1]->w, m->layer[1]->w, 6 * 8 * sizeof(float)) == 0,
              "version 4 round trip (%s)", with_v3 ? "with the version-3 settings" : "alone");
        pff_model_free(&r);
        if (!with_v3) {
            put_f32_fix_sum(p, n, MODEL_DROP_AT, 1.5f);
            spit(f->c, p, n);
            expect_refused(f->c, "v4 dropout 1.5", "the model's dropout is 1.5, expected a number in [0, 1)");
            put_f32_fix_sum(p, n, MODEL_DROP_AT, -0.25f);
            spit(f->c, p, n);
            expect_refused(f->c, "v4 dropout -0.25", "dropout");
            put_f32_fix_sum(p, n, MODEL_DROP_AT, 0.2f);
            put_f32_fix_sum(p, n, MODEL_WD_AT, -1.0f);
            spit(f->c, p, n);
            expect_refused(f->c, "v4 weight decay -1", "weight_decay is -1, expected a number >= 0");
            put_f32_fix_sum(p, n, MODEL_WD_AT, __builtin_nanf(""));
            spit(f->c, p, n);
            expect_refused(f->c, "v4 weight decay NaN", "weight_decay");
            put_f32_fix_sum(p, n, MODEL_DROP_AT, 0.0f);
            put_f32_fix_sum(p, n, MODEL_WD_AT, 0.0f);
            spit(f->c, p, n);
            expect_refused(f->c, "v4 with both 0", "a version-4 model whose settings need version 2");
        }
        free(p);
    }
    model_defaults_again(m);
}

/* --goodness-from 1: version 5 = version 4's layout + u32 goodness_from, the version-3 and -4
 * fields carried whatever they hold; goodness_from 2 (the paper's rule is written 0) and 3 (more
 * than L) refused, and version 5 still checks the version-4 fields. Back at the defaults, the
 * model is version 2 again. */
static void test_version5(pff_model *m, const struct files *f, size_t n2)
{
    m->cfg.goodness_from = 1;
    pff_model r;
    size_t n;
    unsigned char *p = versioned_round_trip(m, &r, f, 5, n2, 20, &n);
    CHECK(r.cfg.goodness_from == 1 && r.cfg.dropout == 0.0f && r.cfg.neg == PFF_NEG_RANDOM &&
              memcmp(r.layer[1]->w, m->layer[1]->w, 6 * 8 * sizeof(float)) == 0,
          "version 5 round trip");
    pff_model_free(&r);
    for (int bad = 2; bad <= 3; bad++) {
        p[MODEL_FROM_AT] = (unsigned char)bad;
        fix_sum(p, n);
        spit(f->c, p, n);
        expect_refused(f->c, bad == 2 ? "v5 paper's rule" : "v5 layer 3 of 2", "goodness_from");
    }
    p[MODEL_FROM_AT] = 1;
    put_f32_fix_sum(p, n, MODEL_DROP_AT, -0.5f);
    spit(f->c, p, n);
    expect_refused(f->c, "v5 dropout -0.5", "dropout");
    free(p);
    model_defaults_again(m);
    char err[PFF_ERRLEN];
    CHECK(pff_model_save(m, f->c, err) == 0, "save: %s", err);
    unsigned char *p2 = slurp(f->c, &n);
    CHECK(p2 && n == n2 && p2[8] == 2, "dropout and weight decay 0: version 2 again");
    free(p2);
}

/* A save into a missing directory fails and leaves no file; the model saved earlier at f->b
 * keeps its bytes. */
static void test_failed_save(const pff_model *m, const struct files *f)
{
    char bad[160], err[PFF_ERRLEN];
    size_t n0 = 0, n1 = 0;
    unsigned char *before = slurp(f->b, &n0);
    snprintf(bad, sizeof bad, "%s/missing/x.pff", f->dir);
    CHECK(pff_model_save(m, bad, err) != 0, "save into a missing directory fails");
    unsigned char *after = slurp(f->b, &n1);
    CHECK(before && after && n0 == n1 && memcmp(before, after, n0) == 0, "existing file untouched");
    free(before), free(after);
}

int main(void)
{
    struct files f = {.dir = "/tmp/pff_test_model_XXXXXX"};
    if (!mkdtemp(f.dir))
        return 1;
    snprintf(f.a, sizeof f.a, "%s/a.pff", f.dir);
    snprintf(f.b, sizeof f.b, "%s/b.pff", f.dir);
    snprintf(f.c, sizeof f.c, "%s/c.pff", f.dir);
    snprintf(f.d, sizeof f.d, "%s/d.pff", f.dir);
    test_settings_table();
    pff_model m;
    model_fixture(&m);
    size_t n2 = 0;
    unsigned char *p2 = test_round_trip(&m, &f, &n2);
    if (p2)
        test_damaged(p2, n2, &f);
    free(p2);
    test_version3(&m, &f, n2);
    test_version4(&m, &f, n2);
    test_version5(&m, &f, n2);
    test_failed_save(&m, &f);
    pff_model_free(&m);
    test_checkpoints(f.dir);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f.dir);
    if (system(cmd) != 0)
        return 1;
    return check_report("test_model");
}
