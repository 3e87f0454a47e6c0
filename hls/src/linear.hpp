// One TLMM engine call of the sequencer: the compute of one weight tile of a linear for every token
// of the pass, and, side by side, the load of the next tile of the pass into the other half of the
// weight buffer (docs/layout.md §2.3; the engine's call protocol, tlmm_engine_hls.hpp).
//
// Dataflow (one process per arrow's source; each m_axi pointer has one reader or one writer):
//   read_input (ddr_act: amax, input rows) -> quantize -> engine -> dequant -> write_output (ddr_out)
//   weight_fetch (ddr_w0..3) -> engine                    read_side (ddr_side) -> dequant
// The fused operation and what read_side brings follow the dequantiser's mode (dequant.hpp).
#ifndef TL_LINEAR_HPP
#define TL_LINEAR_HPP

#include "accel.hpp"
#include "dequant.hpp"

namespace tl {

struct linear_args_t {
  // Compute: tile rows row_start .. row_start + rows - 1 of a linear with reduction length k, from
  // weight-buffer half `buf`, for `tokens` tokens (token t's input row at in_off + t * in_stride,
  // its absmax at amax_off + t).
  bool compute;
  unsigned k, rows, row_start, tokens, buf;
  uint64_t in_off, in_stride, amax_off;  // words
  dq_mode_t mode;
  unsigned activation;
  float weight_scale;
  uint64_t out_off, out_stride;          // row t of the output (words); the tile writes elements row_start ..
  uint64_t side_off, side_stride;        // residual / up rows (RESIDUAL, GATE), or the RoPE table (ROPE modes)
  unsigned head_dim, pos0;               // RoPE: head size, position of token 0
  // Load: `load_rows` x `load_chunks` index vectors into half `load_buf`, lane p from lane word
  // lane_off[p] of weight port p.
  bool load;
  unsigned load_rows, load_chunks, load_buf;
  uint64_t lane_off[hw::WEIGHT_PORTS];
};

// Returns the engine's status bits (0 when it ran). The sequencer checks every tile against the
// buffer before the pass (a refused compute would leave the other processes waiting, as in RTL).
unsigned linear_call(const word_t *ddr_act, const word_t *ddr_side, word_t *ddr_out, const lane_word_t *ddr_w0, const lane_word_t *ddr_w1,
                     const lane_word_t *ddr_w2, const lane_word_t *ddr_w3, const linear_args_t &a);

}  // namespace tl

#endif  // TL_LINEAR_HPP
