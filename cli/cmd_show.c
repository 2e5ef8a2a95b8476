/* cli/cmd_show.c — `pff show`: parse the command line, read what each picture needs (the model,
 * the training log, an IDX set, the accuracy logs), draw it (draw/pictures.c) and print the
 * "wrote FILE: ..." line, or the error, for each.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "pff.h"
#include "cli.h"
#include "data/data.h"
#include "data/image.h"
#include "data/log.h"
#include "draw/pictures.h"

/* --curves: from the log file when given, else from the model's chapter records. */
static int show_curves(const char *logpath, const pff_model *m, const char *path, char *msg,
                       char *err)
{
    pff_train_log g;
    int rc = logpath ? pff_log_read(logpath, &g, err) : pff_log_from_model(m, &g, err);
    if (rc)
        return rc;
    rc = pff_picture_curves(&g, logpath ? logpath : "the model's records", path, msg, err);
    pff_log_free(&g);
    return rc;
}

/* --accuracy: the curves of every [NAME=]LOG operand on one chart. */
static int show_accuracy(const char *path, char **files, int nfiles, char *msg, char *err)
{
    pff_acc_curve cv[PFF_ACC_MAX_CURVES];
    int n = 0, rc = 0;
    for (int i = 0; i < nfiles && !rc; i++)
        rc = pff_acc_read(files[i], cv, &n, err);
    if (!rc)
        rc = pff_picture_accuracy(path, cv, n, msg, err);
    pff_acc_free(cv, n);
    return rc;
}

/* --digit: test image index of the IDX set in dir. */
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
    const int side = pff_square_side(d.dim);
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
    rc = pff_picture_digit(d.x + (size_t)index * d.dim, side, (int)scale, path, err);
    if (!rc)
        snprintf(msg, PFF_ERRLEN, "wrote %s: test image %ld of %s, label %d (%dx%d px)", path,
                 index, dir, d.y[index], side * (int)scale, side * (int)scale);
    pff_dataset_free(&d);
    return rc;
}

static const pff_option show_opts[] = {
    {"weights", 1, "FILE.png first-layer receptive fields as a grid of tiles (needs MODEL)"},
    {"units", 1, "N        how many first-layer units --weights draws (default 100)"},
    {"curves", 1, "FILE.png training curves: from the MODEL's chapter records, or --log LOG"},
    {"log", 1, "FILE     log written by pff train --log FILE (CSV, or JSON Lines: .jsonl)"},
    {"accuracy", 1, "FILE.png accuracy against training seconds of the [NAME=]LOG... given"},
    {"digit", 1, "N        write test image N (0-based) of --data as the PNG --out"},
    {"data", 1, "DIR      directory of the IDX files (default data/mnist)"},
    {"out", 1, "FILE.png where --digit writes the image"},
    {"scale", 1, "K        magnify --weights tiles and --digit pixels K times (default 1)"},
    {"help", 0, "         this text"},
    {NULL, 0, NULL}};

/* What pff show was asked for, checked against each other before anything is read. */
typedef struct {
    const char *weights, *curves, *log, *digit, *out, *dir; /* the flags' values, or NULL */
    long units, scale, index; /* --units, --scale, --digit's number */
} show_request;

/* The pictures' flags of p, as given. */
static void show_read(const pff_parsed *p, const pff_option *O, show_request *q)
{
    q->weights = pff_cli_get(p, O, "weights");
    q->curves = pff_cli_get(p, O, "curves");
    q->log = pff_cli_get(p, O, "log");
    q->digit = pff_cli_get(p, O, "digit");
    q->out = pff_cli_get(p, O, "out");
    q->dir = pff_cli_get(p, O, "data") ? pff_cli_get(p, O, "data") : "data/mnist";
    q->units = 100, q->scale = 1, q->index = 0;
}

/* The pictures of q, checked: what each needs and what it excludes, the numbers in range, the
 * outputs writable. 0, or PFF_EUSAGE after a message naming the flag. */
static int show_check(const pff_parsed *p, const pff_option *O, show_request *q)
{
    const char *s;
    int rc;
    if (p->npos > 1) {
        fprintf(stderr, "pff show: unexpected argument '%s' (one MODEL at most)\n", p->pos[1]);
        return PFF_EUSAGE;
    }
    if (!q->weights && !q->curves && !q->digit) {
        fprintf(stderr, "pff show: nothing to show: give --weights FILE.png (with a MODEL), "
                        "--curves FILE.png --log LOG, or --digit N --out FILE.png\n");
        return PFF_EUSAGE;
    }
    if (q->weights && !p->npos) {
        fprintf(stderr, "pff show: --weights needs a MODEL file: pff show MODEL --weights %s\n",
                q->weights);
        return PFF_EUSAGE;
    }
    if ((q->curves && !q->log && !p->npos) || (q->log && !q->curves)) {
        fprintf(stderr, "pff show: %s\n",
                q->curves ? "--curves needs a MODEL (its chapter records) "
                            "or --log FILE (the CSV written by pff train --log)"
                          : "--log is read by --curves FILE.png only");
        return PFF_EUSAGE;
    }
    if (!q->digit != !q->out) {
        fprintf(stderr, "pff show: %s\n", q->digit ? "--digit needs --out FILE.png"
                                                   : "--out is written by --digit N only");
        return PFF_EUSAGE;
    }
    if ((s = pff_cli_get(p, O, "units")) && (rc = pff_cli_long("units", s, 1, 100000, &q->units)))
        return rc;
    if ((s = pff_cli_get(p, O, "scale")) && (rc = pff_cli_long("scale", s, 1, 16, &q->scale)))
        return rc;
    if (q->digit && (rc = pff_cli_long("digit", q->digit, 0, INT_MAX, &q->index)))
        return rc;
    if ((q->weights && (rc = pff_check_writable("weights", q->weights))) ||
        (q->curves && (rc = pff_check_writable("curves", q->curves))) ||
        (q->out && (rc = pff_check_writable("out", q->out))))
        return rc;
    return 0;
}

/* One picture's outcome: its "wrote FILE" line, or its error. */
static int said(int rc, const char *msg, const char *err)
{
    if (rc)
        fprintf(stderr, "pff show: %s\n", err);
    else
        printf("%s\n", msg);
    return rc;
}

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
               "(test_accuracy in percent, may be empty; val_accuracy for a --val run), or, for a\n"
               "FILE.jsonl, the same record as one JSON object per line.\n"
               "PNGs are written atomically.\n"
               "--accuracy reads logs with a seconds column (pff train --eval-every 1 --log) and\n"
               "reference files with the header name,seconds,accuracy,kind (kind: line | point).\n");
        return 0;
    }
    char err[PFF_ERRLEN], msg[PFF_ERRLEN];
    show_request q;
    show_read(&p, O, &q);
    const char *accuracy = pff_cli_get(&p, O, "accuracy");
    if (accuracy) { /* its operands are logs, not a MODEL */
        if (q.weights || q.curves || q.digit || q.log || q.out || !p.npos) {
            fprintf(stderr, "pff show: --accuracy FILE.png takes one or more [NAME=]LOG operands "
                            "and no other picture\n");
            return PFF_EUSAGE;
        }
        if ((rc = pff_check_writable("accuracy", accuracy)))
            return rc;
        return said(show_accuracy(accuracy, (char **)p.pos, p.npos, msg, err), msg, err);
    }
    if ((rc = show_check(&p, O, &q)))
        return rc;
    pff_model m;
    const int have_model = p.npos == 1;
    if (have_model && (rc = pff_model_load(&m, p.pos[0], err))) {
        fprintf(stderr, "pff: %s\n", err);
        return rc;
    }
    if (q.weights)
        rc = said(pff_picture_weights(m.layer[0], q.weights, q.units, q.scale, msg, err), msg, err);
    if (!rc && q.curves)
        rc = said(show_curves(q.log, have_model ? &m : NULL, q.curves, msg, err), msg, err);
    if (!rc && q.digit)
        rc = said(show_digit(q.dir, q.index, q.out, q.scale, have_model ? &m : NULL, msg, err), msg,
                  err);
    if (have_model)
        pff_model_free(&m);
    return rc;
}
