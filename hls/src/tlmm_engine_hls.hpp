// The TLMM engine: the C++ model of hw/rtl/tlmm_engine_hls.sv (the URAM weight buffer with its beat
// writer, and the TLMM core), behind exactly the ports of that RTL blackbox, so that Vitis swaps
// the model for the RTL in synthesis (hw/gen/<board>/tlmm_engine_hls.json; hls/README.md).
//
// One call (ap_ctrl_chain) loads one weight tile and/or computes one tile times `tokens` tokens:
//  - load_en: `load_rows` x `load_chunks` index vectors of dense beats from `w` into buffer half
//    `load_buf` (docs/layout.md §2-3; tlmm_weight_writer.sv);
//  - compute_en: the tile in half `cmd_buf` (K = k, `rows` rows) times `tokens` tokens of int8
//    activations, one chunk of 3*T per beat on `act`, into `acc`: one beat of Q accumulators per
//    block of Q rows, token-major (lane l at bits [ACC*l, ACC*l + ACC), lanes past `rows` zero)
//    (docs/numerics.md §6; tlmm_core.sv).
// With two halves the top calls it with compute_en for tile k and load_en for tile k+1 (the other
// half), so the load overlaps the compute; when both name the same half, the compute goes first
// (it computes what was loaded before). status bit 0: the load was refused (out of range, no beat
// taken), bit 1: the compute was refused (no activation taken); cycles: the compute's core cycles.
#ifndef TL_TLMM_ENGINE_HLS_HPP
#define TL_TLMM_ENGINE_HLS_HPP

#include "tl_types.hpp"

namespace tl {

constexpr unsigned bits_for(unsigned max_value) { return max_value == 0 ? 1 : 1 + (max_value > 1 ? bits_for(max_value / 2) : 0); }
constexpr unsigned ROW_BITS = bits_for(hw::MAX_TILE_ROWS);
constexpr unsigned CHUNK_BITS = bits_for(hw::MAX_CHUNKS);
constexpr unsigned K_BITS = bits_for(hw::K_MAX_PADDED);
constexpr unsigned TOKEN_BITS = bits_for(hw::MAX_TOKENS);
constexpr unsigned BUF_BITS = BUFFERS > 1 ? bits_for(BUFFERS - 1) : 1;
static_assert(bits_for(8640) == 14 && bits_for(16383) == 14 && bits_for(16384) == 15, "bits_for(m) = ceil(log2(m + 1)), the RTL's $clog2(Max + 1)");

// Status bits.
constexpr unsigned ENGINE_LOAD_REFUSED = 1u << 0;
constexpr unsigned ENGINE_COMPUTE_REFUSED = 1u << 1;

}  // namespace tl

void tlmm_engine_hls(bool load_en, ap_uint<tl::BUF_BITS> load_buf, ap_uint<tl::ROW_BITS> load_rows, ap_uint<tl::CHUNK_BITS> load_chunks,
                     hls::stream<tl::beat_t> &w, bool compute_en, ap_uint<tl::BUF_BITS> cmd_buf, ap_uint<tl::K_BITS> k,
                     ap_uint<tl::ROW_BITS> rows, ap_uint<tl::TOKEN_BITS> tokens, hls::stream<tl::act_chunk_t> &act,
                     hls::stream<tl::acc_beat_t> &acc, ap_uint<32> &cycles, ap_uint<2> &status);

#endif  // TL_TLMM_ENGINE_HLS_HPP
