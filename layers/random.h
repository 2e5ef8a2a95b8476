/* layers/random.h — counter-based random numbers: every draw of pff is a pure function of
 * (seed, purpose, a, b, i), a splitmix64 finaliser over the folded key, so that no draw depends on
 * threads, batches, schedules or the order of draws. Header-only (static inline) so that the hot
 * loops that draw many i under one key (the dropout mask) pay one mix per draw, and so that
 * matmul.c's kernel check and ff.c draw from the same place without importing each other. */
#ifndef PFF_RANDOM_H
#define PFF_RANDOM_H

#include <stdint.h>

static inline uint64_t pff_mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* pff_hash in two parts, so that a caller drawing many i under one key pays one mix per draw:
 * pff_hash(s, p, a, b, i) == pff_hash_tail(pff_hash_head(s, p, a, b), i). */
static inline uint64_t pff_hash_head(uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b)
{
    uint64_t h = pff_mix(seed);
    h = pff_mix(h ^ purpose);
    h = pff_mix(h ^ a);
    return pff_mix(h ^ b);
}

static inline uint64_t pff_hash_tail(uint64_t head, uint64_t i) { return pff_mix(head ^ i); }

static inline uint64_t pff_hash(uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b, uint64_t i)
{
    return pff_hash_tail(pff_hash_head(seed, purpose, a, b), i);
}

/* [0,1) from a hash: its top 24 bits. */
static inline float pff_uniform(uint64_t h) { return (float)(h >> 40) * (1.0f / 16777216.0f); }

#endif
