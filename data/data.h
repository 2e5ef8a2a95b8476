/* data/data.h — data/ owns the file formats (IDX sets, model files and checkpoints, picture files
 * in, the training log, exports, and the atomic writing and whole reading of every file); it never
 * trains, draws or prints. Pictures, charts and traces are draw/'s; the data sets themselves are
 * fetched into data/mnist and data/fashion-mnist by setup/'s scripts.
 *
 * The folder, one format per file:
 *   idx.c         the IDX loader (pff.h)          export.c    .npz / .safetensors (export.h)
 *   model_file.c  model files (pff.h)             image.c     picture files in (image.h)
 *   checkpoint.c  checkpoints (checkpoint.h)      log.c       the training log (log.h)
 *   atomic.c      the atomic writer, the whole-file reader (below)
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


#endif
