// RMS-MAX (docs/numerics.md §5): RMSNorm fused with the absmax the next quantiser needs, per token.
// With a norm: y = RMSNorm(x)·w and amax = max|y|; without one (the o_proj / down_proj inputs of
// models without sub-norms, numerics §11): y = x and amax = max|x|.
//
// Streams in: per token n values of x (LANES per beat, the last beat zero-padded); with a norm, the
// n norm weights beat for beat beside the first token's x (once per call). Out per token: y (LANES
// per beat; without a norm y = x), then amax, which is known only after the row's last element. A
// token is held on chip (n <= the build's largest vector). A consumer that needs amax before y
// (the quantiser) holds the row: in the accelerator y and amax go to DDR and the linear reads both.
#ifndef TL_RMSMAX_HPP
#define TL_RMSMAX_HPP

#include "tl_types.hpp"

namespace tl {

// The longest vector a norm or a quantiser sees: max(hidden, FFN, heads * head_dim).
constexpr unsigned MAX_VECTOR = hw::MAX_FFN > hw::MAX_HIDDEN ? (hw::MAX_FFN > hw::MAX_HEADS * hw::MAX_HEAD_DIM ? hw::MAX_FFN : hw::MAX_HEADS * hw::MAX_HEAD_DIM)
                                                             : (hw::MAX_HIDDEN > hw::MAX_HEADS * hw::MAX_HEAD_DIM ? hw::MAX_HIDDEN : hw::MAX_HEADS * hw::MAX_HEAD_DIM);
constexpr unsigned MAX_VECTOR_BEATS = (MAX_VECTOR + LANES - 1) / LANES;

// Assumed pipeline depths (checked by csynth; the planner counts them, host/src/plan/hls-depths.ts):
// the read and compare; ldexp, multiply, 16-lane add; ldexp, two multiplies, compare.
constexpr unsigned RMSMAX_READ_DEPTH = 3, RMSMAX_SUM_DEPTH = 12, RMSMAX_NORMALISE_DEPTH = 12;

// with_norm: RMSNorm with the weights of w_strm and eps (binary32 of f32(rms_norm_eps)); else the plain max.
void rmsmax(hls::stream<vec_t> &w_strm, hls::stream<vec_t> &x_strm, unsigned n, unsigned tokens, bool with_norm, float eps,
            hls::stream<float> &amax_strm, hls::stream<vec_t> &y_strm);

}  // namespace tl

#endif  // TL_RMSMAX_HPP
