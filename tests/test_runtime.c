/* tests/test_runtime.c — the start of the process (cli/runtime.c) on this very CPU.
 *
 * Every kernel it names comes from CPUID (pff_blas_cores), never from a list
 * written here, so the test runs on AVX2-only and AVX-512 machines alike:
 *   - the cores listed for this CPU run and agree with the reference product;
 *   - a core pff chose that fails its check is dropped for OpenBLAS's own pick,
 *     said once on stderr, and never described as "chosen by pff": the check is
 *     a function the test replaces (no hook in the library);
 *   - a core the user set is honoured.
 * Each case runs this program again as a child (--child MODE) with its own
 * environment, since OpenBLAS reads OPENBLAS_CORETYPE only while it loads.
 *
 *   test_runtime            the checks
 *   test_runtime --cores    the OpenBLAS cores this CPU can run, best first, one
 *                           per line (make test-kernels runs the tests with each)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../cli/cli.h"
#include "../layers/layers.h"
#include "check.h"

static int check_fails(void) { return 1; }

/* The child: start as pff does, with the check MODE asks for, then tell what it runs. */
static int child(char **argv, const char *mode)
{
    pff_runtime_start(argv, !strcmp(mode, "fail") ? check_fails : pff_blas_check);
    const char *ct = getenv("OPENBLAS_CORETYPE");
    printf("core=%s\ndescribe=%s\ncoretype=%s\ncheck=%d\n", pff_blas_name(), pff_blas_describe(),
           ct ? ct : "(unset)", pff_blas_check());
    return 0;
}

/* Runs this program as a child with OPENBLAS_CORETYPE (and PFF_BLAS_CHOSEN when chosen) set to
 * core; its stdout into out[], its stderr into err[]. The exit status, or -1. */
static int run_child(const char *self, const char *mode, const char *core, int chosen, char *out,
                     size_t outn, char *err, size_t errn)
{
    char of[] = "/tmp/pff-test-runtime-XXXXXX", ef[] = "/tmp/pff-test-runtime-XXXXXX";
    int ofd = mkstemp(of), efd = mkstemp(ef);
    if (ofd < 0 || efd < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(ofd, 1);
        dup2(efd, 2);
        setenv("OPENBLAS_CORETYPE", core, 1);
        if (chosen)
            setenv("PFF_BLAS_CHOSEN", core, 1);
        else
            unsetenv("PFF_BLAS_CHOSEN");
        unsetenv("PFF_BLAS_FROM");
        execl(self, self, "--child", mode, (char *)NULL);
        _exit(127);
    }
    int st = -1;
    waitpid(pid, &st, 0);
    char *bufs[2] = {out, err};
    size_t ns[2] = {outn, errn};
    int fds[2] = {ofd, efd};
    for (int i = 0; i < 2; i++) {
        ssize_t r = pread(fds[i], bufs[i], ns[i] - 1, 0);
        bufs[i][r > 0 ? r : 0] = 0;
        close(fds[i]);
    }
    unlink(of);
    unlink(ef);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "--child"))
        return child(argv, argv[2]);
    pff_cpu cpu;
    pff_cpu_read(&cpu);
    const char *cores[8];
    int n = pff_blas_cores(&cpu, cores, 8);
    if (argc >= 2 && !strcmp(argv[1], "--cores")) {
        for (int i = 0; i < n; i++)
            printf("%s\n", cores[i]);
        return 0;
    }
#ifdef PFF_NO_BLAS
    SKIP("the OpenBLAS cores (a NO_BLAS build)");
    return check_report("test_runtime");
#else
    const char *self = "/proc/self/exe";
    char path[4096];
    ssize_t pl = readlink(self, path, sizeof path - 1);
    if (pl > 0) {
        path[pl] = 0;
        self = path;
    }
    static char out[8192], err[8192];
    if (n == 0) {
        SKIP("no OpenBLAS core pff knows runs on this CPU (not x86-64)");
        return check_report("test_runtime");
    }
    const char *best = pff_blas_choose_core(&cpu, "");
    CHECK(best && !strcasecmp(best, cores[0]), "the best core listed (%s) is the one pff chooses (%s)",
          cores[0], best ? best : "(none)");

    /* Every core this CPU can run: it loads, it is the one in use, its products agree. */
    for (int i = 0; i < n; i++) {
        int rc = run_child(self, "pass", cores[i], 0, out, sizeof out, err, sizeof err);
        char want[64];
        snprintf(want, sizeof want, "core=%s\n", cores[i]);
        CHECK(rc == 0 && strcasestr(out, want) && strstr(out, "check=0"),
              "OPENBLAS_CORETYPE=%s runs and agrees with the reference (rc %d): %s%s", cores[i], rc,
              out, err);
    }

    /* pff's own choice that fails its check: OpenBLAS's pick instead, said once. */
    int rc = run_child(self, "fail", cores[0], 1, out, sizeof out, err, sizeof err);
    CHECK(rc == 0, "the fallback child ends well (rc %d): %s", rc, err);
    CHECK(count(err, "failed its check") == 1, "the failed check is said once on stderr: [%s]", err);
    CHECK(strstr(err, cores[0]) != NULL, "the message names the core (%s): [%s]", cores[0], err);
    CHECK(strstr(out, "coretype=(unset)") && !strstr(out, "chosen by pff"),
          "after the fallback OPENBLAS_CORETYPE is unset and nothing claims pff chose: %s", out);

    /* The user's own core is honoured, even with a check that fails (pff never overrides it). */
    const char *user = cores[n - 1];
    rc = run_child(self, "fail", user, 0, out, sizeof out, err, sizeof err);
    char want[64];
    snprintf(want, sizeof want, "core=%s\n", user);
    CHECK(rc == 0 && strcasestr(out, want) && !strstr(err, "failed its check"),
          "the user's OPENBLAS_CORETYPE=%s is honoured: %s%s", user, out, err);
    return check_report("test_runtime");
#endif
}
