/* tests/fuzz/fuzz_common.h — helpers shared by the libFuzzer targets
 * (fuzz_idx.c, fuzz_model.c, fuzz_checkpoint.c).
 *
 * Everything here is static: each target includes this header once, after
 * `#define _POSIX_C_SOURCE 200809L`, and keeps only what is specific to it.
 *
 *   temporary paths   two per process, under $PFF_FUZZ_TMPDIR, else /dev/shm
 *                     when writable, else /tmp; the names carry the pid and
 *                     the files are removed at exit
 *   files             write_file / read_back: harness failures (not findings)
 *                     say so on stderr and abort
 *   checksums         the 64-bit FNV-1a that ends model and checkpoint files,
 *                     and the repair that loads a mutant a second time with
 *                     its checksum recomputed
 *   seed corpus       damaged copies of a seed, and the
 *                     PFF_FUZZ_WRITE_SEEDS=DIR switch of LLVMFuzzerInitialize
 */
#ifndef PFF_FUZZ_COMMON_H
#define PFF_FUZZ_COMMON_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* ---- temporary paths, one pair per process ---- */
static const char *fuzz_tmp_files[2];

static inline void fuzz_remove_files(void)
{
    unlink(fuzz_tmp_files[0]);
    unlink(fuzz_tmp_files[1]);
}

static inline const char *tmp_dir(void)
{
    const char *d = getenv("PFF_FUZZ_TMPDIR");
    if (d && *d)
        return d;
    return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

/* Once per process: a = <tmp>/pff-fuzz-<target>-<pid>-<sa>, b likewise with
 * sb (both of `cap` bytes); both are unlinked at exit. */
static inline void fuzz_init_paths(char *a, char *b, size_t cap, const char *target,
                                   const char *sa, const char *sb)
{
    if (a[0])
        return;
    const char *dir = tmp_dir();
    long pid = (long)getpid();
    snprintf(a, cap, "%s/pff-fuzz-%s-%ld-%s", dir, target, pid, sa);
    snprintf(b, cap, "%s/pff-fuzz-%s-%ld-%s", dir, target, pid, sb);
    fuzz_tmp_files[0] = a, fuzz_tmp_files[1] = b;
    atexit(fuzz_remove_files);
}

/* ---- files: harness failures (not findings) say so and stop ---- */
static inline void write_file(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        abort();
    }
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) {
            perror(path);
            abort();
        }
        p += w;
        n -= (size_t)w;
    }
    if (close(fd) != 0) {
        perror(path);
        abort();
    }
}

/* The whole file, in a malloc'd buffer of *n bytes (+1 spare). */
static inline uint8_t *read_back(const char *path, size_t *n)
{
    struct stat st;
    int fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(path);
        abort();
    }
    uint8_t *p = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (p && got < (size_t)st.st_size) {
        ssize_t r = read(fd, p + got, (size_t)st.st_size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (!p || got != (size_t)st.st_size) {
        perror(path);
        abort();
    }
    close(fd);
    *n = got;
    return p;
}

/* ---- checksums: a 64-bit FNV-1a of every byte before the last 8 ---- */
static inline uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static inline uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Recompute the checksum in the last 8 bytes of p[0..len) (len >= 8). */
static inline void put_sum(uint8_t *p, size_t len)
{
    uint64_t h = fnv1a(p, len - 8);
    for (int i = 0; i < 8; i++)
        p[len - 8 + i] = (uint8_t)(h >> (8 * i));
}

/* check(data, size); then, when the input is at least min_size bytes, starts
 * with the 8-byte magic and its checksum is wrong, check a copy with the
 * checksum recomputed: the raw input fuzzes the checksum refusal, the fixed
 * copy everything behind it. */
static inline void check_with_fixed_sum(const uint8_t *data, size_t size, const char *magic,
                                        size_t min_size,
                                        void (*check)(const uint8_t *, size_t))
{
    check(data, size);
    if (size >= min_size && memcmp(data, magic, 8) == 0 &&
        fnv1a(data, size - 8) != get64(data + size - 8)) {
        uint8_t *fixed = malloc(size);
        if (!fixed)
            abort();
        memcpy(fixed, data, size);
        put_sum(fixed, size);
        check(fixed, size);
        free(fixed);
    }
}

/* ---- seed corpus ---- */

/* A damaged copy of the seed DIR/from, written to DIR/name: `bytes` (1..4)
 * little-endian bytes at `at` set to v (at < 0: none), the length changed by
 * `grow` bytes (zeros appended), the checksum recomputed when fix_sum (the
 * refusal then comes from the contents, not from the checksum). */
static inline void seed_damaged(const char *dir, const char *from, const char *name, long at,
                                uint32_t v, int bytes, long grow, int fix_sum)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, from);
    size_t n;
    uint8_t *p = read_back(path, &n);
    uint8_t *q = calloc(n + (grow > 0 ? (size_t)grow : 0) + 1, 1);
    if (!q)
        abort();
    memcpy(q, p, n);
    if (at >= 0)
        for (int i = 0; i < bytes; i++)
            q[at + i] = (uint8_t)(v >> (8 * i));
    size_t len = (size_t)((long)n + grow);
    if (fix_sum && len >= 8)
        put_sum(q, len);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_file(path, q, len);
    free(p);
    free(q);
}

/* With PFF_FUZZ_WRITE_SEEDS=DIR: call init (when not NULL), write the seed
 * corpus into DIR and exit; otherwise return. */
static inline void write_seeds_if_asked(const char *target, void (*init)(void),
                                        void (*write_seeds)(const char *dir))
{
    const char *dir = getenv("PFF_FUZZ_WRITE_SEEDS");
    if (dir && *dir) {
        if (init)
            init();
        write_seeds(dir);
        fprintf(stderr, "%s: seeds written to %s\n", target, dir);
        exit(0);
    }
}

/* Defines the target's LLVMFuzzerInitialize, which does only the above:
 * FUZZ_INITIALIZE("fuzz_x", init_paths or NULL, write_seeds) at file scope. */
#define FUZZ_INITIALIZE(target, init, write_seeds)                                                 \
    int LLVMFuzzerInitialize(int *argc, char ***argv)                                              \
    {                                                                                              \
        (void)argc, (void)argv;                                                                    \
        write_seeds_if_asked(target, init, write_seeds);                                           \
        return 0;                                                                                  \
    }

#endif /* PFF_FUZZ_COMMON_H */
