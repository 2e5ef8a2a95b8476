/* data/checkpoint.c — the checkpoint file: the whole training state after a chapter, so that a
 * run killed at any moment resumes to the same model, byte for byte.
 *
 * File, version 2 (3 to 5 with the extensions below), little-endian, written atomically
 * (pff_write_atomic):
 *   "PFFCKPT1"  u32 version
 *   config: u32 L, u32 widths[L+1], f32 threshold, u32 epochs, splits, batch,
 *           f32 lr, softmax_lr, u32 neg, classifier, u64 seed, u32 schedule,
 *           nodes, threads, fast, shards, stale_adam, sl_recompute, eval_every
 *   versions 3 to 5 (version 3: runs with --neg hard or --augment shift):
 *           u32 augment, f32 hard_temp
 *   versions 4 and 5 (version 4: runs with --dropout P > 0 or --weight-decay L > 0):
 *           f32 dropout, f32 weight_decay
 *   versions 5 and 6 (version 5: runs with --goodness-from K other than the paper's rule):
 *           u32 goodness_from
 *   version 6 (runs with --val N): the fields of versions 3 to 5 whatever they hold, and
 *           u32 val_n in the run record
 *   u32 next                      chapters completed
 *   u32 train_n                   training images (a resumed run must use the same)
 *   per layer: u64 Adam step, f32 slab[3 * nparam] (W | b, m, v)
 *   u32 has_head, then the head the same way
 *   per completed chapter and stage (L+1): f64 loss, gpos, gneg, u64 batches
 *   per completed chapter: f64 test accuracy (-1: not measured)
 *   u32 count, then negatives already drawn for coming chapters:
 *           u32 chapter, u32 n, u8 labels[n]
 *   the run record (versions 2 to 5; pff_run_record), what `--resume FILE` alone
 *   needs to continue: u32 train_limit, test_limit (0: all); version 6: u32 val_n
 *           (images held out by --val, >= 1); str data_dir;
 *           per IDX file (pff_data_files order) u64 size, u64 FNV-1a;
 *           str save, log, trace   (str: u32 length <= 4096, then the bytes,
 *           no NUL; length 0: not recorded; paths are absolute, trace may be -)
 *   u64 FNV-1a of every byte before it
 * Version 1 files (no run record) are refused with a hint: their runs need
 * the pff that wrote them.
 * Randomness needs no state: every draw is keyed by (seed, chapter, ...). */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "checkpoint.h"
#include "data.h"
#include "model_file.h"

#define CK_MAGIC "PFFCKPT1"
#define CK_VERSION 2u
#define CK_VERSION_VAL 6u /* 5 + val_n in the run record: written only by runs with --val */
#define CK_MAX_STR 4096u

typedef struct {
    const unsigned char *p;
    size_t n, off;
    int ok;
} rbuf;

static const unsigned char *r_take(rbuf *b, size_t n)
{
    if (!b->ok || b->n - b->off < n) {
        b->ok = 0;
        return NULL;
    }
    const unsigned char *p = b->p + b->off;
    b->off += n;
    return p;
}
static uint32_t r32(rbuf *b)
{
    const unsigned char *p = r_take(b, 4);
    return p ? pff_get32(p) : 0;
}
static uint64_t r64(rbuf *b)
{
    uint64_t lo = r32(b);
    return lo | (uint64_t)r32(b) << 32;
}
static float rf(rbuf *b)
{
    uint32_t u = r32(b);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static double rd(rbuf *b)
{
    uint64_t u = r64(b);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static void w_str(pff_bytes *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    pff_put32(b, (uint32_t)n);
    if (n)
        pff_put(b, s, n);
}

/* A string of the run record; NULL for length 0. *bad is set for a string
 * that is too long, holds a NUL or is not an absolute path (or "-" when
 * dash_ok). */
static char *r_str(rbuf *b, int dash_ok, int *bad)
{
    uint32_t n = r32(b);
    if (!b->ok || n == 0)
        return NULL;
    const unsigned char *src = n <= CK_MAX_STR ? r_take(b, n) : NULL;
    if (!src || memchr(src, 0, n) || !(src[0] == '/' || (dash_ok && n == 1 && src[0] == '-'))) {
        *bad = 1;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        *bad = 1;
        return NULL;
    }
    memcpy(s, src, n);
    s[n] = 0;
    return s;
}

static void w_layer(pff_bytes *b, const pff_layer *l)
{
    pff_put64(b, (uint64_t)l->step);
    for (size_t i = 0; i < 3 * l->nparam; i++)
        pff_putf(b, l->slab[i]);
}

int pff_checkpoint_save(const pff_checkpoint *ck, const char *path, char *err)
{
    const pff_config *c = &ck->cfg;
    const int L = c->model.nlayers;
    pff_bytes b = {NULL, 0, 0, 1};
    /* the model file's numbering, or 6 for a run with a validation split */
    const uint32_t version = ck->rec.val_n > 0 ? CK_VERSION_VAL : pff_settings_version(&c->model);
    pff_put_header(&b, CK_MAGIC, version, &c->model);
    pff_put_settings(&b, NULL, &c->run, PFF_STORED_RUN, 2, 2);
    pff_put_settings(&b, &c->model, NULL, PFF_STORED_MODEL, 3, version);
    pff_put32(&b, (uint32_t)ck->next);
    pff_put32(&b, (uint32_t)ck->train_n);
    for (int k = 0; k < L; k++)
        w_layer(&b, ck->layer[k]);
    pff_put32(&b, ck->head != NULL);
    if (ck->head)
        w_layer(&b, ck->head);
    for (long i = 0; i < (long)ck->next * (L + 1); i++) {
        pff_putd(&b, ck->stats[i].loss);
        pff_putd(&b, ck->stats[i].gpos);
        pff_putd(&b, ck->stats[i].gneg);
        pff_put64(&b, (uint64_t)ck->stats[i].batches);
    }
    for (int i = 0; i < ck->next; i++)
        pff_putd(&b, ck->acc[i]);
    pff_put32(&b, (uint32_t)ck->nneg);
    for (int i = 0; i < ck->nneg; i++) {
        pff_put32(&b, (uint32_t)ck->neg_chapter[i]);
        pff_put32(&b, (uint32_t)ck->neg_n[i]);
        pff_put(&b, ck->neg[i], (size_t)ck->neg_n[i]);
    }
    const pff_run_record *rec = &ck->rec;
    pff_put32(&b, (uint32_t)rec->train_limit);
    pff_put32(&b, (uint32_t)rec->test_limit);
    if (version >= CK_VERSION_VAL)
        pff_put32(&b, (uint32_t)rec->val_n);
    w_str(&b, rec->data_dir);
    for (int i = 0; i < PFF_DATA_FILES; i++) {
        pff_put64(&b, rec->data_size[i]);
        pff_put64(&b, rec->data_hash[i]);
    }
    w_str(&b, rec->save);
    w_str(&b, rec->log);
    w_str(&b, rec->trace);
    if (b.ok)
        pff_put64(&b, pff_fnv1a(b.p, b.n));
    if (!b.ok) {
        free(b.p);
        snprintf(err, PFF_ERRLEN, "%s: out of memory writing the checkpoint", path);
        return PFF_EFAIL;
    }
    int rc = pff_write_atomic(path, b.p, b.n, err);
    free(b.p);
    return rc;
}

void pff_checkpoint_free(pff_checkpoint *ck)
{
    if (!ck)
        return;
    if (ck->layer)
        for (int k = 0; k < ck->cfg.model.nlayers; k++)
            pff_layer_free(ck->layer[k]);
    free(ck->layer);
    pff_layer_free(ck->head);
    free(ck->stats);
    free(ck->acc);
    for (int i = 0; i < ck->nneg; i++)
        free(ck->neg[i]);
    free(ck->neg);
    free(ck->neg_n);
    free(ck->neg_chapter);
    free(ck->rec.data_dir);
    free(ck->rec.save);
    free(ck->rec.log);
    free(ck->rec.trace);
    free(ck);
}

static pff_layer *r_layer(rbuf *b, int in, int out)
{
    /* the bytes must be there before anything is allocated for them */
    size_t nparam = (size_t)in * out + out;
    if (!b->ok || (b->n - b->off) / 12 < nparam || b->n - b->off < 8 + 12 * nparam) {
        b->ok = 0;
        return NULL;
    }
    pff_layer *l = pff_layer_new(in, out);
    if (!l)
        return NULL;
    l->step = (long long)r64(b);
    for (size_t i = 0; i < 3 * l->nparam; i++)
        l->slab[i] = rf(b);
    return l;
}

/* What a step of pff_checkpoint_load found: the bytes hold what they should,
 * they do not (err says why), or memory ran out (or, with b->ok cleared, the
 * bytes ran out before an allocation they announce). */
typedef enum { LOAD_OK, LOAD_BAD, LOAD_OOM } load_step;

/* The whole file at path; NULL with *rc and err set when it cannot be read. */
static unsigned char *read_whole(const char *path, size_t *size, int *rc, char *err)
{
    pff_read_status why;
    unsigned char *p = pff_read_whole(path, 0, size, &why);
    if (why == PFF_READ_OPEN) {
        snprintf(err, PFF_ERRLEN, "--resume %s: cannot open: no such checkpoint", path);
        *rc = PFF_EUSAGE;
    } else if (why == PFF_READ_NOMEM) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
        *rc = PFF_EFAIL;
    } else if (why != PFF_READ_OK) { /* a directory or a short read: no checkpoint's bytes */
        *size = 0;
        p = calloc(1, 1);
        if (!p) {
            snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
            *rc = PFF_EFAIL;
        }
    }
    return p;
}

/* Every setting read from a checkpoint against what a run can use (the table's ranges), the
 * version against what its settings need (below 6: exactly; one state, one byte string), and the
 * chapters completed; the first one wrong is named, with its value and the range expected. */
static load_step check_settings(const pff_checkpoint *ck, unsigned version, const char *path,
                                char *err)
{
    const pff_model_config *m = &ck->cfg.model;
    if (pff_settings_check_file(m, &ck->cfg.run, version, version < CK_VERSION_VAL, "checkpoint",
                                path, err))
        return LOAD_BAD;
    if (ck->next < 1 || ck->next > m->splits) {
        snprintf(err, PFF_ERRLEN, "%s: the checkpoint's next chapter is %d, expected 1..%d (the "
                 "file is damaged)", path, ck->next, m->splits);
        return LOAD_BAD;
    }
    if (m->epochs % m->splits) {
        snprintf(err, PFF_ERRLEN, "%s: the checkpoint's epochs (%d) are not a multiple of its "
                 "splits (%d; the file is damaged)", path, m->epochs, m->splits);
        return LOAD_BAD;
    }
    return LOAD_OK;
}

/* The version, the settings, the chapters completed and the training images
 * (b is past the magic). */
static load_step read_settings(rbuf *b, pff_checkpoint *ck, const char *path, char *err)
{
    uint32_t version = r32(b);
    if (version < CK_VERSION || version > CK_VERSION_VAL) {
        snprintf(err, PFF_ERRLEN, "%s: checkpoint version %u, this pff reads versions %u to %u%s",
                 path, version, CK_VERSION, CK_VERSION_VAL,
                 version < CK_VERSION ? " (resume it with the pff that wrote it)"
                                      : " (written by a newer pff)");
        return LOAD_BAD;
    }
    pff_config *c = &ck->cfg;
    pff_config_default(c);
    uint32_t L = r32(b);
    if (L < 1 || L > PFF_MAX_LAYERS) {
        snprintf(err, PFF_ERRLEN, "%s: %u layers, expected 1..%d", path, L, PFF_MAX_LAYERS);
        return LOAD_BAD;
    }
    c->model.nlayers = (int)L;
    for (uint32_t k = 0; k <= L; k++) {
        uint32_t w = r32(b);
        if (w < 1 || w > (1u << 24)) {
            snprintf(err, PFF_ERRLEN, "%s: width %u of layer %u is invalid", path, w, k);
            return LOAD_BAD;
        }
        c->model.widths[k] = (int)w;
    }
    /* the recipe, the run, then the fields of versions 3 to 5 (version 6 carries them all) */
    static const struct {
        pff_setting_store which;
        unsigned vmin, vmax;
    } part[] = {{PFF_STORED_MODEL, 2, 2}, {PFF_STORED_RUN, 2, 2}, {PFF_STORED_MODEL, 3, 5}};
    for (int i = 0; i < 3; i++) {
        unsigned vmax = part[i].vmax < version ? part[i].vmax : version;
        const unsigned char *q = r_take(b, pff_settings_bytes(part[i].which, part[i].vmin, vmax));
        if (q)
            pff_get_settings(q, &c->model, &c->run, part[i].which, part[i].vmin, vmax);
    }
    ck->next = (int)r32(b);
    ck->train_n = (long)r32(b);
    if (!b->ok) {
        snprintf(err, PFF_ERRLEN, "%s: the checkpoint ends inside its settings", path);
        return LOAD_BAD;
    }
    return check_settings(ck, version, path, err);
}

/* The layers, the head, the per-chapter statistics and accuracies. */
static load_step read_network(rbuf *b, pff_checkpoint *ck, const char *path, char *err)
{
    const int L = ck->cfg.model.nlayers;
    if (!(ck->layer = calloc((size_t)L, sizeof *ck->layer)))
        return LOAD_OOM;
    for (int k = 0; k < L; k++)
        if (!(ck->layer[k] = r_layer(b, ck->cfg.model.widths[k], ck->cfg.model.widths[k + 1])))
            return LOAD_OOM;
    uint32_t has_head = r32(b);
    if (has_head > 1) {
        snprintf(err, PFF_ERRLEN, "%s: head flag %u, expected 0 or 1", path, has_head);
        return LOAD_BAD;
    }
    if (has_head) {
        int D = pff_feature_dim(ck->layer, L);
        if (!(ck->head = r_layer(b, D, PFF_CLASSES)))
            return LOAD_OOM;
    }
    size_t ns = (size_t)ck->next * (L + 1);
    if (!b->ok || (b->n - b->off) / 32 < ns) { /* 32 bytes per record must follow */
        snprintf(err, PFF_ERRLEN, "%s: truncated or invalid checkpoint", path);
        return LOAD_BAD;
    }
    ck->stats = calloc(ns, sizeof *ck->stats);
    ck->acc = calloc((size_t)ck->next, sizeof *ck->acc);
    if (!ck->stats || !ck->acc)
        return LOAD_OOM;
    for (size_t i = 0; i < ns; i++) {
        ck->stats[i].loss = rd(b);
        ck->stats[i].gpos = rd(b);
        ck->stats[i].gneg = rd(b);
        ck->stats[i].batches = (long)r64(b);
    }
    for (int i = 0; i < ck->next; i++)
        ck->acc[i] = rd(b);
    return LOAD_OK;
}

/* The negatives already drawn for coming chapters. A label >= PFF_CLASSES or
 * missing bytes clear b->ok (the caller's final check refuses the file). */
static load_step read_negatives(rbuf *b, pff_checkpoint *ck, const char *path, char *err)
{
    uint32_t nneg = r32(b);
    if (!b->ok || nneg > PFF_MAX_NODES) {
        snprintf(err, PFF_ERRLEN, "%s: truncated or invalid checkpoint", path);
        return LOAD_BAD;
    }
    ck->neg = calloc(nneg ? nneg : 1, sizeof *ck->neg);
    ck->neg_n = calloc(nneg ? nneg : 1, sizeof *ck->neg_n);
    ck->neg_chapter = calloc(nneg ? nneg : 1, sizeof *ck->neg_chapter);
    if (!ck->neg || !ck->neg_n || !ck->neg_chapter)
        return LOAD_OOM;
    for (uint32_t i = 0; i < nneg; i++) {
        ck->neg_chapter[i] = (int)r32(b);
        ck->neg_n[i] = (long)r32(b);
        const unsigned char *src = r_take(b, (size_t)ck->neg_n[i]);
        if (!src)
            break;
        if (!(ck->neg[i] = malloc((size_t)ck->neg_n[i] + 1)))
            return LOAD_OOM;
        memcpy(ck->neg[i], src, (size_t)ck->neg_n[i]);
        for (long j = 0; j < ck->neg_n[i]; j++)
            if (ck->neg[i][j] >= PFF_CLASSES)
                b->ok = 0;
        ck->nneg = (int)i + 1;
    }
    return LOAD_OK;
}

/* The run record: limits, the validation split (version 6), data set and outputs. */
static load_step read_record(rbuf *b, uint32_t version, pff_run_record *rec, const char *path,
                             char *err)
{
    uint32_t tl = r32(b), el = r32(b), vn = version >= CK_VERSION_VAL ? r32(b) : 0;
    int bad = tl > 0x7fffffffu || el > 0x7fffffffu || vn > 0x7fffffffu ||
              (version >= CK_VERSION_VAL && vn == 0); /* version 6 exactly when --val was given */
    rec->train_limit = (long)tl;
    rec->test_limit = (long)el;
    rec->val_n = (long)vn;
    rec->data_dir = r_str(b, 0, &bad);
    for (int i = 0; i < PFF_DATA_FILES; i++) {
        rec->data_size[i] = r64(b);
        rec->data_hash[i] = r64(b);
    }
    rec->save = r_str(b, 0, &bad);
    rec->log = r_str(b, 0, &bad);
    rec->trace = r_str(b, 1, &bad);
    if (bad) {
        snprintf(err, PFF_ERRLEN, "%s: the checkpoint's run record (data set, limits, validation "
                 "split, outputs) is invalid", path);
        return LOAD_BAD;
    }
    return LOAD_OK;
}

int pff_checkpoint_load(const char *path, pff_checkpoint **out, char *err)
{
    *out = NULL;
    size_t n = 0;
    int rc = PFF_EUSAGE;
    unsigned char *p = read_whole(path, &n, &rc, err);
    if (!p)
        return rc;
    pff_checkpoint *ck = calloc(1, sizeof *ck);
    rbuf b = {p, n, 0, 1};
    load_step step = LOAD_OOM;
    if (!ck)
        goto fail;
    step = LOAD_BAD;
    if (n < 20 || memcmp(p, CK_MAGIC, 8) != 0) {
        snprintf(err, PFF_ERRLEN, "%s: not a pff checkpoint (bad magic; expected \"%s\")", path,
                 CK_MAGIC);
        goto fail;
    }
    if (pff_fnv1a(p, n - 8) != pff_get64(p + n - 8)) {
        snprintf(err, PFF_ERRLEN, "%s: checksum mismatch: the checkpoint is damaged or truncated",
                 path);
        goto fail;
    }
    b.n = n - 8;
    r_take(&b, 8);
    if ((step = read_settings(&b, ck, path, err)) != LOAD_OK ||
        (step = read_network(&b, ck, path, err)) != LOAD_OK ||
        (step = read_negatives(&b, ck, path, err)) != LOAD_OK ||
        (step = read_record(&b, pff_get32(p + 8), &ck->rec, path, err)) != LOAD_OK)
        goto fail;
    if (!b.ok || b.off != b.n) {
        snprintf(err, PFF_ERRLEN, "%s: truncated or invalid checkpoint (%zu of %zu bytes read)",
                 path, b.off, b.n);
        step = LOAD_BAD;
        goto fail;
    }
    free(p);
    *out = ck;
    return PFF_OK;
fail:
    if (step == LOAD_OOM)
        snprintf(err, PFF_ERRLEN, "%s: out of memory (or the checkpoint is truncated)", path);
    rc = step == LOAD_OOM && b.ok ? PFF_EFAIL : PFF_EUSAGE;
    free(p);
    pff_checkpoint_free(ck);
    return rc;
}

const pff_config *pff_checkpoint_config(const pff_checkpoint *ck) { return &ck->cfg; }
int pff_checkpoint_chapters(const pff_checkpoint *ck) { return ck->next; }
const pff_run_record *pff_checkpoint_record(const pff_checkpoint *ck) { return &ck->rec; }
