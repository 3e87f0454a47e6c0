// The weight loader: one tile's beats from DDR into half `buf` of the URAM weight buffer, in the
// layout host/src/layout plans for the build (docs/layout.md §2-3): dense beats of P lanes (lane p
// from its own port and DDR region), index vector n of the tile's stream at bits [140n, 140n+140),
// chunk-major with rows inner, row z of chunk c at bank z mod BANKS, word c*ceil(rows/BANKS) + z div BANKS.
// One beat per cycle; its up to ceil(BEAT/140) vectors go to consecutive rows, i.e. to different
// banks (both URAM ports of the loading half are free: the core reads the other half).
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
void weight_loader(const lane_word_t *w0, const lane_word_t *w1, const lane_word_t *w2, const lane_word_t *w3,
                   const uint64_t lane_offset[hw::WEIGHT_PORTS], unsigned rows, unsigned chunks, unsigned buf, weight_buffer_t &wbuf);

}  // namespace tl

#endif  // TL_WEIGHT_LOADER_HPP
