/*
 * Hot loops of the golden model, compiled to WebAssembly (SIMD128) for speed.
 *
 * These are exact integer kernels: they compute the same bits as the plain JavaScript kernels
 * in host/src/tlmm/kernel.js and the LM-head dot product in host/src/golden, and tests check
 * all three against a plain dot product. Nothing here is floating point, so there is no
 * numerics contract to keep beyond integer exactness (docs/numerics.md §6, §9).
 *
 * Build: make wasm (clang --target=wasm32 -msimd128, wasm-ld with a shared, imported memory).
 */
#include <stdint.h>
#include <wasm_simd128.h>

/* acc[accOff + r] = sum_g tables[g*27 + idx[r*groups + g]] for r in [r0, r1). */
void tlmm_lookup(const uint8_t *idx, int32_t groups, const int32_t *tables, int32_t *acc, int32_t r0, int32_t r1) {
  for (int32_t r = r0; r < r1; r++) {
    const uint8_t *p = idx + (int64_t)r * groups;
    const int32_t *t = tables;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int32_t g = 0;
    for (; g + 4 <= groups; g += 4) {
      s0 += t[p[g]];
      s1 += t[27 + p[g + 1]];
      s2 += t[54 + p[g + 2]];
      s3 += t[81 + p[g + 3]];
      t += 108;
    }
    for (; g < groups; g++) {
      s0 += t[p[g]];
      t += 27;
    }
    acc[r] = s0 + s1 + s2 + s3;
  }
}

/*
 * out[r] = sum_c w[r*stride + c] * x[c] for r in [r0, r1), int8 x int8 -> int32.
 * x16 is x sign-extended to int16; stride and the padded length n16 are multiples of 16, and
 * the padding of w and x16 is zero.
 */
void i8_dot_rows(const int8_t *w, int32_t stride, const int16_t *x16, int32_t n16, int32_t *out, int32_t r0, int32_t r1) {
  for (int32_t r = r0; r < r1; r++) {
    const int8_t *row = w + (int64_t)r * stride;
    v128_t acc = wasm_i32x4_splat(0);
    for (int32_t c = 0; c < n16; c += 16) {
      v128_t a = wasm_v128_load(row + c);
      v128_t lo = wasm_i16x8_extend_low_i8x16(a);
      v128_t hi = wasm_i16x8_extend_high_i8x16(a);
      acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(lo, wasm_v128_load(x16 + c)));
      acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(hi, wasm_v128_load(x16 + c + 8)));
    }
    out[r] = wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) + wasm_i32x4_extract_lane(acc, 2) +
             wasm_i32x4_extract_lane(acc, 3);
  }
}
