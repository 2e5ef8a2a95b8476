/* data/image.h — reading a picture file as one model input (pff predict).
 *
 * stb_image decodes the file (PNG, JPEG, BMP, GIF, PGM/PPM, TGA, PSD, HDR, PIC); pixels become
 * luma Y = 0.299 R + 0.587 G + 0.114 B in [0, 1], alpha is composited over the background (black,
 * or white with invert), invert then flips dark-on-light scans to MNIST's white digit on black.
 * An image whose size differs from side x side keeps its aspect ratio: it is scaled so its longer
 * side is `side` (area average when shrinking, bilinear when growing, per axis) and centred on a
 * black square; resize = 0 refuses it instead. */
#ifndef PFF_IMAGE_H
#define PFF_IMAGE_H

/* Side of a square image of dim pixels, 0 when dim is not a square. */
int pff_square_side(int dim);

/* Loads path as side x side floats in [0, 1] into out, white on black; *w, *h get the file's
 * size. PFF_OK, or PFF_EUSAGE (a file the user can fix) / PFF_EFAIL (out of memory) with a
 * message naming the file in err[PFF_ERRLEN]. */
int pff_image_load(const char *path, int side, int invert, int resize, float *out, int *w, int *h,
                   char *err);

#endif
