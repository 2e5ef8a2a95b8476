/* report.h — what `pff train` prints while it runs: the terminal reporter
 * (report.c) that pff_train tells through pff_config.report.reporter. */
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
 *     goodness, the head's cross-entropy, the test accuracy, time and ETA;
 *   - a live bar within a chapter on stderr (progress_bar, unless quiet);
 *   - a row per chapter in cfg->log (CSV, or JSON Lines when log_jsonl);
 *   - over MPI, a failing rank's last words before the job ends (always). */
const pff_reporter *pff_terminal_reporter(pff_terminal *t, const pff_config *cfg);

#endif
