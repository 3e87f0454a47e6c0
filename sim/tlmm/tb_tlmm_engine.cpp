// Verilator testbench of the TLMM engine's HLS blackbox, tlmm_engine_hls (hw/rtl: the ap_ctrl_chain
// wrapper around tlmm_engine, the module Vitis instantiates): reads a case file written by the
// TypeScript side (host/src/verify/rtl-case.ts; format in sim/README.md) and runs its jobs with the
// HLS top's call protocol through the shared driver (tlmm_engine_driver.hpp): call 0 loads job 0,
// call i computes job i-1 while job i loads into the other buffer half, the last call only
// computes. Every accumulator is compared with the golden values in the file. Every stream sees
// random valid/ready back-pressure (seeded). Prints one JSON line; exit status 0 = all equal,
// 1 = a mismatch or a protocol error, 2 = bad usage or input, 3 = timeout.
//
//   Vtlmm_engine_hls CASE_FILE [--seed N] [--stall P] [--sink-lanes L] [--trace FILE.fst] [--max-report N]
//                    [+tlmm_fault_entry=K]
// --sink-lanes L: the accumulator sink takes L lanes per cycle (one beat of Q every ceil(Q/L)
// cycles), like the fused element-wise stages behind the core (the planner's elementwise_lanes).
// (--trace needs the tracing build, make rtl-sim RTL_TRACE=1.)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "config.hpp"  // Generated: hls/gen/<board>/config.hpp, the same build as the RTL package.
#include "tlmm_engine_driver.hpp"

namespace {

constexpr uint32_t kBeatBits = tellme_hw::BEAT_BITS;
constexpr uint32_t kBeatBytes = kBeatBits / 8;
constexpr uint32_t kChunk = tellme_hw::CHUNK_ELEMENTS;
constexpr uint32_t kQ = tellme_hw::PARALLEL_VECTORS;
constexpr uint32_t kAccBits = tellme_hw::ACCUMULATOR_BITS;
constexpr uint32_t kBuffers = tellme_hw::BUFFERS;
constexpr uint32_t kTables = kChunk / tellme_hw::GROUP_SIZE;

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

// Signed lane l of an accumulator beat (Q lanes of kAccBits, little-endian words).
int32_t lane(const uint32_t* words, uint32_t l) {
  uint64_t v = 0;
  const uint32_t lo = l * kAccBits;
  for (uint32_t b = 0; b < kAccBits; b++) v |= uint64_t((words[(lo + b) / 32] >> ((lo + b) % 32)) & 1u) << b;
  if (v >> (kAccBits - 1)) v |= ~uint64_t(0) << kAccBits;  // sign-extend
  return int32_t(int64_t(v));
}

// A job's beats (weights or activations) as an input FIFO holding all of them.
class VectorSource : public tlmm_rtl::InPort {
 public:
  VectorSource(const uint8_t* data, size_t items, size_t item_bytes) : data_(data), items_(items), bytes_(item_bytes) {}
  bool ready() override { return next_ < items_; }
  void take(uint32_t* words) override {
    std::memcpy(words, data_ + next_ * bytes_, bytes_);  // the bus's words are zeroed past the item
    next_++;
  }
  size_t taken() const { return next_; }
  size_t items() const { return items_; }

 private:
  const uint8_t* data_;
  size_t items_, bytes_, next_ = 0;
};

struct Report {
  size_t mismatches = 0, protocol_errors = 0, max = 5;
  std::ostringstream text;
  void note(const std::string& s) {
    if (mismatches + protocol_errors <= max) text << (text.tellp() > 0 ? "; " : "") << s;
  }
  void protocol(const std::string& s) {
    protocol_errors++;
    note(s);
  }
};

// The accumulator sink of one compute job: checks each beat (token-major, Q rows per beat) against
// the golden values; takes one beat every `period` cycles (--sink-lanes).
class CheckingSink : public tlmm_rtl::OutPort {
 public:
  CheckingSink(const tlmm_rtl::EngineDriver& d, Report& rep, const Job* job, size_t index, uint64_t period)
      : d_(d), rep_(rep), job_(job), index_(index), period_(period),
        blocks_(job ? (job->rows + kQ - 1) / kQ : 1), expected_(job && !job->expect_refusal() ? size_t(job->tokens) * blocks_ : 0) {}
  bool ready() override { return d_.cycle() >= next_; }
  void put(const uint32_t* words) override {
    next_ = d_.cycle() + period_;
    if (beats_ >= expected_) {
      rep_.protocol("output beat " + std::to_string(beats_) + " not expected (compute job " + std::to_string(index_) + ")");
    } else {
      const size_t t = beats_ / blocks_, m = beats_ % blocks_;
      for (uint32_t l = 0; l < kQ; l++) {
        const size_t row = m * kQ + l;
        const int32_t got = lane(words, l), want = row < job_->rows ? job_->expected[t * job_->rows + row] : 0;
        if (got != want) {
          rep_.mismatches++;
          rep_.note("job " + std::to_string(index_) + " token " + std::to_string(t) + " row " + std::to_string(row) + ": rtl " + std::to_string(got) +
                    ", golden " + std::to_string(want));
        }
      }
    }
    beats_++;
  }
  size_t beats() const { return beats_; }
  size_t expected() const { return expected_; }

 private:
  const tlmm_rtl::EngineDriver& d_;
  Report& rep_;
  const Job* job_;
  size_t index_;
  uint64_t period_, next_ = 0;
  size_t blocks_, expected_, beats_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string case_path, trace_path;
  uint64_t seed = 1;
  double stall = 0.3;
  uint32_t sink_lanes = kQ;
  Report rep;
  std::vector<std::string> plusargs;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&](const char* name) {
      if (i + 1 >= argc) die(2, std::string(name) + " needs a value");
      return std::string(argv[++i]);
    };
    if (a == "--seed") seed = std::stoull(value("--seed"));
    else if (a == "--stall") stall = std::stod(value("--stall"));
    else if (a == "--trace") trace_path = value("--trace");
    else if (a == "--max-report") rep.max = std::stoul(value("--max-report"));
    else if (a == "--sink-lanes") sink_lanes = uint32_t(std::stoul(value("--sink-lanes")));
    else if (!a.empty() && a[0] == '+') plusargs.push_back(a);  // Verilator runtime options
    else if (case_path.empty()) case_path = a;
    else die(2, "unexpected argument " + a);
  }
  if (case_path.empty()) die(2, "usage: Vtlmm_engine_hls CASE_FILE [--seed N] [--stall P] [--trace FILE.fst]");
  if (stall < 0 || stall >= 1) die(2, "--stall must be in [0, 1)");
  if (sink_lanes < 1) die(2, "--sink-lanes must be at least 1");
  const uint64_t sink_period = (kQ + sink_lanes - 1) / sink_lanes;  // cycles per accepted beat
  const std::vector<Job> jobs = read_cases(case_path);

  tlmm_rtl::EngineDriver drv(plusargs, seed, stall);
  if (!trace_path.empty() && !drv.open_trace(trace_path)) die(2, "--trace needs the tracing build: make rtl-sim RTL_TRACE=1 (build/sim/<board>-trace/)");

  // Calls: call i loads job i (i < n) and computes job i-1 (i > 0); job j uses half j mod kBuffers.
  std::vector<uint64_t> compute_cycles(jobs.size(), 0), call_cycles;
  for (size_t i = 0; i <= jobs.size(); i++) {
    const Job* lj = i < jobs.size() ? &jobs[i] : nullptr;
    const Job* cj = i > 0 ? &jobs[i - 1] : nullptr;
    tlmm_rtl::Call c;
    if (lj) {
      c.load_en = true;
      c.load_buf = uint32_t(i % kBuffers);
      c.load_rows = lj->rows;
      c.load_chunks = lj->chunks;
    }
    if (cj) {
      c.compute_en = true;
      c.cmd_buf = uint32_t((i - 1) % kBuffers);
      c.k = cj->k;
      c.rows = cj->rows;
      c.tokens = cj->tokens;
    }
    VectorSource w(lj ? lj->weights.data() : nullptr, lj && !lj->expect_refusal() ? lj->weights.size() / kBeatBytes : 0, kBeatBytes);
    VectorSource act(cj ? reinterpret_cast<const uint8_t*>(cj->act.data()) : nullptr, cj && !cj->expect_refusal() ? size_t(cj->tokens) * cj->chunks : 0,
                     kChunk);
    CheckingSink acc(drv, rep, cj, i - 1, sink_period);
    const uint64_t work = w.items() + act.items() * (kTables + 8 + (cj ? (cj->rows + kQ - 1) / kQ : 0)) + acc.expected() * sink_period;
    const tlmm_rtl::CallResult r = drv.call(c, w, act, acc, 20000 + 50 * work);
    if (r.timed_out) {
      std::printf("{\"jobs\": %zu, \"mismatches\": %zu, \"timeout\": true, \"cycle\": %llu}\n", jobs.size(), rep.mismatches,
                  (unsigned long long)drv.cycle());
      die(3, "timeout after " + std::to_string(r.ticks) + " cycles in call " + std::to_string(i) + " (load job " + (lj ? std::to_string(i) : "none") +
                 ", compute job " + (cj ? std::to_string(i - 1) : "none") + ", " + std::to_string(w.taken()) + " of " + std::to_string(w.items()) +
                 " weight beats, " + std::to_string(act.taken()) + " of " + std::to_string(act.items()) + " activation beats, " +
                 std::to_string(acc.beats()) + " of " + std::to_string(acc.expected()) + " accumulator beats)");
    }
    call_cycles.push_back(r.ticks);
    if (lj && bool(r.status & 1u) != lj->expect_refusal())
      rep.protocol("load job " + std::to_string(i) + (r.status & 1u ? " refused" : " accepted, expected a refusal"));
    if (cj && bool(r.status & 2u) != cj->expect_refusal())
      rep.protocol("compute job " + std::to_string(i - 1) + (r.status & 2u ? " refused" : " accepted, expected a refusal"));
    if (w.taken() != w.items())
      rep.protocol("load job " + std::to_string(i) + " took " + std::to_string(w.taken()) + " of " + std::to_string(w.items()) + " beats");
    if (acc.beats() != acc.expected() || act.taken() != act.items()) {
      rep.protocol("compute job " + std::to_string(i - 1) + ": " + std::to_string(acc.beats()) + " of " + std::to_string(acc.expected()) +
                   " output beats, " + std::to_string(act.taken()) + " of " + std::to_string(act.items()) + " activation beats at done");
    }
    if (cj) compute_cycles[i - 1] = r.cycles;
  }
  if (!drv.idle(4)) rep.protocol("the engine moved a stream after the last call");

  std::ostringstream js;
  js << "{\"jobs\": " << jobs.size() << ", \"mismatches\": " << rep.mismatches << ", \"protocol_errors\": " << rep.protocol_errors
     << ", \"cycles\": [";
  for (size_t i = 0; i < jobs.size(); i++) js << (i ? ", " : "") << compute_cycles[i];
  js << "], \"call_cycles\": [";
  for (size_t i = 0; i < call_cycles.size(); i++) js << (i ? ", " : "") << call_cycles[i];
  js << "], \"total_cycles\": " << drv.cycle() << ", \"seed\": " << seed << ", \"stall\": " << stall;
  std::string esc;
  for (char ch : rep.text.str()) esc += (ch == '"' || ch == '\\') ? std::string("\\") + ch : std::string(1, ch);
  js << ", \"report\": \"" << esc << "\"}";
  std::printf("%s\n", js.str().c_str());
  return (rep.mismatches || rep.protocol_errors) ? 1 : 0;
}
