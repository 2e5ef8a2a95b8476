/* pff.h — public interface of libpff, a Forward-Forward trainer running the
 * Pipeline Forward-Forward (PFF) schedules on POSIX threads.
 *
 * Everything public is pff_* / PFF_*. A caller fills a pff_config (start from
 * pff_config_default), loads data with pff_data_load, trains with pff_train and
 * evaluates, saves or loads the resulting pff_model. Functions that can fail
 * return 0 on success, PFF_EUSAGE (2) for input the user can fix (a bad flag,
 * a bad file) and PFF_EFAIL (1) otherwise, with a message in err[PFF_ERRLEN].
 */
#ifndef PFF_H
#define PFF_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#define PFF_VERSION "0.1.0"
#define PFF_MAX_LAYERS 16 /* FF layers in one network */
#define PFF_MAX_NODES 64  /* pipeline nodes (threads, or MPI ranks) in one run */
#define PFF_MAX_THREADS 256 /* worker threads of one node */
#define PFF_MAX_BATCH 4096  /* images per batch */
#define PFF_CLASSES 10    /* labels embedded into the first PFF_CLASSES inputs */
#define PFF_ERRLEN 512

/* PFF_ABORTED: the run already failed elsewhere (another node, a signal); whoever gets it gives up
 * and passes it on, the message is the first failure's. */
enum { PFF_OK = 0, PFF_EFAIL = 1, PFF_EUSAGE = 2, PFF_ABORTED = -1 };

typedef enum { PFF_SEQUENTIAL, PFF_SINGLE_LAYER, PFF_ALL_LAYERS, PFF_FEDERATED } pff_schedule_kind;
/* hard: sampled in proportion to the model's preference (softmax of the goodness
 * table over the wrong labels, temperature hard_temp); values are stored in files */
typedef enum { PFF_NEG_ADAPTIVE, PFF_NEG_FIXED, PFF_NEG_RANDOM, PFF_NEG_HARD } pff_neg_kind;
typedef enum { PFF_AUGMENT_NONE, PFF_AUGMENT_SHIFT, PFF_AUGMENT_SHIFT1 } pff_augment_kind;
#define PFF_AUGMENT_KINDS 3
typedef enum { PFF_CLS_GOODNESS, PFF_CLS_SOFTMAX } pff_classifier_kind;
typedef enum { PFF_SHARDS_IID, PFF_SHARDS_LABEL_SKEW } pff_shard_kind;
typedef enum { PFF_TRANSPORT_THREADS, PFF_TRANSPORT_MPI } pff_transport_kind;

/* The four IDX files of a data directory, in this order everywhere. */
#define PFF_DATA_FILES 4
extern const char *const pff_data_files[PFF_DATA_FILES];

/* What a checkpoint records besides the training state, so that
 * `pff train --resume FILE` alone continues the run: the data set (its
 * directory, made absolute, and a fingerprint of each IDX file), the limits
 * and the outputs that were asked for. The command line fills it; a library
 * caller may leave pff_config.record NULL (nothing recorded). */
typedef struct {
    char *data_dir;                        /* absolute directory; NULL: not recorded */
    uint64_t data_size[PFF_DATA_FILES];    /* bytes of each of pff_data_files */
    uint64_t data_hash[PFF_DATA_FILES];    /* 64-bit FNV-1a of each file's bytes */
    long train_limit, test_limit;          /* first N images (0: all) */
    long val_n;                            /* --val N: images held out of training (0: none) */
    char *save, *log, *trace;              /* absolute output paths (NULL: none; trace may be "-") */
} pff_run_record;

typedef struct pff_reporter pff_reporter; /* below */

/* What a model file records (DESIGN.md §1): the network and the maths of its training. */
typedef struct {
    int nlayers;                     /* FF layers L, 1..PFF_MAX_LAYERS */
    int widths[PFF_MAX_LAYERS + 1];  /* widths[0] = input size, widths[k] = layer k */
    float threshold;                 /* per-unit coefficient: theta_k = threshold * widths[k] */
    int epochs, splits, batch;       /* E, S (E % S == 0), images per batch */
    float lr, softmax_lr;            /* Adam learning rates: FF layers, softmax head */
    pff_neg_kind neg;                /* fixed, random, adaptive or hard negative labels */
    float hard_temp;                 /* --neg hard: P(label) ∝ exp(G / hard_temp) (default 1) */
    pff_augment_kind augment;        /* shift: each epoch moves every image by a keyed (dx, dy) */
    pff_classifier_kind classifier;  /* goodness, or a softmax head on layers 2..L */
    uint64_t seed;                   /* keys every random draw (layers/random.h) */
    float dropout;                   /* P in [0, 1): FF activities dropped in training (0: off) */
    float weight_decay;              /* L >= 0: decoupled decay of the FF weights (0: off) */
    int goodness_from;               /* K: the goodness classifier sums layers K..L; 0: the
                                        paper's rule, layers 2..L (layer 1 when L = 1). Never
                                        changes training: negatives always use the paper's rule */
} pff_model_config;

/* The first layer (0-based) a goodness table sums: the paper's rule (layers
 * 2..L, layer 1 alone when L = 1) for from == 0, else from - 1. Negatives use
 * the paper's rule, the goodness classifier the model's goodness_from. */
static inline int pff_goodness_first(int L, int from)
{
    return from > 0 ? from - 1 : L > 1 ? 1 : 0;
}

/* How a run is scheduled (never changes the maths, DESIGN.md §2), and what it measures and keeps. */
typedef struct {
    pff_schedule_kind schedule;      /* sequential, single-layer, all-layers or federated */
    int nodes;                       /* pipeline node threads N */
    int threads;                     /* worker threads per node T */
    int fast;                        /* single-layer: use adaptive negatives as they arrive */
    int sl_recompute;                /* single-layer: recompute the layers below from snapshots
                                        instead of receiving the mapped activations */
    pff_shard_kind shards;           /* federated: how the training set is cut */
    int stale_adam;                  /* --handoff weights: Adam moments stay on each node */
    pff_transport_kind transport;    /* threads (one process) or mpi (a rank per node) */
    int rank;                        /* mpi: this process's node (its MPI rank) */
    int eval_every;                  /* held-out accuracy every K chapters and after the last (0: never) */
    const struct pff_dataset *eval_set; /* the images eval_every measures: the validation set
                                           (--val), else the test set */
    const char *checkpoint;          /* write the training state here after every chapter */
    const struct pff_checkpoint *resume; /* continue from this state (pff_checkpoint_load) */
    const pff_run_record *record;    /* written into every checkpoint (NULL: nothing) */
} pff_run_config;

/* How a run reports while it trains. */
typedef struct {
    FILE *log;                       /* one record per chapter (NULL: none) */
    int log_jsonl;                   /* the log as JSON Lines instead of CSV */
    int quiet;                       /* no progress on stderr */
    int progress_bar;                /* live bar within a chapter (stderr is a terminal) */
    int eval_is_val;                 /* eval_every measures the validation set: the log's column
                                        and the chapter line say val, not test */
    const pff_reporter *reporter;    /* what the run tells while it trains (NULL: silent) */
} pff_report_config;

/* Everything pff_train needs, in three parts: only `model` goes into a model file. */
typedef struct {
    pff_model_config model;          /* the maths: what the model file records */
    pff_run_config run;              /* the schedule and what the run keeps */
    pff_report_config report;        /* what it says while it trains */
} pff_config;

/* Images as floats in [0,1], one row of `dim` per image, labels 0..9. */
typedef struct pff_dataset {
    int n, dim; /* images, pixels per image */
    float *x;   /* (n, dim) */
    uint8_t *y; /* (n) */
    int *index; /* (n) ids in the whole set when this is one shard of it, else NULL */
    int total;  /* images in the whole set, when index is set */
} pff_dataset;

typedef struct pff_layer pff_layer; /* layers/layers.h */

/* What one chapter did (the model keeps one per chapter, the log writes them). */
typedef struct {
    int chapter;                   /* 1-based */
    float lr;                      /* learning rate of the chapter's last epoch */
    float test_accuracy;           /* percent, or -1 when not measured (--eval-every) */
    float loss[PFF_MAX_LAYERS];    /* mean local loss per layer */
    float gpos[PFF_MAX_LAYERS];    /* mean goodness of positives per layer */
    float gneg[PFF_MAX_LAYERS];    /* mean goodness of negatives per layer */
} pff_history;

/* What pff_train tells its reporter about a finished chapter, beside the
 * chapter's pff_history (whose figures are floats, as the model keeps them):
 * the same figures unrounded, and the clocks. */
typedef struct {
    int chapters;                  /* chapters in the run (S) */
    int nlayers;                   /* FF layers L */
    int log_only;                  /* 1: a chapter the resumed checkpoint holds, replayed for
                                      the log only (the run that made it showed its line) */
    double loss[PFF_MAX_LAYERS];   /* mean local loss per layer */
    double gpos[PFF_MAX_LAYERS];   /* mean goodness of positives per layer */
    double gneg[PFF_MAX_LAYERS];   /* mean goodness of negatives per layer */
    double head_loss;              /* mean cross-entropy of the softmax head; -1: none trained */
    double test_accuracy;          /* percent; -1: not measured (--eval-every) */
    double seconds;                /* training seconds when the chapter was complete, without
                                      --eval-every time (the log's `seconds`); -1: unknown */
    double elapsed, eta;           /* seconds since the nodes started, and left; elapsed -1:
                                      not timed (MPI: told once the ranks' results are merged) */
} pff_chapter_note;

/* How a run reports while it trains (pff_config.report.reporter; NULL: silent).
 * pipeline/ calls these and never prints; the command line's terminal
 * reporter (cli/report.c) prints them. on_chapter, on_progress and on_nodes_done
 * come from the thread that called pff_train, chapters in order; on_abort
 * from whichever thread ends an MPI job. Any callback may be NULL. */
struct pff_reporter {
    void *ctx;
    /* chapter h->chapter is complete */
    void (*on_chapter)(void *ctx, const pff_history *h, const pff_chapter_note *note);
    /* batches trained so far of the run's total, a few times a second while nodes run */
    void (*on_progress)(void *ctx, long done, long total);
    /* the node threads have finished: live progress, if any, ends */
    void (*on_nodes_done)(void *ctx);
    /* MPI: this rank failed with msg and is about to end the whole job (MPI_Abort) */
    void (*on_abort)(void *ctx, int rank, const char *msg);
};

/* A trained network: L FF layers and, when trained, the softmax head. */
typedef struct {
    pff_model_config cfg; /* the settings it was trained with (what its file records) */
    pff_layer **layer; /* [cfg.nlayers] */
    pff_layer *head;  /* softmax head (NULL when the goodness classifier was used) */
    int nhistory;
    pff_history *history; /* [nhistory] one per chapter */
} pff_model;

/* What a run measured (the fields of `pff train --json`). */
typedef struct {
    double train_seconds;  /* the node threads' wall time less the --eval-every evaluations */
    double neg_seconds;    /* of which regenerating negatives (summed over nodes) */
    double eval_seconds;   /* the --eval-every evaluations (pff train adds its final ones) */
    double goodness_accuracy, softmax_accuracy; /* softmax < 0 when no head */
    double gflops, peak_rss_mb;
    int train_n, test_n;
    double node_busy[PFF_MAX_NODES], node_wait[PFF_MAX_NODES]; /* seconds per node thread */
    long node_images[PFF_MAX_NODES]; /* training images each node trained on (its shard in federated) */
    void *spans;       /* (nspans) pff_span (draw/gantt.h): the run's trace; free() it */
    int nspans, trace_nodes;
    double trace_end;  /* seconds from the start of the node threads to the last join */
} pff_result;

void pff_config_default(pff_config *cfg);
void pff_model_config_default(pff_model_config *m); /* the model part of pff_config_default */
/* The nodes a schedule runs when --nodes is not given: 1 (sequential), one per layer (single
 * layer), 2 (all layers, federated). pff train and pff schedule both take it from here. */
int pff_default_nodes(pff_schedule_kind s, int nlayers);
/* Checks a configuration against the data width and size; PFF_EUSAGE with a message. How many
 * threads a machine should run is the caller's policy (pff train: cli/cmd_train.c). */
int pff_config_check(const pff_config *cfg, int input_dim, long train_n, char *err);
/* Bytes a run of cfg on n training images will allocate, roughly. */
double pff_memory_estimate(const pff_config *cfg, long n);

/* IDX files (data/idx.c). */
int pff_idx_load(const char *images_path, const char *labels_path, pff_dataset *out, char *err);
int pff_data_load(const char *dir, pff_dataset *train, pff_dataset *test, char *err);
/* Size and 64-bit FNV-1a of each of the four IDX files of dir. */
int pff_data_fingerprint(const char *dir, uint64_t size[PFF_DATA_FILES],
                         uint64_t hash[PFF_DATA_FILES], char *err);
void pff_dataset_free(pff_dataset *d);
void pff_dataset_truncate(pff_dataset *d, int n);
/* --val N: moves N images of train, a fixed keyed choice independent of --seed (pipeline/shards.c), into
 * val; train keeps the others, in order. PFF_EUSAGE when N >= train->n. n <= 0: val empty. */
int pff_dataset_hold_out(pff_dataset *train, int n, pff_dataset *val, char *err);

/* Federated over MPI: cuts train down to the rows of shard `shard` (the same
 * keyed shards pff_train would cut), keeping their ids in train->index, and
 * frees the rest. PFF_EUSAGE when a shard is smaller than a batch. */
int pff_federated_keep_shard(const pff_config *cfg, pff_dataset *train, int shard, char *err);

/* Training (pipeline/train.c): runs cfg->run.schedule, fills model and result; tells
 * cfg->report.reporter what it does (nothing printed). */
int pff_train(const pff_config *cfg, const pff_dataset *train, pff_model *model, pff_result *res,
              char *err);
/* Accuracy of the goodness classifier (and of the head when present) on d. */
int pff_evaluate(const pff_model *m, const pff_dataset *d, int threads, double *goodness_acc,
                 double *softmax_acc, char *err);

/* Goodness accuracy (fractions) of each layer alone (alone[k]: layer k+1) and of each suffix of
 * layers (suffix[k]: layers k+1..L) on d; arrays of m->cfg.nlayers. */
int pff_evaluate_layers(const pff_model *m, const pff_dataset *d, int threads, double *alone,
                        double *suffix, char *err);

/* Predictions for n images (rows of dim = widths[0]): goodness argmax into
 * good_pred[n], softmax argmax into soft_pred[n] when the model has a head
 * and soft_pred is not NULL, the goodness table into scores[n*10] if given. */
int pff_predict(const pff_model *m, const float *img, long n, int threads, int *good_pred,
                int *soft_pred, float *scores, char *err);
/* Softmax probabilities of the head (m->head must be set) for n images: probs (n, 10).
 * PFF_EFAIL with a message when out of memory or the head does not fit the layers. */
int pff_head_softmax(const pff_model *m, const float *img, long n, int threads, float *probs,
                     char *err);

/* The one atomic file writer (data/atomic.c): a temporary file PATH.tmp.XXXXXX
 * in PATH's directory, fsync, rename onto PATH; on failure the temporary file
 * is removed and PATH keeps what it held. PFF_EUSAGE when the file cannot be
 * created there (missing directory, no permission) or something is in the way
 * (a directory at PATH), PFF_EFAIL for other failures; err names PATH. pff_write_atomic writes n bytes (mode 0644). */
int pff_write_atomic(const char *path, const void *data, size_t n, char *err);
/* The same, for content written as it is made: emit writes it to f and returns
 * 0, or an errno value (> 0) or -1 when it fails. Mode 0666 & ~umask. */
int pff_write_atomic_stream(const char *path, int (*emit)(FILE *f, void *ctx), void *ctx,
                            char *err);

/* Checkpoints (data/checkpoint.c): the whole training state after a chapter.
 * A run resumed from one ends with the same model as an uninterrupted run
 * (deterministic schedules). The checkpoint's config holds every setting. */
typedef struct pff_checkpoint pff_checkpoint;
int pff_checkpoint_load(const char *path, pff_checkpoint **ck, char *err);
const pff_config *pff_checkpoint_config(const pff_checkpoint *ck);
int pff_checkpoint_chapters(const pff_checkpoint *ck); /* chapters already trained */
const pff_run_record *pff_checkpoint_record(const pff_checkpoint *ck); /* data, limits, outputs */
void pff_checkpoint_free(pff_checkpoint *ck);

/* Asks a running pff_train to stop at the next batch on every node (it then fails with
 * "interrupted by signal SIG"); safe to call from a signal handler. pff_stop_requested: the
 * signal asked for, or 0. */
void pff_request_stop(int sig);
int pff_stop_requested(void);

/* Model files (data/model_file.c): versioned, checksummed, written atomically. */
int pff_model_save(const pff_model *m, const char *path, char *err);
int pff_model_load(pff_model *m, const char *path, char *err);
void pff_model_free(pff_model *m); /* layers/model.c */

/* The OpenBLAS kernel ("core") in use, e.g. "Haswell"; "plain C (NO_BLAS)" without OpenBLAS. */
const char *pff_blas_name(void);

/* One table of names per enum, in the enum's order (layers/model.c): the command line parses
 * with them and every output prints them. */
extern const char *const pff_schedule_names[4];   /* pff_schedule_kind */
extern const char *const pff_neg_names[4];        /* pff_neg_kind */
extern const char *const pff_classifier_names[2]; /* pff_classifier_kind */
extern const char *const pff_shard_names[2];      /* pff_shard_kind */
extern const char *const pff_augment_names[PFF_AUGMENT_KINDS];    /* pff_augment_kind */
const char *pff_schedule_name(pff_schedule_kind s);
const char *pff_neg_name(pff_neg_kind n);
const char *pff_augment_name(pff_augment_kind a);
const char *pff_classifier_name(pff_classifier_kind c);

#endif
