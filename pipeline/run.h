/* pipeline/run.h — private to pipeline/: one training run (pff_train) and its
 * node threads, shared by the files that make up a run:
 *
 *   schedule.c       what each node does (the schedules' node bodies)
 *   train.c          pff_train: set up, start the nodes, watch them, join, collect
 *   chapter_state.c  --checkpoint: each chapter's state as its stages finish, saved
 *                    (over MPI: the ranks' parts gathered on rank 0)
 *   shards.c         Federated: which image goes to which node
 *   node_alloc.c     every buffer a node touches, allocated before it starts
 *   mpi_codec.c      the channels as the MPI transport sees them, and the merge of
 *                    the ranks' results after an MPI run
 *
 * Locking: the fields of `run` under "guarded by mu" are written by node
 * threads and read by the main thread, always with run.mu held; everything
 * else is set before the node threads start, or belongs to one node. */
#ifndef PFF_RUN_H
#define PFF_RUN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "../layers/layers.h"
#include "../data/bytes.h"      /* the byte buffers of checkpoint parts and MPI messages */
#include "../data/checkpoint.h" /* struct pff_checkpoint, pff_checkpoint_save */
#include "pipeline.h"
#include "plan.h"

typedef struct run run;

typedef struct {
    run *r;             /* the run this node belongs to */
    int id;             /* 0..N-1: its place in the pipeline */
    pthread_t thread;   /* its thread (threads transport; joined by pff_train) */
    pff_work work;      /* its batch buffers and its --threads workers' scratch */
    /* the node's view of the training data (a shard for Federated) */
    long n;
    const float *img;   /* (n, dim) */
    const uint8_t *y;   /* (n) */
    const int *index;   /* (n) global image ids, NULL for 0..n-1 */
    float *own_img;     /* shard copies (Federated) */
    uint8_t *own_y;     /* (n) */
    int *own_index;     /* (n) */
    float *a0;          /* (2n, dim) layer-1 input: positives | negatives */
    float *act[2];      /* (2n, wmax) mapped activations, ping-pong */
    uint8_t *neg;       /* (n) negatives of the chapter being trained */
    uint8_t *neg_next;  /* (n) adaptive negatives for this node's next chapter */
    pff_layer **shadow; /* [L] parameter copies of this node's last chapter */
    pff_layer **stale;  /* [L+1] --handoff weights: this node's own Adam moments per stage */
    float *feat;        /* (n, D) softmax features */
    float *fbuf;        /* (batch, D) one gathered batch of features */
    float *table;       /* (n, 10) goodness table */
    float *etable;      /* (eval n, 10) --eval-every: goodness table, or the head's logits */
    double busy, wait, negsec; /* seconds computing, waiting for a hand-off, making negatives */
    pff_span *spans;    /* [cap] what this node did and when (trace mode, --json summary) */
    int nspans, cap;
} node;

struct run {
    const pff_config *cfg;
    int L, N, S;        /* FF layers, nodes, chapters */
    int dim, wmax, fdim; /* input width, widest layer, softmax features' width */
    pff_hub hub;        /* the thread transport's queues (hub.c) */
    pff_transport *tp;  /* the transport the nodes use: &hub.base, or MPI's */
    pff_layer **layers; /* [L] */
    pff_layer *head;    /* softmax head or NULL */
    node *nodes;        /* [N] */
    float **links;      /* single-layer: [2 (L-1)] activation buffers */
    pthread_mutex_t mu; /* guards the reporting fields below */
    pthread_cond_t cv;  /* signalled when a chapter's stage reports or a node ends */
    pff_stage_stats *stats; /* [S][L+1] */
    double *acc;            /* [S] test accuracy after the chapter (percent), -1: not measured */
    double *done_at;        /* [S] seconds from t0 when the chapter's last stage reported */
    double *eval_sec;       /* [S] seconds the chapter's --eval-every evaluation took */
    int *stages_done;       /* [S] stages finished per chapter, L+1 when complete */
    int nodes_done;         /* node threads that have returned */
    int mpi, me;            /* --transport mpi: this process runs node `me` only */
    int nlocal;             /* node threads in this process */
    atomic_long progress;   /* batches trained, all nodes */
    long total;             /* batches in the whole run (for the ETA and the bar) */
    double t0;              /* when the node threads started (span times count from it) */
    int start;              /* first chapter of this run (> 0 when resumed) */
    long train_n;           /* training images */
    int lag;                /* adaptive negatives of chapter c come from chapter c - lag */
    /* --checkpoint: the state of each chapter, gathered as its stages finish (under mu) */
    pff_layer **ck_layer;   /* [S][L+1] full copies (layers, head) */
    uint8_t **ck_neg;       /* [S] adaptive negatives made for chapter c (until c is saved) */
    long *ck_neg_n;         /* [S] */
    int ck_mpi;             /* --checkpoint over MPI: parts go to rank 0, which writes */
    pff_stage_stats *ck_stats; /* rank 0: [S][L+1] stats of the stages other ranks trained */
};

/* Channels: kind * (L+1) + k; CH_RSNAP (recompute mode) is an L x L block:
 * rsnap + j*L + m carries layer j's snapshots to node m. */
enum { CH_LAYER, CH_ACT, CH_FREE, CH_SNAP, CH_NEG, CH_RSNAP };
static inline int ch(const run *r, int kind, int k) { return kind * (r->L + 1) + k; }

static inline double pff_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* schedule.c: a node thread's body (arg: its node). */
void *pff_node_main(void *arg);

/* chapter_state.c (--checkpoint). Node threads keep full copies of stage k
 * after chapter c, and the adaptive negatives made for chapter `serves`; a
 * resumed node takes the negatives the checkpoint holds for chapter c. */
int pff_keep_state(node *nd, int c, int k, const pff_layer *l, char *err);
int pff_keep_negatives(node *nd, int serves, const uint8_t *neg, char *err);
int pff_resumed_negatives(node *nd, int c, char *err);
/* Main thread, r->mu held: writes the checkpoint of chapter c (threads, or
 * rank 0 over MPI). */
void pff_save_checkpoint(run *r, int c);
/* Main thread over MPI, r->mu held: sends this rank's finished parts to rank
 * 0 (other ranks), or takes the parts that arrived and saves every complete
 * chapter (rank 0). Returns the next chapter not yet handled. */
int pff_checkpoint_exchange(run *r, int next);

/* shards.c: cuts the training set into the nodes' shards (Federated). */
int pff_make_shards(run *r, const pff_dataset *d, char *err);

/* node_alloc.c: a node's buffers (PFF_EFAIL when out of memory), and back. */
int pff_node_alloc(run *r, node *nd);
void pff_node_free(run *r, node *nd);
/* What a transport still holds at teardown (ctx: the run). */
void pff_drop_item(void *ctx, int chan, void *obj);

/* mpi_codec.c: the run's channels for the MPI transport, and the merge of the
 * ranks' statistics, final layers, timings and spans (PFF_EFAIL: out of memory). */
pff_codec pff_run_codec(run *r);
int pff_mpi_merge(run *r, pff_span **spans, int *nspans);

#endif
