/* data/model_file.h — what the model file (data/model_file.c) shares with the
 * checkpoint file (data/checkpoint.c): how both begin. pff_model_save and
 * pff_model_load themselves are public (pff.h). */
#ifndef PFF_MODEL_FILE_H
#define PFF_MODEL_FILE_H

#include <stdint.h>

#include "../pff.h"
#include "bytes.h"

/* Magic, version, widths and the maths settings: how model and checkpoint files begin. */
void pff_put_header(pff_bytes *b, const char *magic, uint32_t version, const pff_model_config *c);
/* Does a configuration need the version-3 fields (augment, hard_temp)? Both
 * formats write them exactly when it does: one state, one byte string. */
int pff_header_needs_ext(const pff_model_config *c);
/* Does it need the version-4 fields (dropout, weight_decay: either above 0)?
 * Version 4 carries the version-3 fields as well. */
int pff_header_needs_reg(const pff_model_config *c);
/* The version-4 fields of c as read from the file path: in range, and one of
 * them in use; PFF_EUSAGE with a message naming the file and the field. */
int pff_header_check_reg(const pff_model_config *c, const char *path, char *err);
/* The version a configuration needs, in both formats: 5 with goodness_from
 * (carrying the version-3 and -4 fields), else 4, 3 or 2 as above. */
uint32_t pff_header_version(const pff_model_config *c);
/* The version-5 field of c as read from path: a layer of the network that
 * is not the paper's rule; PFF_EUSAGE with a message naming the file. */
int pff_header_check_cls(const pff_model_config *c, const char *path, char *err);

#endif
