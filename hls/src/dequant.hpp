// The dequantiser with the fused element-wise operations (docs/numerics.md §4.3, §3.3, §7, §11):
// per token y_j = f32(f32(acc_j) × c) with c = f32(f32(amax_c × w_s) ÷ 127), then by mode
//   DQ_PLAIN     y                                   (up_proj: kept for the gate; v_proj, int8 KV)
//   DQ_F16       binary16 rounding of y              (v_proj, binary16 KV)
//   DQ_ROPE_F16  RoPE of each consecutive pair, then binary16 (q/k_proj, binary16 KV)
//   DQ_RESIDUAL  x_j + y_j with x from side_strm     (o_proj, down_proj: the residual stream)
//   DQ_GATE      act(y_j, up_j) with up from side_strm, act ReLU²·up or SiLU·up (gate_proj)
//   DQ_ROPE      RoPE of each consecutive pair        (q/k_proj, int8 KV: the head quantiser follows)
// The TLMM engine's beats of Q accumulators (lanes past the tile's rows are 0) come token by token;
// each becomes Q/LANES element-wise beats (side inputs and outputs: LANES values per beat, ceil of
// rows/Q*Q/LANES beats per token). In the RoPE modes the side beat carries the table entries of the
// beat's LANES/2 pairs, (cos, sin) side by side (the reader looks them up at the token's position:
// numerics §7.2), so this unit reads no memory.
// Binary16 results are returned as binary32 values on the binary16 grid; the writer packs the bits.
// Taps (tl_tap.hpp): TAP_ACC the accumulators, TAP_OUT y, TAP_RESULT what leaves the unit.
#ifndef TL_DEQUANT_HPP
#define TL_DEQUANT_HPP

#include "tl_types.hpp"

namespace tl {

// Assumed pipeline depth (checked by csynth): int->float, the factor multiply, the longest fused
// operation (SiLU·up: exp, add, divide, two multiplies).
constexpr unsigned DEQUANT_DEPTH = 64;

enum dq_mode_t : unsigned { DQ_PLAIN = 0, DQ_F16 = 1, DQ_ROPE_F16 = 2, DQ_RESIDUAL = 3, DQ_GATE = 4, DQ_ROPE = 5 };

// Whether a mode reads side beats (the residual, up, or the RoPE table entries).
inline bool dq_reads_side(dq_mode_t mode) { return mode == DQ_RESIDUAL || mode == DQ_GATE || mode == DQ_ROPE || mode == DQ_ROPE_F16; }

// Per token: its absmax (the quantiser's).
struct dq_token_t {
  float amax;
};

// activation: the register map's activation enum (tl_regs::ACTIVATION_RELU2, ACTIVATION_SILU).
void dequant(hls::stream<acc_beat_t> &acc_strm, hls::stream<dq_token_t> &tok_strm, hls::stream<vec_t> &side_strm, unsigned rows, unsigned tokens,
             dq_mode_t mode, unsigned activation, float weight_scale, hls::stream<vec_t> &y_strm);

}  // namespace tl

#endif  // TL_DEQUANT_HPP
