/* tests/fuzz/fuzz_idx.c — libFuzzer target for the IDX reader (data/idx.c).
 *
 * Input layout (one fuzz input = one pair of IDX files):
 *
 *   byte 0          k: the length of the labels file (clamped to what is left)
 *   bytes 1..n-k-1  the images file
 *   last k bytes    the labels file
 *
 * A labels file of k <= 255 bytes holds up to 247 labels, so the whole pair
 * stays small while both files are mutated. The two files are written to one
 * pair of temporary paths per process ($PFF_FUZZ_TMPDIR, else /dev/shm when
 * writable, else /tmp; the names carry the pid) and pff_idx_load reads them.
 *
 * Oracles (__builtin_trap when violated):
 *   on success  n >= 1, dim >= 10, x and y allocated, every pixel in [0, 1],
 *               every label < 10, and, against the bytes we wrote: n and dim
 *               match the images header, pixel i == byte i / 255, label i ==
 *               byte i of the labels payload;
 *   on failure  rc is PFF_EUSAGE or PFF_EFAIL, the message is non-empty and
 *               names one of the two files, and nothing is left allocated in
 *               the dataset (x == y == NULL).
 *
 * PFF_FUZZ_WRITE_SEEDS=DIR ./fuzz_idx writes the seed corpus (valid pairs and
 * one malformed pair per refusal of data/idx.c) into DIR and exits; that is
 * how tests/fuzz/corpus/idx/ was made (`make fuzz-seeds`).
 */
#define _POSIX_C_SOURCE 200809L
#include "pff.h"
#include "tests/fuzz/fuzz_common.h"

static char img_path[256], lab_path[256];

static void init_paths(void)
{
    fuzz_init_paths(img_path, lab_path, sizeof img_path, "idx", "images", "labels");
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- seed corpus ---- */
static size_t put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
    return 4;
}

/* One fuzz input: k, images (magic, n, h, w header, then `pixels` bytes of a
 * pattern or of fill when fill >= 0), labels (magic, count, the labels). */
static void seed(const char *dir, const char *name, uint32_t img_magic, uint32_t n, uint32_t h,
                 uint32_t w, size_t pixels, int fill, uint32_t lab_magic, uint32_t count,
                 const uint8_t *labels, size_t nlabels)
{
    static uint8_t buf[1 + 16 + 4096 + 8 + 255];
    if (pixels > 4096 || 8 + nlabels > 255)
        abort();
    size_t o = 1;
    buf[0] = (uint8_t)(8 + nlabels);
    o += put_be32(buf + o, img_magic);
    o += put_be32(buf + o, n);
    o += put_be32(buf + o, h);
    o += put_be32(buf + o, w);
    for (size_t i = 0; i < pixels; i++)
        buf[o++] = fill >= 0 ? (uint8_t)fill : (uint8_t)((i * 37 + 11) % 256);
    o += put_be32(buf + o, lab_magic);
    o += put_be32(buf + o, count);
    memcpy(buf + o, labels, nlabels);
    o += nlabels;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_file(path, buf, o);
}

static void write_seeds(const char *dir)
{
    const uint32_t I = 0x0803, L = 0x0801, big = 1u << 28;
    uint8_t y[247];
    for (int i = 0; i < 247; i++)
        y[i] = (uint8_t)(i % 10);
    const uint8_t y5[] = {9, 0, 5, 1, 8}, y37[] = {3, 7}, y10[] = {3, 10}, y345[] = {3, 4, 5};
    /* accepted */
    seed(dir, "valid-2x28x28", I, 2, 28, 28, 2 * 784, -1, L, 2, y37, 2);
    seed(dir, "valid-1x2x5-min-dim", I, 1, 2, 5, 10, 255, L, 1, y, 1);
    seed(dir, "valid-5x4x4", I, 5, 4, 4, 80, -1, L, 5, y5, 5);
    seed(dir, "valid-3x10x1", I, 3, 10, 1, 30, 0, L, 3, y5, 3);
    seed(dir, "valid-247x1x10-max-labels", I, 247, 1, 10, 2470, -1, L, 247, y, 247);
    /* refused, one reason each */
    seed(dir, "bad-label-10", I, 2, 4, 4, 32, -1, L, 2, y10, 2);
    seed(dir, "bad-count-mismatch", I, 2, 4, 4, 32, -1, L, 3, y345, 3);
    seed(dir, "bad-image-magic", 0x0903, 1, 4, 4, 16, -1, L, 1, y, 1);
    seed(dir, "bad-label-magic-dims", I, 1, 4, 4, 16, -1, 0x0803, 1, y, 1);
    seed(dir, "bad-truncated-images", I, 2, 4, 4, 29, -1, L, 2, y, 2);
    seed(dir, "bad-trailing-byte", I, 2, 4, 4, 33, -1, L, 2, y, 2);
    seed(dir, "bad-label-count-short", I, 3, 4, 4, 48, -1, L, 3, y, 2);
    seed(dir, "bad-zero-images", I, 0, 4, 4, 0, -1, L, 0, y, 0);
    seed(dir, "bad-dim-9", I, 1, 3, 3, 9, -1, L, 1, y, 1);
    seed(dir, "bad-dim-over-max", I, 1, big + 1, 1, 0, -1, L, 1, y, 1);
    /* 2^28 x 2^28 x 2^28 = 2^84 wraps to 0 in idx_read's 64-bit product, so
     * this 16-byte images file passes the size check (refused later) */
    seed(dir, "bad-dims-product-wraps", I, big, big, big, 0, -1, L, 1, y, 1);
    /* too short for a header: images of 8 bytes, labels of 0 */
    static const uint8_t short_hdr[] = {0, 0, 0, 8, 3, 0, 0, 0, 1};
    char path[4096];
    snprintf(path, sizeof path, "%s/bad-short-headers", dir);
    write_file(path, short_hdr, sizeof short_hdr);
}

FUZZ_INITIALIZE("fuzz_idx", NULL, write_seeds)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_paths();
    if (size == 0)
        return 0;
    size_t rest = size - 1;
    size_t nlab = data[0] < rest ? data[0] : rest;
    size_t nimg = rest - nlab;
    const uint8_t *img = data + 1, *lab = data + 1 + nimg;
    write_file(img_path, img, nimg);
    write_file(lab_path, lab, nlab);

    pff_dataset d;
    char err[PFF_ERRLEN] = "";
    int rc = pff_idx_load(img_path, lab_path, &d, err);
    if (rc != PFF_OK) {
        if (rc != PFF_EUSAGE && rc != PFF_EFAIL)
            __builtin_trap();
        if (memchr(err, '\0', sizeof err) == NULL || err[0] == '\0')
            __builtin_trap();
        if (!strstr(err, img_path) && !strstr(err, lab_path))
            __builtin_trap();
        if (d.x || d.y)
            __builtin_trap();
        return 0;
    }
    if (d.n < 1 || d.dim < PFF_CLASSES || !d.x || !d.y)
        __builtin_trap();
    /* success implies well-formed headers of exactly the sizes read back */
    if (nimg < 16 || nlab < 8)
        __builtin_trap();
    uint32_t n = be32(img + 4), h = be32(img + 8), w = be32(img + 12);
    if (be32(img) != 0x0803u || be32(lab) != 0x0801u || be32(lab + 4) != n)
        __builtin_trap();
    if ((uint64_t)d.n != n || (uint64_t)d.dim != (uint64_t)h * w)
        __builtin_trap();
    size_t total = (size_t)d.n * (size_t)d.dim;
    if (nimg != 16 + total || nlab != 8 + (size_t)d.n)
        __builtin_trap();
    for (size_t i = 0; i < total; i++) {
        float x = d.x[i];
        if (!(x >= 0.0f && x <= 1.0f) || x != img[16 + i] * (1.0f / 255.0f))
            __builtin_trap();
    }
    for (int i = 0; i < d.n; i++)
        if (d.y[i] >= PFF_CLASSES || d.y[i] != lab[8 + i])
            __builtin_trap();
    pff_dataset_free(&d);
    if (d.x || d.y || d.n)
        __builtin_trap();
    return 0;
}
