// The TLMM engine in C++ (fidelity csim): numerics.md §6.2, tables and lookups, exact integers.
#include <cstring>

#include "tile_engine.hpp"

namespace tl_sim {
namespace {

class CsimEngine : public TileEngine {
 public:
  explicit CsimEngine(const tl_board_desc& b) : b_(b) {}

  void run(const Tile& tile, const int8_t* act, uint32_t tokens, int32_t* acc) override {
    const uint32_t T = b_.tables, G = b_.group_size, bits = b_.index_bits, vbits = b_.vector_bits;
    const uint32_t groups = tile.chunks * T;
    const uint64_t vectors = uint64_t(tile.rows) * tile.chunks;
    if ((vectors * vbits + 7) / 8 > tile.beats.size()) throw ModelFault("weight tile shorter than its vectors");
    // Indices [row][group]: vector (row, chunk) is number chunk * rows + row of the stream;
    // index j of a vector is at bits [bits*j, bits*j + bits) of it, least significant bit first.
    idx_.resize(size_t(tile.rows) * groups);
    const uint8_t* s = tile.beats.data();
    const size_t stream_bytes = tile.beats.size();
    for (uint32_t c = 0; c < tile.chunks; c++) {
      for (uint32_t r = 0; r < tile.rows; r++) {
        uint64_t bit = (uint64_t(c) * tile.rows + r) * vbits;
        for (uint32_t j = 0; j < T; j++, bit += bits) {
          size_t byte = size_t(bit >> 3);
          uint32_t w = s[byte] | (byte + 1 < stream_bytes ? uint32_t(s[byte + 1]) << 8 : 0u);
          uint32_t v = (w >> (bit & 7u)) & ((1u << bits) - 1u);
          if (v >= b_.table_entries) throw ModelFault("weight index code " + std::to_string(v) + " >= 27");
          idx_[size_t(r) * groups + c * T + j] = uint8_t(v);
        }
      }
    }
    // Per token: the 27-entry table of each group, then one lookup per row and group.
    table_.resize(size_t(groups) * b_.table_entries);
    const uint32_t kpad = tile.chunks * b_.chunk_elements;
    for (uint32_t t = 0; t < tokens; t++) {
      const int8_t* a = act + size_t(t) * kpad;
      for (uint32_t g = 0; g < groups; g++) {
        const int32_t a0 = a[g * G], a1 = a[g * G + 1], a2 = a[g * G + 2];
        int16_t* tab = &table_[size_t(g) * b_.table_entries];
        for (uint32_t i = 0; i < b_.table_entries; i++) {
          // idx = 13 + 9 t0 + 3 t1 + t2 (numerics.md §6.1)
          const int32_t t0 = int32_t(i / 9) - 1, t1 = int32_t((i / 3) % 3) - 1, t2 = int32_t(i % 3) - 1;
          tab[i] = int16_t(t0 * a0 + t1 * a1 + t2 * a2);
        }
      }
      for (uint32_t r = 0; r < tile.rows; r++) {
        const uint8_t* ri = &idx_[size_t(r) * groups];
        int32_t sum = 0;
        for (uint32_t g = 0; g < groups; g++) sum += table_[size_t(g) * b_.table_entries + ri[g]];
        acc[size_t(t) * tile.rows + r] = sum;
      }
    }
    lookups_ += uint64_t(tile.rows) * groups * tokens;
  }

 private:
  const tl_board_desc& b_;
  std::vector<uint8_t> idx_;
  std::vector<int16_t> table_;
};

}  // namespace

std::unique_ptr<TileEngine> make_csim_engine(const tl_board_desc& board) { return std::make_unique<CsimEngine>(board); }

}  // namespace tl_sim
