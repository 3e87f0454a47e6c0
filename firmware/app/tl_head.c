/* The int8 LM head (tl_head.h). */
#include "tl_head.h"

#include "tl_quant.h"  // hls/include: the quantiser and the head's dequantisation factor.

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#define TL_HEAD_NEON 1
#else
#define TL_HEAD_NEON 0
#endif

void tl_head_quantize(const float *x, uint32_t n, float amax, int8_t *q) {
  float s = tl_quant_multiplier(amax);
  for (uint32_t i = 0; i < n; i++) q[i] = tl_quantize(x[i], s);
}

int32_t tl_head_dot_portable(const int8_t *a, const int8_t *b, uint32_t n) {
  int32_t sum = 0;
  for (uint32_t i = 0; i < n; i++) sum += (int32_t)a[i] * (int32_t)b[i];
  return sum;
}

int32_t tl_head_dot(const int8_t *a, const int8_t *b, uint32_t n) {
#if TL_HEAD_NEON
  /* 16 products per step: int8 x int8 -> int16 (|p| <= 16129), pairwise into int32 lanes. */
  int32x4_t acc = vdupq_n_s32(0);
  uint32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    int8x16_t va = vld1q_s8(a + i), vb = vld1q_s8(b + i);
    int16x8_t lo = vmull_s8(vget_low_s8(va), vget_low_s8(vb));
    int16x8_t hi = vmull_s8(vget_high_s8(va), vget_high_s8(vb));
    acc = vpadalq_s16(acc, lo);
    acc = vpadalq_s16(acc, hi);
  }
  int32_t sum = vaddvq_s32(acc);
  for (; i < n; i++) sum += (int32_t)a[i] * (int32_t)b[i];
  return sum;
#else
  return tl_head_dot_portable(a, b, n);
#endif
}

void tl_head_logits(const int8_t *rows, size_t stride, const float *row_amax, uint32_t count, const int8_t *qx, uint32_t hidden,
                    float amax, float *logits) {
  for (uint32_t r = 0; r < count; r++) {
    int32_t acc = tl_head_dot(rows + (size_t)r * stride, qx, hidden);
    /* f32(acc) rounds to nearest even when |acc| > 2^24 (numerics §9). */
    logits[r] = tl_mul(tl_i32_to_f32(acc), tl_head_dequant_factor(amax, row_amax[r]));
  }
}

const char *tl_head_kernel(void) { return TL_HEAD_NEON ? "neon" : "portable"; }
