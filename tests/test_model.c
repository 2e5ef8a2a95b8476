/* tests/test_model.c — model files: save → load → save gives the same bytes
 * (version 2, version 3 for --neg hard / --augment shift, version 4 for
 * --dropout / --weight-decay); a flipped byte, a truncated file, a bad magic,
 * a future version and out-of-range settings are refused with a clear
 * message; a failed save leaves nothing behind. Checkpoints of version 4 make
 * the same round trip. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* A checkpoint of a --dropout --weight-decay run: version 4 (the version-3
 * fields, then dropout and weight_decay, after the eight run settings),
 * save → load → save identical, bad values refused with the field named; the
 * same state without them is version 2. */
static void test_checkpoint_v4(const char *dir)
{
    char path[128], path2[128], err[PFF_ERRLEN] = "";
    snprintf(path, sizeof path, "%s/a.ck", dir);
    snprintf(path2, sizeof path2, "%s/b.ck", dir);
    pff_checkpoint *ck = calloc(1, sizeof *ck);
    pff_config *c = &ck->cfg;
    pff_config_default(c);
    c->model.nlayers = 2;
    c->model.widths[0] = 20, c->model.widths[1] = 8, c->model.widths[2] = 6;
    c->model.epochs = c->model.splits = 4;
    c->model.dropout = 0.3f;
    c->model.weight_decay = 0.002f;
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
    CHECK(pff_checkpoint_save(ck, path, err) == 0, "save a version-4 checkpoint: %s", err);
    size_t n;
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
    /* magic 8, version 4, L 4, widths 12, threshold..seed 40, run settings 32: augment at 100 */
    const size_t drop_at = 100 + 8, wd_at = 100 + 12;
    put_f32_fix_sum(p, n, drop_at, 1.0f);
    spit(path2, p, n);
    CHECK(pff_checkpoint_load(path2, &back, err) == PFF_EUSAGE && !back &&
              strstr(err, "dropout is 1, expected a number in [0, 1)"),
          "a checkpoint with dropout 1 is refused: '%s'", err);
    put_f32_fix_sum(p, n, drop_at, 0.3f);
    put_f32_fix_sum(p, n, wd_at, -0.5f);
    spit(path2, p, n);
    CHECK(pff_checkpoint_load(path2, &back, err) == PFF_EUSAGE && !back &&
              strstr(err, "weight_decay is -0.5, expected a number >= 0"),
          "a checkpoint with weight decay -0.5 is refused: '%s'", err);
    put_f32_fix_sum(p, n, drop_at, 0.0f);
    put_f32_fix_sum(p, n, wd_at, 0.0f);
    spit(path2, p, n);
    CHECK(pff_checkpoint_load(path2, &back, err) == PFF_EUSAGE && !back &&
              strstr(err, "a version-4 checkpoint whose settings need version 2"),
          "a version-4 checkpoint using neither is refused: '%s'", err);
    put_f32_fix_sum(p, n, drop_at, 0.3f);
    put_f32_fix_sum(p, n, wd_at, 0.002f);
    /* each setting out of range, with a right checksum: refused, the setting named */
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
        {100, 5, "augment is 5, expected one of none, shift, shift1"},
    };
    unsigned char *q = malloc(n);
    for (size_t i = 0; q && i < sizeof field / sizeof field[0]; i++) {
        memcpy(q, p, n);
        put_u32_fix_sum(q, n, field[i].at, field[i].bad);
        spit(path2, q, n);
        CHECK(pff_checkpoint_load(path2, &back, err) == PFF_EUSAGE && !back &&
                  strstr(err, field[i].says) && strstr(err, path2),
              "a checkpoint with '%s' is refused, the field named: '%s'", field[i].says, err);
    }
    free(q);
    free(p);
    c->model.dropout = c->model.weight_decay = 0.0f;
    CHECK(pff_checkpoint_save(ck, path, err) == 0, "save: %s", err);
    size_t n0;
    unsigned char *p0 = slurp(path, &n0);
    CHECK(p0 && p0[8] == 2 && n0 == n - 16, "the same state without them: version 2, 16 bytes "
          "shorter");
    free(p0);

    /* --goodness-from 1: version 5, the version-3 and -4 fields (here unused) then u32
     * goodness_from at 116, 20 bytes longer than version 2 */
    c->model.goodness_from = 1;
    CHECK(pff_checkpoint_save(ck, path, err) == 0, "save a version-5 checkpoint: %s", err);
    unsigned char *p5 = slurp(path, &n);
    CHECK(p5 && p5[8] == 5 && n == n0 + 20, "a --goodness-from 1 checkpoint is version 5, 20 bytes "
          "longer (%zu vs %zu)", n, n0);
    CHECK(pff_checkpoint_load(path, &back, err) == 0, "load version 5: %s", err);
    if (back) {
        const pff_config *b = pff_checkpoint_config(back);
        CHECK(b->model.goodness_from == 1 && b->model.dropout == 0.0f &&
                  b->model.weight_decay == 0.0f && back->layer[1]->step == 40,
              "version-5 checkpoint round trip");
        check_resave(back, path2, p5, n, 5);
        pff_checkpoint_free(back);
    }
    const size_t from_at = 116;
    for (int bad = 2; bad <= 3; bad++) { /* 2: the paper's rule is never written; 3 > L */
        p5[from_at] = (unsigned char)bad;
        fix_sum(p5, n);
        spit(path2, p5, n);
        CHECK(pff_checkpoint_load(path2, &back, err) == PFF_EUSAGE && !back &&
                  strstr(err, "goodness_from"),
              "a checkpoint with goodness_from %d of 2 layers is refused: '%s'", bad, err);
    }
    free(p5);
    c->model.goodness_from = 0;

    /* --val: version 6, the fields of versions 3 to 5 whatever they hold (here unused), and u32
     * val_n after the limits in the run record: 24 bytes longer than version 2. The record ends
     * the file: limits, val_n, the data directory (u32 0: none), 4 x (u64 size, u64 hash), three
     * empty paths, the checksum; so val_n is 92 bytes from the end. */
    ck->rec.val_n = 1234;
    CHECK(pff_checkpoint_save(ck, path, err) == 0, "save a version-6 checkpoint: %s", err);
    unsigned char *p6 = slurp(path, &n);
    CHECK(p6 && p6[8] == 6 && n == n0 + 24 && pff_get32(p6 + n - 92) == 1234,
          "a --val checkpoint is version 6, 24 bytes longer (%zu vs %zu), val_n in its record", n, n0);
    CHECK(pff_checkpoint_load(path, &back, err) == 0, "load version 6: %s", err);
    if (back) {
        CHECK(pff_checkpoint_record(back)->val_n == 1234 &&
                  pff_checkpoint_config(back)->model.goodness_from == 0 &&
                  back->layer[1]->step == 40,
              "version-6 checkpoint round trip (val_n %ld)", pff_checkpoint_record(back)->val_n);
        check_resave(back, path2, p6, n, 6);
        pff_checkpoint_free(back);
    }
    if (p6) { /* version 6 says a validation split was held out: val_n 0 is a damaged file */
        put_u32_fix_sum(p6, n, n - 92, 0);
        spit(path2, p6, n);
        CHECK(pff_checkpoint_load(path2, &back, err) == PFF_EUSAGE && !back &&
                  strstr(err, "validation split"),
              "a version-6 checkpoint with val_n 0 is refused: '%s'", err);
    }
    free(p6);
    ck->rec.val_n = 0;
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

int main(void)
{
    char dir[64] = "/tmp/pff_test_model_XXXXXX", a[128], b[128], c[128], d[128];
    if (!mkdtemp(dir))
        return 1;
    snprintf(a, sizeof a, "%s/a.pff", dir);
    snprintf(b, sizeof b, "%s/b.pff", dir);
    snprintf(c, sizeof c, "%s/c.pff", dir);
    snprintf(d, sizeof d, "%s/d.pff", dir);
    test_settings_table();
    pff_model m;
    memset(&m, 0, sizeof m);
    pff_model_config_default(&m.cfg);
    m.cfg.nlayers = 2;
    m.cfg.widths[0] = 20, m.cfg.widths[1] = 8, m.cfg.widths[2] = 6;
    m.cfg.classifier = PFF_CLS_SOFTMAX;
    m.cfg.seed = 1234567890123ull;
    m.layer = calloc(2, sizeof *m.layer);
    for (int k = 0; k < 2; k++) {
        m.layer[k] = pff_layer_new(m.cfg.widths[k], m.cfg.widths[k + 1]);
        pff_layer_init(m.layer[k], 9, k);
    }
    m.head = pff_layer_new(6, PFF_CLASSES);
    pff_layer_init(m.head, 9, 2);
    m.nhistory = 3;
    m.history = calloc(3, sizeof *m.history);
    for (int i = 0; i < 3; i++) {
        m.history[i].chapter = i + 1;
        m.history[i].lr = 0.001f * (3 - i);
        m.history[i].test_accuracy = i == 1 ? -1.0f : 90.0f + i;
        m.history[i].loss[1] = 1.5f / (i + 1);
        m.history[i].gneg[0] = 7.0f + i;
    }
    char err[PFF_ERRLEN];
    CHECK(pff_model_save(&m, a, err) == 0, "save: %s", err);
    pff_model r;
    CHECK(pff_model_load(&r, a, err) == 0, "load: %s", err);
    CHECK(r.cfg.nlayers == 2 && r.cfg.widths[2] == 6 && r.cfg.seed == m.cfg.seed && r.head,
          "config round trip");
    CHECK(memcmp(r.layer[1]->w, m.layer[1]->w, 6 * 8 * sizeof(float)) == 0, "weights round trip");
    CHECK(r.nhistory == 3 && r.history[2].chapter == 3 && r.history[1].test_accuracy == -1.0f &&
              r.history[2].test_accuracy == 92.0f && r.history[0].loss[1] == 1.5f &&
              r.history[2].gneg[0] == 9.0f,
          "chapter records round trip");
    CHECK(pff_model_save(&r, b, err) == 0, "save again: %s", err);
    size_t na, nb;
    unsigned char *pa = slurp(a, &na), *pb = slurp(b, &nb);
    CHECK(pa && pb && na == nb && memcmp(pa, pb, na) == 0, "save → load → save: identical bytes");
    pff_model_free(&r);

    /* damaged copies */
    for (size_t at = 30; at < na; at += na / 7) {
        pa[at] ^= 0x10;
        spit(c, pa, na);
        pa[at] ^= 0x10;
        expect_refused(c, "flipped byte", "");
    }
    pa[na / 2] ^= 1;
    spit(c, pa, na);
    pa[na / 2] ^= 1;
    expect_refused(c, "flipped weight", "checksum");
    spit(c, pa, na - 5);
    expect_refused(c, "truncated", "truncated");
    spit(c, pa, 10);
    expect_refused(c, "10 bytes", "bad magic");
    pa[0] = 'X';
    spit(c, pa, na);
    expect_refused(c, "bad magic", "bad magic");
    pa[0] = 'P';
    pa[8] = 6; /* 3 to 5: --neg hard / --augment shift, --dropout, --goodness-from models */
    spit(c, pa, na);
    expect_refused(c, "future version", "newer pff");
    pa[8] = 2;
    pa[20] = 9; /* first hidden width 8 -> 9: sizes no longer match */
    spit(c, pa, na);
    expect_refused(c, "mismatched sizes", "");
    expect_refused(dir, "a directory", "not a regular file");

    /* --neg hard / --augment shift: version 3, two more fields, the same round trip;
     * every other model stays version 2 (byte 8) */
    CHECK(pa[8] == 2, "a model without the new settings is version 2");
    m.cfg.neg = PFF_NEG_HARD;
    m.cfg.hard_temp = 2.5f;
    m.cfg.augment = PFF_AUGMENT_SHIFT;
    CHECK(pff_model_save(&m, c, err) == 0, "save version 3: %s", err);
    size_t n3;
    unsigned char *p3 = slurp(c, &n3);
    CHECK(p3 && n3 == na + 8 && p3[8] == 3, "version 3 is 8 bytes longer (%zu vs %zu)", n3, na);
    CHECK(pff_model_load(&r, c, err) == 0, "load version 3: %s", err);
    CHECK(r.cfg.neg == PFF_NEG_HARD && r.cfg.augment == PFF_AUGMENT_SHIFT && r.cfg.hard_temp == 2.5f &&
              memcmp(r.layer[1]->w, m.layer[1]->w, 6 * 8 * sizeof(float)) == 0,
          "version 3 round trip");
    CHECK(pff_model_save(&r, d, err) == 0, "save version 3 again: %s", err);
    pff_model_free(&r);
    size_t nb3;
    unsigned char *pb3 = slurp(d, &nb3);
    CHECK(p3 && pb3 && nb3 == n3 && memcmp(p3, pb3, n3) == 0, "version 3: save → load → save identical");
    free(pb3);
    /* a version-3 file whose settings need no version 3 is refused (one model, one byte string) */
    const size_t aug_at = 8 + 4 + 4 + 4 * 3 + 4 * 8 + 8; /* u32 augment after the seed */
    memset(p3 + aug_at, 0, 4);
    p3[8 + 4 + 4 + 4 * 3 + 4 * 6] = PFF_NEG_RANDOM; /* u32 neg (the 7th field after the widths) */
    put_f32_fix_sum(p3, n3, aug_at + 4, 1.0f);     /* hard_temp at its default */
    spit(c, p3, n3);
    expect_refused(c, "v3 without hard/shift", "a version-3 model whose settings need version 2");
    free(p3);
    m.cfg.neg = PFF_NEG_RANDOM;
    m.cfg.augment = PFF_AUGMENT_NONE;
    m.cfg.hard_temp = 1.0f;

    /* --dropout / --weight-decay: version 4 = version 3's layout + f32 dropout, f32 weight_decay
     * after hard_temp (at 76 and 80 for two layers), with or without the version-3 settings */
    const size_t drop_at = aug_at + 8, wd_at = aug_at + 12;
    for (int with_v3 = 0; with_v3 < 2; with_v3++) {
        m.cfg.dropout = 0.2f;
        m.cfg.weight_decay = 0.01f;
        m.cfg.neg = with_v3 ? PFF_NEG_HARD : PFF_NEG_RANDOM;
        m.cfg.augment = with_v3 ? PFF_AUGMENT_SHIFT : PFF_AUGMENT_NONE;
        m.cfg.hard_temp = with_v3 ? 2.5f : 1.0f;
        CHECK(pff_model_save(&m, c, err) == 0, "save version 4: %s", err);
        size_t n4, nb4;
        unsigned char *p4 = slurp(c, &n4);
        CHECK(p4 && n4 == na + 16 && p4[8] == 4, "version 4 (%s) is 16 bytes longer (%zu vs %zu)",
              with_v3 ? "hard, shift" : "alone", n4, na);
        CHECK(pff_model_load(&r, c, err) == 0, "load version 4: %s", err);
        CHECK(r.cfg.dropout == 0.2f && r.cfg.weight_decay == 0.01f && r.cfg.neg == m.cfg.neg &&
                  r.cfg.augment == m.cfg.augment && r.cfg.hard_temp == m.cfg.hard_temp &&
                  memcmp(r.layer[1]->w, m.layer[1]->w, 6 * 8 * sizeof(float)) == 0,
              "version 4 round trip (%s)", with_v3 ? "with the version-3 settings" : "alone");
        CHECK(pff_model_save(&r, d, err) == 0, "save version 4 again: %s", err);
        pff_model_free(&r);
        unsigned char *pb4 = slurp(d, &nb4);
        CHECK(p4 && pb4 && nb4 == n4 && memcmp(p4, pb4, n4) == 0,
              "version 4: save → load → save identical");
        free(pb4);
        if (!with_v3) { /* out of range, or neither in use: refused, the field named */
            put_f32_fix_sum(p4, n4, drop_at, 1.5f);
            spit(c, p4, n4);
            expect_refused(c, "v4 dropout 1.5", "the model's dropout is 1.5, expected a number in [0, 1)");
            put_f32_fix_sum(p4, n4, drop_at, -0.25f);
            spit(c, p4, n4);
            expect_refused(c, "v4 dropout -0.25", "dropout");
            put_f32_fix_sum(p4, n4, drop_at, 0.2f);
            put_f32_fix_sum(p4, n4, wd_at, -1.0f);
            spit(c, p4, n4);
            expect_refused(c, "v4 weight decay -1", "weight_decay is -1, expected a number >= 0");
            put_f32_fix_sum(p4, n4, wd_at, __builtin_nanf(""));
            spit(c, p4, n4);
            expect_refused(c, "v4 weight decay NaN", "weight_decay");
            put_f32_fix_sum(p4, n4, drop_at, 0.0f);
            put_f32_fix_sum(p4, n4, wd_at, 0.0f);
            spit(c, p4, n4);
            expect_refused(c, "v4 with both 0", "a version-4 model whose settings need version 2");
        }
        free(p4);
    }
    m.cfg.dropout = m.cfg.weight_decay = 0.0f;
    m.cfg.neg = PFF_NEG_RANDOM;
    m.cfg.augment = PFF_AUGMENT_NONE;
    m.cfg.hard_temp = 1.0f;

    /* --goodness-from 1: version 5 = version 4's layout + u32 goodness_from (at 84 for two
     * layers), the version-3 and -4 fields carried whatever they hold */
    m.cfg.goodness_from = 1;
    CHECK(pff_model_save(&m, c, err) == 0, "save version 5: %s", err);
    size_t n5, nb5;
    unsigned char *p5 = slurp(c, &n5);
    CHECK(p5 && n5 == na + 20 && p5[8] == 5, "version 5 is 20 bytes longer (%zu vs %zu)", n5, na);
    CHECK(pff_model_load(&r, c, err) == 0, "load version 5: %s", err);
    CHECK(r.cfg.goodness_from == 1 && r.cfg.dropout == 0.0f && r.cfg.neg == PFF_NEG_RANDOM &&
              memcmp(r.layer[1]->w, m.layer[1]->w, 6 * 8 * sizeof(float)) == 0,
          "version 5 round trip");
    CHECK(pff_model_save(&r, d, err) == 0, "save version 5 again: %s", err);
    pff_model_free(&r);
    unsigned char *pb5 = slurp(d, &nb5);
    CHECK(p5 && pb5 && nb5 == n5 && memcmp(p5, pb5, n5) == 0,
          "version 5: save → load → save identical");
    free(pb5);
    const size_t from_at = wd_at + 4;
    for (int bad = 2; bad <= 3; bad++) { /* 2: the paper's rule is never written; 3 > L */
        p5[from_at] = (unsigned char)bad;
        fix_sum(p5, n5);
        spit(c, p5, n5);
        expect_refused(c, bad == 2 ? "v5 paper's rule" : "v5 layer 3 of 2", "goodness_from");
    }
    p5[from_at] = 1;
    put_f32_fix_sum(p5, n5, drop_at, -0.5f); /* version 5 still checks the version-4 fields */
    spit(c, p5, n5);
    expect_refused(c, "v5 dropout -0.5", "dropout");
    free(p5);
    m.cfg.goodness_from = 0;
    CHECK(pff_model_save(&m, c, err) == 0, "save: %s", err);
    size_t n2;
    unsigned char *p2 = slurp(c, &n2);
    CHECK(p2 && n2 == na && p2[8] == 2, "dropout and weight decay 0: version 2 again");
    free(p2);

    /* a save into a missing directory fails and leaves no file */
    char bad[160];
    snprintf(bad, sizeof bad, "%s/missing/x.pff", dir);
    CHECK(pff_model_save(&m, bad, err) != 0, "save into a missing directory fails");
    /* an existing model survives a failed overwrite attempt of another path */
    size_t nb2;
    unsigned char *pb2 = slurp(b, &nb2);
    CHECK(pb2 && nb2 == nb && memcmp(pb2, pb, nb) == 0, "existing file untouched");
    free(pa), free(pb), free(pb2);
    pff_model_free(&m);
    test_checkpoint_v4(dir);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return check_report("test_model");
}
