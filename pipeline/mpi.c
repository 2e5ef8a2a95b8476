/* pipeline/mpi.c — the MPI transport: the same hand-offs as pipeline/hub.c,
 * between processes. Built with `make MPI=1` (mpicc, -DPFF_MPI); without it
 * the functions below refuse politely and pff runs on threads only.
 *
 * One rank is one pipeline node. publish() turns an item into bytes with the
 * schedule's codec (pff_codec: who consumes (chan, chapter), which bytes make
 * the item, what to receive into) and queues it for the rank's sender thread,
 * so a node goes on computing while its layer travels, as it does on threads
 * (MPI moves a large message only while its sender is inside an MPI call:
 * without that thread the next node would wait for this one's next publish).
 * get()
 * receives from the one rank that publishes (chan, chapter); latest() takes
 * whatever has arrived. The MPI tag of an item is chan * S + chapter, and
 * messages between two ranks on one tag never overtake each other, so a
 * chunked item arrives in order.
 *
 * Waiting: a node waits for a message by polling with sleeps (growing to
 * 1 ms while nothing has arrived, 10 us while a message moves) rather than
 * in MPI_Recv, which spins on a core: with several ranks on one machine a
 * waiting rank leaves its core to the ranks that compute, and it sees a
 * local failure while it waits.
 *
 * Failure: there is no way to wake a rank of another process that waits for
 * a message the failed rank will never send, so fail() tells the reporter
 * (the command line prints the message with the rank) and calls MPI_Abort: mpirun then ends every rank and exits
 * non-zero. A rank killed from outside is noticed by mpirun, which ends the
 * job the same way. No rank writes a model, log or trace before training has
 * finished, so an aborted job leaves no partial files; with --checkpoint,
 * rank 0 replaces the checkpoint atomically after every chapter all ranks
 * finished (pff_mpi_note_send / pff_mpi_note_poll carry the parts to it).
 *
 * Threads: MPI is called from the node thread (receives), the sender thread
 * (sends) and the main thread (set-up, checkpoint parts, collectives after the
 * node has finished, abort on a signal): pff needs MPI_THREAD_MULTIPLE. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline.h"

#ifdef PFF_MPI
#include <mpi.h>

#define CHUNK ((size_t)1 << 30) /* bytes per message: counts are ints */

static MPI_Comm data_comm = MPI_COMM_NULL; /* the transport's own, apart from collectives */
static MPI_Comm note_comm = MPI_COMM_NULL; /* checkpoint parts to rank 0 (main threads only) */
static int inited;

int pff_mpi_available(void) { return 1; }

int pff_mpi_init(int *argc, char ***argv, int *rank, int *size, char *err)
{
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided) != MPI_SUCCESS) {
        snprintf(err, PFF_ERRLEN, "--transport mpi: MPI_Init_thread failed");
        return PFF_EFAIL;
    }
    inited = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    MPI_Comm_dup(MPI_COMM_WORLD, &data_comm);
    MPI_Comm_dup(MPI_COMM_WORLD, &note_comm);
    if (provided < MPI_THREAD_MULTIPLE) {
        snprintf(err, PFF_ERRLEN,
                 "--transport mpi: this MPI library gives thread level %d; pff needs "
                 "MPI_THREAD_MULTIPLE (a sender thread moves the data while the node computes)",
                 provided);
        return PFF_EFAIL;
    }
    return PFF_OK;
}

void pff_mpi_finalize(void)
{
    if (!inited)
        return;
    if (data_comm != MPI_COMM_NULL)
        MPI_Comm_free(&data_comm);
    if (note_comm != MPI_COMM_NULL)
        MPI_Comm_free(&note_comm);
    MPI_Finalize();
    inited = 0;
}

void pff_mpi_abort(int code)
{
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
}

int pff_mpi_local_ranks(void)
{
    const char *s = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    if (!s)
        s = getenv("MPI_LOCALNRANKS");
    int n = s ? atoi(s) : 0;
    if (n < 1) {
        int size = 1;
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        n = size; /* unknown launcher: assume one machine */
    }
    return n;
}

/* Lets every rank learn the largest rc, and rank 0 the first message. */
int pff_mpi_agree(int rc)
{
    int worst = rc;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return worst;
}

void pff_mpi_barrier(void) { MPI_Barrier(MPI_COMM_WORLD); }

void pff_mpi_sum(double *buf, int n)
{
    MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

void pff_mpi_max(double *buf, int n)
{
    MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
}

void pff_mpi_bcast(void *buf, size_t len, int root)
{
    for (size_t at = 0; at < len; at += CHUNK) {
        size_t n = len - at < CHUNK ? len - at : CHUNK;
        MPI_Bcast((char *)buf + at, (int)n, MPI_BYTE, root, MPI_COMM_WORLD);
    }
}

void *pff_mpi_gather(const void *mine, size_t len, size_t *total)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int n = (int)len, *counts = NULL, *displs = NULL;
    char *all = NULL;
    if (rank == 0) {
        counts = calloc((size_t)size, sizeof *counts);
        displs = calloc((size_t)size, sizeof *displs);
    }
    MPI_Gather(&n, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        size_t sum = 0;
        for (int i = 0; counts && displs && i < size; i++) {
            displs[i] = (int)sum;
            sum += (size_t)counts[i];
        }
        all = malloc(sum ? sum : 1);
        *total = sum;
    }
    MPI_Gatherv(mine, n, MPI_BYTE, all, counts, displs, MPI_BYTE, 0, MPI_COMM_WORLD);
    free(counts);
    free(displs);
    return all;
}

/* Checkpoint parts travel on a communicator of their own, from the main
 * thread of a rank to the main thread of rank 0, so they never meet the
 * transport's messages or the collectives. */
int pff_mpi_note_send(const void *buf, size_t len, int tag)
{
    if (len > (size_t)0x7fffffff)
        return PFF_EFAIL;
    return MPI_Send(buf, (int)len, MPI_BYTE, 0, tag, note_comm) == MPI_SUCCESS ? 0 : PFF_EFAIL;
}

void *pff_mpi_note_poll(size_t *len, int *tag)
{
    int flag = 0, n = 0;
    MPI_Status st;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, note_comm, &flag, &st);
    if (!flag)
        return NULL;
    MPI_Get_count(&st, MPI_BYTE, &n);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf) {
        pff_mpi_abort(1); /* nothing else can be done with a message that cannot be received */
        return NULL;
    }
    MPI_Recv(buf, n, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, note_comm, MPI_STATUS_IGNORE);
    *len = (size_t)n;
    *tag = st.MPI_TAG;
    return buf;
}

/* ---- the transport ---- */

typedef struct outgoing {
    void *obj;
    int chan, chapter, dst;
    struct outgoing *next;
} outgoing;

typedef struct local_item {
    int chan, chapter;
    void *obj;
    struct local_item *next;
} local_item;

typedef struct {
    pff_transport base;
    pff_codec codec;
    const pff_reporter *report; /* hears the last words of fail() (may be NULL) */
    int rank, chapters;
    /* sends: queued by publish(), made by the sender thread, which keeps
     * calling into MPI until each is through (MPI moves a large message only
     * while one of its ends is inside an MPI call) */
    pthread_t sender;
    int sender_started, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    outgoing *head, *tail;
    void *in_flight;    /* the object being sent now */
    local_item *local;  /* items a rank published to itself (one node: sequential) */
    int *latest_next;   /* [nchan] next chapter latest() looks for */
} mpi_transport;

static int tag_of(const mpi_transport *m, int chan, int chapter)
{
    return chan * m->chapters + chapter;
}

/* Sleeps a little longer each time, up to cap nanoseconds. */
static void backoff(long *ns, long cap)
{
    struct timespec ts = {0, *ns};
    nanosleep(&ts, NULL);
    if (*ns < cap)
        *ns = 2 * *ns < cap ? 2 * *ns : cap;
}

/* How long a poll may sleep: waiting for a message to start (ranks computing
 * elsewhere), and while one is moving. A large message travels in fragments
 * and each end moves it only inside an MPI call, so once it moves both ends
 * poll at short intervals: with 1 ms between polls, 48 MB took over a second
 * to copy between two ranks of this machine without single-copy transfers. */
#define IDLE_POLL_NS 1000000L
#define MOVING_POLL_NS 10000L
#define SENDER_POLL_NS 100000L

/* Waits for req by polling; gives up (cancelling it) when the run has failed. */
static int wait_for(mpi_transport *m, MPI_Request *req, long cap)
{
    long ns = 1000;
    for (;;) {
        int done = 0;
        MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (done)
            return PFF_OK;
        if (atomic_load(&m->base.failed)) {
            MPI_Cancel(req);
            MPI_Request_free(req);
            return PFF_ABORTED;
        }
        backoff(&ns, cap);
    }
}

/* Waits until a message (peer, tag) has arrived, without receiving it. */
static int wait_arrival(mpi_transport *m, int peer, int tag)
{
    long ns = 1000;
    for (;;) {
        int flag = 0;
        MPI_Iprobe(peer, tag, data_comm, &flag, MPI_STATUS_IGNORE);
        if (flag)
            return PFF_OK;
        if (atomic_load(&m->base.failed))
            return PFF_ABORTED;
        backoff(&ns, IDLE_POLL_NS);
    }
}

/* Sends or receives the item's pieces, in chunks of at most CHUNK bytes. A
 * receiver waits for each chunk to arrive at the idle pace, then takes it at
 * the moving pace; the sender thread has nothing else to do and polls at the
 * moving pace throughout. */
static int transfer(mpi_transport *m, int send, int chan, int chapter, int peer, void *obj)
{
    void *ptr[2];
    size_t len[2];
    int np = m->codec.pieces(m->codec.ctx, chan, obj, ptr, len), tag = tag_of(m, chan, chapter);
    for (int i = 0; i < np; i++)
        for (size_t at = 0; at < len[i]; at += CHUNK) {
            size_t n = len[i] - at < CHUNK ? len[i] - at : CHUNK;
            MPI_Request req;
            if (send)
                MPI_Isend((char *)ptr[i] + at, (int)n, MPI_BYTE, peer, tag, data_comm, &req);
            else if (wait_arrival(m, peer, tag))
                return PFF_ABORTED;
            else
                MPI_Irecv((char *)ptr[i] + at, (int)n, MPI_BYTE, peer, tag, data_comm, &req);
            if (wait_for(m, &req, send ? SENDER_POLL_NS : MOVING_POLL_NS))
                return PFF_ABORTED;
        }
    return PFF_OK;
}

static void *sender_main(void *arg)
{
    mpi_transport *m = arg;
    pff_lock(&m->mu);
    for (;;) {
        while (!m->head && !m->stop)
            pff_wait(&m->cv, &m->mu);
        outgoing *o = m->head;
        if (!o)
            break;
        if (!(m->head = o->next))
            m->tail = NULL;
        m->in_flight = o->obj;
        pff_unlock(&m->mu);
        transfer(m, 1, o->chan, o->chapter, o->dst, o->obj);
        pff_lock(&m->mu);
        m->in_flight = NULL;
        if (m->codec.sent)
            m->codec.sent(m->codec.ctx, o->chan, o->obj);
        free(o);
        pff_broadcast(&m->cv);
    }
    pff_unlock(&m->mu);
    return NULL;
}

static int mpi_publish(pff_transport *t, int chan, int chapter, void *obj)
{
    mpi_transport *m = (mpi_transport *)t;
    if (atomic_load(&t->failed))
        return PFF_ABORTED;
    int dst = m->codec.dst(m->codec.ctx, chan, chapter);
    if (dst < 0) { /* nobody takes it: the run's last chapter */
        if (m->codec.sent)
            m->codec.sent(m->codec.ctx, chan, obj);
        return PFF_OK;
    }
    if (dst == m->rank) {
        local_item *it = malloc(sizeof *it), **end = &m->local;
        if (!it) {
            t->fail(t, "out of memory queueing an item");
            return PFF_ABORTED;
        }
        *it = (local_item){chan, chapter, obj, NULL};
        while (*end)
            end = &(*end)->next;
        *end = it;
        return PFF_OK;
    }
    outgoing *o = malloc(sizeof *o);
    if (!o) {
        t->fail(t, "out of memory queueing a send");
        return PFF_ABORTED;
    }
    *o = (outgoing){obj, chan, chapter, dst, NULL};
    pff_lock(&m->mu);
    if (m->tail)
        m->tail->next = o;
    else
        m->head = o;
    m->tail = o;
    pff_broadcast(&m->cv);
    pff_unlock(&m->mu);
    return PFF_OK;
}

/* Waits until obj is no longer queued or being sent. */
static void wait_sent(mpi_transport *m, const void *obj)
{
    pff_lock(&m->mu);
    for (;;) {
        int busy = m->in_flight == obj;
        for (outgoing *o = m->head; o && !busy; o = o->next)
            busy = o->obj == obj;
        if (!busy || atomic_load(&m->base.failed))
            break;
        pff_wait(&m->cv, &m->mu);
    }
    pff_unlock(&m->mu);
}

static void *mpi_get(pff_transport *t, int chan, int chapter)
{
    mpi_transport *m = (mpi_transport *)t;
    for (local_item **it = &m->local; *it; it = &(*it)->next)
        if ((*it)->chan == chan) {
            local_item *found = *it;
            void *obj = found->obj;
            if (found->chapter != chapter) {
                t->fail(t, "internal error: a local item of another chapter");
                return NULL;
            }
            *it = found->next;
            free(found);
            return obj;
        }
    if (atomic_load(&t->failed))
        return NULL;
    void *obj = m->codec.receiver(m->codec.ctx, chan, chapter);
    if (!obj) {
        t->fail(t, "out of memory receiving an item");
        return NULL;
    }
    wait_sent(m, obj); /* the object may still be on its way out from an earlier publish */
    if (transfer(m, 0, chan, chapter, m->codec.src(m->codec.ctx, chan, chapter), obj)) {
        if (m->codec.sent)
            m->codec.sent(m->codec.ctx, chan, obj);
        return NULL;
    }
    return obj;
}

static void *mpi_latest(pff_transport *t, int chan, int *chapter, void (*drop)(void *))
{
    mpi_transport *m = (mpi_transport *)t;
    void *obj = NULL;
    int src = m->codec.src(m->codec.ctx, chan, 0);
    for (int c = m->latest_next[chan]; c < m->chapters; c++) {
        int flag = 0;
        MPI_Iprobe(src, tag_of(m, chan, c), data_comm, &flag, MPI_STATUS_IGNORE);
        if (!flag)
            break;
        void *got = m->codec.receiver(m->codec.ctx, chan, c);
        if (!got || transfer(m, 0, chan, c, src, got)) {
            if (got && m->codec.sent)
                m->codec.sent(m->codec.ctx, chan, got);
            break;
        }
        if (obj && drop)
            drop(obj);
        obj = got;
        *chapter = c;
        m->latest_next[chan] = c + 1;
    }
    return obj;
}

static void mpi_fail(pff_transport *t, const char *msg)
{
    mpi_transport *m = (mpi_transport *)t;
    if (atomic_exchange(&t->failed, 1))
        return;
    snprintf(t->error, PFF_ERRLEN, "%s", msg);
    if (m->report && m->report->on_abort) /* the process ends here: its last words */
        m->report->on_abort(m->report->ctx, m->rank, msg);
    int code = pff_stop_signal ? 128 + (int)pff_stop_signal : PFF_EFAIL;
    pff_mpi_abort(code);
}

pff_transport *pff_mpi_transport_new(const pff_codec *codec, int nchan, int chapters,
                                     const pff_reporter *report, char *err)
{
    int rank, *ub = NULL, flag = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &ub, &flag);
    if (flag && (long)nchan * chapters > (long)*ub) {
        snprintf(err, PFF_ERRLEN,
                 "--transport mpi: %d channels x %d chapters need more MPI tags than this MPI "
                 "library offers (%d)",
                 nchan, chapters, *ub);
        return NULL;
    }
    mpi_transport *m = calloc(1, sizeof *m);
    if (!m || !(m->latest_next = calloc((size_t)nchan, sizeof *m->latest_next))) {
        free(m);
        snprintf(err, PFF_ERRLEN, "out of memory setting up the MPI transport");
        return NULL;
    }
    m->codec = *codec;
    m->report = report;
    m->rank = rank;
    m->chapters = chapters;
    /* glibc's default mutexes and conditions cannot fail to initialise */
    pff_sync_check(pthread_mutex_init(&m->mu, NULL), "pthread_mutex_init", __FILE__, __LINE__);
    pff_sync_check(pthread_cond_init(&m->cv, NULL), "pthread_cond_init", __FILE__, __LINE__);
    if (pthread_create(&m->sender, NULL, sender_main, m)) {
        pthread_mutex_destroy(&m->mu);
        pthread_cond_destroy(&m->cv);
        free(m->latest_next);
        free(m);
        snprintf(err, PFF_ERRLEN, "cannot start the MPI sender thread");
        return NULL;
    }
    m->sender_started = 1;
    m->base.publish = mpi_publish;
    m->base.get = mpi_get;
    m->base.latest = mpi_latest;
    m->base.fail = mpi_fail;
    atomic_init(&m->base.failed, 0);
    return &m->base;
}

/* After this rank's node has finished: completes its sends while taking in
 * (and dropping) items nobody asked for (adaptive negatives that arrived
 * after a --fast node's last chapter), until every rank is there. */
void pff_mpi_transport_finish(pff_transport *t)
{
    mpi_transport *m = (mpi_transport *)t;
    MPI_Request barrier = MPI_REQUEST_NULL;
    int entered = 0;
    long ns = 20000;
    char *sink = NULL;
    size_t sink_len = 0;
    pff_lock(&m->mu);
    m->stop = 1; /* the sender empties its queue, then ends */
    pff_broadcast(&m->cv);
    pff_unlock(&m->mu);
    for (;;) {
        if (!entered) {
            pff_lock(&m->mu);
            int idle = !m->head && !m->in_flight;
            pff_unlock(&m->mu);
            if (idle) {
                MPI_Ibarrier(data_comm, &barrier);
                entered = 1;
            }
        }
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, data_comm, &flag, &st);
        if (flag) {
            int count = 0;
            MPI_Get_count(&st, MPI_BYTE, &count);
            if ((size_t)count > sink_len) {
                char *grown = realloc(sink, (size_t)count);
                if (!grown)
                    pff_mpi_abort(PFF_EFAIL);
                sink = grown;
                sink_len = (size_t)count;
            }
            MPI_Recv(sink, count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, data_comm, MPI_STATUS_IGNORE);
            continue;
        }
        if (entered) {
            int done = 0;
            MPI_Test(&barrier, &done, MPI_STATUS_IGNORE);
            if (done)
                break;
        }
        backoff(&ns, IDLE_POLL_NS);
    }
    free(sink);
}

void pff_mpi_transport_free(pff_transport *t, void (*drop)(void *ctx, int chan, void *obj),
                            void *ctx)
{
    mpi_transport *m = (mpi_transport *)t;
    if (!m)
        return;
    if (m->sender_started) {
        pff_lock(&m->mu);
        m->stop = 1;
        pff_broadcast(&m->cv);
        pff_unlock(&m->mu);
        pthread_join(m->sender, NULL);
    }
    while (m->local) {
        local_item *it = m->local;
        m->local = it->next;
        if (drop)
            drop(ctx, it->chan, it->obj);
        free(it);
    }
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    free(m->latest_next);
    free(m);
}

#else /* built without MPI */

static const char no_mpi[] =
    "--transport mpi: this pff was built without MPI; install Open MPI (libopenmpi-dev) and "
    "rebuild with make MPI=1";

int pff_mpi_available(void) { return 0; }
int pff_mpi_init(int *argc, char ***argv, int *rank, int *size, char *err)
{
    (void)argc, (void)argv;
    *rank = 0;
    *size = 1;
    snprintf(err, PFF_ERRLEN, "%s", no_mpi);
    return PFF_EUSAGE;
}
void pff_mpi_finalize(void) {}
void pff_mpi_abort(int code) { exit(code); }
int pff_mpi_local_ranks(void) { return 1; }
int pff_mpi_agree(int rc) { return rc; }
void pff_mpi_barrier(void) {}
int pff_mpi_note_send(const void *buf, size_t len, int tag)
{
    (void)buf, (void)len, (void)tag;
    return PFF_EFAIL;
}
void *pff_mpi_note_poll(size_t *len, int *tag)
{
    (void)len, (void)tag;
    return NULL;
}
void pff_mpi_sum(double *buf, int n) { (void)buf, (void)n; }
void pff_mpi_max(double *buf, int n) { (void)buf, (void)n; }
void pff_mpi_bcast(void *buf, size_t len, int root) { (void)buf, (void)len, (void)root; }
void *pff_mpi_gather(const void *mine, size_t len, size_t *total)
{
    void *all = malloc(len ? len : 1);
    if (all)
        memcpy(all, mine, len);
    *total = len;
    return all;
}
pff_transport *pff_mpi_transport_new(const pff_codec *codec, int nchan, int chapters,
                                     const pff_reporter *report, char *err)
{
    (void)codec, (void)nchan, (void)chapters, (void)report;
    snprintf(err, PFF_ERRLEN, "%s", no_mpi);
    return NULL;
}
void pff_mpi_transport_finish(pff_transport *t) { (void)t; }
void pff_mpi_transport_free(pff_transport *t, void (*drop)(void *ctx, int chan, void *obj),
                            void *ctx)
{
    (void)t, (void)drop, (void)ctx;
}

#endif
