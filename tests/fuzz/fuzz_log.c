/* tests/fuzz/fuzz_log.c — libFuzzer target for the training-log readers (data/log.c) and the
 * two charts drawn from what they read (draw/pictures.c).
 *
 * One fuzz input is one log, written twice per run to temporary paths per process
 * ($PFF_FUZZ_TMPDIR, else /dev/shm when writable, else /tmp; the names carry the pid): as
 * in.csv, and as in.jsonl, which the readers take for the JSON Lines log. Both readers take each:
 *
 *   pff_log_read    as `pff show --curves --log FILE` does, then pff_picture_curves;
 *   pff_acc_read    as `pff show --accuracy OUT fuzz=FILE` does, then pff_picture_accuracy.
 *
 * Oracles (__builtin_trap when violated; a hang is libFuzzer's -timeout):
 *   on failure  rc is PFF_EUSAGE or PFF_EFAIL, the message is non-empty and names the file,
 *               and nothing is left allocated (the log's arrays NULL, no curve appended);
 *   log         rows >= 1, 1 <= L <= PFF_MAX_LAYERS, every chapter a whole number in
 *               1..1000000, every accuracy NaN (empty) or in 0..100, has_acc exactly when one
 *               is a number, and then what it measured named; the chart is drawn (PFF_OK);
 *   curves      at least one, each with a NUL-terminated name and at least one point, every
 *               point's seconds finite and > 0 and its accuracy in 0..100; the chart is drawn.
 *
 * PFF_FUZZ_WRITE_SEEDS=DIR ./fuzz_log writes the seed corpus (logs of pff train, a --val log, a
 * reference file, and one input per refusal) into DIR and exits (`make fuzz-seeds`).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>

#include "data/log.h"
#include "draw/pictures.h"
#include "pff.h"
#include "tests/fuzz/fuzz_common.h"

static char csv_path[256], jsonl_path[256], png_path[270];
static const char *in_path; /* the one of the two being read */

static void remove_png(void)
{
    unlink(png_path);
}

static void init_paths(void)
{
    if (csv_path[0])
        return;
    fuzz_init_paths(csv_path, jsonl_path, sizeof csv_path, "log", "in.csv", "in.jsonl");
    snprintf(png_path, sizeof png_path, "%s.png", csv_path);
    atexit(remove_png);
}

/* ---- seed corpus ---- */
static void seed(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_file(path, (const uint8_t *)text, strlen(text));
}

static void write_seeds(const char *dir)
{
    /* accepted */
    seed(dir, "log-two-layers",
         "chapter,epoch,lr,loss_1,loss_2,gpos_1,gpos_2,gneg_1,gneg_2,seconds,test_accuracy\n"
         "1,2,0.001,13.7,15.1,98.1,95.0,97.2,95.1,0.030,5.0000\n"
         "2,4,0.001,4.61,6.61,102.0,98.7,96.7,100.3,0.058,\n"
         "3,6,0.0005,2.84,4.42,102.7,99.0,96.3,100.2,0.112,19.0000\n");
    seed(dir, "log-val", "# a comment\nchapter,epoch,lr,loss_1,seconds,val_accuracy\n"
                         "1,1,0.001,0.6,1.5,91.5\n\n2,2,0.001,0.5,3.0,93.0\n");
    seed(dir, "log-no-seconds", "chapter,epoch,lr,loss_1,gpos_1,gneg_1,test_accuracy\n1,1,0.1,0.5,9,3,50\n");
    seed(dir, "reference", "name,seconds,accuracy,kind\nother,100,95.0,line\nother,300,97.0,line\n"
                           "paper,7000,98.3,point\n");
    /* refused, one reason each */
    seed(dir, "bad-chapter-huge", "chapter,epoch,lr,loss_1\n1e18,1,0.1,0.5\n");
    seed(dir, "bad-chapter-fraction", "chapter,epoch,lr,loss_1\n1.5,1,0.1,0.5\n");
    seed(dir, "bad-accuracy-101", "chapter,epoch,lr,loss_1,seconds,test_accuracy\n1,1,0.1,0.5,1,101\n");
    seed(dir, "bad-reference-empty-curve", "name,seconds,accuracy,kind\na,nan,50,line\nb,10,90,line\n");
    seed(dir, "bad-kind", "name,seconds,accuracy,kind\nx,10,99,curve\n");
    seed(dir, "bad-seconds-negative", "name,seconds,accuracy,kind\nx,-3,99,line\n");
    seed(dir, "bad-fields", "chapter,epoch,lr,loss_1,seconds,test_accuracy\n1,1,0.1\n");
    seed(dir, "bad-not-a-number", "chapter,epoch,lr,loss_1,seconds,test_accuracy\n1,1,0.1,x,1,50\n");
    seed(dir, "bad-no-header", "1,2,3\n");
    seed(dir, "bad-empty", "");
    /* JSON Lines, as pff train --log FILE.jsonl writes it, and damaged */
    seed(dir, "jsonl-two-layers",
         "{\"chapter\":1,\"epoch\":1,\"lr\":0.001,\"seconds\":0.005,\"loss\":[8.95,8.65],"
         "\"gpos\":[28.2,24.1],\"gneg\":[28.1,23.8],\"test_accuracy\":14.0000}\n"
         "{\"chapter\":2,\"epoch\":2,\"lr\":0.001,\"seconds\":0.009,\"loss\":[5.76,7.1],"
         "\"gpos\":[28.7,25.0],\"gneg\":[29.8,24.4],\"test_accuracy\":null}\n");
    seed(dir, "jsonl-val", "{\"chapter\":1,\"epoch\":1,\"lr\":0.001,\"seconds\":1.5,"
                           "\"loss\":[0.6],\"gpos\":[9],\"gneg\":[3],\"val_accuracy\":91.5}\n");
    seed(dir, "bad-jsonl-keys-differ", "{\"chapter\":1,\"loss\":[0.5],\"seconds\":1,\"test_accuracy\":50}\n"
                                       "{\"chapter\":2,\"loss\":[0.4,0.3],\"seconds\":2,\"test_accuracy\":60}\n");
    seed(dir, "bad-jsonl-string", "{\"chapter\":\"one\",\"loss\":[0.5]}\n");
    seed(dir, "bad-jsonl-empty-list", "{\"chapter\":1,\"loss\":[]}\n");
}

FUZZ_INITIALIZE("fuzz_log", init_paths, write_seeds)

/* A refusal: a known status, a message naming the file. */
static void check_refusal(int rc, const char *err)
{
    if (rc != PFF_EUSAGE && rc != PFF_EFAIL)
        __builtin_trap();
    if (memchr(err, '\0', PFF_ERRLEN) == NULL || err[0] == '\0' || !strstr(err, in_path))
        __builtin_trap();
}

static void check_log(void)
{
    pff_train_log g;
    char err[PFF_ERRLEN] = "", msg[PFF_ERRLEN] = "";
    int rc = pff_log_read(in_path, &g, err);
    if (rc != PFF_OK) {
        check_refusal(rc, err);
        if (g.chapter || g.acc || g.loss || g.gpos || g.gneg)
            __builtin_trap();
        return;
    }
    if (g.rows < 1 || g.L < 1 || g.L > PFF_MAX_LAYERS || (g.has_acc && !g.acc_set))
        __builtin_trap();
    int some_acc = 0;
    for (int r = 0; r < g.rows; r++) {
        double c = g.chapter[r], a = g.acc[r];
        if (!(c >= 1 && c <= 1000000 && c == floor(c)) || (!isnan(a) && !(a >= 0 && a <= 100)))
            __builtin_trap();
        some_acc |= !isnan(a);
    }
    if (some_acc != (g.has_acc != 0))
        __builtin_trap();
    rc = pff_picture_curves(&g, "fuzz", png_path, msg, err);
    if (rc != PFF_OK && rc != PFF_EFAIL)
        __builtin_trap();
    pff_log_free(&g);
}

static void check_curves(void)
{
    pff_acc_curve cv[PFF_ACC_MAX_CURVES];
    int n = 0;
    char arg[300], err[PFF_ERRLEN] = "", msg[PFF_ERRLEN] = "";
    snprintf(arg, sizeof arg, "fuzz=%s", in_path);
    int rc = pff_acc_read(arg, cv, &n, err);
    if (rc != PFF_OK) {
        check_refusal(rc, err);
        if (n != 0)
            __builtin_trap();
        return;
    }
    if (n < 1 || n > PFF_ACC_MAX_CURVES)
        __builtin_trap();
    for (int i = 0; i < n; i++) {
        if (!memchr(cv[i].name, '\0', sizeof cv[i].name) || cv[i].n < 1 || !cv[i].x || !cv[i].y)
            __builtin_trap();
        for (int j = 0; j < cv[i].n; j++)
            if (!(isfinite(cv[i].x[j]) && cv[i].x[j] > 0 && cv[i].y[j] >= 0 && cv[i].y[j] <= 100))
                __builtin_trap();
    }
    rc = pff_picture_accuracy(png_path, cv, n, msg, err);
    if (rc != PFF_OK && rc != PFF_EFAIL)
        __builtin_trap();
    pff_acc_free(cv, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_paths();
    write_file(csv_path, data, size);
    write_file(jsonl_path, data, size);
    for (int j = 0; j < 2; j++) {
        in_path = j ? jsonl_path : csv_path;
        check_log();
        check_curves();
    }
    return 0;
}
