/* tests/test_idx.c — the IDX loader on generated files: a valid pair loads
 * with the right shape and scaling; every malformed file is refused with a
 * message naming it. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../pff.h"
#include "check.h"

static char dir[256];

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8),
    p[3] = (unsigned char)v;
}

/* Writes an IDX file: magic, dims, then `bytes` data bytes from data. */
static char *write_idx(const char *name, uint32_t magic, const uint32_t *dims, int nd,
                             const unsigned char *data, size_t bytes)
{
    static char paths[32][512]; /* one slot per call, never reused */
    static int used;
    char *p = paths[used++ % 32];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    unsigned char h[4];
    be32(h, magic);
    fwrite(h, 1, 4, f);
    for (int i = 0; i < nd; i++) {
        be32(h, dims[i]);
        fwrite(h, 1, 4, f);
    }
    if (bytes)
        fwrite(data, 1, bytes, f);
    fclose(f);
    return p;
}

static void expect_error(const char *img, const char *lab, const char *what, const char *needle)
{
    pff_dataset d;
    char err[PFF_ERRLEN] = "";
    int rc = pff_idx_load(img, lab, &d, err);
    CHECK(rc == PFF_EUSAGE, "%s: rc %d, expected %d", what, rc, PFF_EUSAGE);
    CHECK(strstr(err, needle) != NULL, "%s: message '%s' lacks '%s'", what, err, needle);
    printf("  rejected %-24s %s\n", what, err);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/pff_test_idx_XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    enum { N = 5, R = 4, C = 4 };
    unsigned char pix[N * R * C], lab[N] = {0, 9, 3, 3, 7};
    for (int i = 0; i < N * R * C; i++)
        pix[i] = (unsigned char)(i * 37 % 256);
    uint32_t di[3] = {N, R, C}, dl[1] = {N};
    const char *img = write_idx("img", 0x803, di, 3, pix, sizeof pix);
    const char *lbl = write_idx("lbl", 0x801, dl, 1, lab, N);
    pff_dataset d;
    char err[PFF_ERRLEN];
    CHECK(pff_idx_load(img, lbl, &d, err) == 0, "valid pair: %s", err);
    CHECK(d.n == N && d.dim == R * C, "shape %d x %d", d.n, d.dim);
    int ok = 1;
    for (int i = 0; i < N * R * C; i++)
        ok &= fabsf(d.x[i] - pix[i] / 255.0f) < 1e-7f && d.x[i] >= 0 && d.x[i] <= 1;
    CHECK(ok, "pixels scaled to [0,1]");
    CHECK(d.y[1] == 9 && d.y[4] == 7, "labels");
    pff_dataset_free(&d);

    expect_error(write_idx("trunc", 0x803, di, 3, pix, sizeof pix - 1), lbl, "truncated images",
                 "expected");
    expect_error(write_idx("magic", 0x804, di, 3, pix, sizeof pix), lbl, "wrong magic", "bad magic");
    expect_error(img, write_idx("labmagic", 0x803, dl, 1, lab, N), "labels with image magic",
                 "bad magic");
    uint32_t dl4[1] = {N - 1};
    expect_error(img, write_idx("fewer", 0x801, dl4, 1, lab, N - 1), "count mismatch", "images");
    unsigned char bad[N] = {0, 1, 10, 2, 3};
    expect_error(img, write_idx("bad", 0x801, dl, 1, bad, N), "label 10", "label 10");
    uint32_t dz[3] = {0, R, C};
    expect_error(write_idx("zero", 0x803, dz, 3, pix, 0), lbl, "zero images", "dimension 0");
    unsigned char extra[N * R * C + 1] = {0};
    expect_error(write_idx("long", 0x803, di, 3, extra, sizeof extra), lbl, "trailing bytes", "expected");
    char empty[512], missing[512];
    snprintf(empty, sizeof empty, "%s/empty0", dir);
    fclose(fopen(empty, "wb"));
    expect_error(empty, lbl, "empty file", "truncated header");
    snprintf(missing, sizeof missing, "%s/none", dir);
    expect_error(missing, lbl, "missing file", "cannot open");
    expect_error(dir, lbl, "a directory", "not a regular file");
    uint32_t tiny[3] = {N, 2, 2};
    expect_error(write_idx("tiny", 0x803, tiny, 3, pix, N * 4), lbl, "4-pixel images", "pixels");
    /* clean up */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return check_report("test_idx");
}
