/* cli/runtime.c — the start of the process, before any command runs: pff_runtime_start starts the
 * program again when the runtime it needs can only be set before the libraries load, and marks
 * its own choices in the environment (PFF_BLAS_CHOSEN, PFF_BLAS_FROM) so that the started program
 * neither chooses again nor claims the user's choice; pff_blas_describe reads those marks back.
 * The choice itself (pff_blas_choose_core), the CPUID reader and the kernel's check are maths
 * and stay in layers/matmul.c. pff.c's main and bench/bench.c call pff_runtime_start first. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pff.h"

#include "cli.h"
#include "layers/layers.h"

#ifndef PFF_NO_BLAS
#include <cblas.h>
#endif

/* Starts the program again, once, when the runtime it needs can only be set
 * before the libraries load:
 * - OpenMP threads that spin while they wait starve everything else on a busy
 *   machine (bench/notes.sh --group timing: a short run beside a busy core,
 *   bench/runs/notes/timing-summary.csv), and the node threads of a pipeline
 *   are often busy elsewhere; libgomp reads OMP_WAIT_POLICY before main(), so
 *   pff asks for passive waits unless the user set a policy;
 * - the OpenBLAS core, chosen by pff_blas_choose_core unless the user set OPENBLAS_CORETYPE
 *   (always honoured). PFF_BLAS_CHOSEN marks pff's own choice; the started
 *   program checks that kernel with kernel_check (pff_blas_check; a test
 *   passes one that fails) and, if it fails, starts once more with
 *   OpenBLAS's own pick and says so. */
void pff_runtime_start(char **argv, int (*kernel_check)(void))
{
#ifdef PFF_NO_BLAS
    (void)kernel_check;
#else
    const char *user = getenv("OPENBLAS_CORETYPE"), *chosen = getenv("PFF_BLAS_CHOSEN");
    int ours = user && chosen && !strcmp(user, chosen);
    if (ours && kernel_check && kernel_check()) {
        fprintf(stderr, "pff: the OpenBLAS %s kernel failed its check against the reference "
                        "product; using OpenBLAS's own choice\n", chosen);
        unsetenv("OPENBLAS_CORETYPE");
        setenv("PFF_BLAS_CHOSEN", "", 1); /* never choose again in this process tree */
        execv("/proc/self/exe", argv);
        exit(PFF_EFAIL);
    }
#endif
    int again = 0;
#ifdef _OPENMP
    if (!getenv("OMP_WAIT_POLICY")) {
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
        again = 1;
    }
#endif
#ifndef PFF_NO_BLAS
    if ((!user || !*user) && !chosen) {
        pff_cpu cpu;
        pff_cpu_read(&cpu);
        const char *best = pff_blas_choose_core(&cpu, openblas_get_corename());
        if (best) {
            setenv("PFF_BLAS_FROM", openblas_get_corename(), 1);
            setenv("OPENBLAS_CORETYPE", best, 1);
            setenv("PFF_BLAS_CHOSEN", best, 1);
            again = 1;
        }
    }
#endif
    if (again)
        execv("/proc/self/exe", argv); /* returns only on failure: then run as we are */
}

/* "SkylakeX", or "SkylakeX (chosen by pff; OpenBLAS picked Prescott)". */
const char *pff_blas_describe(void)
{
    static char d[128];
    const char *from = getenv("PFF_BLAS_FROM"), *chosen = getenv("PFF_BLAS_CHOSEN");
    const char *user = getenv("OPENBLAS_CORETYPE");
    if (from && chosen && *chosen && user && !strcmp(user, chosen))
        snprintf(d, sizeof d, "%s (chosen by pff; OpenBLAS picked %s)", pff_blas_name(), from);
    else
        snprintf(d, sizeof d, "%s", pff_blas_name());
    return d;
}
