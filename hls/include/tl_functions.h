/*
 * The nonlinear functions of docs/numerics.md §3 and the RoPE rotation of §7.1, built only from
 * the flushed binary32 operations of tl_f32.h. No library exp: its last bit differs between libm,
 * JavaScript engines and Vitis. The constants are part of the contract (given by their bits).
 */
#ifndef TL_FUNCTIONS_H
#define TL_FUNCTIONS_H

#include "tl_f32.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TL_EXP_LOG2E_BITS 0x3fb8aa3bu  /* 1.44269502162933349609375 */
#define TL_EXP_LN2_HI_BITS 0x3f317200u /* 0.693145751953125: 15 significant bits, n * LN2_HI is exact */
#define TL_EXP_LN2_LO_BITS 0x35bfbe8eu /* binary32 of ln 2 - LN2_HI */
/** exp(x) = +inf for x > 88. */
#define TL_EXP_MAX_INPUT 88.0f

/** Taylor coefficients 1/k!, k = 0..7, as binary32 bits (Horner from the top). */
static inline float tl_exp_coeff(int k) {
  switch (k) {
    case 0: return 1.0f;
    case 1: return 1.0f;
    case 2: return 0.5f;
    case 3: return tl_bits_f32(0x3e2aaaabu);
    case 4: return tl_bits_f32(0x3d2aaaabu);
    case 5: return tl_bits_f32(0x3c088889u);
    case 6: return tl_bits_f32(0x3ab60b61u);
    default: return tl_bits_f32(0x39500d01u);
  }
}

/**
 * e^x (numerics.md §3.1): n = round_even(f32(x * LOG2E)); r = f32(f32(x - f32(n*LN2_HI)) - f32(n*LN2_LO));
 * p = degree-7 Horner polynomial in r; result = ldexp(p, n). exp(0) = 1, exp(-inf) = 0, NaN -> NaN,
 * x > 88 -> +inf, n < -126 -> +0.
 */
static inline float tl_exp(float x) {
  if (x != x) return x;
  if (x > TL_EXP_MAX_INPUT) return tl_bits_f32(TL_F32_EXP_BITS);
  int32_t n = tl_round_even(tl_mul(x, tl_bits_f32(TL_EXP_LOG2E_BITS)));
  if (n < -126) return 0.0f;
  float nf = (float)n; /* |n| <= 127: exact */
  float r = tl_sub(x, tl_mul(nf, tl_bits_f32(TL_EXP_LN2_HI_BITS)));
  r = tl_sub(r, tl_mul(nf, tl_bits_f32(TL_EXP_LN2_LO_BITS)));
  float p = tl_exp_coeff(7);
  for (int k = 6; k >= 0; k--) p = tl_add(tl_mul(p, r), tl_exp_coeff(k));
  return tl_ldexp(p, n);
}

/** 1/sqrt(x) = f32(1 / f32(sqrt(x))): two correctly rounded operations (numerics.md §3.2). */
static inline float tl_rsqrt(float x) { return tl_div(1.0f, tl_sqrt(x)); }

/** sigmoid(x) = f32(1 / f32(1 + exp(-x))). */
static inline float tl_sigmoid(float x) { return tl_div(1.0f, tl_add(1.0f, tl_exp(-x))); }

/** SiLU(x) = f32(x * sigmoid(x)); -0 for x < -88 (1/inf = 0), never NaN. */
static inline float tl_silu(float x) { return tl_mul(x, tl_sigmoid(x)); }

/** Gate activation of the SiLU family: f32(silu(g) * u). */
static inline float tl_silu_gate(float gate, float up) { return tl_mul(tl_silu(gate), up); }

/** Gate activation of the ReLU² family: r = max(g, 0); f32(f32(r * r) * u). */
static inline float tl_relu2_gate(float gate, float up) {
  float r = gate > 0.0f ? gate : 0.0f;
  return tl_mul(tl_mul(r, r), up);
}

/**
 * RoPE rotation of one consecutive pair (a, b) with table values (c, s) (numerics.md §7.1):
 *   a' = f32(f32(a*c) - f32(b*s)),  b' = f32(f32(b*c) + f32(a*s)).
 */
static inline void tl_rope_pair(float a, float b, float c, float s, float *a_out, float *b_out) {
  *a_out = tl_sub(tl_mul(a, c), tl_mul(b, s));
  *b_out = tl_add(tl_mul(b, c), tl_mul(a, s));
}

#ifdef __cplusplus
}
#endif

#endif /* TL_FUNCTIONS_H */
