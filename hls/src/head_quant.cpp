// The head quantiser (head_quant.hpp): per head one pass to find the absmax (the head is held on
// chip), one to quantise and pack four int8 values per word. Both take a port word (4 values,
// head_dim is a multiple of 4) per cycle.
#include "head_quant.hpp"

#include "tl_numerics.h"
#include "tl_tap.hpp"

namespace tl {

// Assumed pipeline depths (checked by csynth; the planner counts them, host/src/plan/hls-depths.ts):
// the read and compare; multiply, round, clamp, pack, write.
constexpr unsigned HEAD_MAX_DEPTH = 4, HEAD_QUANT_DEPTH = 10;

void head_quantize(const word_t *ddr_act, word_t *ddr_out, const head_quant_args_t &a) {
  float x[hw::MAX_HEAD_DIM];
#pragma HLS array_partition variable = x cyclic factor = 4
TOKENS:
  for (unsigned t = 0; t < a.tokens; t++) {
#pragma HLS loop_tripcount max = hw::MAX_TOKENS
  HEADS:
    for (unsigned h = 0; h < a.heads; h++) {
#pragma HLS loop_tripcount max = hw::MAX_HEADS
      const uint64_t src = a.src_off + t * a.src_stride + h * a.d;
      float amax = 0.0f;
      TL_PIPELINE("head_quant.MAX", a.d / 4, 1, HEAD_MAX_DEPTH);
    MAX:
      for (unsigned w = 0; w < a.d / 4; w++) {
#pragma HLS loop_tripcount max = hw::MAX_HEAD_DIM / 4
#pragma HLS pipeline II = 1
        TL_CSIM_UNROLL
        for (unsigned b = 0; b < 4; b++) {
          x[4 * w + b] = tl_bits_f32(ddr_act[src + 4 * w + b]);
          const float m = tl_abs(x[4 * w + b]);
          if (m > amax) amax = m;
        }
      }
      const float s = tl_quant_multiplier(amax);
      const float sigma = tl_div(tl_clamp_absmax(amax), (float)TL_INT8_MAX);
      ddr_out[a.scale_off + t * a.scale_stride + h] = tl_f32_bits(sigma);
      TL_TAP(TAP_SCALE, t, h, a.heads, sigma);
      TL_PIPELINE("head_quant.QUANTIZE", a.d / 4, 1, HEAD_QUANT_DEPTH);
    QUANTIZE:
      for (unsigned w = 0; w < a.d / 4; w++) {
#pragma HLS loop_tripcount max = hw::MAX_HEAD_DIM / 4
#pragma HLS pipeline II = 1
        word_t packed = 0;
        TL_CSIM_UNROLL
        for (unsigned b = 0; b < 4; b++) {
          const int8_t q = tl_quantize(x[4 * w + b], s);
          packed |= (word_t)(uint8_t)q << (8 * b);
          TL_TAP(TAP_Q8, t, h * a.d + 4 * w + b, a.heads * a.d, q);
        }
        ddr_out[a.dst_off + t * a.dst_stride + (h * a.d) / 4 + w] = packed;
      }
    }
  }
}

}  // namespace tl
