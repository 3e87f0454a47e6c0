// The int8 attention unit (numerics §8.3): one algorithm for prefill, decode and verify passes.
// Query i (position p_i), head h, KV head g = ⌊h / (H/Hkv)⌋, over keys j = 0 … p_i:
//   σq'  = f32(σq × scale)
//   s_j  = f32( f32(Σ_t q8_t·k8_j,t) × f32(σq' × σk_j) )          exact integer dot product
//   m    = max s_j;   V = max σv_j (prefix maximum);   ρ = f32(2^24 ÷ V)
//   e_j  = exp(f32(s_j − m));   l = Σ e_j in ascending j
//   u_j  = ⌊f32(f32(e_j × σv_j) × ρ)⌉;   A_t = Σ u_j · v8_j,t       exact integer
//   out_t = f32( f32(A_t) × f32(ldexp(V, −24) ÷ l) )
//
// Schedule (the planner's int8 unit, docs/performance-model.md): queries in blocks of
// ATTENTION_PES; per KV head, its query heads in batches of INT8_GROUP_HEADS, so each key is read
// once per batch for every query of the block. Pass 1 reads K (and σv) and finds m and V; pass 2
// reads V and sums. A block of one query (decode) keeps its scores on chip; larger blocks
// recompute them in pass 2 from K (the scores of a whole block and context do not fit on chip).
// Both give the same bits: every score is computed by the same operations.
// Taps: TAP_RESULT the output rows.
#ifndef TL_ATTENTION_HPP
#define TL_ATTENTION_HPP

#include "accel.hpp"

namespace tl {

struct attn_args_t {
  unsigned heads, kv_heads, d;
  unsigned tokens, pos0;               // queries at positions pos0 .. pos0 + tokens - 1
  float scale;                          // f32(1 ÷ f32(√d))
  uint64_t q_off, q_stride;            // int8 query rows (scratch.q), words
  uint64_t qs_off, qs_stride;          // their scales (scratch.q_scale), words
  uint64_t k_off, v_off, kv_stride;    // this layer's int8 K and V at position 0, words per position
  uint64_t ks_off, vs_off, s_stride;   // this layer's σk, σv at position 0, words per position
  uint64_t out_off, out_stride;        // binary32 output rows, words
};

// The K and V rows come through the weight lanes w0 .. w3 (accel.hpp), their scales through ddr_kv.
void attention(const word_t *ddr_act, const word_t *ddr_kv, const lane_word_t *w0, const lane_word_t *w1, const lane_word_t *w2, const lane_word_t *w3,
               word_t *ddr_out, const attn_args_t &a);

}  // namespace tl

#endif  // TL_ATTENTION_HPP
