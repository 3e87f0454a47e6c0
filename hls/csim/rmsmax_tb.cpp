// C-simulation driver of RMS-MAX and the quantiser (hls/src/rmsmax.cpp, quantize.cpp), chained as
// in the linear path: rmsmax -> quantize through bounded streams.
//
//   rmsmax_tb <case files...>
// Each case (test/hls/elementwise.test.ts, from host/src/numerics rmsMax / absMax / quantizeToken):
// n, tokens, with_norm, eps, w [n], x [tokens][n]; golden y [tokens][n], amax [tokens] and the
// int8 chunks act [tokens][chunks * CHUNK]. Every word is compared; JSON summary last.
#include <cstdio>
#include <string>
#include <vector>

#include "quantize.hpp"
#include "rmsmax.hpp"
#include "tl_vectors.hpp"

using namespace tl;
using tl::vectors::Checker;
using tl::vectors::File;
using tl::vectors::f32_bits;

namespace {

// The rows, and beside the first one the norm weights beat for beat (rmsmax.hpp).
void feed(hls::stream<vec_t> &w_strm, hls::stream<vec_t> &x_strm, const float *w, const float *x, unsigned n, unsigned tokens, bool with_norm) {
  const unsigned beats = ceil_div(n, LANES);
  for (unsigned t = 0; t < tokens; t++) {
    for (unsigned b = 0; b < beats; b++) {
      if (with_norm && t == 0) {
        vec_t v = {};
        for (unsigned j = 0; j < LANES && b * LANES + j < n; j++) v.v[j] = w[b * LANES + j];
        w_strm.write(v);
      }
      vec_t v = {};
      for (unsigned j = 0; j < LANES && b * LANES + j < n; j++) v.v[j] = x[(size_t)t * n + b * LANES + j];
      x_strm.write(v);
    }
  }
}

// Checks y and amax, and passes them to the quantiser in the order it needs: RMS-MAX sends a row's
// amax after the row, the quantiser takes it first, so the row is held here (in the accelerator
// it waits in DDR).
void tee(hls::stream<float> &amax_in, hls::stream<vec_t> &y_in, hls::stream<float> &amax_out, hls::stream<vec_t> &y_out, unsigned n, unsigned tokens,
         const float *y_golden, const float *amax_golden, Checker &chk) {
  const unsigned beats = ceil_div(n, LANES);
  std::vector<vec_t> row(beats);
  for (unsigned t = 0; t < tokens; t++) {
    for (unsigned b = 0; b < beats; b++) {
      row[b] = y_in.read();
      for (unsigned j = 0; j < LANES && b * LANES + j < n; j++) {
        const unsigned i = b * LANES + j;
        chk.word(f32_bits(row[b].v[j]), f32_bits(y_golden[(size_t)t * n + i]), [&] { return "token " + std::to_string(t) + " y[" + std::to_string(i) + "]"; });
      }
    }
    const float a = amax_in.read();
    chk.word(f32_bits(a), f32_bits(amax_golden[t]), [&] { return "token " + std::to_string(t) + " amax"; });
    amax_out.write(a);
    for (unsigned b = 0; b < beats; b++) y_out.write(row[b]);
  }
}

void check_act(hls::stream<act_chunk_t> &act, unsigned k, unsigned tokens, const int8_t *golden, Checker &chk) {
  const unsigned chunks = ceil_div(k, CHUNK);
  for (unsigned t = 0; t < tokens; t++) {
    for (unsigned c = 0; c < chunks; c++) {
      const act_chunk_t a = act.read();
      for (unsigned j = 0; j < CHUNK; j++) {
        const int got = (int)ap_int<8>(a.range(8 * j + 7, 8 * j));
        const int want = golden[((size_t)t * chunks + c) * CHUNK + j];
        chk.word((uint64_t)(int64_t)got, (uint64_t)(int64_t)want, [&] { return "token " + std::to_string(t) + " q[" + std::to_string(c * CHUNK + j) + "]"; });
      }
    }
  }
}

void run_case(const std::string &path, Checker &chk) {
  File f(path);
  chk.begin_case(path.substr(path.find_last_of('/') + 1));
  const unsigned n = f.scalar_u32("n"), tokens = f.scalar_u32("tokens");
  const bool with_norm = f.scalar_u32("with_norm") != 0;
  const float eps = f.scalar_f32("eps");
  const float *w = f.get("w", tl::vectors::kF32).as<float>();
  const float *x = f.get("x", tl::vectors::kF32).as<float>();
  const float *y = f.get("y", tl::vectors::kF32).as<float>();
  const float *amax = f.get("amax", tl::vectors::kF32).as<float>();
  const int8_t *act = f.get("act", tl::vectors::kI8).as<int8_t>();
  hls::stream<vec_t, 4> w_strm("w"), x_strm("x"), y_strm("y"), yq_strm("yq");
  hls::stream<float, 2> amax_strm("amax"), amaxq_strm("amaxq");
  hls::stream<act_chunk_t, 4> act_strm("act");
  TL_DATAFLOW_BEGIN("rmsmax_tb");
  TL_PROCESS(feed(w_strm, x_strm, w, x, n, tokens, with_norm));
  TL_PROCESS(rmsmax(w_strm, x_strm, n, tokens, with_norm, eps, amax_strm, y_strm));
  TL_PROCESS(tee(amax_strm, y_strm, amaxq_strm, yq_strm, n, tokens, y, amax, chk));
  TL_PROCESS(quantize(amaxq_strm, yq_strm, n, tokens, act_strm));
  TL_PROCESS(check_act(act_strm, n, tokens, act, chk));
  TL_DATAFLOW_END();
  chk.end_case();
}

}  // namespace

int main(int argc, char **argv) {
  Checker chk;
  if (argc < 2) tl::vectors::die("usage: rmsmax_tb <case files...> (no case files given)");
  for (int i = 1; i < argc; i++) run_case(argv[i], chk);
  std::printf("counters ");
  tl::csim::print_loop_counters(stdout);
  std::printf("\n");
  return chk.finish();
}
