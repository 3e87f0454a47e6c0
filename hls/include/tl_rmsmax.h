/*
 * RMS-MAX (docs/numerics.md §5): RMSNorm fused with the absmax its consumer's quantiser needs.
 * The input is first scaled by an exact power of two 2^-E (E = max(0, exponent of max|x|)), so
 * |z_i| < 1 and the sum of squares is at most n whatever the input's range:
 *   z_i = ldexp(x_i, -E);  ss = 16-lane Σ f32(z_i²);  ms = f32(ss * invN)
 *   r = rsqrt(f32(ms + ldexp(eps, -2E)));  y_i = f32(f32(z_i * r) * w_i);  amax = max |y_i|
 * The step functions are what a streaming kernel uses; tl_rmsmax() is the whole vector at once
 * (firmware, drivers).
 */
#ifndef TL_RMSMAX_H
#define TL_RMSMAX_H

#include "tl_f32.h"
#include "tl_functions.h"
#include "tl_reduce.h"

#ifdef __cplusplus
extern "C" {
#endif

/** invN = f32(1 / n): a per-shape constant (n < 2^24, so (float)n is exact). */
static inline float tl_inv_length(uint32_t n) { return tl_div(1.0f, (float)n); }

/** E = max(0, frexp exponent of max|x|); 0 when x is all zeros. */
static inline int tl_rmsmax_exponent(float amax_in) {
  int e = tl_frexp_exponent(amax_in);
  return e > 0 ? e : 0;
}

/** r = rsqrt(f32(f32(ss * invN) + ldexp(eps, -2E))). */
static inline float tl_rmsmax_factor(float ss, float inv_n, float eps, int e) {
  float ms = tl_mul(ss, inv_n);
  return tl_rsqrt(tl_add(ms, tl_ldexp(eps, -2 * e)));
}

/** y_i = f32(f32(z_i * r) * w_i). */
static inline float tl_rmsmax_output(float z, float r, float w) { return tl_mul(tl_mul(z, r), w); }

/** y = RMSNorm(x) * w for n elements; returns amax = max |y_i|. x and y may alias. */
static inline float tl_rmsmax(const float *x, const float *w, uint32_t n, float eps, float *y) {
  int e = tl_rmsmax_exponent(tl_absmax(x, n));
  tl_lanes16 l;
  tl_lanes16_init(&l);
  for (uint32_t i = 0; i < n; i++) {
    float z = tl_ldexp(x[i], -e);
    tl_lanes16_add(&l, i, tl_mul(z, z));
  }
  float r = tl_rmsmax_factor(tl_lanes16_combine(&l), tl_inv_length(n), eps, e);
  float amax = 0.0f;
  for (uint32_t i = 0; i < n; i++) {
    float v = tl_rmsmax_output(tl_ldexp(x[i], -e), r, w[i]);
    y[i] = v;
    float a = tl_abs(v);
    if (a > amax) amax = a;
  }
  return amax;
}

#ifdef __cplusplus
}
#endif

#endif /* TL_RMSMAX_H */
