/* data/atomic_stream_tmp.c — temporary: pff_write_atomic_stream (data.h), ported from the trace
 * writer's own atomic writer so that this branch builds; the restructuring's merge replaces this
 * file with the one in data/atomic.c, beside pff_write_atomic.
 *
 * The temporary file is PATH.tmp.XXXXXX (mkstemp) in path's directory, made mode 0666 & ~umask
 * (mkstemp makes 0600); emit writes it, then fflush, fsync, close, rename over path, and an fsync
 * of the directory (best effort) make the rename durable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../pff.h"
#include "data.h"

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

/* fsync of the directory holding path, so that the rename survives a crash; best effort. */
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

int pff_write_atomic_stream(const char *path, int (*emit)(FILE *f, void *ctx), void *ctx,
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
        const char *slash = strrchr(path, '/');
        int dlen = slash ? (int)(slash - path) + 1 : 0;
        snprintf(err, PFF_ERRLEN, "%s: cannot create a temporary file in %.*s: %s", path,
                 dlen ? dlen : 1, dlen ? path : ".", strerror(errno));
        free(tmp);
        return PFF_EUSAGE;
    }
    (void)fchmod(fd, 0666 & ~current_umask());
    const char *what = "cannot write";
    int e = 0, rc = PFF_EFAIL;
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        e = errno;
        close(fd);
        goto fail;
    }
    errno = 0;
    int erc = emit(f, ctx);
    if (erc != 0 || fflush(f) != 0 || ferror(f)) {
        e = erc > 0 ? erc : errno;
        goto fail;
    }
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
        what = "cannot rename the temporary file onto it";
        rc = PFF_EUSAGE;
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
    return rc;
}
