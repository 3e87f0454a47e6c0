/*
 * The int8 LM head (docs/numerics.md §9): the final RMS-MAX output is quantised with the §4.1
 * quantiser, each row's exact integer dot product with it is scaled by
 * c_r = f32(f32(amax_c(x) × max(rowAmax_r, FLOOR)) ÷ 16129), logit_r = f32(f32(acc_r) × c_r).
 * The dot product is NEON on aarch64 and portable C elsewhere; both are exact integer sums, so
 * their order cannot change a bit. The firmware runs this when the build puts the head on the ARM
 * cores; the simulated accelerator runs the same code for the fabric head (one copy of the arithmetic).
 */
#ifndef TL_HEAD_H
#define TL_HEAD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** q[i] = the §4.1 quantisation of x[i] with the token's absmax amax, for i < n. */
void tl_head_quantize(const float *x, uint32_t n, float amax, int8_t *q);

/** Σ a[i]·b[i] for i < n, exact (|sum| ≤ 127²·n < 2^31 for n < 133,000). */
int32_t tl_head_dot(const int8_t *a, const int8_t *b, uint32_t n);

/** Portable form of tl_head_dot (the NEON one is checked against it). */
int32_t tl_head_dot_portable(const int8_t *a, const int8_t *b, uint32_t n);

/**
 * logits[r] for count rows of hidden int8 values each, row r at rows + r·stride, with their
 * binary32 absmax row_amax[r]; qx is the quantised final norm output and amax its absmax.
 */
void tl_head_logits(const int8_t *rows, size_t stride, const float *row_amax, uint32_t count, const int8_t *qx, uint32_t hidden,
                    float amax, float *logits);

/** Which dot product this build uses: "neon" or "portable". */
const char *tl_head_kernel(void);

#ifdef __cplusplus
}
#endif

#endif /* TL_HEAD_H */
