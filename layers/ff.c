/* layers/ff.c — one Forward-Forward layer: forward, goodness, local loss,
 * gradient and Adam, side by side (DESIGN.md §1).
 *
 *   x  (2B, in)   a batch: B positive rows then the same B images with their
 *                 negative labels, already RMS-normalised
 *   z  (2B, out)  z = x W^T + b, then y = relu(z) in place
 *   G  (2B)       goodness G = sum_j y_j^2 (raw activities)
 *   L             mean over the B pairs of softplus(theta - G+) + softplus(G- - theta)
 *   dz (2B, out)  dL/dz = 2 y dL/dG (zero where y = 0), in place of y
 *   gW (out, in)  dz^T x, in tiles of PFF_GRAD_TILE output units, each written into
 *                 the thread's scratch and followed at once by its Adam step while it
 *                 is still in cache (with lr 0, no Adam: the whole gW into w->g)
 *
 * With --dropout P (pff_ff_reg), y is replaced right after the ReLU by
 * y' = m s y, m in {0, 1} the unit's keyed mask bit (dropout_hashes), s =
 * 1/(1-P); G, L and dz use y', and dz = 2 s y' dL/dG (the chain rule through
 * m s: a dropped unit gets none). With --weight-decay L, each weight's Adam
 * step also subtracts lr_e L w (pff_adam's decay; never the biases). Both
 * off, the arithmetic is exactly what it was before they existed.
 *
 * Parallelism: OpenMP over disjoint column blocks (forward), rows
 * (element-wise) and output tiles (gradient + Adam), each product on one
 * thread. The partition depends only on w->threads, so runs with the same
 * threads per node give the same bits on every schedule. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"

#ifdef _OPENMP
#include <omp.h>
int pff_thread_id(void) { return omp_get_thread_num(); }
#else
int pff_thread_id(void) { return 0; }
#endif

pff_layer *pff_layer_new(int in, int out)
{
    pff_layer *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->in = in;
    l->out = out;
    l->nparam = (size_t)out * in + out;
    l->slab = calloc(3 * l->nparam, sizeof(float));
    if (!l->slab) {
        free(l);
        return NULL;
    }
    l->w = l->slab;
    l->b = l->slab + (size_t)out * in;
    l->m = l->slab + l->nparam;
    l->v = l->slab + 2 * l->nparam;
    return l;
}

void pff_layer_free(pff_layer *l)
{
    if (l) {
        free(l->slab);
        free(l);
    }
}

/* Box-Muller on two counter-based uniforms: W ~ N(0, 1/in), b = 0. */
void pff_layer_init(pff_layer *l, uint64_t seed, int index)
{
    float sd = 1.0f / sqrtf((float)l->in);
    size_t nw = (size_t)l->out * l->in;
    for (size_t i = 0; i < nw; i++) {
        float u1 = pff_uniform(pff_hash(seed, PFF_RNG_INIT, index, 0, i));
        float u2 = pff_uniform(pff_hash(seed, PFF_RNG_INIT, index, 1, i));
        double r = sqrt(-2.0 * log(1.0 - (double)u1));
        l->w[i] = (float)(sd * r * cos(6.283185307179586 * u2));
    }
    memset(l->b, 0, (l->nparam - nw) * sizeof(float));
    memset(l->m, 0, 2 * l->nparam * sizeof(float));
    l->step = 0;
}

void pff_layer_copy(pff_layer *dst, const pff_layer *src)
{
    memcpy(dst->slab, src->slab, 3 * src->nparam * sizeof(float));
    dst->step = src->step;
}

void pff_layer_copy_params(pff_layer *dst, const pff_layer *src)
{
    memcpy(dst->slab, src->slab, src->nparam * sizeof(float));
}

void pff_layer_copy_moments(pff_layer *dst, const pff_layer *src)
{
    memcpy(dst->m, src->m, 2 * src->nparam * sizeof(float));
    dst->step = src->step;
}

/* ---- counter-based randomness (layers/random.h) ---- */
void pff_permutation(int *perm, int n, uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b)
{
    for (int i = 0; i < n; i++)
        perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(pff_hash(seed, purpose, a, b, (uint64_t)i) % (uint64_t)(i + 1));
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

/* ---- element-wise passes ----
 * Each row sum runs in PFF_LANES float accumulators, lane l taking elements
 * j ≡ l (mod PFF_LANES), reduced by halving in a fixed order: the compiler can
 * keep the lanes in one AVX-512 (or two AVX2) registers, and the bits depend
 * only on the row, never on the thread count, the clone picked at run time or
 * the schedule. No FMA may contract anything (C11 mode: -ffp-contract=off),
 * so every clone gives the same bits. GCC at -O2 leaves a loop scalar unless
 * told (`omp simd`), and the ReLU's select scalar in the AVX2 clone unless
 * FP traps are off (the Makefile's -fno-trapping-math; what the scalar
 * ReLU cost an AVX2 CPU: bench/runs/floor/avx2-clones.txt). */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define PFF_CLONES /* ifunc resolvers run before the sanitizer runtime is ready */
#elif defined(PFF_CLONES_AVX2) /* make VARIANT=avx2: what a CPU without AVX-512 runs */
#define PFF_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PFF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#define PFF_LANES 16

static inline float lanes_sum(float *acc)
{
    for (int w = PFF_LANES / 2; w >= 1; w /= 2)
        for (int l = 0; l < w; l++)
            acc[l] += acc[l + w];
    return acc[0];
}

PFF_CLONES
float pff_sumsq(const float *restrict x, int n)
{
    float acc[PFF_LANES] = {0};
    int j = 0;
    for (; j + PFF_LANES <= n; j += PFF_LANES)
#pragma omp simd /* lane l is its own sum: the same bits at any vector width */
        for (int l = 0; l < PFF_LANES; l++)
            acc[l] += x[j + l] * x[j + l];
    for (int l = 0; j < n; j++, l++)
        acc[l] += x[j] * x[j];
    return lanes_sum(acc);
}

PFF_CLONES
float pff_relu_bias_sumsq(float *restrict z, const float *restrict b, int n)
{
    float acc[PFF_LANES] = {0};
    int j = 0;
    for (; j + PFF_LANES <= n; j += PFF_LANES)
#pragma omp simd /* lane l is its own sum: the same bits at any vector width */
        for (int l = 0; l < PFF_LANES; l++) {
            float y = z[j + l] + b[j + l];
            y = y > 0.0f ? y : 0.0f;
            z[j + l] = y;
            acc[l] += y * y;
        }
    for (int l = 0; j < n; j++, l++) {
        float y = z[j] + b[j];
        y = y > 0.0f ? y : 0.0f;
        z[j] = y;
        acc[l] += y * y;
    }
    return lanes_sum(acc);
}

/* pff_relu_bias_sumsq with dropout, on one chunk of a row (j0 a multiple of
 * PFF_LANES, so element j still goes to lane j mod PFF_LANES and the sum keeps
 * the fixed order): y = relu(z + b), then 0 where bits < thr, else y * s.
 * The draws come widened to 32 bits: a 16-bit compare keeps the loop scalar. */
PFF_CLONES
static void relu_bias_drop_chunk(float *restrict z, const float *restrict b,
                                 const uint32_t *restrict bits, uint32_t thr, float s, int n,
                                 float *restrict acc)
{
    int j = 0;
    for (; j + PFF_LANES <= n; j += PFF_LANES)
#pragma omp simd /* lane l is its own sum: the same bits at any vector width */
        for (int l = 0; l < PFF_LANES; l++) {
            float y = z[j + l] + b[j + l];
            y = y > 0.0f ? y : 0.0f;
            y = bits[j + l] < thr ? 0.0f : y * s;
            z[j + l] = y;
            acc[l] += y * y;
        }
    for (int l = 0; j < n; j++, l++) {
        float y = z[j] + b[j];
        y = y > 0.0f ? y : 0.0f;
        y = bits[j] < thr ? 0.0f : y * s;
        z[j] = y;
        acc[l] += y * y;
    }
}

PFF_CLONES
void pff_scale(float *restrict x, float s, int n)
{
#pragma omp simd /* -O2 leaves a loop of unknown length scalar; element-wise, the same bits */
    for (int j = 0; j < n; j++)
        x[j] *= s;
}

float pff_rms_scale(float sumsq, int dim)
{
    return 1.0f / (sqrtf(sumsq / (float)dim) + PFF_RMS_EPS);
}

/* ---- inputs ---- */
void pff_rms_normalise(float *x, int dim)
{
    pff_scale(x, pff_rms_scale(pff_sumsq(x, dim), dim), dim);
}

void pff_embed(const float *img, int dim, int label, float *out)
{
    if (out != img)
        memcpy(out, img, (size_t)dim * sizeof(float));
    for (int j = 0; j < PFF_CLASSES && j < dim; j++)
        out[j] = label >= 0 ? (j == label ? 1.0f : 0.0f)
                            : (label == PFF_LABEL_NEUTRAL ? PFF_NEUTRAL : 0.0f);
}

float pff_cooldown(float lr, int e, int E)
{
    if (2 * e < E)
        return lr;
    return lr * 2.0f * (float)(E - e) / (float)E;
}

/* ---- scratch ---- */
/* floats of one thread's scratch: the largest of a goodness-table chunk (two
 * buffers of its 1000 label rows plus two of its 100 images), three map chunks,
 * and a weight-gradient tile of PFF_GRAD_TILE rows */
static size_t scratch_floats(int wmax)
{
    size_t rows = 2 * PFF_EVAL_IMAGES * PFF_CLASSES + 2 * PFF_EVAL_IMAGES;
    if (rows < 3 * PFF_MAP_ROWS)
        rows = 3 * PFF_MAP_ROWS;
    if (rows < PFF_GRAD_TILE)
        rows = PFF_GRAD_TILE;
    return rows * (size_t)wmax;
}

int pff_work_init(pff_work *w, int rows, int wmax, size_t max_param, int threads)
{
    memset(w, 0, sizeof *w);
    w->threads = threads < 1 ? 1 : threads;
    w->rows = rows;
    w->wmax = wmax;
    const size_t chunk = scratch_floats(wmax);
    w->x = malloc((size_t)rows * wmax * sizeof(float));
    w->z = malloc((size_t)rows * wmax * sizeof(float));
    w->g = malloc(max_param * sizeof(float));
    w->scratch = malloc((size_t)w->threads * chunk * sizeof(float));
    w->rowstat = malloc((size_t)rows * sizeof(double));
    w->dscale = malloc((size_t)rows * sizeof(float));
    if (!w->x || !w->z || !w->g || !w->scratch || !w->rowstat || !w->dscale) {
        pff_work_free(w);
        return PFF_EFAIL; /* out of memory */
    }
    return PFF_OK;
}

void pff_work_free(pff_work *w)
{
    free(w->x);
    free(w->z);
    free(w->g);
    free(w->scratch);
    free(w->rowstat);
    free(w->dscale);
    memset(w, 0, sizeof *w);
}

float *pff_work_scratch(pff_work *w, int t)
{
    return w->scratch + (size_t)t * scratch_floats(w->wmax);
}

/* ---- Adam (PyTorch's form: bias-corrected moments, eps outside the sqrt) ----
 * Memory-bound once vectorised: the loop must become packed sqrt and divide
 * (both correctly rounded, so every variant gives the same bits). The widest
 * clone the CPU runs is picked at run time; no FMA contracts anything.
 * decay > 0 (--weight-decay, AdamW's decoupled form) takes decay * p off p in
 * the same pass: p - decay p - step, in that order. decay == 0 runs the loop
 * of plain Adam untouched rather than p - 0 p, which would turn a -0.0
 * weight into +0.0 and an infinite one into NaN. */
PFF_CLONES
void pff_adam(float *restrict p, float *restrict m, float *restrict v, const float *restrict g,
              size_t n, float lr, float bc1, float bc2, float decay)
{
    const float b1 = PFF_ADAM_B1, b2 = PFF_ADAM_B2;
    const float step = lr / bc1, rbc2 = 1.0f / sqrtf(bc2);
    if (decay > 0.0f) {
#pragma omp simd
        for (size_t i = 0; i < n; i++) {
            float gi = g[i], pi = p[i];
            float mi = b1 * m[i] + (1.0f - b1) * gi;
            float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] = pi - decay * pi - step * mi / (sqrtf(vi) * rbc2 + PFF_ADAM_EPS);
        }
        return;
    }
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= step * mi / (sqrtf(vi) * rbc2 + PFF_ADAM_EPS);
    }
}

/* z *= s; sum += z (a dz row segment and the bias gradient it adds to). */
PFF_CLONES
static void scale_add(float *restrict z, float s, float *restrict sum, int n)
{
#pragma omp simd /* element-wise: vector lanes give the same bits */
    for (int j = 0; j < n; j++) {
        z[j] *= s;
        sum[j] += z[j];
    }
}

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* z = x W^T + b for R rows, columns split into w->threads blocks. */
static void forward_rows(const pff_layer *l, pff_work *w, const float *x, int R, float *z)
{
    const int T = w->threads, in = l->in, out = l->out;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (int t = 0; t < T; t++) {
        int j0 = (int)((long)out * t / T), j1 = (int)((long)out * (t + 1) / T);
        /* z[:, j0:j1] = x · W[j0:j1, :]^T */
        pff_matmul(0, 1, R, j1 - j0, in, 1.0f, x, in, l->w + (size_t)j0 * in, in, 0.0f, z + j0, out);
    }
}

/* ---- --dropout: the keyed mask ----
 * Unit j of the row of image `id`, half h (0: the positive row, 1: the
 * negative one), layer k, global epoch e, is dropped when its 16-bit draw
 *     bits(j) = pff_hash(seed, PFF_RNG_DROPOUT, k, e, ((2 id + h) << 22) | j / 4)
 *               >> 16 (j mod 4)  &  0xffff
 * is below round(P * 65536): one hash gives four units, widths are at most
 * 2^24 so j / 4 fits in 22 bits. Nothing in the key depends on the thread
 * count, the batch the image is in or the schedule, so every schedule drops
 * the same units. */
#define DROP_CHUNK 256 /* units per stack buffer of draws (a multiple of PFF_LANES and of 4) */

/* h[0..ng) = the hashes of the unit groups g0..g0+ng-1 of one row: head is
 * pff_hash_head(seed, PFF_RNG_DROPOUT, k, e), row is (2 id + h) << 22. Integer
 * arithmetic, so every clone gives the same bits; apart from the draws
 * below, so that the vector clones can hash several groups at once (measured:
 * twice as fast as hashing in the loop that stores the draws). */
PFF_CLONES
static void dropout_hashes(uint64_t head, uint64_t row, int g0, int ng, uint64_t *restrict h)
{
    for (int g = 0; g < ng; g++)
        h[g] = pff_hash_tail(head, row | (uint64_t)(g0 + g));
}

/* bits[4g + t] = bits 16t..16t+15 of h[g], for g < ng */
PFF_CLONES
static void dropout_draws(const uint64_t *restrict h, int ng, uint32_t *restrict bits)
{
    for (int g = 0; g < ng; g++)
        for (int t = 0; t < 4; t++)
            bits[4 * g + t] = (uint32_t)(h[g] >> (16 * t)) & 0xffffu;
}

/* pff_relu_bias_sumsq with the row's dropout applied after the ReLU:
 * z = m s relu(z + b), returns sum z^2 (same lanes, same order). */
static float relu_bias_drop_sumsq(float *z, const float *b, int n, uint64_t head, uint64_t row,
                                  uint32_t thr, float s)
{
    float acc[PFF_LANES] = {0};
    uint64_t h[DROP_CHUNK / 4];
    uint32_t bits[DROP_CHUNK];
    for (int j0 = 0; j0 < n; j0 += DROP_CHUNK) {
        const int m = n - j0 < DROP_CHUNK ? n - j0 : DROP_CHUNK, ng = (m + 3) / 4;
        dropout_hashes(head, row, j0 / 4, ng, h);
        dropout_draws(h, ng, bits);
        relu_bias_drop_chunk(z + j0, b + j0, bits, thr, s, m, acc);
    }
    return lanes_sum(acc);
}

/* bias, ReLU (and the dropout of reg, when it has one) and goodness, one pass per row */
static void activities(const pff_layer *l, pff_work *w, int B, const pff_ff_reg *reg, float s)
{
    const int R = 2 * B, out = l->out, T = w->threads;
    float *z = w->z;
    double *G = w->rowstat;
    if (!reg || !(reg->dropout > 0.0f)) {
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
        for (int r = 0; r < R; r++)
            G[r] = pff_relu_bias_sumsq(z + (size_t)r * out, l->b, out);
        return;
    }
    const uint32_t thr = (uint32_t)lround(reg->dropout * 65536.0);
    const uint64_t head = pff_hash_head(reg->seed, PFF_RNG_DROPOUT, (uint64_t)reg->layer,
                                    (uint64_t)reg->epoch);
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (int r = 0; r < R; r++) {
        const int i = r < B ? r : r - B;
        const uint64_t id = reg->ids ? (uint64_t)reg->ids[i] : (uint64_t)i;
        G[r] = relu_bias_drop_sumsq(z + (size_t)r * out, l->b, out, head,
                                    (2 * id + (uint64_t)(r >= B)) << 22, thr, s);
    }
}

double pff_ff_batch(pff_layer *l, pff_work *w, const float *x, int B, float theta, float lr,
                    const pff_ff_reg *reg, pff_stage_stats *st)
{
    const int R = 2 * B, in = l->in, out = l->out, T = w->threads;
    const int drop = reg && reg->dropout > 0.0f;
    const float s = drop ? 1.0f / (1.0f - reg->dropout) : 1.0f; /* survivors' scale */
    float *z = w->z;
    double *G = w->rowstat;
    forward_rows(l, w, x, R, z);
    activities(l, w, B, reg, s);

    /* local loss; G[r] becomes dL/dG */
    double loss = 0.0, gp = 0.0, gn = 0.0;
    for (int i = 0; i < B; i++) {
        double gpos = G[i], gneg = G[B + i];
        gp += gpos;
        gn += gneg;
        loss += softplus(theta - gpos) + softplus(gneg - theta);
        G[i] = -sigmoid(theta - gpos) / B;
        G[B + i] = sigmoid(gneg - theta) / B;
    }
    loss /= B;
    if (st) {
        st->loss += loss;
        st->gpos += gp / B;
        st->gneg += gn / B;
        st->batches++;
    }
    if (!isfinite(loss))
        return loss;

    float *dscale = w->dscale; /* dL/dz = 2 y dL/dG (dropout: 2 s y' dL/dG), tile by tile below */
    for (int r = 0; r < R; r++)
        dscale[r] = (float)(2.0 * s * G[r]); /* s == 1 exactly without dropout */

    int update = lr > 0.0f;
    if (update)
        l->step++;
    const float bc1 = 1.0f - powf(PFF_ADAM_B1, (float)l->step);
    const float bc2 = 1.0f - powf(PFF_ADAM_B2, (float)l->step);
    /* --weight-decay: lr_e L on the weights, never on the biases */
    const float decay = reg && reg->weight_decay > 0.0f ? lr * reg->weight_decay : 0.0f;
    const int ntile = (out + PFF_GRAD_TILE - 1) / PFF_GRAD_TILE;
    float *gw = w->g, *gb = w->g + (size_t)out * in;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (int t = 0; t < ntile; t++) {
        int j0 = t * PFF_GRAD_TILE, j1 = j0 + PFF_GRAD_TILE < out ? j0 + PFF_GRAD_TILE : out;
        /* dz[:, j0:j1] = 2 y dL/dG, and gb[j0:j1] = its column sums, while in cache */
        for (int j = j0; j < j1; j++)
            gb[j] = 0.0f;
        for (int r = 0; r < R; r++)
            scale_add(z + (size_t)r * out + j0, dscale[r], gb + j0, j1 - j0);
        /* gW[j0:j1, :] = dz[:, j0:j1]^T · x, into the thread's scratch when Adam takes it at
         * once: one buffer reused by every tile stays in cache, where a whole gW in w->g
         * would cost 8 bytes of memory traffic a weight (read for ownership, written back) */
        float *gt = update ? pff_work_scratch(w, pff_thread_id()) : gw + (size_t)j0 * in;
        pff_matmul(1, 0, j1 - j0, in, R, 1.0f, z + j0, out, x, in, 0.0f, gt, in);
        if (update) {
            size_t o = (size_t)j0 * in, n = (size_t)(j1 - j0) * in;
            pff_adam(l->w + o, l->m + o, l->v + o, gt, n, lr, bc1, bc2, decay);
            size_t ob = (size_t)out * in + j0;
            pff_adam(l->slab + ob, l->m + ob, l->v + ob, w->g + ob, (size_t)(j1 - j0), lr, bc1, bc2,
                     0.0f);
        }
    }
    return loss;
}

/* y = relu(x W^T + b), then each row RMS-normalised, in place in out. */
static void map_chunk(const pff_layer *l, const float *x, int rows, float *out)
{
    /* out = x · W^T */
    pff_matmul(0, 1, rows, l->out, l->in, 1.0f, x, l->in, l->w, l->in, 0.0f, out, l->out);
    for (int r = 0; r < rows; r++) {
        float *o = out + (size_t)r * l->out;
        pff_scale(o, pff_rms_scale(pff_relu_bias_sumsq(o, l->b, l->out), l->out), l->out);
    }
}

void pff_ff_map(const pff_layer *l, pff_work *w, const float *x, long n, float *out)
{
    const int T = w->threads;
    const long nchunk = (n + PFF_MAP_ROWS - 1) / PFF_MAP_ROWS;
#pragma omp parallel for num_threads(T) if (T > 1) schedule(static)
    for (long c = 0; c < nchunk; c++) {
        long r0 = c * PFF_MAP_ROWS;
        int rows = (int)(n - r0 < PFF_MAP_ROWS ? n - r0 : PFF_MAP_ROWS);
        map_chunk(l, x + (size_t)r0 * l->in, rows, out + (size_t)r0 * l->out);
    }
}
