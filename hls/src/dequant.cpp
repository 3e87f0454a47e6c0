// The dequantiser and fused element-wise stage (dequant.hpp): one beat of LANES outputs per cycle.
#include "dequant.hpp"

#include "tl_numerics.h"
#include "tl_registers.hpp"  // Generated.
#include "tl_tap.hpp"

namespace tl {

static_assert(Q % LANES == 0, "an engine beat is a whole number of element-wise beats");
static_assert(LANES % 2 == 0, "RoPE pairs (2i, 2i+1) never straddle a beat");

void dequant(hls::stream<acc_beat_t> &acc_strm, hls::stream<dq_token_t> &tok_strm, hls::stream<vec_t> &side_strm, unsigned rows, unsigned tokens,
             dq_mode_t mode, unsigned activation, float weight_scale, hls::stream<vec_t> &y_strm) {
  const unsigned blocks = ceil_div(rows, Q);
  const bool rope = mode == DQ_ROPE || mode == DQ_ROPE_F16;
TOKENS:
  for (unsigned t = 0; t < tokens; t++) {
#pragma HLS loop_tripcount max = hw::MAX_TOKENS
    const dq_token_t tok = tok_strm.read();
    const float c = tl_dequant_factor(tok.amax, weight_scale);
    TL_PIPELINE("dequant.BEATS", blocks * (Q / LANES), 1, DEQUANT_DEPTH);
    acc_beat_t acc = 0;
  BEATS:
    for (unsigned i = 0; i < blocks * (Q / LANES); i++) {
#pragma HLS loop_tripcount max = MAX_BLOCKS * (Q / LANES)
#pragma HLS pipeline II = 1
      // Output beat i: rows LANES*i .. of the tile, lanes (i mod Q/LANES)*LANES .. of engine beat i / (Q/LANES).
      const unsigned part = i % (Q / LANES);
      if (part == 0) acc = acc_strm.read();
      const unsigned r0 = i * LANES;
      vec_t side = {};
      if (dq_reads_side(mode)) side = side_strm.read();
      vec_t y;
      TL_CSIM_UNROLL
      for (unsigned l = 0; l < LANES; l++) {
        const int32_t a = acc_lane(acc, part * LANES + l);
        y.v[l] = tl_dequantize(a, c);
        if (r0 + l < rows) {
          TL_TAP(TAP_ACC, t, r0 + l, rows, a);
          TL_TAP(TAP_OUT, t, r0 + l, rows, y.v[l]);
        }
      }
      if (rope) {
        TL_CSIM_UNROLL
        for (unsigned l = 0; l < LANES; l += 2) tl_rope_pair(y.v[l], y.v[l + 1], side.v[l], side.v[l + 1], &y.v[l], &y.v[l + 1]);
      }
      TL_CSIM_UNROLL
      for (unsigned l = 0; l < LANES; l++) {
        float v = y.v[l];
        switch (mode) {
          case DQ_F16:
          case DQ_ROPE_F16: v = tl_round_f16(v); break;
          case DQ_RESIDUAL: v = tl_add(side.v[l], v); break;
          case DQ_GATE: v = activation == tl_regs::ACTIVATION_SILU ? tl_silu_gate(v, side.v[l]) : tl_relu2_gate(v, side.v[l]); break;
          default: break;
        }
        // Lanes past the tile's rows carry 0 (the TLMM's padding), whatever the mode made of it.
        y.v[l] = r0 + l < rows ? v : 0.0f;
        if (r0 + l < rows) TL_TAP(TAP_RESULT, t, r0 + l, rows, y.v[l]);
      }
      y_strm.write(y);
    }
  }
}

}  // namespace tl
