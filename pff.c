/* pff.c — the command line of pff, and the map of the whole program.
 *
 * Data flow of `pff train`:
 *
 *   IDX files ──data/idx.c──▶ pff_dataset (floats in [0,1], labels)
 *        │
 *        ▼  pipeline/train.c: pff_train starts N node threads (schedule.c)
 *   node: embed labels (positive: true label, negative: a wrong one) into the
 *         first 10 pixels, RMS-normalise; --augment shift first moves each
 *         image by its keyed offset of the epoch        (layers/stage.c)
 *     for each chapter c it runs, for each layer k:
 *         get layer k of chapter c-1          ◀── transport (pipeline/hub.c)
 *         C epochs of FF on its input         (layers/stage.c → layers/ff.c:
 *                                               forward, goodness, loss,
 *                                               gradient fused with Adam)
 *         publish layer k of chapter c        ──▶ transport
 *         map the data through layer k: the next layer's input
 *     chapter tail: softmax head on neutral-label features, adaptive or
 *         hard negatives from the goodness table       (layers/net.c)
 *        │
 *        ▼
 *   pff_model ──layers/model.c──▶ test accuracy, model file (--save)
 *
 * Every product goes through pff_matmul (layers/matmul.c). Which node runs
 * which (layer, chapter), and why the result does not depend on it, is told
 * at the top of pipeline/schedule.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pff.h"
#include "data/cli.h"
#include "data/export.h"
#include "data/tools.h"
#include "layers/layers.h"
#include "pipeline/pipeline.h"
#include "pipeline/plan.h"
#include "pipeline/trace.h"
#include "report.h"

static const pff_option train_opts[] = {
    {"data", 1, "DIR      directory of the four IDX files (default data/mnist)"},
    {"dataset", 1, "NAME     mnist (data/mnist) | fashion (data/fashion-mnist)"},
    {"layers", 1, "W0,W1,.. widths, input first (default 784,500,500,500)"},
    {"epochs", 1, "E        total epochs (default 10)"},
    {"splits", 1, "S        chapters; E must be a multiple of S (default 5)"},
    {"batch", 1, "B        images per batch (default 64)"},
    {"schedule", 1, "NAME     sequential | single-layer | all-layers | federated"},
    {"nodes", 1, "N        pipeline node threads (single-layer: number of layers)"},
    {"threads", 1, "T        worker threads per node (default cores / nodes)"},
    {"oversubscribe", 0, "         allow nodes x threads above the core count"},
    {"fast", 0, "         single-layer: take adaptive negatives as they arrive (paper)"},
    {"recompute", 0, "         single-layer: recompute lower layers instead of receiving activations"},
    {"handoff", 1, "WHAT     all-layers: full (weights + Adam state) | weights (paper's sockets)"},
    {"shards", 1, "KIND     federated shards: iid | label-skew (default iid)"},
    {"transport", 1, "KIND     threads (one process) | mpi (one rank per node, under mpirun)"},
    {"neg", 1, "KIND     negatives: adaptive | fixed | random | hard (default adaptive)"},
    {"hard-temp", 1, "T        --neg hard: wrong label j drawn with P ~ exp(G_j / T) (default 1)"},
    {"augment", 1, "KIND     none | shift: move each image by a keyed +-2 px each epoch (default none)"},
    {"classifier", 1, "KIND     goodness | softmax (default goodness)"},
    {"lr", 1, "X        Adam learning rate of the FF layers (default 0.001)"},
    {"softmax-lr", 1, "X        Adam learning rate of the softmax head (default 0.001)"},
    {"threshold", 1, "X        goodness threshold per unit: theta = X * width (default 1)"},
    {"seed", 1, "N        random seed (default 1)"},
    {"train-limit", 1, "N        train on the first N images only"},
    {"test-limit", 1, "N        evaluate on the first N test images only"},
    {"preset", 1, "NAME     paper: the paper's literal settings (see layers/README.md)"},
    {"save", 1, "FILE     write the trained model (atomically)"},
    {"trace", 1, "FILE     record every node's events: .json (Perfetto), .png, .txt or -"},
    {"log", 1, "FILE     one record per chapter: CSV, or JSON Lines for .jsonl"},
    {"checkpoint", 1, "FILE     save the whole training state after every chapter (atomically)"},
    {"resume", 1, "FILE     continue a run from its checkpoint (settings come from it)"},
    {"eval-every", 1, "K        test accuracy every K chapters (in the log and the model)"},
    {"json", 0, "         print one JSON object with the results on stdout"},
    {"quiet", 0, "         no progress on stderr"},
    {"help", 0, "         this text"},
    {NULL, 0, NULL}};

static const pff_option eval_opts[] = {
    {"data", 1, "DIR      directory of the IDX files (default data/mnist)"},
    {"test-limit", 1, "N        first N test images only"},
    {"threads", 1, "T        worker threads (default: all cores)"},
    {"confusion", 1, "FILE.png confusion matrix: table on stdout (stderr with --json), heat map PNG"},
    {"json", 0, "         one JSON object on stdout"},
    {"help", 0, "         this text"},
    {NULL, 0, NULL}};

static const pff_option info_opts[] = {{"json", 0, "         one JSON object on stdout"},
                                   {"help", 0, "         this text"},
                                   {NULL, 0, NULL}};

static int parse_layers(const char *s, pff_config *cfg)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        /* an empty item (784,,10 or a trailing comma) is an error, not skipped */
        if (errno || end == p || v < 1 || v > INT_MAX || (*end && *end != ',') ||
            (*end == ',' && end[1] == 0) || n > PFF_MAX_LAYERS) {
            fprintf(stderr,
                    "pff: --layers: '%s' is not a list of 2..%d positive widths like 784,500,500\n",
                    s, PFF_MAX_LAYERS + 1);
            return PFF_EUSAGE;
        }
        cfg->widths[n++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (n < 2) {
        fprintf(stderr, "pff: --layers: '%s' has %d width(s), expected the input width and at "
                        "least one layer\n", s, n);
        return PFF_EUSAGE;
    }
    cfg->nlayers = n - 1;
    return PFF_OK;
}

/* An output flag's value, or what the checkpoint recorded for it. */
static const char *output_path(const pff_parsed *p, const char *flag, const char *recorded)
{
    const char *v = pff_cli_get(p, train_opts, flag);
    return v ? v : recorded;
}

/* Every output of a run, checked before anything is trained: a known trace
 * format, and a place where a file can be created (no directory). */
static int check_outputs(const char *save, const char *trace, const char *log,
                         const char *checkpoint)
{
    int rc;
    if (save && (rc = pff_check_writable("save", save)))
        return rc;
    if (trace) {
        const char *dot = strrchr(trace, '.');
        int ok = !strcmp(trace, "-") || (dot && (!strcmp(dot, ".json") || !strcmp(dot, ".png") ||
                                                 !strcmp(dot, ".txt")));
        if (!ok) {
            fprintf(stderr, "pff: --trace %s: expected a file ending in .json, .png or .txt, or -\n",
                    trace);
            return PFF_EUSAGE;
        }
        if (strcmp(trace, "-") && (rc = pff_check_writable("trace", trace)))
            return rc;
    }
    if (log && (rc = pff_check_writable("log", log)))
        return rc;
    if (checkpoint && (rc = pff_check_writable("checkpoint", checkpoint)))
        return rc;
    return PFF_OK;
}

/* path made absolute against the working directory, without resolving links
 * ("-" stays "-"); malloc'd, NULL for NULL or when out of memory. */
static char *absolute_path(const char *path)
{
    if (!path)
        return NULL;
    if (path[0] == '/' || !strcmp(path, "-"))
        return strdup(path);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
        return NULL;
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", path);
    return out;
}

/* The run record of a run that writes checkpoints: the data directory and
 * outputs made absolute, the limits, a fingerprint of each IDX file. When
 * resuming (was: the checkpoint's record), the files must still match it. */
static int make_record(pff_run_record *r, const char *dir, long train_limit, long test_limit,
                       const char *save, const char *log, const char *trace,
                       const pff_run_record *was, char *err)
{
    r->train_limit = train_limit;
    r->test_limit = test_limit;
    r->data_dir = absolute_path(dir);
    r->save = absolute_path(save);
    r->log = absolute_path(log);
    r->trace = absolute_path(trace);
    if (!r->data_dir || (save && !r->save) || (log && !r->log) || (trace && !r->trace)) {
        snprintf(err, PFF_ERRLEN, "cannot make the data and output paths absolute: %s",
                 strerror(errno));
        return PFF_EFAIL;
    }
    int rc = pff_data_fingerprint(dir, r->data_size, r->data_hash, err);
    if (rc)
        return rc;
    for (int i = 0; was && i < PFF_DATA_FILES; i++)
        if (r->data_size[i] != was->data_size[i] || r->data_hash[i] != was->data_hash[i]) {
            snprintf(err, PFF_ERRLEN,
                     "%s/%s changed since the checkpoint was made (now %llu bytes, FNV-1a "
                     "%016llx; the checkpoint recorded %llu bytes, %016llx): a run resumes on "
                     "the data set it started with",
                     dir, pff_data_files[i], (unsigned long long)r->data_size[i],
                     (unsigned long long)r->data_hash[i], (unsigned long long)was->data_size[i],
                     (unsigned long long)was->data_hash[i]);
            return PFF_EUSAGE;
        }
    return PFF_OK;
}

static int cores(void)
{
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (int)c : 1;
}

static void json_layers(FILE *f, const pff_config *c)
{
    fprintf(f, "[");
    for (int k = 0; k <= c->nlayers; k++)
        fprintf(f, "%s%d", k ? "," : "", c->widths[k]);
    fprintf(f, "]");
}

static void json_acc(FILE *f, double a)
{
    if (a < 0)
        fprintf(f, "null");
    else
        fprintf(f, "%.4f", 100.0 * a);
}

static void on_signal(int sig) { pff_stop_signal = sig; }

static int train_main(int argc, char **argv);

/* pff train; under --transport mpi every rank runs this, and MPI ends here. */
static int cmd_train(int argc, char **argv)
{
    int rc = train_main(argc, argv);
    pff_mpi_finalize();
    return rc;
}

static int train_main(int argc, char **argv)
{
    const pff_option *O = train_opts;
    pff_parsed p;
    int rc = pff_cli_parse(argc, argv, O, "train", &p);
    if (rc)
        return rc;
    if (pff_cli_has(&p, O, "help")) {
        pff_cli_usage(stdout, "pff train [options]", O);
        return 0;
    }
    if (p.npos) {
        fprintf(stderr, "pff train: unexpected argument '%s'\n", p.pos[0]);
        return PFF_EUSAGE;
    }
    pff_config cfg;
    pff_config_default(&cfg);
    const char *s;
    long v;
    const char *resume = pff_cli_get(&p, O, "resume");
    if (resume) {
        /* the checkpoint holds every setting, the data set and the limits: only
         * where outputs go (and how the job runs) may be named with it */
        static const char *const outputs[] = {"resume", "save",  "log",       "trace",
                                              "checkpoint", "json", "quiet", "transport", NULL};
        for (int i = 0; O[i].name; i++) {
            int allowed = 0;
            for (int j = 0; outputs[j]; j++)
                allowed |= !strcmp(O[i].name, outputs[j]);
            if (!allowed && pff_cli_has(&p, O, O[i].name)) {
                fprintf(stderr, "pff: --resume takes every training setting, the data set and the "
                                "limits from the checkpoint (only --save, --log, --trace, "
                                "--checkpoint, --json and --quiet may go with it); drop --%s\n",
                        O[i].name);
                return PFF_EUSAGE;
            }
        }
    }
    if ((s = pff_cli_get(&p, O, "preset"))) {
        if (strcmp(s, "paper") != 0) {
            fprintf(stderr, "pff: --preset: '%s' is not one of paper\n", s);
            return PFF_EUSAGE;
        }
        cfg.nlayers = 4;
        cfg.widths[0] = 784;
        for (int k = 1; k <= 4; k++)
            cfg.widths[k] = 2000;
        cfg.epochs = cfg.splits = 100;
        cfg.lr = 0.01f;
        cfg.softmax_lr = 1e-4f;
        cfg.threshold = 0.01f;
        cfg.neg = PFF_NEG_ADAPTIVE;
    }
    if ((s = pff_cli_get(&p, O, "layers")) && (rc = parse_layers(s, &cfg)))
        return rc;
#define INTOPT(name, lo, hi, field)                                                                \
    if ((s = pff_cli_get(&p, O, name))) {                                                              \
        if ((rc = pff_cli_long(name, s, lo, hi, &v)))                                                \
            return rc;                                                                             \
        field = (int)v;                                                                            \
    }
    INTOPT("epochs", 1, 1000000, cfg.epochs)
    INTOPT("splits", 1, 1000000, cfg.splits)
    INTOPT("batch", 1, 4096, cfg.batch)
    INTOPT("nodes", 1, PFF_MAX_NODES, cfg.nodes)
    INTOPT("threads", 1, 256, cfg.threads)
    long train_limit = 0, test_limit = 0;
    if ((s = pff_cli_get(&p, O, "train-limit")) && (rc = pff_cli_long("train-limit", s, 1, INT_MAX, &train_limit)))
        return rc;
    if ((s = pff_cli_get(&p, O, "test-limit")) && (rc = pff_cli_long("test-limit", s, 1, INT_MAX, &test_limit)))
        return rc;
    if ((s = pff_cli_get(&p, O, "seed"))) {
        char *end;
        errno = 0;
        unsigned long long sd = strtoull(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-') {
            fprintf(stderr, "pff: --seed: '%s' is not a non-negative integer\n", s);
            return PFF_EUSAGE;
        }
        cfg.seed = sd;
    }
    if ((s = pff_cli_get(&p, O, "lr")) && (rc = pff_cli_float("lr", s, &cfg.lr)))
        return rc;
    if ((s = pff_cli_get(&p, O, "softmax-lr")) && (rc = pff_cli_float("softmax-lr", s, &cfg.softmax_lr)))
        return rc;
    if ((s = pff_cli_get(&p, O, "threshold")) && (rc = pff_cli_float("threshold", s, &cfg.threshold)))
        return rc;
    int ch;
    if ((s = pff_cli_get(&p, O, "schedule"))) {
        if ((rc = pff_cli_choice("schedule", s, pff_schedule_names, 4, &ch)))
            return rc;
        cfg.schedule = (pff_schedule_kind)ch;
    }
    if ((s = pff_cli_get(&p, O, "neg"))) {
        if ((rc = pff_cli_choice("neg", s, pff_neg_names, 4, &ch)))
            return rc;
        cfg.neg = (pff_neg_kind)ch;
    }
    if ((s = pff_cli_get(&p, O, "hard-temp"))) {
        if ((rc = pff_cli_float("hard-temp", s, &cfg.hard_temp)))
            return rc;
        if (cfg.neg != PFF_NEG_HARD) {
            fprintf(stderr, "pff: --hard-temp applies to --neg hard only (now --neg %s)\n",
                    pff_neg_name(cfg.neg));
            return PFF_EUSAGE;
        }
    }
    if ((s = pff_cli_get(&p, O, "augment"))) {
        if ((rc = pff_cli_choice("augment", s, pff_augment_names, 2, &ch)))
            return rc;
        cfg.augment = (pff_augment_kind)ch;
    }
    if ((s = pff_cli_get(&p, O, "classifier"))) {
        if ((rc = pff_cli_choice("classifier", s, pff_classifier_names, 2, &ch)))
            return rc;
        cfg.classifier = (pff_classifier_kind)ch;
    }
    if ((s = pff_cli_get(&p, O, "shards"))) {
        if ((rc = pff_cli_choice("shards", s, pff_shard_names, 2, &ch)))
            return rc;
        cfg.shards = (pff_shard_kind)ch;
    }
    if (pff_cli_has(&p, O, "shards") && cfg.schedule != PFF_FEDERATED) {
        fprintf(stderr, "pff: --shards applies to --schedule federated only\n");
        return PFF_EUSAGE;
    }
    cfg.fast = pff_cli_has(&p, O, "fast");
    cfg.sl_recompute = pff_cli_has(&p, O, "recompute");
    if ((s = pff_cli_get(&p, O, "handoff"))) {
        static const char *const hand[] = {"full", "weights"};
        if ((rc = pff_cli_choice("handoff", s, hand, 2, &ch)))
            return rc;
        cfg.stale_adam = ch;
    }
    if ((s = pff_cli_get(&p, O, "transport"))) {
        static const char *const tps[] = {"threads", "mpi"};
        if ((rc = pff_cli_choice("transport", s, tps, 2, &ch)))
            return rc;
        cfg.transport = (pff_transport_kind)ch;
    }
    const int mpi = cfg.transport == PFF_TRANSPORT_MPI;
    char err[PFF_ERRLEN];
    /* a resumed run takes every setting, its data set, limits and outputs from
     * the checkpoint (over MPI every rank reads it: the schedule fixes the ranks) */
    pff_checkpoint *ck = NULL;
    const pff_run_record *rec = NULL;
    if (resume) {
        if ((rc = pff_checkpoint_load(resume, &ck, err))) {
            fprintf(stderr, "pff: %s\n", err);
            return rc;
        }
        rec = pff_checkpoint_record(ck);
        if (!rec->data_dir) {
            fprintf(stderr, "pff: --resume %s: the checkpoint records no data set (it was not "
                            "written by pff train)\n", resume);
            pff_checkpoint_free(ck);
            return PFF_EUSAGE;
        }
        train_limit = rec->train_limit;
        test_limit = rec->test_limit;
        cfg = *pff_checkpoint_config(ck);
        cfg.transport = mpi ? PFF_TRANSPORT_MPI : PFF_TRANSPORT_THREADS;
        cfg.resume = ck;
    }
    cfg.quiet = pff_cli_has(&p, O, "quiet");
    cfg.progress_bar = isatty(2) && !mpi;
    int json = pff_cli_has(&p, O, "json");
    int ranks = 1, local = 1;
    if (mpi) {
        if ((rc = pff_mpi_init(&argc, &argv, &cfg.rank, &ranks, err))) {
            fprintf(stderr, "pff: %s\n", err);
            pff_checkpoint_free(ck);
            return rc;
        }
        local = pff_mpi_local_ranks();
        if (cfg.schedule == PFF_SINGLE_LAYER)
            cfg.sl_recompute = 1; /* only parameters cross between processes (pipeline/README.md) */
        if (!resume && !pff_cli_has(&p, O, "nodes") &&
            (cfg.schedule == PFF_ALL_LAYERS || cfg.schedule == PFF_FEDERATED))
            cfg.nodes = ranks;
    }
    if (!resume && !pff_cli_has(&p, O, "nodes") && !(mpi && cfg.schedule >= PFF_ALL_LAYERS))
        cfg.nodes = cfg.schedule == PFF_SINGLE_LAYER ? cfg.nlayers
                    : cfg.schedule == PFF_SEQUENTIAL ? 1 : 2;
    int N = cfg.schedule == PFF_SEQUENTIAL ? 1 : cfg.nodes;
    /* threads share this machine's cores: N node threads, or the ranks started here */
    int sharers = mpi ? local : N;
    if (!resume && !pff_cli_has(&p, O, "threads"))
        cfg.threads = cores() / sharers > 0 ? cores() / sharers : 1;
    /* a resumed run was accepted when it started */
    int over = resume || pff_cli_has(&p, O, "oversubscribe");
    if (mpi) {
        if (N != ranks) {
            if (cfg.rank == 0)
                fprintf(stderr,
                        "pff: --transport mpi: the %s schedule runs %d node(s), one per rank, but "
                        "this job has %d rank(s): start it with mpirun -np %d\n",
                        pff_schedule_name(cfg.schedule), N, ranks, N);
            pff_checkpoint_free(ck);
            return PFF_EUSAGE;
        }
        if (!over && (long)local * cfg.threads > cores()) {
            if (cfg.rank == 0)
                fprintf(stderr,
                        "pff: --transport mpi: %d rank(s) on this machine x --threads %d = %d "
                        "threads on %d cores; lower --threads, or add --oversubscribe\n",
                        local, cfg.threads, local * cfg.threads, cores());
            return PFF_EUSAGE;
        }
        over = 1; /* checked above, per machine */
    }
    if (!pff_cli_has(&p, O, "threads") && cfg.schedule == PFF_SINGLE_LAYER && N > cores())
        over = 1; /* single-layer needs one node per layer; they share the cores */

    const char *dir = pff_cli_get(&p, O, "data") ? pff_cli_get(&p, O, "data") : "data/mnist";
    if ((s = pff_cli_get(&p, O, "dataset"))) {
        static const char *const sets[] = {"mnist", "fashion"};
        if ((rc = pff_cli_choice("dataset", s, sets, 2, &ch)))
            return rc;
        if (pff_cli_has(&p, O, "data")) {
            fprintf(stderr, "pff: --dataset and --data both name the data; give one\n");
            return PFF_EUSAGE;
        }
        dir = ch ? "data/fashion-mnist" : "data/mnist";
    }
    long eval_every = 0;
    if ((s = pff_cli_get(&p, O, "eval-every")) &&
        (rc = pff_cli_long("eval-every", s, 1, 1000000, &eval_every)))
        return rc;
    if (eval_every)
        cfg.eval_every = (int)eval_every;
    if (rec)
        dir = rec->data_dir;
    const char *save = output_path(&p, "save", rec ? rec->save : NULL);
    const char *trace = output_path(&p, "trace", rec ? rec->trace : NULL);
    const char *logpath = output_path(&p, "log", rec ? rec->log : NULL);
    cfg.checkpoint = pff_cli_get(&p, O, "checkpoint") ? pff_cli_get(&p, O, "checkpoint") : resume;
    if ((rc = check_outputs(save, trace, logpath, cfg.checkpoint))) {
        pff_checkpoint_free(ck);
        return rc;
    }
    if (cfg.checkpoint && cfg.stale_adam) {
        fprintf(stderr, "pff: --checkpoint cannot hold --handoff weights runs (each node's own "
                        "Adam moments are not part of the saved state)\n");
        pff_checkpoint_free(ck);
        return PFF_EUSAGE;
    }
    pff_dataset train, test;
    if ((rc = pff_data_load(dir, &train, &test, err))) {
        if (mpi)
            fprintf(stderr, "pff: rank %d: %s\n", cfg.rank, err);
        else
            fprintf(stderr, "pff: %s\n", err);
        pff_checkpoint_free(ck);
        if (mpi)
            pff_mpi_agree(rc);
        return rc;
    }
    pff_dataset_truncate(&train, (int)train_limit);
    pff_dataset_truncate(&test, (int)test_limit);
    /* what every checkpoint of this run records; a resumed run's data must match it */
    pff_run_record record;
    memset(&record, 0, sizeof record);
    if (cfg.checkpoint) {
        if ((rc = make_record(&record, dir, train_limit, test_limit, save, logpath, trace, rec,
                              err))) {
            if (resume)
                fprintf(stderr, "pff: --resume %s: %s\n", resume, err);
            else
                fprintf(stderr, "pff: --checkpoint: %s\n", err);
            if (mpi) /* the other ranks must not wait for this one */
                pff_mpi_agree(rc);
            goto done;
        }
        cfg.record = &record;
    }
    if (resume && !cfg.quiet && (!mpi || cfg.rank == 0))
        fprintf(stderr, "pff: resuming %s after chapter %d of %d (data %s)\n", resume,
                pff_checkpoint_chapters(ck), cfg.splits, dir);
    if ((rc = pff_config_check(&cfg, train.dim, train.n, cores(), over, err))) {
        if (resume)
            fprintf(stderr, "pff: --resume %s: ", resume);
        if (!mpi || cfg.rank == 0)
            fprintf(stderr, "pff: %s\n", err);
    }
    if (!rc && mpi && cfg.schedule == PFF_FEDERATED &&
        (rc = pff_federated_keep_shard(&cfg, &train, cfg.rank, err)) && cfg.rank == 0)
        fprintf(stderr, "pff: %s\n", err); /* each rank keeps its own shard, drops the rest */
    if (mpi) {
        /* a rank whose data did not load must not leave the others waiting */
        rc = pff_mpi_agree(rc);
        if (cfg.rank != 0) { /* rank 0 writes every output */
            cfg.quiet = 1;
            json = 0;
            save = trace = logpath = NULL;
        }
    }
    if (rc)
        goto done;
    if (!cfg.quiet)
        fprintf(stderr,
                "pff: %s%s, %d %s x %d thread(s), layers %d", pff_schedule_name(cfg.schedule),
                mpi ? " over MPI" : "", N, mpi ? "rank(s)" : "node(s)", cfg.threads, cfg.widths[0]);
    for (int k = 1; !cfg.quiet && k <= cfg.nlayers; k++)
        fprintf(stderr, ",%d", cfg.widths[k]);
    if (!cfg.quiet)
        fprintf(stderr, ", %d epochs in %d chapters, %s negatives%s, %s classifier, %d images; "
                        "BLAS %s\n",
                cfg.epochs, cfg.splits, pff_neg_name(cfg.neg),
                cfg.augment == PFF_AUGMENT_SHIFT ? ", shifted images" : "",
                pff_classifier_name(cfg.classifier), train.index ? train.total : train.n,
                pff_blas_describe());

    pff_model model;
    pff_result res;
    memset(&res, 0, sizeof res);
    cfg.eval_set = &test;
    if (logpath) {
        if (!(cfg.log = fopen(logpath, "w"))) {
            fprintf(stderr, "pff: --log %s: cannot open: %s\n", logpath, strerror(errno));
            rc = PFF_EUSAGE;
            goto done;
        }
        const char *dot = strrchr(logpath, '.');
        cfg.log_jsonl = dot && !strcmp(dot, ".jsonl");
        if (!cfg.log_jsonl)
            pff_log_header(cfg.log, cfg.nlayers);
    }
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_signal;
    sigemptyset(&act.sa_mask);
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);
    pff_terminal term; /* report.c: the chapter lines, the bar and the --log rows */
    cfg.report = pff_terminal_reporter(&term, &cfg);
    rc = pff_train(&cfg, &train, &model, &res, err);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (cfg.log && fclose(cfg.log) != 0 && !rc) {
        fprintf(stderr, "pff: --log %s: write failed\n", logpath);
        rc = PFF_EFAIL;
    }
    if (rc && pff_stop_signal) {
        int sig = (int)pff_stop_signal;
        if (cfg.checkpoint && !access(cfg.checkpoint, F_OK))
            fprintf(stderr, "pff: interrupted by %s; the last finished chapter is saved in %s: "
                            "continue with\n  pff train --resume %s\n",
                    sig == SIGINT ? "SIGINT" : "SIGTERM", cfg.checkpoint, cfg.checkpoint);
        else
            fprintf(stderr, "pff: interrupted by %s before any chapter was saved%s\n",
                    sig == SIGINT ? "SIGINT" : "SIGTERM",
                    cfg.checkpoint ? "" : " (--checkpoint FILE keeps a run resumable)");
        rc = 128 + sig;
        goto done;
    }
    if (rc) {
        if (!mpi)
            fprintf(stderr, "pff: training failed: %s\n", err);
        else if (strcmp(err, "another rank could not set up"))
            fprintf(stderr, "pff: rank %d: training failed: %s\n", cfg.rank, err);
        goto done;
    }
    if (mpi && cfg.rank != 0) { /* every rank holds the model; rank 0 reports it */
        free(res.spans);
        pff_model_free(&model);
        goto done;
    }
    double t0 = 0, ga = 0, sa = -1;
    {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        rc = pff_evaluate(&model, &test, cfg.threads * sharers, &ga, &sa, err);
        clock_gettime(CLOCK_MONOTONIC, &b);
        t0 = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9;
    }
    res.eval_seconds = t0;
    if (rc) {
        fprintf(stderr, "pff: evaluation failed: %s\n", err);
        pff_model_free(&model);
        goto done;
    }
    if (save && (rc = pff_model_save(&model, save, err))) {
        fprintf(stderr, "pff: %s\n", err);
        pff_model_free(&model);
        goto done;
    }
    /* the trace: the nodes' spans plus the final evaluation on node 1 */
    pff_span *spans = res.spans;
    int nspans = res.nspans;
    double t_end = res.trace_end + res.eval_seconds;
    if (spans) {
        pff_span *grown = realloc(spans, (size_t)(nspans + 1) * sizeof *spans);
        if (grown) {
            spans = grown;
            spans[nspans++] = (pff_span){0, -1, -1, PFF_SPAN_EVAL, res.trace_end, t_end};
        }
    }
    double busy[PFF_MAX_NODES] = {0}, wait[PFF_MAX_NODES] = {0}, util[PFF_MAX_NODES] = {0};
    if (spans)
        pff_trace_summary(spans, nspans, N < PFF_MAX_NODES ? N : PFF_MAX_NODES, t_end, busy, wait, util);
    pff_trace_info tinfo = {cfg.schedule != PFF_SINGLE_LAYER, cfg.nlayers, cfg.widths,
                            model.head ? model.head->in : 0, cfg.epochs / cfg.splits,
                            N <= PFF_MAX_NODES ? res.node_images : NULL, pff_schedule_name(cfg.schedule)};
    if (trace && spans &&
        (rc = pff_trace_write_run(trace, spans, nspans, N, t_end, &tinfo, err, sizeof err))) {
        fprintf(stderr, "pff: %s\n", err);
        free(spans);
        pff_model_free(&model);
        goto done;
    }
    free(spans);
    double test_acc = cfg.classifier == PFF_CLS_SOFTMAX ? sa : ga;
    if (!cfg.quiet || !json) {
        fprintf(json ? stderr : stdout, "test accuracy: %.2f%% (goodness)", 100 * ga);
        if (sa >= 0)
            fprintf(json ? stderr : stdout, ", %.2f%% (softmax)", 100 * sa);
        fprintf(json ? stderr : stdout, " on %d images; trained in %.1f s (%.1f GFLOP/s)\n",
                test.n, res.train_seconds, res.gflops);
    }
    if (json) {
        printf("{\"schedule\":\"%s\",\"transport\":\"%s\",\"nodes\":%d,\"threads\":%d,"
               "\"blas_core\":\"%s\",\"layers\":",
               pff_schedule_name(cfg.schedule), mpi ? "mpi" : "threads", N, cfg.threads,
               pff_blas_name());
        json_layers(stdout, &cfg);
        printf(",\"epochs\":%d,\"splits\":%d,\"batch\":%d,\"neg\":\"%s\",\"classifier\":\"%s\","
               "\"seed\":%llu,\"lr\":%g,\"softmax_lr\":%g,\"threshold\":%g,\"fast\":%s,"
               "\"augment\":\"%s\",\"hard_temp\":%g,\"train_n\":%d,\"test_n\":%d,\"train_seconds\":%.3f,\"neg_seconds\":%.3f,"
               "\"eval_seconds\":%.3f,\"goodness_accuracy\":",
               cfg.epochs, cfg.splits, cfg.batch, pff_neg_name(cfg.neg),
               pff_classifier_name(cfg.classifier), (unsigned long long)cfg.seed, (double)cfg.lr,
               (double)cfg.softmax_lr, (double)cfg.threshold, cfg.fast ? "true" : "false",
               pff_augment_name(cfg.augment), (double)cfg.hard_temp, train.index ? train.total : train.n, test.n, res.train_seconds, res.neg_seconds, res.eval_seconds);
        json_acc(stdout, ga);
        printf(",\"softmax_accuracy\":");
        json_acc(stdout, sa);
        printf(",\"test_accuracy\":");
        json_acc(stdout, test_acc);
        printf(",\"gflops\":%.2f,\"peak_rss_mb\":%.1f,\"node_busy_seconds\":[", res.gflops,
               res.peak_rss_mb);
        for (int i = 0; i < N && i < PFF_MAX_NODES; i++)
            printf("%s%.3f", i ? "," : "", busy[i]);
        printf("],\"node_wait_seconds\":[");
        for (int i = 0; i < N && i < PFF_MAX_NODES; i++)
            printf("%s%.3f", i ? "," : "", wait[i]);
        printf("],\"node_utilisation\":[");
        for (int i = 0; i < N && i < PFF_MAX_NODES; i++)
            printf("%s%.4f", i ? "," : "", util[i]);
        printf("]}\n");
    }
    pff_model_free(&model);
done:
    pff_dataset_free(&train);
    pff_dataset_free(&test);
    pff_checkpoint_free(ck);
    free(record.data_dir);
    free(record.save);
    free(record.log);
    free(record.trace);
    return rc;
}

static int cmd_eval(int argc, char **argv)
{
    const pff_option *O = eval_opts;
    pff_parsed p;
    int rc = pff_cli_parse(argc, argv, O, "eval", &p);
    if (rc)
        return rc;
    if (pff_cli_has(&p, O, "help")) {
        pff_cli_usage(stdout, "pff eval MODEL [options]", O);
        return 0;
    }
    if (p.npos != 1) {
        fprintf(stderr, "pff eval: expected one MODEL file (see pff eval --help)\n");
        return PFF_EUSAGE;
    }
    long threads = cores(), limit = 0;
    const char *s;
    if ((s = pff_cli_get(&p, O, "threads")) && (rc = pff_cli_long("threads", s, 1, 256, &threads)))
        return rc;
    if ((s = pff_cli_get(&p, O, "test-limit")) && (rc = pff_cli_long("test-limit", s, 1, INT_MAX, &limit)))
        return rc;
    const char *confusion = pff_cli_get(&p, O, "confusion");
    if (confusion && (rc = pff_check_writable("confusion", confusion)))
        return rc;
    char err[PFF_ERRLEN];
    pff_model m;
    if ((rc = pff_model_load(&m, p.pos[0], err))) {
        fprintf(stderr, "pff: %s\n", err);
        return rc;
    }
    const char *dir = pff_cli_get(&p, O, "data") ? pff_cli_get(&p, O, "data") : "data/mnist";
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/t10k-images-idx3-ubyte", dir);
    snprintf(b, sizeof b, "%s/t10k-labels-idx1-ubyte", dir);
    pff_dataset test;
    if ((rc = pff_idx_load(a, b, &test, err))) {
        fprintf(stderr, "pff: %s\n", err);
        pff_model_free(&m);
        return rc;
    }
    pff_dataset_truncate(&test, (int)limit);
    double ga, sa;
    if (test.dim != m.cfg.widths[0]) {
        fprintf(stderr, "pff: %s: images have %d pixels, the model expects %d\n", a, test.dim,
                m.cfg.widths[0]);
        rc = PFF_EUSAGE;
    } else if ((rc = pff_evaluate(&m, &test, (int)threads, &ga, &sa, err))) {
        fprintf(stderr, "pff: %s\n", err);
    } else if (pff_cli_has(&p, O, "json")) {
        printf("{\"model\":\"%s\",\"test_n\":%d,\"goodness_accuracy\":", p.pos[0], test.n);
        json_acc(stdout, ga);
        printf(",\"softmax_accuracy\":");
        json_acc(stdout, sa);
        printf("}\n");
    } else {
        printf("%s: %.2f%% (goodness)", p.pos[0], 100 * ga);
        if (sa >= 0)
            printf(", %.2f%% (softmax)", 100 * sa);
        printf(" on %d test images\n", test.n);
    }
    if (!rc && confusion &&
        (rc = pff_confusion_model(&m, &test, (int)threads, confusion,
                                  pff_cli_has(&p, O, "json") ? stderr : stdout, err)))
        fprintf(stderr, "pff: %s\n", err);
    pff_dataset_free(&test);
    pff_model_free(&m);
    return rc;
}

static int cmd_info(int argc, char **argv)
{
    const pff_option *O = info_opts;
    pff_parsed p;
    int rc = pff_cli_parse(argc, argv, O, "info", &p);
    if (rc)
        return rc;
    if (pff_cli_has(&p, O, "help")) {
        pff_cli_usage(stdout, "pff info MODEL [options]", O);
        return 0;
    }
    if (p.npos != 1) {
        fprintf(stderr, "pff info: expected one MODEL file (see pff info --help)\n");
        return PFF_EUSAGE;
    }
    char err[PFF_ERRLEN];
    pff_model m;
    if ((rc = pff_model_load(&m, p.pos[0], err))) {
        fprintf(stderr, "pff: %s\n", err);
        return rc;
    }
    const pff_config *c = &m.cfg;
    long params = 0;
    for (int k = 0; k < c->nlayers; k++)
        params += (long)c->widths[k] * c->widths[k + 1] + c->widths[k + 1];
    long head = m.head ? (long)m.head->in * PFF_CLASSES + PFF_CLASSES : 0;
    if (pff_cli_has(&p, O, "json")) {
        printf("{\"model\":\"%s\",\"layers\":", p.pos[0]);
        json_layers(stdout, c);
        printf(",\"parameters\":%ld,\"softmax_parameters\":%ld,\"epochs\":%d,\"splits\":%d,"
               "\"batch\":%d,\"lr\":%g,\"softmax_lr\":%g,\"threshold\":%g,\"neg\":\"%s\","
               "\"classifier\":\"%s\",\"seed\":%llu,\"augment\":\"%s\",\"hard_temp\":%g}\n",
               params, head, c->epochs, c->splits, c->batch, (double)c->lr, (double)c->softmax_lr,
               (double)c->threshold, pff_neg_name(c->neg), pff_classifier_name(c->classifier),
               (unsigned long long)c->seed, pff_augment_name(c->augment), (double)c->hard_temp);
    } else {
        printf("model      %s\nlayers     %d", p.pos[0], c->widths[0]);
        for (int k = 1; k <= c->nlayers; k++)
            printf(",%d", c->widths[k]);
        printf("\nparameters %ld FF", params);
        if (head)
            printf(" + %ld softmax head", head);
        printf("\ntrained    %d epochs in %d chapters, batch %d, lr %g, softmax lr %g\n"
               "           threshold %g per unit, %s negatives, %s classifier, seed %llu\n",
               c->epochs, c->splits, c->batch, (double)c->lr, (double)c->softmax_lr,
               (double)c->threshold, pff_neg_name(c->neg), pff_classifier_name(c->classifier),
               (unsigned long long)c->seed);
        if (c->neg == PFF_NEG_HARD)
            printf("           hard negatives at temperature %g\n", (double)c->hard_temp);
        if (c->augment != PFF_AUGMENT_NONE)
            printf("           augment    %s (each image moved by up to %d px per epoch)\n",
                   pff_augment_name(c->augment), PFF_SHIFT_MAX);
    }
    pff_model_free(&m);
    return 0;
}

static const pff_option export_opts[] = {{"help", 0, "         this text"}, {NULL, 0, NULL}};

/* pff export MODEL OUT: OUT ending in .npz or .safetensors names one file of
 * that format; any other OUT is a stem for both, OUT.npz and OUT.safetensors. */
static int cmd_export(int argc, char **argv)
{
    const pff_option *O = export_opts;
    pff_parsed p;
    int rc = pff_cli_parse(argc, argv, O, "export", &p);
    if (rc)
        return rc;
    if (pff_cli_has(&p, O, "help")) {
        pff_cli_usage(stdout, "pff export MODEL OUT", O);
        printf("\nOUT.npz (NumPy: numpy.load) and OUT.safetensors; an OUT ending in .npz or\n"
               ".safetensors writes that file only. Arrays layerK.weight (out, in), layerK.bias,\n"
               "head.weight, head.bias (softmax head), float32; the configuration as JSON in\n"
               "config (npz) and __metadata__ (safetensors). See tests/example.py.\n");
        return 0;
    }
    if (p.npos != 2) {
        fprintf(stderr, "pff export: expected a MODEL file and OUT (see pff export --help)\n");
        return PFF_EUSAGE;
    }
    const char *out = p.pos[1], *dot = strrchr(out, '.');
    const size_t len = strlen(out);
    int which = PFF_EXPORT_NPZ | PFF_EXPORT_SAFETENSORS;
    if (dot && !strcmp(dot, ".npz"))
        which = PFF_EXPORT_NPZ;
    else if (dot && !strcmp(dot, ".safetensors"))
        which = PFF_EXPORT_SAFETENSORS;
    if (!len || out[len - 1] == '/') {
        fprintf(stderr, "pff export: OUT '%s' names a directory; expected a file name such as "
                        "model or model.npz\n", out);
        return PFF_EUSAGE;
    }
    char *npz = malloc(len + 16), *st = malloc(len + 16);
    char err[PFF_ERRLEN];
    pff_model m;
    if (!npz || !st) {
        fprintf(stderr, "pff export: out of memory\n");
        rc = PFF_EFAIL;
    } else if ((rc = pff_model_load(&m, p.pos[0], err))) {
        fprintf(stderr, "pff: %s\n", err);
    } else {
        snprintf(npz, len + 16, which == PFF_EXPORT_NPZ ? "%s" : "%s.npz", out);
        snprintf(st, len + 16, which == PFF_EXPORT_SAFETENSORS ? "%s" : "%s.safetensors", out);
        if ((rc = pff_export(&m, which, npz, st, err)))
            fprintf(stderr, "pff export: %s\n", err);
        else
            fprintf(stderr, "pff export: wrote%s%s%s%s\n", which & PFF_EXPORT_NPZ ? " " : "",
                    which & PFF_EXPORT_NPZ ? npz : "", which & PFF_EXPORT_SAFETENSORS ? " " : "",
                    which & PFF_EXPORT_SAFETENSORS ? st : "");
        pff_model_free(&m);
    }
    free(npz);
    free(st);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
            "pff %s — Forward-Forward training on Pipeline Forward-Forward schedules\n\n"
            "usage: pff COMMAND [options]\n\n"
            "commands:\n"
            "  train      train a network (pff train --help)\n"
            "  eval       accuracy of a saved model on the test set\n"
            "  info       what a saved model holds\n"
            "  schedule   draw a PFF schedule as a Gantt chart, without training\n"
            "  predict    classify image files (PNG, JPEG, BMP) with a saved model\n"
            "  export     a saved model as NumPy .npz and .safetensors files\n"
            "  show       pictures: receptive fields, training curves, a test image\n\n"
            "pff COMMAND --help shows the options of a command; pff --version the version.\n",
            PFF_VERSION);
}

int main(int argc, char **argv)
{
    pff_runtime_start(argv);
    if (argc < 2) {
        usage(stderr);
        return PFF_EUSAGE;
    }
    const char *c = argv[1];
    if (!strcmp(c, "--help") || !strcmp(c, "-h") || !strcmp(c, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(c, "--version")) {
        printf("pff %s (BLAS: %s, MPI: %s)\n", PFF_VERSION, pff_blas_describe(),
               pff_mpi_available() ? "yes" : "no");
        return 0;
    }
    if (!strcmp(c, "train"))
        return cmd_train(argc - 1, argv + 1);
    if (!strcmp(c, "eval"))
        return cmd_eval(argc - 1, argv + 1);
    if (!strcmp(c, "info"))
        return cmd_info(argc - 1, argv + 1);
    if (!strcmp(c, "schedule"))
        return pff_schedule_main(argc - 1, argv + 1);
    if (!strcmp(c, "predict"))
        return pff_cmd_predict(argc - 1, argv + 1);
    if (!strcmp(c, "show"))
        return pff_cmd_show(argc - 1, argv + 1);
    if (!strcmp(c, "export"))
        return cmd_export(argc - 1, argv + 1);
    fprintf(stderr, "pff: unknown command '%s' (commands: train, eval, info, schedule, predict, "
                    "show, export)\n", c);
    return PFF_EUSAGE;
}
