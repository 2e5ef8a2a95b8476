/* data/idx.c — IDX files (the MNIST format): big-endian magic 0x0000080D
 * where D is the number of dimensions and 0x08 says unsigned bytes, then D
 * big-endian u32 sizes, then the bytes. Images (D = 3) become floats in
 * [0, 1]; labels (D = 1) must be < 10 and as many as the images. Every
 * rejection names the file, what was found and what was expected. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../pff.h"

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads a whole IDX file of `want_dims` dimensions; returns the payload. */
static unsigned char *idx_read(const char *path, int want_dims, uint32_t dims[3], char *err)
{
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, PFF_ERRLEN, "%s: cannot open: %s%s", path, strerror(errno),
                 errno == ENOENT ? " (run `make data` to fetch MNIST, or pass --data DIR)" : "");
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, PFF_ERRLEN, "%s: not a regular file", path);
        fclose(f);
        return NULL;
    }
    unsigned char hdr[16];
    size_t hlen = 4 + 4 * (size_t)want_dims;
    if (fread(hdr, 1, hlen, f) != hlen) {
        snprintf(err, PFF_ERRLEN, "%s: truncated header: %lld bytes, expected at least %zu", path,
                 (long long)st.st_size, hlen);
        fclose(f);
        return NULL;
    }
    uint32_t magic = be32(hdr), want = 0x0800u | (uint32_t)want_dims;
    if (magic != want) {
        snprintf(err, PFF_ERRLEN, "%s: bad magic 0x%08x, expected 0x%08x (IDX, unsigned bytes, %d dimension%s)",
                 path, magic, want, want_dims, want_dims > 1 ? "s" : "");
        fclose(f);
        return NULL;
    }
    unsigned long long total = 1;
    for (int d = 0; d < want_dims; d++) {
        dims[d] = be32(hdr + 4 + 4 * d);
        if (dims[d] == 0 || dims[d] > (1u << 28)) {
            snprintf(err, PFF_ERRLEN, "%s: dimension %d is %u, expected 1..%u", path, d, dims[d], 1u << 28);
            fclose(f);
            return NULL;
        }
        if (total > (1ull << 40) / dims[d]) { /* no IDX file we can hold is this large */
            snprintf(err, PFF_ERRLEN, "%s: dimensions multiply to more than 2^40 items", path);
            fclose(f);
            return NULL;
        }
        total *= dims[d];
    }
    if ((unsigned long long)st.st_size != hlen + total) {
        snprintf(err, PFF_ERRLEN, "%s: file is %lld bytes, expected %llu (header %zu + data %llu)", path,
                 (long long)st.st_size, hlen + total, hlen, total);
        fclose(f);
        return NULL;
    }
    unsigned char *data = malloc(total ? total : 1);
    if (!data) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory for %llu bytes", path, total);
        fclose(f);
        return NULL;
    }
    if (fread(data, 1, total, f) != total) {
        snprintf(err, PFF_ERRLEN, "%s: read error", path);
        free(data);
        fclose(f);
        return NULL;
    }
    fclose(f);
    return data;
}

int pff_idx_load(const char *images_path, const char *labels_path, pff_dataset *out, char *err)
{
    memset(out, 0, sizeof *out);
    uint32_t di[3], dl[3];
    unsigned char *img = idx_read(images_path, 3, di, err);
    if (!img)
        return PFF_EUSAGE;
    unsigned char *lab = idx_read(labels_path, 1, dl, err);
    if (!lab) {
        free(img);
        return PFF_EUSAGE;
    }
    if (di[0] != dl[0]) {
        snprintf(err, PFF_ERRLEN, "%s: %u labels, but %s holds %u images", labels_path, dl[0],
                 images_path, di[0]);
        free(img);
        free(lab);
        return PFF_EUSAGE;
    }
    for (uint32_t i = 0; i < dl[0]; i++)
        if (lab[i] >= PFF_CLASSES) {
            snprintf(err, PFF_ERRLEN, "%s: label %u of item %u, expected 0..%d", labels_path, lab[i], i,
                     PFF_CLASSES - 1);
            free(img);
            free(lab);
            return PFF_EUSAGE;
        }
    size_t dim = (size_t)di[1] * di[2];
    if (dim < PFF_CLASSES || dim > (1u << 24)) {
        snprintf(err, PFF_ERRLEN, "%s: images of %ux%u, expected at least %d pixels", images_path, di[1],
                 di[2], PFF_CLASSES);
        free(img);
        free(lab);
        return PFF_EUSAGE;
    }
    out->n = (int)di[0];
    out->dim = (int)dim;
    out->x = malloc((size_t)out->n * dim * sizeof(float));
    if (!out->x) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", images_path);
        free(img);
        free(lab);
        return PFF_EFAIL;
    }
    for (size_t i = 0; i < (size_t)out->n * dim; i++)
        out->x[i] = img[i] * (1.0f / 255.0f);
    out->y = lab;
    free(img);
    return PFF_OK;
}

const char *const pff_data_files[PFF_DATA_FILES] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte"};

int pff_data_load(const char *dir, pff_dataset *train, pff_dataset *test, char *err)
{
    char a[4096], b[4096];
    memset(test, 0, sizeof *test);
    snprintf(a, sizeof a, "%s/%s", dir, pff_data_files[0]);
    snprintf(b, sizeof b, "%s/%s", dir, pff_data_files[1]);
    int rc = pff_idx_load(a, b, train, err);
    if (rc)
        return rc;
    snprintf(a, sizeof a, "%s/%s", dir, pff_data_files[2]);
    snprintf(b, sizeof b, "%s/%s", dir, pff_data_files[3]);
    rc = pff_idx_load(a, b, test, err);
    if (rc) {
        pff_dataset_free(train);
        return rc;
    }
    if (test->dim != train->dim) {
        snprintf(err, PFF_ERRLEN, "%s: test images have %d pixels, training images %d", a, test->dim,
                 train->dim);
        pff_dataset_free(train);
        pff_dataset_free(test);
        return PFF_EUSAGE;
    }
    return PFF_OK;
}

/* 64-bit FNV-1a of a whole file, read in blocks (the same function as the
 * checksum of model files, so a fingerprint is easy to recompute by hand). */
int pff_data_fingerprint(const char *dir, uint64_t size[PFF_DATA_FILES],
                         uint64_t hash[PFF_DATA_FILES], char *err)
{
    const size_t cap = 1 << 16;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", dir);
        return PFF_EFAIL;
    }
    for (int i = 0; i < PFF_DATA_FILES; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, pff_data_files[i]);
        FILE *f = fopen(path, "rb");
        if (!f) {
            snprintf(err, PFF_ERRLEN, "%s: cannot open: %s", path, strerror(errno));
            free(buf);
            return PFF_EUSAGE;
        }
        uint64_t h = 0xcbf29ce484222325ull, n = 0;
        size_t got;
        while ((got = fread(buf, 1, cap, f)) > 0) {
            for (size_t j = 0; j < got; j++)
                h = (h ^ buf[j]) * 0x100000001b3ull;
            n += got;
        }
        int bad = ferror(f);
        fclose(f);
        if (bad) {
            snprintf(err, PFF_ERRLEN, "%s: read error", path);
            free(buf);
            return PFF_EUSAGE;
        }
        size[i] = n;
        hash[i] = h;
    }
    free(buf);
    return PFF_OK;
}

void pff_dataset_free(pff_dataset *d)
{
    free(d->x);
    free(d->y);
    free(d->index);
    memset(d, 0, sizeof *d);
}

void pff_dataset_truncate(pff_dataset *d, int n)
{
    if (n > 0 && n < d->n)
        d->n = n;
}
