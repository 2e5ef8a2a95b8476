/* data/data.h — data/ owns the file formats (IDX sets, model files and checkpoints, images, the
 * training log, pictures, traces, exports and the atomic writing of every file) and never trains.
 *
 * The folder, one format per file:
 *   idx.c       the IDX loader (pff.h)             export.c    .npz / .safetensors (export.h)
 *   image.c     picture files in (image.h)         canvas.c    canvas, font, PNG (canvas.h)
 *   pictures.c  show / confusion PNGs (pictures.h) log.c       the training log (log.h)
 *   trace.c     traces of a run (trace.h)          writable.c  pff_check_writable (below)
 * Functions return PFF_OK, PFF_EUSAGE (2: a file or input the user can fix) or PFF_EFAIL (1:
 * anything else), with a message naming the file in err[PFF_ERRLEN].
 */
#ifndef PFF_DATA_H
#define PFF_DATA_H

#include <stdio.h>

/* pff_write_atomic_stream, the one atomic writer, is declared in pff.h (data/atomic.c). */

/* 0 when a file can be created at path (tried and removed: the atomic writers create
 * PATH.tmp.XXXXXX beside it and rename it over PATH), else PFF_EUSAGE (PFF_EFAIL when out of
 * memory) with "pff: --FLAG PATH: cannot create a file there: ..." on stderr. The command line
 * checks every output with it before any work. */
int pff_check_writable(const char *flag, const char *path);

#endif
