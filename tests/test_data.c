/* tests/test_data.c — the one atomic file writer (data/atomic.c), in a real
 * temporary directory: pff_write_atomic and pff_write_atomic_stream write
 * exactly what they are given, replace an existing file by rename (a file
 * opened before the replacement still reads the old bytes), refuse a missing
 * directory with PFF_EUSAGE and the path in the message, fail with PFF_EFAIL
 * and keep the old file when the content cannot be made or the rename fails,
 * give the modes they document, and never leave a temporary file behind. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../pff.h"
#include "check.h"

/* The whole file at path into buf (at most cap bytes); its length, or -1. */
static long slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return (long)n;
}

/* Entries of dir other than "." and "..". */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

/* Does any entry of dir hold ".tmp."? */
static int has_temp(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        found |= strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return found;
}

typedef struct {
    const char *text;
    int lines;
} lines_ctx;

/* Writes ctx->lines numbered lines of ctx->text. */
static int emit_lines(FILE *f, void *ctx)
{
    const lines_ctx *c = ctx;
    for (int i = 0; i < c->lines; i++)
        if (fprintf(f, "%d %s\n", i, c->text) < 0)
            return errno ? errno : -1;
    return 0;
}

/* An emitter that writes a little, then fails as an encoder would. */
static int emit_fails(FILE *f, void *ctx)
{
    (void)ctx;
    fputs("half", f);
    return -1;
}

static mode_t process_umask(void)
{
    mode_t m = umask(0);
    umask(m);
    return m;
}

int main(void)
{
    char dir[] = "/tmp/pff-test-data-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[256], other[256], missing[256], sub[256], err[PFF_ERRLEN], buf[4096];
    snprintf(path, sizeof path, "%s/model.pff", dir);
    snprintf(other, sizeof other, "%s/trace.txt", dir);
    snprintf(missing, sizeof missing, "%s/no/such/dir/m.pff", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    struct stat st;

    /* writes exactly the bytes, mode 0644 */
    static const char first[] = "first\0bytes\x01\xff";
    int rc = pff_write_atomic(path, first, sizeof first, err);
    long n = slurp(path, buf, sizeof buf);
    CHECK(rc == PFF_OK && n == (long)sizeof first && !memcmp(buf, first, sizeof first),
          "pff_write_atomic writes its bytes (rc %d, %ld bytes)", rc, n);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644, "pff_write_atomic: mode 0644 (%o)",
          (unsigned)(st.st_mode & 0777));
    CHECK(count_entries(dir) == 1 && !has_temp(dir), "one file, no temporary file left");

    /* replaces atomically: a reader that opened the old file keeps reading the old bytes */
    FILE *old = fopen(path, "rb");
    static const char second[] = "the second, longer content";
    rc = pff_write_atomic(path, second, sizeof second - 1, err);
    n = slurp(path, buf, sizeof buf);
    CHECK(rc == PFF_OK && n == (long)sizeof second - 1 && !memcmp(buf, second, sizeof second - 1),
          "replacing: the new bytes are there");
    if (old) {
        size_t got = fread(buf, 1, sizeof buf, old);
        CHECK(got == sizeof first && !memcmp(buf, first, sizeof first),
              "replacing: a reader of the old file still sees all of the old bytes (%zu)", got);
        fclose(old);
    } else {
        CHECK(0, "fopen %s: %s", path, strerror(errno));
    }
    CHECK(count_entries(dir) == 1 && !has_temp(dir), "replacing leaves one file, no temporary");

    /* an empty file */
    rc = pff_write_atomic(path, "", 0, err);
    CHECK(rc == PFF_OK && stat(path, &st) == 0 && st.st_size == 0, "zero bytes: an empty file");

    /* a missing directory: PFF_EUSAGE, the path in the message, nothing created */
    rc = pff_write_atomic(missing, first, sizeof first, err);
    CHECK(rc == PFF_EUSAGE && strstr(err, missing) && strstr(err, "cannot create"),
          "missing directory: PFF_EUSAGE naming the path ('%s')", err);
    lines_ctx lc = {"a line of a trace", 200};
    rc = pff_write_atomic_stream(missing, emit_lines, &lc, err);
    CHECK(rc == PFF_EUSAGE && strstr(err, missing),
          "stream, missing directory: PFF_EUSAGE naming the path ('%s')", err);
    CHECK(count_entries(dir) == 1, "missing directory: nothing created");

    /* the streaming variant: the emitted content, mode 0666 & ~umask */
    rc = pff_write_atomic_stream(other, emit_lines, &lc, err);
    n = slurp(other, buf, sizeof buf);
    CHECK(rc == PFF_OK && n > 0 && !strncmp(buf, "0 a line of a trace\n1 a line", 28),
          "stream writes what emit writes (rc %d, %ld bytes)", rc, n);
    long want = 0;
    for (int i = 0; i < lc.lines; i++)
        want += snprintf(NULL, 0, "%d %s\n", i, lc.text);
    CHECK(stat(other, &st) == 0 && st.st_size == want, "stream: %ld bytes, expected %ld",
          (long)st.st_size, want);
    mode_t mask = process_umask();
    CHECK((st.st_mode & 0777) == (0666 & ~mask), "stream: mode 0666 & ~umask (%o, umask %o)",
          (unsigned)(st.st_mode & 0777), (unsigned)mask);

    /* an emitter that fails: PFF_EFAIL, the old file untouched, no temporary left */
    rc = pff_write_atomic_stream(other, emit_fails, NULL, err);
    CHECK(rc == PFF_EFAIL && strstr(err, other), "failing emitter: PFF_EFAIL naming the path ('%s')",
          err);
    CHECK(stat(other, &st) == 0 && st.st_size == want, "failing emitter: the old file is intact");
    CHECK(count_entries(dir) == 2 && !has_temp(dir), "failing emitter: no temporary file left");

    /* the target is a directory: the rename fails, PFF_EUSAGE (the user can move it), the temporary file is removed */
    if (mkdir(sub, 0700) == 0) {
        rc = pff_write_atomic(sub, first, sizeof first, err);
        CHECK(rc == PFF_EUSAGE && strstr(err, sub) && strstr(err, "rename"),
              "target is a directory: PFF_EUSAGE, says rename ('%s')", err);
        CHECK(count_entries(dir) == 3 && !has_temp(dir) && count_entries(sub) == 0,
              "target is a directory: no temporary file left");
        rmdir(sub);
    } else {
        CHECK(0, "mkdir %s: %s", sub, strerror(errno));
    }

    unlink(path);
    unlink(other);
    CHECK(rmdir(dir) == 0, "the directory is empty at the end");
    return check_report("test_data");
}
