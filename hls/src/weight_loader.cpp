// The weight loader's DDR side (weight_loader.hpp): four m_axi ports read in one pipelined loop,
// their 128-bit words side by side as one 512-bit beat (lane p at bits [128p, 128p + 128)).
#include "weight_loader.hpp"

namespace tl {

void weight_fetch(const lane_word_t *w0, const lane_word_t *w1, const lane_word_t *w2, const lane_word_t *w3,
                  const uint64_t lane_offset[hw::WEIGHT_PORTS], unsigned beats, hls::stream<beat_t> &w) {
  TL_PIPELINE("weight_loader.FETCH", beats, 1, hw::DDR_FIRST_BEAT_CYCLES);
FETCH:
  for (unsigned b = 0; b < beats; b++) {
#pragma HLS loop_tripcount max = hw::WORDS_PER_BANK_PER_BUFFER * hw::BANKS * hw::VECTOR_BITS / hw::BEAT_BITS
#pragma HLS pipeline II = 1
    beat_t beat;
    beat.range(1 * hw::LANE_BITS - 1, 0 * hw::LANE_BITS) = w0[lane_offset[0] + b];
    beat.range(2 * hw::LANE_BITS - 1, 1 * hw::LANE_BITS) = w1[lane_offset[1] + b];
    beat.range(3 * hw::LANE_BITS - 1, 2 * hw::LANE_BITS) = w2[lane_offset[2] + b];
    beat.range(4 * hw::LANE_BITS - 1, 3 * hw::LANE_BITS) = w3[lane_offset[3] + b];
    w.write(beat);
  }
}

}  // namespace tl
