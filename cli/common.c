/* cli/common.c — what several commands share, so that no command file imports another: the core
 * count, output paths checked before any work (pff_check_writable), accuracies and the settings
 * table as JSON (through the one JSON writer, data/json.h), and the confusion matrix of
 * `pff eval --confusion`. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pff.h"
#include "cli.h"
#include "draw/pictures.h"

int pff_cores(void)
{
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (int)c : 1;
}

/* Fails early, before any work, when FILE is a directory or its directory
 * cannot take a file (the atomic writers create FILE.tmp.XXXXXX there and
 * rename it over FILE). */
int pff_check_writable(const char *flag, const char *path)
{
    struct stat st;
    if (path[0] == 0) {
        fprintf(stderr, "pff: --%s: an empty file name\n", flag);
        return PFF_EUSAGE;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "pff: --%s %s: is a directory; expected a file name\n", flag, path);
        return PFF_EUSAGE;
    }
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp)
        return PFF_EFAIL;
    snprintf(tmp, len + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "pff: --%s %s: cannot create a file there: %s\n", flag, path,
                strerror(errno));
        free(tmp);
        return PFF_EUSAGE;
    }
    close(fd);
    unlink(tmp);
    free(tmp);
    return PFF_OK;
}

void pff_json_acc(FILE *f, double a)
{
    if (a < 0)
        fprintf(f, "null");
    else
        fprintf(f, "%.4f", 100.0 * a);
}

void pff_json_settings(FILE *f, const pff_model_config *m, const pff_run_config *r)
{
    char value[96];
    for (int i = 0; i < pff_nsettings; i++)
        if (pff_setting_cfield(&pff_settings[i], m, r)) {
            pff_setting_json(&pff_settings[i], m, r, 0, value, sizeof value);
            fprintf(f, ",\"%s\":%s", pff_settings[i].name, value);
        }
}

/* ---- the confusion matrix ---- */

int pff_confusion_write(const char *png_path, FILE *text_out, const int *pred, const uint8_t *truth,
                        int n, char *err)
{
    enum { K = PFF_CLASSES };
    long cnt[K][K] = {{0}}, row[K] = {0}, col[K] = {0}, right = 0;
    for (int i = 0; i < n; i++) {
        if (pred[i] < 0 || pred[i] >= K || truth[i] >= K) {
            snprintf(err, PFF_ERRLEN, "confusion: image %d has label %d, prediction %d; expected "
                     "0..%d", i, truth[i], pred[i], K - 1);
            return PFF_EUSAGE;
        }
        cnt[truth[i]][pred[i]]++;
        row[truth[i]]++;
        col[pred[i]]++;
        right += truth[i] == pred[i];
    }
    int rc = png_path ? pff_picture_confusion(png_path, cnt, row, right, n, err) : PFF_OK;
    if (rc)
        return rc; /* nothing printed: the caller reports the file */
    if (text_out) {
        fprintf(text_out, "confusion matrix of %d images: row = true label, column = predicted\n",
                n);
        fprintf(text_out, "true\\pred");
        for (int j = 0; j < K; j++)
            fprintf(text_out, " %6d", j);
        fprintf(text_out, "   recall\n");
        for (int i = 0; i < K; i++) {
            fprintf(text_out, "%9d", i);
            for (int j = 0; j < K; j++)
                fprintf(text_out, " %6ld", cnt[i][j]);
            if (row[i])
                fprintf(text_out, "  %6.2f%%\n", 100.0 * cnt[i][i] / row[i]);
            else
                fprintf(text_out, "        -\n");
        }
        fprintf(text_out, "precision");
        for (int j = 0; j < K; j++) {
            if (col[j])
                fprintf(text_out, " %5.1f%%", 100.0 * cnt[j][j] / col[j]);
            else
                fprintf(text_out, "      -");
        }
        fprintf(text_out, "\naccuracy %.2f%% (%ld of %d)\n", n ? 100.0 * right / n : 0.0, right, n);
    }
    return PFF_OK;
}

int pff_confusion_model(const pff_model *m, const pff_dataset *d, int threads, const char *png_path,
                        FILE *text_out, char *err)
{
    int *gp = malloc(((size_t)d->n + 1) * sizeof(int)), *sp = malloc(((size_t)d->n + 1) * sizeof(int));
    if (!gp || !sp) {
        free(gp);
        free(sp);
        snprintf(err, PFF_ERRLEN, "out of memory for the predictions of %d images", d->n);
        return PFF_EFAIL;
    }
    const int soft = m->head && m->cfg.classifier == PFF_CLS_SOFTMAX;
    int rc = pff_predict(m, d->x, d->n, threads, gp, soft ? sp : NULL, NULL, err);
    if (!rc)
        rc = pff_confusion_write(png_path, text_out, soft ? sp : gp, d->y, d->n, err);
    free(gp);
    free(sp);
    return rc;
}
