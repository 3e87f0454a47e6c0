// The weight loader (weight_loader.hpp): P ports read in one pipelined loop (one burst stream
// each), a gearbox from beats to index vectors, and the bank writes.
#include "weight_loader.hpp"

namespace tl {

namespace {

constexpr unsigned VB = hw::VECTOR_BITS;
constexpr unsigned BB = hw::BEAT_BITS;
constexpr unsigned MAX_PER_BEAT = (BB + VB - 1) / VB + 1; // vectors that can end in one beat

// Bits [lo, lo + VB) of a beat as an index vector (lo + VB <= BB).
inline index_vec_t vector_at(const beat_t &beat, unsigned lo) {
  index_vec_t v;
  TL_CSIM_UNROLL
  for (unsigned p = 0; p < VB; p += 64) {
    const unsigned n = VB - p < 64 ? VB - p : 64;
    v.range(p + n - 1, p) = beat.range(lo + p + n - 1, lo + p);
  }
  return v;
}

}  // namespace

void weight_loader(const lane_word_t *w0, const lane_word_t *w1, const lane_word_t *w2, const lane_word_t *w3,
                   const uint64_t lane_offset[hw::WEIGHT_PORTS], unsigned rows, unsigned chunks, unsigned buf, weight_buffer_t &wbuf) {
  const unsigned beats = tile_beats(rows, chunks);
  const unsigned vectors = rows * chunks;
  const unsigned rpb = ceil_div(rows, BANKS);
  TL_LOOP("weight_loader.BEATS", beats);
  // Where the next vector goes: its row, and the word of row 0's bank group in its chunk.
  unsigned row = 0, chunk_word = 0, emitted = 0;
  // The low `have` bits of a vector that started in the previous beat.
  index_vec_t carry = 0;
  unsigned have = 0;
BEATS:
  for (unsigned b = 0; b < beats; b++) {
#pragma HLS loop_tripcount max = hw::WORDS_PER_BANK_PER_BUFFER * hw::BANKS * hw::VECTOR_BITS / hw::BEAT_BITS
#pragma HLS pipeline II = 1
    beat_t beat;
    beat.range(1 * hw::LANE_BITS - 1, 0 * hw::LANE_BITS) = w0[lane_offset[0] + b];
    beat.range(2 * hw::LANE_BITS - 1, 1 * hw::LANE_BITS) = w1[lane_offset[1] + b];
    beat.range(3 * hw::LANE_BITS - 1, 2 * hw::LANE_BITS) = w2[lane_offset[2] + b];
    beat.range(4 * hw::LANE_BITS - 1, 3 * hw::LANE_BITS) = w3[lane_offset[3] + b];
    // The vector in flight completes with the first VB - have bits of this beat; then whole
    // vectors follow while they fit; the rest is carried.
    unsigned lo = 0;
  VECTORS:
    for (unsigned k = 0; k < MAX_PER_BEAT; k++) {
#pragma HLS unroll
      index_vec_t v;
      bool complete = true;
      if (k == 0 && have > 0) {
        // The missing high bits of the carried vector, from the beat's start.
        v = carry | (vector_at(beat, 0) << have);
        lo = VB - have;
      } else if (lo + VB <= BB) {
        v = vector_at(beat, lo);
        lo += VB;
      } else {
        complete = false;
      }
      if (complete && emitted < vectors) {
        wbuf[buf][row % BANKS][chunk_word + row / BANKS] = v;
        emitted++;
        if (++row == rows) {
          row = 0;
          chunk_word += rpb;
        }
      }
    }
    // Carry the tail of the beat (at most VB - 1 bits) into the next vector.
    have = BB - lo;
    carry = have > 0 ? index_vec_t(beat >> lo) : index_vec_t(0);
  }
}

}  // namespace tl
