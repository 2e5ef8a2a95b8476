/* data/json.h — the one JSON writer (data/json.c): a string escaped, a number (null when it is not
 * finite), a list of integers, and the separator-and-key of an object's member. Every JSON that
 * pff writes goes through these: `--json` of the commands, the plan of `pff schedule`, the
 * training log's JSON Lines, the trace's run information and its events' names (the trace's
 * numbers and fixed keys are printf formats of draw/trace.c). */
#ifndef PFF_JSON_H
#define PFF_JSON_H

#include <stdio.h>

/* "s" with quotes, backslashes and control characters escaped. */
void pff_json_str(FILE *f, const char *s);
/* v in printf format fmt ("%.4f", "%g"); null when v is NaN or infinite (JSON has neither). */
void pff_json_num(FILE *f, const char *fmt, double v);
/* [v0,v1,...] */
void pff_json_ints(FILE *f, const int *v, int n);
/* Opens the next member of an object: a comma unless it is the first (*count 0), then "key":.
 * *count counts the members written. */
void pff_json_key(FILE *f, int *count, const char *key);

#endif
