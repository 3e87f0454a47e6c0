/*
 * The 16-lane reduction order of docs/numerics.md §2.4: element i goes to lane i mod 16, each lane
 * accumulates in increasing i from +0, and the 16 lane sums are combined by a balanced tree of
 * adjacent pairs, ((((L0+L1)+(L2+L3))+((L4+L5)+(L6+L7)))+(((L8+L9)+(L10+L11))+((L12+L13)+(L14+L15)))).
 * It is what a pipelined adder with 16 interleaved partial sums computes.
 */
#ifndef TL_REDUCE_H
#define TL_REDUCE_H

#include "tl_f32.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TL_REDUCTION_LANES 16

typedef struct {
  float lane[TL_REDUCTION_LANES];
} tl_lanes16;

static inline void tl_lanes16_init(tl_lanes16 *l) {
  for (int i = 0; i < TL_REDUCTION_LANES; i++) l->lane[i] = 0.0f;
}

/** Add the (already rounded) term of element i to its lane. */
static inline void tl_lanes16_add(tl_lanes16 *l, unsigned i, float term) {
  unsigned k = i & (TL_REDUCTION_LANES - 1);
  l->lane[k] = tl_add(l->lane[k], term);
}

/** Combine the lanes level by level, adjacent pairs: 16 -> 8 -> 4 -> 2 -> 1. */
static inline float tl_lanes16_combine(const tl_lanes16 *l) {
  float t[TL_REDUCTION_LANES];
  for (int i = 0; i < TL_REDUCTION_LANES; i++) t[i] = l->lane[i];
  for (int width = TL_REDUCTION_LANES; width > 1; width >>= 1) {
    for (int i = 0; i < width / 2; i++) t[i] = tl_add(t[2 * i], t[2 * i + 1]);
  }
  return t[0];
}

/** Σ f32(a_i * b_i) in the 16-lane order. */
static inline float tl_dot16(const float *a, const float *b, unsigned n) {
  tl_lanes16 l;
  tl_lanes16_init(&l);
  for (unsigned i = 0; i < n; i++) tl_lanes16_add(&l, i, tl_mul(a[i], b[i]));
  return tl_lanes16_combine(&l);
}

/** Σ f32(x_i * x_i) in the 16-lane order. */
static inline float tl_sum_squares16(const float *x, unsigned n) {
  tl_lanes16 l;
  tl_lanes16_init(&l);
  for (unsigned i = 0; i < n; i++) tl_lanes16_add(&l, i, tl_mul(x[i], x[i]));
  return tl_lanes16_combine(&l);
}

/** max_i |x_i| (exact; order-free). */
static inline float tl_absmax(const float *x, unsigned n) {
  float m = 0.0f;
  for (unsigned i = 0; i < n; i++) {
    float a = tl_abs(x[i]);
    if (a > m) m = a;
  }
  return m;
}

#ifdef __cplusplus
}
#endif

#endif /* TL_REDUCE_H */
