// C-simulation driver of the linear path's weight side: the weight loader (DDR -> beats) and the
// TLMM engine model (beats -> URAM halves; tables and lookups).
//
//   tlmm_tb <case files...>
// Each case (written by test/hls/tlmm.test.ts from host/src/tlmm and host/src/layout) is one
// matrix cut into row tiles as the planner does for the build, packed into lane regions, plus int8
// activations of some tokens and the golden accumulators. The driver makes the engine calls the HLS
// top makes (tile i loads into one half while tile i-1 computes from the other), each a dataflow
// region (fetch, activation feeder, engine, checker) over bounded streams, and compares every
// accumulator. Also checks that out-of-range commands are refused.
// Prints the loop counters and a JSON summary; exit 0 only if everything matched.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tl_vectors.hpp"
#include "tlmm_engine_hls.hpp"
#include "weight_loader.hpp"

using namespace tl;
using tl::vectors::Checker;
using tl::vectors::File;

namespace {

// One tile as the case file gives it: its rows, first row, and lane regions placed in a DDR array.
struct Tile {
  unsigned rows, row_start;
  std::vector<uint8_t> ddr;
  uint64_t offsets[hw::WEIGHT_PORTS];
};

Tile load_tile(const File &f, unsigned t) {
  const std::string pre = "tile" + std::to_string(t) + ".";
  Tile tile;
  tile.rows = f.scalar_u32(pre + "rows");
  tile.row_start = f.scalar_u32(pre + "row_start");
  // Lane p's region at its own 4 KiB-aligned offset, as the image places them.
  for (unsigned p = 0; p < hw::WEIGHT_PORTS; p++) {
    const tl::vectors::Tensor &lane = f.get(pre + "lane" + std::to_string(p), tl::vectors::kU8);
    tile.offsets[p] = tile.ddr.size() / (hw::LANE_BITS / 8);
    tile.ddr.insert(tile.ddr.end(), lane.bytes.begin(), lane.bytes.end());
    tile.ddr.resize((tile.ddr.size() + 4095) / 4096 * 4096, 0);
  }
  return tile;
}

void feed_act(hls::stream<act_chunk_t> &act, unsigned k, unsigned tokens, const int8_t *acts) {
  const unsigned chunks = ceil_div(k, CHUNK);
  for (unsigned t = 0; t < tokens; t++) {
    for (unsigned ch = 0; ch < chunks; ch++) {
      act_chunk_t a = 0;
      for (unsigned j = 0; j < CHUNK; j++) a.range(8 * j + 7, 8 * j) = (uint8_t)acts[(t * chunks + ch) * CHUNK + j];
      act.write(a);
    }
  }
}

void check(hls::stream<acc_beat_t> &acc, Checker &chk, unsigned tokens, const Tile &tile, unsigned all_rows, const int32_t *golden, unsigned t_index) {
  const unsigned blocks = ceil_div(tile.rows, Q);
  for (unsigned t = 0; t < tokens; t++) {
    for (unsigned m = 0; m < blocks; m++) {
      const acc_beat_t beat = acc.read();
      for (unsigned l = 0; l < Q; l++) {
        const unsigned r = m * Q + l;
        const int64_t got = acc_lane(beat, l);
        const int64_t want = r < tile.rows ? golden[(uint64_t)t * all_rows + tile.row_start + r] : 0;
        chk.word((uint64_t)got, (uint64_t)want, [&] {
          return "tile " + std::to_string(t_index) + " token " + std::to_string(t) + " row " + std::to_string(tile.row_start + r) + " accumulator";
        });
      }
    }
  }
}

// The call sequence the HLS top uses: call 0 loads tile 0; call i computes tile i-1 (its half)
// while it loads tile i into the other half; the last call computes the last tile.
void run_case(const std::string &path, Checker &chk) {
  File f(path);
  chk.begin_case(path.substr(path.find_last_of('/') + 1));
  const unsigned rows = f.scalar_u32("rows"), k = f.scalar_u32("cols"), tokens = f.scalar_u32("tokens"), tiles = f.scalar_u32("tiles");
  const unsigned chunks = ceil_div(k, CHUNK);
  const int8_t *acts = f.get("act", tl::vectors::kI8).as<int8_t>();
  const int32_t *golden = f.get("acc", tl::vectors::kI32).as<int32_t>();
  std::vector<Tile> all;
  for (unsigned t = 0; t < tiles; t++) all.push_back(load_tile(f, t));
  for (unsigned call = 0; call <= tiles; call++) {
    const bool load = call < tiles, compute = call > 0;
    const Tile *lt = load ? &all[call] : nullptr;
    const Tile *ct = compute ? &all[call - 1] : nullptr;
    hls::stream<beat_t, 32> w("engine.w");
    hls::stream<act_chunk_t, 4> act("engine.act");
    hls::stream<acc_beat_t, 4> acc("engine.acc");
    ap_uint<32> cycles = 0;
    ap_uint<2> status = 3;
    TL_DATAFLOW_BEGIN("tlmm_tb");
    if (load) {
      const lane_word_t *base = reinterpret_cast<const lane_word_t *>(lt->ddr.data());
      TL_PROCESS(weight_fetch(base, base, base, base, lt->offsets, tile_beats(lt->rows, chunks), w));
    }
    if (compute) {
      TL_PROCESS(feed_act(act, k, tokens, acts));
      TL_PROCESS(check(acc, chk, tokens, *ct, rows, golden, call - 1));
    }
    TL_PROCESS(tlmm_engine_hls(load, call % BUFFERS, load ? lt->rows : 0, chunks, w, compute, (call + BUFFERS - 1) % BUFFERS, k, compute ? ct->rows : 0,
                               tokens, act, acc, cycles, status));
    TL_DATAFLOW_END();
    chk.word(status, 0, [] { return std::string("engine status"); });
  }
  chk.end_case();
}

// Commands the engine must refuse without taking a beat or an activation.
void refusals(Checker &chk) {
  chk.begin_case("refused commands");
  struct Bad {
    bool load;
    unsigned rows, chunks, k, tokens;
  } bad[] = {
      {true, 0, 19, 0, 0},                                 // load: no rows
      {true, 16, 0, 0, 0},                                 // load: no chunks
      {true, hw::MAX_TILE_ROWS, hw::MAX_CHUNKS, 0, 0},     // load: does not fit one half
      {false, 16, 0, 0, 1},                                // compute: K = 0
      {false, 16, 0, hw::K_MAX_PADDED, 0},                 // compute: no tokens
      {false, hw::MAX_TILE_ROWS, 0, hw::K_MAX_PADDED, 1},  // compute: does not fit one half
  };
  for (const Bad &b : bad) {
    hls::stream<beat_t> w("refuse.w");
    hls::stream<act_chunk_t> act("refuse.act");
    hls::stream<acc_beat_t> acc("refuse.acc");
    ap_uint<32> cycles = 0;
    ap_uint<2> status = 0;
    tlmm_engine_hls(b.load, 0, b.rows, b.chunks, w, !b.load, 1, b.k, b.rows, b.tokens, act, acc, cycles, status);
    chk.word(status, b.load ? ENGINE_LOAD_REFUSED : ENGINE_COMPUTE_REFUSED, [&] {
      return std::string(b.load ? "load" : "compute") + " rows=" + std::to_string(b.rows) + " refused";
    });
  }
  chk.end_case();
}

}  // namespace

int main(int argc, char **argv) {
  Checker chk;
  if (argc < 2) tl::vectors::die("usage: tlmm_tb <case files...> (no case files given)");
  refusals(chk);
  for (int i = 1; i < argc; i++) run_case(argv[i], chk);
  std::printf("counters ");
  tl::csim::print_loop_counters(stdout);
  std::printf("\n");
  return chk.finish();
}
