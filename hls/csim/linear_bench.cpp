// Benchmark of the linear path in C simulation (not a test): one decode token through every
// linear of every layer of a model shape, as the accelerator runs them: RMS-MAX, the quantiser,
// for each weight tile the loader's fetch and an engine call (the next tile loads while this one
// computes), the dequantiser. Weights are random index codes (speed does not depend on them).
//
//   linear_bench <plan file> [tokens]
// The plan file (bench/hls-linear-path.ts) gives the shape and the planner's row tiles per linear.
// Prints thread CPU time and wall time per token and the loop counters, as JSON.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "dequant.hpp"
#include "quantize.hpp"
#include "rmsmax.hpp"
#include "tl_vectors.hpp"
#include "tlmm_engine_hls.hpp"
#include "weight_loader.hpp"

using namespace tl;

namespace {

double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

struct Linear {
  unsigned rows, cols;
  std::vector<unsigned> tile_rows;
};

void feed_vec(hls::stream<vec_t> &s, const std::vector<float> &x, unsigned n) {
  for (unsigned b = 0; b < ceil_div(n, LANES); b++) {
    vec_t v = {};
    for (unsigned j = 0; j < LANES && b * LANES + j < n; j++) v.v[j] = x[b * LANES + j];
    s.write(v);
  }
}
void collect_chunks(hls::stream<act_chunk_t> &s, std::vector<act_chunk_t> &out, unsigned n) {
  for (unsigned c = 0; c < n; c++) out.push_back(s.read());
}
void replay_chunks(hls::stream<act_chunk_t> &s, const std::vector<act_chunk_t> &chunks) {
  for (const act_chunk_t &c : chunks) s.write(c);
}
// RMS-MAX sends amax after its row and the quantiser takes it first, so the row waits here (in the
// accelerator it waits in DDR).
void hold_row(hls::stream<float> &amax_in, hls::stream<vec_t> &y_in, unsigned n, float &amax, hls::stream<float> &amax_out, hls::stream<vec_t> &y_out) {
  const unsigned beats = ceil_div(n, LANES);
  for (unsigned b = 0; b < beats; b++) y_out.write(y_in.read());
  amax = amax_in.read();
  amax_out.write(amax);
}
void feed_token(hls::stream<dq_token_t> &s, float amax) { s.write(dq_token_t{amax}); }
void drain(hls::stream<vec_t> &s, unsigned rows, std::vector<float> &y, unsigned row_start) {
  for (unsigned m = 0; m < ceil_div(rows, Q) * (Q / LANES); m++) {
    const vec_t v = s.read();
    for (unsigned l = 0; l < LANES && m * LANES + l < rows; l++) y[row_start + m * LANES + l] = v.v[l];
  }
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) tl::vectors::die("usage: linear_bench <plan file> [tokens]");
  tl::vectors::File f(argv[1]);
  const unsigned tokens = argc > 2 ? (unsigned)std::atoi(argv[2]) : 2;
  const unsigned layers = f.scalar_u32("layers"), hidden = f.scalar_u32("hidden");
  std::vector<Linear> linears;
  for (unsigned n = 0; n < 7; n++) {
    const std::string p = "linear" + std::to_string(n) + ".";
    const tl::vectors::Tensor &t = f.get(p + "tile_rows", tl::vectors::kU32);
    linears.push_back({f.scalar_u32(p + "rows"), f.scalar_u32(p + "cols"), std::vector<unsigned>(t.as<uint32_t>(), t.as<uint32_t>() + t.elements())});
  }
  // Random weight beats, enough for the largest tile, in four lane regions.
  unsigned max_beats = 0;
  for (const Linear &l : linears)
    for (unsigned r : l.tile_rows) max_beats = std::max(max_beats, tile_beats(r, ceil_div(l.cols, CHUNK)));
  std::vector<lane_word_t> ddr((size_t)max_beats * hw::WEIGHT_PORTS);
  uint64_t seed = 88172645463325252ull;
  for (lane_word_t &w : ddr) {
    for (unsigned j = 0; j < hw::LANE_BITS / 5; j++) {
      seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
      w.range(5 * j + 4, 5 * j) = seed % 27;
    }
  }
  const uint64_t offsets[hw::WEIGHT_PORTS] = {0, max_beats, 2ull * max_beats, 3ull * max_beats};
  std::vector<float> x(8640), norm(8640, 1.0f), y(8640);
  for (unsigned i = 0; i < x.size(); i++) x[i] = (float)((int)(i * 7919 % 2001) - 1000) / 300.0f;

  double cpu0 = cpu_seconds();
  auto wall0 = std::chrono::steady_clock::now();
  for (unsigned tok = 0; tok < tokens; tok++) {
    for (unsigned layer = 0; layer < layers; layer++) {
      for (const Linear &lin : linears) {
        const unsigned chunks = ceil_div(lin.cols, CHUNK);
        // RMS-MAX and the quantiser of this linear's input.
        std::vector<act_chunk_t> act_chunks;
        float amax = 0;
        {
          hls::stream<vec_t, 4> w_strm("w"), x_strm("x"), y_strm("y");
          hls::stream<float, 2> amax_strm("amax"), amax_q("amax_q");
          hls::stream<vec_t, MAX_VECTOR_BEATS> y_row("y_row");
          hls::stream<act_chunk_t, 4> q_strm("q");
          TL_DATAFLOW_BEGIN("bench.norm");
          TL_PROCESS(feed_vec(w_strm, norm, lin.cols));
          TL_PROCESS(feed_vec(x_strm, x, lin.cols));
          TL_PROCESS(rmsmax(w_strm, x_strm, lin.cols, 1, true, 1e-5f, amax_strm, y_strm));
          TL_PROCESS(hold_row(amax_strm, y_strm, lin.cols, amax, amax_q, y_row));
          TL_PROCESS(quantize(amax_q, y_row, lin.cols, 1, q_strm));
          TL_PROCESS(collect_chunks(q_strm, act_chunks, chunks));
          TL_DATAFLOW_END();
        }
        // Tiles: call i computes tile i-1 while tile i loads.
        const unsigned tiles = lin.tile_rows.size();
        unsigned row_start = 0;
        for (unsigned call = 0; call <= tiles; call++) {
          const bool load = call < tiles, compute = call > 0;
          const unsigned lrows = load ? lin.tile_rows[call] : 0, crows = compute ? lin.tile_rows[call - 1] : 0;
          hls::stream<beat_t, 32> w("w");
          hls::stream<act_chunk_t, 4> act("act");
          hls::stream<acc_beat_t, 4> acc("acc");
          hls::stream<dq_token_t, 2> dtok("dtok");
          hls::stream<vec_t, 4> side("side"), out("out");
          ap_uint<32> cycles;
          ap_uint<2> status;
          TL_DATAFLOW_BEGIN("bench.tile");
          if (load) TL_PROCESS(weight_fetch(ddr.data(), ddr.data(), ddr.data(), ddr.data(), offsets, tile_beats(lrows, chunks), w));
          if (compute) {
            TL_PROCESS(replay_chunks(act, act_chunks));
            TL_PROCESS(feed_token(dtok, amax));
            TL_PROCESS(dequant(acc, dtok, side, crows, 1, DQ_PLAIN, 0, 0.5f, out));
            TL_PROCESS(drain(out, crows, y, row_start));
          }
          TL_PROCESS(tlmm_engine_hls(load, call % 2, lrows, chunks, w, compute, (call + 1) % 2, lin.cols, crows, 1, act, acc, cycles, status));
          TL_DATAFLOW_END();
          if (status != 0) tl::vectors::die("bench: the engine refused a command");
          if (compute) row_start += crows;
        }
      }
    }
  }
  const double cpu = cpu_seconds() - cpu0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  std::printf("{\"tokens\": %u, \"layers\": %u, \"hidden\": %u, \"cpu_s_per_token\": %.4f, \"wall_s_per_token\": %.4f, \"counters\": ", tokens, layers,
              hidden, cpu / tokens, wall / tokens);
  tl::csim::print_loop_counters(stdout);
  std::printf("}\n");
  return 0;
}
