/* data/bytes.h — little-endian bytes for the file formats (model, checkpoint,
 * export) and the MPI transport's checkpoint parts: a growing output buffer,
 * readers of fixed-width fields, and the FNV-1a checksum the model and
 * checkpoint files end with. */
#ifndef PFF_BYTES_H
#define PFF_BYTES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned char *p;
    size_t n, cap;
    int ok; /* 0 once an allocation failed: later writes are dropped */
} pff_bytes;

static inline void pff_put(pff_bytes *b, const void *src, size_t n)
{
    if (!b->ok)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->n + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->ok = 0;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
static inline void pff_put32(pff_bytes *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    pff_put(b, c, 4);
}
static inline void pff_put64(pff_bytes *b, uint64_t v)
{
    pff_put32(b, (uint32_t)v);
    pff_put32(b, (uint32_t)(v >> 32));
}
static inline void pff_putf(pff_bytes *b, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    pff_put32(b, u);
}
static inline void pff_putd(pff_bytes *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    pff_put64(b, u);
}
static inline void pff_putfs(pff_bytes *b, const float *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pff_putf(b, f[i]);
}

static inline uint32_t pff_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t pff_get64(const unsigned char *p)
{
    return pff_get32(p) | (uint64_t)pff_get32(p + 4) << 32;
}
static inline float pff_getf(const unsigned char *p)
{
    uint32_t u = pff_get32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint64_t pff_fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

#endif
