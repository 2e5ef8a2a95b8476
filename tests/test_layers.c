/* tests/test_layers.c — the maths against straightforward references:
 * finite differences of the FF loss and of the softmax head, hand-computed
 * goodness, RMS normalisation, label embedding, Adam and cooldown, the BLAS
 * product against a naive loop nest on the trainer's shapes, the goodness
 * table and features against a plain per-label forward pass; hard negatives
 * against the softmax of a hand-made goodness table, and image shifts on a
 * synthetic picture; --dropout's mask against its documented key, its
 * gradient by finite differences, --weight-decay's Adam step against a
 * scalar AdamW, and the tiled Adam of an FF step against one whole pass. */
#define _GNU_SOURCE /* feenableexcept */
#include <fenv.h>
#include <stdlib.h>
#include <string.h>

#include "../layers/layers.h"
#include "check.h"

static float frand(uint64_t i) { return pff_uniform(pff_hash(99, 7, 0, 0, i)) * 2.0f - 1.0f; }

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

/* --dropout's mask as layers/ff.c documents it: is unit j of pair i's row
 * (half 0: positive, 1: negative) dropped in layer k, epoch e? */
static int dropped_ref(uint64_t seed, int k, int e, int id, int half, int j, float P)
{
    uint64_t key = ((2 * (uint64_t)id + (uint64_t)half) << 22) | (uint64_t)(j / 4);
    uint64_t h = pff_hash(seed, PFF_RNG_DROPOUT, (uint64_t)k, (uint64_t)e, key);
    return (long)((h >> (16 * (j % 4))) & 0xffff) < lround(P * 65536.0);
}

/* Reference FF loss in double, params p = W|b as doubles; with reg, the
 * activities go through its dropout (ids NULL: pair i is image i). */
static double ff_loss_ref(const double *p, int in, int out, const float *x, int B, double theta,
                          const pff_ff_reg *reg)
{
    double loss = 0;
    for (int r = 0; r < 2 * B; r++) {
        double G = 0;
        for (int j = 0; j < out; j++) {
            double z = p[(size_t)out * in + j];
            for (int i = 0; i < in; i++)
                z += p[(size_t)j * in + i] * x[(size_t)r * in + i];
            if (reg && reg->dropout > 0)
                z = dropped_ref(reg->seed, reg->layer, reg->epoch, r % B, r >= B, j, reg->dropout)
                        ? 0
                        : z / (1.0 - (double)reg->dropout);
            if (z > 0)
                G += z * z;
        }
        loss += r < B ? softplus(theta - G) : softplus(G - theta);
    }
    return loss / B;
}

static void test_ff_gradient(int threads, float dropout)
{
    const int in = 12, out = 7, B = 3;
    pff_layer *l = pff_layer_new(in, out);
    pff_layer_init(l, 5, 0);
    for (int j = 0; j < out; j++)
        l->b[j] = 0.1f * frand(1000 + j);
    float x[2 * 3 * 12];
    for (int i = 0; i < 2 * B * in; i++)
        x[i] = frand(i);
    for (int r = 0; r < 2 * B; r++)
        pff_rms_normalise(x + r * in, in);
    pff_work w;
    CHECK(pff_work_init(&w, 2 * B, in > out ? in : out, l->nparam, threads) == 0, "work");
    const double theta = 1.0 * out;
    /* with dropout: P of the units off, each row its own mask (ids NULL: pair i is image i) */
    const pff_ff_reg reg = {dropout, 0.0f, 23, 1, 4, NULL}, *rp = dropout > 0 ? &reg : NULL;
    double loss = pff_ff_batch(l, &w, x, B, (float)theta, 0.0f, rp, NULL);
    double *p = malloc(l->nparam * sizeof(double));
    for (size_t i = 0; i < l->nparam; i++)
        p[i] = l->slab[i];
    CHECK_NEAR(loss, ff_loss_ref(p, in, out, x, B, theta, rp), 1e-4, "loss vs reference");
    double maxerr = 0;
    for (size_t i = 0; i < l->nparam; i++) {
        const double h = 1e-5, keep = p[i];
        p[i] = keep + h;
        double lp = ff_loss_ref(p, in, out, x, B, theta, rp);
        p[i] = keep - h;
        double lm = ff_loss_ref(p, in, out, x, B, theta, rp);
        p[i] = keep;
        double fd = (lp - lm) / (2 * h), err = fabs(fd - w.g[i]) / (fabs(fd) + 1e-3);
        if (err > maxerr)
            maxerr = err;
    }
    CHECK(maxerr < 2e-3,
          "FF gradient vs finite differences (threads %d, dropout %g): max rel err %g", threads,
          (double)dropout, maxerr);
    CHECK(l->step == 0, "lr 0 takes no Adam step");
    free(p);
    pff_work_free(&w);
    pff_layer_free(l);
}

/* --dropout on a 2000-wide layer: the units dropped are exactly those of the
 * documented key (image id, positive/negative half, unit), their fraction is
 * P within 5 standard deviations, and 1 and 2 threads give the same layer.
 * W = 0 and b > 0 make every unit active (z = b) and every product exact
 * whatever its partition (with random W the 1- and 2-thread products differ
 * in their last bits, DESIGN.md §2.4), so the only thing the thread count
 * could change here is the mask. */
static void test_dropout_mask(void)
{
    enum { in = 16, out = 2000, B = 32 };
    const float P = 0.3f;
    pff_layer *l = pff_layer_new(in, out), *l2 = pff_layer_new(in, out); /* zeroed: W = 0 */
    for (int j = 0; j < out; j++)
        l->b[j] = 0.01f + 1e-5f * (float)j;
    static float x[2 * B * in];
    for (int i = 0; i < 2 * B * in; i++)
        x[i] = frand(40000 + i);
    for (int r = 0; r < 2 * B; r++)
        pff_rms_normalise(x + r * in, in);
    int ids[B];
    for (int i = 0; i < B; i++)
        ids[i] = 1000 + 7 * i;
    pff_ff_reg reg = {P, 0.0f, 17, 2, 5, ids};
    pff_work w1, w2;
    CHECK(pff_work_init(&w1, 2 * B, out, l->nparam, 1) == 0 &&
              pff_work_init(&w2, 2 * B, out, l->nparam, 2) == 0,
          "work");
    /* theta at the mean goodness: dL/dG, and with it every kept unit's dz, is far from 0 */
    pff_stage_stats st = {0};
    pff_ff_batch(l, &w1, x, B, 1.0f, 0.0f, &reg, &st);
    const float theta = (float)st.gpos;
    pff_ff_batch(l, &w1, x, B, theta, 0.0f, &reg, NULL);
    pff_ff_batch(l, &w2, x, B, theta, 0.0f, &reg, NULL);
    long n = 0, drop = 0, wrong = 0, differ_halves = 0;
    for (int r = 0; r < 2 * B; r++)
        for (int j = 0; j < out; j++) {
            int want = dropped_ref(17, 2, 5, ids[r % B], r >= B, j, P);
            int got = w1.z[(size_t)r * out + j] == 0.0f;
            wrong += want != got || (w2.z[(size_t)r * out + j] == 0.0f) != got;
            drop += got;
            differ_halves += r < B && want != dropped_ref(17, 2, 5, ids[r], 1, j, P);
            n++;
        }
    const double frac = (double)drop / n, sd = sqrt(P * (1 - P) / n);
    CHECK(wrong == 0, "dropout: the units with dz = 0 are the mask of the key, with 1 and with 2 "
          "threads (%ld of %ld differ)", wrong, n);
    CHECK(fabs(frac - P) < 5 * sd, "dropout %g: %.5f of %ld units dropped (5 sd = %.5f)", (double)P,
          frac, n, 5 * sd);
    CHECK(differ_halves > n / 8,
          "the positive and the negative row of an image have masks of their own (%ld of %ld "
          "units differ)", differ_halves, n / 2);
    printf("  dropout %.2f: %.5f of %ld units dropped (5 sd: %.5f)\n", (double)P, frac, n, 5 * sd);
    /* another epoch, layer or image draws another mask */
    long moved[3] = {0, 0, 0};
    for (int j = 0; j < out; j++) {
        const int here = dropped_ref(17, 2, 5, ids[0], 0, j, P);
        moved[0] += here != dropped_ref(17, 2, 6, ids[0], 0, j, P);
        moved[1] += here != dropped_ref(17, 3, 5, ids[0], 0, j, P);
        moved[2] += here != dropped_ref(17, 2, 5, ids[0] + 1, 0, j, P);
    }
    CHECK(moved[0] > out / 4 && moved[1] > out / 4 && moved[2] > out / 4,
          "another epoch, layer or image drops other units (%ld, %ld, %ld of %d)", moved[0],
          moved[1], moved[2], out);
    /* one Adam step with 1 and with 2 threads: the same layer, bit for bit */
    pff_layer_copy(l2, l);
    reg.weight_decay = 0.01f;
    pff_ff_batch(l, &w1, x, B, theta, 0.001f, &reg, NULL);
    pff_ff_batch(l2, &w2, x, B, theta, 0.001f, &reg, NULL);
    CHECK(memcmp(l->slab, l2->slab, 3 * l->nparam * sizeof(float)) == 0 && l->step == l2->step,
          "dropout + weight decay: one step with 1 and 2 threads gives the same layer bytes");
    pff_work_free(&w1);
    pff_work_free(&w2);
    pff_layer_free(l);
    pff_layer_free(l2);
}

/* By hand, one pair (B = 1): a unit dropped in both rows gets no gradient at
 * all; a unit dropped in the positive row only gets exactly the negative
 * row's 2 s y' dL/dG x. And P = 0 (with L = 0) is plain FF, bit for bit. */
static void test_dropout_by_hand(void)
{
    enum { in = 10, out = 64 };
    const float P = 0.5f, s = 1.0f / (1.0f - P), theta = 50.0f;
    pff_layer *l = pff_layer_new(in, out);
    pff_layer_init(l, 8, 0);
    for (int j = 0; j < out; j++)
        l->b[j] = 1.0f;
    float x[2 * in];
    for (int i = 0; i < 2 * in; i++)
        x[i] = frand(50000 + i);
    pff_rms_normalise(x, in);
    pff_rms_normalise(x + in, in);
    int id = 321;
    pff_ff_reg reg = {P, 0.0f, 3, 0, 0, &id};
    pff_work w;
    pff_work_init(&w, 2, out, l->nparam, 1);
    pff_ff_batch(l, &w, x, 1, theta, 0.0f, &reg, NULL);
    /* the forward pass by hand, in double */
    double y[2][out], G[2] = {0, 0};
    for (int r = 0; r < 2; r++)
        for (int j = 0; j < out; j++) {
            double z = l->b[j];
            for (int i = 0; i < in; i++)
                z += (double)l->w[j * in + i] * x[r * in + i];
            y[r][j] = z > 0 && !dropped_ref(3, 0, 0, id, r, j, P) ? s * z : 0;
            G[r] += y[r][j] * y[r][j];
        }
    const double dG[2] = {-1 / (1 + exp(-(theta - G[0]))), 1 / (1 + exp(-(G[1] - theta)))};
    int both = 0, pos_only = 0, zero_ok = 1;
    double maxerr = 0;
    const float *gb = w.g + (size_t)out * in;
    for (int j = 0; j < out; j++) {
        int d0 = dropped_ref(3, 0, 0, id, 0, j, P), d1 = dropped_ref(3, 0, 0, id, 1, j, P);
        if (d0 && d1) {
            both++;
            for (int i = 0; i < in; i++)
                zero_ok &= w.g[j * in + i] == 0.0f;
            zero_ok &= gb[j] == 0.0f;
        } else if (d0 && y[1][j] > 0) {
            pos_only++;
            for (int i = 0; i < in; i++) {
                double want = 2 * s * y[1][j] * dG[1] * x[in + i];
                maxerr = fmax(maxerr, fabs(want - w.g[j * in + i]) / (1e-6 + fabs(want)));
            }
        }
    }
    CHECK(both > 0 && zero_ok, "%d units dropped in both rows: their weight rows and biases get "
          "exactly 0", both);
    CHECK(pos_only > 0 && maxerr < 1e-4,
          "%d units dropped in the positive row only: the gradient is the negative row's "
          "2 s y' dL/dG x alone (max rel err %g)", pos_only, maxerr);
    /* P = 0 and L = 0 are today's FF: the same bytes as no reg at all, after an Adam step */
    pff_layer *a = pff_layer_new(in, out), *b = pff_layer_new(in, out);
    pff_layer_copy(a, l);
    pff_layer_copy(b, l);
    const pff_ff_reg off = {0.0f, 0.0f, 3, 0, 0, &id};
    double la = pff_ff_batch(a, &w, x, 1, theta, 0.01f, NULL, NULL);
    double lb = pff_ff_batch(b, &w, x, 1, theta, 0.01f, &off, NULL);
    CHECK(la == lb && memcmp(a->slab, b->slab, 3 * a->nparam * sizeof(float)) == 0,
          "--dropout 0 --weight-decay 0: the bytes of plain FF");
    pff_layer_free(a);
    pff_layer_free(b);
    pff_work_free(&w);
    pff_layer_free(l);
}

/* --weight-decay: pff_adam against a scalar AdamW (p - lr L p - Adam's
 * step), bit for bit, and decay 0 against today's Adam bit for bit; through
 * pff_ff_batch the weights decay by lr_e L w and the biases not at all. */
static void test_weight_decay(void)
{
    enum { n = 1003 }; /* not a multiple of any vector width: the remainder loop too */
    static float p[n], m[n], v[n], g[n], p0[n], m0[n], v0[n], q[n];
    for (int i = 0; i < n; i++) {
        p0[i] = frand(60000 + i);
        m0[i] = 0.1f * frand(61000 + i);
        v0[i] = 0.01f * fabsf(frand(62000 + i));
        g[i] = frand(63000 + i);
    }
    p0[0] = -0.0f; /* a -0.0 weight stays -0.0 in plain Adam when its step is 0 */
    g[0] = 0.0f, m0[0] = 0.0f;
    const float lr = 0.01f, L = 0.05f; /* the third step: bias corrections 1 - beta^3 */
    const float bc1 = 1 - 0.9f * 0.9f * 0.9f, bc2 = 1 - 0.999f * 0.999f * 0.999f;
    for (int d = 0; d < 2; d++) {
        const float decay = d ? lr * L : 0.0f;
        memcpy(p, p0, sizeof p), memcpy(m, m0, sizeof m), memcpy(v, v0, sizeof v);
        pff_adam(p, m, v, g, n, lr, bc1, bc2, decay);
        /* the scalar reference, in float, term by term */
        const float step = lr / bc1, rbc2 = 1.0f / sqrtf(bc2);
        int same = 1;
        for (int i = 0; i < n; i++) {
            float mi = 0.9f * m0[i] + (1.0f - 0.9f) * g[i];
            float vi = 0.999f * v0[i] + (1.0f - 0.999f) * g[i] * g[i];
            float adam = step * mi / (sqrtf(vi) * rbc2 + 1e-8f);
            q[i] = d ? p0[i] - decay * p0[i] - adam : p0[i] - adam;
            same &= !memcmp(&q[i], &p[i], sizeof(float)) && mi == m[i] && vi == v[i];
        }
        CHECK(same, "%s: pff_adam equals the scalar %s bit for bit (%d values)",
              d ? "weight decay 0.05, lr 0.01" : "weight decay 0", d ? "p - lr L p - step" :
              "Adam of before", n);
        if (!d)
            CHECK(signbit(p[0]) && p[0] == 0.0f, "decay 0 keeps a -0.0 weight -0.0");
    }
    /* through one FF step: W decays by lr L W on top of Adam, b not at all */
    enum { in = 9, out = 5 };
    pff_layer *a = pff_layer_new(in, out), *b = pff_layer_new(in, out), *o = pff_layer_new(in, out);
    pff_layer_init(a, 4, 0);
    for (int j = 0; j < out; j++)
        a->b[j] = 0.3f * frand(65000 + j); /* biases that a decay would move */
    pff_layer_copy(o, a);                  /* the parameters before the step */
    float x[2 * 2 * in];
    for (int i = 0; i < 4 * in; i++)
        x[i] = frand(64000 + i);
    for (int r = 0; r < 4; r++)
        pff_rms_normalise(x + r * in, in);
    pff_layer_copy(b, a);
    pff_work w;
    pff_work_init(&w, 4, in, a->nparam, 1);
    const pff_ff_reg wd = {0.0f, 0.5f, 1, 0, 0, NULL};
    pff_ff_batch(a, &w, x, 2, 5.0f, 0.02f, NULL, NULL);
    pff_ff_batch(b, &w, x, 2, 5.0f, 0.02f, &wd, NULL);
    double maxerr = 0;
    for (int i = 0; i < out * in; i++)
        maxerr = fmax(maxerr, fabs((b->w[i] - a->w[i]) - (-0.02 * 0.5 * o->w[i])));
    CHECK(maxerr < 1e-6, "weight decay 0.5 at lr 0.02: W moves by -0.01 W more than plain Adam "
          "(max err %g)", maxerr);
    CHECK(memcmp(a->b, b->b, out * sizeof(float)) == 0, "weight decay leaves the biases alone");
    pff_layer_free(o);
    pff_layer_free(a);
    pff_layer_free(b);
    pff_work_free(&w);
}

/* An FF step with lr > 0 applies Adam tile by tile to gradient tiles that
 * never reach w->g. Against the gradient of the same step with lr 0 (whole,
 * in w->g) and one pff_adam over every parameter: the same layer bytes, for
 * two steps (the second with moments), a width of five whole tiles and a part,
 * with 1 to 4 threads (a thread's block of tiles is then 1 to 6 tiles long). */
static void test_adam_step_tiles(int threads)
{
    enum { in = 37, out = 5 * PFF_GRAD_TILE + 44, B = 5 };
    pff_layer *l = pff_layer_new(in, out), *grad = pff_layer_new(in, out);
    pff_layer *ref = pff_layer_new(in, out);
    pff_layer_init(l, 11, 0);
    static float x[2 * B * in];
    for (int i = 0; i < 2 * B * in; i++)
        x[i] = frand(66000 + i);
    for (int r = 0; r < 2 * B; r++)
        pff_rms_normalise(x + r * in, in);
    pff_work w;
    pff_work_init(&w, 2 * B, out, l->nparam, threads);
    const float lr = 0.01f, theta = 2.0f;
    int same = 1;
    for (int step = 1; step <= 2; step++) {
        pff_layer_copy(grad, l);
        pff_ff_batch(grad, &w, x, B, theta, 0.0f, NULL, NULL); /* the whole gradient in w.g */
        pff_layer_copy(ref, l);
        const float bc1 = 1.0f - powf(PFF_ADAM_B1, (float)step);
        const float bc2 = 1.0f - powf(PFF_ADAM_B2, (float)step);
        pff_adam(ref->slab, ref->m, ref->v, w.g, ref->nparam, lr, bc1, bc2, 0.0f);
        pff_ff_batch(l, &w, x, B, theta, lr, NULL, NULL);
        same &= l->step == step && !memcmp(l->slab, ref->slab, 3 * l->nparam * sizeof(float));
    }
    CHECK(same, "%d thread(s): two Adam steps tile by tile (width %d, tiles of %d) equal the "
          "lr-0 gradient then one pff_adam, bit for bit", threads, out, PFF_GRAD_TILE);
    pff_work_free(&w);
    pff_layer_free(l);
    pff_layer_free(grad);
    pff_layer_free(ref);
}

static double softmax_loss_ref(const double *p, int D, const float *f, const uint8_t *y, int B)
{
    double loss = 0;
    for (int i = 0; i < B; i++) {
        double lg[PFF_CLASSES], mx = -1e300, s = 0;
        for (int j = 0; j < PFF_CLASSES; j++) {
            lg[j] = p[(size_t)PFF_CLASSES * D + j];
            for (int d = 0; d < D; d++)
                lg[j] += p[(size_t)j * D + d] * f[(size_t)i * D + d];
            mx = lg[j] > mx ? lg[j] : mx;
        }
        for (int j = 0; j < PFF_CLASSES; j++)
            s += exp(lg[j] - mx);
        loss += log(s) + mx - lg[y[i]];
    }
    return loss / B;
}

static void test_softmax_gradient(void)
{
    const int D = 9, B = 4;
    pff_layer *h = pff_layer_new(D, PFF_CLASSES);
    pff_layer_init(h, 3, 1);
    float f[4 * 9];
    uint8_t y[4] = {0, 3, 9, 3};
    for (int i = 0; i < B * D; i++)
        f[i] = frand(500 + i);
    pff_work w;
    CHECK(pff_work_init(&w, 2 * B, PFF_CLASSES, h->nparam, 1) == 0, "work");
    double loss = pff_softmax_batch(h, &w, f, y, B, 0.0f);
    double *p = malloc(h->nparam * sizeof(double));
    for (size_t i = 0; i < h->nparam; i++)
        p[i] = h->slab[i];
    CHECK_NEAR(loss, softmax_loss_ref(p, D, f, y, B), 1e-5, "cross-entropy vs reference");
    double maxerr = 0;
    for (size_t i = 0; i < h->nparam; i++) {
        const double e = 1e-6, keep = p[i];
        p[i] = keep + e;
        double lp = softmax_loss_ref(p, D, f, y, B);
        p[i] = keep - e;
        double lm = softmax_loss_ref(p, D, f, y, B);
        p[i] = keep;
        double fd = (lp - lm) / (2 * e), err = fabs(fd - w.g[i]) / (fabs(fd) + 1e-3);
        maxerr = err > maxerr ? err : maxerr;
    }
    CHECK(maxerr < 1e-3, "softmax gradient vs finite differences: max rel err %g", maxerr);
    free(p);
    pff_work_free(&w);
    pff_layer_free(h);
}

static void test_hand_computed(void)
{
    /* RMS: [3,4] has mean square 12.5 */
    float x[2] = {3, 4};
    pff_rms_normalise(x, 2);
    CHECK_NEAR(x[0], 3 / sqrt(12.5), 1e-6, "rms x0");
    CHECK_NEAR(x[1], 4 / sqrt(12.5), 1e-6, "rms x1");
    /* embedding */
    float img[12], e[12];
    for (int i = 0; i < 12; i++)
        img[i] = 0.5f;
    pff_embed(img, 12, 3, e);
    CHECK(e[3] == 1.0f && e[0] == 0.0f && e[9] == 0.0f && e[10] == 0.5f, "one-hot label 3");
    pff_embed(img, 12, PFF_LABEL_NEUTRAL, e);
    CHECK(e[0] == 0.1f && e[9] == 0.1f && e[11] == 0.5f, "neutral label 0.1");
    /* goodness and loss: W = I, b = (0, -1), x+ = (3, 4), x- = (1, -2) */
    pff_layer *l = pff_layer_new(2, 2);
    l->w[0] = 1, l->w[1] = 0, l->w[2] = 0, l->w[3] = 1;
    l->b[0] = 0, l->b[1] = -1;
    float xb[4] = {3, 4, 1, -2};
    pff_work w;
    pff_work_init(&w, 2, 2, l->nparam, 1);
    pff_stage_stats st = {0};
    double loss = pff_ff_batch(l, &w, xb, 1, 10.0f, 0.0f, NULL, &st);
    /* G+ = 3^2 + 3^2 = 18, G- = 1^2 + relu(-3)^2 = 1 */
    CHECK_NEAR(st.gpos, 18.0, 1e-9, "goodness of the positive");
    CHECK_NEAR(st.gneg, 1.0, 1e-9, "goodness of the negative");
    CHECK_NEAR(loss, softplus(10 - 18) + softplus(1 - 10), 1e-9, "loss");
    /* dL/dW row 0 = 2 y0 dL/dG x for both rows: dG+ = -sigmoid(-8), dG- = sigmoid(-9) */
    double dgp = -1 / (1 + exp(8)), dgn = 1 / (1 + exp(9));
    CHECK_NEAR(w.g[0], 2 * 3 * dgp * 3 + 2 * 1 * dgn * 1, 1e-7, "dW00");
    CHECK_NEAR(w.g[3], 2 * 3 * dgp * 4, 1e-7, "dW11 (negative row inactive)");
    pff_work_free(&w);
    pff_layer_free(l);
    /* Adam, two steps by hand (PyTorch's form) */
    float p = 1, m = 0, v = 0, g = 0.5f;
    pff_adam(&p, &m, &v, &g, 1, 0.1f, 1 - 0.9f, 1 - 0.999f, 0.0f);
    CHECK_NEAR(p, 0.9, 1e-6, "Adam step 1");
    g = -0.2f;
    pff_adam(&p, &m, &v, &g, 1, 0.1f, 1 - 0.81f, 1 - 0.999f * 0.999f, 0.0f);
    CHECK_NEAR(m, 0.025, 1e-7, "Adam m after step 2");
    CHECK_NEAR(v, 0.00028975, 1e-8, "Adam v after step 2");
    CHECK_NEAR(p, 0.9 - 0.1 * (0.025 / 0.19) / (sqrt(0.00028975 / 0.001999) + 1e-8), 1e-6,
               "Adam step 2");
    /* cooldown: flat for the first half, then linear to zero */
    CHECK_NEAR(pff_cooldown(1, 4, 10), 1.0, 0, "cooldown e=4");
    CHECK_NEAR(pff_cooldown(1, 5, 10), 1.0, 1e-7, "cooldown e=5");
    CHECK_NEAR(pff_cooldown(1, 9, 10), 0.2, 1e-7, "cooldown e=9");
}

static void test_matmul(void)
{
    /* the trainer's shapes: forward, tile of the weight gradient, map chunk, table chunk */
    struct { int ta, tb, m, n, k; } s[] = {
        {0, 1, 128, 500, 784}, {1, 0, 128, 784, 128}, {0, 1, 512, 300, 500}, {0, 1, 1000, 100, 500},
        {0, 1, 64, 10, 900},   {1, 0, 10, 900, 64},   {0, 1, 7, 33, 5}};
    for (size_t t = 0; t < sizeof s / sizeof s[0]; t++) {
        int m = s[t].m, n = s[t].n, k = s[t].k;
        int lda = s[t].ta ? m : k, ldb = s[t].tb ? k : n;
        float *a = malloc((size_t)m * k * 4), *b = malloc((size_t)k * n * 4);
        float *c1 = malloc((size_t)m * n * 4), *c2 = malloc((size_t)m * n * 4);
        for (size_t i = 0; i < (size_t)m * k; i++)
            a[i] = frand(i);
        for (size_t i = 0; i < (size_t)k * n; i++)
            b[i] = frand(1u << 30 | i);
        for (size_t i = 0; i < (size_t)m * n; i++)
            c1[i] = c2[i] = frand(7u << 28 | i);
        pff_matmul(s[t].ta, s[t].tb, m, n, k, 1.0f, a, lda, b, ldb, 0.5f, c1, n);
        pff_matmul_reference(s[t].ta, s[t].tb, m, n, k, 1.0f, a, lda, b, ldb, 0.5f, c2, n);
        double maxerr = 0;
        for (size_t i = 0; i < (size_t)m * n; i++) {
            double e = fabs(c1[i] - c2[i]) / (1 + fabs(c2[i]));
            maxerr = e > maxerr ? e : maxerr;
        }
        CHECK(maxerr < 1e-4, "%s product %dx%dx%d (ta %d tb %d) vs naive: max err %g",
              pff_blas_name(), m, n, k, s[t].ta, s[t].tb, maxerr);
        free(a), free(b), free(c1), free(c2);
    }
}

/* Plain forward of one embedded image through the network, in double. */
static double goodness_ref(pff_layer *const *ls, int L, int first, const float *img, int dim,
                           int label, float *feat)
{
    double *x = malloc(sizeof(double) * 4096), *y = malloc(sizeof(double) * 4096), G = 0;
    float e[4096];
    pff_embed(img, dim, label, e);
    int width = dim, off = 0;
    for (int i = 0; i < dim; i++)
        x[i] = e[i];
    for (int k = 0; k < L; k++) {
        double ss = 0;
        for (int i = 0; i < width; i++)
            ss += x[i] * x[i];
        double r = sqrt(ss / width) + 1e-8, g = 0;
        for (int j = 0; j < ls[k]->out; j++) {
            double z = ls[k]->b[j];
            for (int i = 0; i < width; i++)
                z += ls[k]->w[(size_t)j * width + i] * x[i] / r;
            y[j] = z > 0 ? z : 0;
            g += y[j] * y[j];
        }
        width = ls[k]->out;
        if (k >= first)
            G += g;
        if (k >= 1 || L == 1) {
            if (feat) {
                double r2 = sqrt(g / width) + 1e-8;
                for (int j = 0; j < width; j++)
                    feat[off + j] = (float)(y[j] / r2);
                off += width;
            }
        }
        double *t = x;
        x = y;
        y = t;
    }
    free(x);
    free(y);
    return G;
}

static void test_table_and_negatives(int L)
{
    const int dim = 30, n = 250, widths[] = {30, 16, 12, 8};
    pff_layer *ls[3];
    for (int k = 0; k < L; k++) {
        ls[k] = pff_layer_new(widths[k], widths[k + 1]);
        pff_layer_init(ls[k], 11, k);
        for (int j = 0; j < ls[k]->out; j++)
            ls[k]->b[j] = 0.2f * frand(77 + j);
    }
    float *img = malloc(sizeof(float) * n * dim), *table = malloc(sizeof(float) * n * 10);
    uint8_t y[250], neg[250];
    for (int i = 0; i < n * dim; i++)
        img[i] = (frand(3000 + i) + 1) / 2;
    for (int i = 0; i < n; i++)
        y[i] = (uint8_t)(pff_hash(1, 2, 3, 4, i) % 10);
    pff_work w;
    pff_work_init(&w, 2, 30, 30 * 16 + 16, 2);
    pff_goodness_table(ls, L, pff_goodness_first(L, 0), &w, img, n, dim, NULL, table);
    double maxerr = 0;
    for (int i = 0; i < n; i++)
        for (int lab = 0; lab < 10; lab++) {
            double ref = goodness_ref(ls, L, pff_goodness_first(L, 0), img + i * dim, dim, lab, NULL);
            double e = fabs(ref - table[i * 10 + lab]) / (1 + fabs(ref));
            maxerr = e > maxerr ? e : maxerr;
        }
    CHECK(maxerr < 1e-4, "goodness table (L=%d, layer-1 trick) vs per-label forward: %g", L, maxerr);
    /* --goodness-from K: layers K..L, for every K (1: layer 1 too) */
    for (int from = 1; from <= L; from++) {
        float *tk = malloc(sizeof(float) * n * 10);
        pff_goodness_table(ls, L, pff_goodness_first(L, from), &w, img, n, dim, NULL, tk);
        double kerr = 0;
        for (int i = 0; i < n; i++)
            for (int lab = 0; lab < 10; lab++) {
                double ref = goodness_ref(ls, L, from - 1, img + i * dim, dim, lab, NULL);
                double e = fabs(ref - tk[i * 10 + lab]) / (1 + fabs(ref));
                kerr = e > kerr ? e : kerr;
            }
        /* the paper's rule is --goodness-from 2 (1 for one layer), to the bit */
        int same = (from == 2 || L == 1) ? memcmp(tk, table, sizeof(float) * n * 10) == 0 : 1;
        CHECK(kerr < 1e-4 && same, "goodness table from layer %d of %d vs per-label forward: %g%s",
              from, L, kerr, same ? "" : " (differs from the paper's rule)");
        free(tk);
    }
    pff_negatives_adaptive(neg, table, y, n);
    int ok = 1;
    for (int i = 0; i < n; i++) {
        const float *r = table + i * 10;
        ok &= neg[i] != y[i];
        for (int lab = 0; lab < 10; lab++)
            ok &= lab == y[i] || r[lab] <= r[neg[i]];
    }
    CHECK(ok, "adaptive negatives are the argmax wrong label of the table (L=%d)", L);
    /* the table negatives use: the true label skipped (0), the 9 others as the reference */
    float *wrong = malloc(sizeof(float) * n * 10);
    pff_goodness_table(ls, L, pff_goodness_first(L, 0), &w, img, n, dim, y, wrong);
    double werr = 0;
    int zero = 1;
    for (int i = 0; i < n; i++)
        for (int lab = 0; lab < 10; lab++) {
            if (lab == y[i]) {
                zero &= wrong[i * 10 + lab] == 0.0f;
                continue;
            }
            double ref = goodness_ref(ls, L, pff_goodness_first(L, 0), img + i * dim, dim, lab, NULL);
            double e = fabs(ref - wrong[i * 10 + lab]) / (1 + fabs(ref));
            werr = e > werr ? e : werr;
        }
    CHECK(zero && werr < 1e-4, "table without the true labels (L=%d): skipped entries 0 (%d), "
          "the others vs per-label forward: %g", L, zero, werr);
    free(wrong);
    /* softmax features against the reference forward with the neutral label */
    int D = pff_feature_dim(ls, L);
    float *feat = malloc(sizeof(float) * n * D), fr[64];
    pff_features(ls, L, &w, img, n, dim, feat);
    maxerr = 0;
    for (int i = 0; i < n; i++) {
        goodness_ref(ls, L, 0, img + i * dim, dim, PFF_LABEL_NEUTRAL, fr);
        for (int d = 0; d < D; d++) {
            double e = fabs(fr[d] - feat[i * D + d]);
            maxerr = e > maxerr ? e : maxerr;
        }
    }
    CHECK(maxerr < 1e-4, "softmax features (L=%d) vs reference: %g", L, maxerr);
    /* the head's logits: features W^T + b against a double dot product, and the same bits
     * whether the features are computed all at once or 7 images at a time */
    pff_layer *head = pff_layer_new(D, PFF_CLASSES);
    pff_layer_init(head, 11, L);
    for (int j = 0; j < PFF_CLASSES; j++)
        head->b[j] = 0.01f * (float)(j - 4);
    float *lg = malloc(sizeof(float) * n * PFF_CLASSES), *lg7 = malloc(sizeof(float) * n * PFF_CLASSES);
    pff_head_logits(ls, L, head, &w, img, n, dim, feat, n, lg);
    pff_head_logits(ls, L, head, &w, img, n, dim, feat, 7, lg7);
    maxerr = 0;
    for (int i = 0; i < n; i++) {
        goodness_ref(ls, L, 0, img + i * dim, dim, PFF_LABEL_NEUTRAL, fr);
        for (int j = 0; j < PFF_CLASSES; j++) {
            double ref = head->b[j];
            for (int d = 0; d < D; d++)
                ref += (double)fr[d] * head->w[(size_t)j * D + d];
            double e = fabs(ref - lg[i * PFF_CLASSES + j]);
            maxerr = e > maxerr ? e : maxerr;
        }
    }
    CHECK(maxerr < 1e-4, "head logits (L=%d) vs reference: %g", L, maxerr);
    CHECK(memcmp(lg, lg7, sizeof(float) * n * PFF_CLASSES) == 0,
          "head logits (L=%d): the same bits 7 images at a time as all at once", L);
    free(lg), free(lg7);
    pff_layer_free(head);
    free(feat);
    /* more images than one group: 1100 in groups of 512 (rows 700) or all at once, the same bits */
    {
        const long nn = 1100;
        float *im = malloc(sizeof(float) * nn * dim), *f = malloc(sizeof(float) * nn * D);
        float *l1 = malloc(sizeof(float) * nn * PFF_CLASSES), *l2 = malloc(sizeof(float) * nn * PFF_CLASSES);
        for (long i = 0; i < nn * dim; i++)
            im[i] = pff_uniform(pff_hash(4, 4, 4, 4, (uint64_t)i));
        pff_layer *h2 = pff_layer_new(D, PFF_CLASSES);
        pff_layer_init(h2, 12, L);
        pff_head_logits(ls, L, h2, &w, im, nn, dim, f, nn, l1);
        pff_head_logits(ls, L, h2, &w, im, nn, dim, f, 700, l2);
        CHECK(memcmp(l1, l2, sizeof(float) * nn * PFF_CLASSES) == 0,
              "head logits (L=%d) of 1100 images: the same bits in groups of 512 as all at once", L);
        free(im), free(f), free(l1), free(l2);
        pff_layer_free(h2);
    }
    pff_work_free(&w);
    free(img);
    free(table);
    for (int k = 0; k < L; k++)
        pff_layer_free(ls[k]);
}

static void test_random_negatives(void)
{
    enum { n = 5000 };
    uint8_t y[n], a[n], b[n], c[n];
    for (int i = 0; i < n; i++)
        y[i] = (uint8_t)(i % 10);
    pff_config cfg;
    pff_config_default(&cfg);
    cfg.model.neg = PFF_NEG_FIXED;
    pff_negatives_draw(&cfg.model, a, y, NULL, n, 0);
    pff_negatives_draw(&cfg.model, b, y, NULL, n, 7);
    cfg.model.neg = PFF_NEG_RANDOM;
    pff_negatives_draw(&cfg.model, c, y, NULL, n, 7);
    int never_true = 1, fixed_same = 1, differ = 0, hist[10] = {0};
    for (int i = 0; i < n; i++) {
        never_true &= a[i] != y[i] && c[i] != y[i] && a[i] < 10 && c[i] < 10;
        fixed_same &= a[i] == b[i];
        differ += a[i] != c[i];
        if (y[i] == 0)
            hist[a[i]]++;
    }
    CHECK(never_true, "a negative label never equals the true label");
    CHECK(fixed_same, "fixed negatives are the same in every chapter");
    CHECK(differ > n / 2, "random negatives are redrawn each chapter (%d of %d changed)", differ, n);
    int spread = 1;
    for (int lab = 1; lab < 10; lab++)
        spread &= hist[lab] > 30;
    CHECK(spread && hist[0] == 0, "negatives spread over the 9 wrong classes");
}

/* The kernel rule on CPUs of both vendors, with and without AVX-512, against
 * what OpenBLAS 0.3.21 reports for them. */
static void test_blas_core_choice(void)
{
    const pff_cpu_vendor I = PFF_CPU_INTEL, A = PFF_CPU_AMD;
    const pff_cpu sapphire = {I, 1, 1, 1, 1, 1, 1, 1, 1}, skylake = {I, 1, 1, 1, 1, 1, 1, 1, 0},
                  haswell = {I, 1, 1, 1, 0, 0, 0, 0, 0}, sandy = {I, 1, 0, 0, 0, 0, 0, 0, 0},
                  old = {I, 0, 0, 0, 0, 0, 0, 0, 0}, zen2 = {A, 1, 1, 1, 0, 0, 0, 0, 0},
                  zen4 = {A, 1, 1, 1, 1, 1, 1, 1, 1}, knl = {I, 1, 1, 1, 1, 0, 0, 0, 0};
    const struct {
        const pff_cpu *cpu;
        const char *openblas, *want; /* want NULL: keep OpenBLAS's pick */
    } t[] = {
        {&sapphire, "Prescott", "Cooperlake"}, /* the Xeon of issue 13 (family 6, model 207) */
        {&sapphire, "Haswell", "Cooperlake"},  {&sapphire, "SkylakeX", NULL},
        {&sapphire, "Cooperlake", NULL},       {&skylake, "Prescott", "SkylakeX"},
        {&skylake, "Nehalem", "SkylakeX"},     {&skylake, "SkylakeX", NULL},
        {&haswell, "Prescott", "Haswell"},     {&haswell, "Sandybridge", "Haswell"},
        {&haswell, "Haswell", NULL},           {&sandy, "Core2", "Sandybridge"},
        {&sandy, "Sandybridge", NULL},         {&old, "Prescott", NULL},
        {&old, "Katmai", NULL},                {&zen2, "Prescott", "Zen"},
        {&zen2, "Zen", NULL},                  {&zen2, "Haswell", NULL},
        {&zen4, "Zen", "Cooperlake"},          {&zen4, "Barcelona", "Cooperlake"},
        {&knl, "Prescott", "Haswell"}, /* AVX-512F alone is not enough for SkylakeX kernels */
        {&skylake, "something new", "SkylakeX"}, {&skylake, "skylakex", NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *got = pff_blas_choose_core(t[i].cpu, t[i].openblas);
        CHECK(got == t[i].want || (got && t[i].want && !strcmp(got, t[i].want)),
              "case %zu: OpenBLAS %s: chose %s, expected %s", i, t[i].openblas,
              got ? got : "(keep)", t[i].want ? t[i].want : "(keep)");
    }
    CHECK(pff_blas_check() == 0, "the BLAS kernel in use agrees with the reference product");
}

/* --neg hard on a hand-made goodness table: never the true label, and the
 * frequencies over many images (each its own keyed draw) follow the softmax
 * of the 9 wrong labels' goodness at the temperature. */
static void test_hard_negatives(void)
{
    enum { n = 40000 };
    static float table[n * PFF_CLASSES];
    static uint8_t y[n], neg[n], again[n], other[n];
    static const float row[PFF_CLASSES] = {10.0f, 12.0f, 11.0f, 9.0f, 10.5f,
                                           8.0f,  12.5f, 11.5f, 10.0f, 30.0f};
    for (int i = 0; i < n; i++) {
        y[i] = (uint8_t)(i % 2 ? 9 : 6); /* the true label: the best one, or a good wrong one */
        memcpy(table + (size_t)i * PFF_CLASSES, row, sizeof row);
    }
    const float temps[3] = {1.0f, 2.5f, 0.05f};
    for (int t = 0; t < 3; t++) {
        const float T = temps[t];
        pff_negatives_hard(neg, table, y, NULL, n, 7, 3, T);
        pff_negatives_hard(again, table, y, NULL, n, 7, 3, T);
        pff_negatives_hard(other, table, y, NULL, n, 7, 4, T);
        int never_true = 1, same = 1, changed = 0;
        long cnt[2][PFF_CLASSES] = {{0}};
        for (int i = 0; i < n; i++) {
            never_true &= neg[i] != y[i] && neg[i] < PFF_CLASSES;
            same &= neg[i] == again[i];
            changed += neg[i] != other[i];
            cnt[i % 2][neg[i]]++;
        }
        CHECK(never_true, "T=%g: a hard negative never equals the true label", (double)T);
        CHECK(same, "T=%g: the draw is a pure function of (seed, chapter, image)", (double)T);
        if (T >= 1.0f)
            CHECK(changed > n / 10, "T=%g: another chapter draws again (%d of %d changed)",
                  (double)T, changed, n);
        for (int half = 0; half < 2; half++) {
            const int truth = half ? 9 : 6;
            double z = 0, p[PFF_CLASSES];
            for (int j = 0; j < PFF_CLASSES; j++)
                z += (p[j] = j == truth ? 0.0 : exp(row[j] / T));
            double worst = 0;
            for (int j = 0; j < PFF_CLASSES; j++) {
                double want = p[j] / z, got = (double)cnt[half][j] / (n / 2);
                /* 5 standard deviations of a frequency over n/2 draws, at least 0.003 */
                double tol = 5 * sqrt(want * (1 - want) / (n / 2)) + 0.003;
                CHECK(fabs(got - want) <= tol, "T=%g, true %d: label %d drawn %.4f, softmax %.4f",
                      (double)T, truth, j, got, want);
                worst = fabs(got - want) > worst ? fabs(got - want) : worst;
            }
            printf("  hard negatives T=%-4g true %d: max |frequency - softmax| = %.4f\n", (double)T,
                   truth, worst);
        }
    }
    /* a tiny temperature is the adaptive argmax; ids from an index key the draw */
    pff_negatives_hard(neg, table, y, NULL, 100, 7, 3, 1e-4f);
    pff_negatives_adaptive(again, table, y, 100);
    CHECK(memcmp(neg, again, 100) == 0, "T -> 0 gives the adaptive (argmax) negatives");
    int index[100];
    for (int i = 0; i < 100; i++)
        index[i] = i + 500;
    /* images 500..599 as a shard (rows 0..99, ids in index) draw what they draw in the whole set */
    for (int i = 0; i < 100; i++)
        y[i] = y[i + 500];
    pff_negatives_hard(again, table, y, index, 100, 7, 3, 2.5f);
    pff_negatives_hard(other, table, y, NULL, n, 7, 3, 2.5f);
    CHECK(memcmp(other + 500, again, 100) == 0, "a shard's draw is keyed by the global image id");
}

/* --augment shift on a synthetic picture: every pixel moves by exactly
 * (dx, dy), uncovered pixels are 0, offsets cover [-2, 2]^2 and are keyed. */
static void test_shift(void)
{
    enum { side = 7, dim = side * side };
    float src[dim], dst[dim];
    for (int i = 0; i < dim; i++)
        src[i] = 1.0f + (float)i; /* every pixel distinct and non-zero */
    for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++) {
            pff_shift_image(src, side, dx, dy, dst);
            int ok = 1;
            for (int r = 0; r < side; r++)
                for (int c = 0; c < side; c++) {
                    int sr = r - dy, sc = c - dx;
                    float want = sr >= 0 && sr < side && sc >= 0 && sc < side ? 1.0f + sr * side + sc
                                                                            : 0.0f;
                    ok &= dst[r * side + c] == want;
                }
            CHECK(ok, "shift (%d, %d) moves every pixel and fills with 0", dx, dy);
        }
    /* one lit pixel at (row 3, col 3) moved by (+2, -1) lands at (row 2, col 5) */
    memset(src, 0, sizeof src);
    src[3 * side + 3] = 1.0f;
    pff_shift_image(src, side, 2, -1, dst);
    float sum = 0;
    for (int i = 0; i < dim; i++)
        sum += dst[i];
    CHECK(dst[2 * side + 5] == 1.0f && sum == 1.0f, "(+2, -1): right 2, up 1");
    pff_shift_image(src, side, 2, 0, dst);
    pff_shift_image(dst, side, 2, 0, src); /* now at column 7: off the picture */
    sum = 0;
    for (int i = 0; i < dim; i++)
        sum += src[i];
    CHECK(sum == 0.0f, "a pixel shifted off the edge is gone");
    int seen[5][5] = {{0}}, same = 1, differ = 0;
    for (int i = 0; i < 2000; i++) {
        int dx, dy, dx2, dy2, dx3, dy3;
        pff_shift_offset(3, 4, (uint64_t)i, 2, &dx, &dy);
        pff_shift_offset(3, 4, (uint64_t)i, 2, &dx2, &dy2);
        pff_shift_offset(3, 5, (uint64_t)i, 2, &dx3, &dy3);
        CHECK(dx >= -2 && dx <= 2 && dy >= -2 && dy <= 2, "offset (%d, %d) in [-2, 2]", dx, dy);
        if (dx >= -2 && dx <= 2 && dy >= -2 && dy <= 2)
            seen[dy + 2][dx + 2]++;
        same &= dx == dx2 && dy == dy2;
        differ += dx != dx3 || dy != dy3;
    }
    int all = 1;
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++)
            all &= seen[a][b] > 40;
    CHECK(all, "all 25 offsets occur (2000 images, each at least 40 times)");
    CHECK(same, "the offset is a pure function of (seed, epoch, image)");
    CHECK(differ > 1500, "another epoch moves the images differently (%d of 2000)", differ);
    /* shift1: [-1, 1]^2, all nine offsets */
    int seen1[3][3] = {{0}}, in1 = 1;
    for (int i = 0; i < 900; i++) {
        int dx, dy;
        pff_shift_offset(3, 4, (uint64_t)i, 1, &dx, &dy);
        in1 &= dx >= -1 && dx <= 1 && dy >= -1 && dy <= 1;
        if (dx >= -1 && dx <= 1 && dy >= -1 && dy <= 1)
            seen1[dy + 1][dx + 1]++;
    }
    int all1 = in1;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            all1 &= seen1[a][b] > 60;
    CHECK(all1, "shift1: every offset in [-1, 1]^2, each of the nine at least 60 times in 900");
    CHECK(pff_shift_max(PFF_AUGMENT_NONE) == 0 && pff_shift_max(PFF_AUGMENT_SHIFT) == 2 &&
              pff_shift_max(PFF_AUGMENT_SHIFT1) == 1,
          "pff_shift_max: none 0, shift 2, shift1 1");
    /* the layer-1 inputs: positive and negative of an image share its shift, labels on top */
    enum { n = 3, D = 64 };
    float img[n * D], a[2 * n * D], ref[D];
    uint8_t yy[n] = {1, 4, 9}, nn[n] = {0, 7, 2};
    for (int i = 0; i < n * D; i++)
        img[i] = pff_uniform(pff_hash(1, 2, 3, 4, (uint64_t)i));
    pff_config cfg;
    pff_config_default(&cfg);
    cfg.model.seed = 11;
    cfg.model.augment = PFF_AUGMENT_SHIFT;
    pff_embed_inputs(&cfg.model, a, img, yy, nn, NULL, n, D, 6, 1, 2);
    int inputs_ok = 1;
    for (int i = 0; i < n; i++) {
        int dx, dy;
        pff_shift_offset(11, 6, (uint64_t)i, 2, &dx, &dy);
        for (int half = 0; half < 2; half++) {
            float sh[D];
            pff_shift_image(img + i * D, 8, dx, dy, sh);
            pff_embed(sh, D, half ? nn[i] : yy[i], ref);
            pff_rms_normalise(ref, D);
            for (int j = 0; j < D; j++)
                inputs_ok &= fabsf(ref[j] - a[(size_t)(half * n + i) * D + j]) < 1e-6f;
        }
    }
    CHECK(inputs_ok, "pff_embed_inputs: shifted image of epoch 6, label embedded, normalised");
    /* only square pictures can be shifted */
    char err[PFF_ERRLEN] = "";
    cfg.model.widths[0] = 10;
    cfg.model.nlayers = 1;
    cfg.model.widths[1] = 5;
    CHECK(pff_config_check(&cfg, 10, 100, err) == PFF_EUSAGE && strstr(err, "square"),
          "--augment shift on 10-pixel inputs is refused: '%s'", err);
    cfg.model.widths[0] = 64;
    CHECK(pff_config_check(&cfg, 64, 100, err) == PFF_OK, "8x8 pictures shift: '%s'", err);
}

int main(void)
{
    pff_blas_init();
#ifdef PFF_NO_BLAS
    /* kann's habit: an invalid operation (a NaN made from numbers) or a division by zero in
     * pff's maths stops this test with SIGFPE instead of passing through a check. Only where
     * every product is pff's own (make VARIANT=plain): OpenBLAS kernels have set the invalid
     * flag for finite inputs (OpenBLAS #1924, numpy #24067), and a CPU this was never run on
     * must not fail for it. */
    feenableexcept(FE_INVALID | FE_DIVBYZERO);
#endif
    test_blas_core_choice();
    test_ff_gradient(1, 0.0f);
    test_ff_gradient(2, 0.0f);
    test_ff_gradient(1, 0.4f);
    test_ff_gradient(2, 0.4f);
    test_dropout_mask();
    test_dropout_by_hand();
    test_weight_decay();
    for (int t = 1; t <= 4; t++)
        test_adam_step_tiles(t);
    test_softmax_gradient();
    test_hand_computed();
    test_matmul();
    test_table_and_negatives(1);
    test_table_and_negatives(3);
    test_random_negatives();
    test_hard_negatives();
    test_shift();
    return check_report("test_layers");
}
