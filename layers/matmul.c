/* layers/matmul.c — the one matrix-product choke point of pff.
 *
 * Every product in the trainer goes through pff_matmul: row-major,
 * C = alpha * op(A) * op(B) + beta * C. It runs on the calling thread only:
 * OpenBLAS is told to use one thread (pff_blas_init), and parallelism comes
 * from pff's own OpenMP loops over disjoint output tiles, so that node threads
 * of a pipeline never share a BLAS thread pool and a product's bits depend
 * only on its shapes (DESIGN.md §2.4). Built with NO_BLAS=1 it is a plain C
 * loop nest, the reference for tests and sanitizer builds.
 *
 * Also here: the pure rule that picks the OpenBLAS kernel for a CPU
 * (pff_blas_choose_core), the CPUID reader and the check of a kernel against
 * the reference. Acting on them (starting the program again) is the command
 * line's: cli/runtime.c. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

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

/* ---- Which OpenBLAS kernel ----
 *
 * OpenBLAS picks its kernels ("core") from the CPU model when the library
 * loads. Versions before 0.3.25 fall back to generic SSE3 kernels (Prescott)
 * for models they do not know, although the CPU may have AVX-512: a third or
 * less of the speed. pff_blas_choose_core is the pure rule that picks the
 * best core the CPU's features allow when OpenBLAS's own pick is below them;
 * the command line's pff_runtime_start (cli/runtime.c) applies it by starting the
 * program again with OPENBLAS_CORETYPE set, since OpenBLAS reads it only while
 * loading. */

/* 3: AVX-512 kernels, 2: AVX2 + FMA, 1: AVX, 0: older or unknown. */
static int core_level(const char *core)
{
    static const struct {
        const char *name;
        int level;
    } known[] = {{"skylakex", 3},    {"cooperlake", 3}, {"sapphirerapids", 3}, {"haswell", 2},
                 {"zen", 2},         {"sandybridge", 1}, {"bulldozer", 1},      {"piledriver", 1},
                 {"steamroller", 1}, {"excavator", 1}};
    for (size_t i = 0; core && i < sizeof known / sizeof known[0]; i++)
        if (!strcasecmp(core, known[i].name))
            return known[i].level;
    return 0;
}

const char *pff_blas_choose_core(const pff_cpu *cpu, const char *current)
{
    int want = 0;
    if (cpu->avx512f && cpu->avx512bw && cpu->avx512vl && cpu->avx512dq)
        want = 3;
    else if (cpu->avx2 && cpu->fma)
        want = 2;
    else if (cpu->avx)
        want = 1;
    if (want <= core_level(current))
        return NULL; /* OpenBLAS's own pick is as good: keep it */
    if (want == 3)
        return cpu->avx512bf16 ? "Cooperlake" : "SkylakeX";
    if (want == 2)
        return cpu->vendor == PFF_CPU_AMD ? "Zen" : "Haswell";
    return "Sandybridge";
}

/* The OpenBLAS cores this CPU can run among those pff chooses from, best first:
 * the AVX-512 ones, the two AVX2 ones (Haswell and Zen: the same instructions,
 * tuned block sizes), Sandybridge (AVX) and Prescott (SSE3, every x86-64).
 * make test-kernels runs the tests once with each. Returns how many (<= max). */
int pff_blas_cores(const pff_cpu *cpu, const char **out, int max)
{
    const char *all[6];
    int n = 0;
    if (cpu->avx512f && cpu->avx512bw && cpu->avx512vl && cpu->avx512dq) {
        if (cpu->avx512bf16)
            all[n++] = "Cooperlake";
        all[n++] = "SkylakeX";
    }
    if (cpu->avx2 && cpu->fma) {
        all[n++] = cpu->vendor == PFF_CPU_AMD ? "Zen" : "Haswell";
        all[n++] = cpu->vendor == PFF_CPU_AMD ? "Haswell" : "Zen";
    }
    if (cpu->avx)
        all[n++] = "Sandybridge";
#if defined(__x86_64__)
    all[n++] = "Prescott";
#endif
    int k = 0;
    for (int i = 0; i < n && k < max; i++)
        out[k++] = all[i];
    return k;
}

/* The features as the operating system lets a program use them: AVX needs
 * the YMM state enabled (XCR0 bits 1-2), AVX-512 also the opmask and ZMM
 * state (bits 5-7). */
void pff_cpu_read(pff_cpu *cpu)
{
    memset(cpu, 0, sizeof *cpu);
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return;
    unsigned maxleaf = a;
    if (b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e) /* "GenuineIntel" */
        cpu->vendor = PFF_CPU_INTEL;
    else if (b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163) /* "AuthenticAMD" */
        cpu->vendor = PFF_CPU_AMD;
    __get_cpuid(1, &a, &b, &c, &d);
    int osxsave = (c >> 27) & 1;
    unsigned xcr0 = 0;
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = lo;
    }
    int ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xe6) == 0xe6;
    cpu->avx = ymm && ((c >> 28) & 1);
    cpu->fma = ymm && ((c >> 12) & 1);
    if (maxleaf >= 7) {
        __get_cpuid_count(7, 0, &a, &b, &c, &d);
        cpu->avx2 = ymm && ((b >> 5) & 1);
        cpu->avx512f = zmm && ((b >> 16) & 1);
        cpu->avx512dq = zmm && ((b >> 17) & 1);
        cpu->avx512bw = zmm && ((b >> 30) & 1);
        cpu->avx512vl = zmm && ((b >> 31) & 1);
        __get_cpuid_count(7, 1, &a, &b, &c, &d);
        cpu->avx512bf16 = zmm && ((a >> 5) & 1);
    }
#endif
}

/* The kernel against the reference loop nest on small cases that reach the
 * packed kernels and their edges, with every transposition. 0 when it agrees. */
int pff_blas_check(void)
{
    enum { M = 67, N = 45, K = 131 };
    static float a[M * K], b[K * N], c[M * N], r[M * N];
    for (int i = 0; i < M * K; i++)
        a[i] = pff_uniform(pff_hash(11, 1, 0, 0, (uint64_t)i)) - 0.5f;
    for (int i = 0; i < K * N; i++)
        b[i] = pff_uniform(pff_hash(11, 2, 0, 0, (uint64_t)i)) - 0.5f;
    for (int t = 0; t < 4; t++) {
        int ta = t & 1, tb = t >> 1;
        pff_matmul(ta, tb, M, N, K, 1.0f, a, ta ? M : K, b, tb ? K : N, 0.0f, c, N);
        matmul_naive(ta, tb, M, N, K, 1.0f, a, ta ? M : K, b, tb ? K : N, 0.0f, r, N);
        for (int i = 0; i < M * N; i++)
            if (!(fabsf(c[i] - r[i]) <= 1e-4f * (1.0f + fabsf(r[i]))))
                return 1;
    }
    return 0;
}
