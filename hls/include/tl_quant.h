/*
 * Per-token absmax int8 quantisation and the BitLinear / LM-head dequantisation factors
 * (docs/numerics.md §4.1, §4.3, §9).
 */
#ifndef TL_QUANT_H
#define TL_QUANT_H

#include "tl_f32.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The absmax floor: binary32 of 1e-5. */
#define TL_ABSMAX_FLOOR_BITS 0x3727c5acu
/** Symmetric int8 range: the quantiser never produces -128. */
#define TL_INT8_MAX 127

/** amax_c = max(amax, FLOOR). */
static inline float tl_clamp_absmax(float amax) {
  float floor_v = tl_bits_f32(TL_ABSMAX_FLOOR_BITS);
  return amax > floor_v ? amax : floor_v;
}

/** s = f32(127 / amax_c): the quantisation multiplier of one token. */
static inline float tl_quant_multiplier(float amax) { return tl_div((float)TL_INT8_MAX, tl_clamp_absmax(amax)); }

/** q = clamp(round_even(f32(x * s)), -127, 127). */
static inline int8_t tl_quantize(float x, float s) {
  int32_t q = tl_round_even(tl_mul(x, s));
  if (q > TL_INT8_MAX) q = TL_INT8_MAX;
  if (q < -TL_INT8_MAX) q = -TL_INT8_MAX;
  return (int8_t)q;
}

/** BitLinear dequantisation factor: c = f32(f32(amax_c * w_s) / 127). */
static inline float tl_dequant_factor(float amax, float weight_scale) {
  return tl_div(tl_mul(tl_clamp_absmax(amax), weight_scale), (float)TL_INT8_MAX);
}

/** y = f32(f32(acc) * c); f32(acc) is exact for the TLMM's |acc| < 2^24. */
static inline float tl_dequantize(int32_t acc, float c) { return tl_mul(tl_i32_to_f32(acc), c); }

/** LM-head factor of row r: c_r = f32(f32(amax_c(x) * max(rowAmax_r, FLOOR)) / 16129). */
static inline float tl_head_dequant_factor(float amax_x, float row_amax) {
  return tl_div(tl_mul(tl_clamp_absmax(amax_x), tl_clamp_absmax(row_amax)), (float)(TL_INT8_MAX * TL_INT8_MAX));
}

#ifdef __cplusplus
}
#endif

#endif /* TL_QUANT_H */
