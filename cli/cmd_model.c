/* cli/cmd_model.c — the commands that read a saved model: `pff eval` (its accuracy on the test set,
 * with --confusion the confusion matrix), `pff info` (what the file holds) and `pff export`
 * (NumPy .npz and .safetensors, data/export.c). Each parses its options with the one parser
 * (cli.c), calls the library and prints the result, as text or one JSON object (--json). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pff.h"
#include "cli.h"
#include "data/export.h"
#include "layers/layers.h"

/* A saved model, or the reason it cannot be read, on stderr. */
static int load_model(pff_model *m, const char *path)
{
    char err[PFF_ERRLEN];
    int rc = pff_model_load(m, path, err);
    if (rc)
        fprintf(stderr, "pff: %s\n", err);
    return rc;
}

static const pff_option eval_opts[] = {
    {"data", 1, "DIR      directory of the IDX files (default data/mnist)"},
    {"test-limit", 1, "N        first N test images only"},
    {"val", 1, "N        measure the validation set of pff train --val N instead of the test set"},
    {"train-limit", 1, "N        with --val: as pff train --train-limit N (the set is cut from those)"},
    {"threads", 1, "T        worker threads (default: all cores)"},
    {"confusion", 1, "FILE.png confusion matrix: table on stdout (stderr with --json), heat map PNG"},
    {"goodness-from", 1, "K        the goodness classifier sums layers K..L (default: the model's)"},
    {"per-layer", 0, "         also the goodness accuracy of each layer alone and of layers K..L"},
    {"json", 0, "         one JSON object on stdout"},
    {"help", 0, "         this text"},
    {NULL, 0, NULL}};

/* The images pff eval measures: the test set, or with --val N the validation set pff train
 * --val N (after --train-limit) held out. Its image file's path into path[4096]. */
static int eval_images(const char *dir, long val, long train_limit, long test_limit,
                       pff_dataset *set, char *path, char *err)
{
    char lab[4096];
    snprintf(path, 4096, "%s/%s", dir, val ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte");
    snprintf(lab, sizeof lab, "%s/%s", dir, val ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte");
    int rc = pff_idx_load(path, lab, set, err);
    if (rc || !val) {
        if (!rc)
            pff_dataset_truncate(set, (int)test_limit);
        return rc;
    }
    pff_dataset all = *set;
    pff_dataset_truncate(&all, (int)train_limit);
    rc = pff_dataset_hold_out(&all, (int)val, set, err);
    pff_dataset_free(&all);
    return rc;
}

/* --per-layer: each layer alone and each suffix K..L (pff_evaluate_layers), as a table or a
 * JSON member. */
static void print_per_layer(const pff_model *m, const pff_dataset *d, const double *alone,
                            const double *suffix, int json)
{
    const int L = m->cfg.nlayers;
    if (json) {
        printf(",\"per_layer\":{\"alone\":[");
        for (int k = 0; k < L; k++)
            printf("%s%.4f", k ? "," : "", 100 * alone[k]);
        printf("],\"from\":[");
        for (int k = 0; k < L; k++)
            printf("%s%.4f", k ? "," : "", 100 * suffix[k]);
        printf("]}");
        return;
    }
    printf("goodness accuracy by layer (%d images):\n  layer  alone    layers K..%d\n", d->n, L);
    for (int k = 0; k < L; k++)
        printf("  %5d  %6.2f%%  %6.2f%%%s\n", k + 1, 100 * alone[k], 100 * suffix[k],
               pff_goodness_first(L, m->cfg.goodness_from) == k ? "  (the model's rule)" : "");
}

/* pff eval's result: the accuracies on the set (the validation set when val, else the test
 * set), then with --per-layer each layer's and each suffix's; one JSON object with json. */
static int eval_print(const char *path, const pff_model *m, const pff_dataset *set, int val,
                      double ga, double sa, int threads, int json, int per_layer)
{
    char err[PFF_ERRLEN];
    double alone[PFF_MAX_LAYERS], suffix[PFF_MAX_LAYERS];
    int rc;
    /* everything measured before anything is printed: a failure leaves no partial output */
    if (per_layer && (rc = pff_evaluate_layers(m, set, threads, alone, suffix, err))) {
        fprintf(stderr, "pff: %s\n", err);
        return rc;
    }
    if (json) {
        printf("{\"model\":");
        pff_json_str(stdout, path);
        printf(",\"set\":\"%s\",\"%s\":%d,\"goodness_from\":%d,\"goodness_accuracy\":",
               val ? "val" : "test", val ? "val_n" : "test_n", set->n,
               pff_goodness_first(m->cfg.nlayers, m->cfg.goodness_from) + 1);
        pff_json_acc(stdout, ga);
        printf(",\"softmax_accuracy\":");
        pff_json_acc(stdout, sa);
        if (per_layer)
            print_per_layer(m, set, alone, suffix, 1);
        printf("}\n");
        return PFF_OK;
    }
    printf("%s: %.2f%% (goodness", path, 100 * ga);
    if (m->cfg.goodness_from)
        printf(" of layers %d..%d", m->cfg.goodness_from, m->cfg.nlayers);
    printf(")");
    if (sa >= 0)
        printf(", %.2f%% (softmax)", 100 * sa);
    printf(" on %d %s images\n", set->n, val ? "validation" : "test");
    if (per_layer)
        print_per_layer(m, set, alone, suffix, 0);
    return PFF_OK;
}

int pff_cmd_eval(int argc, char **argv)
{
    const pff_option *O = eval_opts;
    pff_parsed p;
    int rc = pff_cli_start(argc, argv, O, "pff eval MODEL [options]", 1, "one MODEL file", &p);
    if (rc)
        return rc == PFF_DONE ? PFF_OK : rc;
    long threads = pff_cores(), limit = 0, from = 0, val = 0, train_limit = 0;
    const char *s;
    /* the layer is checked against the model once it is loaded */
    const char *from_arg = pff_cli_get(&p, O, "goodness-from");
    if (from_arg && (rc = pff_cli_long("goodness-from", from_arg, 1, PFF_MAX_LAYERS, &from)))
        return rc;
    if ((s = pff_cli_get(&p, O, "threads")) && (rc = pff_cli_long("threads", s, 1, PFF_MAX_THREADS, &threads)))
        return rc;
    if ((s = pff_cli_get(&p, O, "test-limit")) && (rc = pff_cli_long("test-limit", s, 1, INT_MAX, &limit)))
        return rc;
    if ((s = pff_cli_get(&p, O, "val")) && (rc = pff_cli_long("val", s, 1, INT_MAX, &val)))
        return rc;
    if ((s = pff_cli_get(&p, O, "train-limit")) &&
        (rc = pff_cli_long("train-limit", s, 1, INT_MAX, &train_limit)))
        return rc;
    if ((val && limit) || (!val && train_limit)) {
        fprintf(stderr, "pff: --%s applies to the %s set; %s\n", val ? "test-limit" : "train-limit",
                val ? "test" : "validation", val ? "drop it or --val" : "add --val N or drop it");
        return PFF_EUSAGE;
    }
    const char *confusion = pff_cli_get(&p, O, "confusion");
    if (confusion && (rc = pff_check_writable("confusion", confusion)))
        return rc;
    const int json = pff_cli_has(&p, O, "json"), per_layer = pff_cli_has(&p, O, "per-layer");
    char err[PFF_ERRLEN];
    pff_model m;
    if ((rc = load_model(&m, p.pos[0])))
        return rc;
    if (from_arg && (rc = pff_cli_goodness_from(from_arg, m.cfg.nlayers, &m.cfg.goodness_from))) {
        pff_model_free(&m);
        return rc;
    }
    const char *dir = pff_cli_get(&p, O, "data") ? pff_cli_get(&p, O, "data") : "data/mnist";
    char a[4096];
    pff_dataset set;
    if ((rc = eval_images(dir, val, train_limit, limit, &set, a, err))) {
        fprintf(stderr, "pff: %s\n", err);
        pff_model_free(&m);
        return rc;
    }
    double ga, sa;
    if (set.dim != m.cfg.widths[0]) {
        fprintf(stderr, "pff: %s: images have %d pixels, the model expects %d\n", a, set.dim,
                m.cfg.widths[0]);
        rc = PFF_EUSAGE;
    } else if ((rc = pff_evaluate(&m, &set, (int)threads, &ga, &sa, err))) {
        fprintf(stderr, "pff: %s\n", err);
    } else {
        rc = eval_print(p.pos[0], &m, &set, val > 0, ga, sa, (int)threads, json, per_layer);
    }
    if (!rc && confusion &&
        (rc = pff_confusion_model(&m, &set, (int)threads, confusion, json ? stderr : stdout, err)))
        fprintf(stderr, "pff: %s\n", err);
    pff_dataset_free(&set);
    pff_model_free(&m);
    return rc;
}

static const pff_option info_opts[] = {{"json", 0, "         one JSON object on stdout"},
                                   {"help", 0, "         this text"},
                                   {NULL, 0, NULL}};

int pff_cmd_info(int argc, char **argv)
{
    const pff_option *O = info_opts;
    pff_parsed p;
    int rc = pff_cli_start(argc, argv, O, "pff info MODEL [options]", 1, "one MODEL file", &p);
    if (rc)
        return rc == PFF_DONE ? PFF_OK : rc;
    pff_model m;
    if ((rc = load_model(&m, p.pos[0])))
        return rc;
    const pff_model_config *c = &m.cfg;
    long params = 0;
    for (int k = 0; k < c->nlayers; k++)
        params += (long)c->widths[k] * c->widths[k + 1] + c->widths[k + 1];
    long head = m.head ? (long)m.head->in * PFF_CLASSES + PFF_CLASSES : 0;
    if (pff_cli_has(&p, O, "json")) {
        printf("{\"model\":");
        pff_json_str(stdout, p.pos[0]);
        printf(",\"layers\":");
        pff_json_ints(stdout, c->widths, c->nlayers + 1);
        printf(",\"parameters\":%ld,\"softmax_parameters\":%ld", params, head);
        pff_json_settings(stdout, c, NULL);
        printf("}\n");
    } else {
        printf("model          %s\nlayers         %d", p.pos[0], c->widths[0]);
        for (int k = 1; k <= c->nlayers; k++)
            printf(",%d", c->widths[k]);
        printf("\nparameters     %ld FF", params);
        if (head)
            printf(" + %ld softmax head", head);
        printf("\n");
        /* every setting the model file records, in the table's order (layers/settings.h) */
        for (int i = 0; i < pff_nsettings; i++)
            if (pff_settings[i].stored == PFF_STORED_MODEL) {
                char value[64];
                pff_setting_text(&pff_settings[i], c, NULL, value, sizeof value);
                printf("%-14s %s\n", pff_settings[i].name, value);
            }
    }
    pff_model_free(&m);
    return 0;
}

static const pff_option export_opts[] = {{"help", 0, "         this text"}, {NULL, 0, NULL}};

/* pff export MODEL OUT: OUT ending in .npz or .safetensors names one file of
 * that format; any other OUT is a stem for both, OUT.npz and OUT.safetensors. */
int pff_cmd_export(int argc, char **argv)
{
    pff_parsed p;
    int rc = pff_cli_start(argc, argv, export_opts, "pff export MODEL OUT", 2,
                           "a MODEL file and OUT", &p);
    if (rc == PFF_DONE) {
        printf("\nOUT.npz (NumPy: numpy.load) and OUT.safetensors; an OUT ending in .npz or\n"
               ".safetensors writes that file only. Arrays layerK.weight (out, in), layerK.bias,\n"
               "head.weight, head.bias (softmax head), float32; the configuration as JSON in\n"
               "config (npz) and __metadata__ (safetensors). See tests/example.py.\n");
        return PFF_OK;
    }
    if (rc)
        return rc;
    const char *out = p.pos[1], *dot = strrchr(out, '.');
    const size_t len = strlen(out);
    int which = PFF_EXPORT_NPZ | PFF_EXPORT_SAFETENSORS;
    if (dot && !strcmp(dot, ".npz"))
        which = PFF_EXPORT_NPZ;
    else if (dot && !strcmp(dot, ".safetensors"))
        which = PFF_EXPORT_SAFETENSORS;
    if (!len || out[len - 1] == '/') {
        fprintf(stderr, "pff export: OUT '%s' names a directory; expected a file name such as "
                        "model or model.npz\n", out);
        return PFF_EUSAGE;
    }
    char *npz = malloc(len + 16), *st = malloc(len + 16);
    char err[PFF_ERRLEN];
    pff_model m;
    if (!npz || !st) {
        fprintf(stderr, "pff export: out of memory\n");
        rc = PFF_EFAIL;
    } else if (!(rc = load_model(&m, p.pos[0]))) {
        snprintf(npz, len + 16, which == PFF_EXPORT_NPZ ? "%s" : "%s.npz", out);
        snprintf(st, len + 16, which == PFF_EXPORT_SAFETENSORS ? "%s" : "%s.safetensors", out);
        if ((rc = pff_export(&m, which, npz, st, err)))
            fprintf(stderr, "pff export: %s\n", err);
        else
            fprintf(stderr, "pff export: wrote%s%s%s%s\n", which & PFF_EXPORT_NPZ ? " " : "",
                    which & PFF_EXPORT_NPZ ? npz : "", which & PFF_EXPORT_SAFETENSORS ? " " : "",
                    which & PFF_EXPORT_SAFETENSORS ? st : "");
        pff_model_free(&m);
    }
    free(npz);
    free(st);
    return rc;
}
