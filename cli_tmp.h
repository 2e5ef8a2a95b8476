/* cli_tmp.h — temporary: the commands cmd_predict.c and cmd_show.c give pff.c, until the
 * restructuring's merge moves these declarations into cli.h (what the command-line files share).
 * Each returns the exit status: PFF_OK, PFF_EUSAGE (2) for input the user can fix, PFF_EFAIL (1).
 */
#ifndef PFF_CLI_TMP_H
#define PFF_CLI_TMP_H

#include <stdint.h>
#include <stdio.h>

#include "pff.h"

int pff_cmd_predict(int argc, char **argv); /* argv[0] = "predict" */
int pff_cmd_show(int argc, char **argv);    /* argv[0] = "show" */

/* Confusion matrix of n predictions (row = true label, column = predicted):
 * a text table to `text` (skipped when NULL) and a heat-map PNG to png_path
 * (skipped when NULL). Labels must be 0..9. Returns 0, or PFF_EUSAGE /
 * PFF_EFAIL with a message naming the file in err[PFF_ERRLEN]. */
int pff_confusion_write(const char *png_path, FILE *text, const int *pred, const uint8_t *truth,
                        int n, char *err);

/* `pff eval --confusion FILE.png`: predicts d with the model's classifier
 * (the softmax head when it was trained with --classifier softmax, else
 * goodness) and writes the matrix: PNG first, then the table to `text`. */
int pff_confusion_model(const pff_model *m, const pff_dataset *d, int threads, const char *png_path,
                        FILE *text, char *err);

#endif
