/* cli/writable.c — pff_check_writable (cli.h): can an output file be created at a path? The
 * command line asks before any work, so that a bad --save, --log, --trace, --checkpoint,
 * --confusion or picture path fails at once with PFF_EUSAGE instead of after training.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../pff.h"
#include "cli.h"

/* Fails early, before any work, when FILE is a directory or its directory
 * cannot take a file (the atomic writers create FILE.tmp.XXXXXX there and
 * rename it over FILE). */
int pff_check_writable(const char *flag, const char *path)
{
    struct stat st;
    if (path[0] == 0) {
        fprintf(stderr, "pff: --%s: an empty file name\n", flag);
        return PFF_EUSAGE;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "pff: --%s %s: is a directory; expected a file name\n", flag, path);
        return PFF_EUSAGE;
    }
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp)
        return PFF_EFAIL;
    snprintf(tmp, len + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "pff: --%s %s: cannot create a file there: %s\n", flag, path,
                strerror(errno));
        free(tmp);
        return PFF_EUSAGE;
    }
    close(fd);
    unlink(tmp);
    free(tmp);
    return PFF_OK;
}
