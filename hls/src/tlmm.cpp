// The TLMM core's C++ model (tlmm.hpp). Loop order and timing follow hw/rtl/tlmm_core.sv: tokens,
// then chunks, then blocks of Q rows, one block per cycle.
#include "tlmm.hpp"

namespace tl {

namespace {

// Cycles of one table build (one prep cycle, then one entry per cycle into every table's LUTRAM).
constexpr unsigned BUILD_CYCLES = 1 + ENTRIES;
// Lookup pipeline depth: address, weight-buffer read (2), lookup, adder tree (log2 T), accumulate.
constexpr unsigned LOOKUP_DEPTH = 1 + 2 + 1 + 5 + 1;

// The ternary digit j (0, 1, 2 for t0, t1, t2) of table index idx = 13 + 9 t0 + 3 t1 + t2.
inline int digit(unsigned idx, unsigned j) {
  unsigned d = j == 0 ? idx / 9 : j == 1 ? (idx / 3) % 3 : idx % 3;
  return (int)d - 1;
}

// Table t of a chunk: entry idx = t0*a0 + t1*a1 + t2*a2 for the chunk's activations 3t..3t+2.
void build_tables(const act_chunk_t &act, table_entry_t table[T][ENTRIES]) {
BUILD_TABLES:
  for (unsigned e = 0; e < ENTRIES; e++) {
#pragma HLS pipeline II = 1
    TL_CSIM_UNROLL
    for (unsigned t = 0; t < T; t++) {
#pragma HLS unroll
      const int a0 = ap_int<8>(act.range(8 * (3 * t) + 7, 8 * (3 * t)));
      const int a1 = ap_int<8>(act.range(8 * (3 * t + 1) + 7, 8 * (3 * t + 1)));
      const int a2 = ap_int<8>(act.range(8 * (3 * t + 2) + 7, 8 * (3 * t + 2)));
      table[t][e] = digit(e, 0) * a0 + digit(e, 1) * a1 + digit(e, 2) * a2;
    }
  }
}

}  // namespace

void tlmm_core(hls::stream<tlmm_cmd_t> &cmd_strm, hls::stream<act_chunk_t> &act_strm, const weight_buffer_t &wbuf,
               hls::stream<tlmm_out_t> &out_strm, tlmm_status_t &status) {
  // Accumulators of one token: one word of Q lanes per block of Q rows (block RAM).
  static acc_t acc[MAX_BLOCKS][Q];
#pragma HLS bind_storage variable = acc type = ram_2p impl = bram
#pragma HLS array_partition variable = acc dim = 2 complete
  // Ping-pong tables: T tables of 27 entries, each read by Q lanes per cycle (LUTRAM, one write port).
  static table_entry_t table[2][T][ENTRIES];
#pragma HLS array_partition variable = table dim = 2 complete
#pragma HLS bind_storage variable = table type = ram_1wnr impl = lutram

  const tlmm_cmd_t cmd = cmd_strm.read();
  const unsigned k = cmd.k, rows = cmd.rows, tokens = cmd.tokens, buf = cmd.buf;
  const unsigned chunks = ceil_div(k, CHUNK);
  const unsigned blocks = ceil_div(rows, Q);
  const unsigned rpb = ceil_div(rows, BANKS); // words per chunk per bank
  const unsigned tail_lanes = rows - Q * (blocks - 1);
  // The same checks as the RTL core: a refused command consumes no activations.
  if (k == 0 || k > hw::K_MAX_PADDED || rows == 0 || rows > hw::MAX_TILE_ROWS || tokens == 0 || tokens > hw::MAX_TOKENS ||
      chunks * rpb > WORDS_PER_BUFFER || buf >= BUFFERS) {
    status.error = true;
    status.cycles = 3;
    return;
  }
  // Modelled cycles: the command (3), the first table build, then per chunk the longer of its
  // lookups and the next build (ping-pong) or their sum (single tables), and the pipeline tail.
  const unsigned per_chunk = hw::TABLE_PINGPONG ? (blocks > BUILD_CYCLES ? blocks : BUILD_CYCLES) : BUILD_CYCLES + blocks + LOOKUP_DEPTH;
  status.error = false;
  status.cycles = 3 + BUILD_CYCLES + tokens * chunks * per_chunk + LOOKUP_DEPTH;

  unsigned bank = 0;
TOKENS:
  for (unsigned tok = 0; tok < tokens; tok++) {
#pragma HLS loop_tripcount max = hw::MAX_TOKENS
  CHUNKS:
    for (unsigned c = 0; c < chunks; c++) {
#pragma HLS loop_tripcount max = hw::MAX_CHUNKS
      build_tables(act_strm.read(), table[bank]);
      TL_LOOP("tlmm.BUILD_TABLES", ENTRIES);
      TL_LOOP("tlmm.LOOKUP", blocks);
      const bool first = c == 0, last = c + 1 == chunks;
      const unsigned chunk_word = c * rpb;
    LOOKUP:
      for (unsigned m = 0; m < blocks; m++) {
#pragma HLS loop_tripcount max = MAX_BLOCKS
#pragma HLS pipeline II = 1
        const unsigned lanes = m + 1 == blocks ? tail_lanes : Q;
        tlmm_out_t beat;
        TL_CSIM_UNROLL
        for (unsigned l = 0; l < Q; l++) {
#pragma HLS unroll
          // Rows Q*m .. Q*m+Q-1: lane l is bank l mod BANKS, word 2m + l div BANKS of this chunk.
          // Lanes past the tile's rows are not read (their word may lie past the tile) and give 0.
          int sum = 0;
          if (l < lanes) {
            const index_vec_t &v = wbuf[buf][l % BANKS][chunk_word + 2 * m + l / BANKS];
            TL_CSIM_UNROLL
            for (unsigned t = 0; t < T; t++) {
#pragma HLS unroll
              sum += table[bank][t][v.range(5 * t + 4, 5 * t)];
            }
          }
          const acc_t a = l < lanes ? acc_t((first ? 0 : (int)acc[m][l]) + psum_t(sum)) : acc_t(0);
          acc[m][l] = a;
          beat.lane[l] = a;
        }
        if (last) {
          beat.last = m + 1 == blocks;
          out_strm.write(beat);
        }
      }
      if (hw::TABLE_PINGPONG) bank ^= 1;
    }
  }
}

}  // namespace tl
