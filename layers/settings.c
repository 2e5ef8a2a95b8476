/* layers/settings.c — the table of settings (settings.h says who reads it) and the enum name
 * tables it points to. Rows that a file stores come in the order the file holds them:
 * the version-2 recipe, the run (checkpoints only), then the fields of versions 3 to 5. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "settings.h"

const char *const pff_schedule_names[4] = {"sequential", "single-layer", "all-layers",
                                            "federated"};
const char *const pff_neg_names[4] = {"adaptive", "fixed", "random", "hard"};
const char *const pff_classifier_names[2] = {"goodness", "softmax"};
const char *const pff_shard_names[2] = {"iid", "label-skew"};
const char *const pff_augment_names[PFF_AUGMENT_KINDS] = {"none", "shift", "shift1"};
static const char *const handoff_names[2] = {"full", "weights"}; /* run.stale_adam 0, 1 */
static const char *const transport_names[2] = {"threads", "mpi"};
static const unsigned char neg_versions[4] = {2, 2, 2, 3}; /* hard came with version 3 */

/* an enum is stored in an int: the table reads and writes them so */
_Static_assert(sizeof(pff_neg_kind) == sizeof(int) && sizeof(pff_schedule_kind) == sizeof(int) &&
                   sizeof(pff_augment_kind) == sizeof(int) &&
                   sizeof(pff_classifier_kind) == sizeof(int) &&
                   sizeof(pff_shard_kind) == sizeof(int) && sizeof(pff_transport_kind) == sizeof(int),
               "enums are int-sized");

#define M(f) PFF_STORED_MODEL, offsetof(pff_model_config, f)
#define R(f) PFF_STORED_RUN, offsetof(pff_run_config, f)
#define NONE(f) PFF_STORED_NONE, offsetof(pff_run_config, f)
#define KINDS(t) t, (int)(sizeof t / sizeof t[0])
#define POS 0, FLT_MAX, PFF_OPEN_LO /* a positive float */

const pff_setting pff_settings[] = {
    /* name, flag, metavar, help, default in words,
       type, stored + field, lo, hi, open, default, names, version, version of each name */
    {"threshold", "threshold", "X", "goodness threshold per unit: theta = X * width", NULL,
     PFF_SET_REAL, M(threshold), POS, 1, NULL, 0, 2, NULL},
    {"epochs", "epochs", "E", "total epochs", NULL,
     PFF_SET_INT, M(epochs), 1, 1000000, 0, 10, NULL, 0, 2, NULL},
    {"splits", "splits", "S", "chapters; E must be a multiple of S", NULL,
     PFF_SET_INT, M(splits), 1, 1000000, 0, 5, NULL, 0, 2, NULL},
    {"batch", "batch", "B", "images per batch", NULL,
     PFF_SET_INT, M(batch), 1, PFF_MAX_BATCH, 0, 64, NULL, 0, 2, NULL},
    {"lr", "lr", "X", "Adam learning rate of the FF layers", NULL,
     PFF_SET_REAL, M(lr), POS, 0.001, NULL, 0, 2, NULL},
    {"softmax_lr", "softmax-lr", "X", "Adam learning rate of the softmax head", NULL,
     PFF_SET_REAL, M(softmax_lr), POS, 0.001, NULL, 0, 2, NULL},
    {"neg", "neg", "KIND", "negatives", NULL,
     PFF_SET_KIND, M(neg), 0, 0, 0, PFF_NEG_ADAPTIVE, KINDS(pff_neg_names), 2, neg_versions},
    {"classifier", "classifier", "KIND", "classifier", NULL,
     PFF_SET_KIND, M(classifier), 0, 0, 0, PFF_CLS_GOODNESS, KINDS(pff_classifier_names), 2, NULL},
    {"seed", "seed", "N", "random seed", NULL,
     PFF_SET_SEED, M(seed), 0, 0, 0, 1, NULL, 0, 2, NULL},

    {"schedule", "schedule", "NAME", "schedule", NULL,
     PFF_SET_KIND, R(schedule), 0, 0, 0, PFF_SEQUENTIAL, KINDS(pff_schedule_names), 2, NULL},
    {"nodes", "nodes", "N", "pipeline node threads",
     "1; single-layer: one per layer; all-layers, federated: 2",
     PFF_SET_INT, R(nodes), 1, PFF_MAX_NODES, 0, 1, NULL, 0, 2, NULL},
    {"threads", "threads", "T", "worker threads per node", "cores / nodes",
     PFF_SET_INT, R(threads), 1, PFF_MAX_THREADS, 0, 1, NULL, 0, 2, NULL},
    {"fast", "fast", "", "single-layer: take adaptive negatives as they arrive (paper)", NULL,
     PFF_SET_FLAG, R(fast), 0, 1, 0, 0, NULL, 0, 2, NULL},
    {"shards", "shards", "KIND", "federated shards", NULL,
     PFF_SET_KIND, R(shards), 0, 0, 0, PFF_SHARDS_IID, KINDS(pff_shard_names), 2, NULL},
    {"handoff", "handoff", "WHAT",
     "what a layer carries (all-layers; weights: the paper's)", NULL,
     PFF_SET_KIND, R(stale_adam), 0, 0, 0, 0, KINDS(handoff_names), 2, NULL},
    {"recompute", "recompute", "",
     "single-layer: recompute lower layers instead of receiving activations", NULL,
     PFF_SET_FLAG, R(sl_recompute), 0, 1, 0, 0, NULL, 0, 2, NULL},
    {"eval_every", "eval-every", "K",
     "validation (else test) accuracy every K chapters, in the log", "0: never",
     PFF_SET_INT, R(eval_every), 0, 1000000, 0, 0, NULL, 0, 2, NULL},

    {"augment", "augment", "KIND", "a keyed move of every image each epoch, +-2 or +-1 px",
     NULL, PFF_SET_KIND, M(augment), 0, 0, 0, PFF_AUGMENT_NONE, KINDS(pff_augment_names), 3, NULL},
    {"hard_temp", "hard-temp", "T", "--neg hard: wrong label j drawn with P ~ exp(G_j / T)", NULL,
     PFF_SET_REAL, M(hard_temp), POS, 1, NULL, 0, 3, NULL},
    {"dropout", "dropout", "P", "drop FF activities with probability P in training", "0: off",
     PFF_SET_REAL, M(dropout), 0, 1, PFF_OPEN_HI, 0, NULL, 0, 4, NULL},
    {"weight_decay", "weight-decay", "L", "decoupled (AdamW) decay of the FF weights", "0: off",
     PFF_SET_REAL, M(weight_decay), 0, FLT_MAX, 0, 0, NULL, 0, 4, NULL},
    {"goodness_from", "goodness-from", "K", "the goodness classifier sums layers K..L",
     "2, the paper's rule; 1: all", PFF_SET_LAYER, M(goodness_from), 0, 0, 0, 0, NULL, 0, 5, NULL},

    {"transport", "transport", "KIND", "transport (mpi: one rank per node, under mpirun)",
     NULL, PFF_SET_KIND, NONE(transport), 0, 0, 0, PFF_TRANSPORT_THREADS, KINDS(transport_names),
     2, NULL},
};
const int pff_nsettings = (int)(sizeof pff_settings / sizeof pff_settings[0]);

const pff_setting *pff_setting_find(const char *name)
{
    for (int i = 0; i < pff_nsettings; i++)
        if (!strcmp(pff_settings[i].name, name) || !strcmp(pff_settings[i].flag, name))
            return &pff_settings[i];
    return NULL;
}

void *pff_setting_field(const pff_setting *s, pff_model_config *m, pff_run_config *r)
{
    char *base = s->stored == PFF_STORED_MODEL ? (char *)m : (char *)r;
    return base ? base + s->offset : NULL;
}

const void *pff_setting_cfield(const pff_setting *s, const pff_model_config *m,
                               const pff_run_config *r)
{
    return pff_setting_field(s, (pff_model_config *)m, (pff_run_config *)r);
}

double pff_setting_get(const pff_setting *s, const pff_model_config *m, const pff_run_config *r)
{
    const void *f = pff_setting_cfield(s, m, r);
    if (!f)
        return 0;
    switch (s->type) {
    case PFF_SET_REAL: return *(const float *)f;
    case PFF_SET_SEED: return (double)(*(const uint64_t *)f & ((1ull << 53) - 1));
    default: return *(const int *)f;
    }
}

void pff_setting_set(const pff_setting *s, pff_model_config *m, pff_run_config *r, double v)
{
    void *f = pff_setting_field(s, m, r);
    if (!f)
        return;
    switch (s->type) {
    case PFF_SET_REAL: *(float *)f = (float)v; break;
    case PFF_SET_SEED: *(uint64_t *)f = (uint64_t)v; break;
    default: *(int *)f = (int)v;
    }
}

void pff_settings_default(pff_model_config *m, pff_run_config *r)
{
    if (m) {
        memset(m, 0, sizeof *m);
        m->nlayers = 3;
        m->widths[0] = 784;
        m->widths[1] = m->widths[2] = m->widths[3] = 500;
    }
    if (r)
        memset(r, 0, sizeof *r);
    for (int i = 0; i < pff_nsettings; i++)
        pff_setting_set(&pff_settings[i], m, r, pff_settings[i].def);
}

int pff_setting_ok(const pff_setting *s, const pff_model_config *m, const pff_run_config *r)
{
    const void *f = pff_setting_cfield(s, m, r);
    if (!f || s->type == PFF_SET_SEED)
        return 1;
    double v = pff_setting_get(s, m, r);
    switch (s->type) {
    case PFF_SET_REAL:
        return isfinite(v) && ((s->open & PFF_OPEN_LO) ? v > s->lo : v >= s->lo) &&
               ((s->open & PFF_OPEN_HI) ? v < s->hi : v <= s->hi);
    case PFF_SET_KIND: return v >= 0 && v < s->nnames;
    case PFF_SET_LAYER: {
        /* 0 names the paper's rule; a layer that is the rule's own first layer is written 0 */
        const int L = m->nlayers, k = (int)v;
        return k == 0 || (k >= 1 && k <= L && pff_goodness_first(L, k) != pff_goodness_first(L, 0));
    }
    default: return v >= s->lo && v <= s->hi; /* INT, FLAG */
    }
}

const pff_setting *pff_settings_bad(const pff_model_config *m, const pff_run_config *r)
{
    for (int i = 0; i < pff_nsettings; i++)
        if (pff_setting_cfield(&pff_settings[i], m, r) && !pff_setting_ok(&pff_settings[i], m, r))
            return &pff_settings[i];
    return NULL;
}

void pff_setting_expected(const pff_setting *s, int nlayers, char *buf, size_t n)
{
    switch (s->type) {
    case PFF_SET_INT: snprintf(buf, n, "%.0f..%.0f", s->lo, s->hi); break;
    case PFF_SET_FLAG: snprintf(buf, n, "0 or 1"); break;
    case PFF_SET_SEED: snprintf(buf, n, "a non-negative integer"); break;
    case PFF_SET_LAYER:
        snprintf(buf, n, "a layer 1..%d (0: the paper's rule)", nlayers);
        break;
    case PFF_SET_KIND: {
        size_t len = (size_t)snprintf(buf, n, "one of");
        for (int i = 0; i < s->nnames && len < n; i++)
            len += (size_t)snprintf(buf + len, n - len, "%s %s", i ? "," : "", s->names[i]);
        break;
    }
    case PFF_SET_REAL:
        if (s->hi >= FLT_MAX && s->lo == 0)
            snprintf(buf, n, (s->open & PFF_OPEN_LO) ? "a positive number" : "a number >= 0");
        else
            snprintf(buf, n, "a number in %c%g, %g%c", (s->open & PFF_OPEN_LO) ? '(' : '[', s->lo,
                     s->hi, (s->open & PFF_OPEN_HI) ? ')' : ']');
        break;
    }
}

void pff_setting_text(const pff_setting *s, const pff_model_config *m, const pff_run_config *r,
                      char *buf, size_t n)
{
    const void *f = pff_setting_cfield(s, m, r);
    double v = pff_setting_get(s, m, r);
    if (!f)
        snprintf(buf, n, "?");
    else if (s->type == PFF_SET_SEED)
        snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)f);
    else if (s->type == PFF_SET_KIND && v >= 0 && v < s->nnames)
        snprintf(buf, n, "%s", s->names[(int)v]);
    else if (s->type == PFF_SET_LAYER && m->nlayers >= 1 && pff_setting_ok(s, m, r))
        snprintf(buf, n, "%d", pff_goodness_first(m->nlayers, (int)v) + 1);
    else
        snprintf(buf, n, "%g", v);
}

void pff_setting_json(const pff_setting *s, const pff_model_config *m, const pff_run_config *r,
                      int exact, char *buf, size_t n)
{
    double v = pff_setting_get(s, m, r);
    if (s->type == PFF_SET_KIND) {
        char name[64];
        pff_setting_text(s, m, r, name, sizeof name);
        snprintf(buf, n, "\"%s\"", name); /* names are plain words: nothing to escape */
    } else if (s->type == PFF_SET_FLAG)
        snprintf(buf, n, "%s", v ? "true" : "false");
    else if (s->type == PFF_SET_REAL)
        snprintf(buf, n, exact ? "%.9g" : "%g", v);
    else
        pff_setting_text(s, m, r, buf, n);
}

int pff_setting_used(const pff_setting *s, const pff_model_config *m)
{
    if (s->stored != PFF_STORED_MODEL)
        return 0;
    double v = pff_setting_get(s, m, NULL);
    if (s->type == PFF_SET_REAL)
        return (float)v != (float)s->def;
    return v != s->def;
}

unsigned pff_settings_version(const pff_model_config *m)
{
    unsigned version = 2;
    for (int i = 0; i < pff_nsettings; i++) {
        const pff_setting *s = &pff_settings[i];
        unsigned need = pff_setting_used(s, m) ? s->version : 2;
        if (s->stored == PFF_STORED_MODEL && s->kind_version) {
            int v = (int)pff_setting_get(s, m, NULL);
            if (v >= 0 && v < s->nnames && s->kind_version[v] > need)
                need = s->kind_version[v];
        }
        if (need > version)
            version = need;
    }
    return version;
}
