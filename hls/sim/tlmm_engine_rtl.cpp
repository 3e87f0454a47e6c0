// tlmm_engine_hls() at RTL fidelity: the same function as hls/src/tlmm_engine_hls.cpp (same
// signature, same stream protocol), implemented by the Verilated hw/rtl tlmm_engine_hls — what
// Vitis C/RTL co-simulation runs in place of the C model (hw/gen/<board>/tlmm_engine_hls.json).
// The whole accelerator linked with this file instead of the C model
// (build/hls/libtellme_hls_accel_rtl.a) runs every linear through the real RTL core, clocked
// cycle by cycle by sim/tlmm/tlmm_engine_driver.hpp; the weight buffer is the RTL's, kept across
// calls.
//
// Environment (read at the first call):
//   TL_RTL_STALL     probability that a stream refuses a cycle (random valid/ready back-pressure
//                    on w, act and acc; default 0.3, 0 = full rate)
//   TL_RTL_SEED      seed of the back-pressure and of the RTL's random initial state (default 1)
//   TL_RTL_PLUSARGS  Verilator runtime arguments, space-separated, e.g. +tlmm_fault_entry=22
//                    (flips bit 0 of entry 22 of table 0 as the tables are written: a planted fault)
// The call's clock cycles (ap_start to ap_done, back-pressure included) are its modelled cycles
// (TL_CYCLES: the engine's process in the linear's dataflow region), `cycles` is the RTL core's
// own counter, as from the C model.
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "tlmm_engine_driver.hpp"  // sim/tlmm
#include "tlmm_engine_hls.hpp"

namespace {

using tlmm_rtl::InPort;
using tlmm_rtl::OutPort;

// An hls::stream of ap_uint<W> as the engine's FIFO port: waiting blocks this dataflow process
// (the producer or consumer runs; a deadlock is reported by the stream scheduler).
template <typename T>
class StreamIn : public InPort {
 public:
  explicit StreamIn(hls::stream<T> &s) : s_(s) {}
  bool ready() override { return !s_.empty(); }
  bool wait_ready() override {
    tl::csim::Scheduler::get().wait(tl::csim::Process::kWaitRead, s_, [this] { return !s_.empty(); }, "read from an empty stream (by the RTL engine)");
    return true;
  }
  void take(uint32_t *words) override {
    const T v = s_.read();
    for (int lo = 0; lo < T::width; lo += 32) words[lo / 32] = (uint32_t)v.range(lo + 31 < T::width ? lo + 31 : T::width - 1, lo);
  }

 private:
  hls::stream<T> &s_;
};

template <typename T>
class StreamOut : public OutPort {
 public:
  explicit StreamOut(hls::stream<T> &s) : s_(s) {}
  bool ready() override { return !s_.full(); }
  bool wait_ready() override {
    tl::csim::Scheduler::get().wait(tl::csim::Process::kWaitWrite, s_, [this] { return !s_.full(); }, "write to a full stream (by the RTL engine)");
    return true;
  }
  void put(const uint32_t *words) override {
    T v = 0;
    for (int lo = 0; lo < T::width; lo += 32) v.range(lo + 31 < T::width ? lo + 31 : T::width - 1, lo) = words[lo / 32];
    s_.write(v);
  }

 private:
  hls::stream<T> &s_;
};

double env_number(const char *name, double fallback) {
  const char *s = std::getenv(name);
  if (!s || !*s) return fallback;
  char *end = nullptr;
  const double v = std::strtod(s, &end);
  if (*end != '\0') tl::csim::fail(std::string(name) + "=" + s + " is not a number");
  return v;
}

struct Settings {
  double stall;
  uint64_t seed;
  std::vector<std::string> plusargs;
};

Settings settings_from_env() {
  Settings s;
  s.stall = env_number("TL_RTL_STALL", 0.3);
  if (!(s.stall >= 0 && s.stall < 1)) tl::csim::fail("TL_RTL_STALL must lie in [0, 1) (0 = full rate)");
  const double seed = env_number("TL_RTL_SEED", 1);
  if (seed < 0 || seed != (double)(uint64_t)seed) tl::csim::fail("TL_RTL_SEED must be a whole number >= 0");
  s.seed = (uint64_t)seed;
  if (const char *a = std::getenv("TL_RTL_PLUSARGS")) {
    std::istringstream in(a);
    for (std::string arg; in >> arg;) s.plusargs.push_back(arg);
  }
  return s;
}

// The one engine of the process (the hardware has one): made at the first call, never destroyed
// (static destruction order at exit is no business of a simulated core).
tlmm_rtl::EngineDriver &engine() {
  static tlmm_rtl::EngineDriver *e = [] {
    const Settings s = settings_from_env();
    return new tlmm_rtl::EngineDriver(s.plusargs, s.seed, s.stall);
  }();
  return *e;
}

}  // namespace

void tlmm_engine_hls(bool load_en, ap_uint<tl::BUF_BITS> load_buf, ap_uint<tl::ROW_BITS> load_rows, ap_uint<tl::CHUNK_BITS> load_chunks,
                     hls::stream<tl::beat_t> &w, bool compute_en, ap_uint<tl::BUF_BITS> cmd_buf, ap_uint<tl::K_BITS> k,
                     ap_uint<tl::ROW_BITS> rows, ap_uint<tl::TOKEN_BITS> tokens, hls::stream<tl::act_chunk_t> &act,
                     hls::stream<tl::acc_beat_t> &acc, ap_uint<32> &cycles, ap_uint<2> &status) {
  tlmm_rtl::Call c;
  c.load_en = load_en;
  c.load_buf = (uint32_t)load_buf.to_uint64();
  c.load_rows = (uint32_t)load_rows.to_uint64();
  c.load_chunks = (uint32_t)load_chunks.to_uint64();
  c.compute_en = compute_en;
  c.cmd_buf = (uint32_t)cmd_buf.to_uint64();
  c.k = (uint32_t)k.to_uint64();
  c.rows = (uint32_t)rows.to_uint64();
  c.tokens = (uint32_t)tokens.to_uint64();
  StreamIn<tl::beat_t> w_port(w);
  StreamIn<tl::act_chunk_t> act_port(act);
  StreamOut<tl::acc_beat_t> acc_port(acc);
  // A bound on the call's clock cycles (the work at one item per cycle, a table build per chunk,
  // 20x for the back-pressure): past it the RTL hangs, which the C model cannot do.
  const uint64_t beats = c.load_en ? tl::ceil_div(c.load_rows * c.load_chunks * tl::hw::VECTOR_BITS, tl::hw::BEAT_BITS) : 0;
  const uint64_t work = c.compute_en ? (uint64_t)c.tokens * tl::ceil_div(c.k, tl::CHUNK) * (tl::ceil_div(c.rows, tl::Q) + tl::ENTRIES + 8) : 0;
  const tlmm_rtl::CallResult r = engine().call(c, w_port, act_port, acc_port, 20 * (1000 + beats + work));
  if (r.timed_out) {
    tl::csim::fail("the RTL engine did not finish a call in " + std::to_string(r.ticks) + " cycles (load " + std::to_string(c.load_rows) + " rows x " +
                   std::to_string(c.load_chunks) + " chunks: " + (c.load_en ? "on" : "off") + ", compute K " + std::to_string(c.k) + " x " +
                   std::to_string(c.rows) + " rows x " + std::to_string(c.tokens) + " tokens: " + (c.compute_en ? "on" : "off") + ")");
  }
  TL_CYCLES(r.ticks);
  cycles = r.cycles;
  status = r.status;
}
