/* tests/test_model.c — model files: save → load → save gives the same bytes;
 * a flipped byte, a truncated file, a bad magic and a future version are
 * refused with a clear message; a failed save leaves nothing behind. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../layers/layers.h"
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
    char dir[64] = "/tmp/pff_test_model_XXXXXX", a[128], b[128], c[128];
    if (!mkdtemp(dir))
        return 1;
    snprintf(a, sizeof a, "%s/a.pff", dir);
    snprintf(b, sizeof b, "%s/b.pff", dir);
    snprintf(c, sizeof c, "%s/c.pff", dir);
    pff_model m;
    memset(&m, 0, sizeof m);
    pff_config_default(&m.cfg);
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
    pa[8] = 3;
    spit(c, pa, na);
    expect_refused(c, "future version", "newer pff");
    pa[8] = 2;
    pa[20] = 9; /* first hidden width 8 -> 9: sizes no longer match */
    spit(c, pa, na);
    expect_refused(c, "mismatched sizes", "");
    expect_refused(dir, "a directory", "not a regular file");

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
