/* pipeline/pipeline.h — hand-offs between node threads.
 *
 * The schedules (schedule.c) only ever talk to each other through a
 * pff_transport: publish a (channel, chapter) item, get the item of a given
 * chapter (blocking), or take the newest one without waiting. A channel is a
 * bounded FIFO in chapter order; a channel per layer carries that layer's
 * snapshots, others carry activations, free buffers and negatives. The
 * thread transport below hands pointers over without copying; a transport
 * between processes would serialise the same items and leave the schedules
 * untouched. */
#ifndef PFF_PIPELINE_H
#define PFF_PIPELINE_H

#include <pthread.h>
#include <stdatomic.h>

#include "../pff.h"

typedef struct pff_transport pff_transport;
struct pff_transport {
    /* Hands obj over as (chan, chapter); blocks while the channel is full.
     * Returns -1 (and keeps obj) when the run has failed. */
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
    int chapter;
    void *obj;
} pff_slot;

typedef struct {
    pff_slot *ring; /* [cap] */
    int cap, head, count;
} pff_channel;

typedef struct {
    pff_transport base;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int nchan;
    pff_channel *chan; /* [nchan] */
    pff_slot *slots;   /* backing store of every ring, one allocation */
} pff_hub;

/* caps[i] is channel i's capacity (>= 1). Returns -1 when out of memory. */
int pff_hub_init(pff_hub *h, int nchan, const int *caps);
/* Frees the hub; items still queued are passed to drop (may be NULL). */
void pff_hub_destroy(pff_hub *h, void (*drop)(int chan, void *obj));

#endif
