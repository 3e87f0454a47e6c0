// The cycle report's steps (C simulation only): the sequencer names each step of a pass (a tile of
// a linear, an RMS-MAX pass, attention, the head, ...) as the planner does (host/src/plan/perf.ts
// buildSteps), and the modelled cycles of the step are recorded (tl_csim.hpp TL_PIPELINE and
// TL_CYCLES; a dataflow region lasts as long as its slowest process or its named path, tl_stream.hpp):
//   cycles   the step's modelled cycles, everything overlapped as its dataflow region runs
//   compute  the same without the load of the next weight tile (the planner's computeCycles)
//   load     the next tile's weight fetch (beats at one per cycle, plus the first-beat latency)
// Compiled away for synthesis.
#ifndef TL_STEPS_HPP
#define TL_STEPS_HPP

#ifdef __SYNTHESIS__
#define TL_STEP_BEGIN(name, layer)
#define TL_STEP_END()
#else

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tl_stream.hpp"

namespace tl {
namespace csim {

struct StepRecord {
  std::string name;
  int layer;
  uint64_t cycles, compute, load;
};

class StepLog {
 public:
  static StepLog &get() {
    static StepLog s;
    return s;
  }
  bool enabled = false;
  std::vector<StepRecord> steps;

  void begin(const std::string &name, int layer) {
    if (!enabled) return;
    open_ = true;
    cur_ = StepRecord{name, layer, 0, 0, 0};
    start_ = sequential_cycles();
    if (!region_observer()) region_observer() = [this](const Region &r) { observe(r); };
  }
  void end() {
    if (!enabled || !open_) return;
    cur_.cycles = sequential_cycles() - start_;
    if (!saw_region_) cur_.compute = cur_.cycles;  // sequential unit: all of it is compute
    steps.push_back(cur_);
    open_ = false;
    saw_region_ = false;
  }
  void clear() { steps.clear(); }

  // [{"name": .., "layer": .., "cycles": .., "compute": .., "load": ..}, ...]
  void print_json(FILE *f) const {
    std::fputc('[', f);
    for (size_t i = 0; i < steps.size(); i++) {
      const StepRecord &s = steps[i];
      std::fprintf(f, "%s{\"name\": \"%s\", \"layer\": %d, \"cycles\": %llu, \"compute\": %llu, \"load\": %llu}", i ? ", " : "", s.name.c_str(), s.layer,
                   (unsigned long long)s.cycles, (unsigned long long)s.compute, (unsigned long long)s.load);
    }
    std::fputc(']', f);
  }

 private:
  void observe(const Region &r) {
    if (!open_) return;
    saw_region_ = true;
    if (r.path_cycles() > cur_.compute) cur_.compute = r.path_cycles();  // the engine's path (linear.cpp)
    for (const Process *p : r.processes()) {
      if (p->name.find("weight_fetch") != std::string::npos) {
        if (p->cycles > cur_.load) cur_.load = p->cycles;
      } else if (p->name.find("tlmm_engine_hls") == std::string::npos) {
        if (p->cycles > cur_.compute) cur_.compute = p->cycles;
      }
    }
  }
  bool open_ = false, saw_region_ = false;
  StepRecord cur_;
  uint64_t start_ = 0;
};

}  // namespace csim
}  // namespace tl

#define TL_STEP_BEGIN(name, layer) ::tl::csim::StepLog::get().begin((name), (layer))
#define TL_STEP_END() ::tl::csim::StepLog::get().end()

#endif  // __SYNTHESIS__
#endif  // TL_STEPS_HPP
