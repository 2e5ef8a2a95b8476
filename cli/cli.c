/* cli/cli.c — the one option parser of every pff command (see cli.h): one tokenising step
 * (pff_args_next) and, on it, the table parser that the commands with an option table use, the
 * usage text, and the number and choice checks that word their errors with the flag's name. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pff.h"
#include "cli.h"

void pff_cli_usage(FILE *f, const char *synopsis, const pff_option *o)
{
    fprintf(f, "usage: %s\n\noptions:\n", synopsis);
    for (; o->name; o++)
        fprintf(f, "  --%-14s %s\n", o->name, o->help);
}

static int edit_distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b), d[64][64];
    if (la > 63 || lb > 63)
        return 99;
    for (int i = 0; i <= la; i++)
        d[i][0] = i;
    for (int j = 0; j <= lb; j++)
        d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            int x = d[i - 1][j] + 1, y = d[i][j - 1] + 1;
            d[i][j] = c < x ? (c < y ? c : y) : (x < y ? x : y);
        }
    return d[la][lb];
}

void pff_args_start(pff_args *a, int argc, char **argv, const pff_option *opts)
{
    memset(a, 0, sizeof *a);
    a->argc = argc;
    a->argv = argv;
    a->opts = opts;
    a->next = 1;
    a->opt = -1;
}

pff_arg_kind pff_args_next(pff_args *a)
{
    a->name = a->value = NULL;
    a->namelen = 0;
    a->opt = -1;
    while (a->next < a->argc && !a->argv[a->next])
        a->next++;
    if (a->next >= a->argc)
        return PFF_ARG_END;
    const char *s = a->arg = a->argv[a->next++];
    if (strcmp(s, "-h") == 0)
        s = "--help";
    if (strncmp(s, "--", 2) != 0 || s[2] == 0) {
        a->value = s;
        return PFF_ARG_POSITIONAL;
    }
    const char *eq = strchr(s + 2, '=');
    a->name = s + 2;
    a->namelen = eq ? (int)(eq - s - 2) : (int)strlen(s + 2);
    for (int j = 0; a->opts[j].name; j++)
        if ((int)strlen(a->opts[j].name) == a->namelen &&
            strncmp(a->opts[j].name, a->name, (size_t)a->namelen) == 0)
            a->opt = j;
    if (a->opt < 0)
        return PFF_ARG_UNKNOWN;
    if (!a->opts[a->opt].has_arg) {
        if (eq) {
            a->value = eq + 1;
            return PFF_ARG_EXTRA_VALUE;
        }
        return PFF_ARG_OPTION;
    }
    if (eq)
        a->value = eq + 1;
    else if (a->next < a->argc && a->argv[a->next])
        a->value = a->argv[a->next++];
    else
        return PFF_ARG_MISSING_VALUE;
    return PFF_ARG_OPTION;
}

int pff_cli_parse(int argc, char **argv, const pff_option *opts, const char *cmd, pff_parsed *p)
{
    memset(p, 0, sizeof *p);
    int nopts = 0;
    while (opts[nopts].name)
        nopts++;
    if (nopts > PFF_CLI_MAX_OPTS) {
        fprintf(stderr, "pff %s: internal error: %d options, more than PFF_CLI_MAX_OPTS\n", cmd,
                nopts);
        return PFF_EFAIL;
    }
    pff_args a;
    pff_args_start(&a, argc, argv, opts);
    for (pff_arg_kind k; (k = pff_args_next(&a)) != PFF_ARG_END;) {
        /* option names in messages: at most 63 characters */
        int len = a.namelen < 63 ? a.namelen : 63;
        switch (k) {
        case PFF_ARG_POSITIONAL:
            if (p->npos == PFF_CLI_MAX_POS) {
                fprintf(stderr, "pff %s: too many arguments\n", cmd);
                return PFF_EUSAGE;
            }
            p->pos[p->npos++] = a.value;
            continue;
        case PFF_ARG_UNKNOWN: {
            char name[64];
            memcpy(name, a.name, (size_t)len);
            name[len] = 0;
            int best = -1, bd = 99;
            for (int j = 0; opts[j].name; j++) {
                int d = edit_distance(name, opts[j].name);
                if (d < bd)
                    bd = d, best = j;
            }
            if (best >= 0 && bd <= 3)
                fprintf(stderr, "pff %s: unknown option --%s; did you mean --%s?\n", cmd, name,
                        opts[best].name);
            else
                fprintf(stderr, "pff %s: unknown option --%s (see pff %s --help)\n", cmd, name, cmd);
            return PFF_EUSAGE;
        }
        case PFF_ARG_MISSING_VALUE:
            fprintf(stderr, "pff %s: --%.*s needs a value\n", cmd, len, a.name);
            return PFF_EUSAGE;
        case PFF_ARG_EXTRA_VALUE:
            fprintf(stderr, "pff %s: --%.*s takes no value\n", cmd, len, a.name);
            return PFF_EUSAGE;
        default:
            p->val[a.opt] = a.value;
            p->seen[a.opt] = 1;
        }
    }
    return PFF_OK;
}

int pff_cli_start(int argc, char **argv, const pff_option *opts, const char *synopsis, int npos,
                  const char *expected, pff_parsed *p)
{
    int rc = pff_cli_parse(argc, argv, opts, argv[0], p);
    if (rc)
        return rc;
    if (pff_cli_has(p, opts, "help")) {
        pff_cli_usage(stdout, synopsis, opts);
        return PFF_DONE;
    }
    if (p->npos != npos) {
        if (!npos)
            fprintf(stderr, "pff %s: unexpected argument '%s'\n", argv[0], p->pos[0]);
        else
            fprintf(stderr, "pff %s: expected %s (see pff %s --help)\n", argv[0], expected,
                    argv[0]);
        return PFF_EUSAGE;
    }
    return PFF_OK;
}

static int opt_index(const pff_option *opts, const char *name)
{
    for (int j = 0; opts[j].name; j++)
        if (strcmp(opts[j].name, name) == 0)
            return j;
    return -1;
}

const char *pff_cli_get(const pff_parsed *p, const pff_option *opts, const char *name)
{
    int k = opt_index(opts, name);
    return k >= 0 ? p->val[k] : NULL;
}

int pff_cli_has(const pff_parsed *p, const pff_option *opts, const char *name)
{
    int k = opt_index(opts, name);
    return k >= 0 && p->seen[k];
}

int pff_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int pff_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int pff_cli_long(const char *flag, const char *s, long lo, long hi, long *out)
{
    if (pff_parse_long(s, lo, hi, out)) {
        fprintf(stderr, "pff: --%s: '%s' is not an integer in %ld..%ld\n", flag, s, lo, hi);
        return PFF_EUSAGE;
    }
    return PFF_OK;
}

int pff_cli_float(const char *flag, const char *s, float *out)
{
    double v;
    if (pff_parse_double(s, &v) || v <= 0 || v > 3e38) {
        fprintf(stderr, "pff: --%s: '%s' is not a positive number\n", flag, s);
        return PFF_EUSAGE;
    }
    *out = (float)v;
    return PFF_OK;
}

int pff_cli_goodness_from(const char *s, int L, int *out)
{
    long k;
    if (pff_parse_long(s, 1, L, &k)) {
        fprintf(stderr, "pff: --goodness-from: '%s' is not a layer of the network: expected 1..%d "
                        "(1: every layer; 2: the paper's rule)\n", s, L);
        return PFF_EUSAGE;
    }
    *out = pff_goodness_first(L, (int)k) == pff_goodness_first(L, 0) ? 0 : (int)k;
    return PFF_OK;
}

int pff_cli_choice(const char *flag, const char *s, const char *const *names, int n, int *out)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return PFF_OK;
        }
    fprintf(stderr, "pff: --%s: '%s' is not one of", flag, s);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "%s %s", i ? "," : "", names[i]);
    fprintf(stderr, "\n");
    return PFF_EUSAGE;
}

int pff_cli_setting(const pff_setting *st, const char *s, pff_model_config *m, pff_run_config *r)
{
    void *f = pff_setting_field(st, m, r);
    char expected[160];
    long v;
    int kind, rc;
    switch (st->type) {
    case PFF_SET_FLAG: *(int *)f = 1; return PFF_OK;
    case PFF_SET_LAYER: return pff_cli_goodness_from(s, m->nlayers, (int *)f);
    case PFF_SET_KIND:
        if ((rc = pff_cli_choice(st->flag, s, st->names, st->nnames, &kind)))
            return rc;
        *(int *)f = kind;
        return PFF_OK;
    case PFF_SET_INT:
        if ((rc = pff_cli_long(st->flag, s, (long)st->lo, (long)st->hi, &v)))
            return rc;
        *(int *)f = (int)v;
        return PFF_OK;
    case PFF_SET_SEED: {
        char *end;
        errno = 0;
        unsigned long long sd = strtoull(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-') {
            fprintf(stderr, "pff: --%s: '%s' is not a non-negative integer\n", st->flag, s);
            return PFF_EUSAGE;
        }
        *(uint64_t *)f = sd;
        return PFF_OK;
    }
    case PFF_SET_REAL: {
        double d;
        float was = *(float *)f;
        int ok = !pff_parse_double(s, &d) && d <= 3e38 && d >= -3e38;
        if (ok) {
            *(float *)f = (float)d;
            ok = pff_setting_ok(st, m, r);
        }
        if (!ok) {
            *(float *)f = was;
            pff_setting_expected(st, m ? m->nlayers : 0, expected, sizeof expected);
            fprintf(stderr, "pff: --%s: '%s' is not %s\n", st->flag, s, expected);
            return PFF_EUSAGE;
        }
        return PFF_OK;
    }
    }
    return PFF_EUSAGE;
}
