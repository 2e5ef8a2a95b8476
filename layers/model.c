/* layers/model.c — a model's settings and what it computes: the tables of
 * names of each enum, the default configuration and its checks, the memory a
 * run needs, and evaluation (pff_predict, pff_evaluate). The model and
 * checkpoint files are in data/ (data/model_file.c, data/checkpoint.c);
 * pff_model_free stays here beside the layers it frees. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layers.h"
#include "settings.h"

const char *pff_schedule_name(pff_schedule_kind s)
{
    return (unsigned)s < 4 ? pff_schedule_names[s] : "?";
}
const char *pff_neg_name(pff_neg_kind n) { return (unsigned)n < 4 ? pff_neg_names[n] : "?"; }
const char *pff_augment_name(pff_augment_kind a)
{
    return (unsigned)a < PFF_AUGMENT_KINDS ? pff_augment_names[a] : "?";
}

int pff_shift_max(pff_augment_kind a)
{
    return a == PFF_AUGMENT_SHIFT ? 2 : a == PFF_AUGMENT_SHIFT1 ? 1 : 0;
}

const char *pff_classifier_name(pff_classifier_kind c)
{
    return (unsigned)c < 2 ? pff_classifier_names[c] : "?";
}

void pff_model_config_default(pff_model_config *m)
{
    pff_settings_default(m, NULL);
}

int pff_default_nodes(pff_schedule_kind s, int nlayers)
{
    return s == PFF_SINGLE_LAYER ? nlayers : s == PFF_SEQUENTIAL ? 1 : 2;
}

void pff_config_default(pff_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    pff_settings_default(&cfg->model, &cfg->run);
}

double pff_memory_estimate(const pff_config *cfg, long n)
{
    double params = 0, wmax = cfg->model.widths[0], fdim = 0;
    for (int k = 0; k < cfg->model.nlayers; k++) {
        params += (double)cfg->model.widths[k] * cfg->model.widths[k + 1] + cfg->model.widths[k + 1];
        if (cfg->model.widths[k + 1] > wmax)
            wmax = cfg->model.widths[k + 1];
        if (k > 0 || cfg->model.nlayers == 1)
            fdim += cfg->model.widths[k + 1];
    }
    int N = cfg->run.schedule == PFF_SEQUENTIAL ? 1 : cfg->run.nodes;
    double per_node = 2.0 * n * (cfg->model.widths[0] + 2 * wmax) * 4 + params * 4 +
                      (cfg->model.classifier == PFF_CLS_SOFTMAX ? n * fdim * 4 : 0);
    return params * 12 + N * per_node;
}

/* The first setting of the parts given (NULL: skipped) out of its range, worded for a
 * library caller and the command line alike: "--dropout 1.5: expected a number in [0, 1)". */
int pff_check_settings(const pff_model_config *m, const pff_run_config *r, char *err)
{
    const pff_setting *s = pff_settings_bad(m, r);
    if (!s)
        return PFF_OK;
    char value[64], expected[160];
    pff_setting_text(s, m, r, value, sizeof value);
    pff_setting_expected(s, m ? m->nlayers : 0, expected, sizeof expected);
    snprintf(err, PFF_ERRLEN, "--%s %s: expected %s", s->flag, value, expected);
    return PFF_EUSAGE;
}

/* The recipe (cfg->model): what any run of it needs, whatever the schedule. */
static int check_recipe(const pff_model_config *m, int input_dim, char *err)
{
    const int L = m->nlayers;
    int rc;
    if (L < 1 || L > PFF_MAX_LAYERS) {
        snprintf(err, PFF_ERRLEN, "--layers: %d layers, expected 1..%d after the input width", L,
                 PFF_MAX_LAYERS);
        return PFF_EUSAGE;
    }
    if (m->widths[0] != input_dim) {
        snprintf(err, PFF_ERRLEN,
                 "--layers: input width %d, but the images have %d pixels (expected --layers %d,...)",
                 m->widths[0], input_dim, input_dim);
        return PFF_EUSAGE;
    }
    for (int k = 1; k <= L; k++)
        if (m->widths[k] < 1) {
            snprintf(err, PFF_ERRLEN, "--layers: width %d of layer %d, expected at least 1",
                     m->widths[k], k);
            return PFF_EUSAGE;
        }
    if ((rc = pff_check_settings(m, NULL, err)))
        return rc;
    if (m->epochs % m->splits) {
        snprintf(err, PFF_ERRLEN,
                 "--epochs %d --splits %d: epochs must be a positive multiple of splits "
                 "(each chapter trains epochs/splits whole epochs)",
                 m->epochs, m->splits);
        return PFF_EUSAGE;
    }
    if (m->augment != PFF_AUGMENT_NONE) {
        int side = (int)lround(sqrt((double)input_dim)), s = pff_shift_max(m->augment);
        if (side * side != input_dim || side <= 2 * s) {
            snprintf(err, PFF_ERRLEN,
                     "--augment %s: the images have %d pixels, not a square picture wider than "
                     "%d pixels",
                     pff_augment_name(m->augment), input_dim, 2 * s);
            return PFF_EUSAGE;
        }
    }
    return PFF_OK;
}

/* The run (cfg->run) against its recipe and data: nodes, threads and the options of one
 * schedule, the shards of federated runs, the machine's memory. */
static int check_run(const pff_config *cfg, long train_n, char *err)
{
    const int L = cfg->model.nlayers;
    int rc = pff_check_settings(NULL, &cfg->run, err);
    if (rc)
        return rc;
    /* layer k trains on the shifted images of each epoch mapped through layers < k (DESIGN.md
     * §2); with several epochs per chapter a node maps them once per epoch through the
     * chapter's layers below, which a single-layer node can only do from parameter snapshots */
    if (cfg->model.augment != PFF_AUGMENT_NONE && pff_inputs_per_epoch(&cfg->model) &&
        cfg->run.schedule == PFF_SINGLE_LAYER && !cfg->run.sl_recompute) {
        snprintf(err, PFF_ERRLEN,
                 "--augment %s with %d epochs per chapter on --schedule single-layer: "
                 "each epoch's shifted images must be mapped through the layers below, "
                 "which a node does from parameter snapshots: add --recompute (or give one "
                 "epoch per chapter, --splits %d)",
                 pff_augment_name(cfg->model.augment),
                 cfg->model.splits > 0 ? cfg->model.epochs / cfg->model.splits : 0,
                 cfg->model.epochs);
        return PFF_EUSAGE;
    }
    int N = cfg->run.nodes;
    if (cfg->run.schedule == PFF_SEQUENTIAL && N != 1) {
        snprintf(err, PFF_ERRLEN, "--nodes %d: the sequential schedule runs on 1 node", N);
        return PFF_EUSAGE;
    }
    if (cfg->run.schedule == PFF_SINGLE_LAYER && N != L) {
        snprintf(err, PFF_ERRLEN,
                 "--nodes %d: single-layer runs one node per FF layer; --layers has %d layers, so "
                 "use --nodes %d",
                 N, L, L);
        return PFF_EUSAGE;
    }
    if (cfg->run.fast && cfg->run.schedule != PFF_SINGLE_LAYER) {
        snprintf(err, PFF_ERRLEN, "--fast applies to --schedule single-layer only");
        return PFF_EUSAGE;
    }
    if (cfg->run.sl_recompute && cfg->run.schedule != PFF_SINGLE_LAYER) {
        snprintf(err, PFF_ERRLEN, "--recompute applies to --schedule single-layer only");
        return PFF_EUSAGE;
    }
    if (cfg->run.stale_adam && cfg->run.schedule != PFF_ALL_LAYERS &&
        cfg->run.schedule != PFF_FEDERATED) {
        snprintf(err, PFF_ERRLEN,
                 "--handoff weights applies to --schedule all-layers or federated only (layers "
                 "do not travel in the others)");
        return PFF_EUSAGE;
    }
    if (train_n < (long)N * cfg->model.batch && cfg->run.schedule == PFF_FEDERATED) {
        snprintf(err, PFF_ERRLEN, "--nodes %d: %ld training images cannot feed %d shards of a batch",
                 N, train_n, N);
        return PFF_EUSAGE;
    }
    double need = pff_memory_estimate(cfg, train_n);
    double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (have > 0 && need > have) {
        snprintf(err, PFF_ERRLEN,
                 "--layers: this network needs about %.1f GiB for %ld images, but the machine has "
                 "%.1f GiB of memory",
                 need / 1073741824.0, train_n, have / 1073741824.0);
        return PFF_EUSAGE;
    }
    return PFF_OK;
}

int pff_config_check(const pff_config *cfg, int input_dim, long train_n, char *err)
{
    int rc = check_recipe(&cfg->model, input_dim, err);
    return rc ? rc : check_run(cfg, train_n, err);
}

void pff_model_free(pff_model *m)
{
    if (m->layer)
        for (int k = 0; k < m->cfg.nlayers; k++)
            pff_layer_free(m->layer[k]);
    free(m->layer);
    pff_layer_free(m->head);
    free(m->history);
    m->layer = NULL;
    m->head = NULL;
    m->history = NULL;
    m->nhistory = 0;
}

/* ---- evaluation ---- */
int pff_predict(const pff_model *m, const float *img, long n, int threads, int *good_pred,
                int *soft_pred, float *scores, char *err)
{
    const pff_model_config *c = &m->cfg;
    const int L = c->nlayers;
    int wmax = 0;
    size_t maxp = 0;
    for (int k = 0; k <= L; k++)
        wmax = c->widths[k] > wmax ? c->widths[k] : wmax;
    for (int k = 0; k < L; k++)
        maxp = m->layer[k]->nparam > maxp ? m->layer[k]->nparam : maxp;
    pff_work w;
    float *table = malloc((size_t)n * PFF_CLASSES * sizeof(float));
    if (!table || pff_work_init(&w, 2, wmax, maxp, threads)) {
        free(table);
        snprintf(err, PFF_ERRLEN, "out of memory evaluating %ld images", n);
        return PFF_EFAIL;
    }
    pff_goodness_table(m->layer, L, pff_goodness_first(L, c->goodness_from), &w, img, n, c->widths[0],
                       NULL, table);
    for (long i = 0; i < n; i++)
        good_pred[i] = pff_table_argmax(table + (size_t)i * PFF_CLASSES, -1);
    if (scores)
        memcpy(scores, table, (size_t)n * PFF_CLASSES * sizeof(float));
    int rc = PFF_OK;
    if (m->head && soft_pred) {
        const int D = m->head->in;
        float *feat = malloc((size_t)n * D * sizeof(float));
        float *lg = malloc((size_t)n * PFF_CLASSES * sizeof(float));
        if (!feat || !lg) {
            snprintf(err, PFF_ERRLEN, "out of memory evaluating %ld images", n);
            rc = PFF_EFAIL;
        } else {
            pff_head_logits(m->layer, L, m->head, &w, img, n, c->widths[0], feat, n, lg);
            for (long i = 0; i < n; i++)
                soft_pred[i] = pff_table_argmax(lg + (size_t)i * PFF_CLASSES, -1);
        }
        free(feat);
        free(lg);
    }
    free(table);
    pff_work_free(&w);
    return rc;
}

/* Softmax probabilities of the head for n images: probs (n, 10) (what pff predict prints). */
int pff_head_softmax(const pff_model *m, const float *img, long n, int threads, float *probs,
                     char *err)
{
    const pff_model_config *c = &m->cfg;
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
    pff_head_logits(m->layer, L, m->head, &w, img, n, c->widths[0], feat, n, probs);
    for (long i = 0; i < n; i++) {
        float *r = probs + (size_t)i * PFF_CLASSES;
        float mx = -INFINITY;
        for (int j = 0; j < PFF_CLASSES; j++)
            mx = r[j] > mx ? r[j] : mx;
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

int pff_evaluate(const pff_model *m, const pff_dataset *d, int threads, double *goodness_acc,
                 double *softmax_acc, char *err)
{
    int *gp = malloc((size_t)d->n * sizeof(int)), *sp = malloc((size_t)d->n * sizeof(int));
    if (!gp || !sp) {
        free(gp);
        free(sp);
        snprintf(err, PFF_ERRLEN, "out of memory evaluating %d images", d->n);
        return PFF_EFAIL;
    }
    int rc = pff_predict(m, d->x, d->n, threads, gp, m->head ? sp : NULL, NULL, err);
    if (!rc) {
        long g = 0, s = 0;
        for (int i = 0; i < d->n; i++) {
            g += gp[i] == d->y[i];
            s += m->head && sp[i] == d->y[i];
        }
        *goodness_acc = d->n ? (double)g / d->n : 0.0;
        *softmax_acc = m->head && d->n ? (double)s / d->n : -1.0;
    }
    free(gp);
    free(sp);
    return rc;
}

/* Goodness accuracy of each layer alone and of each suffix of layers, as fractions: alone[k] sums
 * layer k+1 only, suffix[k] layers k+1..L (suffix[1] is the paper's rule when L > 1). Each is the
 * goodness classifier of the model cut to its first layers (alone) or given goodness_from k+1
 * (suffix), so suffix[K-1] is bit for bit what pff_evaluate gives with --goodness-from K. */
int pff_evaluate_layers(const pff_model *m, const pff_dataset *d, int threads, double *alone,
                        double *suffix, char *err)
{
    const int L = m->cfg.nlayers;
    for (int k = 0; k < L; k++) {
        pff_model cut = *m; /* shares the layers; no head: goodness only */
        cut.head = NULL;
        double soft;
        for (int which = 0; which < 2; which++) {
            cut.cfg.nlayers = which ? L : k + 1;
            cut.cfg.goodness_from = k + 1;
            int rc = pff_evaluate(&cut, d, threads, which ? &suffix[k] : &alone[k], &soft, err);
            if (rc)
                return rc;
        }
    }
    return PFF_OK;
}
