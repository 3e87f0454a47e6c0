// The RMS-MAX step (norm_pass.hpp).
#include "norm_pass.hpp"

#include "rmsmax.hpp"
#include "tl_numerics.h"
#include "tl_tap.hpp"

namespace tl {

namespace {

constexpr unsigned MEM_DEPTH = 4;  // assumed read/write pipeline depth of a burst loop

// Beat b of a vector of n binary32 values in DDR (LANES values, the last beat zero-padded).
vec_t read_beat(const word_t *mem, uint64_t off, unsigned b, unsigned n) {
  vec_t v;
  TL_CSIM_UNROLL
  for (unsigned j = 0; j < LANES; j++) v.v[j] = b * LANES + j < n ? tl_bits_f32(mem[off + b * LANES + j]) : 0.0f;
  return v;
}

// The rows, and beside the first one the norm weights beat for beat (rmsmax.hpp).
void read_rows(const word_t *ddr_act, const norm_args_t &a, hls::stream<vec_t> &w_strm, hls::stream<vec_t> &x_strm) {
  const unsigned beats = ceil_div(a.n, LANES);
ROWS:
  for (unsigned t = 0; t < a.tokens; t++) {
#pragma HLS loop_tripcount max = hw::MAX_TOKENS
    const bool weights = a.with_norm && t == 0;
    TL_PIPELINE("norm_pass.READ", beats, 1, MEM_DEPTH);
  READ:
    for (unsigned b = 0; b < beats; b++) {
#pragma HLS loop_tripcount max = MAX_VECTOR_BEATS
#pragma HLS pipeline II = 1
      if (weights) w_strm.write(read_beat(ddr_act, a.w_off, b, a.n));
      x_strm.write(read_beat(ddr_act, a.x_off + t * a.x_stride, b, a.n));
    }
  }
}

void write_rows(hls::stream<float> &amax_strm, hls::stream<vec_t> &y_strm, word_t *ddr_out, const norm_args_t &a) {
  const unsigned beats = ceil_div(a.n, LANES);
ROWS:
  for (unsigned t = 0; t < a.tokens; t++) {
#pragma HLS loop_tripcount max = hw::MAX_TOKENS
    TL_PIPELINE("norm_pass.WRITE", beats, 1, MEM_DEPTH);
  WRITE:
    for (unsigned b = 0; b < beats; b++) {
#pragma HLS loop_tripcount max = MAX_VECTOR_BEATS
#pragma HLS pipeline II = 1
      const vec_t y = y_strm.read();
      if (!a.with_norm) continue;  // the plain absmax: the consumer reads the input rows
      TL_CSIM_UNROLL
      for (unsigned j = 0; j < LANES; j++) {
        if (b * LANES + j < a.n) {
          ddr_out[a.y_off + t * a.y_stride + b * LANES + j] = tl_f32_bits(y.v[j]);
          TL_TAP(TAP_RESULT, t, b * LANES + j, a.n, y.v[j]);
        }
      }
    }
    const float amax = amax_strm.read();  // follows its row
    ddr_out[a.amax_off + t] = tl_f32_bits(amax);
    TL_TAP(TAP_AMAX, t, 0, 1, amax);
  }
}

}  // namespace

void norm_pass(const word_t *ddr_act, word_t *ddr_out, const norm_args_t &a) {
#pragma HLS dataflow
  hls::stream<vec_t, 4> w_strm("norm_pass.w"), x_strm("norm_pass.x"), y_strm("norm_pass.y");
  hls::stream<float, 2> amax_strm("norm_pass.amax");
  TL_DATAFLOW_BEGIN("norm_pass");
  TL_PROCESS(read_rows(ddr_act, a, w_strm, x_strm));
  TL_PROCESS(rmsmax(w_strm, x_strm, a.n, a.tokens, a.with_norm, a.eps, amax_strm, y_strm));
  TL_PROCESS(write_rows(amax_strm, y_strm, ddr_out, a));
  TL_DATAFLOW_END();
}

}  // namespace tl
