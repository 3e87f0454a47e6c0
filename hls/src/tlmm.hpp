// TLMM: the C++ model of the RTL core hw/rtl/tlmm_core.sv (docs/numerics.md §6; paper v2 §3.2-3.4),
// behind the same ports: a command (buffer half, K, rows, tokens), one chunk of 3*T int8
// activations per beat (token-major), the weight buffer's read port (Q index vectors of one word
// pair of every bank per cycle), and one beat of Q accumulators per block of Q rows, `last` on a
// token's final block. For synthesis the HLS top instantiates the RTL core as a blackbox in its
// place (hls/README.md).
//
// Per token and chunk: the table builder writes the T 27-entry tables (28 cycles: one prep cycle,
// 27 writes); with ping-pong tables the next chunk's tables are built while this chunk is looked up.
// Then one block of Q rows per cycle: Q*T lookups, T-input adder trees, accumulation in block RAM.
#ifndef TL_TLMM_HPP
#define TL_TLMM_HPP

#include "tl_types.hpp"

namespace tl {

// Status of the last call, as the core's done/error/cycles outputs report it.
struct tlmm_status_t {
  bool error;       // the command was out of range; nothing ran
  uint32_t cycles;  // modelled cycles of the call (pipeline and table-build counts)
};

void tlmm_core(hls::stream<tlmm_cmd_t> &cmd_strm, hls::stream<act_chunk_t> &act_strm, const weight_buffer_t &wbuf,
               hls::stream<tlmm_out_t> &out_strm, tlmm_status_t &status);

}  // namespace tl

#endif  // TL_TLMM_HPP
