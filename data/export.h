/* data/export.h — a trained model in the file formats of the Python world
 * (`pff export MODEL OUT`, data/export.c):
 *
 *   OUT.npz          a NumPy archive (numpy.load): an uncompressed ZIP of .npy
 *                    arrays layer1.weight (w1, w0), layer1.bias (w1), ...,
 *                    head.weight (10, D) and head.bias (10) when the model has
 *                    a softmax head, and `config`, a 0-d unicode array holding
 *                    the configuration as JSON.
 *   OUT.safetensors  the same tensors (dtype F32, row-major, little-endian),
 *                    the configuration as strings in __metadata__.
 *
 * Both are built in memory and written atomically (pff_write_atomic); the
 * bytes depend only on the model, so exporting twice gives identical files.
 * Shapes are pff.h's: a layer's weight is (out, in), row-major. */
#ifndef PFF_EXPORT_H
#define PFF_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "../pff.h"

enum { PFF_EXPORT_NPZ = 1, PFF_EXPORT_SAFETENSORS = 2 };

/* The configuration as one JSON object (NUL-terminated, malloc'ed; NULL when
 * out of memory): what a reader needs to run the network. */
char *pff_export_config_json(const pff_model *m);

/* Writes the formats in `which` (PFF_EXPORT_* bits) to the given paths
 * (a path for a format not asked for may be NULL). When the second file fails
 * the first is removed again, so the call leaves both or neither.
 * Returns 0, PFF_EUSAGE (a path that cannot be written, a model too large for
 * a ZIP without ZIP64) or PFF_EFAIL, with a message naming the file. */
int pff_export(const pff_model *m, int which, const char *npz_path, const char *st_path,
               char *err);

/* CRC-32 (ISO-HDLC, as ZIP and PNG use) of n bytes, continuing from crc (0 to start). */
uint32_t pff_crc32(uint32_t crc, const void *data, size_t n);

#endif
