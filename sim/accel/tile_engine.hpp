// The TLMM engine of the simulated accelerator: one weight tile (rows x chunks index vectors in
// dense beats, docs/layout.md §3.2, read from the P lane regions) times a block of tokens' int8
// activations -> int32 accumulators. Two implementations: the C++ tables and lookups of
// numerics.md §6.2 (fidelity csim) and the Verilated hw/rtl tlmm_engine (fidelity rtl).
#ifndef TL_SIM_TILE_ENGINE_HPP
#define TL_SIM_TILE_ENGINE_HPP

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "tl_boards.h"  // Generated.

namespace tl_sim {

/** A problem the model detects that hardware would not report (an access outside the DDR window, a bad index). */
struct ModelFault : std::runtime_error {
  explicit ModelFault(const std::string& what) : std::runtime_error(what) {}
};

struct Tile {
  /** The tile's beat stream, lanes joined: beats * beat_bytes bytes. */
  std::vector<uint8_t> beats;
  uint32_t rows = 0;
  uint32_t chunks = 0;
  /** Reduction length of the linear (the activations are zero past it). */
  uint32_t k = 0;
};

class TileEngine {
 public:
  virtual ~TileEngine() = default;
  /**
   * acc[t * tile.rows + r] = sum over the row's groups of the table lookups, for t < tokens;
   * act holds tokens rows of chunks * chunk_elements int8 values (zero past k).
   */
  virtual void run(const Tile& tile, const int8_t* act, uint32_t tokens, int32_t* acc) = 0;
  /** Table lookups done so far (rows x groups x tokens). */
  uint64_t lookups() const { return lookups_; }

 protected:
  uint64_t lookups_ = 0;
};

/** numerics.md §6.2 in C++: decode the tile's 5-bit indices, build each group's 27-entry table, look up. */
std::unique_ptr<TileEngine> make_csim_engine(const tl_board_desc& board);

/** The Verilated tlmm_engine of hw/rtl (the builds linked in: rtl_engine_boards()); throws ModelFault for others. */
std::unique_ptr<TileEngine> make_rtl_engine(const tl_board_desc& board, uint64_t seed);

/** Names of the boards whose Verilated engine this executable carries (comma-separated; empty when none). */
const char* rtl_engine_boards();

}  // namespace tl_sim

#endif  // TL_SIM_TILE_ENGINE_HPP
