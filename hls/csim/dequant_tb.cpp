// C-simulation driver of the dequantiser with its fused element-wise operations (hls/src/dequant.cpp).
//
//   dequant_tb <case files...>
// Each case (test/hls/elementwise.test.ts, computed with the golden model's pieces: dequantFactor,
// RoPE, binary16 rounding, the residual add, the gate activations): the tile's rows, row_start,
// head_dim, tokens, mode, activation, w_s; accumulators acc [tokens][rows], amax and pos per token,
// the RoPE table (fed as the side beats of the RoPE modes), the side input [tokens][rows] (residual or
// up) and the golden y [tokens][rows].
#include <cstdio>
#include <string>

#include "dequant.hpp"
#include "tl_vectors.hpp"

using namespace tl;
using tl::vectors::Checker;
using tl::vectors::File;
using tl::vectors::f32_bits;

namespace {

// The side beats: the residual or up values of the beat's rows, or (RoPE modes) the table's
// (cos, sin) of each of the beat's pairs at the token's position, as the sequencer's reader
// (hls/src/linear.cpp read_side) brings them: row r is element r mod head_dim of its head.
void feed(hls::stream<acc_beat_t> &acc_strm, hls::stream<dq_token_t> &tok_strm, hls::stream<vec_t> &side_strm, const int32_t *acc, const float *amax,
          const uint32_t *pos, const float *side, const float *rope, unsigned rows, unsigned row_start, unsigned head_dim, unsigned tokens) {
  const unsigned blocks = ceil_div(rows, Q);
  for (unsigned t = 0; t < tokens; t++) {
    tok_strm.write(dq_token_t{amax[t]});
    for (unsigned m = 0; m < blocks; m++) {
      acc_beat_t beat = 0;
      for (unsigned l = 0; l < Q; l++) {
        const unsigned r = m * Q + l;
        const acc_t a = r < rows ? acc[(size_t)t * rows + r] : 0;
        beat.range(hw::ACCUMULATOR_BITS * l + hw::ACCUMULATOR_BITS - 1, hw::ACCUMULATOR_BITS * l) = a.to_uint64();
      }
      acc_strm.write(beat);
      for (unsigned part = 0; (side || rope) && part < Q / LANES; part++) {
        vec_t s = {};
        for (unsigned l = 0; l < LANES; l++) {
          const unsigned r = m * Q + part * LANES + l;
          if (r >= rows) continue;
          if (rope) {
            const unsigned pair = ((row_start + r) % head_dim) / 2;
            s.v[l] = rope[((size_t)pos[t] * (head_dim / 2) + pair) * 2 + (l % 2)];
          } else {
            s.v[l] = side[(size_t)t * rows + r];
          }
        }
        side_strm.write(s);
      }
    }
  }
}

void check(hls::stream<vec_t> &y_strm, const float *y, unsigned rows, unsigned tokens, Checker &chk) {
  const unsigned beats = ceil_div(rows, Q) * (Q / LANES);
  for (unsigned t = 0; t < tokens; t++) {
    for (unsigned m = 0; m < beats; m++) {
      const vec_t v = y_strm.read();
      for (unsigned l = 0; l < LANES; l++) {
        const unsigned r = m * LANES + l;
        const uint32_t want = r < rows ? f32_bits(y[(size_t)t * rows + r]) : 0;
        chk.word(f32_bits(v.v[l]), want, [&] { return "token " + std::to_string(t) + " row " + std::to_string(r); });
      }
    }
  }
}

void run_case(const std::string &path, Checker &chk) {
  File f(path);
  chk.begin_case(path.substr(path.find_last_of('/') + 1));
  const unsigned rows = f.scalar_u32("rows"), tokens = f.scalar_u32("tokens");
  const dq_mode_t mode = static_cast<dq_mode_t>(f.scalar_u32("mode"));
  const float *side = (mode == DQ_RESIDUAL || mode == DQ_GATE) ? f.get("side", tl::vectors::kF32).as<float>() : nullptr;
  const float *rope = mode == DQ_ROPE_F16 ? f.get("rope", tl::vectors::kF32).as<float>() : nullptr;
  hls::stream<acc_beat_t, 4> acc_strm("acc");
  hls::stream<dq_token_t, 2> tok_strm("tok");
  hls::stream<vec_t, 4> side_strm("side"), y_strm("y");
  TL_DATAFLOW_BEGIN("dequant_tb");
  TL_PROCESS(feed(acc_strm, tok_strm, side_strm, f.get("acc", tl::vectors::kI32).as<int32_t>(), f.get("amax", tl::vectors::kF32).as<float>(),
                  f.get("pos", tl::vectors::kU32).as<uint32_t>(), side, rope, rows, f.scalar_u32("row_start"), f.scalar_u32("head_dim"), tokens));
  TL_PROCESS(dequant(acc_strm, tok_strm, side_strm, rows, tokens, mode, f.scalar_u32("activation"), f.scalar_f32("w_s"), y_strm));
  TL_PROCESS(check(y_strm, f.get("y", tl::vectors::kF32).as<float>(), rows, tokens, chk));
  TL_DATAFLOW_END();
  chk.end_case();
}

}  // namespace

int main(int argc, char **argv) {
  Checker chk;
  if (argc < 2) tl::vectors::die("usage: dequant_tb <case files...> (no case files given)");
  for (int i = 1; i < argc; i++) run_case(argv[i], chk);
  return chk.finish();
}
