/* data/cli.c — command-line parsing for every subcommand (see cli.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../pff.h"
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
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0)
            a = "--help";
        if (strncmp(a, "--", 2) != 0 || a[2] == 0) {
            if (p->npos == 8) {
                fprintf(stderr, "pff %s: too many arguments\n", cmd);
                return PFF_EUSAGE;
            }
            p->pos[p->npos++] = a;
            continue;
        }
        char name[64];
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (len >= sizeof name)
            len = sizeof name - 1;
        memcpy(name, a + 2, len);
        name[len] = 0;
        int k = -1;
        for (int j = 0; opts[j].name; j++)
            if (strcmp(opts[j].name, name) == 0)
                k = j;
        if (k < 0) {
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
        if (opts[k].has_arg) {
            if (eq)
                p->val[k] = eq + 1;
            else if (i + 1 < argc)
                p->val[k] = argv[++i];
            else {
                fprintf(stderr, "pff %s: --%s needs a value\n", cmd, name);
                return PFF_EUSAGE;
            }
        } else if (eq) {
            fprintf(stderr, "pff %s: --%s takes no value\n", cmd, name);
            return PFF_EUSAGE;
        }
        p->seen[k] = 1;
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

int pff_cli_long(const char *flag, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "pff: --%s: '%s' is not an integer in %ld..%ld\n", flag, s, lo, hi);
        return PFF_EUSAGE;
    }
    *out = v;
    return PFF_OK;
}

int pff_cli_float(const char *flag, const char *s, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 3e38) {
        fprintf(stderr, "pff: --%s: '%s' is not a positive number\n", flag, s);
        return PFF_EUSAGE;
    }
    *out = (float)v;
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

