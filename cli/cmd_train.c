/* cli/cmd_train.c — `pff train`: flags to a configuration, a run of pff_train, and what is printed
 * and written after it. The steps, each one function, in the order train_main calls them:
 *
 *   parse     the flags into a pff_config (parse_settings; --resume allows only output flags)
 *   resolve   --resume (every setting, the data set and the limits from the checkpoint), the
 *             threads policy (threads_policy: --nodes and --threads defaults from the core count,
 *             the MPI ranks, when oversubscribing is allowed), the data directory (--data,
 *             --dataset) and the outputs, checked before anything is trained
 *   load      the IDX files, the run record of a checkpointing run, pff_config_check, the
 *             federated shard of an MPI rank
 *   run       the one place that fills how the run reports (start_reporting), then pff_train
 *             under SIGINT/SIGTERM handlers (a stopped run says how to resume)
 *   report    test accuracy, --save, --trace, the text line or the --json object (the lines
 *             themselves, and the opening one, are report.c's)
 *
 * Under --transport mpi every rank runs all of this; rank 0 alone prints and writes.
 *
 * About 730 lines, above the ~700 of the rule, on purpose: the 40 options' table and the five
 * steps of one command, each step a function of at most ~80 lines, read top to bottom here; cut
 * further, a reader of `pff train` would follow one run across files. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pff.h"
#include "cli.h"
#include "report.h"
#include "data/log.h"  /* pff_log_header */
#include "layers/layers.h"
#include "layers/settings.h"
#include "pipeline/pipeline.h"
#include "pipeline/plan.h"
#include "draw/trace.h"

/* The options of `pff train`: what only the command line knows (the data, the network's shape,
 * the limits, the outputs), then every row of the settings table (layers/settings.h), whose help
 * lines are written from the table once, by train_options. */
static const pff_option own_opts[] = {
    {"data", 1, "DIR      directory of the four IDX files (default data/mnist)"},
    {"dataset", 1, "NAME     mnist (data/mnist) | fashion (data/fashion-mnist)"},
    {"layers", 1, "W0,W1,.. widths, input first (default 784,500,500,500)"},
    {"preset", 1, "NAME     paper: the paper's literal settings (see layers/README.md)"},
    {"oversubscribe", 0, "         allow nodes x threads above the core count"},
    {"train-limit", 1, "N        train on the first N images only"},
    {"test-limit", 1, "N        evaluate on the first N test images only"},
    {"val", 1, "N        hold out N training images (a fixed keyed choice) as a validation set"},
    {"test", 0, "         with --val: also measure the test set at the end (never during training)"},
    {"save", 1, "FILE     write the trained model (atomically)"},
    {"trace", 1, "FILE     record every node's events: .json (Perfetto), .png, .txt or -"},
    {"log", 1, "FILE     one record per chapter: CSV, or JSON Lines for .jsonl"},
    {"checkpoint", 1, "FILE     save the whole training state after every chapter (atomically)"},
    {"resume", 1, "FILE     continue a run from its checkpoint (settings come from it)"},
    {"json", 0, "         print one JSON object with the results on stdout"},
    {"quiet", 0, "         no progress on stderr"},
    {"help", 0, "         this text"}};
#define OWN_OPTS (int)(sizeof own_opts / sizeof own_opts[0])
static pff_option train_opts[OWN_OPTS + 32];
static char setting_help[32][200];

/* train_opts: the first four of own_opts (data, dataset, layers, preset), the settings' rows,
 * the rest of own_opts. */
static void train_options(void)
{
    _Static_assert(OWN_OPTS + 32 <= PFF_CLI_MAX_OPTS, "the option table fits the parser");
    if (train_opts[0].name)
        return;
    int n = 0;
    pff_model_config m; /* the defaults the help lines name */
    pff_run_config r;
    pff_settings_default(&m, &r);
    for (int i = 0; i < 4; i++)
        train_opts[n++] = own_opts[i];
    for (int i = 0; i < pff_nsettings && i < 32; i++) {
        const pff_setting *st = &pff_settings[i];
        char def[96] = "", kinds[120] = "";
        for (int k = 0; k < st->nnames; k++)
            snprintf(kinds + strlen(kinds), sizeof kinds - strlen(kinds), "%s%s", k ? " | " : ": ",
                     st->names[k]);
        if (st->type != PFF_SET_FLAG) {
            char value[64];
            pff_setting_text(st, &m, &r, value, sizeof value);
            snprintf(def, sizeof def, " (default %s)", st->def_text ? st->def_text : value);
        }
        snprintf(setting_help[i], sizeof setting_help[i], "%-8s %s%s%s", st->metavar, st->help,
                 kinds, def);
        train_opts[n++] = (pff_option){st->flag, st->type != PFF_SET_FLAG, setting_help[i]};
    }
    for (int i = 4; i < OWN_OPTS; i++)
        train_opts[n++] = own_opts[i];
    train_opts[n] = (pff_option){NULL, 0, NULL};
}

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
        cfg->model.widths[n++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (n < 2) {
        fprintf(stderr, "pff: --layers: '%s' has %d width(s), expected the input width and at "
                        "least one layer\n", s, n);
        return PFF_EUSAGE;
    }
    cfg->model.nlayers = n - 1;
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
                       long val_n, const char *save, const char *log, const char *trace,
                       const pff_run_record *was, char *err)
{
    r->train_limit = train_limit;
    r->test_limit = test_limit;
    r->val_n = val_n;
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

/* Everything one `pff train` holds between its steps. */
typedef struct {
    int argc;                   /* the command line (MPI_Init may take its own arguments out) */
    char **argv;
    pff_parsed p;
    pff_config cfg;
    const char *resume;         /* --resume FILE, or NULL */
    pff_checkpoint *ck;         /* the checkpoint it resumes from */
    const pff_run_record *rec;  /* what that checkpoint recorded */
    long train_limit, test_limit;
    long val_n;                 /* --val N (0: no validation set) */
    int measure_test;           /* measure the test set at the end: --test, or no --val */
    int mpi, ranks, local;      /* --transport mpi: ranks in the job, ranks on this machine */
    int N;                      /* nodes that run */
    int sharers;                /* threads share this machine's cores: N nodes, or local ranks */
    int over;                   /* nodes x threads may exceed the cores */
    int quiet, json;
    const char *dir;            /* the data directory */
    const char *save, *trace, *logpath;
    pff_dataset train, val, test;
    pff_run_record record;      /* what every checkpoint of this run records */
    char err[PFF_ERRLEN];
} train_job;

/* --resume takes every setting from the checkpoint: only outputs (and how the job runs) may be
 * named with it. */
static int check_resume_flags(const pff_parsed *p)
{
    static const char *const outputs[] = {"resume", "save",  "log",       "trace", "checkpoint",
                                          "json",   "quiet", "transport", "test",  NULL};
    const pff_option *O = train_opts;
    for (int i = 0; O[i].name; i++) {
        int allowed = 0;
        for (int j = 0; outputs[j]; j++)
            allowed |= !strcmp(O[i].name, outputs[j]);
        if (!allowed && pff_cli_has(p, O, O[i].name)) {
            fprintf(stderr, "pff: --resume takes every training setting, the data set and the "
                            "limits (--val included) from the checkpoint (only --save, --log, "
                            "--trace, --checkpoint, --test, --json and --quiet may go with it); "
                            "drop --%s\n",
                    O[i].name);
            return PFF_EUSAGE;
        }
    }
    return PFF_OK;
}

/* --preset, --layers, the limits, then every setting of the table that was given. */
static int parse_numbers(train_job *t)
{
    const pff_parsed *p = &t->p;
    const pff_option *O = train_opts;
    pff_config *cfg = &t->cfg;
    const char *s;
    int rc;
    if ((s = pff_cli_get(p, O, "preset"))) {
        if (strcmp(s, "paper") != 0) {
            fprintf(stderr, "pff: --preset: '%s' is not one of paper\n", s);
            return PFF_EUSAGE;
        }
        cfg->model.nlayers = 4;
        cfg->model.widths[0] = 784;
        for (int k = 1; k <= 4; k++)
            cfg->model.widths[k] = 2000;
        cfg->model.epochs = cfg->model.splits = 100;
        cfg->model.lr = 0.01f;
        cfg->model.softmax_lr = 1e-4f;
        cfg->model.threshold = 0.01f;
        cfg->model.neg = PFF_NEG_ADAPTIVE;
    }
    if ((s = pff_cli_get(p, O, "layers")) && (rc = parse_layers(s, cfg)))
        return rc;
    if ((s = pff_cli_get(p, O, "train-limit")) &&
        (rc = pff_cli_long("train-limit", s, 1, INT_MAX, &t->train_limit)))
        return rc;
    if ((s = pff_cli_get(p, O, "test-limit")) &&
        (rc = pff_cli_long("test-limit", s, 1, INT_MAX, &t->test_limit)))
        return rc;
    if ((s = pff_cli_get(p, O, "val")) && (rc = pff_cli_long("val", s, 1, INT_MAX, &t->val_n)))
        return rc;
    /* every setting of the table that was given, after --layers (--goodness-from names a
     * layer of it) */
    for (int i = 0; i < pff_nsettings; i++)
        if (pff_cli_has(p, O, pff_settings[i].flag) &&
            (rc = pff_cli_setting(&pff_settings[i], pff_cli_get(p, O, pff_settings[i].flag),
                                  &cfg->model, &cfg->run)))
            return rc;
    return PFF_OK;
}

/* The settings that apply to one kind of another: --hard-temp, --shards. */
static int check_kinds(const train_job *t)
{
    const pff_config *cfg = &t->cfg;
    if (pff_cli_has(&t->p, train_opts, "hard-temp") && cfg->model.neg != PFF_NEG_HARD) {
        fprintf(stderr, "pff: --hard-temp applies to --neg hard only (now --neg %s)\n",
                pff_neg_name(cfg->model.neg));
        return PFF_EUSAGE;
    }
    if (pff_cli_has(&t->p, train_opts, "shards") && cfg->run.schedule != PFF_FEDERATED) {
        fprintf(stderr, "pff: --shards applies to --schedule federated only\n");
        return PFF_EUSAGE;
    }
    return PFF_OK;
}

/* parse: the flags into t->cfg (from the defaults). */
static int parse_settings(train_job *t)
{
    int rc;
    pff_settings_default(&t->cfg.model, &t->cfg.run);
    t->resume = pff_cli_get(&t->p, train_opts, "resume");
    if (t->resume && (rc = check_resume_flags(&t->p)))
        return rc;
    if ((rc = parse_numbers(t)) || (rc = check_kinds(t)))
        return rc;
    t->mpi = t->cfg.run.transport == PFF_TRANSPORT_MPI;
    t->quiet = pff_cli_has(&t->p, train_opts, "quiet");
    t->measure_test = pff_cli_has(&t->p, train_opts, "test");
    t->json = pff_cli_has(&t->p, train_opts, "json");
    return PFF_OK;
}

/* resolve --resume: a resumed run takes every setting, its data set, limits and outputs from the
 * checkpoint (over MPI every rank reads it: the schedule fixes the ranks). */
static int load_resume(train_job *t)
{
    int rc;
    if ((rc = pff_checkpoint_load(t->resume, &t->ck, t->err))) {
        fprintf(stderr, "pff: %s\n", t->err);
        return rc;
    }
    t->rec = pff_checkpoint_record(t->ck);
    if (!t->rec->data_dir) {
        fprintf(stderr, "pff: --resume %s: the checkpoint records no data set (it was not "
                        "written by pff train)\n", t->resume);
        return PFF_EUSAGE;
    }
    t->train_limit = t->rec->train_limit;
    t->test_limit = t->rec->test_limit;
    t->val_n = t->rec->val_n;
    t->cfg = *pff_checkpoint_config(t->ck);
    t->cfg.run.transport = t->mpi ? PFF_TRANSPORT_MPI : PFF_TRANSPORT_THREADS;
    t->cfg.run.resume = t->ck;
    return PFF_OK;
}

static int start_mpi(train_job *t)
{
    int rc;
    if ((rc = pff_mpi_init(&t->argc, &t->argv, &t->cfg.run.rank, &t->ranks, t->err))) {
        fprintf(stderr, "pff: %s\n", t->err);
        return rc;
    }
    t->local = pff_mpi_local_ranks();
    if (t->cfg.run.schedule == PFF_SINGLE_LAYER)
        t->cfg.run.sl_recompute = 1; /* only parameters cross between processes (pipeline/README.md) */
    return PFF_OK;
}

/* resolve the threads policy: how many nodes run, --nodes and --threads defaults from the core
 * count (the nodes, or the MPI ranks started on this machine, share its cores), and whether
 * nodes x threads may exceed the cores (refused here unless --oversubscribe). The limits
 * themselves are checked by pff_config_check. */
static int threads_policy(train_job *t)
{
    pff_config *cfg = &t->cfg;
    const int given_nodes = pff_cli_has(&t->p, train_opts, "nodes");
    const int given_threads = pff_cli_has(&t->p, train_opts, "threads");
    const int cores = pff_cores();
    if (t->mpi && !t->resume && !given_nodes &&
        (cfg->run.schedule == PFF_ALL_LAYERS || cfg->run.schedule == PFF_FEDERATED))
        cfg->run.nodes = t->ranks;
    if (!t->resume && !given_nodes && !(t->mpi && cfg->run.schedule >= PFF_ALL_LAYERS))
        cfg->run.nodes = pff_default_nodes(cfg->run.schedule, cfg->model.nlayers);
    t->N = cfg->run.schedule == PFF_SEQUENTIAL ? 1 : cfg->run.nodes;
    t->sharers = t->mpi ? t->local : t->N;
    if (!t->resume && !given_threads)
        cfg->run.threads = cores / t->sharers > 0 ? cores / t->sharers : 1;
    /* a resumed run was accepted when it started */
    t->over = t->resume || pff_cli_has(&t->p, train_opts, "oversubscribe");
    if (t->mpi) {
        if (t->N != t->ranks) {
            if (cfg->run.rank == 0)
                fprintf(stderr,
                        "pff: --transport mpi: the %s schedule runs %d node(s), one per rank, but "
                        "this job has %d rank(s): start it with mpirun -np %d\n",
                        pff_schedule_name(cfg->run.schedule), t->N, t->ranks, t->N);
            return PFF_EUSAGE;
        }
        if (!t->over && (long)t->local * cfg->run.threads > cores) {
            if (cfg->run.rank == 0)
                fprintf(stderr,
                        "pff: --transport mpi: %d rank(s) on this machine x --threads %d = %d "
                        "threads on %d cores; lower --threads, or add --oversubscribe\n",
                        t->local, cfg->run.threads, t->local * cfg->run.threads, cores);
            return PFF_EUSAGE;
        }
        t->over = 1; /* checked above, per machine */
    }
    if (!given_threads && cfg->run.schedule == PFF_SINGLE_LAYER && t->N > cores)
        t->over = 1; /* single-layer needs one node per layer; they share the cores */
    if (!t->over && (long)t->N * cfg->run.threads > cores) {
        fprintf(stderr,
                "pff: --nodes %d x --threads %d = %d threads on %d cores; lower them, or add "
                "--oversubscribe to run anyway\n",
                t->N, cfg->run.threads, t->N * cfg->run.threads, cores);
        return PFF_EUSAGE;
    }
    return PFF_OK;
}

/* resolve where the run reads and writes: the data directory, --eval-every, the outputs (or what
 * the checkpoint recorded for them), all checked before anything is trained. */
static int resolve_paths(train_job *t)
{
    const pff_parsed *p = &t->p;
    const pff_option *O = train_opts;
    const char *s;
    int rc, ch;
    t->dir = pff_cli_get(p, O, "data") ? pff_cli_get(p, O, "data") : "data/mnist";
    if ((s = pff_cli_get(p, O, "dataset"))) {
        static const char *const sets[] = {"mnist", "fashion"};
        if ((rc = pff_cli_choice("dataset", s, sets, 2, &ch)))
            return rc;
        if (pff_cli_has(p, O, "data")) {
            fprintf(stderr, "pff: --dataset and --data both name the data; give one\n");
            return PFF_EUSAGE;
        }
        t->dir = ch ? "data/fashion-mnist" : "data/mnist";
    }
    const pff_run_record *rec = t->rec;
    if (rec)
        t->dir = rec->data_dir;
    t->save = output_path(p, "save", rec ? rec->save : NULL);
    t->trace = output_path(p, "trace", rec ? rec->trace : NULL);
    t->logpath = output_path(p, "log", rec ? rec->log : NULL);
    t->cfg.run.checkpoint =
        pff_cli_get(p, O, "checkpoint") ? pff_cli_get(p, O, "checkpoint") : t->resume;
    if ((rc = check_outputs(t->save, t->trace, t->logpath, t->cfg.run.checkpoint)))
        return rc;
    if (t->cfg.run.checkpoint && t->cfg.run.stale_adam) {
        fprintf(stderr, "pff: --checkpoint cannot hold --handoff weights runs (each node's own "
                        "Adam moments are not part of the saved state)\n");
        return PFF_EUSAGE;
    }
    return PFF_OK;
}

/* load the data, make the run record, check the configuration against the data; over MPI the
 * ranks agree on the outcome, and ranks other than 0 go quiet. */
static int load_data(train_job *t)
{
    pff_config *cfg = &t->cfg;
    const int mpi = t->mpi;
    int rc;
    if ((rc = pff_data_load(t->dir, &t->train, &t->test, t->err))) {
        if (mpi)
            fprintf(stderr, "pff: rank %d: %s\n", cfg->run.rank, t->err);
        else
            fprintf(stderr, "pff: %s\n", t->err);
        if (mpi)
            pff_mpi_agree(rc);
        return rc;
    }
    pff_dataset_truncate(&t->train, (int)t->train_limit);
    pff_dataset_truncate(&t->test, (int)t->test_limit);
    /* the validation set: after --train-limit, before anything is cut into shards */
    if ((rc = pff_dataset_hold_out(&t->train, (int)t->val_n, &t->val, t->err))) {
        if (!mpi || cfg->run.rank == 0)
            fprintf(stderr, "pff: %s\n", t->err);
        if (mpi)
            pff_mpi_agree(rc);
        return rc;
    }
    /* what every checkpoint of this run records; a resumed run's data must match it */
    if (cfg->run.checkpoint) {
        if ((rc = make_record(&t->record, t->dir, t->train_limit, t->test_limit, t->val_n, t->save,
                              t->logpath, t->trace, t->rec, t->err))) {
            if (t->resume)
                fprintf(stderr, "pff: --resume %s: %s\n", t->resume, t->err);
            else
                fprintf(stderr, "pff: --checkpoint: %s\n", t->err);
            if (mpi) /* the other ranks must not wait for this one */
                pff_mpi_agree(rc);
            return rc;
        }
        cfg->run.record = &t->record;
    }
    if (t->resume && !t->quiet && (!mpi || cfg->run.rank == 0))
        fprintf(stderr, "pff: resuming %s after chapter %d of %d (data %s)\n", t->resume,
                pff_checkpoint_chapters(t->ck), cfg->model.splits, t->dir);
    if ((rc = pff_config_check(cfg, t->train.dim, t->train.n, t->err))) {
        if (t->resume)
            fprintf(stderr, "pff: --resume %s: ", t->resume);
        if (!mpi || cfg->run.rank == 0)
            fprintf(stderr, "pff: %s\n", t->err);
    }
    if (!rc && mpi && cfg->run.schedule == PFF_FEDERATED &&
        (rc = pff_federated_keep_shard(cfg, &t->train, cfg->run.rank, t->err)) && cfg->run.rank == 0)
        fprintf(stderr, "pff: %s\n", t->err); /* each rank keeps its own shard, drops the rest */
    if (mpi) {
        /* a rank whose data did not load must not leave the others waiting */
        rc = pff_mpi_agree(rc);
        if (cfg->run.rank != 0) { /* rank 0 writes every output */
            t->quiet = 1;
            t->json = 0;
            t->save = t->trace = t->logpath = NULL;
        }
    }
    return rc;
}

/* How the run reports while it trains, filled in this one place: progress on stderr (unless
 * --quiet), the live bar when stderr is a terminal, the --log file (CSV, or JSON Lines for
 * .jsonl) with its header. */
static int start_reporting(train_job *t)
{
    pff_config *cfg = &t->cfg;
    cfg->report.quiet = t->quiet;
    cfg->report.progress_bar = isatty(2) && !t->mpi;
    if (t->logpath) {
        if (!(cfg->report.log = fopen(t->logpath, "w"))) {
            fprintf(stderr, "pff: --log %s: cannot open: %s\n", t->logpath, strerror(errno));
            return PFF_EUSAGE;
        }
        const char *dot = strrchr(t->logpath, '.');
        cfg->report.log_jsonl = dot && !strcmp(dot, ".jsonl");
        if (!cfg->report.log_jsonl)
            pff_log_header(cfg->report.log, cfg->model.nlayers, cfg->report.eval_is_val);
    }
    return PFF_OK;
}

static void on_signal(int sig) { pff_request_stop(sig); }

/* run: pff_train under SIGINT/SIGTERM handlers; a stopped run says whether and how it resumes. */
static int run_training(train_job *t, pff_model *model, pff_result *res)
{
    pff_config *cfg = &t->cfg;
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_signal;
    sigemptyset(&act.sa_mask);
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);
    pff_terminal term; /* report.c: the chapter lines, the bar and the --log rows */
    cfg->report.reporter = pff_terminal_reporter(&term, cfg);
    int rc = pff_train(cfg, &t->train, model, res, t->err);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (cfg->report.log && fclose(cfg->report.log) != 0 && !rc) {
        fprintf(stderr, "pff: --log %s: write failed\n", t->logpath);
        rc = PFF_EFAIL;
    }
    if (rc && pff_stop_requested()) {
        int sig = pff_stop_requested();
        if (cfg->run.checkpoint && !access(cfg->run.checkpoint, F_OK))
            fprintf(stderr, "pff: interrupted by %s; the last finished chapter is saved in %s: "
                            "continue with\n  pff train --resume %s\n",
                    sig == SIGINT ? "SIGINT" : "SIGTERM", cfg->run.checkpoint, cfg->run.checkpoint);
        else
            fprintf(stderr, "pff: interrupted by %s before any chapter was saved%s\n",
                    sig == SIGINT ? "SIGINT" : "SIGTERM",
                    cfg->run.checkpoint ? "" : " (--checkpoint FILE keeps a run resumable)");
        return 128 + sig;
    }
    if (rc) {
        if (!t->mpi)
            fprintf(stderr, "pff: training failed: %s\n", t->err);
        else if (strcmp(t->err, "another rank could not set up"))
            fprintf(stderr, "pff: rank %d: training failed: %s\n", cfg->run.rank, t->err);
    }
    return rc;
}

/* The trace of a run: the nodes' spans plus the final evaluation on node 1, its summary per node
 * (for --json) and, with --trace, the file. Takes res->spans. */
static int write_trace(train_job *t, const pff_model *model, pff_result *res, double final_eval,
                       double *busy, double *wait, double *util)
{
    const pff_config *cfg = &t->cfg;
    const int N = t->N;
    pff_span *spans = res->spans;
    int nspans = res->nspans, rc = PFF_OK;
    double t_end = res->trace_end + final_eval;
    res->spans = NULL;
    if (spans) {
        pff_span *grown = realloc(spans, (size_t)(nspans + 1) * sizeof *spans);
        if (grown) {
            spans = grown;
            spans[nspans++] = (pff_span){0, -1, -1, PFF_SPAN_EVAL, res->trace_end, t_end};
        }
    }
    if (spans)
        pff_trace_summary(spans, nspans, N < PFF_MAX_NODES ? N : PFF_MAX_NODES, t_end, busy, wait,
                          util);
    pff_trace_info tinfo = {cfg->run.schedule != PFF_SINGLE_LAYER,
                            cfg->model.nlayers,
                            cfg->model.widths,
                            model->head ? model->head->in : 0,
                            cfg->model.epochs / cfg->model.splits,
                            N <= PFF_MAX_NODES ? res->node_images : NULL,
                            pff_schedule_name(cfg->run.schedule)};
    if (t->trace && spans &&
        (rc = pff_trace_write_run(t->trace, spans, nspans, N, t_end, &tinfo, t->err)))
        fprintf(stderr, "pff: %s\n", t->err);
    free(spans);
    return rc;
}

/* What report.c needs to know of the run for its opening and closing lines. */
static pff_run_view run_view(const train_job *t)
{
    return (pff_run_view){&t->cfg, t->N, t->mpi, t->train.index ? t->train.total : t->train.n,
                          t->test.n, t->val.n};
}

/* report: the validation and (when asked) test accuracies (timed, into the trace), --save,
 * --trace, the text line, --json. */
static int report_results(train_job *t, pff_model *model, pff_result *res)
{
    const pff_config *cfg = &t->cfg;
    const int threads = cfg->run.threads * t->sharers;
    pff_scores sc = {-1, -1, -1, -1};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = PFF_OK;
    if (t->val.n)
        rc = pff_evaluate(model, &t->val, threads, &sc.val_good, &sc.val_soft, t->err);
    if (!rc && t->measure_test)
        rc = pff_evaluate(model, &t->test, threads, &sc.test_good, &sc.test_soft, t->err);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double final_eval = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9;
    if (rc) {
        fprintf(stderr, "pff: evaluation failed: %s\n", t->err);
        return rc;
    }
    if (t->save && (rc = pff_model_save(model, t->save, t->err))) {
        fprintf(stderr, "pff: %s\n", t->err);
        return rc;
    }
    double busy[PFF_MAX_NODES] = {0}, wait[PFF_MAX_NODES] = {0}, util[PFF_MAX_NODES] = {0};
    if ((rc = write_trace(t, model, res, final_eval, busy, wait, util)))
        return rc;
    res->eval_seconds += final_eval;
    const pff_run_view view = run_view(t);
    if (!t->quiet || !t->json)
        pff_print_result(t->json ? stderr : stdout, &view, res, &sc);
    if (t->json)
        pff_print_json(&view, res, &sc, busy, wait, util);
    return PFF_OK;
}

static void free_job(train_job *t)
{
    pff_dataset_free(&t->train);
    pff_dataset_free(&t->val);
    pff_dataset_free(&t->test);
    pff_checkpoint_free(t->ck);
    free(t->record.data_dir);
    free(t->record.save);
    free(t->record.log);
    free(t->record.trace);
}

/* parse, resolve, load, run, report (see the top of the file). */
static int train_main(train_job *t)
{
    const pff_option *O = train_opts;
    int rc = pff_cli_start(t->argc, t->argv, O, "pff train [options]", 0, NULL, &t->p);
    if (rc == PFF_DONE)
        return PFF_OK;
    if (rc)
        return rc;
    if ((rc = parse_settings(t)) || (t->resume && (rc = load_resume(t))) ||
        (t->mpi && (rc = start_mpi(t))) || (rc = threads_policy(t)) ||
        (rc = resolve_paths(t)) || (rc = load_data(t)))
        return rc;
    if (!t->quiet) {
        const pff_run_view view = run_view(t);
        pff_print_header(&view);
    }
    pff_model model;
    pff_result res;
    memset(&res, 0, sizeof res);
    t->cfg.run.eval_set = t->val.n ? &t->val : &t->test;
    t->cfg.report.eval_is_val = t->val.n > 0;
    t->measure_test |= t->val.n == 0; /* without a validation set the test set is the held-out one */
    if ((rc = start_reporting(t)) || (rc = run_training(t, &model, &res)))
        return rc;
    if (t->mpi && t->cfg.run.rank != 0) { /* every rank holds the model; rank 0 reports it */
        free(res.spans);
        pff_model_free(&model);
        return PFF_OK;
    }
    rc = report_results(t, &model, &res);
    free(res.spans);
    pff_model_free(&model);
    return rc;
}

/* pff train; under --transport mpi every rank runs this, and MPI ends here. */
int pff_cmd_train(int argc, char **argv)
{
    train_options();
    train_job *t = calloc(1, sizeof *t);
    if (!t) {
        fprintf(stderr, "pff train: out of memory\n");
        return PFF_EFAIL;
    }
    t->argc = argc;
    t->argv = argv;
    int rc = train_main(t);
    free_job(t);
    free(t);
    pff_mpi_finalize();
    return rc;
}
