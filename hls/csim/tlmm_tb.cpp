// C-simulation driver of the linear path's weight side: the weight loader and the TLMM core.
//
//   tlmm_tb <case files...>
// Each case (written by test/hls/tlmm.test.ts from host/src/tlmm and host/src/layout) is one
// matrix cut into row tiles as the planner does for the build, packed into lane regions, plus int8
// activations of some tokens and the golden accumulators. Per tile the driver places the lane
// regions in a DDR array, loads them into weight-buffer half (tile mod 2) with weight_loader, runs
// tlmm_core on every token through bounded streams (a dataflow region: feeder, core, checker) and
// compares every accumulator. Also checks that out-of-range commands are refused.
// Prints the loop counters and a JSON summary; exit 0 only if everything matched.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tl_vectors.hpp"
#include "tlmm.hpp"
#include "weight_loader.hpp"

using namespace tl;
using tl::vectors::Checker;
using tl::vectors::File;

namespace {

weight_buffer_t *g_wbuf;  // on the heap: a static of this size is fine, but not on a stack

void feed(hls::stream<tlmm_cmd_t> &cmd, hls::stream<act_chunk_t> &act, const tlmm_cmd_t &c, const int8_t *acts, unsigned act_stride) {
  cmd.write(c);
  const unsigned chunks = ceil_div(c.k, CHUNK);
  for (unsigned t = 0; t < c.tokens; t++) {
    for (unsigned ch = 0; ch < chunks; ch++) {
      act_chunk_t a = 0;
      for (unsigned j = 0; j < CHUNK; j++) a.range(8 * j + 7, 8 * j) = (uint8_t)acts[t * act_stride + ch * CHUNK + j];
      act.write(a);
    }
  }
}

void check(hls::stream<tlmm_out_t> &out, Checker &chk, unsigned tokens, unsigned rows, unsigned row_start, unsigned all_rows, const int32_t *golden, unsigned tile) {
  const unsigned blocks = ceil_div(rows, Q);
  for (unsigned t = 0; t < tokens; t++) {
    for (unsigned m = 0; m < blocks; m++) {
      tlmm_out_t beat = out.read();
      chk.word(beat.last, m + 1 == blocks, [&] { return "tile " + std::to_string(tile) + " token " + std::to_string(t) + " block " + std::to_string(m) + ": last flag"; });
      for (unsigned l = 0; l < Q; l++) {
        const unsigned r = m * Q + l;
        const int64_t want = r < rows ? golden[(uint64_t)t * all_rows + row_start + r] : 0;
        chk.word((uint64_t)(int64_t)beat.lane[l], (uint64_t)want, [&] {
          return "tile " + std::to_string(tile) + " token " + std::to_string(t) + " row " + std::to_string(row_start + r) + " accumulator";
        });
      }
    }
  }
}

void run_case(const std::string &path, Checker &chk) {
  File f(path);
  chk.begin_case(path.substr(path.find_last_of('/') + 1));
  const unsigned rows = f.scalar_u32("rows"), k = f.scalar_u32("cols"), tokens = f.scalar_u32("tokens"), tiles = f.scalar_u32("tiles");
  const unsigned chunks = ceil_div(k, CHUNK);
  const int8_t *acts = f.get("act", tl::vectors::kI8).as<int8_t>();
  const int32_t *golden = f.get("acc", tl::vectors::kI32).as<int32_t>();
  for (unsigned t = 0; t < tiles; t++) {
    const std::string pre = "tile" + std::to_string(t) + ".";
    const unsigned trows = f.scalar_u32(pre + "rows"), row_start = f.scalar_u32(pre + "row_start");
    // The DDR window: lane p's region at its own 4 KiB-aligned offset, as the image places them.
    std::vector<uint64_t> offsets(hw::WEIGHT_PORTS);
    std::vector<uint8_t> ddr;
    for (unsigned p = 0; p < hw::WEIGHT_PORTS; p++) {
      const tl::vectors::Tensor &lane = f.get(pre + "lane" + std::to_string(p), tl::vectors::kU8);
      offsets[p] = ddr.size() / (hw::LANE_BITS / 8);
      ddr.insert(ddr.end(), lane.bytes.begin(), lane.bytes.end());
      ddr.resize((ddr.size() + 4095) / 4096 * 4096, 0);
    }
    const lane_word_t *base = reinterpret_cast<const lane_word_t *>(ddr.data());
    const unsigned buf = t % BUFFERS;
    weight_loader(base, base, base, base, offsets.data(), trows, chunks, buf, *g_wbuf);

    hls::stream<tlmm_cmd_t> cmd("tlmm.cmd");
    hls::stream<act_chunk_t, 4> act("tlmm.act");
    hls::stream<tlmm_out_t, 4> out("tlmm.out");
    tlmm_status_t status = {true, 0};
    tlmm_cmd_t c;
    c.buf = buf;
    c.k = k;
    c.rows = trows;
    c.tokens = tokens;
    TL_DATAFLOW_BEGIN("tlmm_tb");
    TL_PROCESS(feed(cmd, act, c, acts, chunks * CHUNK));
    TL_PROCESS(tlmm_core(cmd, act, *g_wbuf, out, status));
    TL_PROCESS(check(out, chk, tokens, trows, row_start, rows, golden, t));
    TL_DATAFLOW_END();
    chk.word(status.error, 0, [] { return std::string("status.error"); });
  }
  chk.end_case();
}

// Commands the core must refuse without consuming activations.
void refusals(Checker &chk) {
  chk.begin_case("refused commands");
  const unsigned too_many_words = ceil_div(WORDS_PER_BUFFER + 1, 1);
  const tlmm_cmd_t bad[] = {
      {0, 0, 16, 1},                                   // K = 0
      {0, hw::K_MAX_PADDED + 1, 16, 1},                // K over the build's maximum
      {0, 84, 0, 1},                                   // no rows
      {0, 84, 16, 0},                                  // no tokens
      {0, hw::K_MAX_PADDED, hw::MAX_TILE_ROWS, 1},     // does not fit one buffer half
  };
  (void)too_many_words;
  for (const tlmm_cmd_t &c : bad) {
    hls::stream<tlmm_cmd_t> cmd("refuse.cmd");
    hls::stream<act_chunk_t> act("refuse.act");
    hls::stream<tlmm_out_t> out("refuse.out");
    tlmm_status_t status = {false, 0};
    cmd.write(c);
    tlmm_core(cmd, act, *g_wbuf, out, status);
    chk.word(status.error, 1, [&] { return "command k=" + std::to_string((unsigned)c.k) + " rows=" + std::to_string((unsigned)c.rows) + " refused"; });
  }
  chk.end_case();
}

}  // namespace

int main(int argc, char **argv) {
  g_wbuf = new weight_buffer_t[1];
  Checker chk;
  if (argc < 2) tl::vectors::die("usage: tlmm_tb <case files...> (no case files given)");
  refusals(chk);
  for (int i = 1; i < argc; i++) run_case(argv[i], chk);
  std::printf("counters ");
  tl::csim::print_loop_counters(stdout);
  std::printf("\n");
  return chk.finish();
}
