/* layers/settings.h — the one table of settings (layers/settings.c): every setting of a run that a
 * user can name, described once. For each: its name in files, JSON and messages, its flag, its
 * type and range, its default, its help line, where it is stored (model file and checkpoint, the
 * checkpoint only, or nowhere) and the file version that first stored it.
 *
 * Everything that handles a setting loops over this table instead of naming it: the options of
 * `pff train` and their parsing (cli/), the range checks of the library (pff_config_check), of
 * the model file and of the checkpoint (data/), the file fields themselves (data/model_file.c
 * writes and reads them in table order), the header line and the --json of `pff train`, `pff info`
 * and the export's config block. A new setting is a new row here (and its field in pff.h); the
 * maths that uses it is the only other place that names it.
 *
 * The network's shape (--layers: nlayers and widths) is not a row: it is a list, not a value,
 * and every file stores it first. */
#ifndef PFF_SETTINGS_H
#define PFF_SETTINGS_H

#include <stddef.h>

#include "../pff.h"

typedef enum {
    PFF_SET_INT,   /* int in [lo, hi] */
    PFF_SET_REAL,  /* finite float in the range lo..hi (open ends: `open`) */
    PFF_SET_SEED,  /* uint64_t, any value */
    PFF_SET_KIND,  /* an enum: one of names[0 .. nnames) */
    PFF_SET_FLAG,  /* int 0 or 1: an option without a value */
    PFF_SET_LAYER  /* int: 0 for the paper's rule, or a layer 1..L other than the rule's */
} pff_setting_type;

typedef enum {
    PFF_STORED_MODEL, /* in pff_model_config: model files and checkpoints */
    PFF_STORED_RUN,   /* in pff_run_config, stored by checkpoints only */
    PFF_STORED_NONE   /* in pff_run_config, never stored (how this process runs) */
} pff_setting_store;

enum { PFF_OPEN_LO = 1, PFF_OPEN_HI = 2 }; /* pff_setting.open: the bound itself is outside */

typedef struct {
    const char *name;         /* key in JSON, files' messages and the export: "weight_decay" */
    const char *flag;         /* `pff train --FLAG`: "weight-decay" */
    const char *metavar;      /* the value in the usage text ("" for a flag) */
    const char *help;         /* what it does, one line without the default */
    const char *def_text;     /* the default in words, when not the value itself (or NULL) */
    pff_setting_type type;
    pff_setting_store stored;
    size_t offset;            /* of the field in pff_model_config (MODEL) or pff_run_config */
    double lo, hi;            /* INT and REAL: the range */
    unsigned open;            /* REAL: PFF_OPEN_LO, PFF_OPEN_HI */
    double def;               /* the default (a KIND's enum value) */
    const char *const *names; /* KIND: the names, in the enum's order */
    int nnames;
    unsigned version;         /* the model and checkpoint version that first stored it */
    const unsigned char *kind_version; /* KIND: the version that first stored each value, or
                                          NULL (all of them `version`) */
} pff_setting;

extern const pff_setting pff_settings[];
extern const int pff_nsettings;

/* The row of a name ("weight_decay") or flag ("weight-decay"); NULL when there is none. */
const pff_setting *pff_setting_find(const char *name_or_flag);

/* The field of s in m (MODEL) or r (the others); NULL when that part is NULL. */
void *pff_setting_field(const pff_setting *s, pff_model_config *m, pff_run_config *r);
const void *pff_setting_cfield(const pff_setting *s, const pff_model_config *m,
                               const pff_run_config *r);
/* The value of an INT, REAL, KIND, FLAG or LAYER field as a number (a SEED: its low 53 bits). */
double pff_setting_get(const pff_setting *s, const pff_model_config *m, const pff_run_config *r);
void pff_setting_set(const pff_setting *s, pff_model_config *m, pff_run_config *r, double v);

/* The defaults of every row into the parts given (NULL: skipped); the network [784,500,500,500]. */
void pff_settings_default(pff_model_config *m, pff_run_config *r);

/* Is the value of s in its range (a LAYER: for a network of m->nlayers layers)? */
int pff_setting_ok(const pff_setting *s, const pff_model_config *m, const pff_run_config *r);
/* The first row of the parts given whose value is out of range, or NULL. */
const pff_setting *pff_settings_bad(const pff_model_config *m, const pff_run_config *r);
/* What s accepts, in words: "1..4096", "a positive number", "one of adaptive, fixed, ...". */
void pff_setting_expected(const pff_setting *s, int nlayers, char *buf, size_t n);
/* The value as a user writes it: "0.1", "adaptive", "12" (an unknown kind: its number; a LAYER:
 * the first layer the goodness classifier sums, 2 for the paper's rule). */
void pff_setting_text(const pff_setting *s, const pff_model_config *m, const pff_run_config *r,
                      char *buf, size_t n);
/* The value as JSON: numbers (%g, or %.9g when exact), kinds as strings, flags as true/false,
 * a LAYER as its text. */
void pff_setting_json(const pff_setting *s, const pff_model_config *m, const pff_run_config *r,
                      int exact, char *buf, size_t n);
/* Does the model use s, i.e. must a file of its version store it? (a value other than the
 * default, or a kind's value that a later version introduced.) */
int pff_setting_used(const pff_setting *s, const pff_model_config *m);

/* The model file version a model needs: the highest version among the settings it uses, at
 * least 2. Files are written at exactly this version (one model, one byte string). */
unsigned pff_settings_version(const pff_model_config *m);

#endif
