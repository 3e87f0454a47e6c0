// The weight loader, DDR side: one tile's beats from the P weight ports into the engine's beat
// stream (the engine's writer puts them into the URAM buffer: tlmm_engine_hls.hpp). Lane p of
// every beat comes from port p's own region (docs/layout.md §3.3, the image's
// weights.L{l}.{linear}.t{t}.p{p}); one beat per cycle, each port one burst stream.
#ifndef TL_WEIGHT_LOADER_HPP
#define TL_WEIGHT_LOADER_HPP

#include "tl_types.hpp"

namespace tl {

static_assert(hw::WEIGHT_PORTS == 4, "the loader reads four weight ports (kv260, zcu104); other builds need their own port list");
static_assert(!hw::BEAT_PACKING_PAPER && hw::WEIGHT_LAYOUT_TILED, "the loader implements dense beats and row tiles");
static_assert(hw::LANE_BITS * hw::WEIGHT_PORTS == hw::BEAT_BITS, "a beat is the lanes side by side");

// Beats of a tile of `rows` x `chunks` index vectors (the last beat zero-filled).
inline unsigned tile_beats(unsigned rows, unsigned chunks) { return ceil_div(rows * chunks * hw::VECTOR_BITS, hw::BEAT_BITS); }

// lane_offset[p]: the tile's lane-p region, in lane words from port p's base.
void weight_fetch(const lane_word_t *w0, const lane_word_t *w1, const lane_word_t *w2, const lane_word_t *w3,
                  const uint64_t lane_offset[hw::WEIGHT_PORTS], unsigned beats, hls::stream<beat_t> &w);

}  // namespace tl

#endif  // TL_WEIGHT_LOADER_HPP
