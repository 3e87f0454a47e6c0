// The int8 LM head (lm_head.hpp).
#include "lm_head.hpp"

#include "tl_numerics.h"
#include "tl_tap.hpp"

namespace tl {

namespace {

constexpr unsigned POS = hw::HEAD_POSITIONS;
// Assumed pipeline depths (checked by csynth; the planner counts them, host/src/plan/hls-depths.ts):
// the quantiser; a row's MAC tree and the dequantise.
constexpr unsigned HEAD_QUANT_DEPTH = 8, HEAD_ROW_DEPTH = 24;

}  // namespace

void lm_head(const word_t *ddr_act, const word_t *ddr_head, const lane_word_t *w0, const lane_word_t *w1, const lane_word_t *w2, const lane_word_t *w3,
             word_t *ddr_out, const head_args_t &a) {
  static int8_t qx[POS][hw::MAX_HIDDEN];
#pragma HLS array_partition variable = qx dim = 1 complete
  static int8_t weights[hw::MAX_HIDDEN];
  float amax[POS], best[POS];
  uint32_t best_id[POS];
  const uint64_t rec = 4 + (uint64_t)a.vocab;  // words per record
  // q_x of every position, on chip.
QUANTIZE:
  for (unsigned p = 0; p < a.positions; p++) {
#pragma HLS loop_tripcount max = POS
    amax[p] = tl_bits_f32(ddr_act[a.amax_off + p]);
    const float s = tl_quant_multiplier(amax[p]);
    TL_PIPELINE("lm_head.QUANTIZE", a.hidden, 1, HEAD_QUANT_DEPTH);
    for (unsigned c = 0; c < a.hidden; c++) {
#pragma HLS loop_tripcount max = hw::MAX_HIDDEN
#pragma HLS pipeline II = 1
      qx[p][c] = tl_quantize(tl_bits_f32(ddr_act[a.x_off + p * a.x_stride + c]), s);
      TL_TAP(TAP_IN, p, c, a.hidden, qx[p][c]);
    }
    best[p] = 0.0f;
    best_id[p] = 0;
  }
  // Every row once: its MACs for all positions, and the row through the weight lanes (accel.hpp).
  const unsigned macs = ceil_div(a.positions * a.hidden, hw::HEAD_MACS), row = ceil_div(a.hidden / 4, STREAM_WORDS);
  const unsigned ii = macs > row ? macs : row;
  TL_PIPELINE("lm_head.ROWS", (uint64_t)a.vocab * ii, 1, HEAD_ROW_DEPTH);
ROWS:
  for (unsigned r = 0; r < a.vocab; r++) {
#pragma HLS loop_tripcount max = hw::MAX_VOCAB
#pragma HLS pipeline
    read_int8_row_lanes(w0, w1, w2, w3, a.w_off + (uint64_t)r * (a.hidden / 4), a.hidden, weights);
    const float row_amax = tl_bits_f32(ddr_head[a.scale_off + r]);
    for (unsigned p = 0; p < a.positions; p++) {
      const int32_t acc = dot_int8(qx[p], weights, a.hidden);
      const float logit = tl_mul(tl_i32_to_f32(acc), tl_head_dequant_factor(amax[p], row_amax));
      ddr_out[a.out_off + p * rec + 4 + r] = tl_f32_bits(logit);
      if (r == 0 || logit > best[p]) {
        best[p] = logit;
        best_id[p] = r;
      }
      TL_TAP(TAP_ACC, p, r, a.vocab, acc);
      TL_TAP(TAP_LOGITS, p, r, a.vocab, logit);
    }
  }
RECORDS:
  for (unsigned p = 0; p < a.positions; p++) {
#pragma HLS loop_tripcount max = POS
    ddr_out[a.out_off + p * rec + 0] = best_id[p];
    ddr_out[a.out_off + p * rec + 1] = tl_f32_bits(best[p]);
    ddr_out[a.out_off + p * rec + 2] = a.vocab;
    ddr_out[a.out_off + p * rec + 3] = 0;
  }
}

}  // namespace tl
