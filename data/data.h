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

/* Writes path atomically from a stream: a temporary file in path's directory (mode 0666 & ~umask),
 * emit(f, ctx) writes the content (returns 0, a positive errno value, or -1 when encoding
 * failed), then fflush, fsync, rename over path and fsync of the directory. On any failure the
 * temporary file is removed and err[PFF_ERRLEN] names path and what went wrong: PFF_EUSAGE when
 * the temporary file cannot be created or renamed over path (a missing or read-only directory,
 * a directory in the way), PFF_EFAIL otherwise. */
int pff_write_atomic_stream(const char *path, int (*emit)(FILE *f, void *ctx), void *ctx,
                            char *err);

/* 0 when a file can be created at path (tried and removed: the atomic writers create
 * PATH.tmp.XXXXXX beside it and rename it over PATH), else PFF_EUSAGE (PFF_EFAIL when out of
 * memory) with "pff: --FLAG PATH: cannot create a file there: ..." on stderr. The command line
 * checks every output with it before any work. */
int pff_check_writable(const char *flag, const char *path);

#endif
