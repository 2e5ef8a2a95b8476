/* data/model_file.c — the model file: pff_model_save and pff_model_load, and
 * the header the checkpoint file shares with it (pff_put_header).
 *
 * Model file, version 2, little-endian:
 *   "PFFMODEL"  u32 version  u32 L  u32 widths[L+1]  f32 threshold
 *   u32 epochs  u32 splits  u32 batch  f32 lr  f32 softmax_lr  u32 neg
 *   u32 classifier  u64 seed  u32 has_head
 *   for each layer: f32 W[out*in]  f32 b[out]
 *   when has_head:  f32 W[10*D]    f32 b[10]
 *   u32 H, then H chapter records: u32 chapter  f32 lr  f32 test_accuracy
 *                                  f32 loss[L]  f32 gpos[L]  f32 gneg[L]
 *   u64 FNV-1a of every byte before it
 * Version 3 is version 2 with two fields after the seed, u32 augment and
 * f32 hard_temp; it is written only when a run used them (--neg hard or
 * --augment shift), so every other model keeps its version-2 bytes.
 * Version 4 is version 3 with two more fields after hard_temp, f32 dropout
 * and f32 weight_decay; it is written only when a run used one of them
 * (--dropout P > 0 or --weight-decay L > 0), and then carries the version-3
 * fields too, whatever they hold. Version 5 is version 4 with u32
 * goodness_from after weight_decay (--goodness-from K, the first layer the
 * goodness classifier sums, when it is not the paper's rule); it carries the
 * version-3 and -4 fields whatever they hold. All four versions load; a file whose
 * version is higher than its settings need is refused (one model, one byte
 * string).
 * Only what defines the function is stored (no schedule, nodes, threads or
 * timings), so schedules that compute the same model write the same bytes.
 * Files are written with pff_write_atomic (data/atomic.c), so a reader never
 * sees half a model and a failed save leaves any existing file untouched. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../layers/layers.h"
#include "bytes.h"
#include "data.h"
#include "model_file.h"

#define MODEL_MAGIC "PFFMODEL"
#define MODEL_VERSION 2u /* 2: chapter records after the head */
#define MODEL_VERSION_CLS 5u /* 5: 4 + goodness_from (written only when not the paper's rule) */

static size_t header_size(int L, uint32_t version)
{
    return 8 + 4 + 4 + 4 * (size_t)(L + 1) + pff_settings_bytes(PFF_STORED_MODEL, 2, version) + 4;
}

static size_t setting_bytes(const pff_setting *s)
{
    return s->type == PFF_SET_SEED ? 8 : 4;
}

/* a row of `which` that versions vmin..vmax stored */
static int stored_in(const pff_setting *s, pff_setting_store which, unsigned vmin, unsigned vmax)
{
    return s->stored == which && s->version >= vmin && s->version <= vmax;
}

size_t pff_settings_bytes(pff_setting_store which, unsigned vmin, unsigned vmax)
{
    size_t n = 0;
    for (int i = 0; i < pff_nsettings; i++)
        if (stored_in(&pff_settings[i], which, vmin, vmax))
            n += setting_bytes(&pff_settings[i]);
    return n;
}

void pff_put_settings(pff_bytes *b, const pff_model_config *m, const pff_run_config *r,
                      pff_setting_store which, unsigned vmin, unsigned vmax)
{
    for (int i = 0; i < pff_nsettings; i++) {
        const pff_setting *s = &pff_settings[i];
        if (!stored_in(s, which, vmin, vmax))
            continue;
        const void *f = pff_setting_cfield(s, m, r);
        if (s->type == PFF_SET_SEED)
            pff_put64(b, *(const uint64_t *)f);
        else if (s->type == PFF_SET_REAL)
            pff_putf(b, *(const float *)f);
        else
            pff_put32(b, (uint32_t) * (const int *)f);
    }
}

const unsigned char *pff_get_settings(const unsigned char *q, pff_model_config *m,
                                      pff_run_config *r, pff_setting_store which, unsigned vmin,
                                      unsigned vmax)
{
    for (int i = 0; i < pff_nsettings; i++) {
        const pff_setting *s = &pff_settings[i];
        if (!stored_in(s, which, vmin, vmax))
            continue;
        void *f = pff_setting_field(s, m, r);
        if (s->type == PFF_SET_SEED)
            *(uint64_t *)f = pff_get64(q);
        else if (s->type == PFF_SET_REAL)
            *(float *)f = pff_getf(q);
        else
            *(int *)f = (int)pff_get32(q);
        q += setting_bytes(s);
    }
    return q;
}

int pff_settings_check_file(const pff_model_config *m, const pff_run_config *r, unsigned version,
                            int exact, const char *what, const char *path, char *err)
{
    const pff_setting *s = pff_settings_bad(m, r);
    if (s) {
        char value[64], expected[160];
        pff_setting_text(s, m, r, value, sizeof value);
        pff_setting_expected(s, m->nlayers, expected, sizeof expected);
        snprintf(err, PFF_ERRLEN, "%s: the %s's %s is %s, expected %s (the file is damaged)", path,
                 what, s->name, value, expected);
        return PFF_EUSAGE;
    }
    unsigned need = pff_settings_version(m);
    if (exact && need != version) {
        snprintf(err, PFF_ERRLEN, "%s: a version-%u %s whose settings need version %u (each "
                 "version is written exactly when its settings are used; the file is damaged)",
                 path, version, what, need);
        return PFF_EUSAGE;
    }
    return PFF_OK;
}

static size_t body_floats(const int *widths, int L, int head_in)
{
    size_t f = 0;
    for (int k = 0; k < L; k++)
        f += (size_t)widths[k] * widths[k + 1] + widths[k + 1];
    if (head_in)
        f += (size_t)head_in * PFF_CLASSES + PFF_CLASSES;
    return f;
}

/* The start both file formats share: magic, version, widths and the maths settings. */
void pff_put_header(pff_bytes *b, const char *magic, uint32_t version, const pff_model_config *c)
{
    pff_put(b, magic, 8);
    pff_put32(b, version);
    pff_put32(b, (uint32_t)c->nlayers);
    for (int k = 0; k <= c->nlayers; k++)
        pff_put32(b, (uint32_t)c->widths[k]);
    pff_put_settings(b, c, NULL, PFF_STORED_MODEL, 2, 2);
}

int pff_model_save(const pff_model *m, const char *path, char *err)
{
    const pff_model_config *c = &m->cfg;
    const int L = c->nlayers, head_in = m->head ? m->head->in : 0;
    const uint32_t version = pff_settings_version(c);
    pff_bytes b = {NULL, 0, 0, 1};
    b.cap = header_size(L, version) + 4 * body_floats(c->widths, L, head_in) + 4 +
            (size_t)m->nhistory * (12 + 12 * (size_t)L) + 8;
    if (!(b.p = malloc(b.cap))) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
        return PFF_EFAIL;
    }
    pff_put_header(&b, MODEL_MAGIC, version, c);
    pff_put_settings(&b, c, NULL, PFF_STORED_MODEL, 3, version);
    pff_put32(&b, (uint32_t)head_in);
    for (int k = 0; k < L; k++)
        pff_putfs(&b, m->layer[k]->slab, m->layer[k]->nparam);
    if (m->head)
        pff_putfs(&b, m->head->slab, m->head->nparam);
    pff_put32(&b, (uint32_t)m->nhistory);
    for (int i = 0; i < m->nhistory; i++) {
        const pff_history *h = &m->history[i];
        pff_put32(&b, (uint32_t)h->chapter);
        pff_putf(&b, h->lr);
        pff_putf(&b, h->test_accuracy);
        pff_putfs(&b, h->loss, (size_t)L);
        pff_putfs(&b, h->gpos, (size_t)L);
        pff_putfs(&b, h->gneg, (size_t)L);
    }
    pff_put64(&b, pff_fnv1a(b.p, b.n));
    int rc = b.ok ? pff_write_atomic(path, b.p, b.n, err) : PFF_EFAIL;
    if (!b.ok)
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
    free(b.p);
    return rc;
}

static unsigned char *read_file(const char *path, size_t *n, char *err)
{
    pff_read_status why;
    unsigned char *p = pff_read_whole(path, 0, n, &why);
    if (why == PFF_READ_OPEN)
        snprintf(err, PFF_ERRLEN, "%s: cannot open: %s", path, strerror(errno));
    else if (why == PFF_READ_NOT_REGULAR)
        snprintf(err, PFF_ERRLEN, "%s: not a regular file", path);
    else if (why != PFF_READ_OK)
        snprintf(err, PFF_ERRLEN, "%s: cannot read %lld bytes", path, (long long)*n);
    return p;
}

/* The settings after the layer count: the widths, the recipe, and the fields of versions 3 to 5,
 * each checked against what its version may hold. Returns the position after them (at has_head),
 * or NULL with err set. */
static const unsigned char *get_settings(const unsigned char *q, uint32_t version, pff_model_config *c,
                                         const char *path, char *err)
{
    const int L = c->nlayers;
    for (int k = 0; k <= L; k++, q += 4) {
        uint32_t w = pff_get32(q);
        if (w < 1 || w > (1u << 24) || (k == 0 && w < PFF_CLASSES)) {
            snprintf(err, PFF_ERRLEN, "%s: width %u of layer %d is invalid", path, w, k);
            return NULL;
        }
        c->widths[k] = (int)w;
    }
    q = pff_get_settings(q, c, NULL, PFF_STORED_MODEL, 2, version);
    return pff_settings_check_file(c, NULL, version, 1, "model", path, err) ? NULL : q;
}

/* The body of a file whose size and checksum were checked: every layer's parameters, the head's
 * (head_in inputs, 0: none) and nhist chapter records, from q into m. */
static int get_body(const unsigned char *q, uint32_t head_in, uint32_t nhist, pff_model *m,
                    const char *path, char *err)
{
    const int L = m->cfg.nlayers;
    if (!(m->layer = calloc((size_t)L, sizeof *m->layer))) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
        return PFF_EFAIL;
    }
    for (int k = 0; k < L; k++) {
        pff_layer *l = m->layer[k] = pff_layer_new(m->cfg.widths[k], m->cfg.widths[k + 1]);
        if (!l) {
            snprintf(err, PFF_ERRLEN, "%s: out of memory for layer %d", path, k + 1);
            return PFF_EFAIL;
        }
        for (size_t i = 0; i < l->nparam; i++, q += 4)
            l->slab[i] = pff_getf(q);
    }
    if (head_in) {
        if (!(m->head = pff_layer_new((int)head_in, PFF_CLASSES))) {
            snprintf(err, PFF_ERRLEN, "%s: out of memory for the softmax head", path);
            return PFF_EFAIL;
        }
        for (size_t i = 0; i < m->head->nparam; i++, q += 4)
            m->head->slab[i] = pff_getf(q);
    }
    q += 4; /* nhist, read by the caller */
    if (nhist && !(m->history = calloc(nhist, sizeof *m->history))) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory for %u chapter records", path, nhist);
        return PFF_EFAIL;
    }
    m->nhistory = (int)nhist;
    for (uint32_t i = 0; i < nhist; i++) {
        pff_history *h = &m->history[i];
        h->chapter = (int)pff_get32(q), q += 4;
        h->lr = pff_getf(q), q += 4;
        h->test_accuracy = pff_getf(q), q += 4;
        for (int k = 0; k < L; k++, q += 4)
            h->loss[k] = pff_getf(q);
        for (int k = 0; k < L; k++, q += 4)
            h->gpos[k] = pff_getf(q);
        for (int k = 0; k < L; k++, q += 4)
            h->gneg[k] = pff_getf(q);
    }
    return PFF_OK;
}

/* Reads and checks the whole file before it builds anything: the magic and version, the
 * settings, the head's size, the file's exact length and its checksum; then the body. */
int pff_model_load(pff_model *m, const char *path, char *err)
{
    memset(m, 0, sizeof *m);
    size_t n;
    unsigned char *p = read_file(path, &n, err);
    if (!p)
        return PFF_EUSAGE;
    int rc = PFF_EUSAGE;
    pff_model_config *c = &m->cfg;
    pff_model_config_default(c);
    if (n < 20 || memcmp(p, MODEL_MAGIC, 8) != 0) {
        snprintf(err, PFF_ERRLEN, "%s: not a pff model (bad magic; expected \"%s\")", path, MODEL_MAGIC);
        goto out;
    }
    uint32_t version = pff_get32(p + 8), L = pff_get32(p + 12);
    if (version < MODEL_VERSION || version > MODEL_VERSION_CLS) {
        snprintf(err, PFF_ERRLEN, "%s: model format version %u, this pff reads versions %u to %u%s",
                 path, version, MODEL_VERSION, MODEL_VERSION_CLS,
                 version > MODEL_VERSION_CLS ? " (written by a newer pff)" : "");
        goto out;
    }
    if (L < 1 || L > PFF_MAX_LAYERS || n < header_size((int)L, version) + 8) {
        snprintf(err, PFF_ERRLEN, "%s: layer count %u or size %zu bytes is invalid", path, L, n);
        goto out;
    }
    c->nlayers = (int)L;
    const unsigned char *q = get_settings(p + 16, version, c, path, err);
    if (!q)
        goto out;
    uint32_t head_in = pff_get32(q);
    int fdim = 0;
    for (uint32_t k = (L == 1 ? 0 : 1); k < L; k++)
        fdim += c->widths[k + 1];
    if (head_in != 0 && head_in != (uint32_t)fdim) {
        snprintf(err, PFF_ERRLEN, "%s: softmax head of %u inputs, expected %d for these layers", path,
                 head_in, fdim);
        goto out;
    }
    size_t body = header_size((int)L, version) + 4 * body_floats(c->widths, (int)L, (int)head_in);
    uint32_t nhist = n >= body + 4 ? pff_get32(p + body) : 0;
    if (nhist > (uint32_t)(c->splits > 0 ? c->splits : 0)) {
        snprintf(err, PFF_ERRLEN, "%s: %u chapter records, expected at most %d (one per chapter)",
                 path, nhist, c->splits);
        goto out;
    }
    size_t want = body + 4 + (size_t)nhist * (12 + 12 * (size_t)L) + 8;
    if (n != want) {
        snprintf(err, PFF_ERRLEN, "%s: %zu bytes, expected %zu for this network (file %s)", path, n,
                 want, n < want ? "truncated" : "has trailing bytes");
        goto out;
    }
    if (pff_fnv1a(p, n - 8) != pff_get64(p + n - 8)) {
        snprintf(err, PFF_ERRLEN, "%s: checksum mismatch: the file is damaged", path);
        goto out;
    }
    rc = get_body(q + 4, head_in, nhist, m, path, err);
out:
    free(p);
    if (rc)
        pff_model_free(m);
    return rc;
}
