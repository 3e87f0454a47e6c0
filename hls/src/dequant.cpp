// The dequantiser and fused element-wise stage (dequant.hpp): one beat of Q accumulators per cycle.
#include "dequant.hpp"

#include "tl_numerics.h"
#include "tl_registers.hpp"  // Generated.

namespace tl {

static_assert(Q % LANES == 0, "an engine beat is a whole number of element-wise beats");
static_assert(LANES % 2 == 0, "RoPE pairs (2i, 2i+1) never straddle a beat");

void dequant(hls::stream<acc_beat_t> &acc_strm, hls::stream<dq_token_t> &tok_strm, hls::stream<vec_t> &side_strm, const float *rope,
             unsigned rows, unsigned row_start, unsigned head_dim, unsigned tokens, dq_mode_t mode, unsigned activation, float weight_scale,
             hls::stream<vec_t> &y_strm) {
  const unsigned blocks = ceil_div(rows, Q);
  const unsigned half = head_dim / 2;
TOKENS:
  for (unsigned t = 0; t < tokens; t++) {
#pragma HLS loop_tripcount max = hw::MAX_TOKENS
    const dq_token_t tok = tok_strm.read();
    const float c = tl_dequant_factor(tok.amax, weight_scale);
    TL_LOOP("dequant.BEATS", blocks * (Q / LANES));
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
      if (mode == DQ_RESIDUAL || mode == DQ_GATE) side = side_strm.read();
      vec_t y;
      TL_CSIM_UNROLL
      for (unsigned l = 0; l < LANES; l++) y.v[l] = tl_dequantize(acc_lane(acc, part * LANES + l), c);
      if (mode == DQ_ROPE_F16) {
        TL_CSIM_UNROLL
        for (unsigned l = 0; l < LANES; l += 2) {
          // Row r of the linear is element j = r mod head_dim of its head; (j, j+1) is pair j/2.
          const unsigned p = ((row_start + r0 + l) % head_dim) / 2;
          const float cs = rope[(tok.pos * half + p) * 2], sn = rope[(tok.pos * half + p) * 2 + 1];
          tl_rope_pair(y.v[l], y.v[l + 1], cs, sn, &y.v[l], &y.v[l + 1]);
        }
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
      }
      y_strm.write(y);
    }
  }
}

}  // namespace tl
