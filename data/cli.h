/* data/cli.h — the command-line vocabulary shared by pff's subcommands:
 * GNU-style long options (--opt value, --opt=value, -h), the nearest option
 * suggested for an unknown one, and number/choice parsing that prints one
 * clear message naming the flag. Every parse error returns PFF_EUSAGE (2). */
#ifndef PFF_CLI_H
#define PFF_CLI_H

#include <stdio.h>

typedef struct {
    const char *name;
    int has_arg;
    const char *help;
} pff_option;

/* Parsed command line: values by option index, positional arguments. An
 * option table may hold at most PFF_CLI_MAX_OPTS options (checked). */
#define PFF_CLI_MAX_OPTS 64
typedef struct {
    const char *val[PFF_CLI_MAX_OPTS];
    int seen[PFF_CLI_MAX_OPTS];
    const char *pos[8];
    int npos;
} pff_parsed;

void pff_cli_usage(FILE *f, const char *synopsis, const pff_option *o);
int pff_cli_parse(int argc, char **argv, const pff_option *opts, const char *cmd, pff_parsed *p);
const char *pff_cli_get(const pff_parsed *p, const pff_option *opts, const char *name);
int pff_cli_has(const pff_parsed *p, const pff_option *opts, const char *name);
int pff_cli_long(const char *flag, const char *s, long lo, long hi, long *out);
int pff_cli_float(const char *flag, const char *s, float *out); /* positive, finite */
int pff_cli_choice(const char *flag, const char *s, const char *const *names, int n, int *out);

#endif
