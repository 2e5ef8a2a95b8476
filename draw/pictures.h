/* draw/pictures.h — the PNG pictures of `pff show` and `pff eval --confusion`.
 *
 * Each draws on the one canvas (canvas.h) and writes an RGB (the digit: grey) PNG atomically.
 * Each returns PFF_OK, or PFF_EUSAGE (a file or input the user can fix) / PFF_EFAIL (out of memory,
 * a failed write) with a message naming the file in err[PFF_ERRLEN]; the functions taking msg put
 * the line `pff show` prints on success there ("wrote FILE: ..."). */
#ifndef PFF_PICTURES_H
#define PFF_PICTURES_H

#include "../pff.h"
#include "../layers/layers.h"
#include "../data/log.h"

/* The receptive fields of the first `units` units of layer l as a grid of tiles, each tile the
 * unit's weights over the square input (the label inputs left out of its grey range), every input
 * pixel scale x scale. PFF_EUSAGE when l's input is not a square image. */
int pff_picture_weights(const pff_layer *l, const char *path, long units, long scale, char *msg,
                        char *err);

/* Loss per layer, goodness per layer (when g has it) and test accuracy (when g has it) against the
 * chapter, one panel each; source names where g came from in msg. */
int pff_picture_curves(const pff_train_log *g, const char *source, const char *path, char *msg,
                       char *err);

/* Accuracy (y, percent) against seconds (x, log scale) of n curves: pff's runs as solid lines,
 * reference curves dashed, reference points as open squares, a legend with each curve's last
 * figure. */
int pff_picture_accuracy(const char *path, const pff_acc_curve *cv, int n, char *msg, char *err);

/* One image x of side x side floats in [0, 1] as a grey PNG, each pixel scale x scale. */
int pff_picture_digit(const float *x, int side, int scale, const char *path, char *err);

/* The confusion matrix cnt (row = true label) as a heat map: cell colour = share of the row
 * (sqrt-stretched so rare confusions show), counts in the cells, labels 0-9 on both axes; row[i]
 * is row i's total, right the diagonal's, n the images. */
int pff_picture_confusion(const char *path, long cnt[PFF_CLASSES][PFF_CLASSES], const long *row,
                          long right, int n, char *err);

#endif
