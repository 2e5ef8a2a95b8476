/* data/tools.c — pff predict, pff show and the confusion matrix (tools.h).
 *
 * Images in: stb_image decodes the file (PNG, JPEG, BMP, GIF, PGM/PPM, TGA,
 * PSD, HDR, PIC); pixels become luma Y = 0.299 R + 0.587 G + 0.114 B in
 * [0, 1], alpha is composited over the background (black, or white with
 * --invert), --invert then flips dark-on-light scans to MNIST's white digit
 * on black. An image whose size differs from the model's side x side input
 * keeps its aspect ratio: it is scaled so its longer side is `side`
 * (area average when shrinking, bilinear when growing, per axis) and centred
 * on a black square. --no-resize refuses it instead.
 *
 * Pictures out: an RGB (or grey) canvas drawn here, text in the 5x7 bitmap
 * font below (upper case, digits, a few signs), encoded by stb_image_write
 * into memory and written with pff_write_atomic (temp file, fsync, rename).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include "../pff.h"
#include "../layers/layers.h"
#include "cli.h"
#include "tools.h"

#define MAX_PIXELS (64L * 1024 * 1024) /* images larger than this are refused */
#define MAX_FILE (512L * 1024 * 1024)

static int cores(void)
{
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (int)c : 1;
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fprintf(f, "null");
}

/* Side of a square input of dim pixels, 0 when dim is not a square. */
static int square_side(int dim)
{
    int s = (int)lround(sqrt((double)dim));
    return s > 0 && s * s == dim ? s : 0;
}

/* ------------------------------------------------------------------------ */
/* PNG output                                                               */

typedef struct {
    unsigned char *p;
    size_t n, cap;
    int fail;
} membuf;

static void mem_sink(void *ctx, void *data, int size)
{
    membuf *b = ctx;
    if (b->fail || size <= 0)
        return;
    if (b->n + (size_t)size > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + (size_t)size)
            cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) {
            b->fail = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, (size_t)size);
    b->n += (size_t)size;
}

/* Encodes w x h pixels of comp channels and writes them to path atomically. */
static int png_write(const char *path, int w, int h, int comp, const unsigned char *px, char *err)
{
    membuf b = {0};
    if (!stbi_write_png_to_func(mem_sink, &b, w, h, comp, px, w * comp) || b.fail) {
        snprintf(err, PFF_ERRLEN, "%s: cannot encode a %dx%d PNG (out of memory)", path, w, h);
        free(b.p);
        return PFF_EFAIL;
    }
    int rc = pff_write_atomic(path, b.p, b.n, err);
    free(b.p);
    return rc;
}

/* Fails early, before any work, when FILE is a directory or its directory
 * cannot take a file (the atomic writers create FILE.tmp.XXXXXX there and
 * rename it over FILE). */
int pff_check_writable(const char *flag, const char *path)
{
    struct stat st;
    if (path[0] == 0) {
        fprintf(stderr, "pff: --%s: an empty file name\n", flag);
        return PFF_EUSAGE;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "pff: --%s %s: is a directory; expected a file name\n", flag, path);
        return PFF_EUSAGE;
    }
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp)
        return PFF_EFAIL;
    snprintf(tmp, len + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "pff: --%s %s: cannot create a file there: %s\n", flag, path,
                strerror(errno));
        free(tmp);
        return PFF_EUSAGE;
    }
    close(fd);
    unlink(tmp);
    free(tmp);
    return PFF_OK;
}

/* ------------------------------------------------------------------------ */
/* Canvas and a 5x7 bitmap font                                             */

typedef struct {
    int w, h;
    unsigned char *px; /* RGB, row-major */
} canvas;

typedef struct {
    unsigned char r, g, b;
} rgb;

static const rgb WHITE = {255, 255, 255}, BLACK = {0, 0, 0}, GRID = {225, 225, 225},
                 AXIS = {90, 90, 90}, TEXT = {30, 30, 30};
static const rgb PALETTE[8] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                               {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127}};

static int canvas_new(canvas *c, int w, int h, rgb bg)
{
    c->w = w;
    c->h = h;
    c->px = malloc((size_t)w * h * 3);
    if (!c->px)
        return -1;
    for (size_t i = 0; i < (size_t)w * h; i++) {
        c->px[3 * i] = bg.r;
        c->px[3 * i + 1] = bg.g;
        c->px[3 * i + 2] = bg.b;
    }
    return 0;
}

static void dot(canvas *c, int x, int y, rgb col)
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    unsigned char *p = c->px + 3 * ((size_t)y * c->w + x);
    p[0] = col.r;
    p[1] = col.g;
    p[2] = col.b;
}

static void fill(canvas *c, int x0, int y0, int x1, int y1, rgb col) /* [x0,x1) x [y0,y1) */
{
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            dot(c, x, y, col);
}

/* A 2-pixel-wide line; dashed lines draw 6 pixels of every 10. */
static void line(canvas *c, int x0, int y0, int x1, int y1, rgb col, int dashed)
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int e = dx + dy, n = 0;
    for (;;) {
        if (!dashed || n % 10 < 6) {
            dot(c, x0, y0, col);
            dot(c, x0 + 1, y0, col);
            dot(c, x0, y0 + 1, col);
            dot(c, x0 + 1, y0 + 1, col);
        }
        n++;
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

/* Rows of 5 bits, the leftmost pixel in bit 4. Lower case draws as upper. */
static const struct {
    char c;
    unsigned char row[7];
} FONT[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}}, {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}}, {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}}, {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}}, {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}}, {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}}, {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}}, {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}}, {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}}, {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}}, {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}}, {',', {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08}},
    {'-', {0x00, 0x00, 0x00, 0x0E, 0x00, 0x00, 0x00}}, {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}},
    {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}}, {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
    {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}}, {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}},
    {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}}, {'=', {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}},
    {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}}, {'\\', {0x00, 0x10, 0x08, 0x04, 0x02, 0x01, 0x00}},
};

static const unsigned char *glyph(char ch)
{
    if (ch >= 'a' && ch <= 'z')
        ch = (char)(ch - 'a' + 'A');
    for (size_t i = 0; i < sizeof FONT / sizeof FONT[0]; i++)
        if (FONT[i].c == ch)
            return FONT[i].row;
    return NULL; /* space, or a sign the font lacks: a blank cell */
}

static int text_width(const char *s, int scale)
{
    int n = (int)strlen(s);
    return n ? (6 * n - 1) * scale : 0;
}

/* Draws s with its top-left corner at (x, y); each glyph cell is 6x8 * scale. */
static void text(canvas *c, int x, int y, int scale, rgb col, const char *s)
{
    for (; *s; s++, x += 6 * scale) {
        const unsigned char *g = glyph(*s);
        for (int r = 0; g && r < 7; r++)
            for (int b = 0; b < 5; b++)
                if (g[r] >> (4 - b) & 1)
                    fill(c, x + b * scale, y + r * scale, x + (b + 1) * scale, y + (r + 1) * scale,
                         col);
    }
}

/* ------------------------------------------------------------------------ */
/* Images in                                                                */

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
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, PFF_ERRLEN, "%s: cannot open: %s; %s", path, strerror(errno), want);
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, PFF_ERRLEN, "%s: not a regular file; %s", path, want);
        fclose(f);
        return NULL;
    }
    if (st.st_size == 0 || st.st_size > MAX_FILE) {
        snprintf(err, PFF_ERRLEN, "%s: %s (%lld bytes); %s", path,
                 st.st_size ? "too large" : "empty file", (long long)st.st_size, want);
        fclose(f);
        return NULL;
    }
    unsigned char *buf = malloc((size_t)st.st_size);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        snprintf(err, PFF_ERRLEN, "%s: %s", path, buf ? "read error" : "out of memory");
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = (size_t)st.st_size;
    return buf;
}

/* Loads path as a side x side image of floats in [0, 1], white on black.
 * *w, *h get the file's size. PFF_EUSAGE with a message naming the file. */
static int load_image(const char *path, int side, int invert, int resize, float *out, int *w,
                      int *h, char *err)
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

/* ------------------------------------------------------------------------ */
/* pff predict                                                              */

static const pff_option predict_opts[] = {
    {"json", 0, "         one JSON object per image per line on stdout"},
    {"invert", 0, "         dark digit on a light background (scans, drawings)"},
    {"no-resize", 0, "         refuse images whose size differs from the model's input"},
    {"threads", 1, "T        worker threads (default: all cores)"},
    {"help", 0, "         this text"},
    {NULL, 0, NULL}};

/* Splits argv into options (with their values) and any number of operands,
 * so that pff_cli_parse, which keeps 8 operands, sees only the options. */
static void split_args(int argc, char **argv, const pff_option *O, char **oargv, int *oargc,
                       char **files, int *nfiles)
{
    int no = 0, nf = 0, ended = 0;
    oargv[no++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (ended || strncmp(a, "--", 2) != 0 || !a[2]) {
            if (!ended && !strcmp(a, "-h")) {
                oargv[no++] = argv[i];
                continue;
            }
            if (!ended && !strcmp(a, "--")) {
                ended = 1;
                continue;
            }
            files[nf++] = argv[i];
            continue;
        }
        oargv[no++] = argv[i];
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        for (int j = 0; O[j].name; j++)
            if (strlen(O[j].name) == len && !strncmp(O[j].name, a + 2, len) && O[j].has_arg &&
                !eq && i + 1 < argc)
                oargv[no++] = argv[++i];
    }
    *oargc = no;
    *nfiles = nf;
}

/* Softmax probabilities of the head for n images: probs (n, 10). */
static int head_softmax(const pff_model *m, const float *img, long n, int threads, float *probs,
                        char *err)
{
    const pff_config *c = &m->cfg;
    const int L = c->nlayers, D = m->head->in;
    if (pff_feature_dim(m->layer, L) != D) {
        snprintf(err, PFF_ERRLEN, "the softmax head takes %d features, the layers give %d", D,
                 pff_feature_dim(m->layer, L));
        return PFF_EFAIL;
    }
    int wmax = 0;
    for (int k = 0; k <= L; k++)
        wmax = c->widths[k] > wmax ? c->widths[k] : wmax;
    pff_work w;
    float *feat = malloc((size_t)n * D * sizeof(float));
    if (!feat || pff_work_init(&w, 2, wmax, 1, threads)) {
        free(feat);
        snprintf(err, PFF_ERRLEN, "out of memory for the softmax of %ld images", n);
        return PFF_EFAIL;
    }
    pff_features(m->layer, L, &w, img, n, c->widths[0], feat);
    pff_matmul(0, 1, (int)n, PFF_CLASSES, D, 1.0f, feat, D, m->head->w, D, 0.0f, probs,
               PFF_CLASSES);
    for (long i = 0; i < n; i++) {
        float *r = probs + (size_t)i * PFF_CLASSES;
        float mx = -INFINITY;
        for (int j = 0; j < PFF_CLASSES; j++) {
            r[j] += m->head->b[j];
            mx = r[j] > mx ? r[j] : mx;
        }
        double s = 0;
        for (int j = 0; j < PFF_CLASSES; j++)
            s += exp((double)(r[j] - mx));
        for (int j = 0; j < PFF_CLASSES; j++)
            r[j] = (float)(exp((double)(r[j] - mx)) / s);
    }
    free(feat);
    pff_work_free(&w);
    return PFF_OK;
}

int pff_cmd_predict(int argc, char **argv)
{
    const pff_option *O = predict_opts;
    char **oargv = malloc((size_t)(argc + 1) * sizeof *oargv);
    char **files = malloc((size_t)(argc + 1) * sizeof *files);
    if (!oargv || !files) {
        free(oargv);
        free(files);
        fprintf(stderr, "pff predict: out of memory\n");
        return PFF_EFAIL;
    }
    int oargc = 0, nfiles = 0;
    split_args(argc, argv, O, oargv, &oargc, files, &nfiles);
    pff_parsed p;
    int rc = pff_cli_parse(oargc, oargv, O, "predict", &p);
    long threads = cores();
    const char *s;
    if (!rc && pff_cli_has(&p, O, "help")) {
        pff_cli_usage(stdout, "pff predict MODEL IMAGE... [options]", O);
        printf("\nImages: PNG, JPEG, BMP (and GIF, PGM/PPM, TGA) read with stb_image, turned to grey\n"
               "(luma) and scaled to [0,1]; an image of another size keeps its aspect ratio and is\n"
               "resized to the model's input (area average / bilinear), centred on black.\n"
               "Output: FILE: label L (...) and the goodness of each label (and the softmax\n"
               "probabilities when the model has a head). Exit status 2 when an image is bad.\n");
        goto out;
    }
    if (!rc && nfiles < 2) {
        fprintf(stderr, "pff predict: expected a MODEL file and at least one IMAGE (see pff predict "
                        "--help)\n");
        rc = PFF_EUSAGE;
    }
    if (!rc && (s = pff_cli_get(&p, O, "threads")))
        rc = pff_cli_long("threads", s, 1, 256, &threads);
    if (rc)
        goto out;
    const int json = pff_cli_has(&p, O, "json"), invert = pff_cli_has(&p, O, "invert");
    const int resize = !pff_cli_has(&p, O, "no-resize");
    char err[PFF_ERRLEN];
    pff_model m;
    if ((rc = pff_model_load(&m, files[0], err))) {
        fprintf(stderr, "pff: %s\n", err);
        goto out;
    }
    const int dim = m.cfg.widths[0], side = square_side(dim), n = nfiles - 1;
    if (!side) {
        fprintf(stderr, "pff predict: %s: the model's input width %d is not a square image "
                        "(expected e.g. 784 = 28x28)\n", files[0], dim);
        pff_model_free(&m);
        rc = PFF_EUSAGE;
        goto out;
    }
    pff_blas_init();
    float *img = malloc((size_t)n * dim * sizeof(float));
    float *scores = malloc((size_t)n * PFF_CLASSES * sizeof(float));
    float *probs = malloc((size_t)n * PFF_CLASSES * sizeof(float));
    int *gp = malloc((size_t)n * sizeof(int)), *sp = malloc((size_t)n * sizeof(int));
    const char **good = malloc((size_t)n * sizeof *good);
    if (!img || !scores || !probs || !gp || !sp || !good) {
        fprintf(stderr, "pff predict: out of memory for %d images\n", n);
        rc = PFF_EFAIL;
        goto done;
    }
    int ng = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        int w, h;
        int r = load_image(files[i + 1], side, invert, resize, img + (size_t)ng * dim, &w, &h, err);
        if (r) {
            fprintf(stderr, "pff predict: %s\n", err);
            bad = bad == PFF_EFAIL ? bad : r;
            continue;
        }
        good[ng++] = files[i + 1];
    }
    if (ng > 0) {
        if ((rc = pff_predict(&m, img, ng, (int)threads, gp, m.head ? sp : NULL, scores, err)) ||
            (m.head && (rc = head_softmax(&m, img, ng, (int)threads, probs, err)))) {
            fprintf(stderr, "pff predict: %s\n", err);
            goto done;
        }
    }
    const int use_soft = m.head && m.cfg.classifier == PFF_CLS_SOFTMAX;
    for (int i = 0; i < ng; i++) {
        const float *sc = scores + (size_t)i * PFF_CLASSES, *pr = probs + (size_t)i * PFF_CLASSES;
        const int label = use_soft ? sp[i] : gp[i];
        if (json) {
            printf("{\"file\":");
            json_str(stdout, good[i]);
            printf(",\"label\":%d,\"classifier\":\"%s\",\"goodness_label\":%d,\"scores\":[", label,
                   use_soft ? "softmax" : "goodness", gp[i]);
            for (int j = 0; j < PFF_CLASSES; j++) {
                printf("%s", j ? "," : "");
                json_num(stdout, sc[j]);
            }
            printf("]");
            if (m.head) {
                printf(",\"softmax_label\":%d,\"softmax\":[", sp[i]);
                for (int j = 0; j < PFF_CLASSES; j++) {
                    printf("%s", j ? "," : "");
                    json_num(stdout, pr[j]);
                }
                printf("]");
            }
            printf("}\n");
            continue;
        }
        if (use_soft)
            printf("%s: label %d (softmax %.3f; goodness label %d)\n", good[i], label,
                   (double)pr[label], gp[i]);
        else if (m.head)
            printf("%s: label %d (goodness %.1f; softmax label %d, %.3f)\n", good[i], label,
                   (double)sc[label], sp[i], (double)pr[sp[i]]);
        else
            printf("%s: label %d (goodness %.1f)\n", good[i], label, (double)sc[label]);
        printf("  label    ");
        for (int j = 0; j < PFF_CLASSES; j++)
            printf(" %9d", j);
        printf("\n  goodness ");
        for (int j = 0; j < PFF_CLASSES; j++)
            printf(" %9.1f", (double)sc[j]);
        if (m.head) {
            printf("\n  softmax  ");
            for (int j = 0; j < PFF_CLASSES; j++)
                printf(" %9.4f", (double)pr[j]);
        }
        printf("\n");
    }
    fflush(stdout);
    rc = bad;
done:
    free(img);
    free(scores);
    free(probs);
    free(gp);
    free(sp);
    free(good);
    pff_model_free(&m);
out:
    free(oargv);
    free(files);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* pff show --weights                                                       */

static int show_weights(const pff_model *m, const char *path, long units, long scale, char *msg,
                        char *err)
{
    const pff_layer *l = m->layer[0];
    const int dim = l->in, side = square_side(dim);
    if (!side) {
        snprintf(err, PFF_ERRLEN, "--weights: the model's input width %d is not a square image "
                 "(expected e.g. 784 = 28x28)", dim);
        return PFF_EUSAGE;
    }
    const int n = units < l->out ? (int)units : l->out;
    int cols = (int)ceil(sqrt((double)n)), rows = (n + cols - 1) / cols;
    const int t = side * (int)scale, W = cols * (t + 1) + 1, H = rows * (t + 1) + 1;
    canvas c;
    if (canvas_new(&c, W, H, (rgb){70, 130, 180})) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory for a %dx%d picture", path, W, H);
        return PFF_EFAIL;
    }
    /* the first PFF_CLASSES inputs hold the label, not the image: they are
     * left out of each tile's range (and clamped to it) */
    const int skip = dim > 2 * PFF_CLASSES ? PFF_CLASSES : 0;
    for (int u = 0; u < n; u++) {
        const float *w = l->w + (size_t)u * dim;
        float lo = INFINITY, hi = -INFINITY;
        for (int i = skip; i < dim; i++) {
            lo = w[i] < lo ? w[i] : lo;
            hi = w[i] > hi ? w[i] : hi;
        }
        const float span = hi > lo ? hi - lo : 1.0f;
        const int x0 = 1 + (u % cols) * (t + 1), y0 = 1 + (u / cols) * (t + 1);
        for (int i = 0; i < dim; i++) {
            float v = (w[i] - lo) / span;
            v = v < 0 ? 0 : v > 1 ? 1 : v;
            unsigned char g = (unsigned char)lroundf(255.0f * v);
            int px = x0 + (i % side) * (int)scale, py = y0 + (i / side) * (int)scale;
            fill(&c, px, py, px + (int)scale, py + (int)scale, (rgb){g, g, g});
        }
    }
    int rc = png_write(path, W, H, 3, c.px, err);
    free(c.px);
    if (!rc)
        snprintf(msg, PFF_ERRLEN, "wrote %s: %d receptive fields of layer 1 (%d of %d units, "
                 "%dx%d grid, %dx%d px)", path, n, n, l->out, cols, rows, W, H);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* pff show --curves: the training log                                      */

typedef struct {
    int rows, L, has_g, has_acc;
    double *chapter, *acc;      /* [rows] */
    double *loss, *gpos, *gneg; /* [rows * L] */
} train_log;

static void log_free(train_log *g)
{
    free(g->chapter);
    free(g->acc);
    free(g->loss);
    free(g->gpos);
    free(g->gneg);
}

/* Splits a CSV line in place at commas (no quoting); returns the field count. */
static int csv_split(char *s, char **f, int max)
{
    int n = 0;
    size_t len = strlen(s);
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
        s[--len] = 0;
    for (;;) {
        if (n < max)
            f[n] = s;
        n++;
        char *c = strchr(s, ',');
        if (!c)
            break;
        *c = 0;
        s = c + 1;
    }
    return n;
}

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return 0;
    return 1;
}

static int log_read(const char *path, train_log *g, char *err)
{
    enum { MAXF = 4 + 3 * PFF_MAX_LAYERS + 16 };
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, PFF_ERRLEN, "--log %s: cannot open: %s (write one with pff train --log FILE)",
                 path, strerror(errno));
        return PFF_EUSAGE;
    }
    char *lineb = NULL, *fld[MAXF];
    size_t cap = 0;
    int col_ch = -1, col_acc = -1, col_loss[PFF_MAX_LAYERS], col_gp[PFF_MAX_LAYERS],
        col_gn[PFF_MAX_LAYERS], nf = 0, lineno = 0, rc = PFF_EUSAGE, have = 0;
    for (int k = 0; k < PFF_MAX_LAYERS; k++)
        col_loss[k] = col_gp[k] = col_gn[k] = -1;
    while (getline(&lineb, &cap, f) > 0) {
        lineno++;
        if (lineb[0] == '#' || blank(lineb))
            continue;
        int n = csv_split(lineb, fld, MAXF);
        if (!have) { /* the header */
            if (n > MAXF) {
                snprintf(err, PFF_ERRLEN, "--log %s:%d: %d columns, expected at most %d", path,
                         lineno, n, MAXF);
                goto fail;
            }
            for (int i = 0; i < n; i++) {
                int k;
                char rest;
                if (!strcmp(fld[i], "chapter"))
                    col_ch = i;
                else if (!strcmp(fld[i], "test_accuracy"))
                    col_acc = i;
                else if (sscanf(fld[i], "loss_%d%c", &k, &rest) == 1 && k >= 1 && k <= PFF_MAX_LAYERS)
                    col_loss[k - 1] = i;
                else if (sscanf(fld[i], "gpos_%d%c", &k, &rest) == 1 && k >= 1 && k <= PFF_MAX_LAYERS)
                    col_gp[k - 1] = i;
                else if (sscanf(fld[i], "gneg_%d%c", &k, &rest) == 1 && k >= 1 && k <= PFF_MAX_LAYERS)
                    col_gn[k - 1] = i;
            }
            while (g->L < PFF_MAX_LAYERS && col_loss[g->L] >= 0)
                g->L++;
            if (col_ch < 0 || g->L == 0) {
                snprintf(err, PFF_ERRLEN, "--log %s:%d: no 'chapter' and 'loss_1' columns; expected "
                         "the header chapter,epoch,lr,loss_1..,gpos_1..,gneg_1..,test_accuracy",
                         path, lineno);
                goto fail;
            }
            g->has_g = 1;
            for (int k = 0; k < g->L; k++)
                g->has_g &= col_gp[k] >= 0 && col_gn[k] >= 0;
            nf = n;
            have = 1;
            continue;
        }
        if (n != nf) {
            snprintf(err, PFF_ERRLEN, "--log %s:%d: %d fields, the header has %d", path, lineno, n,
                     nf);
            goto fail;
        }
        int r = g->rows, L = g->L;
        double *ch = realloc(g->chapter, (size_t)(r + 1) * sizeof(double));
        if (ch)
            g->chapter = ch;
        double *ac = realloc(g->acc, (size_t)(r + 1) * sizeof(double));
        if (ac)
            g->acc = ac;
        double *lo = realloc(g->loss, (size_t)(r + 1) * L * sizeof(double));
        if (lo)
            g->loss = lo;
        double *gp = realloc(g->gpos, (size_t)(r + 1) * L * sizeof(double));
        if (gp)
            g->gpos = gp;
        double *gn = realloc(g->gneg, (size_t)(r + 1) * L * sizeof(double));
        if (gn)
            g->gneg = gn;
        if (!ch || !ac || !lo || !gp || !gn) {
            snprintf(err, PFF_ERRLEN, "--log %s: out of memory", path);
            rc = PFF_EFAIL;
            goto fail;
        }
        /* every field that is used must be a number, or empty (no point) */
        struct field {
            int col;
            double *dst;
        } want[2 + 3 * PFF_MAX_LAYERS];
        int nw = 0;
        want[nw++] = (struct field){col_ch, &g->chapter[r]};
        want[nw++] = (struct field){col_acc, &g->acc[r]};
        for (int k = 0; k < L; k++) {
            want[nw++] = (struct field){col_loss[k], &g->loss[(size_t)r * L + k]};
            want[nw++] = (struct field){g->has_g ? col_gp[k] : -1, &g->gpos[(size_t)r * L + k]};
            want[nw++] = (struct field){g->has_g ? col_gn[k] : -1, &g->gneg[(size_t)r * L + k]};
        }
        for (int i = 0; i < nw; i++) {
            *want[i].dst = NAN;
            if (want[i].col < 0 || blank(fld[want[i].col]))
                continue;
            char *end;
            double v = strtod(fld[want[i].col], &end);
            while (*end == ' ' || *end == '\t')
                end++;
            if (end == fld[want[i].col] || *end) {
                snprintf(err, PFF_ERRLEN, "--log %s:%d: '%s' is not a number", path, lineno,
                         fld[want[i].col]);
                goto fail;
            }
            *want[i].dst = v;
        }
        if (!isfinite(g->chapter[r])) {
            snprintf(err, PFF_ERRLEN, "--log %s:%d: the chapter is empty", path, lineno);
            goto fail;
        }
        g->has_acc |= isfinite(g->acc[r]);
        g->rows++;
    }
    if (!have || g->rows == 0) {
        snprintf(err, PFF_ERRLEN, "--log %s: no chapters; expected a CSV header and one row per "
                 "chapter (pff train --log FILE)", path);
        goto fail;
    }
    free(lineb);
    fclose(f);
    return PFF_OK;
fail:
    free(lineb);
    fclose(f);
    log_free(g);
    return rc;
}

/* 1, 2 or 5 times a power of ten, near span / n. */
static double nice_step(double span, int n)
{
    double raw = span / n, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

typedef struct {
    const double *y; /* value of point i at y[i * stride] */
    int stride, dashed;
    rgb col;
} series;

/* One chart in the box (x0, y0, w, h) of the canvas: grid, ticks, series. */
static void chart(canvas *c, int x0, int y0, int w, int h, const char *title, const double *x,
                  int n, const series *s, int ns)
{
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < n; i++) {
        xmin = x[i] < xmin ? x[i] : xmin;
        xmax = x[i] > xmax ? x[i] : xmax;
        for (int k = 0; k < ns; k++) {
            double v = s[k].y[(size_t)i * s[k].stride];
            if (isfinite(v)) {
                ymin = v < ymin ? v : ymin;
                ymax = v > ymax ? v : ymax;
            }
        }
    }
    if (!(ymin <= ymax))
        ymin = 0, ymax = 1;
    if (ymax - ymin < 1e-12 * (fabs(ymax) + 1)) {
        double d = fabs(ymax) > 0 ? 0.1 * fabs(ymax) : 1;
        ymin -= d;
        ymax += d;
    }
    if (xmax <= xmin)
        xmin -= 1, xmax += 1;
    double ys = nice_step(ymax - ymin, 5), xs = nice_step(xmax - xmin, 10);
    ymin = floor(ymin / ys) * ys;
    ymax = ceil(ymax / ys) * ys;
    if (xs < 1)
        xs = 1;
    text(c, x0, y0 - 22, 2, TEXT, title);
    char buf[32];
#define PX(v) (x0 + (int)lround(((v) - xmin) / (xmax - xmin) * (w - 1)))
#define PY(v) (y0 + h - 1 - (int)lround(((v) - ymin) / (ymax - ymin) * (h - 1)))
    for (double v = ymin; v <= ymax + ys * 0.5; v += ys) {
        double t = fabs(v) < ys * 1e-9 ? 0 : v;
        int py = PY(t);
        fill(c, x0, py, x0 + w, py + 1, GRID);
        snprintf(buf, sizeof buf, "%.4g", t);
        text(c, x0 - 8 - text_width(buf, 1), py - 3, 1, TEXT, buf);
    }
    for (double v = ceil(xmin / xs) * xs; v <= xmax + xs * 0.01; v += xs) {
        int px = PX(v);
        fill(c, px, y0, px + 1, y0 + h, GRID);
        snprintf(buf, sizeof buf, "%.4g", v);
        text(c, px - text_width(buf, 1) / 2, y0 + h + 6, 1, TEXT, buf);
    }
    fill(c, x0, y0 + h - 1, x0 + w, y0 + h, AXIS);
    fill(c, x0, y0, x0 + 1, y0 + h, AXIS);
    for (int k = 0; k < ns; k++) {
        int px = 0, py = 0, prev = 0;
        for (int i = 0; i < n; i++) {
            double v = s[k].y[(size_t)i * s[k].stride];
            if (!isfinite(v))
                continue; /* an empty field: the line joins its neighbours */
            int qx = PX(x[i]), qy = PY(v);
            if (prev)
                line(c, px, py, qx, qy, s[k].col, s[k].dashed);
            fill(c, qx - 2, qy - 2, qx + 3, qy + 3, s[k].col);
            px = qx, py = qy, prev = 1;
        }
    }
#undef PX
#undef PY
}

/* The same curves from the chapter records a model file keeps. */
static int log_from_model(const pff_model *m, train_log *g, char *err)
{
    const int n = m->nhistory, L = m->cfg.nlayers;
    memset(g, 0, sizeof *g);
    if (n < 1) {
        snprintf(err, PFF_ERRLEN, "the model holds no chapter records; pass the training log "
                                  "with --log FILE");
        return PFF_EUSAGE;
    }
    g->rows = n;
    g->L = L;
    g->has_g = 1;
    g->chapter = malloc(sizeof(double) * n);
    g->acc = malloc(sizeof(double) * n);
    g->loss = malloc(sizeof(double) * n * L);
    g->gpos = malloc(sizeof(double) * n * L);
    g->gneg = malloc(sizeof(double) * n * L);
    if (!g->chapter || !g->acc || !g->loss || !g->gpos || !g->gneg) {
        log_free(g);
        snprintf(err, PFF_ERRLEN, "out of memory for %d chapter records", n);
        return PFF_EFAIL;
    }
    for (int i = 0; i < n; i++) {
        const pff_history *h = &m->history[i];
        g->chapter[i] = h->chapter;
        g->acc[i] = h->test_accuracy >= 0 ? h->test_accuracy : NAN; /* NaN: not measured */
        g->has_acc |= h->test_accuracy >= 0;
        for (int k = 0; k < L; k++) {
            g->loss[i * L + k] = h->loss[k];
            g->gpos[i * L + k] = h->gpos[k];
            g->gneg[i * L + k] = h->gneg[k];
        }
    }
    return PFF_OK;
}

static int show_curves(const char *logpath, const pff_model *m, const char *path, char *msg,
                       char *err)
{
    train_log g;
    int rc = logpath ? log_read(logpath, &g, err) : log_from_model(m, &g, err);
    if (rc)
        return rc;
    const int L = g.L, panels = 1 + g.has_g + g.has_acc;
    const int left = 80, cw = 640, right = 170, ph = 220, gap = 70, top = 60;
    const int W = left + cw + right, H = top + panels * (ph + gap) + 10;
    canvas c;
    if (canvas_new(&c, W, H, WHITE)) {
        log_free(&g);
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
        return PFF_EFAIL;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "training curves: %d chapter%s, %d layer%s", g.rows,
             g.rows == 1 ? "" : "s", L, L == 1 ? "" : "s");
    text(&c, left, 12, 2, BLACK, buf);
    series s[2 * PFF_MAX_LAYERS];
    memset(s, 0, sizeof s);
    int y = top;
    /* loss per layer */
    for (int k = 0; k < L; k++)
        s[k] = (series){g.loss + k, L, 0, PALETTE[k % 8]};
    chart(&c, left, y, cw, ph, "loss per layer", g.chapter, g.rows, s, L);
    for (int k = 0; k < L; k++) {
        int ly = y + 4 + 16 * k;
        fill(&c, left + cw + 20, ly + 3, left + cw + 44, ly + 5, PALETTE[k % 8]);
        snprintf(buf, sizeof buf, "L%d", k + 1);
        text(&c, left + cw + 52, ly, 1, TEXT, buf);
    }
    y += ph + gap;
    if (g.has_g) { /* goodness of positives (solid) and negatives (dashed) */
        for (int k = 0; k < L; k++) {
            s[2 * k] = (series){g.gpos + k, L, 0, PALETTE[k % 8]};
            s[2 * k + 1] = (series){g.gneg + k, L, 1, PALETTE[k % 8]};
        }
        chart(&c, left, y, cw, ph, "goodness per layer: G+ solid, G- dashed", g.chapter, g.rows, s,
              2 * L);
        for (int k = 0; k < L; k++) {
            int ly = y + 4 + 16 * k;
            line(&c, left + cw + 20, ly + 3, left + cw + 44, ly + 3, PALETTE[k % 8], 0);
            line(&c, left + cw + 20, ly + 9, left + cw + 44, ly + 9, PALETTE[k % 8], 1);
            snprintf(buf, sizeof buf, "L%d G+ G-", k + 1);
            text(&c, left + cw + 52, ly + 2, 1, TEXT, buf);
        }
        y += ph + gap;
    }
    if (g.has_acc) {
        s[0] = (series){g.acc, 1, 0, PALETTE[3]};
        chart(&c, left, y, cw, ph, "test accuracy (%)", g.chapter, g.rows, s, 1);
        y += ph + gap;
    }
    text(&c, left + cw / 2 - text_width("chapter", 2) / 2, y - gap + 26, 2, TEXT, "chapter");
    rc = png_write(path, W, H, 3, c.px, err);
    free(c.px);
    if (!rc)
        snprintf(msg, PFF_ERRLEN, "wrote %s: %d chapters of %s (loss%s%s, %dx%d px)", path, g.rows,
                 logpath ? logpath : "the model's records", g.has_g ? ", goodness" : "", g.has_acc ? ", test accuracy" : "", W, H);
    log_free(&g);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* pff show --accuracy: test accuracy against training seconds, several runs */

enum { ACC_MAX_CURVES = 16, ACC_NAME = 48 };

typedef struct {
    char name[ACC_NAME];
    int n, points, reference; /* points: markers only; reference: from a reference file */
    double *x, *y;            /* [n] seconds (> 0), accuracy in percent */
} acc_curve;

static int acc_push(acc_curve *c, double x, double y)
{
    double *nx = realloc(c->x, (size_t)(c->n + 1) * sizeof *nx);
    if (nx)
        c->x = nx;
    double *ny = realloc(c->y, (size_t)(c->n + 1) * sizeof *ny);
    if (ny)
        c->y = ny;
    if (!nx || !ny)
        return -1;
    c->x[c->n] = x;
    c->y[c->n++] = y;
    return 0;
}

/* A number in field s, or NAN when it is empty; -1 when it is not a number. */
static int acc_number(const char *s, double *v)
{
    if (blank(s)) {
        *v = NAN;
        return 0;
    }
    char *end;
    *v = strtod(s, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    return end == s || *end ? -1 : 0;
}

/* Reads [NAME=]FILE: a pff train log (columns seconds and test_accuracy; one
 * curve named NAME or the file's base name), or a reference file (header
 * name,seconds,accuracy,kind; one curve per run of rows with the same name). */
static int acc_read(const char *arg, acc_curve *cv, int *ncv, char *err)
{
    const char *eq = strchr(arg, '='), *path = eq ? eq + 1 : arg;
    char given[ACC_NAME] = "";
    if (eq)
        snprintf(given, sizeof given, "%.*s", (int)(eq - arg) < ACC_NAME - 1 ? (int)(eq - arg) : ACC_NAME - 1, arg);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, PFF_ERRLEN, "%s: cannot open: %s (a log of pff train --log FILE, or a "
                 "reference CSV name,seconds,accuracy,kind)", path, strerror(errno));
        return PFF_EUSAGE;
    }
    enum { MAXF = 4 + 3 * PFF_MAX_LAYERS + 16 };
    char *lineb = NULL, *fld[MAXF];
    size_t cap = 0;
    int lineno = 0, have = 0, ref = 0, col_s = -1, col_a = -1, col_name = -1, col_kind = -1, nf = 0;
    int rc = PFF_EUSAGE, start = *ncv;
    acc_curve *cur = NULL;
    while (getline(&lineb, &cap, f) > 0) {
        lineno++;
        if (lineb[0] == '#' || blank(lineb))
            continue;
        int n = csv_split(lineb, fld, MAXF);
        if (n > MAXF) {
            snprintf(err, PFF_ERRLEN, "%s:%d: %d columns, expected at most %d", path, lineno, n, MAXF);
            goto fail;
        }
        if (!have) {
            for (int i = 0; i < n; i++) {
                if (!strcmp(fld[i], "seconds"))
                    col_s = i;
                else if (!strcmp(fld[i], "test_accuracy") || !strcmp(fld[i], "accuracy"))
                    col_a = i;
                else if (!strcmp(fld[i], "name"))
                    col_name = i;
                else if (!strcmp(fld[i], "kind"))
                    col_kind = i;
            }
            ref = col_name >= 0;
            if (col_s < 0 || col_a < 0 || (ref && col_kind < 0)) {
                snprintf(err, PFF_ERRLEN, "%s:%d: expected a pff train log with the columns "
                         "seconds and test_accuracy, or the header name,seconds,accuracy,kind",
                         path, lineno);
                goto fail;
            }
            nf = n;
            have = 1;
            continue;
        }
        if (n != nf) {
            snprintf(err, PFF_ERRLEN, "%s:%d: %d fields, the header has %d", path, lineno, n, nf);
            goto fail;
        }
        double x, y;
        if (acc_number(fld[col_s], &x) || acc_number(fld[col_a], &y)) {
            snprintf(err, PFF_ERRLEN, "%s:%d: seconds '%s' or accuracy '%s' is not a number", path,
                     lineno, fld[col_s], fld[col_a]);
            goto fail;
        }
        const char *name = ref ? fld[col_name] : NULL;
        if (!cur || (ref && strcmp(cur->name, name) != 0)) {
            if (*ncv >= ACC_MAX_CURVES) {
                snprintf(err, PFF_ERRLEN, "%s: more than %d curves in all", path, ACC_MAX_CURVES);
                goto fail;
            }
            cur = &cv[(*ncv)++];
            memset(cur, 0, sizeof *cur);
            cur->reference = ref;
            if (ref) {
                snprintf(cur->name, sizeof cur->name, "%s", name);
                if (strcmp(fld[col_kind], "line") && strcmp(fld[col_kind], "point")) {
                    snprintf(err, PFF_ERRLEN, "%s:%d: kind '%s', expected line or point", path,
                             lineno, fld[col_kind]);
                    goto fail;
                }
                cur->points = !strcmp(fld[col_kind], "point");
            } else if (given[0]) {
                snprintf(cur->name, sizeof cur->name, "%s", given);
            } else { /* the file's base name without its extension */
                const char *b = strrchr(path, '/');
                b = b ? b + 1 : path;
                const char *dot = strrchr(b, '.');
                int len = dot && dot > b ? (int)(dot - b) : (int)strlen(b);
                snprintf(cur->name, sizeof cur->name, "%.*s", len < ACC_NAME - 1 ? len : ACC_NAME - 1, b);
            }
        }
        if (!isfinite(x) || !isfinite(y))
            continue; /* a chapter without a test accuracy (or a time) */
        if (x <= 0 || y < 0 || y > 100) {
            snprintf(err, PFF_ERRLEN, "%s:%d: seconds %g must be > 0 and accuracy %g in 0..100",
                     path, lineno, x, y);
            goto fail;
        }
        if (acc_push(cur, x, y)) {
            snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
            rc = PFF_EFAIL;
            goto fail;
        }
    }
    if (!cur || cur->n == 0) {
        snprintf(err, PFF_ERRLEN, "%s: no point with both seconds and a test accuracy (train with "
                 "--eval-every 1 --log FILE)", path);
        goto fail;
    }
    free(lineb);
    fclose(f);
    return PFF_OK;
fail:
    free(lineb);
    fclose(f);
    for (int i = start; i < *ncv; i++) {
        free(cv[i].x);
        free(cv[i].y);
    }
    *ncv = start;
    return rc;
}

/* Accuracy (y, percent) against seconds (x, log scale): pff's runs as solid
 * lines, reference curves dashed, reference points as open squares. */
static int show_accuracy(const char *path, char **files, int nfiles, char *msg, char *err)
{
    acc_curve cv[ACC_MAX_CURVES];
    int n = 0, rc = 0;
    for (int i = 0; i < nfiles && !rc; i++)
        rc = acc_read(files[i], cv, &n, err);
    if (rc)
        goto out;
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    int points = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < cv[i].n; j++) {
            xmin = fmin(xmin, cv[i].x[j]), xmax = fmax(xmax, cv[i].x[j]);
            ymin = fmin(ymin, cv[i].y[j]), ymax = fmax(ymax, cv[i].y[j]);
            points++;
        }
    double lx0 = floor(log10(xmin)), lx1 = ceil(log10(xmax));
    if (lx1 <= lx0)
        lx1 = lx0 + 1;
    ymax = fmin(100, ceil(ymax + 0.25));
    ymin = floor(ymin - 0.25);
    if (ymax - ymin < 1)
        ymin = ymax - 1;
    double ys = nice_step(ymax - ymin, 8);
    ymin = floor(ymin / ys) * ys;
    const int left = 70, top = 50, cw = 720, ch = 440, right = 300, H = top + ch + 60;
    const int W = left + cw + right;
    canvas c;
    if (canvas_new(&c, W, H, WHITE)) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
        rc = PFF_EFAIL;
        goto out;
    }
#define AX(v) (left + (int)lround((log10(v) - lx0) / (lx1 - lx0) * (cw - 1)))
#define AY(v) (top + ch - 1 - (int)lround(((v) - ymin) / (ymax - ymin) * (ch - 1)))
    char buf[96];
    text(&c, left, 14, 2, BLACK, "test accuracy against training time");
    for (double v = ymin; v <= ymax + ys * 0.5; v += ys) {
        int py = AY(v);
        fill(&c, left, py, left + cw, py + 1, GRID);
        snprintf(buf, sizeof buf, "%.4g", v);
        text(&c, left - 8 - text_width(buf, 1), py - 3, 1, TEXT, buf);
    }
    for (double d = lx0; d <= lx1 + 1e-9; d++)
        for (int m = 1; m < 10; m++) {
            double v = pow(10, d) * m;
            if (log10(v) > lx1 + 1e-9)
                break;
            int px = AX(v);
            fill(&c, px, top, px + 1, top + ch, m == 1 ? AXIS : GRID);
            if (m == 1 || m == 2 || m == 5) {
                snprintf(buf, sizeof buf, "%g", v);
                text(&c, px - text_width(buf, 1) / 2, top + ch + 6, 1, TEXT, buf);
            }
        }
    fill(&c, left, top + ch - 1, left + cw, top + ch, AXIS);
    fill(&c, left, top, left + 1, top + ch, AXIS);
    text(&c, left + cw / 2 - text_width("training seconds (log scale)", 2) / 2, top + ch + 26, 2,
         TEXT, "training seconds (log scale)");
    text(&c, 8, top - 16, 1, TEXT, "accuracy %");
    for (int i = 0; i < n; i++) {
        const rgb col = PALETTE[i % 8];
        int px = 0, py = 0;
        for (int j = 0; j < cv[i].n; j++) {
            int qx = AX(cv[i].x[j]), qy = AY(fmax(cv[i].y[j], ymin));
            if (cv[i].points) { /* an open square */
                fill(&c, qx - 5, qy - 5, qx + 6, qy - 3, col);
                fill(&c, qx - 5, qy + 4, qx + 6, qy + 6, col);
                fill(&c, qx - 5, qy - 5, qx - 3, qy + 6, col);
                fill(&c, qx + 4, qy - 5, qx + 6, qy + 6, col);
                continue;
            }
            if (j)
                line(&c, px, py, qx, qy, col, cv[i].reference);
            fill(&c, qx - 2, qy - 2, qx + 3, qy + 3, col);
            px = qx, py = qy;
        }
        /* legend: the name and the last (best-time) figure */
        int ly = top + 6 + 18 * i;
        if (cv[i].points) {
            fill(&c, left + cw + 24, ly - 1, left + cw + 35, ly + 10, col);
            fill(&c, left + cw + 26, ly + 1, left + cw + 33, ly + 8, WHITE);
        } else {
            line(&c, left + cw + 16, ly + 4, left + cw + 42, ly + 4, col, cv[i].reference);
        }
        snprintf(buf, sizeof buf, "%.30s %.2f%%", cv[i].name, cv[i].y[cv[i].n - 1]);
        text(&c, left + cw + 50, ly + 1, 1, TEXT, buf);
    }
#undef AX
#undef AY
    rc = png_write(path, W, H, 3, c.px, err);
    free(c.px);
    if (!rc)
        snprintf(msg, PFF_ERRLEN, "wrote %s: %d curve%s, %d points, %.4g..%.4g s (%dx%d px)", path,
                 n, n == 1 ? "" : "s", points, xmin, xmax, W, H);
out:
    for (int i = 0; i < n; i++) {
        free(cv[i].x);
        free(cv[i].y);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* pff show --digit                                                         */

static int show_digit(const char *dir, long index, const char *path, long scale,
                      const pff_model *m, char *msg, char *err)
{
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/t10k-images-idx3-ubyte", dir);
    snprintf(b, sizeof b, "%s/t10k-labels-idx1-ubyte", dir);
    pff_dataset d;
    int rc = pff_idx_load(a, b, &d, err);
    if (rc)
        return rc;
    const int side = square_side(d.dim);
    if (index >= d.n) {
        snprintf(err, PFF_ERRLEN, "--digit: %ld is out of range: %s holds images 0..%d", index, a,
                 d.n - 1);
        rc = PFF_EUSAGE;
    } else if (!side) {
        snprintf(err, PFF_ERRLEN, "%s: images of %d pixels are not square", a, d.dim);
        rc = PFF_EUSAGE;
    } else if (m && m->cfg.widths[0] != d.dim) {
        snprintf(err, PFF_ERRLEN, "%s: images have %d pixels, the model expects %d", a, d.dim,
                 m->cfg.widths[0]);
        rc = PFF_EUSAGE;
    }
    if (rc) {
        pff_dataset_free(&d);
        return rc;
    }
    const int S = side * (int)scale;
    unsigned char *px = malloc((size_t)S * S);
    if (!px) {
        pff_dataset_free(&d);
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
        return PFF_EFAIL;
    }
    const float *x = d.x + (size_t)index * d.dim;
    for (int yy = 0; yy < S; yy++)
        for (int xx = 0; xx < S; xx++) {
            float v = x[(yy / scale) * side + xx / scale];
            px[(size_t)yy * S + xx] = (unsigned char)lroundf(255.0f * (v < 0 ? 0 : v > 1 ? 1 : v));
        }
    rc = png_write(path, S, S, 1, px, err);
    if (!rc)
        snprintf(msg, PFF_ERRLEN, "wrote %s: test image %ld of %s, label %d (%dx%d px)", path,
                 index, dir, d.y[index], S, S);
    free(px);
    pff_dataset_free(&d);
    return rc;
}

static const pff_option show_opts[] = {
    {"weights", 1, "FILE.png first-layer receptive fields as a grid of tiles (needs MODEL)"},
    {"units", 1, "N        how many first-layer units --weights draws (default 100)"},
    {"curves", 1, "FILE.png training curves: from the MODEL's chapter records, or --log LOG"},
    {"log", 1, "FILE     CSV log written by pff train --log FILE"},
    {"accuracy", 1, "FILE.png test accuracy against training seconds of the [NAME=]LOG... given"},
    {"digit", 1, "N        write test image N (0-based) of --data as the PNG --out"},
    {"data", 1, "DIR      directory of the IDX files (default data/mnist)"},
    {"out", 1, "FILE.png where --digit writes the image"},
    {"scale", 1, "K        magnify --weights tiles and --digit pixels K times (default 1)"},
    {"help", 0, "         this text"},
    {NULL, 0, NULL}};

int pff_cmd_show(int argc, char **argv)
{
    const pff_option *O = show_opts;
    pff_parsed p;
    int rc = pff_cli_parse(argc, argv, O, "show", &p);
    if (rc)
        return rc;
    if (pff_cli_has(&p, O, "help")) {
        pff_cli_usage(stdout, "pff show [MODEL] [--weights FILE.png] [--curves FILE.png --log LOG] "
                              "[--digit N --out FILE.png] | --accuracy FILE.png [NAME=]LOG...", O);
        printf("\nThe log is CSV, one row per chapter, with the header\n"
               "  chapter,epoch,lr,loss_1..loss_L,gpos_1..gpos_L,gneg_1..gneg_L,test_accuracy\n"
               "(test_accuracy in percent, may be empty). PNGs are written atomically.\n"
               "--accuracy reads logs with a seconds column (pff train --eval-every 1 --log) and\n"
               "reference files with the header name,seconds,accuracy,kind (kind: line | point).\n");
        return 0;
    }
    const char *weights = pff_cli_get(&p, O, "weights"), *curves = pff_cli_get(&p, O, "curves");
    const char *logp = pff_cli_get(&p, O, "log"), *digit = pff_cli_get(&p, O, "digit");
    const char *outp = pff_cli_get(&p, O, "out"), *s;
    const char *dir = pff_cli_get(&p, O, "data") ? pff_cli_get(&p, O, "data") : "data/mnist";
    long units = 100, scale = 1, index = 0;
    const char *accuracy = pff_cli_get(&p, O, "accuracy");
    if (accuracy) { /* its operands are logs, not a MODEL */
        if (weights || curves || digit || logp || outp || !p.npos) {
            fprintf(stderr, "pff show: --accuracy FILE.png takes one or more [NAME=]LOG operands "
                            "and no other picture\n");
            return PFF_EUSAGE;
        }
        if ((rc = pff_check_writable("accuracy", accuracy)))
            return rc;
        char err[PFF_ERRLEN], msg[PFF_ERRLEN];
        if ((rc = show_accuracy(accuracy, (char **)p.pos, p.npos, msg, err)))
            fprintf(stderr, "pff show: %s\n", err);
        else
            printf("%s\n", msg);
        return rc;
    }
    if (p.npos > 1) {
        fprintf(stderr, "pff show: unexpected argument '%s' (one MODEL at most)\n", p.pos[1]);
        return PFF_EUSAGE;
    }
    if (!weights && !curves && !digit) {
        fprintf(stderr, "pff show: nothing to show: give --weights FILE.png (with a MODEL), "
                        "--curves FILE.png --log LOG, or --digit N --out FILE.png\n");
        return PFF_EUSAGE;
    }
    if (weights && !p.npos) {
        fprintf(stderr, "pff show: --weights needs a MODEL file: pff show MODEL --weights %s\n",
                weights);
        return PFF_EUSAGE;
    }
    if ((curves && !logp && !p.npos) || (logp && !curves)) {
        fprintf(stderr, "pff show: %s\n", curves ? "--curves needs a MODEL (its chapter records) "
                                                   "or --log FILE (the CSV written by pff train --log)"
                                                 : "--log is read by --curves FILE.png only");
        return PFF_EUSAGE;
    }
    if (!digit != !outp) {
        fprintf(stderr, "pff show: %s\n", digit ? "--digit needs --out FILE.png"
                                                : "--out is written by --digit N only");
        return PFF_EUSAGE;
    }
    if ((s = pff_cli_get(&p, O, "units")) && (rc = pff_cli_long("units", s, 1, 100000, &units)))
        return rc;
    if ((s = pff_cli_get(&p, O, "scale")) && (rc = pff_cli_long("scale", s, 1, 16, &scale)))
        return rc;
    if (digit && (rc = pff_cli_long("digit", digit, 0, INT_MAX, &index)))
        return rc;
    if ((weights && (rc = pff_check_writable("weights", weights))) ||
        (curves && (rc = pff_check_writable("curves", curves))) ||
        (outp && (rc = pff_check_writable("out", outp))))
        return rc;
    char err[PFF_ERRLEN], msg[PFF_ERRLEN];
    pff_model m;
    const int have_model = p.npos == 1;
    if (have_model && (rc = pff_model_load(&m, p.pos[0], err))) {
        fprintf(stderr, "pff: %s\n", err);
        return rc;
    }
    if (!rc && weights) {
        if ((rc = show_weights(&m, weights, units, scale, msg, err)))
            fprintf(stderr, "pff show: %s\n", err);
        else
            printf("%s\n", msg);
    }
    if (!rc && curves) {
        if ((rc = show_curves(logp, have_model ? &m : NULL, curves, msg, err)))
            fprintf(stderr, "pff show: %s\n", err);
        else
            printf("%s\n", msg);
    }
    if (!rc && digit) {
        if ((rc = show_digit(dir, index, outp, scale, have_model ? &m : NULL, msg, err)))
            fprintf(stderr, "pff show: %s\n", err);
        else
            printf("%s\n", msg);
    }
    if (have_model)
        pff_model_free(&m);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Confusion matrix                                                         */

/* The heat map: cell colour = share of the row (sqrt-stretched so rare
 * confusions show), counts in the cells, labels 0-9 on both axes. */
static int confusion_png(const char *png_path, long cnt[PFF_CLASSES][PFF_CLASSES],
                         const long *row, long right, int n, char *err)
{
    enum { K = PFF_CLASSES };
    const int cell = 44, left = 90, top = 100, W = left + K * cell + 30, H = top + K * cell + 20;
    canvas c;
    if (canvas_new(&c, W, H, WHITE)) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", png_path);
        return PFF_EFAIL;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "confusion: %d images, %.2f%%", n, n ? 100.0 * right / n : 0.0);
    text(&c, 10, 10, 2, BLACK, buf);
    text(&c, left + K * cell / 2 - text_width("predicted", 2) / 2, 46, 2, TEXT, "predicted");
    text(&c, 10, top + K * cell / 2 - 8, 2, TEXT, "true");
    for (int j = 0; j < K; j++) {
        snprintf(buf, sizeof buf, "%d", j);
        text(&c, left + j * cell + cell / 2 - 5, top - 22, 2, TEXT, buf);
        text(&c, left - 20, top + j * cell + cell / 2 - 7, 2, TEXT, buf);
    }
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            double t = row[i] ? sqrt((double)cnt[i][j] / row[i]) : 0;
            rgb col = {(unsigned char)lround(255 - t * (255 - 8)),
                       (unsigned char)lround(255 - t * (255 - 48)),
                       (unsigned char)lround(255 - t * (255 - 107))};
            int x0 = left + j * cell, y0 = top + i * cell;
            fill(&c, x0, y0, x0 + cell, y0 + cell, col);
            snprintf(buf, sizeof buf, "%ld", cnt[i][j]);
            int tw = text_width(buf, 1);
            if (tw <= cell - 4)
                text(&c, x0 + (cell - tw) / 2, y0 + cell / 2 - 3, 1,
                     cnt[i][j] == 0 ? (rgb){190, 190, 190} : t > 0.55 ? WHITE : BLACK, buf);
        }
    for (int i = 0; i <= K; i++) { /* cell borders */
        fill(&c, left, top + i * cell, left + K * cell + 1, top + i * cell + 1, GRID);
        fill(&c, left + i * cell, top, left + i * cell + 1, top + K * cell + 1, GRID);
    }
    int rc = png_write(png_path, W, H, 3, c.px, err);
    free(c.px);
    return rc;
}


int pff_confusion_write(const char *png_path, FILE *text_out, const int *pred, const uint8_t *truth,
                        int n, char *err)
{
    enum { K = PFF_CLASSES };
    long cnt[K][K] = {{0}}, row[K] = {0}, col[K] = {0}, right = 0;
    for (int i = 0; i < n; i++) {
        if (pred[i] < 0 || pred[i] >= K || truth[i] >= K) {
            snprintf(err, PFF_ERRLEN, "confusion: image %d has label %d, prediction %d; expected "
                     "0..%d", i, truth[i], pred[i], K - 1);
            return PFF_EUSAGE;
        }
        cnt[truth[i]][pred[i]]++;
        row[truth[i]]++;
        col[pred[i]]++;
        right += truth[i] == pred[i];
    }
    int rc = png_path ? confusion_png(png_path, cnt, row, right, n, err) : PFF_OK;
    if (rc)
        return rc; /* nothing printed: the caller reports the file */
    if (text_out) {
        fprintf(text_out, "confusion matrix of %d images: row = true label, column = predicted\n",
                n);
        fprintf(text_out, "true\\pred");
        for (int j = 0; j < K; j++)
            fprintf(text_out, " %6d", j);
        fprintf(text_out, "   recall\n");
        for (int i = 0; i < K; i++) {
            fprintf(text_out, "%9d", i);
            for (int j = 0; j < K; j++)
                fprintf(text_out, " %6ld", cnt[i][j]);
            if (row[i])
                fprintf(text_out, "  %6.2f%%\n", 100.0 * cnt[i][i] / row[i]);
            else
                fprintf(text_out, "        -\n");
        }
        fprintf(text_out, "precision");
        for (int j = 0; j < K; j++) {
            if (col[j])
                fprintf(text_out, " %5.1f%%", 100.0 * cnt[j][j] / col[j]);
            else
                fprintf(text_out, "      -");
        }
        fprintf(text_out, "\naccuracy %.2f%% (%ld of %d)\n", n ? 100.0 * right / n : 0.0, right, n);
    }
    return PFF_OK;
}

int pff_confusion_model(const pff_model *m, const pff_dataset *d, int threads, const char *png_path,
                        FILE *text_out, char *err)
{
    int *gp = malloc(((size_t)d->n + 1) * sizeof(int)), *sp = malloc(((size_t)d->n + 1) * sizeof(int));
    if (!gp || !sp) {
        free(gp);
        free(sp);
        snprintf(err, PFF_ERRLEN, "out of memory for the predictions of %d images", d->n);
        return PFF_EFAIL;
    }
    const int soft = m->head && m->cfg.classifier == PFF_CLS_SOFTMAX;
    int rc = pff_predict(m, d->x, d->n, threads, gp, soft ? sp : NULL, NULL, err);
    if (!rc)
        rc = pff_confusion_write(png_path, text_out, soft ? sp : gp, d->y, d->n, err);
    free(gp);
    free(sp);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The training log (pff train --log)                                       */

void pff_log_header(FILE *f, int L)
{
    fprintf(f, "chapter,epoch,lr");
    for (int k = 1; k <= L; k++)
        fprintf(f, ",loss_%d", k);
    for (int k = 1; k <= L; k++)
        fprintf(f, ",gpos_%d", k);
    for (int k = 1; k <= L; k++)
        fprintf(f, ",gneg_%d", k);
    fprintf(f, ",seconds,test_accuracy\n");
}

void pff_log_row(FILE *f, int chapter, double epoch, double lr, int L, const double *loss,
                 const double *gpos, const double *gneg, double seconds, double test_accuracy)
{
    fprintf(f, "%d,%.6g,%.6g", chapter, epoch, lr);
    for (int k = 0; k < L; k++)
        fprintf(f, ",%.6g", loss[k]);
    for (int k = 0; k < L; k++)
        fprintf(f, ",%.6g", gpos[k]);
    for (int k = 0; k < L; k++)
        fprintf(f, ",%.6g", gneg[k]);
    if (seconds >= 0)
        fprintf(f, ",%.3f", seconds);
    else
        fprintf(f, ",");
    if (test_accuracy >= 0)
        fprintf(f, ",%.4f\n", test_accuracy);
    else
        fprintf(f, ",\n");
}
