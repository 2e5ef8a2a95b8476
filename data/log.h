/* data/log.h — the training log (`pff train --log FILE`): its writer and its readers.
 *
 * The log is CSV, one row per chapter, written by pff_log_header and pff_log_row:
 *
 *   chapter,epoch,lr,loss_1,..,loss_L,gpos_1,..,gpos_L,gneg_1,..,gneg_L,seconds,test_accuracy
 *
 * chapter is 1-based; epoch is the number of epochs done at the end of the chapter; lr is the FF
 * learning rate of the chapter's last epoch; loss_k, gpos_k and gneg_k are layer k's mean batch
 * loss and mean goodness of the positives and of the negatives over the chapter; seconds is the
 * run's training time when the chapter was complete, evaluations left out (empty when unknown;
 * logs without the column still read); test_accuracy is in percent and may be empty. A run with a
 * validation set (--val) measures it instead, and names the last column val_accuracy. Lines
 * starting with '#' are comments, blank lines are skipped; fields are split at commas (no quoting).
 * A log named FILE.jsonl holds the same record as one JSON object per line (pff_log_row_json:
 * loss, gpos and gneg as lists, null where the CSV leaves a field empty).
 *
 * Two readers share one CSV line reader: pff_log_read (the curves of `pff show --curves`) and
 * pff_acc_read (`pff show --accuracy`: test accuracy against seconds from logs, and reference
 * curves and points from CSV files with the header name,seconds,accuracy,kind, kind: line | point).
 * Both read a FILE.jsonl log too: the line reader turns each object into the row it stands for.
 * Both return PFF_OK, or PFF_EUSAGE (a file the user can fix) / PFF_EFAIL (out of memory) with a
 * message naming the file and line in err[PFF_ERRLEN]. */
#ifndef PFF_LOG_H
#define PFF_LOG_H

#include <stdio.h>

#include "../pff.h"

/* The header for L layers, then one row per chapter (test_accuracy in percent; a negative value,
 * or a negative seconds, leaves the field empty). */
void pff_log_header(FILE *f, int L, int val); /* val: the last column is val_accuracy */
/* The same record as one line of JSON Lines; key: "test_accuracy" or "val_accuracy". */
void pff_log_row_json(FILE *f, int chapter, double epoch, double lr, int L, const double *loss,
                      const double *gpos, const double *gneg, double seconds, double accuracy,
                      const char *key);
void pff_log_row(FILE *f, int chapter, double epoch, double lr, int L, const double *loss,
                 const double *gpos, const double *gneg, double seconds, double test_accuracy);

/* A log's curves; NaN where a field was empty. */
typedef struct {
    int rows, L, has_g, has_acc; /* has_g: gpos/gneg columns for every layer; has_acc: some row
                                    has an accuracy */
    const char *acc_set;         /* what acc measures: "test", "validation" (a val_accuracy
                                    column), or "held-out" (a model's records, which do not say
                                    whether --val was given); NULL: a log without the column */
    double *chapter, *acc;       /* [rows] */
    double *loss, *gpos, *gneg;  /* [rows * L] */
} pff_train_log;

/* Reads a `pff train --log` file (messages start "--log PATH"). */
int pff_log_read(const char *path, pff_train_log *g, char *err);
/* The same curves from the chapter records a model file keeps (PFF_EUSAGE when it has none). */
int pff_log_from_model(const pff_model *m, pff_train_log *g, char *err);
void pff_log_free(pff_train_log *g);

enum { PFF_ACC_MAX_CURVES = 16, PFF_ACC_NAME = 48 };

typedef struct {
    char name[PFF_ACC_NAME];
    int n, points, reference; /* points: markers only; reference: from a reference file */
    int val;                  /* from a log's val_accuracy column */
    double *x, *y;            /* [n] seconds (> 0), accuracy in percent */
} pff_acc_curve;

/* Reads [NAME=]FILE: a pff train log (columns seconds and test_accuracy; one curve named NAME or
 * the file's base name), or a reference file (one curve per run of rows with the same name), and
 * appends its curves to cv[*ncv..] (at most PFF_ACC_MAX_CURVES in all). On failure the curves it
 * appended are freed and *ncv is unchanged. */
int pff_acc_read(const char *arg, pff_acc_curve *cv, int *ncv, char *err);
void pff_acc_free(pff_acc_curve *cv, int n);

#endif
