/* data/export.c — NumPy (.npz) and safetensors files of a model (export.h).
 *
 * .npz: a ZIP archive (PKWARE APPNOTE 6.3) of "stored" members (method 0, no
 * compression), one per array, named NAME.npy; each member is an .npy file
 * (format 1.0): the magic "\x93NUMPY", version 1 0, a u16 header length and a
 * Python-literal header {'descr': '<f4', 'fortran_order': False, 'shape':
 * (out, in), } padded with spaces to a multiple of 64 bytes and ended by
 * '\n', then the raw little-endian data. Every member has a local header,
 * the central directory lists them, an end record closes the file. Times are
 * fixed at 1980-01-01 00:00 so the bytes depend only on the model. Sizes are
 * 32-bit: a model over 4 GiB is refused (no ZIP64).
 *
 * .safetensors: u64 little-endian N, then N bytes of JSON
 *   {"__metadata__":{"key":"value",..},"layer1.weight":{"dtype":"F32",
 *    "shape":[out,in],"data_offsets":[begin,end]},..}
 * padded with spaces to a multiple of 8, then the tensors back to back;
 * offsets count from the first byte after the header.
 *
 * The configuration is one list of (key, JSON value) pairs: the .npz holds it
 * as a JSON object, __metadata__ as strings (a JSON value's text; a string
 * without its quotes). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export.h"
#include "bytes.h"
#include "json.h"
#include "../layers/layers.h"
#include "../layers/settings.h"

/* ---- CRC-32 ------------------------------------------------------------- */

uint32_t pff_crc32(uint32_t crc, const void *data, size_t n)
{
    uint32_t table[256]; /* 2,048 steps per call: cheaper than sharing one between threads */
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- the tensors and the configuration ---------------------------------- */

typedef struct {
    char name[32];      /* "layer3.weight" */
    int ndim, shape[2];
    const float *data;  /* shape[0] * shape[1] (ndim 2) or shape[0] floats */
    size_t count;
} tensor;

/* The model's tensors in file order; returns how many (at most 2 (L + 1)). */
static int tensors(const pff_model *m, tensor *t)
{
    int n = 0;
    for (int k = 0; k <= m->cfg.nlayers; k++) {
        const pff_layer *l = k < m->cfg.nlayers ? m->layer[k] : m->head;
        if (!l)
            break;
        char base[16];
        if (k < m->cfg.nlayers)
            snprintf(base, sizeof base, "layer%d", k + 1);
        else
            snprintf(base, sizeof base, "head");
        t[n] = (tensor){"", 2, {l->out, l->in}, l->w, (size_t)l->out * l->in};
        snprintf(t[n++].name, sizeof t->name, "%s.weight", base);
        t[n] = (tensor){"", 1, {l->out, 0}, l->b, (size_t)l->out};
        snprintf(t[n++].name, sizeof t->name, "%s.bias", base);
    }
    return n;
}

/* A growing NUL-terminated string. */
typedef struct {
    char *s;
    size_t n, cap;
    int ok;
} text;

static void tprintf(text *t, const char *fmt, ...)
{
    if (!t->ok)
        return;
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0 || t->n + (size_t)need + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (need >= 0 && cap < t->n + (size_t)need + 1)
            cap *= 2;
        char *s = need < 0 ? NULL : realloc(t->s, cap);
        if (!s) {
            t->ok = 0;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->n, t->cap - t->n, fmt, ap);
    va_end(ap);
    t->n += (size_t)need;
}

enum { CFG_KEYS = 32 };
typedef struct {
    const char *key;
    char value[256]; /* JSON text of the value */
    int is_string;   /* value is a JSON string (quoted) */
} cfg_entry;

static void put_str(cfg_entry *e, const char *key, const char *s)
{
    e->key = key;
    e->value[0] = 0;
    FILE *f = fmemopen(e->value, sizeof e->value, "w"); /* escaped by the one JSON writer */
    if (f) {
        pff_json_str(f, s);
        fclose(f);
    }
    e->is_string = 1;
}

static void put_num(cfg_entry *e, const char *key, const char *fmt, ...)
{
    e->key = key;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->value, sizeof e->value, fmt, ap);
    va_end(ap);
    e->is_string = 0;
}

/* A list of ints as JSON, "[784,500,500]", by the one JSON writer. */
static void put_ints(cfg_entry *e, const char *key, const int *v, int count)
{
    e->key = key;
    e->value[0] = 0;
    FILE *f = fmemopen(e->value, sizeof e->value, "w");
    if (f) {
        pff_json_ints(f, v, count);
        fclose(f);
    }
    e->is_string = 0;
}

static int config_entries(const pff_model *m, cfg_entry *e)
{
    const pff_model_config *c = &m->cfg;
    const int L = c->nlayers;
    int n = 0, glayers[PFF_MAX_LAYERS], ng = 0;
    for (int k = pff_goodness_first(L, c->goodness_from) + 1; k <= L; k++)
        glayers[ng++] = k; /* --goodness-from K: K..L; the paper's 2..L by default */
    put_str(&e[n++], "format", "pff");
    put_str(&e[n++], "pff_version", PFF_VERSION);
    put_ints(&e[n++], "layers", c->widths, L + 1);
    put_str(&e[n++], "theta", "threshold * width of the layer");
    put_str(&e[n++], "label_embedding", "one-hot replacing the first 10 inputs");
    put_num(&e[n++], "label_slots", "%d", PFF_CLASSES);
    put_num(&e[n++], "neutral_label", "%.9g", (double)PFF_NEUTRAL);
    put_str(&e[n++], "normalisation", "rms: x / (sqrt(mean(x^2)) + eps), on the input of every layer");
    put_num(&e[n++], "rms_eps", "%.9g", (double)PFF_RMS_EPS);
    put_str(&e[n++], "activation", "relu");
    put_str(&e[n++], "goodness", "sum of squared activities");
    put_ints(&e[n++], "goodness_layers", glayers, ng);
    put_num(&e[n++], "has_head", "%s", m->head ? "true" : "false");
    put_str(&e[n++], "head_input", L == 1 ? "normalised activities of layer 1, neutral label"
                                          : "normalised activities of layers 2..L, neutral label");
    /* every setting the model file records (layers/settings.h); dropout is training only:
     * inference never drops */
    for (int i = 0; i < pff_nsettings; i++)
        if (pff_settings[i].stored == PFF_STORED_MODEL && n < CFG_KEYS) {
            e[n].key = pff_settings[i].name;
            e[n].is_string = pff_settings[i].type == PFF_SET_KIND;
            pff_setting_json(&pff_settings[i], c, NULL, 1, e[n++].value, sizeof e->value);
        }
    return n;
}

char *pff_export_config_json(const pff_model *m)
{
    cfg_entry e[CFG_KEYS];
    int n = config_entries(m, e);
    text t = {NULL, 0, 0, 1};
    tprintf(&t, "{");
    for (int i = 0; i < n; i++)
        tprintf(&t, "%s\"%s\":%s", i ? "," : "", e[i].key, e[i].value);
    tprintf(&t, "}");
    if (!t.ok) {
        free(t.s);
        return NULL;
    }
    return t.s;
}

/* ---- .npy and .npz ------------------------------------------------------ */

/* An .npy header (magic .. '\n') for descr and shape text, padded so the
 * data starts at a multiple of 64 bytes. */
static void npy_header(pff_bytes *b, const char *descr, const char *shape)
{
    char dict[256];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                       descr, shape);
    size_t total = 10 + (size_t)len + 1; /* magic 6, version 2, length 2, dict, '\n' */
    size_t pad = (64 - total % 64) % 64;
    pff_put(b, "\x93NUMPY\x01\x00", 8);
    const uint16_t hl = (uint16_t)(len + pad + 1);
    const unsigned char h[2] = {(unsigned char)hl, (unsigned char)(hl >> 8)};
    pff_put(b, h, 2);
    pff_put(b, dict, (size_t)len);
    for (size_t i = 0; i < pad; i++)
        pff_put(b, " ", 1);
    pff_put(b, "\n", 1);
}

static void put16(pff_bytes *b, unsigned v)
{
    const unsigned char c[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    pff_put(b, c, 2);
}

#define ZIP_DOS_DATE 0x0021u /* 1980-01-01 */
#define ZIP_VERSION 20u      /* 2.0: what a stored member needs */

typedef struct {
    char name[40];
    uint32_t crc, size, offset;
} zip_member;

/* Appends one stored member: local header, name, data. */
static void zip_member_put(pff_bytes *z, zip_member *mb, const unsigned char *data, size_t n)
{
    mb->crc = pff_crc32(0, data, n);
    mb->size = (uint32_t)n;
    mb->offset = (uint32_t)z->n;
    pff_put32(z, 0x04034b50u);
    put16(z, ZIP_VERSION);
    put16(z, 0);            /* flags */
    put16(z, 0);            /* method: stored */
    put16(z, 0);            /* time 00:00 */
    put16(z, ZIP_DOS_DATE);
    pff_put32(z, mb->crc);
    pff_put32(z, mb->size); /* compressed = uncompressed */
    pff_put32(z, mb->size);
    put16(z, (unsigned)strlen(mb->name));
    put16(z, 0);            /* extra field */
    pff_put(z, mb->name, strlen(mb->name));
    pff_put(z, data, n);
}

static void zip_finish(pff_bytes *z, const zip_member *mb, int count)
{
    const uint32_t cd = (uint32_t)z->n;
    for (int i = 0; i < count; i++) {
        pff_put32(z, 0x02014b50u);
        put16(z, ZIP_VERSION);  /* made by: MS-DOS attributes, 2.0 */
        put16(z, ZIP_VERSION);
        put16(z, 0);
        put16(z, 0);
        put16(z, 0);
        put16(z, ZIP_DOS_DATE);
        pff_put32(z, mb[i].crc);
        pff_put32(z, mb[i].size);
        pff_put32(z, mb[i].size);
        put16(z, (unsigned)strlen(mb[i].name));
        put16(z, 0); /* extra */
        put16(z, 0); /* comment */
        put16(z, 0); /* disk */
        put16(z, 0); /* internal attributes */
        pff_put32(z, 0); /* external attributes */
        pff_put32(z, mb[i].offset);
        pff_put(z, mb[i].name, strlen(mb[i].name));
    }
    const uint32_t cd_size = (uint32_t)z->n - cd;
    pff_put32(z, 0x06054b50u);
    put16(z, 0);
    put16(z, 0);
    put16(z, (unsigned)count);
    put16(z, (unsigned)count);
    pff_put32(z, cd_size);
    pff_put32(z, cd);
    put16(z, 0); /* comment */
}

/* Builds the .npz in z. PFF_EUSAGE when it would pass the 4 GiB of a plain ZIP. */
static int build_npz(const pff_model *m, pff_bytes *z, const char *path, char *err)
{
    tensor t[2 * (PFF_MAX_LAYERS + 1)];
    const int nt = tensors(m, t);
    zip_member mb[2 * (PFF_MAX_LAYERS + 1) + 1];
    double total = 0;
    for (int i = 0; i < nt; i++)
        total += 4.0 * (double)t[i].count + 300;
    if (total > 4.0e9) {
        snprintf(err, PFF_ERRLEN, "%s: the model's %.2f GB do not fit a ZIP without ZIP64 (4 GiB "
                 "at most); export to .safetensors instead", path, total / 1e9);
        return PFF_EUSAGE;
    }
    pff_bytes a = {NULL, 0, 0, 1}; /* one member's .npy bytes */
    for (int i = 0; i < nt; i++) {
        char shape[48];
        if (t[i].ndim == 2)
            snprintf(shape, sizeof shape, "(%d, %d)", t[i].shape[0], t[i].shape[1]);
        else
            snprintf(shape, sizeof shape, "(%d,)", t[i].shape[0]);
        a.n = 0;
        npy_header(&a, "<f4", shape);
        pff_putfs(&a, t[i].data, t[i].count);
        snprintf(mb[i].name, sizeof mb[i].name, "%s.npy", t[i].name);
        if (a.ok)
            zip_member_put(z, &mb[i], a.p, a.n);
    }
    /* config.npy: a 0-d array of dtype <U{n} (UTF-32LE) holding the JSON */
    char *json = pff_export_config_json(m);
    if (json) {
        const size_t len = strlen(json);
        char descr[32];
        snprintf(descr, sizeof descr, "<U%zu", len);
        a.n = 0;
        npy_header(&a, descr, "()");
        for (size_t i = 0; i < len; i++)
            pff_put32(&a, (unsigned char)json[i]);
        snprintf(mb[nt].name, sizeof mb[nt].name, "config.npy");
        if (a.ok)
            zip_member_put(z, &mb[nt], a.p, a.n);
        free(json);
    }
    const int ok = a.ok && json;
    free(a.p);
    if (!ok)
        z->ok = 0;
    zip_finish(z, mb, nt + 1);
    if (!z->ok) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
        return PFF_EFAIL;
    }
    return PFF_OK;
}

/* ---- .safetensors ------------------------------------------------------- */

static int build_safetensors(const pff_model *m, pff_bytes *out, const char *path, char *err)
{
    tensor t[2 * (PFF_MAX_LAYERS + 1)];
    const int nt = tensors(m, t);
    cfg_entry e[CFG_KEYS];
    const int ne = config_entries(m, e);
    text h = {NULL, 0, 0, 1};
    tprintf(&h, "{\"__metadata__\":{");
    for (int i = 0; i < ne; i++) {
        const char *v = e[i].value;
        if (e[i].is_string) /* "abc" -> abc */
            tprintf(&h, "%s\"%s\":\"%.*s\"", i ? "," : "", e[i].key, (int)strlen(v) - 2, v + 1);
        else
            tprintf(&h, "%s\"%s\":\"%s\"", i ? "," : "", e[i].key, v);
    }
    tprintf(&h, "}");
    size_t off = 0;
    for (int i = 0; i < nt; i++) {
        tprintf(&h, ",\"%s\":{\"dtype\":\"F32\",\"shape\":", t[i].name);
        if (t[i].ndim == 2)
            tprintf(&h, "[%d,%d]", t[i].shape[0], t[i].shape[1]);
        else
            tprintf(&h, "[%d]", t[i].shape[0]);
        tprintf(&h, ",\"data_offsets\":[%zu,%zu]}", off, off + 4 * t[i].count);
        off += 4 * t[i].count;
    }
    tprintf(&h, "}");
    while (h.ok && h.n % 8)
        tprintf(&h, " ");
    if (h.ok) {
        pff_put64(out, (uint64_t)h.n);
        pff_put(out, h.s, h.n);
        for (int i = 0; i < nt; i++)
            pff_putfs(out, t[i].data, t[i].count);
    }
    const int ok = h.ok && out->ok;
    free(h.s);
    if (!ok) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
        return PFF_EFAIL;
    }
    return PFF_OK;
}

/* ---- both --------------------------------------------------------------- */

int pff_export(const pff_model *m, int which, const char *npz_path, const char *st_path, char *err)
{
    pff_bytes z = {NULL, 0, 0, 1}, s = {NULL, 0, 0, 1};
    int rc = PFF_OK;
    if (which & PFF_EXPORT_NPZ)
        rc = build_npz(m, &z, npz_path, err);
    if (!rc && (which & PFF_EXPORT_SAFETENSORS))
        rc = build_safetensors(m, &s, st_path, err);
    int wrote_npz = 0;
    if (!rc && (which & PFF_EXPORT_NPZ) && !(rc = pff_write_atomic(npz_path, z.p, z.n, err)))
        wrote_npz = 1;
    if (!rc && (which & PFF_EXPORT_SAFETENSORS) &&
        (rc = pff_write_atomic(st_path, s.p, s.n, err)) && wrote_npz)
        unlink(npz_path); /* both or neither */
    free(z.p);
    free(s.p);
    return rc;
}
