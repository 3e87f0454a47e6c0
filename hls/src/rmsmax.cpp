// RMS-MAX (rmsmax.hpp): three passes over a token held on chip. Pass 1 reads it (and, with the
// first token, the norm weights) and finds max|x| (the exponent E); pass 2 the sum of squares of
// z = ldexp(x, -E) in the 16-lane order of numerics §2.4 (element i in lane i mod 16, whatever the
// beat width); then r; pass 3 y out as it is made, and max|y|, which follows its row.
//
// Why three and not two: z needs E, and E needs the whole row's max|x|, so the sum of squares
// cannot start before the row has been read once (summing x² and rescaling by 2^-2E is not the
// same bits: x² overflows and flushes where z² does not). Without a norm one pass: y = x streams
// out as it is read.
#include "rmsmax.hpp"

#include "tl_numerics.h"

namespace tl {

static_assert(TL_REDUCTION_LANES % LANES == 0, "a beat's elements fall into distinct reduction lanes");

void rmsmax(hls::stream<vec_t> &w_strm, hls::stream<vec_t> &x_strm, unsigned n, unsigned tokens, bool with_norm, float eps,
            hls::stream<float> &amax_strm, hls::stream<vec_t> &y_strm) {
  static vec_t w[MAX_VECTOR_BEATS];
  static vec_t buf[MAX_VECTOR_BEATS];
#pragma HLS bind_storage variable = buf type = ram_2p impl = bram
  const unsigned beats = ceil_div(n, LANES);
  const float inv_n = tl_inv_length(n);
TOKENS:
  for (unsigned t = 0; t < tokens; t++) {
#pragma HLS loop_tripcount max = hw::MAX_TOKENS
    const bool read_weights = with_norm && t == 0;  // once per call, beside the first token
    TL_PIPELINE("rmsmax.READ_MAX", beats, 1, RMSMAX_READ_DEPTH);
    float xmax = 0.0f;
  READ_MAX:
    for (unsigned b = 0; b < beats; b++) {
#pragma HLS loop_tripcount max = MAX_VECTOR_BEATS
#pragma HLS pipeline II = 1
      if (read_weights) w[b] = w_strm.read();
      vec_t x = x_strm.read();
      TL_CSIM_UNROLL
      for (unsigned j = 0; j < LANES; j++) {
        if (b * LANES + j >= n) x.v[j] = 0.0f; // padding lanes hold +0
        const float a = tl_abs(x.v[j]);
        if (a > xmax) xmax = a;
      }
      if (with_norm) buf[b] = x;
      else y_strm.write(x);
    }
    float amax = xmax;
    if (with_norm) {
      const int e = tl_rmsmax_exponent(xmax);
      tl_lanes16 lanes;
      tl_lanes16_init(&lanes);
      TL_PIPELINE("rmsmax.SUM_SQUARES", beats, 1, RMSMAX_SUM_DEPTH);
    SUM_SQUARES:
      for (unsigned b = 0; b < beats; b++) {
#pragma HLS loop_tripcount max = MAX_VECTOR_BEATS
#pragma HLS pipeline II = 1
        TL_CSIM_UNROLL
        for (unsigned j = 0; j < LANES; j++) {
          // A padding element adds +0 to a lane that holds a non-negative sum: no change.
          const float z = tl_ldexp(buf[b].v[j], -e);
          tl_lanes16_add(&lanes, b * LANES + j, tl_mul(z, z));
        }
      }
      const float r = tl_rmsmax_factor(tl_lanes16_combine(&lanes), inv_n, eps, e);
      amax = 0.0f;
      TL_PIPELINE("rmsmax.NORMALISE", beats, 1, RMSMAX_NORMALISE_DEPTH);
    NORMALISE:
      for (unsigned b = 0; b < beats; b++) {
#pragma HLS loop_tripcount max = MAX_VECTOR_BEATS
#pragma HLS pipeline II = 1
        vec_t y;
        TL_CSIM_UNROLL
        for (unsigned j = 0; j < LANES; j++) {
          y.v[j] = b * LANES + j < n ? tl_rmsmax_output(tl_ldexp(buf[b].v[j], -e), r, w[b].v[j]) : 0.0f;
          const float a = tl_abs(y.v[j]);
          if (a > amax) amax = a;
        }
        y_strm.write(y);
      }
    }
    amax_strm.write(amax);
  }
}

}  // namespace tl
