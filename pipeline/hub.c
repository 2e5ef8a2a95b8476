/* pipeline/hub.c — the thread transport: bounded chapter queues guarded by
 * one mutex and one condition variable. Every state change broadcasts; every
 * wait re-checks its predicate and the failure flag in a loop, so a failing
 * node wakes everybody and nobody can miss a wake-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

static int hub_publish(pff_transport *t, int ch, int chapter, void *obj)
{
    pff_hub *h = (pff_hub *)t;
    pff_channel *c = &h->chan[ch];
    pff_lock(&h->mu);
    while (!atomic_load(&t->failed) && c->count == c->cap)
        pff_wait(&h->cv, &h->mu);
    if (atomic_load(&t->failed)) {
        pff_unlock(&h->mu);
        return PFF_ABORTED;
    }
    c->ring[(c->head + c->count) % c->cap] = (pff_slot){chapter, obj};
    c->count++;
    pff_broadcast(&h->cv);
    pff_unlock(&h->mu);
    return PFF_OK;
}

/* Several nodes may wait on one channel for different chapters (the All
 * Layers ring): each waits until the oldest item is its own. An oldest item
 * from a later chapter than the one asked for means a schedule skipped one:
 * that fails the run instead of mixing chapters. */
static void *hub_get(pff_transport *t, int ch, int chapter)
{
    pff_hub *h = (pff_hub *)t;
    pff_channel *c = &h->chan[ch];
    void *obj = NULL;
    pff_lock(&h->mu);
    while (!atomic_load(&t->failed) && (c->count == 0 || c->ring[c->head].chapter < chapter))
        pff_wait(&h->cv, &h->mu);
    if (!atomic_load(&t->failed)) {
        pff_slot s = c->ring[c->head];
        if (s.chapter != chapter) {
            snprintf(t->error, PFF_ERRLEN,
                     "internal error: channel %d delivered chapter %d, expected %d", ch, s.chapter,
                     chapter);
            atomic_store(&t->failed, 1);
        } else {
            obj = s.obj;
            c->head = (c->head + 1) % c->cap;
            c->count--;
        }
        pff_broadcast(&h->cv);
    }
    pff_unlock(&h->mu);
    return obj;
}

static void *hub_latest(pff_transport *t, int ch, int *chapter, void (*drop)(void *))
{
    pff_hub *h = (pff_hub *)t;
    pff_channel *c = &h->chan[ch];
    void *obj = NULL;
    pff_lock(&h->mu);
    while (c->count > 0) {
        pff_slot s = c->ring[c->head];
        c->head = (c->head + 1) % c->cap;
        c->count--;
        if (obj && drop)
            drop(obj);
        obj = s.obj;
        *chapter = s.chapter;
    }
    pff_broadcast(&h->cv);
    pff_unlock(&h->mu);
    return obj;
}

static void hub_fail(pff_transport *t, const char *msg)
{
    pff_hub *h = (pff_hub *)t;
    pff_lock(&h->mu);
    if (!atomic_load(&t->failed)) {
        snprintf(t->error, PFF_ERRLEN, "%s", msg);
        atomic_store(&t->failed, 1);
    }
    pff_broadcast(&h->cv);
    pff_unlock(&h->mu);
}

int pff_hub_init(pff_hub *h, int nchan, const int *caps)
{
    memset(h, 0, sizeof *h);
    if (nchan < 1)
        return PFF_EFAIL;
    size_t total = 0;
    for (int i = 0; i < nchan; i++)
        total += (size_t)caps[i];
    h->chan = calloc((size_t)nchan, sizeof *h->chan);
    h->slots = calloc(total ? total : 1, sizeof *h->slots);
    if (!h->chan || !h->slots) {
        free(h->chan);
        free(h->slots);
        return PFF_EFAIL;
    }
    pff_slot *s = h->slots;
    for (int i = 0; i < nchan; i++) {
        h->chan[i].ring = s;
        h->chan[i].cap = caps[i];
        s += caps[i];
    }
    h->nchan = nchan;
    if (pthread_mutex_init(&h->mu, NULL)) {
        free(h->chan);
        free(h->slots);
        return PFF_EFAIL;
    }
    if (pthread_cond_init(&h->cv, NULL)) {
        pthread_mutex_destroy(&h->mu);
        free(h->chan);
        free(h->slots);
        return PFF_EFAIL;
    }
    h->base.publish = hub_publish;
    h->base.get = hub_get;
    h->base.latest = hub_latest;
    h->base.fail = hub_fail;
    atomic_init(&h->base.failed, 0);
    return PFF_OK;
}

void pff_hub_destroy(pff_hub *h, void (*drop)(void *ctx, int chan, void *obj), void *ctx)
{
    for (int i = 0; i < h->nchan; i++) {
        pff_channel *c = &h->chan[i];
        for (; c->count > 0; c->count--, c->head = (c->head + 1) % c->cap)
            if (drop)
                drop(ctx, i, c->ring[c->head].obj);
    }
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h->chan);
    free(h->slots);
    memset(h, 0, sizeof *h);
}

void pff_sync_fail(const char *call, int err, const char *file, int line)
{
    fprintf(stderr, "pff: %s failed at %s:%d: %s (a bug in pff; please report it)\n", call, file,
            line, strerror(err));
    abort();
}
