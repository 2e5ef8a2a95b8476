/* cli/report.c — what `pff train` prints: the line that opens a run, the terminal
 * reporter while it runs, and the result (the text line or the --json object).
 *
 * pff_train (pipeline/) never prints: it tells a pff_reporter (pff.h) when a
 * chapter is complete, how far the batches have got, when its node threads
 * are done and, over MPI, when a failing rank is about to end the job. This
 * file turns that into the chapter lines and the live bar on stderr and the
 * rows of the --log file (CSV through pff_log_row, or JSON Lines). It is the
 * only reader of the config's quiet, progress_bar, log and log_jsonl. */
#include <stdio.h>

#include "report.h"
#include "cli.h"      /* pff_blas_describe, pff_json_acc, pff_json_settings, data/json.h */
#include "data/log.h" /* pff_log_row */

/* One row of --log FILE. */
static void log_chapter(const pff_config *cfg, const pff_history *h, const pff_chapter_note *n)
{
    const int L = n->nlayers, C = cfg->model.epochs / cfg->model.splits;
    const double secs = n->seconds;
    double loss[PFF_MAX_LAYERS], gp[PFF_MAX_LAYERS], gn[PFF_MAX_LAYERS];
    for (int k = 0; k < L; k++)
        loss[k] = h->loss[k], gp[k] = h->gpos[k], gn[k] = h->gneg[k];
    /* the held-out set's accuracy: the CSV header or the JSON key names which */
    if (!cfg->report.log_jsonl)
        pff_log_row(cfg->report.log, h->chapter, (double)h->chapter * C, h->lr, L, loss, gp, gn, secs,
                    h->test_accuracy);
    else
        pff_log_row_json(cfg->report.log, h->chapter, (double)h->chapter * C, h->lr, L, loss, gp,
                         gn, secs, h->test_accuracy,
                         cfg->report.eval_is_val ? "val_accuracy" : "test_accuracy");
    fflush(cfg->report.log);
}

/* The chapter line on stderr. */
static void print_chapter(int chapter, const pff_chapter_note *n, int val)
{
    fprintf(stderr, "chapter %d/%d", chapter, n->chapters);
    for (int k = 0; k < n->nlayers; k++)
        fprintf(stderr, " | L%d loss %.4f G+ %.1f G- %.1f", k + 1, n->loss[k], n->gpos[k],
                n->gneg[k]);
    if (n->head_loss >= 0)
        fprintf(stderr, " | head CE %.4f", n->head_loss);
    if (n->test_accuracy >= 0)
        fprintf(stderr, " | %s %.2f%%", val ? "val" : "test", n->test_accuracy);
    if (n->elapsed >= 0)
        fprintf(stderr, " | %.1fs, ETA %.0fs\n", n->elapsed, n->eta);
    else
        fputc('\n', stderr);
}

static void clear_bar(pff_terminal *t)
{
    if (t->bar)
        fprintf(stderr, "\r\033[K");
    t->bar = 0;
}

static void on_chapter(void *ctx, const pff_history *h, const pff_chapter_note *n)
{
    pff_terminal *t = ctx;
    if (!n->log_only && !t->cfg->report.quiet) {
        clear_bar(t);
        print_chapter(h->chapter, n, t->cfg->report.eval_is_val);
    }
    if (t->cfg->report.log)
        log_chapter(t->cfg, h, n);
}

static void on_progress(void *ctx, long done, long total)
{
    pff_terminal *t = ctx;
    if (!t->cfg->report.progress_bar || t->cfg->report.quiet)
        return;
    int w = 30, f = total > 0 ? (int)(w * done / total) : 0;
    fprintf(stderr, "\r[%.*s%*s] %5.1f%%", f, "==============================", w - f, "",
            total > 0 ? 100.0 * done / total : 0.0);
    t->bar = 1;
}

static void on_nodes_done(void *ctx) { clear_bar(ctx); }

static void on_abort(void *ctx, int rank, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "pff: rank %d: %s; ending the MPI job\n", rank, msg);
}

const pff_reporter *pff_terminal_reporter(pff_terminal *t, const pff_config *cfg)
{
    t->base = (pff_reporter){t, on_chapter, on_progress, on_nodes_done, on_abort};
    t->cfg = cfg;
    t->bar = 0;
    return &t->base;
}

/* ---- before and after the run ---- */

void pff_print_header(const pff_run_view *v)
{
    const pff_config *cfg = v->cfg;
    fprintf(stderr, "pff: %s%s, %d %s x %d thread(s), layers %d", pff_schedule_name(cfg->run.schedule),
            v->mpi ? " over MPI" : "", v->nodes, v->mpi ? "rank(s)" : "node(s)", cfg->run.threads,
            cfg->model.widths[0]);
    for (int k = 1; k <= cfg->model.nlayers; k++)
        fprintf(stderr, ",%d", cfg->model.widths[k]);
    fprintf(stderr, ", %d epochs in %d chapters, %s negatives", cfg->model.epochs,
            cfg->model.splits, pff_neg_name(cfg->model.neg));
    /* the settings of the later file versions, when the run uses them */
    for (int i = 0; i < pff_nsettings; i++)
        if (pff_settings[i].version > 2 && pff_setting_used(&pff_settings[i], &cfg->model)) {
            char value[64];
            pff_setting_text(&pff_settings[i], &cfg->model, NULL, value, sizeof value);
            fprintf(stderr, ", %s %s", pff_settings[i].flag, value);
        }
    fprintf(stderr, ", %s classifier, %d images; BLAS %s\n",
            pff_classifier_name(cfg->model.classifier), v->train_n, pff_blas_describe());
}

static void print_pair(FILE *out, const char *set, double good, double soft, int n)
{
    fprintf(out, "%s accuracy: %.2f%% (goodness)", set, 100 * good);
    if (soft >= 0)
        fprintf(out, ", %.2f%% (softmax)", 100 * soft);
    fprintf(out, " on %d images; ", n);
}

void pff_print_result(FILE *out, const pff_run_view *v, const pff_result *res, const pff_scores *s)
{
    if (s->val_good >= 0)
        print_pair(out, "validation", s->val_good, s->val_soft, v->val_n);
    if (s->test_good >= 0)
        print_pair(out, "test", s->test_good, s->test_soft, v->test_n);
    fprintf(out, "trained in %.1f s (%.1f GFLOP/s)\n", res->train_seconds, res->gflops);
}

static void print_list(const char *key, const double *v, int n, const char *fmt)
{
    printf("%s[", key);
    for (int i = 0; i < n && i < PFF_MAX_NODES; i++) {
        printf("%s", i ? "," : "");
        printf(fmt, v[i]);
    }
    printf("]");
}


void pff_print_json(const pff_run_view *v, const pff_result *res, const pff_scores *s,
                    const double *busy, const double *wait, const double *util)
{
    const int soft = v->cfg->model.classifier == PFF_CLS_SOFTMAX;
    const pff_config *cfg = v->cfg;
    printf("{\"layers\":");
    pff_json_ints(stdout, cfg->model.widths, cfg->model.nlayers + 1);
    pff_json_settings(stdout, &cfg->model, &cfg->run);
    printf(",\"blas_core\":\"%s\",\"train_n\":%d,\"val_n\":%d,\"test_n\":%d,"
           "\"train_seconds\":%.3f,\"neg_seconds\":%.3f,\"eval_seconds\":%.3f,"
           "\"goodness_accuracy\":",
           pff_blas_name(), v->train_n, v->val_n, s->test_good >= 0 ? v->test_n : 0,
           res->train_seconds, res->neg_seconds, res->eval_seconds);
    pff_json_acc(stdout, s->test_good);
    printf(",\"softmax_accuracy\":");
    pff_json_acc(stdout, s->test_soft);
    printf(",\"test_accuracy\":");
    pff_json_acc(stdout, soft ? s->test_soft : s->test_good);
    printf(",\"val_goodness_accuracy\":");
    pff_json_acc(stdout, s->val_good);
    printf(",\"val_softmax_accuracy\":");
    pff_json_acc(stdout, s->val_soft);
    printf(",\"val_accuracy\":");
    pff_json_acc(stdout, soft ? s->val_soft : s->val_good);
    printf(",\"gflops\":%.2f,\"peak_rss_mb\":%.1f,", res->gflops, res->peak_rss_mb);
    print_list("\"node_busy_seconds\":", busy, v->nodes, "%.3f");
    print_list(",\"node_wait_seconds\":", wait, v->nodes, "%.3f");
    print_list(",\"node_utilisation\":", util, v->nodes, "%.4f");
    printf("}\n");
}
