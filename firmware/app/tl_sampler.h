/*
 * Token selection, docs/numerics.md §10, bit for bit as the golden model's runtime
 * (host/src/runtime/sampling.ts): greedy (ties to the lower id), or temperature with top-k and
 * top-p over the candidates ordered by (logit descending, id ascending), drawing from a
 * xoshiro128** seeded through murmur3's finaliser. Sampling parameters arrive as binary64 and are
 * rounded exactly where the runtime rounds them: f32(1/T) and f32(top_p × total).
 */
#ifndef TL_SAMPLER_H
#define TL_SAMPLER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  uint32_t s[4];
} tl_xoshiro128;

/** Seed as the runtime does: state word i = fmix32(seed + (i+1)·0x9E3779B9 mod 2^32). */
void tl_xoshiro128_seed(tl_xoshiro128 *r, uint32_t seed);
uint32_t tl_xoshiro128_next(tl_xoshiro128 *r);
/** The top 24 bits of the next output times 2^-24 (exact in binary32). */
float tl_xoshiro128_uniform(tl_xoshiro128 *r);

typedef struct {
  double temperature; /* 0 = greedy */
  uint32_t top_k;     /* 0 = off */
  double top_p;       /* (0, 1]; 1 = off */
} tl_sampling;

/** Whether the parameters are in range (temperature finite >= 0, top_p in (0, 1]); why not in *why. */
int tl_sampling_valid(const tl_sampling *s, const char **why);

/** Index of the largest logit; ties go to the lowest index. */
uint32_t tl_argmax(const float *logits, uint32_t n);

/**
 * Select a token from n logits. order (n entries) and e (n entries) are scratch the caller owns
 * (no allocation). One PRNG draw when sampling, none when greedy.
 */
uint32_t tl_sample(const float *logits, uint32_t n, const tl_sampling *s, tl_xoshiro128 *rng, uint32_t *order, float *e);

#ifdef __cplusplus
}
#endif

#endif /* TL_SAMPLER_H */
