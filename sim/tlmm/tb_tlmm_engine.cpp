// Verilator testbench of tlmm_engine (hw/rtl): reads a case file written by the TypeScript side
// (host/src/verify/rtl-case.ts; format in sim/README.md), loads each job's weight tile through the
// beat stream, runs the job's tokens through the core and compares every accumulator with the
// golden values in the file. With two buffer halves, job i+1 loads while job i computes.
// Every stream sees random valid/ready back-pressure (seeded). Prints one JSON line; exit status
// 0 = all equal, 1 = a mismatch or a protocol error, 2 = bad usage or input, 3 = timeout.
//
//   Vtlmm_engine CASE_FILE [--seed N] [--stall P] [--sink-lanes L] [--trace FILE.fst] [--max-report N]
//                [+tlmm_fault_entry=K]
// --sink-lanes L: the accumulator sink takes L lanes per cycle (one beat of Q every ceil(Q/L)
// cycles), like the fused element-wise stages behind the core (the planner's elementwise_lanes).
// (--trace needs the tracing build, make rtl-sim RTL_TRACE=1.)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "Vtlmm_engine.h"
#include "config.hpp"  // Generated: hls/gen/<board>/config.hpp, the same build as the RTL package.
#include "verilated.h"
#if VM_TRACE
#include "verilated_fst_c.h"
#endif

namespace {

constexpr uint32_t kBeatBits = tellme_hw::BEAT_BITS;
constexpr uint32_t kBeatBytes = kBeatBits / 8;
constexpr uint32_t kChunk = tellme_hw::CHUNK_ELEMENTS;
constexpr uint32_t kQ = tellme_hw::PARALLEL_VECTORS;
constexpr uint32_t kAccBits = tellme_hw::ACCUMULATOR_BITS;
constexpr uint32_t kBuffers = tellme_hw::BUFFERS;

[[noreturn]] void die(int code, const std::string& msg) {
  std::fprintf(stderr, "tb_tlmm_engine: %s\n", msg.c_str());
  std::exit(code);
}

struct Job {
  uint32_t rows = 0, chunks = 0, k = 0, tokens = 0, flags = 0;
  std::vector<uint8_t> weights;    // beats * kBeatBytes
  std::vector<int8_t> act;         // [tokens][chunks * kChunk]
  std::vector<int32_t> expected;   // [tokens][rows]
  bool expect_refusal() const { return flags & 1u; }
};

class Reader {
 public:
  explicit Reader(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) die(2, "cannot open case file " + path);
    std::fseek(f, 0, SEEK_END);
    long n = std::ftell(f);
    std::fseek(f, 0, SEEK_SET);
    data_.resize(static_cast<size_t>(n));
    if (n > 0 && std::fread(data_.data(), 1, data_.size(), f) != data_.size()) die(2, "cannot read " + path);
    std::fclose(f);
  }
  void bytes(void* out, size_t n) {
    if (pos_ + n > data_.size()) die(2, "case file truncated at byte " + std::to_string(pos_));
    std::memcpy(out, data_.data() + pos_, n);
    pos_ += n;
  }
  uint32_t u32() {
    uint8_t b[4];
    bytes(b, 4);
    return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
  }
  bool at_end() const { return pos_ == data_.size(); }

 private:
  std::vector<uint8_t> data_;
  size_t pos_ = 0;
};

std::vector<Job> read_cases(const std::string& path) {
  Reader r(path);
  char magic[8];
  r.bytes(magic, 8);
  if (std::memcmp(magic, "TLMMCAS1", 8) != 0) die(2, path + ": not a TLMM case file (magic TLMMCAS1)");
  const uint32_t beat_bytes = r.u32(), chunk = r.u32(), q = r.u32(), acc_bits = r.u32();
  if (beat_bytes != kBeatBytes || chunk != kChunk || q != kQ || acc_bits != kAccBits) {
    die(2, path + ": written for another build (beat " + std::to_string(beat_bytes) + " B, chunk " + std::to_string(chunk) +
               ", Q " + std::to_string(q) + ", acc " + std::to_string(acc_bits) + " bits) than this simulator (" +
               std::to_string(kBeatBytes) + ", " + std::to_string(kChunk) + ", " + std::to_string(kQ) + ", " +
               std::to_string(kAccBits) + ")");
  }
  const uint32_t n = r.u32();
  std::vector<Job> jobs(n);
  for (auto& j : jobs) {
    j.rows = r.u32();
    j.chunks = r.u32();
    j.k = r.u32();
    j.tokens = r.u32();
    j.flags = r.u32();
    const uint32_t wbytes = r.u32();
    if (wbytes % kBeatBytes != 0) die(2, path + ": weight stream is not whole beats");
    j.weights.resize(wbytes);
    r.bytes(j.weights.data(), wbytes);
    j.act.resize(size_t(j.tokens) * j.chunks * kChunk);
    r.bytes(j.act.data(), j.act.size());
    j.expected.resize(size_t(j.tokens) * j.rows);
    r.bytes(j.expected.data(), j.expected.size() * 4);
  }
  if (!r.at_end()) die(2, path + ": trailing bytes after the last job");
  return jobs;
}

// Little-endian byte copy into a Verilator wide signal (bit i of the bus = bit i%8 of byte i/8).
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

// A stream source that holds valid and data until the handshake (AXI rule) and idles randomly.
struct Source {
  size_t next = 0, total = 0;
  bool valid = false;
  void offer(std::mt19937_64& rng, double stall) {
    if (!valid && next < total) valid = std::uniform_real_distribution<double>(0, 1)(rng) >= stall;
  }
};

}  // namespace

int main(int argc, char** argv) {
  std::string case_path, trace_path;
  uint64_t seed = 1;
  double stall = 0.3;
  size_t max_report = 5;
  uint32_t sink_lanes = kQ;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&](const char* name) {
      if (i + 1 >= argc) die(2, std::string(name) + " needs a value");
      return std::string(argv[++i]);
    };
    if (a == "--seed") seed = std::stoull(value("--seed"));
    else if (a == "--stall") stall = std::stod(value("--stall"));
    else if (a == "--trace") trace_path = value("--trace");
    else if (a == "--max-report") max_report = std::stoul(value("--max-report"));
    else if (a == "--sink-lanes") sink_lanes = uint32_t(std::stoul(value("--sink-lanes")));
    else if (!a.empty() && a[0] == '+') continue;  // Verilator runtime options
    else if (case_path.empty()) case_path = a;
    else die(2, "unexpected argument " + a);
  }
  if (case_path.empty()) die(2, "usage: Vtlmm_engine CASE_FILE [--seed N] [--stall P] [--trace FILE.fst]");
  if (stall < 0 || stall >= 1) die(2, "--stall must be in [0, 1)");
  if (sink_lanes < 1) die(2, "--sink-lanes must be at least 1");
  const uint64_t sink_period = (kQ + sink_lanes - 1) / sink_lanes;  // cycles per accepted beat
  uint64_t sink_next = 0;                                          // first cycle the sink takes again
  const std::vector<Job> jobs = read_cases(case_path);

  auto ctx = std::make_unique<VerilatedContext>();
  ctx->commandArgs(argc, argv);
  ctx->randReset(2);  // random initial values: a missing reset shows up as a mismatch
  ctx->randSeed(int(seed & 0x7fffffff));
  auto top = std::make_unique<Vtlmm_engine>(ctx.get());
#if VM_TRACE
  std::unique_ptr<VerilatedFstC> trace;
  if (!trace_path.empty()) {
    ctx->traceEverOn(true);
    trace = std::make_unique<VerilatedFstC>();
    top->trace(trace.get(), 99);
    trace->open(trace_path.c_str());
  }
#define TB_DUMP() \
  do {                \
    if (trace) trace->dump(ctx->time()); \
  } while (0)
#else
  if (!trace_path.empty()) die(2, "--trace needs the tracing build: make rtl-sim RTL_TRACE=1 (build/sim/<board>-trace/)");
#define TB_DUMP() \
  do {            \
  } while (0)
#endif
  std::mt19937_64 rng(seed);
  uint64_t cycle = 0;

  auto tick = [&]() {
    top->ap_clk = 1;
    top->eval();
    TB_DUMP();
    ctx->timeInc(1);
    top->ap_clk = 0;
    top->eval();
    TB_DUMP();
    ctx->timeInc(1);
    cycle++;
  };

  // Reset.
  top->ap_clk = 0;
  top->ap_rst_n = 0;
  top->load_valid_i = 0;
  top->cmd_valid_i = 0;
  top->s_axis_w_tvalid = 0;
  top->s_axis_act_tvalid = 0;
  top->m_axis_acc_tready = 0;
  top->eval();
  for (int i = 0; i < 8; i++) tick();
  top->ap_rst_n = 1;
  tick();

  size_t mismatches = 0, protocol_errors = 0;
  std::ostringstream report;
  auto note = [&](const std::string& s) {
    if (mismatches + protocol_errors <= max_report) report << (report.tellp() > 0 ? "; " : "") << s;
  };
  std::vector<uint64_t> compute_cycles(jobs.size(), 0), load_cycles(jobs.size(), 0);

  // Per-phase state.
  struct Load {
    const Job* job = nullptr;
    uint32_t buf = 0;
    bool cmd_pending = false, running = false;
    Source beats;
    uint64_t start = 0;
    size_t index = 0;
  } load;
  struct Compute {
    const Job* job = nullptr;
    uint32_t buf = 0;
    bool cmd_pending = false, running = false;
    Source act;
    size_t out_beats = 0, out_expected = 0, blocks = 0;
    size_t index = 0;
  } comp;

  auto start_load = [&](size_t i) {
    load = Load{};
    load.job = &jobs[i];
    load.buf = uint32_t(i % kBuffers);
    load.cmd_pending = true;
    load.running = true;
    load.beats.total = jobs[i].expect_refusal() ? 0 : jobs[i].weights.size() / kBeatBytes;
    load.start = cycle;
    load.index = i;
  };
  auto start_compute = [&](size_t i) {
    comp = Compute{};
    comp.job = &jobs[i];
    comp.buf = uint32_t(i % kBuffers);
    comp.cmd_pending = true;
    comp.running = true;
    comp.act.total = jobs[i].expect_refusal() ? 0 : size_t(jobs[i].tokens) * jobs[i].chunks;
    comp.blocks = (jobs[i].rows + kQ - 1) / kQ;
    comp.out_expected = jobs[i].expect_refusal() ? 0 : size_t(jobs[i].tokens) * comp.blocks;
    comp.index = i;
  };

  // Run the jobs: load 0; then compute i while loading i+1 (two halves), or one after the other.
  const uint64_t budget = 200000 + 50 * [&] {
    uint64_t c = 0;
    for (const auto& j : jobs) c += uint64_t(j.tokens) * j.chunks * ((j.rows + kQ - 1) / kQ + 40) + j.weights.size() / kBeatBytes * 2;
    return c;
  }();
  size_t next_load = 0, next_compute = 0;
  if (!jobs.empty()) start_load(next_load++);
  while (next_compute < jobs.size() || comp.running || load.running) {
    if (cycle > budget) {
      std::printf("{\"jobs\": %zu, \"mismatches\": %zu, \"timeout\": true, \"cycle\": %llu}\n", jobs.size(), mismatches,
                  (unsigned long long)cycle);
      die(3, "timeout after " + std::to_string(cycle) + " cycles (load job " + std::to_string(load.index) + (load.running ? " running" : " idle") +
                 ", compute job " + std::to_string(comp.index) + (comp.running ? " running" : " idle") + ")");
    }
    // Schedule: a compute starts when its job is loaded and nothing else computes; the next load
    // starts when the load side is free and (one half) the compute of the previous job is done, or
    // (two halves) the half it goes to is no longer computed from.
    if (!comp.running && next_compute < jobs.size() && next_compute < next_load && !(load.running && load.index == next_compute)) {
      start_compute(next_compute++);
    }
    if (!load.running && next_load < jobs.size()) {
      const bool half_free = kBuffers > 1 ? !(comp.running && comp.buf == next_load % kBuffers) && next_load <= next_compute + 1
                                          : !comp.running && next_compute == next_load;
      if (half_free) start_load(next_load++);
    }

    // Drive inputs (after the falling edge).
    top->load_valid_i = load.cmd_pending;
    if (load.job) {
      top->load_buf_i = load.buf;
      top->load_rows_i = load.job->rows;
      top->load_chunks_i = load.job->chunks;
    }
    load.beats.offer(rng, stall);
    top->s_axis_w_tvalid = load.beats.valid;
    if (load.beats.valid) set_wide(top->s_axis_w_tdata, &load.job->weights[load.beats.next * kBeatBytes], kBeatBytes);

    top->cmd_valid_i = comp.cmd_pending;
    if (comp.job) {
      top->cmd_buf_i = comp.buf;
      top->cmd_k_i = comp.job->k;
      top->cmd_rows_i = comp.job->rows;
      top->cmd_tokens_i = comp.job->tokens;
    }
    comp.act.offer(rng, stall);
    top->s_axis_act_tvalid = comp.act.valid;
    if (comp.act.valid) {
      set_wide(top->s_axis_act_tdata, reinterpret_cast<const uint8_t*>(&comp.job->act[comp.act.next * kChunk]), kChunk);
    }
    top->m_axis_acc_tready = cycle >= sink_next && std::uniform_real_distribution<double>(0, 1)(rng) >= stall;
    top->eval();

    // Handshakes at this rising edge.
    const bool load_cmd_fire = top->load_valid_i && top->load_ready_o;
    const bool beat_fire = top->s_axis_w_tvalid && top->s_axis_w_tready;
    const bool cmd_fire = top->cmd_valid_i && top->cmd_ready_o;
    const bool act_fire = top->s_axis_act_tvalid && top->s_axis_act_tready;
    const bool out_fire = top->m_axis_acc_tvalid && top->m_axis_acc_tready;
    if (out_fire) {
      sink_next = cycle + sink_period;
      if (!comp.running || comp.out_beats >= comp.out_expected) {
        protocol_errors++;
        note("output beat " + std::to_string(comp.out_beats) + " not expected (compute job " + std::to_string(comp.index) + ")");
      } else {
        const Job& j = *comp.job;
        const size_t t = comp.out_beats / comp.blocks, m = comp.out_beats % comp.blocks;
        const bool last = (m + 1 == comp.blocks);
        if (bool(top->m_axis_acc_tlast) != last) {
          protocol_errors++;
          note("job " + std::to_string(comp.index) + " token " + std::to_string(t) + " block " + std::to_string(m) + ": tlast " +
               std::to_string(int(top->m_axis_acc_tlast)) + ", expected " + std::to_string(int(last)));
        }
        for (uint32_t l = 0; l < kQ; l++) {
          const size_t row = m * kQ + l;
          const int32_t got = lane(top->m_axis_acc_tdata, l);
          const int32_t want = row < j.rows ? j.expected[t * j.rows + row] : 0;
          if (got != want) {
            mismatches++;
            note("job " + std::to_string(comp.index) + " token " + std::to_string(t) + " row " + std::to_string(row) + ": rtl " +
                 std::to_string(got) + ", golden " + std::to_string(want));
          }
        }
      }
      comp.out_beats++;
    }
    tick();
    if (load_cmd_fire) load.cmd_pending = false;
    if (beat_fire) {
      load.beats.next++;
      load.beats.valid = false;
    }
    if (cmd_fire) comp.cmd_pending = false;
    if (act_fire) {
      comp.act.next++;
      comp.act.valid = false;
    }
    // Completion pulses (registered outputs, visible after the edge).
    if (top->load_done_o) {
      if (!load.running || load.cmd_pending) {
        protocol_errors++;
        note("load done without a load");
      } else {
        if (bool(top->load_error_o) != load.job->expect_refusal()) {
          protocol_errors++;
          note("load job " + std::to_string(load.index) + (top->load_error_o ? " refused" : " accepted, expected a refusal"));
        }
        if (load.beats.next != load.beats.total) {
          protocol_errors++;
          note("load job " + std::to_string(load.index) + " took " + std::to_string(load.beats.next) + " of " +
               std::to_string(load.beats.total) + " beats");
        }
        load_cycles[load.index] = cycle - load.start;
        load.running = false;
      }
    }
    if (top->cmd_done_o) {
      if (!comp.running || comp.cmd_pending) {
        protocol_errors++;
        note("compute done without a command");
      } else {
        if (bool(top->cmd_error_o) != comp.job->expect_refusal()) {
          protocol_errors++;
          note("compute job " + std::to_string(comp.index) + (top->cmd_error_o ? " refused" : " accepted, expected a refusal"));
        }
        if (comp.out_beats != comp.out_expected || comp.act.next != comp.act.total) {
          protocol_errors++;
          note("compute job " + std::to_string(comp.index) + ": " + std::to_string(comp.out_beats) + " of " +
               std::to_string(comp.out_expected) + " output beats, " + std::to_string(comp.act.next) + " of " +
               std::to_string(comp.act.total) + " activation beats at done");
        }
        compute_cycles[comp.index] = top->cmd_cycles_o;
        comp.running = false;
      }
    }
  }
  for (int i = 0; i < 4; i++) tick();  // a few idle cycles: no stray outputs
  if (top->m_axis_acc_tvalid) {
    protocol_errors++;
    note("output valid after the last job");
  }
  top->final();
#if VM_TRACE
  if (trace) trace->close();
#endif

  std::ostringstream js;
  js << "{\"jobs\": " << jobs.size() << ", \"mismatches\": " << mismatches << ", \"protocol_errors\": " << protocol_errors
     << ", \"cycles\": [";
  for (size_t i = 0; i < jobs.size(); i++) js << (i ? ", " : "") << compute_cycles[i];
  js << "], \"load_cycles\": [";
  for (size_t i = 0; i < jobs.size(); i++) js << (i ? ", " : "") << load_cycles[i];
  js << "], \"total_cycles\": " << cycle << ", \"seed\": " << seed << ", \"stall\": " << stall;
  std::string rep = report.str();
  std::string esc;
  for (char c : rep) esc += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  js << ", \"report\": \"" << esc << "\"}";
  std::printf("%s\n", js.str().c_str());
  return (mismatches || protocol_errors) ? 1 : 0;
}
