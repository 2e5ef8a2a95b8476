/* cli/cmd_predict.c — `pff predict MODEL IMAGE...` and the confusion matrix of `pff eval
 * --confusion`: parse the command line, call the loaders and the model (pff_predict,
 * pff_head_softmax), print the results.
 *
 * An image that cannot be read is reported on stderr and skipped; the others are still
 * classified and printed, and the exit status is then PFF_EUSAGE (2) (PFF_EFAIL when one failed
 * for want of memory). Images go through data/image.c (pff_image_load), the confusion heat map
 * through draw/pictures.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pff.h"
#include "cli.h"
#include "data/image.h"
#include "draw/pictures.h"

/* ------------------------------------------------------------------------ */
/* pff predict                                                              */

static const pff_option predict_opts[] = {
    {"json", 0, "         one JSON object per image per line on stdout"},
    {"invert", 0, "         dark digit on a light background (scans, drawings)"},
    {"no-resize", 0, "         refuse images whose size differs from the model's input"},
    {"threads", 1, "T        worker threads (default: all cores)"},
    {"goodness-from", 1, "K        the goodness classifier sums layers K..L (default: the model's)"},
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

/* One image's result: a JSON object on one line, or the label line and the table of scores. */
static void print_prediction(const char *file, int json, int use_soft, int has_head, int gl,
                             int sl, const float *sc, const float *pr)
{
    const int label = use_soft ? sl : gl;
    if (json) {
        printf("{\"file\":");
        pff_json_str(stdout, file);
        printf(",\"label\":%d,\"classifier\":\"%s\",\"goodness_label\":%d,\"scores\":[", label,
               use_soft ? "softmax" : "goodness", gl);
        for (int j = 0; j < PFF_CLASSES; j++) {
            printf("%s", j ? "," : "");
            pff_json_num(stdout, "%.6g", sc[j]);
        }
        printf("]");
        if (has_head) {
            printf(",\"softmax_label\":%d,\"softmax\":[", sl);
            for (int j = 0; j < PFF_CLASSES; j++) {
                printf("%s", j ? "," : "");
                pff_json_num(stdout, "%.6g", pr[j]);
            }
            printf("]");
        }
        printf("}\n");
        return;
    }
    if (use_soft)
        printf("%s: label %d (softmax %.3f; goodness label %d)\n", file, label,
               (double)pr[label], gl);
    else if (has_head)
        printf("%s: label %d (goodness %.1f; softmax label %d, %.3f)\n", file, label,
               (double)sc[label], sl, (double)pr[sl]);
    else
        printf("%s: label %d (goodness %.1f)\n", file, label, (double)sc[label]);
    printf("  label    ");
    for (int j = 0; j < PFF_CLASSES; j++)
        printf(" %9d", j);
    printf("\n  goodness ");
    for (int j = 0; j < PFF_CLASSES; j++)
        printf(" %9.1f", (double)sc[j]);
    if (has_head) {
        printf("\n  softmax  ");
        for (int j = 0; j < PFF_CLASSES; j++)
            printf(" %9.4f", (double)pr[j]);
    }
    printf("\n");
}

/* Reads the n image files, classifies those that load with model m and prints one result each
 * (print_prediction). A bad image is reported and skipped: the others are still classified, and
 * the exit status is then 2 (1 when the failure was not the file's fault). */
static int predict_files(const pff_model *m, char **files, int n, int side, int threads,
                         int invert, int resize, int json)
{
    const int dim = m->cfg.widths[0];
    char err[PFF_ERRLEN];
    int rc = PFF_OK;
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
        int r = pff_image_load(files[i], side, invert, resize, img + (size_t)ng * dim, &w, &h, err);
        if (r) {
            fprintf(stderr, "pff predict: %s\n", err);
            bad = bad == PFF_EFAIL ? bad : r;
            continue;
        }
        good[ng++] = files[i];
    }
    if (ng > 0) {
        if ((rc = pff_predict(m, img, ng, threads, gp, m->head ? sp : NULL, scores, err)) ||
            (m->head && (rc = pff_head_softmax(m, img, ng, threads, probs, err)))) {
            fprintf(stderr, "pff predict: %s\n", err);
            goto done;
        }
    }
    const int use_soft = m->head && m->cfg.classifier == PFF_CLS_SOFTMAX;
    for (int i = 0; i < ng; i++)
        print_prediction(good[i], json, use_soft, m->head != NULL, gp[i], m->head ? sp[i] : -1,
                         scores + (size_t)i * PFF_CLASSES, probs + (size_t)i * PFF_CLASSES);
    fflush(stdout);
    rc = bad;
done:
    free(img);
    free(scores);
    free(probs);
    free(gp);
    free(sp);
    free(good);
    return rc;
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
    long threads = pff_cores();
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
        rc = pff_cli_long("threads", s, 1, PFF_MAX_THREADS, &threads);
    /* the layer is checked against the model once it is loaded */
    const char *from_arg = pff_cli_get(&p, O, "goodness-from");
    long from;
    if (!rc && from_arg)
        rc = pff_cli_long("goodness-from", from_arg, 1, PFF_MAX_LAYERS, &from);
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
    if (from_arg && (rc = pff_cli_goodness_from(from_arg, m.cfg.nlayers, &m.cfg.goodness_from))) {
        pff_model_free(&m);
        goto out;
    }
    const int dim = m.cfg.widths[0], side = pff_square_side(dim);
    if (!side) {
        fprintf(stderr, "pff predict: %s: the model's input width %d is not a square image "
                        "(expected e.g. 784 = 28x28)\n", files[0], dim);
        pff_model_free(&m);
        rc = PFF_EUSAGE;
        goto out;
    }
    rc = predict_files(&m, files + 1, nfiles - 1, side, (int)threads, invert, resize, json);
    pff_model_free(&m);
out:
    free(oargv);
    free(files);
    return rc;
}
