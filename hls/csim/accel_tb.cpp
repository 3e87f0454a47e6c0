// The whole accelerator in C simulation, driven as the firmware drives the board (docs/accelerator.md
// §3): a DDR array with the model image's regions at their manifest addresses, the registers
// written through the C ABI of hls/sim/tl_hls_accel.h, the embedding lookup and the greedy choice
// on the "ARM" side (numerics §9-§10), a prefill of the prompt (the head for every position, as
// `tellme trace` records it) and greedy decode steps. Every tensor the units tap is written in the
// trace format (docs/trace.md), so `compareTraces` can line it up with the golden model's.
//
//   accel_tb <job file>
// The job file (host/src/verify/csim-job.ts writes it) is text, one item per line:
//   image <path>                          the model image
//   ddr_bytes <n>                         size of the DDR array (the manifest's ddr.total_bytes)
//   section <file offset> <bytes> <ddr offset>   an image section to load
//   reg <offset> <value>                  a register write (shape, DDR map), in order
//   embedding <ddr offset> / hidden <n> / vocab <n>
//   ids <id> <id> ...                     the prompt (at most 16: one prefill with every position's head)
//   decode_steps <n>
//   decode_at <L>                         optional: the first decode step at KV position L (>= the
//                                         prompt), for a cycle report at a long context; the cache
//                                         rows between the prompt and L hold what DDR holds (zeros),
//                                         so the tokens are no model's output (no trace, no verify)
//   trace <dir>                           optional: write the trace there
//   steps 1                               optional: print the cycle report's steps of the last decode
//                                         step (of the prefill with decode_steps 0)
//   verify_check 1                        optional: then one VERIFY pass over the decoded tokens at the
//                                         prompt's KV offset; its head records must equal the DECODE ones
// Prints one JSON line: {"ids", "tokens", "passes": [{"command", "status", "cycles", "cpu_s"}], ...}.
#include <sys/stat.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tl_hls_accel.h"
#include "tl_csim.hpp"
#include "tl_steps.hpp"
#include "tl_registers.hpp"  // Generated.
#include "tl_tap.hpp"

namespace {

[[noreturn]] void die(const std::string &msg) {
  std::fflush(stdout);
  std::fprintf(stderr, "accel_tb: %s\n", msg.c_str());
  std::exit(2);
}

double cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

struct Section {
  uint64_t file_offset, bytes, ddr_offset;
};

struct Job {
  std::string image, trace_dir;
  uint64_t ddr_bytes = 0, embedding = 0;
  unsigned hidden = 0, vocab = 0, decode_steps = 0, decode_at = 0;
  bool steps = false, verify_check = false;
  std::vector<Section> sections;
  std::vector<std::pair<uint32_t, uint32_t>> regs;
  std::vector<uint32_t> ids;
};

Job read_job(const char *path) {
  std::ifstream in(path);
  if (!in) die(std::string(path) + ": cannot read the job file");
  Job j;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key;
    if (!(ls >> key)) continue;
    if (key == "image" || key == "trace") {
      std::string rest;
      std::getline(ls >> std::ws, rest);
      (key == "image" ? j.image : j.trace_dir) = rest;
    } else if (key == "ddr_bytes") {
      ls >> j.ddr_bytes;
    } else if (key == "section") {
      Section s;
      ls >> s.file_offset >> s.bytes >> s.ddr_offset;
      j.sections.push_back(s);
    } else if (key == "reg") {
      uint32_t o, v;
      ls >> o >> v;
      j.regs.push_back({o, v});
    } else if (key == "embedding") {
      ls >> j.embedding;
    } else if (key == "hidden") {
      ls >> j.hidden;
    } else if (key == "vocab") {
      ls >> j.vocab;
    } else if (key == "ids") {
      uint32_t id;
      while (ls >> id) j.ids.push_back(id);
      if (!ls.eof()) die(std::string(path) + ": malformed line '" + line + "'");
      continue;
    } else if (key == "decode_steps") {
      ls >> j.decode_steps;
    } else if (key == "decode_at") {
      ls >> j.decode_at;
    } else if (key == "steps" || key == "verify_check") {
      unsigned s;
      ls >> s;
      (key == "steps" ? j.steps : j.verify_check) = s != 0;
    } else {
      die(std::string(path) + ": unknown item '" + key + "'");
    }
    if (ls.fail()) die(std::string(path) + ": malformed line '" + line + "'");
  }
  if (j.image.empty() || j.ddr_bytes == 0 || j.hidden == 0 || j.vocab == 0 || j.ids.empty()) die(std::string(path) + ": incomplete job");
  if (j.decode_at != 0 && (j.decode_at < j.ids.size() || !j.trace_dir.empty() || j.verify_check))
    die(std::string(path) + ": decode_at must be at least the prompt's length, without trace or verify_check");
  return j;
}

// ---- The trace writer: the taps' elements gathered per tensor, written at the end of each call ----

enum Dtype { F32, I8, I32 };

struct Tensor {
  Dtype dtype;
  std::vector<uint8_t> bytes;
};

struct TraceWriter {
  std::string dir;
  unsigned pass = 0;
  std::map<std::string, Tensor> pending;

  static Dtype dtype_of(unsigned slot) {
    switch (slot) {
      case tl::TAP_IN:
      case tl::TAP_Q8: return I8;
      case tl::TAP_ACC: return I32;
      default: return F32;
    }
  }
  // Slots indexed by a linear's output row take the tile's place in the whole tensor.
  static bool row_indexed(unsigned slot) { return slot == tl::TAP_ACC || slot == tl::TAP_OUT || slot == tl::TAP_RESULT; }

  static void tap(void *user, const tl::csim::TapContext &c, unsigned slot, unsigned token, unsigned index, unsigned length, double value) {
    TraceWriter &w = *(TraceWriter *)user;
    const bool rows = row_indexed(slot) && c.length != 0;
    const unsigned i = rows ? c.index0 + index : index, n = rows ? c.length : length;
    char name[160];
    if (c.layer >= 0)
      std::snprintf(name, sizeof name, "p%u.t%u.L%d.%s.bin", w.pass, c.pos0 + token, c.layer, c.names[slot]);
    else
      std::snprintf(name, sizeof name, "p%u.t%u.%s.bin", w.pass, c.pos0 + token, c.names[slot]);
    Tensor &t = w.pending[name];
    const Dtype d = dtype_of(slot);
    const size_t width = d == I8 ? 1 : 4;
    if (t.bytes.empty()) {
      t.dtype = d;
      t.bytes.assign((size_t)n * width, 0);
    }
    if (t.bytes.size() != (size_t)n * width || i >= n) die(std::string("tap ") + name + ": element " + std::to_string(i) + " of " + std::to_string(n));
    uint8_t *p = &t.bytes[(size_t)i * width];
    if (d == I8) {
      *p = (uint8_t)(int8_t)value;
    } else if (d == I32) {
      const int32_t v = (int32_t)value;
      std::memcpy(p, &v, 4);
    } else {
      const float v = (float)value;
      std::memcpy(p, &v, 4);
    }
  }

  void flush() {
    for (auto &kv : pending) {
      const std::string file = dir + "/" + kv.first;
      FILE *f = std::fopen(file.c_str(), "wb");
      if (!f || std::fwrite(kv.second.bytes.data(), 1, kv.second.bytes.size(), f) != kv.second.bytes.size()) die(file + ": cannot write");
      std::fclose(f);
    }
    pending.clear();
  }
};

// bf16 -> binary32 is exact (numerics §9: the embedding lookup).
float bf16_to_f32(uint16_t b) {
  const uint32_t u = (uint32_t)b << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

struct PassResult {
  unsigned command, status;
  uint64_t cycles;
  double cpu_s;
};

}  // namespace

int main(int argc, char **argv) {
  if (argc != 2) die("usage: accel_tb <job file>");
  const Job job = read_job(argv[1]);

  // The DDR array (calloc: untouched pages cost nothing) and the image's regions at their offsets.
  uint8_t *ddr = (uint8_t *)std::calloc(job.ddr_bytes, 1);
  if (!ddr) die("cannot allocate " + std::to_string(job.ddr_bytes) + " bytes of DDR");
  FILE *img = std::fopen(job.image.c_str(), "rb");
  if (!img) die(job.image + ": cannot open the image");
  for (const Section &s : job.sections) {
    if (s.ddr_offset + s.bytes > job.ddr_bytes) die("a section does not fit the DDR array");
    if (fseeko(img, (off_t)s.file_offset, SEEK_SET) != 0 || std::fread(ddr + s.ddr_offset, 1, s.bytes, img) != s.bytes) die(job.image + ": short read");
  }
  std::fclose(img);

  // The accelerator at bus address 0 of this DDR array: every m_axi base is 0.
  tl_hls_accel *acc = tl_hls_accel_create(ddr, job.ddr_bytes, 0);
  for (const auto &r : job.regs) tl_hls_accel_write32(acc, r.first, r.second);
  if (tl_hls_accel_last_error(acc) != TL_HLS_ACCEL_OK) die("a register write was refused");
  const uint64_t residual = (uint64_t)tl_hls_accel_read32(acc, tl_regs::RESIDUAL_OFFSET_OFFSET) | ((uint64_t)tl_hls_accel_read32(acc, tl_regs::RESIDUAL_OFFSET_OFFSET + 4) << 32);
  const uint64_t head_out = (uint64_t)tl_hls_accel_read32(acc, tl_regs::LOGITS_OFFSET_OFFSET) | ((uint64_t)tl_hls_accel_read32(acc, tl_regs::LOGITS_OFFSET_OFFSET + 4) << 32);

  TraceWriter trace;
  trace.dir = job.trace_dir;
  if (!trace.dir.empty()) {
    if (mkdir(trace.dir.c_str(), 0777) != 0 && errno != EEXIST) die(trace.dir + ": cannot create");
    tl::csim::tap_hook().fn = &TraceWriter::tap;
    tl::csim::tap_hook().user = &trace;
  }

  // The firmware's side of one pass: embed the tokens, program, start, wait, read the records.
  std::vector<PassResult> passes;
  auto run_pass = [&](unsigned command, const std::vector<uint32_t> &ids, unsigned L, unsigned flags) -> uint32_t {
    for (size_t t = 0; t < ids.size(); t++) {
      if (ids[t] >= job.vocab) die("token id " + std::to_string(ids[t]) + " outside the vocabulary");
      for (unsigned i = 0; i < job.hidden; i++) {
        uint16_t b;
        std::memcpy(&b, ddr + job.embedding + 2 * ((uint64_t)ids[t] * job.hidden + i), 2);
        const float v = bf16_to_f32(b);
        std::memcpy(ddr + residual + 4 * ((uint64_t)t * job.hidden + i), &v, 4);
      }
    }
    tl_hls_accel_write32(acc, tl_regs::N_TOKENS_OFFSET, (uint32_t)ids.size());
    tl_hls_accel_write32(acc, tl_regs::KV_POSITION_OFFSET, L);
    tl_hls_accel_write32(acc, tl_regs::FLAGS_OFFSET, flags);
    tl_hls_accel_write32(acc, tl_regs::COMMAND_OFFSET, command);
    const double t0 = cpu_seconds();
    tl_hls_accel_write32(acc, tl_regs::CTRL_OFFSET, tl_regs::CTRL_AP_START);
    const double cpu = cpu_seconds() - t0;
    if (!(tl_hls_accel_read32(acc, tl_regs::CTRL_OFFSET) & tl_regs::CTRL_AP_DONE)) die("the call did not finish");
    if (tl_hls_accel_last_error(acc) != TL_HLS_ACCEL_OK) die("an m_axi base lies outside the DDR array");
    const unsigned status = tl_hls_accel_read32(acc, tl_regs::STATUS_OFFSET);
    const uint64_t cycles = (uint64_t)tl_hls_accel_read32(acc, tl_regs::CYCLES_OFFSET) | ((uint64_t)tl_hls_accel_read32(acc, tl_regs::CYCLES_OFFSET + 4) << 32);
    passes.push_back({command, status, cycles, cpu});
    if (status != 0) die("the accelerator refused the call: status 0x" + std::to_string(status));
    if (tl_hls_accel_read32(acc, tl_regs::KV_LENGTH_OFFSET) != L + ids.size()) die("kv_length does not follow the pass");
    trace.flush();
    trace.pass++;
    // The greedy id of the last record (numerics §10: the largest logit, ties to the lower id).
    const unsigned records = (flags & tl_regs::FLAGS_ALL_POSITIONS) || command == tl_regs::COMMAND_VERIFY ? (unsigned)ids.size() : 1;
    uint32_t id;
    std::memcpy(&id, ddr + head_out + (uint64_t)(records - 1) * (16 + 4 * (uint64_t)job.vocab), 4);
    return id;
  };

  // One head record (16 + 4 * vocab bytes) of head.out.
  const uint64_t record_bytes = 16 + 4 * (uint64_t)job.vocab;
  auto record = [&](unsigned r) { return std::vector<uint8_t>(ddr + head_out + r * record_bytes, ddr + head_out + (r + 1) * record_bytes); };
  std::vector<std::vector<uint8_t>> decode_records;
  std::vector<uint32_t> tokens;
  if (job.steps && job.decode_steps == 0) tl::csim::StepLog::get().enabled = true;
  uint32_t next = run_pass(tl_regs::COMMAND_PREFILL, job.ids, 0, tl_regs::FLAGS_ALL_POSITIONS);
  tl::csim::StepLog::get().enabled = false;
  unsigned L = job.decode_at != 0 ? job.decode_at : (unsigned)job.ids.size();
  for (unsigned s = 0; s < job.decode_steps; s++) {
    tokens.push_back(next);
    const bool last = s + 1 == job.decode_steps;
    if (last && job.steps) tl::csim::StepLog::get().enabled = true;
    next = run_pass(tl_regs::COMMAND_DECODE, {next}, L, 0);
    decode_records.push_back(record(0));
    L++;
  }
  tokens.push_back(next);

  // VERIFY of the decoded tokens at the prompt's KV offset (docs/accelerator.md: position i's
  // record equals a DECODE of the same token at the same position, bit for bit).
  unsigned verify_positions = 0, verify_mismatches = 0;
  if (job.verify_check && !decode_records.empty()) {
    tl::csim::tap_hook().fn = nullptr;  // not part of the golden trace
    tl::csim::StepLog::get().enabled = false;
    const unsigned n = decode_records.size() < 16 ? (unsigned)decode_records.size() : 16u;
    const std::vector<uint32_t> drafts(tokens.begin(), tokens.begin() + n);
    run_pass(tl_regs::COMMAND_VERIFY, drafts, (unsigned)job.ids.size(), 0);
    for (unsigned p = 0; p < n; p++, verify_positions++) {
      if (record(p) != decode_records[p]) {
        if (verify_mismatches++ == 0) std::fprintf(stderr, "accel_tb: VERIFY position %u differs from its DECODE record\n", (unsigned)job.ids.size() + p);
      }
    }
  }

  std::printf("{\"ids\": [");
  for (size_t i = 0; i < job.ids.size(); i++) std::printf("%s%u", i ? ", " : "", job.ids[i]);
  std::printf("], \"tokens\": [");
  for (size_t i = 0; i < tokens.size(); i++) std::printf("%s%u", i ? ", " : "", tokens[i]);
  std::printf("], \"passes\": [");
  for (size_t i = 0; i < passes.size(); i++)
    std::printf("%s{\"command\": %u, \"status\": %u, \"cycles\": %" PRIu64 ", \"cpu_s\": %.6f}", i ? ", " : "", passes[i].command, passes[i].status,
                passes[i].cycles, passes[i].cpu_s);
  std::printf("], \"verify\": {\"positions\": %u, \"mismatches\": %u}", verify_positions, verify_mismatches);
  if (job.steps) {
    std::printf(", \"steps\": ");
    tl::csim::StepLog::get().print_json(stdout);
  }
  std::printf("}\n");
  tl_hls_accel_destroy(acc);
  std::free(ddr);
  return 0;
}
