/* layers/layers.h — layers/ owns the maths of pff (FF layers, the softmax head,
 * Adam, label embedding, goodness tables, counter-based randomness, evaluation)
 * and never starts threads of its own (only OpenMP inside a kernel, when built
 * with it), prints, controls the process or reads or writes files.
 * The pipeline (pipeline/) calls these; they never call back into it. File
 * formats are in data/. */
#ifndef PFF_LAYERS_H
#define PFF_LAYERS_H

#include <stdatomic.h>
#include <stdint.h>

#include "../pff.h"
#include "random.h"

/* Fixed row partitions: a product's bits depend on its row count (DESIGN.md
 * §2.4), so every schedule cuts mapping and evaluation into the same chunks. */
#define PFF_MAP_ROWS 512  /* rows per product when mapping data through a layer */
#define PFF_EVAL_IMAGES 100 /* images per goodness-table chunk (x10 labels = 1000 rows) */
#define PFF_GRAD_TILE 128 /* output units per fused weight-gradient + Adam tile */

#define PFF_ADAM_B1 0.9f
#define PFF_ADAM_B2 0.999f
#define PFF_ADAM_EPS 1e-8f
#define PFF_RMS_EPS 1e-8f
#define PFF_NEUTRAL 0.1f /* neutral label value in each of the 10 label slots */

/* One layer y = relu(W n(x) + b), parameters and Adam moments in one slab so
 * a snapshot, a checksum or a file write is one loop. The softmax head uses
 * the same struct without the ReLU. */
struct pff_layer {
    int in, out;      /* widths */
    long long step;   /* Adam steps taken (t) */
    size_t nparam;    /* out*in + out */
    float *slab;      /* [3 * nparam]: params | first moments | second moments */
    float *w;         /* (out, in) row-major, = slab */
    float *b;         /* (out), = slab + out*in */
    float *m;         /* (nparam) Adam first moment, same layout as w|b */
    float *v;         /* (nparam) Adam second moment */
};

pff_layer *pff_layer_new(int in, int out); /* zeroed; NULL when out of memory */
void pff_layer_free(pff_layer *l);
void pff_layer_init(pff_layer *l, uint64_t seed, int index); /* W ~ N(0, 1/in), b = 0 */
void pff_layer_copy(pff_layer *dst, const pff_layer *src);        /* everything */
void pff_layer_copy_params(pff_layer *dst, const pff_layer *src); /* W and b only */
void pff_layer_copy_moments(pff_layer *dst, const pff_layer *src); /* Adam m, v and step */

void pff_blas_init(void); /* one BLAS thread per caller; call once before training */
/* Restarting the process for the kernel (pff_runtime_start) is the command
 * line's: cli/runtime.c, declared in cli/cli.h. */

/* The CPU's vector features (as the OS enables them) and the kernel rule. */
typedef enum { PFF_CPU_OTHER, PFF_CPU_INTEL, PFF_CPU_AMD } pff_cpu_vendor;
typedef struct {
    pff_cpu_vendor vendor;
    int avx, avx2, fma, avx512f, avx512bw, avx512vl, avx512dq, avx512bf16;
} pff_cpu;
void pff_cpu_read(pff_cpu *cpu); /* CPUID; all zero off x86 */
/* The OpenBLAS core to use on this CPU, or NULL when OpenBLAS's own pick
 * ("current") already uses the best vector features the CPU has. */
const char *pff_blas_choose_core(const pff_cpu *cpu, const char *current);
int pff_blas_check(void); /* 0 when the BLAS product agrees with the reference */
/* The OpenBLAS cores this CPU can run, best first (at most max into out); how many. */
int pff_blas_cores(const pff_cpu *cpu, const char **out, int max);
/* The matrix product choke point (matmul.c), row-major, single-threaded:
 * C = alpha * op(A) * op(B) + beta * C, op(X) = X or X^T. */
void pff_matmul(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                int lda, const float *b, int ldb, float beta, float *c, int ldc);
void pff_matmul_reference(int ta, int tb, int m, int n, int k, float alpha, const float *a,
                          int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* Counter-based random numbers (random.h): the purposes that key them. */
enum {
    PFF_RNG_INIT = 1,
    PFF_RNG_SHUFFLE,
    PFF_RNG_NEG,
    PFF_RNG_SHARD,
    PFF_RNG_AUGMENT,
    PFF_RNG_DROPOUT, /* --dropout's mask (layers/ff.c) */
    PFF_RNG_VAL      /* --val: which training images are held out (pipeline/shards.c) */
};
void pff_permutation(int *perm, int n, uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b);

/* Inputs. */
void pff_rms_normalise(float *x, int dim); /* x /= sqrt(mean x^2) + 1e-8 */
/* Vectorised row passes (layers/ff.c); sums in a fixed lane order, so the bits
 * depend only on the row. */
float pff_sumsq(const float *x, int n);                  /* sum x^2 */
float pff_relu_bias_sumsq(float *z, const float *b, int n); /* z = relu(z + b); sum z^2 */
void pff_scale(float *x, float s, int n);                /* x *= s */
float pff_rms_scale(float sumsq, int dim);               /* 1 / (sqrt(sumsq/dim) + 1e-8) */
/* Copies an image and writes its label slots: one-hot for label >= 0,
 * PFF_NEUTRAL everywhere for label == PFF_LABEL_NEUTRAL, zero for PFF_LABEL_NONE. */
enum { PFF_LABEL_NEUTRAL = -1, PFF_LABEL_NONE = -2 };
void pff_embed(const float *img, int dim, int label, float *out);

/* Per-node scratch, allocated once before the hot loop. */
typedef struct {
    int threads;   /* worker threads for products and element-wise passes */
    int rows, wmax; /* capacity: rows per batch, widest layer */
    float *x;      /* (rows, wmax) gathered batch input */
    float *z;      /* (rows, wmax) pre-activations, then activities, then dL/dz */
    float *g;      /* (nparam of the largest layer) gradient: whole after a step with lr 0; with
                      lr > 0 only the biases', the weights' living tile by tile in scratch */
    float *scratch; /* per thread: map / table chunks, or a step's weight-gradient tile */
    double *rowstat; /* (rows) goodness per row, then dL/dG */
    float *dscale;   /* (rows) 2 dL/dG: the factor from activities to dL/dz */
} pff_work;
int pff_work_init(pff_work *w, int rows, int wmax, size_t max_param, int threads); /* PFF_EFAIL: no memory */
void pff_work_free(pff_work *w);
float *pff_work_scratch(pff_work *w, int t); /* thread t's chunk buffer */
int pff_thread_id(void); /* the calling thread's index in its OpenMP team (0 without OpenMP) */

/* Statistics of a stage, summed over its batches. */
typedef struct {
    double loss, gpos, gneg; /* sums of batch means */
    long batches;
} pff_stage_stats;

/* Beyond the paper, both off at 0 (layers/README.md): what one training batch
 * of FF layer k adds to plain FF. */
typedef struct {
    float dropout;      /* P in [0, 1): each activity zeroed with probability P after the ReLU,
                           the others times 1/(1-P) (layers/ff.c: the keyed mask) */
    float weight_decay; /* L >= 0: each Adam step also takes lr * L * w off every weight
                           (decoupled, AdamW; never the biases) */
    uint64_t seed;      /* the mask's key: (seed, layer, epoch, image id, +/- half, unit) */
    int layer, epoch;   /* k (0-based) and the global epoch e */
    const int *ids;     /* (B) the image id of pair i (rows i and B + i); NULL: i */
} pff_ff_reg;

/* FF layer, one batch: x holds 2B rows (B positives, then B negatives), already
 * RMS-normalised. Computes the local loss, its gradient and, when lr > 0, one
 * Adam step fused with the weight-gradient product. reg (NULL: none) adds
 * dropout and weight decay. Returns the batch loss. */
double pff_ff_batch(pff_layer *l, pff_work *w, const float *x, int B, float theta, float lr,
                    const pff_ff_reg *reg, pff_stage_stats *st);
/* out = n(relu(x W^T + b)) for n rows of x, in chunks of PFF_MAP_ROWS. */
void pff_ff_map(const pff_layer *l, pff_work *w, const float *x, long n, float *out);
/* Adam on a range of a layer's parameters; bc1, bc2 = 1 - beta^t; decay > 0
 * also takes decay * p off each p (AdamW: decay = lr * weight decay); decay 0
 * gives plain Adam's bits. */
void pff_adam(float *restrict p, float *restrict m, float *restrict v, const float *restrict g,
              size_t n, float lr, float bc1, float bc2, float decay);

/* Softmax head, one batch of B feature rows; returns the mean cross-entropy. */
double pff_softmax_batch(pff_layer *h, pff_work *w, const float *f, const uint8_t *y, int B,
                         float lr);

/* Network-level: goodness over the 10 labels for n images (table: (n, 10)),
 * summed over layers first..L-1 (0-based), with layer 1 computed once per
 * image plus one weight column per label. */
/* skip: when given, image i's label skip[i] is not computed (its entry is 0):
 * negatives need only the 9 wrong labels. */
void pff_goodness_table(pff_layer *const *layers, int L, int first, pff_work *w,
                        const float *images, long n, int dim, const uint8_t *skip, float *table);
/* first: pff_goodness_first (pff.h). */
int pff_table_argmax(const float *row, int exclude); /* exclude < 0: none */
/* Softmax features: normalised activities of layers 2..L (layer 1 when L == 1)
 * for neutral-labelled images; feat is (n, pff_feature_dim). */
int pff_feature_dim(pff_layer *const *layers, int L);
void pff_features(pff_layer *const *layers, int L, pff_work *w, const float *images, long n,
                  int dim, float *feat);
/* The softmax head's logits for n images: logits (n, 10) = features W^T + b, the features
 * computed `rows` images at a time into feat (rows, pff_feature_dim), rows rounded down to a
 * multiple of PFF_MAP_ROWS; feat must hold at least min(n, PFF_MAP_ROWS) rows. The caller picks
 * the memory; the bits do not depend on it. */
void pff_head_logits(pff_layer *const *layers, int L, const pff_layer *head, pff_work *w,
                     const float *images, long n, int dim, float *feat, long rows, float *logits);

/* Every setting of the parts given (NULL: skipped) in its range (layers/settings.h): PFF_EUSAGE
 * with a message naming the first flag that is not (layers/model.c; pff_config_check and the
 * command line share it). */
int pff_check_settings(const pff_model_config *m, const pff_run_config *r, char *err);

/* Learning rate of global epoch e (0-based) out of E: linear cooldown after E/2. */
float pff_cooldown(float lr, int e, int E);

/* Negative labels for chapter c (never the true label). */
void pff_negatives_random(uint8_t *neg, const uint8_t *y, const int *index, long n, uint64_t seed,
                          int chapter);

/* Stages (layers/stage.c): C epochs of FF layer k (0-based) in chapter c on
 * a = (2n, in): n positive rows then the n negative rows, RMS-normalised.
 * index (NULL: 0..n-1) holds the global image id of each row pair (a shard's
 * rows): --dropout keys its mask by it. abort is polled once per batch
 * (returns -1 when set); progress counts batches. Returns PFF_EFAIL with a
 * message naming layer and chapter when the loss stops being finite. */
int pff_stage_ff(const pff_model_config *cfg, pff_layer *l, int k, int chapter, pff_work *w,
                 const float *a, long n, const int *index, const atomic_int *abort,
                 atomic_long *progress, pff_stage_stats *st, char *err);
/* Epochs j0..j1-1 (0-based within the chapter) of the same stage: what
 * pff_stage_ff does for j = 0..C-1, when each epoch has inputs of its own
 * (--augment shift with several epochs per chapter). */
int pff_stage_ff_epochs(const pff_model_config *cfg, pff_layer *l, int k, int chapter, int j0, int j1,
                        pff_work *w, const float *a, long n, const int *index,
                        const atomic_int *abort, atomic_long *progress, pff_stage_stats *st,
                        char *err);
/* Does every epoch have its own layer-1 inputs, so that layer k's input must be
 * mapped through the layers below once per epoch, not once per chapter? */
static inline int pff_inputs_per_epoch(const pff_model_config *cfg)
{
    return cfg->augment != PFF_AUGMENT_NONE && cfg->epochs != cfg->splits;
}
/* C epochs of the softmax head on feat (n, D); fbuf holds one batch (B, D). */
int pff_stage_softmax(const pff_model_config *cfg, pff_layer *h, int stage, int chapter, pff_work *w,
                      const float *feat, const uint8_t *y, long n, float *fbuf,
                      const atomic_int *abort, atomic_long *progress, pff_stage_stats *st,
                      char *err);
/* Rows of normalised embedded inputs; labels == NULL embeds the neutral label. */
void pff_embed_rows(float *out, const float *img, const uint8_t *labels, long n, int dim,
                    int threads);
/* Negatives of chapter c that do not depend on the network (fixed: always the
 * chapter-0 draw; random, and adaptive before a network exists: chapter c's). */
void pff_negatives_draw(const pff_model_config *cfg, uint8_t *neg, const uint8_t *y, const int *index,
                        long n, int chapter);
/* Most-predicted wrong label of each row of a goodness table. */
void pff_negatives_adaptive(uint8_t *neg, const float *table, const uint8_t *y, long n);
/* Does the kind of negatives come from the network (adaptive, hard)? */
static inline int pff_neg_from_net(pff_neg_kind k) { return k == PFF_NEG_ADAPTIVE || k == PFF_NEG_HARD; }
/* The one negatives policy of every schedule: where a node gets the negatives of chapter c, its
 * first chapter being `first` and the network that makes them being that of chapter c - lag
 * (All Layers: lag = N nodes; Single Layer and Sequential: 1). From the network once there is
 * one (adaptive, hard); else drawn (random every chapter, fixed in the node's first chapter:
 * the draw of chapter 0); else kept (fixed). */
typedef enum { PFF_NEGS_KEEP, PFF_NEGS_DRAW, PFF_NEGS_FROM_NET } pff_negs_source;
static inline pff_negs_source pff_negatives_source(pff_neg_kind k, int c, int first, int lag)
{
    if (pff_neg_from_net(k) && c >= lag)
        return PFF_NEGS_FROM_NET;
    return k != PFF_NEG_FIXED || c == first ? PFF_NEGS_DRAW : PFF_NEGS_KEEP;
}
/* --neg hard: for each row a wrong label drawn with probability
 * exp((G_j - max) / temp) / sum over the 9 wrong labels (the true label never),
 * keyed by (seed, chapter, image id): index[i], or i when index is NULL. */
void pff_negatives_hard(uint8_t *neg, const float *table, const uint8_t *y, const int *index,
                        long n, uint64_t seed, int chapter, float temp);
/* The negatives of chapter `serves` from the goodness table of the network
 * (cfg->neg adaptive or hard). */
void pff_negatives_from_table(const pff_model_config *cfg, uint8_t *neg, const float *table,
                              const uint8_t *y, const int *index, long n, int serves);

/* --augment shift (DESIGN.md §1): image id moves by (dx, dy) in [-s, s]^2 in
 * global epoch e, keyed by (seed, e, id), where s = pff_shift_max(augment):
 * 2 for shift, 1 for shift1 (forward-forward-rs's choice), 0 for none.
 * dx > 0 moves the picture right, dy > 0 down; uncovered pixels become 0. */
int pff_shift_max(pff_augment_kind a);
void pff_shift_offset(uint64_t seed, int epoch, uint64_t id, int s, int *dx, int *dy);
/* dst (side x side) = src moved by (dx, dy), zero-filled; dst != src. */
void pff_shift_image(const float *src, int side, int dx, int dy, float *dst);
/* The layer-1 input of global epoch e: a = (2n, dim), rows 0..n-1 the images
 * with their true label y, rows n..2n-1 with the negative label neg, both
 * normalised; with cfg->augment each image is first shifted for epoch e
 * (the same shift for its positive and its negative). pos == 0 leaves the
 * positive half alone (it does not change between epochs without augment). */
void pff_embed_inputs(const pff_model_config *cfg, float *a, const float *img, const uint8_t *y,
                      const uint8_t *neg, const int *index, long n, int dim, int epoch, int pos,
                      int threads); /* rows spread over threads: each row is its own, same bits */

#endif
