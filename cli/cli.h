/* cli/cli.h — the command line owns parsing, dispatch and what is printed, and never does maths or
 * schedules itself.
 *
 * What the command-line files share (pff.c's command table names each file):
 * - the one option parser (cli.c): GNU-style long options (--opt value, --opt=value, -h for
 *   --help), the nearest option suggested for an unknown one, and number/choice parsing that
 *   prints one clear message naming the flag. Every parse error returns PFF_EUSAGE;
 * - the entry point of each command, pff_cmd_NAME(argc, argv) with argv[0] the command's name,
 *   returning the process's exit status (PFF_OK, PFF_EFAIL, PFF_EUSAGE, or 128 + a signal);
 * - the process start (runtime.c), which bench/bench.c calls too. */
#ifndef PFF_CLI_H
#define PFF_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pff.h"
#include "layers/settings.h"
#include "data/json.h"

typedef struct {
    const char *name;
    int has_arg;
    const char *help;
} pff_option;

/* ---- The option parser (cli.c) ---- */

/* One step over argv: what the next argument is. The one tokeniser every command uses;
 * pff_cli_parse drives it for the commands that take a table of options and word its errors
 * the same way for all of them, `pff schedule` drives it itself (cmd_schedule.c). */
typedef enum {
    PFF_ARG_END,           /* no arguments left */
    PFF_ARG_OPTION,        /* opts[opt], with its value (NULL when it takes none) */
    PFF_ARG_POSITIONAL,    /* value: an argument that is not a --option ("-x", "-" and "--" too) */
    PFF_ARG_UNKNOWN,       /* name: an option the table does not have */
    PFF_ARG_MISSING_VALUE, /* opts[opt] takes a value and none follows */
    PFF_ARG_EXTRA_VALUE    /* opts[opt] takes no value; value: what followed '=' */
} pff_arg_kind;

typedef struct {
    int argc;
    char **argv;
    const pff_option *opts;
    int next;          /* argv index of the next argument (starts at 1: argv[0] is the command) */
    /* the last step: */
    const char *arg;   /* the argument as written */
    const char *name;  /* the option's name as written, after "--" (namelen characters) */
    int namelen;
    int opt;           /* index in opts, or -1 */
    const char *value; /* the option's value or the positional argument */
} pff_args;

void pff_args_start(pff_args *a, int argc, char **argv, const pff_option *opts);
pff_arg_kind pff_args_next(pff_args *a);

/* Parsed command line: values by option index, positional arguments. An
 * option table may hold at most PFF_CLI_MAX_OPTS options (checked). */
#define PFF_CLI_MAX_OPTS 64
#define PFF_CLI_MAX_POS 8
typedef struct {
    const char *val[PFF_CLI_MAX_OPTS];
    int seen[PFF_CLI_MAX_OPTS];
    const char *pos[PFF_CLI_MAX_POS];
    int npos;
} pff_parsed;

void pff_cli_usage(FILE *f, const char *synopsis, const pff_option *o);
int pff_cli_parse(int argc, char **argv, const pff_option *opts, const char *cmd, pff_parsed *p);
/* The opening of a command that takes npos positional arguments: parses, prints the usage
 * (synopsis) on stdout for --help, and words a wrong count with `expected` ("one MODEL file";
 * unused when npos is 0: the first argument is named as unexpected).
 * PFF_OK: go on; PFF_DONE: --help was answered, the command returns PFF_OK; otherwise the
 * exit status. */
enum { PFF_DONE = -1 };
int pff_cli_start(int argc, char **argv, const pff_option *opts, const char *synopsis, int npos,
                  const char *expected, pff_parsed *p);
const char *pff_cli_get(const pff_parsed *p, const pff_option *opts, const char *name);
int pff_cli_has(const pff_parsed *p, const pff_option *opts, const char *name);
/* Silent number checks (0: ok, -1: not a number in range): the whole string, base 10. */
int pff_parse_long(const char *s, long lo, long hi, long *out);
int pff_parse_double(const char *s, double *out); /* finite */
/* The same with a message naming the flag; PFF_EUSAGE when s is not one. */
int pff_cli_long(const char *flag, const char *s, long lo, long hi, long *out);
int pff_cli_float(const char *flag, const char *s, float *out); /* positive, finite */
int pff_cli_choice(const char *flag, const char *s, const char *const *names, int n, int *out);
/* --goodness-from K for a network of L layers (`pff train`, `pff eval`): 1..L, stored
 * as 0 when it is the paper's rule (K = 2, or 1 for one layer), so that a run
 * that names the default writes the same bytes as one that does not. */
int pff_cli_goodness_from(const char *s, int L, int *out);
/* The value s of a row of the settings table (layers/settings.h) into its field of m or r, by
 * its type: a number in its range, a kind's name, a flag, the seed, a layer of m's network (so
 * --layers first). PFF_EUSAGE with a message naming the flag and what it expects. */
int pff_cli_setting(const pff_setting *st, const char *s, pff_model_config *m, pff_run_config *r);

/* ---- The commands (pff.c's table) ---- */

int pff_cmd_train(int argc, char **argv);    /* cmd_train.c */
int pff_cmd_eval(int argc, char **argv);     /* cmd_model.c */
int pff_cmd_info(int argc, char **argv);     /* cmd_model.c */
int pff_cmd_export(int argc, char **argv);   /* cmd_model.c */
int pff_cmd_schedule(int argc, char **argv); /* cmd_schedule.c: pff_schedule_cli on stdout */
int pff_cmd_predict(int argc, char **argv);  /* cmd_predict.c */
int pff_cmd_show(int argc, char **argv);     /* cmd_show.c */

/* Confusion matrix of n predictions (row = true label, column = predicted):
 * a text table to `text` (skipped when NULL) and a heat-map PNG to png_path
 * (skipped when NULL). Labels must be 0..9. Returns 0, or PFF_EUSAGE /
 * PFF_EFAIL with a message naming the file in err[PFF_ERRLEN] (common.c). */
int pff_confusion_write(const char *png_path, FILE *text, const int *pred, const uint8_t *truth,
                        int n, char *err);
/* `pff eval --confusion FILE.png`: predicts d with the model's classifier
 * (the softmax head when it was trained with --classifier softmax, else
 * goodness) and writes the matrix: PNG first, then the table to `text`. */
int pff_confusion_model(const pff_model *m, const pff_dataset *d, int threads, const char *png_path,
                        FILE *text, char *err);

/* `pff schedule` with explicit streams. use_color: 1 on, 0 off, -1 auto (the chart's stream is a
 * terminal and NO_COLOR is unset). With --json the chart and summary go to `err` and `out` holds
 * only the JSON line. Returns the exit status: PFF_OK, PFF_EFAIL, PFF_EUSAGE. */
int pff_schedule_cli(int argc, char **argv, FILE *out, FILE *err, int use_color);
/* The same on stdout and stderr (the name tests/test_plan.c calls). */
int pff_schedule_main(int argc, char **argv);

/* Shared by the commands (common.c): the core count, a JSON accuracy (percent, or null when
 * a < 0); strings, numbers and lists go through data/json.h. */
int pff_cores(void);
void pff_json_acc(FILE *f, double a);
void pff_json_widths(FILE *f, const int *widths, int nlayers);
/* ,"name":value for every row of the settings table in the parts given (NULL: skipped), in the
 * table's order (common.c). */
void pff_json_settings(FILE *f, const pff_model_config *m, const pff_run_config *r);

/* 0 when a file can be created at path (tried and removed: the atomic writers create
 * PATH.tmp.XXXXXX beside it and rename it over PATH), else PFF_EUSAGE (PFF_EFAIL when out of
 * memory) with "pff: --FLAG PATH: cannot create a file there: ..." on stderr. The command line
 * checks every output with it before any work (common.c). */
int pff_check_writable(const char *flag, const char *path);

/* ---- The process (runtime.c) ---- */

/* Starts the program again with OMP_WAIT_POLICY=PASSIVE and the best OpenBLAS core for this CPU,
 * unless the user set them; returns when nothing was re-executed. Call first in main, with
 * pff_blas_check (layers/layers.h) as kernel_check: a core pff chose that fails it is dropped
 * for OpenBLAS's own pick (tests/test_runtime.c passes a check that always fails). */
void pff_runtime_start(char **argv, int (*kernel_check)(void));
/* The OpenBLAS core in use, and who chose it: "SkylakeX (chosen by pff; OpenBLAS picked ...)". */
const char *pff_blas_describe(void);

#endif
