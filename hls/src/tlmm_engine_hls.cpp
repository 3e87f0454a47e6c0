// The TLMM engine's C++ model (tlmm_engine_hls.hpp): the weight writer (tlmm_weight_writer.sv), the
// core (tlmm_core.sv) and the call protocol of tlmm_engine_hls.sv. Synthesis uses the RTL instead.
#include "tlmm_engine_hls.hpp"

namespace tl {

namespace {

// The URAM weight buffer: state of the engine between calls.
weight_buffer_t g_wbuf;

// ------------------------------------------------------------------------------- weight writer

constexpr unsigned VB = hw::VECTOR_BITS;
constexpr unsigned BB = hw::BEAT_BITS;
constexpr unsigned MAX_PER_BEAT = (BB + VB - 1) / VB + 1; // vectors that can end in one beat

// Bits [lo, lo + VB) of a beat as an index vector (lo + VB <= BB).
inline index_vec_t vector_at(const beat_t &beat, unsigned lo) {
  index_vec_t v;
  TL_CSIM_UNROLL
  for (unsigned p = 0; p < VB; p += 64) {
    const unsigned n = VB - p < 64 ? VB - p : 64;
    v.range(p + n - 1, p) = beat.range(lo + p + n - 1, lo + p);
  }
  return v;
}

bool load_fits(unsigned rows, unsigned chunks, unsigned buf) {
  return rows != 0 && rows <= hw::MAX_TILE_ROWS && chunks != 0 && chunks <= hw::MAX_CHUNKS && chunks * ceil_div(rows, BANKS) <= WORDS_PER_BUFFER &&
         buf < BUFFERS;
}

// One tile's dense beats (vector n at stream bits [VB*n, VB*n + VB), chunk-major, rows inner) into
// half `buf`: row z of chunk c at bank z mod BANKS, word c*ceil(rows/BANKS) + z div BANKS. Up to
// ceil(BB/VB) vectors of one beat per cycle go to consecutive rows, i.e. different banks.
void weight_writer(hls::stream<beat_t> &w, unsigned rows, unsigned chunks, unsigned buf) {
  const unsigned beats = ceil_div(rows * chunks * VB, BB);
  const unsigned vectors = rows * chunks;
  TL_CYCLES(beats + 3); // one beat per cycle; the gearbox and the URAM write latency
  const unsigned rpb = ceil_div(rows, BANKS);
  TL_LOOP("tlmm_engine.WRITE_BEATS", beats);
  unsigned row = 0, chunk_word = 0, emitted = 0;
  index_vec_t carry = 0; // the low `have` bits of a vector begun in the previous beat
  unsigned have = 0;
WRITE_BEATS:
  for (unsigned b = 0; b < beats; b++) {
#pragma HLS loop_tripcount max = hw::WORDS_PER_BANK_PER_BUFFER * hw::BANKS * hw::VECTOR_BITS / hw::BEAT_BITS
#pragma HLS pipeline II = 1
    const beat_t beat = w.read();
    unsigned lo = 0;
  VECTORS:
    for (unsigned k = 0; k < MAX_PER_BEAT; k++) {
#pragma HLS unroll
      index_vec_t v;
      bool complete = true;
      if (k == 0 && have > 0) {
        v = carry | (vector_at(beat, 0) << have); // the carried vector's missing high bits
        lo = VB - have;
      } else if (lo + VB <= BB) {
        v = vector_at(beat, lo);
        lo += VB;
      } else {
        complete = false;
      }
      if (complete && emitted < vectors) {
        g_wbuf[buf][row % BANKS][chunk_word + row / BANKS] = v;
        emitted++;
        if (++row == rows) {
          row = 0;
          chunk_word += rpb;
        }
      }
    }
    have = BB - lo; // the beat's tail begins the next vector
    carry = have > 0 ? index_vec_t(beat >> lo) : index_vec_t(0);
  }
}

// ---------------------------------------------------------------------------------- the core

// Cycles of one table build (one prep cycle, then one entry per cycle into every table's LUTRAM).
constexpr unsigned BUILD_CYCLES = TABLE_BUILD_CYCLES;
// Lookup pipeline depth (tlmm_core.sv): address, weight-buffer read (WbLatency 2), lookup, adder
// tree (ceil(log2 T) levels), accumulate.
constexpr unsigned LOOKUP_DEPTH = 1 + 2 + 1 + bits_for(T - 1) + 1;

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

bool compute_fits(unsigned k, unsigned rows, unsigned tokens, unsigned buf) {
  return k != 0 && k <= hw::K_MAX_PADDED && rows != 0 && rows <= hw::MAX_TILE_ROWS && tokens != 0 && tokens <= hw::MAX_TOKENS &&
         ceil_div(k, CHUNK) * ceil_div(rows, BANKS) <= WORDS_PER_BUFFER && buf < BUFFERS;
}

// Tokens, then chunks, then blocks of Q rows (one per cycle): Q*T lookups, T-input adder trees,
// accumulation in block RAM; after a token's last chunk its accumulators leave on `acc`.
// Returns the modelled cycles.
uint32_t tlmm_core(hls::stream<act_chunk_t> &act, hls::stream<acc_beat_t> &acc_out, unsigned k, unsigned rows, unsigned tokens, unsigned buf) {
  static acc_t acc[MAX_BLOCKS][Q];
#pragma HLS bind_storage variable = acc type = ram_2p impl = bram
#pragma HLS array_partition variable = acc dim = 2 complete
  // Ping-pong tables: T tables of 27 entries, each read by Q lanes per cycle (LUTRAM, one write port).
  static table_entry_t table[2][T][ENTRIES];
#pragma HLS array_partition variable = table dim = 2 complete
#pragma HLS bind_storage variable = table type = ram_1wnr impl = lutram
  const unsigned chunks = ceil_div(k, CHUNK);
  const unsigned blocks = ceil_div(rows, Q);
  const unsigned rpb = ceil_div(rows, BANKS); // words per chunk per bank
  const unsigned tail_lanes = rows - Q * (blocks - 1);
  unsigned bank = 0;
TOKENS:
  for (unsigned tok = 0; tok < tokens; tok++) {
#pragma HLS loop_tripcount max = hw::MAX_TOKENS
  CHUNKS:
    for (unsigned c = 0; c < chunks; c++) {
#pragma HLS loop_tripcount max = hw::MAX_CHUNKS
      build_tables(act.read(), table[bank]);
      TL_LOOP("tlmm_engine.BUILD_TABLES", ENTRIES);
      TL_LOOP("tlmm_engine.LOOKUP", blocks);
      const bool first = c == 0, last = c + 1 == chunks;
      const unsigned chunk_word = c * rpb;
    LOOKUP:
      for (unsigned m = 0; m < blocks; m++) {
#pragma HLS loop_tripcount max = MAX_BLOCKS
#pragma HLS pipeline II = 1
        const unsigned lanes = m + 1 == blocks ? tail_lanes : Q;
        acc_beat_t beat = 0;
        TL_CSIM_UNROLL
        for (unsigned l = 0; l < Q; l++) {
#pragma HLS unroll
          // Rows Q*m .. Q*m+Q-1: lane l is bank l mod BANKS, word 2m + l div BANKS of this chunk.
          // Lanes past the tile's rows are not read (their word may lie past the tile) and give 0.
          int sum = 0;
          if (l < lanes) {
            const index_vec_t &v = g_wbuf[buf][l % BANKS][chunk_word + 2 * m + l / BANKS];
            TL_CSIM_UNROLL
            for (unsigned t = 0; t < T; t++) {
#pragma HLS unroll
              sum += table[bank][t][v.range(5 * t + 4, 5 * t)];
            }
          }
          const acc_t a = l < lanes ? acc_t((first ? 0 : (int)acc[m][l]) + psum_t(sum)) : acc_t(0);
          acc[m][l] = a;
          beat.range(hw::ACCUMULATOR_BITS * l + hw::ACCUMULATOR_BITS - 1, hw::ACCUMULATOR_BITS * l) = (uint64_t)a.to_uint64();
        }
        if (last) acc_out.write(beat);
      }
      if (hw::TABLE_PINGPONG) bank ^= 1;
    }
  }
  // The command (3 cycles: take, set up, check), the first table build, then per chunk the longer
  // of its lookups and the next build (ping-pong) or their sum (single tables), and the pipeline tail.
  const unsigned per_chunk = hw::TABLE_PINGPONG ? (blocks > BUILD_CYCLES ? blocks : BUILD_CYCLES) : BUILD_CYCLES + blocks + LOOKUP_DEPTH;
  return 3 + BUILD_CYCLES + tokens * chunks * per_chunk + LOOKUP_DEPTH;
}

void run_load(hls::stream<beat_t> &w, unsigned rows, unsigned chunks, unsigned buf, bool &refused) {
  refused = !load_fits(rows, chunks, buf);
  if (!refused) weight_writer(w, rows, chunks, buf);
}

void run_compute(hls::stream<act_chunk_t> &act, hls::stream<acc_beat_t> &acc, unsigned k, unsigned rows, unsigned tokens, unsigned buf, bool &refused,
                 uint32_t &cycles) {
  refused = !compute_fits(k, rows, tokens, buf);
  cycles = refused ? 3 : tlmm_core(act, acc, k, rows, tokens, buf);
  TL_CYCLES(cycles);
}

}  // namespace

}  // namespace tl

void tlmm_engine_hls(bool load_en, ap_uint<tl::BUF_BITS> load_buf, ap_uint<tl::ROW_BITS> load_rows, ap_uint<tl::CHUNK_BITS> load_chunks,
                     hls::stream<tl::beat_t> &w, bool compute_en, ap_uint<tl::BUF_BITS> cmd_buf, ap_uint<tl::K_BITS> k,
                     ap_uint<tl::ROW_BITS> rows, ap_uint<tl::TOKEN_BITS> tokens, hls::stream<tl::act_chunk_t> &act,
                     hls::stream<tl::acc_beat_t> &acc, ap_uint<32> &cycles, ap_uint<2> &status) {
  bool load_refused = false, compute_refused = false;
  uint32_t compute_cycles = 0;
  if (load_en && compute_en && load_buf != cmd_buf) {
    // Different halves: the load and the compute run side by side (their streams advance together).
    TL_DATAFLOW_BEGIN("tlmm_engine");
    TL_PROCESS(tl::run_load(w, load_rows, load_chunks, load_buf, load_refused));
    TL_PROCESS(tl::run_compute(act, acc, k, rows, tokens, cmd_buf, compute_refused, compute_cycles));
    TL_DATAFLOW_END();
  } else {
    // One side only, or both on the same half: the compute first (it uses what was loaded before).
    if (compute_en) tl::run_compute(act, acc, k, rows, tokens, cmd_buf, compute_refused, compute_cycles);
    if (load_en) tl::run_load(w, load_rows, load_chunks, load_buf, load_refused);
  }
  cycles = compute_cycles;
  status = (load_refused ? tl::ENGINE_LOAD_REFUSED : 0u) | (compute_refused ? tl::ENGINE_COMPUTE_REFUSED : 0u);
}
