// The one Verilator driving loop of the TLMM engine's HLS blackbox, hw/rtl/tlmm_engine_hls.sv
// (ap_ctrl_chain, Vitis FIFO ports): what Vitis C/RTL co-simulation does around an RTL blackbox.
// Two users: sim/tlmm/tb_tlmm_engine.cpp (jobs from a case file, checked against golden
// accumulators) and hls/sim/tlmm_engine_rtl.cpp (the C++ function tlmm_engine_hls() of the HLS top,
// its streams the dataflow region's hls::stream FIFOs).
//
// One call() is one ap_start .. ap_done transaction: the scalars are taken with ap_start, weight
// beats (w) and activation chunks (act) go in and accumulator beats (acc) come out, cycle by cycle,
// until ap_done; cycles and status are read then, and ap_continue ends the call. The model (and
// with it the URAM weight buffer) lives across calls, as the hardware does.
//
// The streams are ports (InPort, OutPort) that say whether an item can move now and, where a
// dataflow producer or consumer exists, wait for one (the C simulation's coroutines run
// meanwhile; the engine's clock stands still, as if the producer were infinitely fast). Each cycle
// the driver first asks the engine what it would do with every FIFO ready (a combinational
// evaluation: no clock edge), then lets a transfer happen only where the port has the item and the
// seeded random back-pressure does not refuse the cycle (probability `stall`: the source idles or
// the sink refuses). The engine uses its valid/ready signals only as handshakes
// (tlmm_weight_writer, tlmm_table_builder, tlmm_out_fifo), so showing a FIFO as non-empty only on
// the cycles it is read is what a real FIFO holding the item looks like to it.
#ifndef TL_TLMM_ENGINE_DRIVER_HPP
#define TL_TLMM_ENGINE_DRIVER_HPP

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "Vtlmm_engine_hls.h"
#include "verilated.h"
#if VM_TRACE
#include "verilated_fst_c.h"
#endif

namespace tlmm_rtl {

// Words of a Verilator signal (uint32 each; a wide bus is VlWide<N>, narrower ones plain integers).
template <typename S>
constexpr size_t words_of() {
  return (sizeof(S) + 3) / 4;
}

// An input FIFO of the engine (w, act), little-endian 32-bit words (bit i of the bus = bit i % 32
// of word i / 32).
class InPort {
 public:
  virtual ~InPort() = default;
  virtual bool ready() = 0;                   // an item can be read now
  virtual bool wait_ready() { return false; } // none now but the engine wants one: wait (true) or refuse this cycle (false)
  virtual void take(uint32_t *words) = 0;     // the engine reads the head
};

// The output FIFO of the engine (acc).
class OutPort {
 public:
  virtual ~OutPort() = default;
  virtual bool ready() = 0;
  virtual bool wait_ready() { return false; }
  virtual void put(const uint32_t *words) = 0;
};

// One call's scalar arguments (the C signature of hw/rtl/tlmm_engine_hls.sv).
struct Call {
  bool load_en = false;
  uint32_t load_buf = 0, load_rows = 0, load_chunks = 0;
  bool compute_en = false;
  uint32_t cmd_buf = 0, k = 0, rows = 0, tokens = 0;
};

struct CallResult {
  uint32_t cycles = 0;  // the engine's `cycles` output: the compute's core cycles
  uint32_t status = 0;  // bit 0: load refused, bit 1: compute refused
  uint64_t ticks = 0;   // clock cycles from ap_start to ap_done (the call's latency)
  bool timed_out = false;
};

class EngineDriver {
 public:
  // args: Verilator runtime arguments (plusargs such as +tlmm_fault_entry=K); seed: random initial
  // state (randReset 2, so a missing reset shows up as a mismatch) and the back-pressure draws.
  EngineDriver(const std::vector<std::string> &args, uint64_t seed, double stall) : ctx_(new VerilatedContext), rng_(seed), stall_(stall) {
    argv_.push_back("tlmm_engine_hls");
    for (const std::string &a : args) argv_.push_back(a);
    std::vector<const char *> argv;
    for (const std::string &a : argv_) argv.push_back(a.c_str());
    ctx_->commandArgs((int)argv.size(), argv.data());
    ctx_->randReset(2);
    ctx_->randSeed(int(seed & 0x7fffffff));
    top_.reset(new Vtlmm_engine_hls(ctx_.get()));
    top_->ap_clk = 0;
    top_->ap_rst = 1;
    top_->ap_start = 0;
    top_->ap_continue = 0;
    top_->w_empty_n = 0;
    top_->act_empty_n = 0;
    top_->acc_full_n = 0;
    top_->eval();
    for (int i = 0; i < 8; i++) tick();
    top_->ap_rst = 0;
    tick();
  }
  ~EngineDriver() {
    top_->final();
#if VM_TRACE
    if (trace_) trace_->close();
#endif
  }
  EngineDriver(const EngineDriver &) = delete;
  EngineDriver &operator=(const EngineDriver &) = delete;

  // A waveform of everything from now on (the tracing build only: VM_TRACE).
  bool open_trace(const std::string &path) {
#if VM_TRACE
    ctx_->traceEverOn(true);
    trace_.reset(new VerilatedFstC);
    top_->trace(trace_.get(), 99);
    trace_->open(path.c_str());
    return true;
#else
    (void)path;
    return false;
#endif
  }

  uint64_t cycle() const { return cycle_; }

  // One call: at most `budget` clock cycles (then timed_out, the engine left mid-call).
  CallResult call(const Call &c, InPort &w, InPort &act, OutPort &acc, uint64_t budget) {
    Verilated::threadContextp(ctx_.get());  // the caller's thread may differ from the last call's (the C ABI allows any thread)
    top_->load_en = c.load_en;
    top_->load_buf = c.load_buf;
    top_->load_rows = c.load_rows;
    top_->load_chunks = c.load_chunks;
    top_->compute_en = c.compute_en;
    top_->cmd_buf = c.cmd_buf;
    top_->k = c.k;
    top_->rows = c.rows;
    top_->tokens = c.tokens;
    top_->ap_start = 1;
    CallResult r;
    const uint64_t start = cycle_;
    for (;;) {
      if (cycle_ - start > budget) {
        top_->ap_start = 0;
        r.timed_out = true;
        break;
      }
      step_streams(w, act, acc);
      const bool taken = top_->ap_ready;  // the scalars are taken at this edge
      const bool done = top_->ap_done;
      if (done) {
        r.cycles = top_->cycles;
        r.status = top_->status;
        top_->ap_continue = 1;
      }
      tick();
      if (taken) top_->ap_start = 0;
      if (done) {
        top_->ap_continue = 0;
        break;
      }
    }
    r.ticks = cycle_ - start;
    return r;
  }

  // n cycles between calls; false when the engine tried to move anything on a stream then.
  bool idle(unsigned n) {
    bool quiet = true;
    for (unsigned i = 0; i < n; i++) {
      top_->w_empty_n = 1;
      top_->act_empty_n = 1;
      top_->acc_full_n = 1;
      top_->eval();
      quiet = quiet && !top_->w_read && !top_->act_read && !top_->acc_write;
      top_->w_empty_n = 0;
      top_->act_empty_n = 0;
      top_->acc_full_n = 0;
      tick();
    }
    return quiet;
  }

 private:
  bool refuse() { return stall_ > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < stall_; }

  // Settle this cycle's stream signals (before its rising edge) and move the items that transfer.
  void step_streams(InPort &w, InPort &act, OutPort &acc) {
    // What would the engine do with every FIFO ready?
    top_->w_empty_n = 1;
    top_->act_empty_n = 1;
    top_->acc_full_n = 1;
    top_->eval();
    const bool w_wants = top_->w_read, act_wants = top_->act_read, acc_wants = top_->acc_write;
    // The output first: its full flag may hold the inputs back.
    const bool acc_fire = acc_wants && !refuse() && (acc.ready() || acc.wait_ready());
    if (acc_wants && !acc_fire) {
      top_->acc_full_n = 0;
      top_->eval();
    }
    const bool w_fire = w_wants && top_->w_read && !refuse() && (w.ready() || w.wait_ready());
    const bool act_fire = act_wants && top_->act_read && !refuse() && (act.ready() || act.wait_ready());
    if (w_fire) {
      take(w, top_->w_dout);
    }
    if (act_fire) {
      take(act, top_->act_dout);
    }
    top_->w_empty_n = w_fire;
    top_->act_empty_n = act_fire;
    if (acc_fire) {
      uint32_t words[words_of<decltype(top_->acc_din)>()];
      read_signal(top_->acc_din, words);
      acc.put(words);
    }
  }

  template <typename S>
  static void take(InPort &in, S &sig) {
    uint32_t words[words_of<S>()] = {};
    in.take(words);
    write_signal(sig, words);
  }
  template <typename S>
  static void write_signal(S &sig, const uint32_t *words) {
    if constexpr (sizeof(S) > 8) {
      for (size_t i = 0; i < words_of<S>(); i++) sig[i] = words[i];
    } else {
      uint64_t v = words[0];
      if (sizeof(S) > 4) v |= uint64_t(words[1]) << 32;
      sig = S(v);
    }
  }
  template <typename S>
  static void read_signal(const S &sig, uint32_t *words) {
    if constexpr (sizeof(S) > 8) {
      for (size_t i = 0; i < words_of<S>(); i++) words[i] = sig[i];
    } else {
      const uint64_t v = sig;
      words[0] = uint32_t(v);
      if (sizeof(S) > 4) words[1] = uint32_t(v >> 32);
    }
  }

  void tick() {
    top_->ap_clk = 1;
    top_->eval();
    dump();
    top_->ap_clk = 0;
    top_->eval();
    dump();
    cycle_++;
  }
  void dump() {
#if VM_TRACE
    if (trace_) trace_->dump(ctx_->time());
#endif
    ctx_->timeInc(1);
  }

  std::vector<std::string> argv_;
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Vtlmm_engine_hls> top_;
#if VM_TRACE
  std::unique_ptr<VerilatedFstC> trace_;
#endif
  std::mt19937_64 rng_;
  double stall_;
  uint64_t cycle_ = 0;
};

}  // namespace tlmm_rtl

#endif  // TL_TLMM_ENGINE_DRIVER_HPP
