/* draw/canvas.h — the one canvas and the one bitmap font every picture of pff is drawn with
 * (the pictures of draw/pictures.c and the Gantt PNG of draw/trace.c).
 *
 * A canvas is w x h RGB pixels, row-major, 3 bytes a pixel. Drawing clips to the canvas: any
 * coordinate may lie outside it. Text is a 5x7 bitmap font (digits, upper and lower case letters,
 * a few signs; anything else draws as a blank cell): each glyph cell is 6x8 * scale pixels, so a
 * string of n characters is (6 n - 1) * scale pixels wide. PNG encoding (stb_image_write) goes into
 * memory; writing the file is the caller's (pff_write_atomic or pff_write_atomic_stream). */
#ifndef PFF_CANVAS_H
#define PFF_CANVAS_H

#include <stddef.h>

typedef struct {
    unsigned char r, g, b;
} pff_rgb;

typedef struct {
    int w, h;
    unsigned char *px; /* (h, w, 3) RGB, row-major */
} pff_canvas;

/* A w x h canvas filled with bg; PFF_EFAIL when out of memory (c->px is then NULL). */
int pff_canvas_new(pff_canvas *c, int w, int h, pff_rgb bg);
void pff_canvas_free(pff_canvas *c);

void pff_canvas_dot(pff_canvas *c, int x, int y, pff_rgb col);
/* The rectangle [x0, x1) x [y0, y1). */
void pff_canvas_fill(pff_canvas *c, int x0, int y0, int x1, int y1, pff_rgb col);
/* A 2-pixel-wide line from (x0, y0) to (x1, y1); dashed lines draw 6 pixels of every 10. */
void pff_canvas_line(pff_canvas *c, int x0, int y0, int x1, int y1, pff_rgb col, int dashed);
/* Draws s with its top-left corner at (x, y). */
void pff_canvas_text(pff_canvas *c, int x, int y, int scale, pff_rgb col, const char *s);
int pff_canvas_text_width(const char *s, int scale);

/* w x h pixels of comp channels (1 grey, 3 RGB; rows of w * comp bytes) as PNG bytes in *png
 * (malloc'ed, *n bytes). PFF_EFAIL with a message naming `name` when out of memory. */
int pff_png_encode(const unsigned char *px, int w, int h, int comp, unsigned char **png, size_t *n,
                   const char *name, char *err);
/* pff_png_encode, then pff_write_atomic to path: PFF_OK, PFF_EUSAGE or PFF_EFAIL with a message
 * naming the file in err[PFF_ERRLEN]. */
int pff_png_write(const char *path, const unsigned char *px, int w, int h, int comp, char *err);

#endif
