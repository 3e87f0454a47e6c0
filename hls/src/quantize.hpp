// The activation quantiser (docs/numerics.md §4.1) with the stream resizer in front of the TLMM:
// per token the absmax, then k binary32 values (LANES per beat) in; out ceil(k / CHUNK) chunks of
// CHUNK int8 activations, the last one zero-padded (the weights' padding groups are index 13, so
// padded activations never change a result).
#ifndef TL_QUANTIZE_HPP
#define TL_QUANTIZE_HPP

#include "tl_types.hpp"

namespace tl {

// Assumed pipeline depth (checked by csynth): multiply, round, clamp, the gearbox.
constexpr unsigned QUANTIZE_DEPTH = 8;

void quantize(hls::stream<float> &amax_strm, hls::stream<vec_t> &x_strm, unsigned k, unsigned tokens, hls::stream<act_chunk_t> &act_strm);

}  // namespace tl

#endif  // TL_QUANTIZE_HPP
