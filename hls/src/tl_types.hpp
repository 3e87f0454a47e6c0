// Types and sizes shared by the linear-path kernels. Every number comes from the generated
// build header (hls/gen/<board>/config.hpp, `tellme hwgen`); nothing here is hand-copied.
#ifndef TL_TYPES_HPP
#define TL_TYPES_HPP

#include <stdint.h>

#include "config.hpp"  // Generated.
#include "tl_ap_int.hpp"
#include "tl_csim.hpp"
#include "tl_stream.hpp"

namespace tl {

namespace hw = tellme_hw;

constexpr unsigned G = hw::GROUP_SIZE;         // ternary weights per table index
constexpr unsigned T = hw::TABLES;             // tables (indices) per index vector
constexpr unsigned Q = hw::PARALLEL_VECTORS;   // index vectors (rows) per cycle
constexpr unsigned BANKS = hw::BANKS;          // Q/2 dual-port banks
constexpr unsigned CHUNK = hw::CHUNK_ELEMENTS; // activations per chunk (T*G)
constexpr unsigned ENTRIES = hw::TABLE_ENTRIES;
constexpr unsigned LANES = hw::ELEMENTWISE_LANES; // binary32 values per element-wise beat
constexpr unsigned BUFFERS = hw::BUFFERS;
constexpr unsigned WORDS_PER_BUFFER = hw::WORDS_PER_BANK_PER_BUFFER;
constexpr unsigned MAX_BLOCKS = hw::MAX_TILE_ROWS / Q; // accumulator words of one tile
constexpr unsigned TABLE_BUILD_CYCLES = 1 + ENTRIES;   // one chunk's tables: a prep cycle, then an entry a cycle

static_assert(G == 3, "the 27-entry tables and 5-bit indices assume groups of 3");
static_assert(hw::INDEX_BITS == 5 && ENTRIES == 27, "5-bit indices, 27 table entries");
static_assert(Q == 2 * BANKS, "two reads per dual-port bank per cycle");
static_assert(hw::MAX_TILE_ROWS % Q == 0, "tiles are whole blocks of Q rows");
static_assert(hw::VECTOR_BITS <= hw::URAM_WORD_BITS, "an index vector fits one weight-buffer word");
static_assert(hw::ACCUMULATOR_BITS <= 32 && hw::PARTIAL_SUM_BITS <= hw::ACCUMULATOR_BITS, "accumulators fit 32 bits");
static_assert(Q % LANES == 0, "an engine beat of Q accumulators is a whole number of element-wise beats");

typedef ap_uint<hw::VECTOR_BITS> index_vec_t;          // T 5-bit indices; index j at bits [5j, 5j+5)
typedef ap_uint<CHUNK * hw::ACTIVATION_BITS> act_chunk_t; // activation j of a chunk at bits [8j, 8j+8)
typedef ap_int<hw::TABLE_ENTRY_BITS> table_entry_t;
typedef ap_int<hw::PARTIAL_SUM_BITS> psum_t;           // sum of the T lookups of one row in one cycle
typedef ap_int<hw::ACCUMULATOR_BITS> acc_t;            // exact for |acc| <= 127 * K_max (numerics §6.3)
typedef ap_uint<hw::LANE_BITS> lane_word_t;            // one weight port's share of a beat
typedef ap_uint<hw::BEAT_BITS> beat_t;                 // one weight beat: lanes side by side

// The URAM weight buffer: BUFFERS halves of BANKS banks (docs/layout.md §2). Row z of a tile sits in
// bank z mod BANKS; word chunk*ceil(rows/BANKS) + z div BANKS of its half.
typedef index_vec_t weight_buffer_t[BUFFERS][BANKS][WORDS_PER_BUFFER];

// One output beat of the TLMM engine: the accumulators of a block of Q rows, lane l at bits
// [ACC*l, ACC*l + ACC) (lanes past the tile's rows are 0).
typedef ap_uint<Q * hw::ACCUMULATOR_BITS> acc_beat_t;

// Accumulator l of an engine beat.
inline int32_t acc_lane(const acc_beat_t &beat, unsigned l) {
  return (int32_t)acc_t(beat.range(hw::ACCUMULATOR_BITS * l + hw::ACCUMULATOR_BITS - 1, hw::ACCUMULATOR_BITS * l));
}

// LANES binary32 values: the element-wise datapath's beat (activations, norms, outputs).
struct vec_t {
  float v[LANES];
};

inline unsigned ceil_div(unsigned a, unsigned b) { return (a + b - 1) / b; }

}  // namespace tl

#endif  // TL_TYPES_HPP
