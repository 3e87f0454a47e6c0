// The accelerator's top function: one call (ap_start .. ap_done) runs one command of
// docs/registers.md §2 — a prefill of n tokens, a decode step, or a verify pass of n tokens at KV
// offset L — through every layer, the final norm and the LM head, driven only by its registers.
// The arguments are the registers of hw/spec/registers.json, by name; their offsets come from
// the generated hls/gen/<board>/tl_registers.hpp (TL_CONTROL_INTERFACE()). One bitstream serves
// any model shape up to the build's maxima (hls/gen/<board>/config.hpp).
//
// The embedding lookup and token selection stay on the ARM cores (numerics §9-§11): the firmware
// writes the pass's embedded tokens into scratch.residual rows 0 .. n - 1 and reads one record per
// head position from head.out (docs/accelerator.md §2).
#ifndef TL_ACCEL_TOP_HPP
#define TL_ACCEL_TOP_HPP

#include "accel.hpp"

void tellme_accel(unsigned command, unsigned n_tokens, unsigned kv_position, unsigned layer_count, unsigned flags, unsigned &status,
                  unsigned &kv_length, unsigned &tokens_done, uint64_t &cycles, uint64_t &build_hash, unsigned &regmap_version, unsigned hidden,
                  unsigned ffn, unsigned heads, unsigned kv_heads, unsigned head_dim, unsigned layers, unsigned vocab, unsigned context,
                  unsigned activation, unsigned sub_norms, unsigned rms_eps, const tl::word_t *ddr_act, const tl::word_t *ddr_kv,
                  const tl::word_t *ddr_head, const tl::word_t *ddr_side, tl::word_t *ddr_out, const tl::lane_word_t *ddr_w0,
                  const tl::lane_word_t *ddr_w1, const tl::lane_word_t *ddr_w2, const tl::lane_word_t *ddr_w3, uint64_t weights_offset,
                  unsigned weights_layer_stride, uint64_t norms_offset, unsigned norms_layer_stride, uint64_t norm_final_offset,
                  uint64_t rope_offset, uint64_t kv_k_offset, uint64_t kv_v_offset, uint64_t residual_offset, uint64_t act0_offset,
                  uint64_t act1_offset, uint64_t q_offset, uint64_t amax_offset, uint64_t lm_head_weight_offset, uint64_t lm_head_scale_offset,
                  uint64_t logits_offset, uint64_t q_scale_offset, const unsigned linear_offset[8], const unsigned linear_lane_stride[8],
                  const unsigned linear_tile_stride[8], const unsigned linear_tile_rows[8], const unsigned linear_last_lane_stride[8],
                  uint64_t kv_k_scale_offset, uint64_t kv_v_scale_offset, const unsigned norm_role_offset[4], const unsigned weight_scale[512]);

#endif  // TL_ACCEL_TOP_HPP
