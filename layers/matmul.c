/* layers/matmul.c — the one matrix-product choke point of pff.
 *
 * Every product in the trainer goes through pff_matmul: row-major,
 * C = alpha * op(A) * op(B) + beta * C. It runs on the calling thread only:
 * OpenBLAS is told to use one thread (pff_blas_init), and parallelism comes
 * from pff's own OpenMP loops over disjoint output tiles, so that node threads
 * of a pipeline never share a BLAS thread pool and a product's bits depend
 * only on its shapes (DESIGN.md §2.4). Built with NO_BLAS=1 it is a plain C
 * loop nest, the reference for tests and sanitizer builds. */
#include <stdlib.h>
#include <unistd.h>

#include "layers.h"

#ifndef PFF_NO_BLAS
#include <cblas.h>
#endif

static void matmul_naive(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc)
{
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            float s = 0.0f;
            for (int p = 0; p < k; p++) {
                float av = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                float bv = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                s += av * bv;
            }
            float *cij = &c[(size_t)i * ldc + j];
            *cij = alpha * s + (beta == 0.0f ? 0.0f : beta * *cij);
        }
    }
}

void pff_matmul(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0)
        return;
#ifdef PFF_NO_BLAS
    matmul_naive(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#else
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m,
                n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#endif
}

/* Exposed for tests: the plain loop nest, whatever the build. */
void pff_matmul_reference(int ta, int tb, int m, int n, int k, float alpha, const float *a,
                          int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    matmul_naive(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void pff_blas_init(void)
{
#ifndef PFF_NO_BLAS
    openblas_set_num_threads(1);
#endif
}

const char *pff_blas_name(void)
{
#ifdef PFF_NO_BLAS
    return "plain C (NO_BLAS)";
#else
    return openblas_get_corename();
#endif
}

/* OpenMP threads that spin while they wait starve everything else on a busy
 * machine (measured here: a run sharing 2 cores with one other busy process
 * went from 4 s to 69 s), and the node threads of a pipeline are often busy
 * elsewhere. libgomp reads its wait policy before main() runs, so a program
 * asks for passive waits by starting itself again, unless OMP_WAIT_POLICY is
 * already set. Returns only when nothing was re-executed. */
void pff_openmp_passive(char **argv)
{
#ifdef _OPENMP
    if (getenv("OMP_WAIT_POLICY"))
        return;
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", argv); /* returns only on failure: then run as we are */
#else
    (void)argv;
#endif
}
