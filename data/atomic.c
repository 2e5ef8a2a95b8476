/* data/atomic.c — the one atomic file writer, and the one whole-file reader (pff_read_whole, at
 * the end: model files, checkpoints and pictures are read through it).
 *
 * Every file pff writes (models,
 * checkpoints, exports, pictures, traces) goes through write_atomic below, so
 * a reader never sees half a file and a failed write leaves any existing file
 * untouched.
 *
 * The mechanism, in order:
 *   1. mkstemp PATH.tmp.XXXXXX in the target's own directory (a rename across
 *      file systems would not be atomic);
 *   2. set the temporary file's mode (mkstemp makes 0600): a fixed mode for
 *      pff_write_atomic (0644, what model and checkpoint files always had),
 *      0666 & ~umask for pff_write_atomic_stream (what traces always had);
 *   3. the caller's emit function writes the content through a FILE *;
 *   4. fflush, fsync, fclose, rename onto PATH, then fsync the directory so the
 *      rename itself survives a crash (best effort: a directory that cannot be
 *      opened is not an error).
 * On any failure the temporary file is removed: nothing partial is left, and
 * PATH keeps what it held before.
 *
 * Return codes: PFF_OK; PFF_EUSAGE when the temporary file cannot be created
 * (a missing directory, no permission, a read-only file system) or cannot be
 * renamed onto PATH (a directory in the way): what the user fixes by choosing
 * another path; PFF_EFAIL for everything else (out of memory, a failed write,
 * flush or fsync). err (PFF_ERRLEN bytes) then
 * names PATH. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../pff.h"
#include "data.h"

#define KEEP_UMASK ((mode_t)-1) /* write_atomic: file mode 0666 & ~umask */

/* The process umask without changing it (umask() would race with other threads). */
static mode_t current_umask(void)
{
    mode_t m = 022;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return m;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        unsigned v;
        if (sscanf(line, "Umask: %o", &v) == 1) {
            m = (mode_t)(v & 0777);
            break;
        }
    }
    fclose(f);
    return m;
}

/* Makes a finished rename durable by syncing the directory that holds path. */
static void sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    char *dir = malloc(dlen + 2);
    if (!dir)
        return;
    if (dlen) {
        memcpy(dir, path, dlen);
        dir[dlen] = '\0';
    } else {
        strcpy(dir, ".");
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(dir);
}

/* Steps 1-4 of the top comment; mode is the file's mode, or KEEP_UMASK. */
static int write_atomic(const char *path, int (*emit)(FILE *f, void *ctx), void *ctx, mode_t mode,
                        char *err)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp) {
        snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
        return PFF_EFAIL;
    }
    snprintf(tmp, len + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, PFF_ERRLEN, "%s: cannot create a file there: %s", path, strerror(errno));
        free(tmp);
        return PFF_EUSAGE;
    }
    (void)fchmod(fd, mode == KEEP_UMASK ? 0666 & ~current_umask() : mode);
    const char *what = "write failed";
    int e = 0, rc_fail = PFF_EFAIL;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        e = errno;
        close(fd);
        goto fail;
    }
    errno = 0;
    int rc = emit(f, ctx);
    if (rc != 0 || fflush(f) != 0 || ferror(f)) {
        e = rc > 0 ? rc : errno;
        goto fail;
    }
    what = "cannot finish writing";
    if (fsync(fileno(f)) != 0) {
        e = errno;
        goto fail;
    }
    int closed = fclose(f);
    f = NULL;
    if (closed != 0) {
        e = errno;
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        what = "cannot finish writing (rename onto it)";
        rc_fail = PFF_EUSAGE; /* something in the way at PATH, e.g. a directory */
        goto fail;
    }
    sync_dir(path);
    free(tmp);
    return PFF_OK;
fail:
    if (f)
        fclose(f);
    unlink(tmp);
    free(tmp);
    if (e > 0)
        snprintf(err, PFF_ERRLEN, "%s: %s: %s", path, what, strerror(e));
    else
        snprintf(err, PFF_ERRLEN, "%s: %s (encoding failed)", path, what);
    return rc_fail;
}

int pff_write_atomic_stream(const char *path, int (*emit)(FILE *f, void *ctx), void *ctx,
                            char *err)
{
    return write_atomic(path, emit, ctx, KEEP_UMASK, err);
}

typedef struct {
    const void *data;
    size_t n;
} buffer;

static int emit_buffer(FILE *f, void *ctx)
{
    const buffer *b = ctx;
    return b->n && fwrite(b->data, 1, b->n, f) != b->n ? (errno ? errno : -1) : 0;
}

int pff_write_atomic(const char *path, const void *data, size_t n, char *err)
{
    buffer b = {data, n};
    return write_atomic(path, emit_buffer, &b, 0644, err);
}

unsigned char *pff_read_whole(const char *path, size_t max, size_t *n, pff_read_status *why)
{
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        *why = PFF_READ_OPEN;
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        *why = PFF_READ_NOT_REGULAR;
        return NULL;
    }
    *n = (size_t)st.st_size;
    if (max && *n > max) {
        fclose(f);
        *why = PFF_READ_TOO_LARGE;
        return NULL;
    }
    unsigned char *p = malloc(*n + 1);
    *why = !p ? PFF_READ_NOMEM : fread(p, 1, *n, f) != *n ? PFF_READ_IO : PFF_READ_OK;
    fclose(f);
    if (*why != PFF_READ_OK) {
        free(p);
        return NULL;
    }
    p[*n] = 0;
    return p;
}
