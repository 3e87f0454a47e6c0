// The RMS-MAX step (norm_pass.hpp).
#include "norm_pass.hpp"

#include "rmsmax.hpp"
#include "tl_numerics.h"
#include "tl_tap.hpp"

namespace tl {

namespace {

constexpr unsigned MEM_DEPTH = 4;  // assumed read/write pipeline depth of a burst loop

// One vector of n binary32 values from DDR as LANES-wide beats (the last zero-padded).
void read_vector(const word_t *mem, uint64_t off, unsigned n, hls::stream<vec_t> &out) {
  const unsigned beats = ceil_div(n, LANES);
  TL_PIPELINE("norm_pass.READ", beats, 1, MEM_DEPTH);
READ:
  for (unsigned b = 0; b < beats; b++) {
#pragma HLS loop_tripcount max = MAX_VECTOR_BEATS
#pragma HLS pipeline II = 1
    vec_t v;
    TL_CSIM_UNROLL
    for (unsigned j = 0; j < LANES; j++) v.v[j] = b * LANES + j < n ? tl_bits_f32(mem[off + b * LANES + j]) : 0.0f;
    out.write(v);
  }
}

void read_rows(const word_t *ddr_act, const norm_args_t &a, hls::stream<vec_t> &w_strm, hls::stream<vec_t> &x_strm) {
  if (a.with_norm) read_vector(ddr_act, a.w_off, a.n, w_strm);
ROWS:
  for (unsigned t = 0; t < a.tokens; t++) {
#pragma HLS loop_tripcount max = hw::MAX_TOKENS
    read_vector(ddr_act, a.x_off + t * a.x_stride, a.n, x_strm);
  }
}

void write_rows(hls::stream<float> &amax_strm, hls::stream<vec_t> &y_strm, word_t *ddr_out, const norm_args_t &a) {
  const unsigned beats = ceil_div(a.n, LANES);
ROWS:
  for (unsigned t = 0; t < a.tokens; t++) {
#pragma HLS loop_tripcount max = hw::MAX_TOKENS
    const float amax = amax_strm.read();
    ddr_out[a.amax_off + t] = tl_f32_bits(amax);
    TL_TAP(TAP_AMAX, t, 0, 1, amax);
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
