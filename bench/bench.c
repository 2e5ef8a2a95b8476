/* bench/bench.c — where the time of an FF step goes, against the machine's
 * sgemm peak measured in the same run (llm.c dev/cpu style: every kernel
 * variant is checked against a reference before it is timed).
 *
 *   1. machine: cores, OpenBLAS core type;
 *   2. sgemm GFLOP/s on the trainer's shapes, 1 thread and T threads (T
 *      products at once, one per thread, as pff's tiles run them); the peak
 *      is the best of these;
 *   3. one FF layer step (forward, element-wise, weight gradient + Adam) for
 *      the paper's 2000x2000 and 784x2000 layers and a 500x500 one, timed
 *      whole and by part (a step with lr 0 skips Adam), checked against a
 *      naive reference first; and the whole step again with --dropout 0.2
 *      --weight-decay 0.01 (what the keyed mask and the fused decay cost);
 *   4. the epoch of a network these give: seconds, GFLOP/s, % of peak;
 *   5. the goodness table (adaptive negatives, evaluation) per image;
 *   6. memory bandwidth: a STREAM-style triad on 1 and 2 threads (and T);
 *   7. each FF step of 3. against its roofline: its products at the peak of 2., then Adam's
 *      24 bytes a parameter at the triad of 6.
 * Usage: bench [--floor | --cores] [threads] (default: all cores). --cores lists the OpenBLAS
 * cores this CPU runs, best first (pff_blas_cores). --floor prints only
 * one JSON line for bench/floor.sh: the sgemm peak on `threads` threads (as in
 * 2.) and the triad bandwidths (as in 6.). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../cli/cli.h" /* pff_runtime_start (cli/runtime.c) */
#include "../layers/layers.h"

#ifdef _OPENMP
#include <omp.h>
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fill(float *p, size_t n, uint64_t key)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pff_uniform(pff_hash(7, key, 0, 0, i)) - 0.5f;
}

/* ---- 2. sgemm peak ---- */
typedef struct {
    const char *what;
    int ta, tb, m, n, k;
} shape;

static double check_product(const shape *s, const float *a, const float *b, float *c)
{
    int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    pff_matmul(s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n);
    double maxerr = 0;
    for (int t = 0; t < 64; t++) { /* 64 entries against a double dot product */
        int i = (int)(pff_hash(1, 2, 3, 4, t) % s->m), j = (int)(pff_hash(1, 2, 3, 5, t) % s->n);
        double ref = 0;
        for (int p = 0; p < s->k; p++)
            ref += (double)(s->ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p]) *
                   (s->tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j]);
        double e = fabs(ref - c[(size_t)i * s->n + j]) / (1 + fabs(ref));
        maxerr = e > maxerr ? e : maxerr;
    }
    return maxerr;
}

static double time_product(const shape *s, int threads)
{
    size_t na = (size_t)s->m * s->k, nb = (size_t)s->k * s->n, nc = (size_t)s->m * s->n;
    double best = 1e30;
#pragma omp parallel num_threads(threads)
    {
        float *a = malloc(na * 4), *b = malloc(nb * 4), *c = malloc(nc * 4);
        fill(a, na, 1);
        fill(b, nb, 2);
        int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
        for (int rep = 0; rep < 5; rep++) {
#pragma omp barrier
            double t0 = now();
            int iters = 0;
            while (now() - t0 < 0.15) {
                pff_matmul(s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n);
                iters++;
            }
            double dt = (now() - t0) / iters;
#pragma omp critical
            if (dt < best)
                best = dt;
        }
        free(a), free(b), free(c);
    }
    return 2.0 * s->m * s->n * s->k / best / 1e9 * threads;
}

/* Checks every shape against the reference, then times it on T threads (and
 * on 1 thread when peak1 is given, printing a line per shape); returns the
 * best T-thread GFLOP/s, or -1 when a check fails. */
static double sgemm_peak(const shape *shapes, int ns, int T, double *peak1)
{
    double peakT = 0;
    for (int i = 0; i < ns; i++) {
        const shape *s = &shapes[i];
        float *a = malloc((size_t)s->m * s->k * 4), *b = malloc((size_t)s->k * s->n * 4),
              *c = malloc((size_t)s->m * s->n * 4);
        fill(a, (size_t)s->m * s->k, 1);
        fill(b, (size_t)s->k * s->n, 2);
        double err = check_product(s, a, b, c);
        free(a), free(b), free(c);
        if (err > 1e-4) {
            printf("  %s: FAILED check (error %g)\n", s->what, err);
            return -1;
        }
        double gT = time_product(s, T);
        peakT = gT > peakT ? gT : peakT;
        if (peak1) {
            double g1 = T > 1 ? time_product(s, 1) : gT;
            *peak1 = g1 > *peak1 ? g1 : *peak1;
            printf("  %-48s %7.1f GFLOP/s on 1 thread, %7.1f on %d (one product each)\n", s->what,
                   g1, gT, T);
        }
    }
    return peakT;
}

/* ---- 6. memory bandwidth ---- */
/* a[i] = b[i] + s * c[i] over three arrays of TRIAD_N floats (64 MiB each, far
 * beyond any cache), counted as STREAM counts it: 12 bytes per element (two
 * reads, one write; the write-allocate read is not counted). The arrays are
 * first touched by the threads that use them; best of 20 passes, GB/s. */
#define TRIAD_N ((size_t)1 << 24)
static double triad_gbs(float *a, float *b, float *c, int threads)
{
    double best = 1e30;
    (void)threads;
    for (int rep = 0; rep < 20; rep++) {
        double t0 = now();
        /* simd: at -O2 the loop stays scalar, and one scalar thread measured its own
         * instruction rate (30 GB/s on a Zen 5) rather than the memory's */
#pragma omp parallel for simd num_threads(threads) schedule(static)
        for (size_t i = 0; i < TRIAD_N; i++)
            a[i] = b[i] + 0.5f * c[i];
        double dt = now() - t0;
        best = dt < best ? dt : best;
    }
    if (a[TRIAD_N / 2] != b[TRIAD_N / 2] + 0.5f * c[TRIAD_N / 2]) /* keeps the loop, checks it */
        return -1;
    return 12.0 * TRIAD_N / best / 1e9;
}

/* Triad GB/s on threads[0..nt); 0 each when memory is short. */
static void triad(const int *threads, int nt, double *gbs)
{
    float *a = malloc(TRIAD_N * 4), *b = malloc(TRIAD_N * 4), *c = malloc(TRIAD_N * 4);
    int tmax = 1;
    for (int i = 0; i < nt; i++)
        tmax = threads[i] > tmax ? threads[i] : tmax;
    for (int i = 0; i < nt; i++)
        gbs[i] = 0;
    if (a && b && c) {
#pragma omp parallel for num_threads(tmax) schedule(static)
        for (size_t i = 0; i < TRIAD_N; i++)
            a[i] = 0, b[i] = (float)(i & 1023), c[i] = 1.0f;
        for (int i = 0; i < nt; i++)
            gbs[i] = triad_gbs(a, b, c, threads[i]);
    }
    free(a), free(b), free(c);
}

/* ---- 3. one FF step ---- */
typedef struct {
    double total, no_adam, forward, gradient;
    double regularised; /* the whole step with --dropout 0.2 --weight-decay 0.01 */
} step_times;

static double time_it(void (*f)(void *), void *arg, double budget)
{
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        int iters = 0;
        while (now() - t0 < budget) {
            f(arg);
            iters++;
        }
        double dt = (now() - t0) / iters;
        best = dt < best ? dt : best;
    }
    return best;
}

typedef struct {
    pff_layer *l;
    pff_work *w;
    float *x;
    int B;
    float lr;
    const pff_ff_reg *reg; /* NULL: plain FF */
} step_arg;

static void run_step(void *p)
{
    step_arg *s = p;
    pff_ff_batch(s->l, s->w, s->x, s->B, (float)s->l->out, s->lr, s->reg, NULL);
}

static void run_forward(void *p)
{
    step_arg *s = p;
    const int T = s->w->threads, R = 2 * s->B, out = s->l->out, in = s->l->in;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (int t = 0; t < T; t++) {
        int j0 = (int)((long)out * t / T), j1 = (int)((long)out * (t + 1) / T);
        pff_matmul(0, 1, R, j1 - j0, in, 1.0f, s->x, in, s->l->w + (size_t)j0 * in, in, 0.0f,
                   s->w->z + j0, out);
    }
}

static void run_gradient(void *p)
{
    step_arg *s = p;
    const int T = s->w->threads, R = 2 * s->B, out = s->l->out, in = s->l->in;
    const int ntile = (out + PFF_GRAD_TILE - 1) / PFF_GRAD_TILE;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (int t = 0; t < ntile; t++) {
        int j0 = t * PFF_GRAD_TILE, j1 = j0 + PFF_GRAD_TILE < out ? j0 + PFF_GRAD_TILE : out;
        pff_matmul(1, 0, j1 - j0, in, R, 1.0f, s->w->z + j0, out, s->x, in, 0.0f,
                   s->w->g + (size_t)j0 * in, in);
    }
}

/* A layer, its work buffers and a batch of 2B normalised random rows for one FF step. */
static float *step_setup(int in, int out, int B, int T, pff_layer **l, pff_work *w)
{
    *l = pff_layer_new(in, out);
    pff_layer_init(*l, 3, 0);
    pff_work_init(w, 2 * B, in > out ? in : out, (*l)->nparam, T);
    float *x = malloc(sizeof(float) * 2 * B * in);
    fill(x, (size_t)2 * B * in, 9);
    for (int r = 0; r < 2 * B; r++)
        pff_rms_normalise(x + (size_t)r * in, in);
    return x;
}

/* The step against a naive double reference: loss and a few gradient entries. */
static int check_step(int in, int out, int T)
{
    const int B = 8;
    pff_layer *l;
    pff_work w;
    float *x = step_setup(in, out, B, T, &l, &w);
    double theta = out, loss = pff_ff_batch(l, &w, x, B, (float)theta, 0.0f, NULL, NULL), ref = 0;
    double *G = calloc(2 * B, sizeof(double)), *y = malloc(sizeof(double) * 2 * B * out);
    for (int r = 0; r < 2 * B; r++)
        for (int j = 0; j < out; j++) {
            double z = l->b[j];
            for (int i = 0; i < in; i++)
                z += (double)l->w[(size_t)j * in + i] * x[(size_t)r * in + i];
            y[(size_t)r * out + j] = z > 0 ? z : 0;
            G[r] += z > 0 ? z * z : 0;
        }
    for (int i = 0; i < B; i++) {
        double a = theta - G[i], b = G[B + i] - theta;
        ref += (a > 0 ? a + log1p(exp(-a)) : log1p(exp(a))) + (b > 0 ? b + log1p(exp(-b)) : log1p(exp(b)));
    }
    ref /= B;
    double maxerr = 0; /* dL/dW[j][i] = sum_r 2 y_rj dG_r x_ri */
    for (int t = 0; t < 32; t++) {
        int j = (int)(pff_hash(5, 5, 5, 5, t) % out), i = (int)(pff_hash(5, 5, 5, 6, t) % in);
        double g = 0;
        for (int r = 0; r < 2 * B; r++) {
            double dG = r < B ? -1 / (1 + exp(-(theta - G[r]))) / B : 1 / (1 + exp(-(G[r] - theta))) / B;
            g += 2 * y[(size_t)r * out + j] * dG * x[(size_t)r * in + i];
        }
        double e = fabs(g - w.g[(size_t)j * in + i]) / (1e-6 + fabs(g));
        maxerr = e > maxerr && fabs(g) > 1e-8 ? e : maxerr;
    }
    int ok = fabs(loss - ref) / (1 + fabs(ref)) < 1e-4 && maxerr < 1e-2;
    printf("  check: FF step %dx%d, %d thread(s): loss %.6g vs %.6g, max gradient error %.2g: %s\n",
           in, out, T, loss, ref, maxerr, ok ? "ok" : "FAILED");
    free(G), free(y), free(x);
    pff_work_free(&w);
    pff_layer_free(l);
    return ok;
}

static step_times time_step(int in, int out, int B, int T)
{
    pff_layer *l;
    pff_work w;
    float *x = step_setup(in, out, B, T, &l, &w);
    step_arg a = {l, &w, x, B, 1e-9f, NULL};
    step_times t;
    t.total = time_it(run_step, &a, 0.4);
    const pff_ff_reg reg = {0.2f, 0.01f, 1, 0, 0, NULL};
    a.reg = &reg;
    t.regularised = time_it(run_step, &a, 0.4);
    a.reg = NULL;
    a.lr = 0.0f;
    t.no_adam = time_it(run_step, &a, 0.4);
    t.forward = time_it(run_forward, &a, 0.3);
    t.gradient = time_it(run_gradient, &a, 0.3);
    free(x);
    pff_work_free(&w);
    pff_layer_free(l);
    return t;
}

/* ---- the report, section by section ---- */

/* The products timed in 2.: the trainer's shapes. */
static const shape shapes[] = {
    {"forward  (128 x 2000 x 2000, x W^T)", 0, 1, 128, 2000, 2000},
    {"forward, half the columns (128 x 1000 x 2000)", 0, 1, 128, 1000, 2000},
    {"gradient tile (128 x 2000 x 128, dz^T x)", 1, 0, 128, 2000, 128},
    {"map chunk (512 x 2000 x 2000)", 0, 1, 512, 2000, 2000},
    {"table chunk (1000 x 2000 x 2000)", 0, 1, 1000, 2000, 2000},
    {"square (2000 x 2000 x 2000)", 0, 1, 2000, 2000, 2000},
};
#define NSHAPES ((int)(sizeof shapes / sizeof shapes[0]))

/* The layers stepped in 3.: the paper network's two shapes, then the small network's two. */
static const struct {
    int in, out;
} step_layers[4] = {{784, 2000}, {2000, 2000}, {784, 500}, {500, 500}};

/* 3. One FF step of each layer of step_layers, checked first, timed whole and by part into st;
 * 0 when a check fails. */
static int report_steps(int T, double peakT, step_times *st)
{
    printf("\nFF step, batch 64 (64 positive + 64 negative rows):\n");
    if (!check_step(300, 200, 1) || !check_step(300, 200, T))
        return 0;
    for (int i = 0; i < 4; i++) {
        const int in = step_layers[i].in, out = step_layers[i].out;
        st[i] = time_step(in, out, 64, T);
        double flop = 2.0 * 2 * 128.0 * in * out;
        double other = st[i].no_adam - st[i].forward - st[i].gradient;
        printf("  %4d x %4d: %6.2f ms/step = %5.1f GFLOP/s (%4.1f%% of peak): forward %.2f ms, "
               "gradient %.2f ms, element-wise %.2f ms, Adam %.2f ms; with --dropout 0.2 "
               "--weight-decay 0.01 %.2f ms (x%.3f)\n",
               in, out, 1e3 * st[i].total, flop / st[i].total / 1e9,
               100 * flop / st[i].total / 1e9 / peakT, 1e3 * st[i].forward, 1e3 * st[i].gradient,
               1e3 * (other > 0 ? other : 0), 1e3 * (st[i].total - st[i].no_adam),
               1e3 * st[i].regularised, st[i].regularised / st[i].total);
    }
    return 1;
}

/* 4. Epochs of 60,000 images (batches of 64) from the step times; returns the paper network's. */
static double report_epochs(const step_times *st, double peakT)
{
    const double steps = 60000.0 / 64;
    double paper = steps * (st[0].total + 3 * st[1].total);
    double paper_flop = 6.0e4 * 8.0 * (784.0 * 2000 + 3 * 2000.0 * 2000);
    double small = steps * (st[2].total + 2 * st[3].total);
    double small_flop = 6.0e4 * 8.0 * (784.0 * 500 + 2 * 500.0 * 500);
    printf("\nepoch of 60,000 images from the step times (products counted as DESIGN.md §5):\n");
    printf("  paper [784,2000,2000,2000,2000]: %6.1f s, %5.1f GFLOP/s, %4.1f%% of the %.1f GFLOP/s peak\n",
           paper, paper_flop / paper / 1e9, 100 * paper_flop / paper / 1e9 / peakT, peakT);
    printf("  small [784,500,500,500]:         %6.1f s, %5.1f GFLOP/s, %4.1f%% of peak\n", small,
           small_flop / small / 1e9, 100 * small_flop / small / 1e9 / peakT);
    return paper;
}

/* 5. The goodness table of the paper network on 2,000 random images, against the epoch. */
static void report_table(int T, double paper_epoch)
{
    enum { NIMG = 2000 };
    const int w[5] = {784, 2000, 2000, 2000, 2000};
    pff_layer *net[4];
    for (int k = 0; k < 4; k++) {
        net[k] = pff_layer_new(w[k], w[k + 1]);
        pff_layer_init(net[k], 1, k);
    }
    pff_work ww;
    pff_work_init(&ww, 2, 2000, 2000 * 2000 + 2000, T);
    float *img = malloc(sizeof(float) * NIMG * 784), *table = malloc(sizeof(float) * NIMG * 10);
    for (int i = 0; i < NIMG * 784; i++)
        img[i] = pff_uniform(pff_hash(3, 3, 3, 3, i));
    double t0 = now();
    pff_goodness_table(net, 4, 1, &ww, img, NIMG, 784, NULL, table);
    double per = (now() - t0) / NIMG;
    printf("\ngoodness table, paper network: %.2f ms per image (10 labels): regenerating adaptive "
           "negatives for 60,000 images %.1f s = %.2fx the epoch; evaluating 10,000 images %.1f s "
           "= %.2fx\n",
           1e3 * per, per * 60000, per * 60000 / paper_epoch, per * 10000, per * 10000 / paper_epoch);
    free(img), free(table);
    pff_work_free(&ww);
    for (int k = 0; k < 4; k++)
        pff_layer_free(net[k]);
}

/* 6. The triad on each of the nt thread counts tt into gbs, and what Adam's traffic costs an
 * epoch of the paper network at the one of T threads (gbT). */
static void report_memory(const int *tt, int nt, double *gbs, double gbT, int T)
{
    printf("\nmemory: triad a = b + s*c, 3 x 64 MiB, %.1f GB/s on 1 thread, %.1f on 2", gbs[0], gbs[1]);
    if (nt > 2)
        printf(", %.1f on %d", gbs[2], tt[2]);
    const double steps = 60000.0 / 64, nparam = 784.0 * 2000 + 2000 + 3 * (2000.0 * 2000 + 2000);
    printf("\n  Adam, 24 bytes per parameter per step: %.1f s per paper-network epoch (%.0f steps of "
           "%.1f M parameters) at the %d-thread triad\n",
           steps * nparam * 24 / (gbT * 1e9), steps, nparam / 1e6, T);
}

/* 7. Each step against its roofline: both products at the peak, then Adam's 24 bytes a
 * parameter at the triad (nothing overlaps them: they run one after the other on the same
 * threads, DESIGN.md §5). */
static void report_roofline(const step_times *st, double peakT, double gbT)
{
    printf("\nroofline of one step: its two products at the %.1f GFLOP/s peak, then Adam's 24 bytes "
           "a parameter at the %.1f GB/s triad:\n", peakT, gbT);
    for (int i = 0; i < 4; i++) {
        const double in = step_layers[i].in, out = step_layers[i].out;
        double prod = 2.0 * 2 * 128.0 * in * out / (peakT * 1e9);
        double adam = 24.0 * (in * out + out) / (gbT * 1e9);
        printf("  %4d x %4d: products 2 x %.2f ms + Adam %.2f ms = %.2f ms; the step (%.2f ms) is "
               "%.3fx it, its products (%.2f ms) %.3fx theirs\n",
               step_layers[i].in, step_layers[i].out, 1e3 * prod / 2, 1e3 * adam, 1e3 * (prod + adam),
               1e3 * st[i].total, st[i].total / (prod + adam), 1e3 * (st[i].forward + st[i].gradient),
               (st[i].forward + st[i].gradient) / prod);
    }
}

/* --cores: the OpenBLAS cores this CPU runs (CPUID), best first. */
static int list_cores(void)
{
    pff_cpu cpu;
    const char *names[8];
    pff_cpu_read(&cpu);
    int n = pff_blas_cores(&cpu, names, 8);
    for (int k = 0; k < n; k++)
        printf("%s\n", names[k]);
    return 0;
}

int main(int argc, char **argv)
{
    pff_runtime_start(argv, pff_blas_check);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int T = (int)cores, floor_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--floor"))
            floor_only = 1;
        else if (!strcmp(argv[i], "--cores"))
            return list_cores();
        else if (argv[i][0] >= '0' && argv[i][0] <= '9')
            T = atoi(argv[i]);
        else {
            fprintf(stderr, "usage: bench [--floor | --cores] [threads]\n");
            return 2;
        }
    }
    if (T < 1)
        T = 1;
    pff_blas_init();
    const char *ct = getenv("OPENBLAS_CORETYPE");
    /* the triad on 1, 2 and T threads; gbs[it] is T's */
    int tt[3] = {1, 2, T}, ntt = T > 2 ? 3 : 2, it = T == 1 ? 0 : T == 2 ? 1 : 2;
    double gbs[3];
    if (floor_only) { /* one machine-readable line for bench/floor.sh */
        double peak = sgemm_peak(shapes, NSHAPES, T, NULL);
        if (peak < 0)
            return 1;
        triad(tt, ntt, gbs);
        printf("{\"threads\":%d,\"cores\":%ld,\"blas_core\":\"%s\",\"openblas_coretype\":\"%s\","
               "\"sgemm_peak_gflops\":%.2f,\"triad_gbs_1\":%.2f,\"triad_gbs_2\":%.2f,"
               "\"triad_gbs_threads\":%.2f}\n",
               T, cores, pff_blas_name(), ct ? ct : "unset", peak, gbs[0], gbs[1], gbs[it]);
        return 0;
    }
    printf("machine: %ld cores; OpenBLAS kernel %s (OPENBLAS_CORETYPE=%s); %d thread(s) per step; "
           "OMP_WAIT_POLICY=%s\n",
           cores, pff_blas_name(), ct ? ct : "unset", T, getenv("OMP_WAIT_POLICY"));

    double peak1 = 0, peakT;
    printf("\nsgemm (each shape checked against a double dot product first):\n");
    if ((peakT = sgemm_peak(shapes, NSHAPES, T, &peak1)) < 0)
        return 1;
    printf("  peak: %.1f GFLOP/s on 1 thread, %.1f GFLOP/s on %d threads\n", peak1, peakT, T);
    step_times st[4];
    if (!report_steps(T, peakT, st))
        return 1;
    report_table(T, report_epochs(st, peakT));
    triad(tt, ntt, gbs);
    report_memory(tt, ntt, gbs, gbs[it], T);
    report_roofline(st, peakT, gbs[it]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS of this benchmark: %.0f MB\n", ru.ru_maxrss / 1024.0);
    return 0;
}
