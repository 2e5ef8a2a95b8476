/* data/log.c — the training log (log.h): the CSV writer of `pff train --log`, and its two
 * readers, pff_log_read (`pff show --curves`) and pff_acc_read (`pff show --accuracy`), on one
 * line reader (csv_open / csv_next / csv_close, csv_number): comment and blank lines skipped,
 * fields split at commas in place, numbers with trailing blanks allowed, an empty field NaN.
 * A path ending in .jsonl is read as the JSON Lines log pff writes there: the reader turns each
 * object into the CSV row it stands for (jsonl_row), so both readers see one format.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pff.h"
#include "json.h"
#include "log.h"

/* ------------------------------------------------------------------------ */
/* The writer                                                               */

void pff_log_header(FILE *f, int L, int val)
{
    fprintf(f, "chapter,epoch,lr");
    for (int k = 1; k <= L; k++)
        fprintf(f, ",loss_%d", k);
    for (int k = 1; k <= L; k++)
        fprintf(f, ",gpos_%d", k);
    for (int k = 1; k <= L; k++)
        fprintf(f, ",gneg_%d", k);
    fprintf(f, ",seconds,%s\n", val ? "val_accuracy" : "test_accuracy");
}

void pff_log_row_json(FILE *f, int chapter, double epoch, double lr, int L, const double *loss,
                      const double *gpos, const double *gneg, double seconds, double accuracy,
                      const char *key)
{
    const char *name[3] = {"loss", "gpos", "gneg"};
    const double *list[3] = {loss, gpos, gneg};
    fprintf(f, "{\"chapter\":%d,\"epoch\":%.6g,\"lr\":%g,\"seconds\":", chapter, epoch, lr);
    pff_json_num(f, "%.3f", seconds >= 0 ? seconds : NAN);
    for (int i = 0; i < 3; i++) {
        fprintf(f, ",\"%s\":[", name[i]);
        for (int k = 0; k < L; k++) {
            fprintf(f, "%s", k ? "," : "");
            pff_json_num(f, "%.6g", list[i][k]);
        }
        fputc(']', f);
    }
    fprintf(f, ",\"%s\":", key);
    pff_json_num(f, "%.4f", accuracy >= 0 ? accuracy : NAN);
    fputs("}\n", f);
}

void pff_log_row(FILE *f, int chapter, double epoch, double lr, int L, const double *loss,
                 const double *gpos, const double *gneg, double seconds, double test_accuracy)
{
    fprintf(f, "%d,%.6g,%.6g", chapter, epoch, lr);
    for (int k = 0; k < L; k++)
        fprintf(f, ",%.6g", loss[k]);
    for (int k = 0; k < L; k++)
        fprintf(f, ",%.6g", gpos[k]);
    for (int k = 0; k < L; k++)
        fprintf(f, ",%.6g", gneg[k]);
    if (seconds >= 0)
        fprintf(f, ",%.3f", seconds);
    else
        fprintf(f, ",");
    if (test_accuracy >= 0)
        fprintf(f, ",%.4f\n", test_accuracy);
    else
        fprintf(f, ",\n");
}

/* ------------------------------------------------------------------------ */
/* The CSV line reader both readers share                                   */

enum { CSV_MAXF = 4 + 3 * PFF_MAX_LAYERS + 16 }; /* fields kept of a line */

enum { JSONL_NAME = 24, JSONL_VALUE = 40 }; /* longest key (with _k) and number text, + 1 */

typedef struct {
    FILE *f;
    char *line;
    size_t cap;
    int lineno;          /* 1-based number of the current line */
    int n;               /* its field count (may exceed CSV_MAXF: only the first are kept) */
    char *fld[CSV_MAXF]; /* pointers into line (CSV), or into names / values (JSON Lines) */
    /* JSON Lines: the first object's keys, arrays spread over key_1, key_2, ..., make a header
     * row, returned before that object's values (pending); every later object must have them */
    int jsonl, pending, nkeys;
    char names[CSV_MAXF][JSONL_NAME];
    char values[CSV_MAXF][JSONL_VALUE];
} csv_reader;

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return 0;
    return 1;
}

/* Splits a CSV line in place at commas (no quoting); returns the field count. */
static int csv_split(char *s, char **f, int max)
{
    int n = 0;
    size_t len = strlen(s);
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
        s[--len] = 0;
    for (;;) {
        if (n < max)
            f[n] = s;
        n++;
        char *c = strchr(s, ',');
        if (!c)
            break;
        *c = 0;
        s = c + 1;
    }
    return n;
}

/* 0, or -1 with errno when the file cannot be opened. */
static int csv_open(csv_reader *r, const char *path)
{
    memset(r, 0, sizeof *r);
    size_t len = strlen(path);
    r->jsonl = len > 6 && strcmp(path + len - 6, ".jsonl") == 0;
    r->f = fopen(path, "r");
    return r->f ? 0 : -1;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    return s;
}

/* One value of a JSON Lines object at *s: a number's text, or "" for null, into out. */
static int jsonl_value(const char **s, char *out)
{
    const char *p = *s;
    if (strncmp(p, "null", 4) == 0) {
        out[0] = '\0';
        *s = p + 4;
        return 0;
    }
    size_t n = strspn(p, "0123456789+-.eE");
    if (n == 0 || n >= JSONL_VALUE)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    *s = p + n;
    return 0;
}

/* The object on r->line as a row: names and values into `names` and r->values, their count;
 * -1 (and a message) when the line is not an object of numbers, nulls and arrays of them. */
static int jsonl_parse(csv_reader *r, char (*names)[JSONL_NAME], const char *path, char *err)
{
    const char *s = skip_ws(r->line);
    int n = 0;
    if (*s++ != '{')
        goto bad;
    for (s = skip_ws(s); *s != '}';) {
        const char *key = s + 1, *q = *s == '"' ? strchr(key, '"') : NULL;
        if (!q || q - key > JSONL_NAME - 5 || memchr(key, '\\', (size_t)(q - key)))
            goto bad;
        const int klen = (int)(q - key);
        s = skip_ws(q + 1);
        if (*s++ != ':')
            goto bad;
        s = skip_ws(s);
        const int array = *s == '[';
        s = skip_ws(s + array);
        for (int k = 1;; k++) {
            if (n == CSV_MAXF) {
                snprintf(err, PFF_ERRLEN, "%s:%d: more than %d values", path, r->lineno, CSV_MAXF);
                return -1;
            }
            if (array && k == 1 && *s == ']')
                goto bad; /* an empty list names no column */
            snprintf(names[n], JSONL_NAME, array ? "%.*s_%d" : "%.*s", klen, key, k);
            if (jsonl_value(&s, r->values[n++]))
                goto bad;
            s = skip_ws(s);
            if (!array || *s == ']')
                break;
            if (*s++ != ',')
                goto bad;
            s = skip_ws(s);
        }
        s = skip_ws(s + array);
        if (*s == ',')
            s = skip_ws(s + 1);
        else if (*s != '}')
            goto bad;
    }
    if (*skip_ws(s + 1) != '\0')
        goto bad;
    return n;
bad:
    snprintf(err, PFF_ERRLEN, "%s:%d: expected one JSON object of numbers, nulls and lists of "
             "them per line (pff train --log FILE.jsonl)", path, r->lineno);
    return -1;
}

/* The row in r->fld: the values of the object last parsed. 1. */
static int jsonl_values(csv_reader *r)
{
    for (int i = 0; i < r->nkeys; i++)
        r->fld[i] = r->values[i];
    r->n = r->nkeys;
    return 1;
}

/* r->line, a JSON Lines object, as a row in r->fld: the first one's header row, then (pending)
 * its values; later ones must name the same columns. 1, or -1 with a message. */
static int jsonl_row(csv_reader *r, const char *path, char *err)
{
    char names[CSV_MAXF][JSONL_NAME];
    const int first = r->nkeys == 0, n = jsonl_parse(r, first ? r->names : names, path, err);
    if (n < 0)
        return -1;
    if (first) {
        r->nkeys = r->n = n;
        r->pending = 1;
        for (int i = 0; i < n; i++)
            r->fld[i] = r->names[i];
        return 1;
    }
    int i = 0;
    while (i < n && i < r->nkeys && !strcmp(names[i], r->names[i]))
        i++;
    if (i < n || i < r->nkeys) {
        snprintf(err, PFF_ERRLEN, "%s:%d: not the keys and list lengths of line 1 (%s)", path,
                 r->lineno, i < n ? names[i] : r->names[i]);
        return -1;
    }
    return jsonl_values(r);
}

/* The next line that is neither a comment nor blank, split into r->fld: 1; 0 at the end; -1
 * with a message in err when a JSON Lines line is not what pff writes. */
static int csv_next(csv_reader *r, const char *path, char *err)
{
    if (r->pending) { /* the values of the object whose keys were the header */
        r->pending = 0;
        return jsonl_values(r);
    }
    while (getline(&r->line, &r->cap, r->f) > 0) {
        r->lineno++;
        if (r->line[0] == '#' || blank(r->line))
            continue;
        if (r->jsonl)
            return jsonl_row(r, path, err);
        r->n = csv_split(r->line, r->fld, CSV_MAXF);
        return 1;
    }
    return 0;
}

static void csv_close(csv_reader *r)
{
    free(r->line);
    fclose(r->f);
}

/* A number in field s, or NAN when it is empty; -1 when it is not a number. */
static int csv_number(const char *s, double *v)
{
    if (blank(s)) {
        *v = NAN;
        return 0;
    }
    char *end;
    *v = strtod(s, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    return end == s || *end ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* pff show --curves: the log's curves                                      */

void pff_log_free(pff_train_log *g)
{
    free(g->chapter);
    free(g->acc);
    free(g->loss);
    free(g->gpos);
    free(g->gneg);
    memset(g, 0, sizeof *g);
}

/* Where pff_log_read finds each column of a training log (-1: absent). */
typedef struct {
    int chapter, acc;            /* "chapter", "test_accuracy" or "val_accuracy" */
    int loss[PFF_MAX_LAYERS];    /* "loss_k" */
    int gpos[PFF_MAX_LAYERS];    /* "gpos_k" */
    int gneg[PFF_MAX_LAYERS];    /* "gneg_k" */
    int nf;                      /* fields of the header, and so of every row */
} log_columns;

/* The header: the columns it names, g->L (loss_1..loss_L present) and g->has_g. */
static int log_header(const csv_reader *in, const char *path, log_columns *c, pff_train_log *g,
                      char *err)
{
    const int n = in->n;
    if (n > CSV_MAXF) {
        snprintf(err, PFF_ERRLEN, "--log %s:%d: %d columns, expected at most %d", path, in->lineno,
                 n, CSV_MAXF);
        return PFF_EUSAGE;
    }
    c->chapter = c->acc = -1;
    for (int k = 0; k < PFF_MAX_LAYERS; k++)
        c->loss[k] = c->gpos[k] = c->gneg[k] = -1;
    for (int i = 0; i < n; i++) {
        const char *f = in->fld[i];
        int k;
        char rest;
        if (!strcmp(f, "chapter"))
            c->chapter = i;
        else if (!strcmp(f, "test_accuracy") || !strcmp(f, "val_accuracy")) {
            c->acc = i;
            g->acc_set = f[0] == 'v' ? "validation" : "test";
        } else if (sscanf(f, "loss_%d%c", &k, &rest) == 1 && k >= 1 && k <= PFF_MAX_LAYERS)
            c->loss[k - 1] = i;
        else if (sscanf(f, "gpos_%d%c", &k, &rest) == 1 && k >= 1 && k <= PFF_MAX_LAYERS)
            c->gpos[k - 1] = i;
        else if (sscanf(f, "gneg_%d%c", &k, &rest) == 1 && k >= 1 && k <= PFF_MAX_LAYERS)
            c->gneg[k - 1] = i;
    }
    while (g->L < PFF_MAX_LAYERS && c->loss[g->L] >= 0)
        g->L++;
    if (c->chapter < 0 || g->L == 0) {
        snprintf(err, PFF_ERRLEN, "--log %s:%d: no 'chapter' and 'loss_1' columns; expected "
                 "the header chapter,epoch,lr,loss_1..,gpos_1..,gneg_1..,test_accuracy",
                 path, in->lineno);
        return PFF_EUSAGE;
    }
    g->has_g = 1;
    for (int k = 0; k < g->L; k++)
        g->has_g &= c->gpos[k] >= 0 && c->gneg[k] >= 0;
    c->nf = n;
    return PFF_OK;
}

/* One chapter's row, appended to g: every field used must be a number, or empty (no point). */
static int log_row(const csv_reader *in, const char *path, const log_columns *c, pff_train_log *g,
                   char *err)
{
    const int r = g->rows, L = g->L;
    if (in->n != c->nf) {
        snprintf(err, PFF_ERRLEN, "--log %s:%d: %d fields, the header has %d", path, in->lineno,
                 in->n, c->nf);
        return PFF_EUSAGE;
    }
    double *ch = realloc(g->chapter, (size_t)(r + 1) * sizeof(double));
    if (ch)
        g->chapter = ch;
    double *ac = realloc(g->acc, (size_t)(r + 1) * sizeof(double));
    if (ac)
        g->acc = ac;
    double *lo = realloc(g->loss, (size_t)(r + 1) * L * sizeof(double));
    if (lo)
        g->loss = lo;
    double *gp = realloc(g->gpos, (size_t)(r + 1) * L * sizeof(double));
    if (gp)
        g->gpos = gp;
    double *gn = realloc(g->gneg, (size_t)(r + 1) * L * sizeof(double));
    if (gn)
        g->gneg = gn;
    if (!ch || !ac || !lo || !gp || !gn) {
        snprintf(err, PFF_ERRLEN, "--log %s: out of memory", path);
        return PFF_EFAIL;
    }
    struct field {
        int col;
        double *dst;
    } want[2 + 3 * PFF_MAX_LAYERS];
    int nw = 0;
    want[nw++] = (struct field){c->chapter, &g->chapter[r]};
    want[nw++] = (struct field){c->acc, &g->acc[r]};
    for (int k = 0; k < L; k++) {
        want[nw++] = (struct field){c->loss[k], &g->loss[(size_t)r * L + k]};
        want[nw++] = (struct field){g->has_g ? c->gpos[k] : -1, &g->gpos[(size_t)r * L + k]};
        want[nw++] = (struct field){g->has_g ? c->gneg[k] : -1, &g->gneg[(size_t)r * L + k]};
    }
    for (int i = 0; i < nw; i++) {
        *want[i].dst = NAN;
        if (want[i].col >= 0 && csv_number(in->fld[want[i].col], want[i].dst)) {
            snprintf(err, PFF_ERRLEN, "--log %s:%d: '%s' is not a number", path, in->lineno,
                     in->fld[want[i].col]);
            return PFF_EUSAGE;
        }
    }
    /* a chapter is a whole number in the range of --splits; an accuracy a percentage (what the
     * charts scale their axes by: an absurd value is refused here, not drawn) */
    const double chap = g->chapter[r], acc = g->acc[r];
    if (!(chap >= 1 && chap <= 1000000 && chap == floor(chap))) {
        snprintf(err, PFF_ERRLEN, "--log %s:%d: chapter '%s', expected a whole number 1..1000000",
                 path, in->lineno, in->fld[c->chapter]);
        return PFF_EUSAGE;
    }
    if (!isnan(acc) && !(acc >= 0 && acc <= 100)) {
        snprintf(err, PFF_ERRLEN, "--log %s:%d: accuracy '%s', expected a percentage 0..100 or "
                 "an empty field", path, in->lineno, in->fld[c->acc]);
        return PFF_EUSAGE;
    }
    g->has_acc |= isfinite(g->acc[r]);
    g->rows++;
    return PFF_OK;
}

int pff_log_read(const char *path, pff_train_log *g, char *err)
{
    memset(g, 0, sizeof *g);
    csv_reader in;
    if (csv_open(&in, path)) {
        snprintf(err, PFF_ERRLEN, "--log %s: cannot open: %s (write one with pff train --log FILE)",
                 path, strerror(errno));
        return PFF_EUSAGE;
    }
    log_columns cols = {.chapter = -1, .acc = -1}; /* log_header fills it in */
    int rc = PFF_OK, have = 0;
    for (int got; !rc && (got = csv_next(&in, path, err));) {
        if (got < 0)
            rc = PFF_EUSAGE;
        else
            rc = have ? log_row(&in, path, &cols, g, err) : log_header(&in, path, &cols, g, err);
        have = 1;
    }
    if (!rc && g->rows == 0) {
        snprintf(err, PFF_ERRLEN, "--log %s: no chapters; expected a CSV header and one row per "
                 "chapter (pff train --log FILE)", path);
        rc = PFF_EUSAGE;
    }
    csv_close(&in);
    if (rc)
        pff_log_free(g);
    return rc;
}

int pff_log_from_model(const pff_model *m, pff_train_log *g, char *err)
{
    const int n = m->nhistory, L = m->cfg.nlayers;
    memset(g, 0, sizeof *g);
    if (n < 1) {
        snprintf(err, PFF_ERRLEN, "the model holds no chapter records; pass the training log "
                                  "with --log FILE");
        return PFF_EUSAGE;
    }
    g->rows = n;
    g->L = L;
    g->has_g = 1;
    g->acc_set = "held-out";
    g->chapter = malloc(sizeof(double) * n);
    g->acc = malloc(sizeof(double) * n);
    g->loss = malloc(sizeof(double) * n * L);
    g->gpos = malloc(sizeof(double) * n * L);
    g->gneg = malloc(sizeof(double) * n * L);
    if (!g->chapter || !g->acc || !g->loss || !g->gpos || !g->gneg) {
        pff_log_free(g);
        snprintf(err, PFF_ERRLEN, "out of memory for %d chapter records", n);
        return PFF_EFAIL;
    }
    for (int i = 0; i < n; i++) {
        const pff_history *h = &m->history[i];
        g->chapter[i] = h->chapter;
        g->acc[i] = h->test_accuracy >= 0 ? h->test_accuracy : NAN; /* NaN: not measured */
        g->has_acc |= h->test_accuracy >= 0;
        for (int k = 0; k < L; k++) {
            g->loss[i * L + k] = h->loss[k];
            g->gpos[i * L + k] = h->gpos[k];
            g->gneg[i * L + k] = h->gneg[k];
        }
    }
    return PFF_OK;
}

/* ------------------------------------------------------------------------ */
/* pff show --accuracy: test accuracy against training seconds, several runs */

void pff_acc_free(pff_acc_curve *cv, int n)
{
    for (int i = 0; i < n; i++) {
        free(cv[i].x);
        free(cv[i].y);
    }
}

static int push_point(pff_acc_curve *c, double x, double y)
{
    double *nx = realloc(c->x, (size_t)(c->n + 1) * sizeof *nx);
    if (nx)
        c->x = nx;
    double *ny = realloc(c->y, (size_t)(c->n + 1) * sizeof *ny);
    if (ny)
        c->y = ny;
    if (!nx || !ny)
        return PFF_EFAIL; /* out of memory */
    c->x[c->n] = x;
    c->y[c->n++] = y;
    return 0;
}

/* Where pff_acc_read finds each column (-1: absent), and which kind of file it reads. */
typedef struct {
    int seconds, acc, name, kind; /* "seconds", "test_accuracy", "val_accuracy" or "accuracy",
                                     "name", "kind" */
    int val;                      /* the accuracy column is val_accuracy */
    int ref;                      /* a reference file (it has names): name,seconds,accuracy,kind */
    int nf;                       /* fields of the header, and so of every row */
} acc_columns;

static int acc_header(const csv_reader *in, const char *path, acc_columns *c, char *err)
{
    c->seconds = c->acc = c->name = c->kind = -1;
    c->val = 0;
    for (int i = 0; i < in->n; i++) {
        const char *f = in->fld[i];
        if (!strcmp(f, "seconds"))
            c->seconds = i;
        else if (!strcmp(f, "test_accuracy") || !strcmp(f, "val_accuracy") ||
                 !strcmp(f, "accuracy")) {
            c->acc = i;
            c->val = !strcmp(f, "val_accuracy");
        }
        else if (!strcmp(f, "name"))
            c->name = i;
        else if (!strcmp(f, "kind"))
            c->kind = i;
    }
    c->ref = c->name >= 0;
    c->nf = in->n;
    if (c->seconds < 0 || c->acc < 0 || (c->ref && c->kind < 0)) {
        snprintf(err, PFF_ERRLEN, "%s:%d: expected a pff train log with the columns "
                 "seconds and test_accuracy (or val_accuracy), or the header "
                 "name,seconds,accuracy,kind",
                 path, in->lineno);
        return PFF_EUSAGE;
    }
    return PFF_OK;
}

/* Names a new curve: a reference row's name (and its kind, line or point), else the NAME= the
 * user gave, else the file's base name without its extension. */
static int name_curve(pff_acc_curve *cur, const csv_reader *in, const acc_columns *c,
                      const char *given, const char *path, char *err)
{
    memset(cur, 0, sizeof *cur);
    cur->reference = c->ref;
    cur->val = c->val;
    if (c->ref) {
        const char *kind = in->fld[c->kind];
        snprintf(cur->name, sizeof cur->name, "%s", in->fld[c->name]);
        if (strcmp(kind, "line") && strcmp(kind, "point")) {
            snprintf(err, PFF_ERRLEN, "%s:%d: kind '%s', expected line or point", path,
                     in->lineno, kind);
            return PFF_EUSAGE;
        }
        cur->points = !strcmp(kind, "point");
    } else if (given[0]) {
        snprintf(cur->name, sizeof cur->name, "%s", given);
    } else {
        const char *b = strrchr(path, '/');
        b = b ? b + 1 : path;
        const char *dot = strrchr(b, '.');
        int len = dot && dot > b ? (int)(dot - b) : (int)strlen(b);
        snprintf(cur->name, sizeof cur->name, "%.*s", len < PFF_ACC_NAME - 1 ? len : PFF_ACC_NAME - 1, b);
    }
    return PFF_OK;
}

int pff_acc_read(const char *arg, pff_acc_curve *cv, int *ncv, char *err)
{
    const char *eq = strchr(arg, '='), *path = eq ? eq + 1 : arg;
    char given[PFF_ACC_NAME] = "";
    if (eq)
        snprintf(given, sizeof given, "%.*s", (int)(eq - arg) < PFF_ACC_NAME - 1 ? (int)(eq - arg) : PFF_ACC_NAME - 1, arg);
    csv_reader in;
    if (csv_open(&in, path)) {
        snprintf(err, PFF_ERRLEN, "%s: cannot open: %s (a log of pff train --log FILE, or a "
                 "reference CSV name,seconds,accuracy,kind)", path, strerror(errno));
        return PFF_EUSAGE;
    }
    char **fld = in.fld;
    acc_columns c = {-1, -1, -1, -1, 0, 0, 0};
    int have = 0, rc = PFF_EUSAGE, start = *ncv;
    pff_acc_curve *cur = NULL;
    for (int got; (got = csv_next(&in, path, err));) {
        if (got < 0)
            goto fail;
        const int n = in.n, lineno = in.lineno;
        if (n > CSV_MAXF) {
            snprintf(err, PFF_ERRLEN, "%s:%d: %d columns, expected at most %d", path, lineno, n,
                     CSV_MAXF);
            goto fail;
        }
        if (!have) {
            if (acc_header(&in, path, &c, err))
                goto fail;
            have = 1;
            continue;
        }
        if (n != c.nf) {
            snprintf(err, PFF_ERRLEN, "%s:%d: %d fields, the header has %d", path, lineno, n, c.nf);
            goto fail;
        }
        double x, y;
        if (csv_number(fld[c.seconds], &x) || csv_number(fld[c.acc], &y)) {
            snprintf(err, PFF_ERRLEN, "%s:%d: seconds '%s' or accuracy '%s' is not a number", path,
                     lineno, fld[c.seconds], fld[c.acc]);
            goto fail;
        }
        if (!cur || (c.ref && strcmp(cur->name, fld[c.name]) != 0)) {
            if (cur && cur->n == 0) {
                snprintf(err, PFF_ERRLEN, "%s: curve '%s' has no point with both seconds and an "
                         "accuracy", path, cur->name);
                goto fail;
            }
            if (*ncv >= PFF_ACC_MAX_CURVES) {
                snprintf(err, PFF_ERRLEN, "%s: more than %d curves in all", path, PFF_ACC_MAX_CURVES);
                goto fail;
            }
            cur = &cv[(*ncv)++];
            if (name_curve(cur, &in, &c, given, path, err))
                goto fail;
        }
        if (!isfinite(x) || !isfinite(y))
            continue; /* a chapter without a test accuracy (or a time) */
        if (x <= 0 || y < 0 || y > 100) {
            snprintf(err, PFF_ERRLEN, "%s:%d: seconds %g must be > 0 and accuracy %g in 0..100",
                     path, lineno, x, y);
            goto fail;
        }
        if (push_point(cur, x, y)) {
            snprintf(err, PFF_ERRLEN, "%s: out of memory", path);
            rc = PFF_EFAIL;
            goto fail;
        }
    }
    if (!cur || cur->n == 0) {
        snprintf(err, PFF_ERRLEN, "%s: no point with both seconds and a test accuracy (train with "
                 "--eval-every 1 --log FILE)", path);
        goto fail;
    }
    csv_close(&in);
    return PFF_OK;
fail:
    csv_close(&in);
    pff_acc_free(cv + start, *ncv - start);
    *ncv = start;
    return rc;
}
