// C-simulation instrumentation: how often each pipelined loop runs, for the cycle report
// (loop entries x pipeline depth + iterations x II = cycles; hls/README.md). Compiled away for
// synthesis.
//
//   TL_LOOP("tlmm.LOOKUP", trip);                  // at the loop's entry: one entry, `trip` iterations
//   TL_PIPELINE("rmsmax.WRITE", trip, ii, depth);  // the same, and depth + trip * ii modelled cycles
//   TL_CYCLES(n);                                  // n modelled cycles (a unit with its own formula)
//
// Names are "<unit>.<LOOP_LABEL>", the label the loop carries in the source. Modelled cycles add
// up in the running dataflow process (or in the sequential code outside any region); a dataflow
// region lasts as long as its slowest process (tl_stream.hpp), which is what its RTL does when
// every FIFO is deep enough to keep the processes overlapped.
#ifndef TL_CSIM_HPP
#define TL_CSIM_HPP

#ifdef __SYNTHESIS__
#define TL_LOOP(name, trip)
#define TL_PIPELINE(name, trip, ii, depth)
#define TL_CYCLES(n)
#define TL_CSIM_UNROLL
#else

// Unroll a small constant loop in the g++ build too (Vitis unrolls it by its own pragma); the
// C simulation's speed depends on the innermost lookup loops.
#define TL_CSIM_UNROLL _Pragma("GCC unroll 32")

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

namespace tl {
namespace csim {

struct LoopCounter {
  const char *name;
  uint64_t entries;
  uint64_t iterations;
};

inline std::vector<LoopCounter *> &loop_counters() {
  static std::vector<LoopCounter *> all;
  return all;
}

inline LoopCounter &loop_counter(const char *name) {
  for (LoopCounter *c : loop_counters())
    if (!std::strcmp(c->name, name)) return *c;
  loop_counters().push_back(new LoopCounter{name, 0, 0});
  return *loop_counters().back();
}

// Where modelled cycles go: the running dataflow process's tally, or the sequential tally (the
// stream scheduler switches it when it resumes a process).
inline uint64_t &sequential_cycles() {
  static uint64_t c = 0;
  return c;
}
inline uint64_t *&cycle_tally() {
  static uint64_t *t = &sequential_cycles();
  return t;
}

inline void reset_loop_counters() {
  for (LoopCounter *c : loop_counters()) c->entries = c->iterations = 0;
}

// {"<name>": {"entries": n, "iterations": n}, ...} in first-use order.
inline void print_loop_counters(FILE *f) {
  std::fputc('{', f);
  bool first = true;
  for (const LoopCounter *c : loop_counters()) {
    std::fprintf(f, "%s\"%s\": {\"entries\": %llu, \"iterations\": %llu}", first ? "" : ", ", c->name,
                 (unsigned long long)c->entries, (unsigned long long)c->iterations);
    first = false;
  }
  std::fputc('}', f);
}

}  // namespace csim
}  // namespace tl

#define TL_LOOP(name, trip)                                                           \
  do {                                                                                \
    static ::tl::csim::LoopCounter &tl_loop_counter_ = ::tl::csim::loop_counter(name); \
    tl_loop_counter_.entries++;                                                       \
    tl_loop_counter_.iterations += (uint64_t)(trip);                                  \
  } while (0)

#define TL_PIPELINE(name, trip, ii, depth)                                                      \
  do {                                                                                          \
    TL_LOOP(name, trip);                                                                        \
    *::tl::csim::cycle_tally() += (uint64_t)(depth) + (uint64_t)(trip) * (uint64_t)(ii);        \
  } while (0)

#define TL_CYCLES(n) (*::tl::csim::cycle_tally() += (uint64_t)(n))

#endif  // __SYNTHESIS__
#endif  // TL_CSIM_HPP
