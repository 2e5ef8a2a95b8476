/* data/model_file.h — what the model file (data/model_file.c) shares with the
 * checkpoint file (data/checkpoint.c): how both begin, and how both store the settings of the
 * table (layers/settings.h), in its order. pff_model_save and pff_model_load themselves are
 * public (pff.h). */
#ifndef PFF_MODEL_FILE_H
#define PFF_MODEL_FILE_H

#include <stdint.h>

#include "../pff.h"
#include "../layers/settings.h"
#include "bytes.h"

/* Magic, version, widths and the version-2 settings of the model: how both files begin. */
void pff_put_header(pff_bytes *b, const char *magic, uint32_t version, const pff_model_config *c);

/* The rows stored as `which` (MODEL: in m, RUN: in r) that versions vmin..vmax introduced, in the
 * table's order: u32 for integers, kinds and flags, f32 for reals, u64 for the seed. */
size_t pff_settings_bytes(pff_setting_store which, unsigned vmin, unsigned vmax);
void pff_put_settings(pff_bytes *b, const pff_model_config *m, const pff_run_config *r,
                      pff_setting_store which, unsigned vmin, unsigned vmax);
/* Reads them back from q (pff_settings_bytes of them there); returns the position after them. */
const unsigned char *pff_get_settings(const unsigned char *q, pff_model_config *m,
                                      pff_run_config *r, pff_setting_store which, unsigned vmin,
                                      unsigned vmax);

/* Settings read from a file (`what`: "model" or "checkpoint") at `version`: every one in its
 * range, and, unless the version carries fields whatever they hold (exact 0), the version the
 * settings need is the file's own (one model, one byte string). PFF_EUSAGE with a message naming
 * the file, the setting, its value and what was expected. */
int pff_settings_check_file(const pff_model_config *m, const pff_run_config *r, unsigned version,
                            int exact, const char *what, const char *path, char *err);

#endif
