// The int8 LM head on the fabric (numerics §9.1) and the head records of docs/accelerator.md §2.
// For each head position p (the final RMS-MAX output x_p and its amax):
//   q_x      = the §4.1 quantisation of x_p with amax
//   acc_r    = Σ_c q_x,c · q_rc                                   exact int32
//   c_r      = f32( f32(amax_c × max(rowAmax_r, FLOOR)) ÷ 16129 )
//   logit_r  = f32( f32(acc_r) × c_r )                             f32(acc_r) rounds past 2^24
// The int8 rows stream once for all positions of the call (HEAD_MACS int8 MACs per cycle). Record
// p (4 + vocab words): u32 greedy id (the largest logit, ties to the lower id), f32 its logit,
// u32 vocab, u32 0, then f32 logit[vocab].
// Taps: TAP_IN q_x, TAP_ACC the accumulators, TAP_LOGITS the logits.
#ifndef TL_LM_HEAD_HPP
#define TL_LM_HEAD_HPP

#include "accel.hpp"

namespace tl {

struct head_args_t {
  unsigned hidden, vocab, positions;
  uint64_t x_off, x_stride;   // final-norm output rows (binary32), words
  uint64_t amax_off;          // their absmax, one word per position
  uint64_t w_off, scale_off;  // lm_head.weight (int8 [vocab][hidden]), lm_head.scale (binary32 [vocab]), words
  uint64_t out_off;           // head.out, words
};

// The int8 rows come through the weight lanes w0 .. w3 (accel.hpp), their scales through ddr_head.
void lm_head(const word_t *ddr_act, const word_t *ddr_head, const lane_word_t *w0, const lane_word_t *w1, const lane_word_t *w2, const lane_word_t *w3,
             word_t *ddr_out, const head_args_t &a);

}  // namespace tl

#endif  // TL_LM_HEAD_HPP
