// The quantiser (quantize.hpp): one element per lane per beat in, a gearbox of LANES-element beats
// into CHUNK-element chunks out.
#include "quantize.hpp"

#include "tl_numerics.h"
#include "tl_tap.hpp"

namespace tl {

void quantize(hls::stream<float> &amax_strm, hls::stream<vec_t> &x_strm, unsigned k, unsigned tokens, hls::stream<act_chunk_t> &act_strm) {
  const unsigned beats = ceil_div(k, LANES);
  const unsigned chunks = ceil_div(k, CHUNK);
TOKENS:
  for (unsigned t = 0; t < tokens; t++) {
#pragma HLS loop_tripcount max = hw::MAX_TOKENS
    const float s = tl_quant_multiplier(amax_strm.read());
    act_chunk_t chunk = 0;
    unsigned fill = 0, sent = 0;
    TL_PIPELINE("quantize.BEATS", beats, 1, QUANTIZE_DEPTH);
  BEATS:
    for (unsigned b = 0; b < beats; b++) {
#pragma HLS loop_tripcount max = hw::K_MAX_PADDED / LANES
#pragma HLS pipeline II = 1
      const vec_t x = x_strm.read();
      TL_CSIM_UNROLL
      for (unsigned j = 0; j < LANES; j++) {
        const bool real = b * LANES + j < k;
        const int8_t q = real ? tl_quantize(x.v[j], s) : (int8_t)0;
        if (real) {
          TL_TAP(TAP_IN, t, b * LANES + j, k, q);
          chunk.range(8 * fill + 7, 8 * fill) = (uint8_t)q;
          if (++fill == CHUNK) {
            act_strm.write(chunk);
            chunk = 0;
            fill = 0;
            sent++;
          }
        }
      }
    }
    if (sent < chunks) act_strm.write(chunk); // the zero-padded last chunk
  }
}

}  // namespace tl
