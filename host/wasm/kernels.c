/*
 * Hot loops of the golden model, compiled to WebAssembly (SIMD128).
 *
 * These are exact integer kernels: they compute the same bits as the plain JavaScript kernels in
 * host/src/tlmm (the reference) and a plain dot product, and tests check all three. Nothing here
 * is floating point, so there is no numerics contract to keep beyond integer exactness
 * (docs/numerics.md §6, §9).
 *
 * Build: make wasm (clang --target=wasm32 -msimd128, wasm-ld with a shared, imported memory).
 */
#include <stdint.h>
#include <wasm_simd128.h>

/*
 * TLMM tables for one token: for each group g of 3 int8 activations (a0, a1, a2), the 27 entries
 * table[idx] = t0*a0 + t1*a1 + t2*a2 (idx = 13 + 9 t0 + 3 t1 + t2), as int16 split into a low-byte
 * plane and a high-byte plane of 32 bytes each (entries 27..31 are zero):
 *   tables[g*64 + i] = low byte of entry i,  tables[g*64 + 32 + i] = high byte of entry i.
 * act holds 3*groups values (zero padded).
 */
void tlmm_build_tables(const int8_t *act, int32_t groups, uint8_t *tables) {
  for (int32_t g = 0; g < groups; g++) {
    int32_t a0 = act[3 * g], a1 = act[3 * g + 1], a2 = act[3 * g + 2];
    uint8_t *lo = tables + g * 64;
    uint8_t *hi = lo + 32;
    int32_t i = 0;
    for (int32_t t0 = -1; t0 <= 1; t0++)
      for (int32_t t1 = -1; t1 <= 1; t1++)
        for (int32_t t2 = -1; t2 <= 1; t2++, i++) {
          int32_t v = t0 * a0 + t1 * a1 + t2 * a2;
          lo[i] = (uint8_t)(v & 0xff);
          hi[i] = (uint8_t)((v >> 8) & 0xff);
        }
    for (; i < 32; i++) lo[i] = hi[i] = 0;
  }
}

/*
 * Lookups for blocks of 16 rows. Indices are blocked: idx[(b*groups + g)*16 + lane] is the index
 * of row 16*b + lane at group g. acc[16*b + lane] = sum_g table_g[idx]. Partial sums are kept in
 * int16 for at most 64 groups (|sum| <= 64*381 = 24384 < 2^15), then widened to int32.
 */
void tlmm_lookup16(const uint8_t *idx, int32_t groups, const uint8_t *tables, int32_t *acc, int32_t b0, int32_t b1) {
  const v128_t sixteen = wasm_i8x16_splat(16);
  for (int32_t b = b0; b < b1; b++) {
    const uint8_t *p = idx + (int64_t)b * groups * 16;
    v128_t r0 = wasm_i32x4_splat(0), r1 = r0, r2 = r0, r3 = r0;
    int32_t g = 0;
    while (g < groups) {
      int32_t end = g + 64 < groups ? g + 64 : groups;
      v128_t s0 = wasm_i16x8_splat(0), s1 = s0;
      for (; g < end; g++) {
        v128_t ix = wasm_v128_load(p + g * 16);
        v128_t ix2 = wasm_i8x16_sub(ix, sixteen); /* entries 16..31; idx < 16 wraps to >= 240: out of range -> 0 */
        const uint8_t *t = tables + g * 64;
        v128_t lo = wasm_v128_or(wasm_i8x16_swizzle(wasm_v128_load(t), ix), wasm_i8x16_swizzle(wasm_v128_load(t + 16), ix2));
        v128_t hi = wasm_v128_or(wasm_i8x16_swizzle(wasm_v128_load(t + 32), ix), wasm_i8x16_swizzle(wasm_v128_load(t + 48), ix2));
        s0 = wasm_i16x8_add(s0, wasm_i8x16_shuffle(lo, hi, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
        s1 = wasm_i16x8_add(s1, wasm_i8x16_shuffle(lo, hi, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
      }
      r0 = wasm_i32x4_add(r0, wasm_i32x4_extend_low_i16x8(s0));
      r1 = wasm_i32x4_add(r1, wasm_i32x4_extend_high_i16x8(s0));
      r2 = wasm_i32x4_add(r2, wasm_i32x4_extend_low_i16x8(s1));
      r3 = wasm_i32x4_add(r3, wasm_i32x4_extend_high_i16x8(s1));
    }
    int32_t *out = acc + b * 16;
    wasm_v128_store(out, r0);
    wasm_v128_store(out + 4, r1);
    wasm_v128_store(out + 8, r2);
    wasm_v128_store(out + 12, r3);
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
