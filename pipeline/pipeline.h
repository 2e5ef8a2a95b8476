/* pipeline/pipeline.h — pipeline/ owns the schedules (which node trains which
 * layer of which chapter) and the transports that hand layers, activations
 * and negatives between nodes; it never does maths (layers/), never prints to
 * the terminal (it tells a pff_reporter) and never reads the command line.
 *
 * Hand-offs between nodes: the schedules (schedule.c) only ever talk to each
 * other through a pff_transport: publish a (channel, chapter) item, get the
 * item of a given chapter (blocking), or take the newest one without waiting.
 * A channel is a bounded FIFO in chapter order; a channel per layer carries
 * that layer's snapshots, others carry activations, free buffers and
 * negatives. The thread transport below hands pointers over without copying;
 * the MPI transport (below, mpi.c) serialises the same items and leaves the
 * schedules untouched. */
#ifndef PFF_PIPELINE_H
#define PFF_PIPELINE_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "../pff.h"

/* The signal a stop was asked for (pff_request_stop, pipeline/train.c), 0 if none: every node
 * reads it between batches. */
extern volatile sig_atomic_t pff_stop_signal;

/* The pipeline's mutex and condition-variable calls, checked. With default
 * attributes they fail only on a programming error (an object never
 * initialised or already destroyed): that is reported with its place and the
 * process aborts, as yarn's fail() does (hub.c). */
void pff_sync_fail(const char *call, int err, const char *file, int line);
static inline void pff_sync_check(int err, const char *call, const char *file, int line)
{
    if (err)
        pff_sync_fail(call, err, file, line);
}
#define pff_lock(m) pff_sync_check(pthread_mutex_lock(m), "pthread_mutex_lock", __FILE__, __LINE__)
#define pff_unlock(m)                                                                              \
    pff_sync_check(pthread_mutex_unlock(m), "pthread_mutex_unlock", __FILE__, __LINE__)
#define pff_wait(c, m) pff_sync_check(pthread_cond_wait(c, m), "pthread_cond_wait", __FILE__, __LINE__)
#define pff_broadcast(c)                                                                           \
    pff_sync_check(pthread_cond_broadcast(c), "pthread_cond_broadcast", __FILE__, __LINE__)
#define pff_signal(c) pff_sync_check(pthread_cond_signal(c), "pthread_cond_signal", __FILE__, __LINE__)

/* PFF_ABORTED (pff.h) is what a transport call returns when the run has already failed (its
 * message is in pff_transport.error): the caller gives up and passes it on. Node bodies return
 * it too; any other non-zero code (PFF_EFAIL, PFF_EUSAGE) is a failure of their own, with a
 * message, that they report to the transport. */

typedef struct pff_transport pff_transport;
struct pff_transport {
    /* Hands obj over as (chan, chapter); blocks while the channel is full.
     * Returns PFF_ABORTED (and keeps obj) when the run has failed. */
    int (*publish)(pff_transport *t, int chan, int chapter, void *obj);
    /* Waits for the item (chan, chapter), which must be the oldest one in the
     * channel, and takes it. NULL when the run has failed. */
    void *(*get)(pff_transport *t, int chan, int chapter);
    /* Takes the newest item of chan without waiting (older ones are handed to
     * drop()); NULL when there is none. *chapter receives its chapter. */
    void *(*latest)(pff_transport *t, int chan, int *chapter, void (*drop)(void *));
    /* Marks the run failed with msg (the first message wins), wakes everyone. */
    void (*fail)(pff_transport *t, const char *msg);
    atomic_int failed; /* read without the lock by compute loops, once per batch */
    char error[PFF_ERRLEN];
};

/* The thread transport: one mutex and one condition variable for all
 * channels (a few hand-offs per chapter: contention is nil), every wait in a
 * predicate loop that also watches `failed`. */
typedef struct {
    int chapter; /* the chapter the item belongs to */
    void *obj;   /* the item itself: handed over, never copied */
} pff_slot;

typedef struct {
    pff_slot *ring; /* [cap] */
    int cap, head, count; /* capacity, the oldest item's index, items queued (<= cap) */
} pff_channel;

typedef struct {
    pff_transport base;  /* the interface the nodes call */
    pthread_mutex_t mu;  /* guards every channel and base.error */
    pthread_cond_t cv;   /* broadcast on every publish, take and failure */
    int nchan;           /* channels */
    pff_channel *chan; /* [nchan] */
    pff_slot *slots;   /* backing store of every ring, one allocation */
} pff_hub;

/* caps[i] is channel i's capacity (>= 1). Returns PFF_EFAIL when out of memory. */
int pff_hub_init(pff_hub *h, int nchan, const int *caps);
/* Frees the hub; items still queued are passed to drop(ctx, chan, obj)
 * (drop may be NULL). */
void pff_hub_destroy(pff_hub *h, void (*drop)(void *ctx, int chan, void *obj), void *ctx);

/* ---- between processes: the MPI transport (pipeline/mpi.c, make MPI=1) ----
 *
 * A transport that copies items between address spaces needs to know, for
 * each item, who publishes and who takes it and which bytes make it; the
 * schedule says so with a codec. Ownership stays as on threads: publish()
 * hands the object to the transport, which gives it back through sent()
 * once its bytes are on their way; get() returns an object from receiver()
 * filled with the bytes that were sent. */
typedef struct {
    void *ctx;
    int (*src)(void *ctx, int chan, int chapter); /* node that publishes (chan, chapter) */
    int (*dst)(void *ctx, int chan, int chapter); /* node that takes it; -1: nobody */
    /* the item's bytes as np <= 2 pieces; returns np */
    int (*pieces)(void *ctx, int chan, void *obj, void *ptr[2], size_t len[2]);
    void *(*receiver)(void *ctx, int chan, int chapter); /* an object to receive into */
    void (*sent)(void *ctx, int chan, void *obj);        /* the transport is done with obj */
} pff_codec;

int pff_mpi_available(void); /* 0 when built without MPI */
/* MPI_Init with threads; PFF_EUSAGE with a message when built without MPI. */
int pff_mpi_init(int *argc, char ***argv, int *rank, int *size, char *err);
void pff_mpi_finalize(void);
void pff_mpi_abort(int code);   /* ends every rank of the job */
int pff_mpi_local_ranks(void);  /* ranks on this machine */
int pff_mpi_agree(int rc);      /* the largest rc of all ranks, on every rank */
void pff_mpi_barrier(void);
void pff_mpi_sum(double *buf, int n); /* element-wise over all ranks, result on every rank */
void pff_mpi_max(double *buf, int n);
void pff_mpi_bcast(void *buf, size_t len, int root);
/* Concatenates every rank's bytes in rank order on rank 0 (malloc'd; NULL elsewhere). */
void *pff_mpi_gather(const void *mine, size_t len, size_t *total);
/* Checkpoints over MPI: a rank's part of a chapter's state, to rank 0 (blocking
 * send), and rank 0's poll for one that has arrived (malloc'd; NULL: none). */
int pff_mpi_note_send(const void *buf, size_t len, int tag);
void *pff_mpi_note_poll(size_t *len, int *tag);
/* report (may be NULL) hears a failing rank's last words before MPI_Abort. */
pff_transport *pff_mpi_transport_new(const pff_codec *codec, int nchan, int chapters,
                                     const pff_reporter *report, char *err);
void pff_mpi_transport_finish(pff_transport *t); /* collective: all sends done, strays dropped */
void pff_mpi_transport_free(pff_transport *t, void (*drop)(void *ctx, int chan, void *obj),
                            void *ctx);

#endif
