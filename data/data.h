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

#include <stddef.h>
#include <stdio.h>

/* pff_write_atomic_stream, the one atomic writer, is declared in pff.h (data/atomic.c). */

/* The one whole-file reader (data/atomic.c): the bytes of the regular file at path (at most
 * max of them; 0: any size), malloc'd with one zero byte past them, their count in *n. NULL on
 * failure, *why saying which (and *n the file's size where it is known); each reader words its
 * own message from it. */
typedef enum {
    PFF_READ_OK,
    PFF_READ_OPEN,        /* fopen failed: errno is kept */
    PFF_READ_NOT_REGULAR, /* a directory, a device... */
    PFF_READ_TOO_LARGE,   /* more than max bytes (nothing read) */
    PFF_READ_NOMEM,       /* the buffer could not be allocated */
    PFF_READ_IO           /* fewer bytes than the file's size could be read */
} pff_read_status;
unsigned char *pff_read_whole(const char *path, size_t max, size_t *n, pff_read_status *why);

/* 0 when a file can be created at path (tried and removed: the atomic writers create
 * PATH.tmp.XXXXXX beside it and rename it over PATH), else PFF_EUSAGE (PFF_EFAIL when out of
 * memory) with "pff: --FLAG PATH: cannot create a file there: ..." on stderr. The command line
 * checks every output with it before any work. */
int pff_check_writable(const char *flag, const char *path);

#endif
