// One engine call of a linear (linear.hpp).
#include "linear.hpp"

#include "dequant.hpp"
#include "quantize.hpp"
#include "rmsmax.hpp"
#include "tl_numerics.h"
#include "tl_steps.hpp"
#include "tl_tap.hpp"
#include "tlmm_engine_hls.hpp"
#include "weight_loader.hpp"

namespace tl {

namespace {

constexpr unsigned MEM_DEPTH = 4;  // assumed read/write pipeline depth of a burst loop

// Per token: the absmax (to the quantiser and, as the token's record, to the dequantiser), then
// its k input values as LANES-wide beats.
void read_input(const word_t *ddr_act, const linear_args_t &a, hls::stream<float> &amax_strm, hls::stream<dq_token_t> &tok_strm,
                hls::stream<vec_t> &x_strm) {
  const unsigned tokens = a.compute ? a.tokens : 0;
  const unsigned beats = ceil_div(a.k, LANES);
TOKENS:
  for (unsigned t = 0; t < tokens; t++) {
#pragma HLS loop_tripcount max = hw::MAX_TOKENS
    const float amax = tl_bits_f32(ddr_act[a.amax_off + t]);
    amax_strm.write(amax);
    tok_strm.write(dq_token_t{amax});
    TL_PIPELINE("linear.READ_INPUT", beats, 1, MEM_DEPTH);
  READ:
    for (unsigned b = 0; b < beats; b++) {
#pragma HLS loop_tripcount max = MAX_VECTOR_BEATS
#pragma HLS pipeline II = 1
      vec_t v;
      TL_CSIM_UNROLL
      for (unsigned j = 0; j < LANES; j++) v.v[j] = b * LANES + j < a.k ? tl_bits_f32(ddr_act[a.in_off + t * a.in_stride + b * LANES + j]) : 0.0f;
      x_strm.write(v);
    }
  }
}

// The dequantiser's side beats, one per output beat: the residual or up values of the beat's rows,
// or the RoPE table's (cos, sin) of its LANES/2 pairs at the token's position (numerics §7: row r
// of the linear is element r mod head_dim of its head, pair (r mod head_dim) / 2).
void read_side(const word_t *ddr_side, const linear_args_t &a, hls::stream<vec_t> &side_strm) {
  const unsigned tokens = a.compute && dq_reads_side(a.mode) ? a.tokens : 0;
  const unsigned beats = ceil_div(a.rows, Q) * (Q / LANES);
  const bool rope = a.mode == DQ_ROPE || a.mode == DQ_ROPE_F16;
  const unsigned half = a.head_dim / 2;
TOKENS:
  for (unsigned t = 0; t < tokens; t++) {
#pragma HLS loop_tripcount max = hw::MAX_TOKENS
    TL_PIPELINE("linear.READ_SIDE", beats, 1, MEM_DEPTH);
  READ:
    for (unsigned i = 0; i < beats; i++) {
#pragma HLS loop_tripcount max = MAX_BLOCKS * (Q / LANES)
#pragma HLS pipeline II = 1
      vec_t v;
      TL_CSIM_UNROLL
      for (unsigned j = 0; j < LANES; j++) {
        const unsigned r = i * LANES + j;  // row of the tile
        if (r >= a.rows) {
          v.v[j] = 0.0f;
        } else if (rope) {
          const unsigned pair = ((a.row_start + r) % a.head_dim) / 2;
          v.v[j] = tl_bits_f32(ddr_side[a.side_off + ((uint64_t)(a.pos0 + t) * half + pair) * 2 + (j % 2)]);
        } else {
          v.v[j] = tl_bits_f32(ddr_side[a.side_off + t * a.side_stride + a.row_start + r]);
        }
      }
      side_strm.write(v);
    }
  }
}

void write_output(hls::stream<vec_t> &y_strm, word_t *ddr_out, const linear_args_t &a) {
  const unsigned tokens = a.compute ? a.tokens : 0;
  const unsigned beats = ceil_div(a.rows, Q) * (Q / LANES);
TOKENS:
  for (unsigned t = 0; t < tokens; t++) {
#pragma HLS loop_tripcount max = hw::MAX_TOKENS
    TL_PIPELINE("linear.WRITE", beats, 1, MEM_DEPTH);
  WRITE:
    for (unsigned i = 0; i < beats; i++) {
#pragma HLS loop_tripcount max = MAX_BLOCKS * (Q / LANES)
#pragma HLS pipeline II = 1
      const vec_t y = y_strm.read();
      TL_CSIM_UNROLL
      for (unsigned j = 0; j < LANES; j++) {
        const unsigned r = i * LANES + j;
        if (r < a.rows) ddr_out[a.out_off + t * a.out_stride + a.row_start + r] = tl_f32_bits(y.v[j]);
      }
    }
  }
}

// The engine's path through the region, which is longer than its own cycles (the planner's
// tlmmCycles counts the same path, host/src/plan/perf.ts): its first table build waits for the
// first chunk of activations, read and quantised; in each token's last chunk its accumulators
// leave Q rows a cycle while the dequantiser takes LANES, so it waits on the FIFO between them for
// what its next chunk's time does not hide (the last token: all but the chunk's own lookups); and
// after the last token the dequantiser and the writer drain. `engine` is the engine's own count.
uint64_t engine_path(const linear_args_t &a, unsigned engine) {
  if (!a.compute) return 0;
  const unsigned fill = MEM_DEPTH + ceil_div(a.k < CHUNK ? a.k : CHUNK, LANES) + QUANTIZE_DEPTH;
  const unsigned blocks = ceil_div(a.rows, Q), out = blocks * (Q / LANES);
  const unsigned next = blocks > TABLE_BUILD_CYCLES ? blocks : TABLE_BUILD_CYCLES;
  const uint64_t wait = (uint64_t)(a.tokens - 1) * (out > next ? out - next : 0) + (out - blocks);
  return fill + (uint64_t)engine + wait + DEQUANT_DEPTH + MEM_DEPTH;
}

}  // namespace

unsigned linear_call(const word_t *ddr_act, const word_t *ddr_side, word_t *ddr_out, const lane_word_t *ddr_w0, const lane_word_t *ddr_w1,
                     const lane_word_t *ddr_w2, const lane_word_t *ddr_w3, const linear_args_t &a) {
#pragma HLS dataflow
  // Depths: a token record travels from the reader to the dequantiser past a whole token of
  // lookups, so it waits for at most two tokens; the other FIFOs decouple neighbours by a few beats.
  hls::stream<float, 2> amax_strm("linear.amax");
  hls::stream<dq_token_t, 4> tok_strm("linear.tok");
  hls::stream<vec_t, 4> x_strm("linear.x"), side_strm("linear.side"), y_strm("linear.y");
  hls::stream<act_chunk_t, 4> act_strm("linear.act");
  hls::stream<acc_beat_t, 4> acc_strm("linear.acc");
  hls::stream<beat_t, 32> w_strm("linear.w");
  ap_uint<32> cycles;
  ap_uint<2> status;
  const unsigned beats = a.load ? tile_beats(a.load_rows, a.load_chunks) : 0;
  const unsigned dq_tokens = a.compute ? a.tokens : 0;
  TL_DATAFLOW_BEGIN("linear");
  TL_PROCESS(read_input(ddr_act, a, amax_strm, tok_strm, x_strm));
  TL_PROCESS(quantize(amax_strm, x_strm, a.k, dq_tokens, act_strm));
  TL_PROCESS(weight_fetch(ddr_w0, ddr_w1, ddr_w2, ddr_w3, a.lane_off, beats, w_strm));
  TL_PROCESS(tlmm_engine_hls(a.load, a.load_buf, a.load_rows, a.load_chunks, w_strm, a.compute, a.buf, a.k, a.rows, a.tokens, act_strm, acc_strm,
                             cycles, status));
  TL_PROCESS(read_side(ddr_side, a, side_strm));
  TL_PROCESS(dequant(acc_strm, tok_strm, side_strm, a.rows, dq_tokens, a.mode, a.activation, a.weight_scale, y_strm));
  TL_PROCESS(write_output(y_strm, ddr_out, a));
  TL_DATAFLOW_PATH(engine_path(a, cycles.to_uint()));
  TL_DATAFLOW_END();
  return status.to_uint();
}

}  // namespace tl
