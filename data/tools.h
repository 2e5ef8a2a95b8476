/* data/tools.h — the user-facing tools around a trained model:
 *
 *   pff predict MODEL IMAGE...   classify PNG/JPEG/BMP/PGM files (stb_image)
 *   pff show [MODEL] ...         pictures: first-layer receptive fields,
 *                                training curves from a `pff train --log`
 *                                file, one test image of an IDX set
 *   pff eval --confusion F.png   the confusion matrix (pff_confusion_write)
 *
 * Every PNG is encoded by stb_image_write and written atomically (temporary
 * file in the target's directory, fsync, rename). The subcommands return the
 * exit status: 0, PFF_EUSAGE (2) for input the user can fix, PFF_EFAIL (1).
 *
 * The training log (`pff train --log FILE`) is CSV, one row per chapter,
 * written by pff_log_header and pff_log_row:
 *
 *   chapter,epoch,lr,loss_1,..,loss_L,gpos_1,..,gpos_L,gneg_1,..,gneg_L,seconds,test_accuracy
 *
 * chapter is 1-based; epoch is the number of epochs done at the end of the
 * chapter; lr is the FF learning rate of the chapter's last epoch; loss_k,
 * gpos_k and gneg_k are layer k's mean batch loss and mean goodness of the
 * positives and of the negatives over the chapter; seconds is the run's
 * training time when the chapter was complete, evaluations left out (empty
 * when unknown; logs without the column still read); test_accuracy is in
 * percent and may be empty. Lines starting with '#' are comments.
 *
 * pff show --accuracy FILE.png [NAME=]LOG... draws test accuracy against
 * training seconds, one line per log, with reference curves and points from
 * CSV files with the header name,seconds,accuracy,kind (kind: line | point). */
#ifndef PFF_TOOLS_H
#define PFF_TOOLS_H

#include <stdint.h>
#include <stdio.h>

#include "../pff.h"

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

/* 0 when a file can be created at path (tried and removed), else PFF_EUSAGE
 * with "pff: --FLAG PATH: cannot create a file there: ..." on stderr. */
int pff_check_writable(const char *flag, const char *path);

/* The training log: the header for L layers, then one row per chapter
 * (test_accuracy in percent; a negative value leaves the field empty). */
void pff_log_header(FILE *f, int L);
void pff_log_row(FILE *f, int chapter, double epoch, double lr, int L, const double *loss,
                 const double *gpos, const double *gneg, double seconds, double test_accuracy);

#endif
