/* tests/test_model.c — model files: save → load → save gives the same bytes
 * (version 2, and version 3 for --neg hard / --augment shift);
 * a flipped byte, a truncated file, a bad magic and a future version are
 * refused with a clear message; a failed save leaves nothing behind. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../layers/layers.h"
#include "../data/bytes.h" /* pff_fnv1a (moved from layers/) */
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

static void expect_refused(const char *path, const char *what, const char *needle)
{
    pff_model m;
    char err[PFF_ERRLEN] = "";
    int rc = pff_model_load(&m, path, err);
    CHECK(rc == PFF_EUSAGE, "%s: rc %d", what, rc);
    CHECK(strstr(err, needle) != NULL, "%s: message '%s' lacks '%s'", what, err, needle);
    printf("  refused %-18s %s\n", what, err);
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
    pa[8] = 4; /* 3 is the version of --neg hard / --augment shift models */
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
    uint64_t h = pff_fnv1a(p3, n3 - 8);
    for (int i = 0; i < 8; i++)
        p3[n3 - 8 + i] = (unsigned char)(h >> (8 * i));
    spit(c, p3, n3);
    expect_refused(c, "v3 without hard/shift", "version-3 settings are invalid");
    free(p3);
    m.cfg.neg = PFF_NEG_RANDOM;
    m.cfg.augment = PFF_AUGMENT_NONE;
    m.cfg.hard_temp = 1.0f;

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
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return check_report("test_model");
}
