// The head quantiser of the int8 attention (numerics §8.3): every head vector x of length d of a
// binary32 row (q after RoPE per query head; k after RoPE and v per KV head) becomes int8 x8 with
// its own absmax and the binary32 scale σ = f32(amax_c ÷ 127):
//   amax = max|x_t|;  s = f32(127 ÷ max(amax, FLOOR));  x8_t = clamp(⌊f32(x_t × s)⌉, −127, 127)
// Per token: the row (heads · d values, ddr_act) in, the int8 row (packed 4 per word) and the
// heads' scales out (ddr_out): scratch.q / q_scale, or the KV cache at the token's position.
// Taps: TAP_Q8 the int8 row, TAP_SCALE the scales.
#ifndef TL_HEAD_QUANT_HPP
#define TL_HEAD_QUANT_HPP

#include "accel.hpp"

namespace tl {

struct head_quant_args_t {
  unsigned heads, d, tokens;
  uint64_t src_off, src_stride;      // binary32 rows, words
  uint64_t dst_off, dst_stride;      // int8 rows, words (heads·d/4 per row)
  uint64_t scale_off, scale_stride;  // binary32 scales, words
};

void head_quantize(const word_t *ddr_act, word_t *ddr_out, const head_quant_args_t &a);

}  // namespace tl

#endif  // TL_HEAD_QUANT_HPP
