/*
 * binary32 arithmetic as the accelerator performs it (docs/numerics.md §2.1, §2.2).
 *
 * Every operation is IEEE 754 binary32 with round-to-nearest-even, and its result is then flushed:
 * a magnitude below 2^-126 becomes a zero of the same sign. The flush is done by looking at the
 * result's exponent field, never by a processor's FTZ/DAZ mode (whose tininess detection differs
 * between platforms). Build with -ffp-contract=off and without -ffast-math: a fused multiply-add
 * or a reassociated sum changes the bits.
 *
 * C11 and C++ (header-only, static inline): shared by the HLS kernels, the C-simulation drivers
 * and the firmware. Names carry the firmware's module prefix `tl_`.
 */
#ifndef TL_F32_H
#define TL_F32_H

#include <float.h>
#include <math.h>
#include <stdint.h>

#if defined(__FAST_MATH__)
#error "tl_f32.h: -ffast-math changes floating-point results; build without it (docs/numerics.md §2.1)"
#endif
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD > 0
#error "tl_f32.h: float expressions are evaluated in extended precision (FLT_EVAL_METHOD > 0); use SSE or another IEEE binary32 unit"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Bits of 2^-126, the smallest positive normal binary32 number (FLT_MIN). */
#define TL_F32_MIN_NORMAL_BITS 0x00800000u
#define TL_F32_SIGN_BITS 0x80000000u
#define TL_F32_EXP_BITS 0x7f800000u
#define TL_F32_MAN_BITS 0x007fffffu

/* Union type punning is defined in C and accepted by g++, clang and Vitis HLS for C++. */
typedef union {
  float f;
  uint32_t u;
} tl_f32_pun;

static inline uint32_t tl_f32_bits(float x) {
  tl_f32_pun p;
  p.f = x;
  return p.u;
}

static inline float tl_bits_f32(uint32_t u) {
  tl_f32_pun p;
  p.u = u;
  return p.f;
}

/** Flush a subnormal to a zero of the same sign; every other value is returned unchanged. */
static inline float tl_ftz(float x) {
  uint32_t u = tl_f32_bits(x);
  if ((u & TL_F32_EXP_BITS) == 0) return tl_bits_f32(u & TL_F32_SIGN_BITS);
  return x;
}

static inline float tl_add(float a, float b) { return tl_ftz(a + b); }
static inline float tl_sub(float a, float b) { return tl_ftz(a - b); }
static inline float tl_mul(float a, float b) { return tl_ftz(a * b); }
static inline float tl_div(float a, float b) { return tl_ftz(a / b); }
/* sqrt is correctly rounded by IEEE 754 (sqrtss here, the fsqrt core in HLS); it is not one of the
 * library approximations numerics.md forbids. */
static inline float tl_sqrt(float a) { return tl_ftz(sqrtf(a)); }

/** |x|, exact (clears the sign bit; NaN stays NaN). */
static inline float tl_abs(float x) { return tl_bits_f32(tl_f32_bits(x) & ~TL_F32_SIGN_BITS); }

/**
 * Round a right shift of a non-negative integer to nearest, ties to even: v / 2^shift.
 * shift may be 0..63.
 */
static inline uint32_t tl_shift_rne(uint32_t v, unsigned shift) {
  if (shift == 0) return v;
  if (shift > 32) return 0; /* v < 2^32 <= 2^(shift-1): below one half */
  uint64_t w = v;
  uint64_t q = w >> shift;
  uint64_t rem = w & ((UINT64_C(1) << shift) - 1);
  uint64_t half = UINT64_C(1) << (shift - 1);
  if (rem > half || (rem == half && (q & 1))) q++;
  return (uint32_t)q;
}

/**
 * ldexp(x, e): x * 2^e rounded once to binary32 and flushed (numerics.md §2.1). Exact unless the
 * result leaves the normal range: above it the result is ±inf, below it the value is rounded on
 * the subnormal grid, which gives either 2^-126 (kept: it is normal) or a subnormal (flushed to ±0).
 * Zeros, infinities and NaN are returned unchanged; inputs are never subnormal (every producer flushes).
 */
static inline float tl_ldexp(float x, int e) {
  uint32_t u = tl_f32_bits(x);
  uint32_t sign = u & TL_F32_SIGN_BITS;
  int biased = (int)((u >> 23) & 0xff);
  if (biased == 0 || biased == 0xff) return tl_ftz(x);
  int ne = biased + e;
  if (ne >= 0xff) return tl_bits_f32(sign | TL_F32_EXP_BITS);
  if (ne >= 1) return tl_bits_f32(sign | ((uint32_t)ne << 23) | (u & TL_F32_MAN_BITS));
  /* Value = (2^23 + m) * 2^(ne - 150); in units of the subnormal spacing 2^-149 that is
   * (2^23 + m) * 2^(ne - 1), i.e. a right shift by 1 - ne >= 1. */
  uint32_t q = tl_shift_rne((u & TL_F32_MAN_BITS) | TL_F32_MIN_NORMAL_BITS, (unsigned)(1 - ne));
  if (q >= TL_F32_MIN_NORMAL_BITS) return tl_bits_f32(sign | TL_F32_MIN_NORMAL_BITS);
  return tl_bits_f32(sign);
}

/**
 * The exponent E with |x| * 2^-E in [0.5, 1): floor(log2|x|) + 1, read from the exponent field.
 * 0 for a zero (and for a subnormal, which cannot occur after the flush).
 */
static inline int tl_frexp_exponent(float x) {
  int biased = (int)((tl_f32_bits(x) >> 23) & 0xff);
  if (biased == 0) return 0;
  return biased - 126;
}

/**
 * Round a binary32 value to the nearest integer, ties to even (numerics.md §2.2; C nearbyint in
 * the default rounding mode), as an int32. Magnitudes of 2^31 and above saturate; NaN gives 0.
 * Done on the bits so that it synthesises to shifts and an incrementer, not to a float core.
 */
static inline int32_t tl_round_even(float x) {
  uint32_t u = tl_f32_bits(x);
  int neg = (u & TL_F32_SIGN_BITS) != 0;
  int biased = (int)((u >> 23) & 0xff);
  uint32_t mag;
  if (biased == 0xff && (u & TL_F32_MAN_BITS)) return 0;
  if (biased < 126) return 0; /* |x| < 0.5 */
  int e = biased - 127;       /* |x| in [2^e, 2^(e+1)) */
  if (e >= 31) return neg ? INT32_MIN : INT32_MAX;
  uint32_t full = (u & TL_F32_MAN_BITS) | TL_F32_MIN_NORMAL_BITS; /* |x| = full * 2^(e-23) */
  if (e >= 23) mag = full << (e - 23);
  else mag = tl_shift_rne(full, (unsigned)(23 - e));
  if (mag > (uint32_t)INT32_MAX) return neg ? INT32_MIN : INT32_MAX;
  return neg ? -(int32_t)mag : (int32_t)mag;
}

/** int32 -> binary32, round to nearest even (exact for |n| < 2^24; numerics.md §2.1, §9). */
static inline float tl_i32_to_f32(int32_t n) { return (float)n; }

#ifdef __cplusplus
}
#endif

#endif /* TL_F32_H */
