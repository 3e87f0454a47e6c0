// The TLMM engine at fidelity rtl: the Verilated tlmm_engine of hw/rtl (built for one board,
// VB_RTL_BOARD) driven cycle by cycle through its ports — a tile's dense beats into buffer half 0,
// then one command whose activation beats go in and whose Q-lane accumulator beats come out —
// as the accelerator's top will drive it (its HLS blackbox wrapper). Full rate (no back-pressure:
// sim/tlmm's testbench covers that); every wait is bounded, and a refusal or a protocol slip is a
// ModelFault, which the firmware reports as an accelerator fault.
#include <cstring>
#include <memory>
#include <string>

#include "Vtlmm_engine.h"
#include "config.hpp"  // Generated: hls/gen/<board>/config.hpp, the build the RTL package was generated for.
#include "tile_engine.hpp"
#include "verilated.h"

#ifndef VB_RTL_BOARD
#error "VB_RTL_BOARD (the board whose Verilated engine is linked) must be defined"
#endif

namespace tl_sim {
namespace {

constexpr uint32_t kBeatBytes = tellme_hw::BEAT_BITS / 8;
constexpr uint32_t kChunk = tellme_hw::CHUNK_ELEMENTS;
constexpr uint32_t kQ = tellme_hw::PARALLEL_VECTORS;
constexpr uint32_t kAccBits = tellme_hw::ACCUMULATOR_BITS;
constexpr uint32_t kTables = kChunk / tellme_hw::GROUP_SIZE;

template <typename W>
void set_wide(W& sig, const uint8_t* bytes, size_t nbytes) {
  constexpr size_t words = sizeof(W) / sizeof(uint32_t);
  for (size_t w = 0; w < words; w++) {
    uint32_t v = 0;
    for (size_t b = 0; b < 4; b++) {
      const size_t i = 4 * w + b;
      if (i < nbytes) v |= uint32_t(bytes[i]) << (8 * b);
    }
    sig[w] = v;
  }
}

template <typename W>
int32_t lane(const W& sig, uint32_t l) {
  uint64_t v = 0;
  const uint32_t lo = l * kAccBits;
  for (uint32_t b = 0; b < kAccBits; b++) {
    const uint32_t bit = lo + b;
    v |= uint64_t((sig[bit / 32] >> (bit % 32)) & 1u) << b;
  }
  if (v >> (kAccBits - 1)) v |= ~uint64_t(0) << kAccBits;  // sign-extend
  return int32_t(int64_t(v));
}

class RtlEngine : public TileEngine {
 public:
  RtlEngine(const tl_board_desc& b, uint64_t seed) : ctx_(std::make_unique<VerilatedContext>()) {
    if (b.beat_bits / 8 != kBeatBytes || b.chunk_elements != kChunk || b.parallel_vectors != kQ || b.accumulator_bits != kAccBits)
      throw ModelFault(std::string("the Verilated engine's build (") + VB_RTL_BOARD + ") differs from " + b.board_name);
    // No plusargs: the RTL's simulation-only fault hook (+tlmm_fault_entry) stays off.
    static const char* no_args[] = {"tellme-vboard"};
    ctx_->commandArgs(1, no_args);
    ctx_->randReset(2);  // random initial state: a missing reset shows as a mismatch
    ctx_->randSeed(int(seed & 0x7fffffff));
    top_ = std::make_unique<Vtlmm_engine>(ctx_.get());
    top_->ap_clk = 0;
    top_->ap_rst_n = 0;
    top_->load_valid_i = 0;
    top_->cmd_valid_i = 0;
    top_->s_axis_w_tvalid = 0;
    top_->s_axis_act_tvalid = 0;
    top_->m_axis_acc_tready = 0;
    top_->eval();
    for (int i = 0; i < 8; i++) tick();
    top_->ap_rst_n = 1;
    tick();
  }

  ~RtlEngine() override { top_->final(); }

  void run(const Tile& tile, const int8_t* act, uint32_t tokens, int32_t* acc) override {
    load(tile);
    compute(tile, act, tokens, acc);
    lookups_ += uint64_t(tile.rows) * tile.chunks * kTables * tokens;
  }

  uint64_t cycles() const { return cycles_; }

 private:
  void tick() {
    top_->ap_clk = 1;
    top_->eval();
    ctx_->timeInc(1);
    top_->ap_clk = 0;
    top_->eval();
    ctx_->timeInc(1);
    cycles_++;
  }

  uint64_t budget(uint64_t work) const { return cycles_ + 10000 + 4 * work; }

  void load(const Tile& tile) {
    const size_t beats = tile.beats.size() / kBeatBytes;
    size_t next = 0;
    bool cmd = true;
    const uint64_t limit = budget(beats);
    for (;;) {
      if (cycles_ > limit) throw ModelFault("the Verilated engine did not finish loading a tile of " + std::to_string(tile.rows) + " rows");
      top_->load_valid_i = cmd;
      top_->load_buf_i = 0;
      top_->load_rows_i = tile.rows;
      top_->load_chunks_i = tile.chunks;
      top_->s_axis_w_tvalid = next < beats;
      if (next < beats) set_wide(top_->s_axis_w_tdata, &tile.beats[next * kBeatBytes], kBeatBytes);
      top_->eval();
      const bool cmd_fire = top_->load_valid_i && top_->load_ready_o;
      const bool beat_fire = top_->s_axis_w_tvalid && top_->s_axis_w_tready;
      tick();
      if (cmd_fire) cmd = false;
      if (beat_fire) next++;
      if (top_->load_done_o) {
        if (top_->load_error_o) throw ModelFault("the Verilated engine refused a tile of " + std::to_string(tile.rows) + " rows x " + std::to_string(tile.chunks) + " chunks");
        if (next != beats) throw ModelFault("the Verilated engine took " + std::to_string(next) + " of " + std::to_string(beats) + " beats");
        break;
      }
    }
    top_->load_valid_i = 0;
    top_->s_axis_w_tvalid = 0;
  }

  void compute(const Tile& tile, const int8_t* act, uint32_t tokens, int32_t* acc) {
    const size_t act_beats = size_t(tokens) * tile.chunks, blocks = (tile.rows + kQ - 1) / kQ, out_beats = size_t(tokens) * blocks;
    size_t next = 0, out = 0;
    bool cmd = true;
    const uint64_t limit = budget(act_beats * (blocks + 2) + out_beats);
    for (;;) {
      if (cycles_ > limit) throw ModelFault("the Verilated engine did not finish a command of " + std::to_string(tokens) + " tokens");
      top_->cmd_valid_i = cmd;
      top_->cmd_buf_i = 0;
      top_->cmd_k_i = tile.k;
      top_->cmd_rows_i = tile.rows;
      top_->cmd_tokens_i = tokens;
      top_->s_axis_act_tvalid = next < act_beats;
      if (next < act_beats) set_wide(top_->s_axis_act_tdata, reinterpret_cast<const uint8_t*>(act + next * kChunk), kChunk);
      top_->m_axis_acc_tready = 1;
      top_->eval();
      const bool cmd_fire = top_->cmd_valid_i && top_->cmd_ready_o;
      const bool act_fire = top_->s_axis_act_tvalid && top_->s_axis_act_tready;
      if (top_->m_axis_acc_tvalid && top_->m_axis_acc_tready) {
        if (out >= out_beats) throw ModelFault("the Verilated engine sent an accumulator beat too many");
        const size_t t = out / blocks, m = out % blocks;
        if (bool(top_->m_axis_acc_tlast) != (m + 1 == blocks)) throw ModelFault("the Verilated engine's tlast is off at token " + std::to_string(t));
        for (uint32_t l = 0; l < kQ && m * kQ + l < tile.rows; l++) acc[t * tile.rows + m * kQ + l] = lane(top_->m_axis_acc_tdata, l);
        out++;
      }
      tick();
      if (cmd_fire) cmd = false;
      if (act_fire) next++;
      if (top_->cmd_done_o) {
        if (top_->cmd_error_o) throw ModelFault("the Verilated engine refused a command (K " + std::to_string(tile.k) + ", " + std::to_string(tokens) + " tokens)");
        if (out != out_beats || next != act_beats) throw ModelFault("the Verilated engine finished after " + std::to_string(out) + " of " + std::to_string(out_beats) + " accumulator beats");
        break;
      }
    }
    top_->cmd_valid_i = 0;
    top_->s_axis_act_tvalid = 0;
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vtlmm_engine> top_;
  uint64_t cycles_ = 0;
};

}  // namespace

std::unique_ptr<TileEngine> make_rtl_engine(const tl_board_desc& board, uint64_t seed) {
  if (std::strcmp(board.board_name, VB_RTL_BOARD) != 0) {
    throw ModelFault(std::string("this virtual board carries the Verilated TLMM engine of ") + VB_RTL_BOARD + " only, not of " + board.board_name +
                     " (make vboard VB_RTL_BOARD=" + board.board_name + " builds another)");
  }
  return std::make_unique<RtlEngine>(board, seed);
}

const char* rtl_engine_boards() { return VB_RTL_BOARD; }

}  // namespace tl_sim
