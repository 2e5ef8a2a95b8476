/* data/image.c — a picture file as one model input (image.h): read the whole file, decode it
 * with stb_image, take its luma, composite alpha, invert on request, and resample it to the
 * model's side x side input keeping the aspect ratio.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb/stb_image.h>

#include "../pff.h"
#include "data.h"
#include "image.h"

#define MAX_PIXELS (64L * 1024 * 1024) /* images larger than this are refused */
#define MAX_FILE (512L * 1024 * 1024)

int pff_square_side(int dim)
{
    int s = (int)lround(sqrt((double)dim));
    return s > 0 && s * s == dim ? s : 0;
}

/* Resamples n values (stride ss) to m values (stride ds): area average when
 * shrinking, bilinear between pixel centres when growing. */
static void resample(const float *src, int n, long ss, float *dst, int m, long ds)
{
    const double scale = (double)n / m;
    for (int i = 0; i < m; i++) {
        double v = 0;
        if (n >= m) {
            double a = i * scale, b = (i + 1) * scale;
            for (int j = (int)a; j < n && j < b; j++) {
                double lo = j > a ? j : a, hi = j + 1 < b ? j + 1 : b;
                if (hi > lo)
                    v += (hi - lo) * src[j * ss];
            }
            v /= scale;
        } else {
            double x = (i + 0.5) * scale - 0.5;
            if (x < 0)
                x = 0;
            int j = (int)x;
            if (j >= n - 1) {
                v = src[(long)(n - 1) * ss];
            } else {
                double f = x - j;
                v = (1 - f) * src[j * ss] + f * src[(j + 1) * ss];
            }
        }
        dst[i * ds] = (float)v;
    }
}

/* Reads a whole file; NULL with a message naming it and what was expected. */
static unsigned char *slurp(const char *path, size_t *len, char *err)
{
    static const char *const want = "expected a PNG, JPEG or BMP image";
    pff_read_status why;
    unsigned char *buf = pff_read_whole(path, MAX_FILE, len, &why);
    if (why == PFF_READ_OPEN)
        snprintf(err, PFF_ERRLEN, "%s: cannot open: %s; %s", path, strerror(errno), want);
    else if (why == PFF_READ_NOT_REGULAR)
        snprintf(err, PFF_ERRLEN, "%s: not a regular file; %s", path, want);
    else if (why == PFF_READ_IO || why == PFF_READ_NOMEM)
        snprintf(err, PFF_ERRLEN, "%s: %s", path, why == PFF_READ_IO ? "read error" : "out of memory");
    else if (why == PFF_READ_TOO_LARGE || *len == 0) {
        snprintf(err, PFF_ERRLEN, "%s: %s (%lld bytes); %s", path,
                 *len ? "too large" : "empty file", (long long)*len, want);
        free(buf);
        return NULL;
    }
    return buf;
}

int pff_image_load(const char *path, int side, int invert, int resize, float *out, int *w, int *h,
                   char *err)
{
    size_t len = 0;
    unsigned char *buf = slurp(path, &len, err);
    if (!buf)
        return PFF_EUSAGE;
    int comp = 0;
    if (len > INT_MAX || !stbi_info_from_memory(buf, (int)len, w, h, &comp)) {
        const char *why = stbi_failure_reason();
        snprintf(err, PFF_ERRLEN, "%s: not an image pff can read (%s); expected a PNG, JPEG or BMP "
                 "image", path, why ? why : "unknown format");
        free(buf);
        return PFF_EUSAGE;
    }
    if (*w <= 0 || *h <= 0 || (long)*w * *h > MAX_PIXELS) {
        snprintf(err, PFF_ERRLEN, "%s: image is %dx%d, expected 1..%ld pixels", path, *w, *h,
                 MAX_PIXELS);
        free(buf);
        return PFF_EUSAGE;
    }
    if (!resize && (*w != side || *h != side)) {
        snprintf(err, PFF_ERRLEN, "%s: image is %dx%d, the model expects %dx%d (drop --no-resize "
                 "to scale it)", path, *w, *h, side, side);
        free(buf);
        return PFF_EUSAGE;
    }
    unsigned char *px = stbi_load_from_memory(buf, (int)len, w, h, &comp, 0);
    free(buf);
    if (!px) {
        const char *why = stbi_failure_reason();
        snprintf(err, PFF_ERRLEN, "%s: cannot decode the image (%s); expected a PNG, JPEG or BMP "
                 "image", path, why ? why : "unknown error");
        return PFF_EUSAGE;
    }
    const int W = *w, H = *h;
    float *grey = malloc((size_t)W * H * sizeof(float));
    if (!grey) {
        stbi_image_free(px);
        snprintf(err, PFF_ERRLEN, "%s: out of memory for a %dx%d image", path, W, H);
        return PFF_EFAIL;
    }
    const float bg = invert ? 1.0f : 0.0f; /* what transparent pixels show */
    for (size_t i = 0; i < (size_t)W * H; i++) {
        const unsigned char *p = px + i * (size_t)comp;
        float y, a = 1.0f;
        if (comp <= 2) {
            y = p[0] * (1.0f / 255.0f); /* as data/idx.c: bit-identical to the IDX set */
            if (comp == 2)
                a = p[1] / 255.0f;
        } else {
            y = (0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]) / 255.0f;
            if (comp == 4)
                a = p[3] / 255.0f;
        }
        y = a * y + (1.0f - a) * bg;
        grey[i] = invert ? 1.0f - y : y;
    }
    stbi_image_free(px);
    if (W == side && H == side) {
        memcpy(out, grey, (size_t)side * side * sizeof(float));
        free(grey);
        return PFF_OK;
    }
    /* keep the aspect ratio: the longer side becomes `side`, centred on black */
    int nw = W >= H ? side : (int)lround((double)W * side / H);
    int nh = H >= W ? side : (int)lround((double)H * side / W);
    nw = nw < 1 ? 1 : nw;
    nh = nh < 1 ? 1 : nh;
    float *rows = malloc((size_t)H * nw * sizeof(float));
    if (!rows) {
        free(grey);
        snprintf(err, PFF_ERRLEN, "%s: out of memory resizing a %dx%d image", path, W, H);
        return PFF_EFAIL;
    }
    for (int y = 0; y < H; y++)
        resample(grey + (size_t)y * W, W, 1, rows + (size_t)y * nw, nw, 1);
    memset(out, 0, (size_t)side * side * sizeof(float));
    const int ox = (side - nw) / 2, oy = (side - nh) / 2;
    for (int x = 0; x < nw; x++)
        resample(rows + x, H, nw, out + (size_t)oy * side + ox + x, nh, side);
    free(rows);
    free(grey);
    for (int i = 0; i < side * side; i++)
        out[i] = out[i] < 0 ? 0 : out[i] > 1 ? 1 : out[i];
    return PFF_OK;
}
