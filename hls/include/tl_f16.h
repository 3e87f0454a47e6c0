/*
 * binary16 and bfloat16 conversions (docs/numerics.md §2.3).
 *
 * q, k and v are stored in binary16: round to nearest even on the binary16 grid, a magnitude above
 * 65504 (or an infinity) saturates to ±65504, and a rounded magnitude below 2^-14 (a binary16
 * subnormal) becomes ±0. binary16 -> binary32 and bfloat16 -> binary32 are exact; subnormal
 * inputs read as ±0. All conversions are integer operations on the bits.
 */
#ifndef TL_F16_H
#define TL_F16_H

#include "tl_f32.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TL_F16_MAX_BITS 0x7bffu /* 65504 */
#define TL_F16_QNAN_BITS 0x7e00u

/** binary32 -> binary16 bits: round to nearest even, saturating, subnormal results flushed. */
static inline uint16_t tl_f32_to_f16(float x) {
  uint32_t u = tl_f32_bits(x);
  uint32_t sign = (u >> 16) & 0x8000u;
  int biased = (int)((u >> 23) & 0xff);
  uint32_t man = u & TL_F32_MAN_BITS;
  if (biased == 0xff) return (uint16_t)(sign | (man ? TL_F16_QNAN_BITS : TL_F16_MAX_BITS));
  int e = biased - 127;
  if (e < -15) return (uint16_t)sign; /* below 2^-15: can only round to a subnormal */
  if (e > 15) return (uint16_t)(sign | TL_F16_MAX_BITS);
  if (e < -14) {
    /* [2^-15, 2^-14): on the subnormal grid (spacing 2^-24) it rounds either up to 2^-14, a
     * normal number, or to a subnormal, which is flushed. value = full * 2^(e-23). */
    uint32_t q = tl_shift_rne(man | TL_F32_MIN_NORMAL_BITS, (unsigned)(-14 - e + 13));
    return (uint16_t)(q >= 0x400u ? (sign | 0x0400u) : sign);
  }
  /* Normal range: keep 10 mantissa bits; the carry of the rounding may bump the exponent. */
  uint32_t h = ((uint32_t)(e + 15) << 10) | (man >> 13);
  uint32_t rest = man & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h += 1;
  if ((h & 0x7fffu) > TL_F16_MAX_BITS) return (uint16_t)(sign | TL_F16_MAX_BITS);
  return (uint16_t)(sign | h);
}

/** binary16 bits -> binary32 (exact). Subnormals read as ±0; infinities and NaN are kept. */
static inline float tl_f16_to_f32(uint16_t h) {
  uint32_t sign = ((uint32_t)h & 0x8000u) << 16;
  uint32_t e = ((uint32_t)h >> 10) & 0x1fu;
  uint32_t m = (uint32_t)h & 0x3ffu;
  if (e == 0) return tl_bits_f32(sign);
  if (e == 0x1f) return tl_bits_f32(sign | TL_F32_EXP_BITS | (m << 13));
  return tl_bits_f32(sign | ((e - 15 + 127) << 23) | (m << 13));
}

/** Round a binary32 value to binary16 and back: the value the KV cache holds. */
static inline float tl_round_f16(float x) { return tl_f16_to_f32(tl_f32_to_f16(x)); }

/** bfloat16 bits -> binary32 (exact: the top half of a binary32). A subnormal reads as ±0. */
static inline float tl_bf16_to_f32(uint16_t b) {
  uint32_t u = (uint32_t)b << 16;
  return tl_ftz(tl_bits_f32(u));
}

#ifdef __cplusplus
}
#endif

#endif /* TL_F16_H */
