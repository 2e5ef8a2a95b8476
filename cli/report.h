/* cli/report.h — what `pff train` prints (report.c): the line that opens a run, the terminal
 * reporter that pff_train tells through pff_config.report.reporter, and the result. */
#ifndef PFF_REPORT_H
#define PFF_REPORT_H

#include "pff.h"

typedef struct {
    pff_reporter base;
    const pff_config *cfg; /* read when told: quiet, progress_bar, log, log_jsonl, splits */
    int bar;               /* a progress bar is on stderr's last line */
} pff_terminal;

/* Sets t up to print for the run of cfg (which must outlive the run) and
 * returns the reporter to put into cfg->report.reporter:
 *   - a line per finished chapter on stderr (unless quiet): per layer loss and
 *     goodness, the head's cross-entropy, the validation (--val) or test accuracy, time and ETA;
 *   - a live bar within a chapter on stderr (progress_bar, unless quiet);
 *   - a row per chapter in cfg->log (CSV, or JSON Lines when log_jsonl);
 *   - over MPI, a failing rank's last words before the job ends (always). */
const pff_reporter *pff_terminal_reporter(pff_terminal *t, const pff_config *cfg);

/* What a run was, for the lines printed before and after it. */
typedef struct {
    const pff_config *cfg;
    int nodes;          /* node threads, or MPI ranks */
    int mpi;            /* 1: over MPI */
    int train_n;        /* training images (the whole set when a rank holds one shard) */
    int test_n;         /* test images */
    int val_n;          /* validation images held out of training (--val; 0: none) */
} pff_run_view;

/* The accuracies measured after the run, as fractions; -1: not measured (soft: also when the
 * model has no softmax head). */
typedef struct {
    double val_good, val_soft;   /* on the validation set (--val) */
    double test_good, test_soft; /* on the test set (--test, or a run without --val) */
} pff_scores;

/* The line that opens a run, on stderr: schedule, nodes, widths, epochs, negatives, kernel. */
void pff_print_header(const pff_run_view *v);
/* "validation accuracy: ...; test accuracy: ...; trained in ..." on out (what was measured). */
void pff_print_result(FILE *out, const pff_run_view *v, const pff_result *res, const pff_scores *s);
/* --json: one object with the settings and the results on stdout; busy, wait and util hold a
 * value per node. */
void pff_print_json(const pff_run_view *v, const pff_result *res, const pff_scores *s,
                    const double *busy, const double *wait, const double *util);

#endif
