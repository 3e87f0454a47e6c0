// Streams and dataflow regions: Vitis HLS's hls::stream under synthesis; for plain g++ C
// simulation a bounded model that behaves like the synthesised FIFOs (docs: hls/README.md).
//
// Why not an unbounded queue (what the vendor's C model is): a C simulation whose FIFOs never fill
// hides the deadlocks an undersized FIFO causes in RTL. Here a stream holds exactly its
// synthesised depth (hls::stream<T, D>; plain hls::stream<T> is Vitis's default depth 2), and the
// processes of a dataflow region run as coroutines that block on a full or empty stream, as the
// hardware does. The simulation stops loudly (message on stderr, abort) when:
//  - a write finds the stream full and no other process can drain it (overflow; outside a
//    dataflow region any write to a full stream),
//  - a read finds the stream empty and no other process can fill it (read from an empty stream),
//  - every process of the running regions is blocked (deadlock: the report lists each process,
//    the stream it waits on and that stream's fill level),
//  - a stream is destroyed with data in it (data left over when its call ended).
//
// A dataflow region is written as
//     TL_DATAFLOW_BEGIN("linear");
//     TL_PROCESS(read_in(in, a_strm));
//     TL_PROCESS(compute(a_strm, b_strm));
//     TL_DATAFLOW_END();
// under `#pragma HLS dataflow`; for synthesis the macros leave the plain sequence of calls Vitis
// expects. A region's modelled cycles are its slowest process's, or, where one process must wait
// for another's first output or for another to drain its last, the longer path the region names
// with TL_DATAFLOW_PATH(expression), evaluated when every process has finished.
// Scheduling is deterministic (round robin in declaration order), single-threaded.
#ifndef TL_STREAM_HPP
#define TL_STREAM_HPP

#ifdef __SYNTHESIS__
#include <hls_stream.h>
#define TL_DATAFLOW_BEGIN(name)
#define TL_PROCESS(call) call
#define TL_DATAFLOW_END()
#define TL_DATAFLOW_PATH(cycles)
#else

#include <sys/mman.h>
#if !defined(__x86_64__)
#include <ucontext.h>
#endif

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "tl_csim.hpp"

// Context switch between coroutines. glibc's swapcontext saves and restores the signal mask
// with a system call on every switch (microseconds here); on x86-64 a six-register switch does
// the same job in nanoseconds, so the C simulation can afford word-sized FIFOs. Elsewhere the
// portable ucontext path is used.
#if defined(__x86_64__)
extern "C" void tl_csim_switch(void **save_sp, void *new_sp);
extern "C" void tl_csim_entry();
// COMDAT sections: every translation unit that includes this header emits the same code, and the
// linker keeps one copy.
asm(".pushsection .text.tl_csim_switch,\"axG\",@progbits,tl_csim_switch,comdat\n"
    ".globl tl_csim_switch\n"
    ".type tl_csim_switch,@function\n"
    "tl_csim_switch:\n"
    "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
    "  movq %rsp, (%rdi)\n"
    "  movq %rsi, %rsp\n"
    "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n"
    "  ret\n"
    ".size tl_csim_switch, .-tl_csim_switch\n"
    ".popsection\n"
    ".pushsection .text.tl_csim_entry,\"axG\",@progbits,tl_csim_entry,comdat\n"
    ".globl tl_csim_entry\n"
    ".type tl_csim_entry,@function\n"
    "tl_csim_entry:\n"
    "  movq %r12, %rdi\n"
    "  callq *%r13\n"
    "  ud2\n"
    ".size tl_csim_entry, .-tl_csim_entry\n"
    ".popsection\n");
#endif

namespace tl {
namespace csim {

[[noreturn]] inline void fail(const std::string &msg) {
  std::fflush(stdout);
  std::fprintf(stderr, "C-sim stream error: %s\n", msg.c_str());
  std::fflush(stderr);
  std::abort();
}

// What a stream looks like to the scheduler (for wake-up tests and the deadlock report).
class StreamBase {
 public:
  virtual ~StreamBase() = default;
  virtual size_t fill() const = 0;
  virtual size_t depth() const = 0;
  virtual const std::string &label() const = 0;
};

class Region;

// Called when a region joined from the main program ends (the cycle report reads its processes).
inline std::function<void(const Region &)> &region_observer() {
  static std::function<void(const Region &)> f;
  return f;
}

struct Process {
  enum State { kReady, kWaitRead, kWaitWrite, kJoining, kDone };
  std::string name;
  std::function<void()> body;
  State state = kReady;
  const StreamBase *waiting_on = nullptr;
  Region *region = nullptr;  // the region this process belongs to
  Region *joining = nullptr; // the nested region it waits for
#if defined(__x86_64__)
  void *sp = nullptr; // saved stack pointer while switched out
#else
  ucontext_t ctx;
#endif
  void *stack = nullptr;
  size_t stack_bytes = 0;
  uint64_t cycles = 0; // modelled cycles of this process (TL_PIPELINE, TL_CYCLES)
};

// The global coroutine scheduler. The first region joined from the main program runs the loop;
// processes (and their nested regions) switch back to it whenever they block or finish.
class Scheduler {
 public:
  static Scheduler &get() {
    static Scheduler s;
    return s;
  }

  Process *current() const { return current_; }

  // Block the running process until `ready()` holds; outside any process there is nobody to wait
  // for, so the operation fails at once with `what`.
  template <typename Ready>
  void wait(Process::State st, const StreamBase &s, Ready ready, const char *what) {
    if (ready()) return;
    if (!current_) fail(std::string(what) + " on stream '" + s.label() + "' (depth " + std::to_string(s.depth()) +
                        ", holding " + std::to_string(s.fill()) + ") outside any dataflow process: no other process can " +
                        (st == Process::kWaitRead ? "fill" : "drain") + " it");
    while (!ready()) {
      current_->state = st;
      current_->waiting_on = &s;
      yield();
    }
    current_->state = Process::kReady;
    current_->waiting_on = nullptr;
  }

  void add(Process *p) { all_.push_back(p); }

  // Coroutine stacks are reused: a region runs once per linear (or per tile), thousands of times
  // per token, and a fresh mapping would fault its pages in every time.
  void *take_stack(size_t bytes) {
    if (!free_stacks_.empty()) {
      void *s = free_stacks_.back();
      free_stacks_.pop_back();
      return s;
    }
    // Lazily committed, so generous stacks cost nothing until used.
    void *s = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return s == MAP_FAILED ? nullptr : s;
  }
  void give_stack(void *s) { free_stacks_.push_back(s); }
  void remove(Process *p) {
    for (size_t i = 0; i < all_.size(); i++)
      if (all_[i] == p) {
        all_.erase(all_.begin() + (long)i);
        return;
      }
  }

  // Run until every process of `r` has finished. Called by the region's owner: the main program
  // (runs the loop) or a process (yields to the loop until its children are done).
  void join(Region *r);

#if defined(__x86_64__)
  void yield() { tl_csim_switch(&current_->sp, loop_sp_); }
  void resume(Process *p) { tl_csim_switch(&loop_sp_, p->sp); }
  static void trampoline(Process *p) {
    p->body();
    p->state = Process::kDone;
    Scheduler::get().yield();
  }
  // The first switch into a new stack "returns" into tl_csim_entry, which calls trampoline(p).
  static void prepare(Process *p) {
    uintptr_t top = (reinterpret_cast<uintptr_t>(p->stack) + p->stack_bytes) & ~uintptr_t(15);
    void **s = reinterpret_cast<void **>(top);
    *--s = reinterpret_cast<void *>(&tl_csim_entry);                  // popped by ret
    *--s = nullptr;                                                   // rbp
    *--s = nullptr;                                                   // rbx
    *--s = p;                                                         // r12: the argument
    *--s = reinterpret_cast<void *>(static_cast<void (*)(Process *)>(&trampoline)); // r13
    *--s = nullptr;                                                   // r14
    *--s = nullptr;                                                   // r15
    p->sp = s;
  }
#else
  void yield() { swapcontext(&current_->ctx, &loop_ctx_); }
  void resume(Process *p) { swapcontext(&loop_ctx_, &p->ctx); }
  static void trampoline(unsigned lo, unsigned hi) {
    Process *p = reinterpret_cast<Process *>((uintptr_t)lo | ((uintptr_t)hi << 32));
    p->body();
    p->state = Process::kDone;
    Scheduler::get().yield();
  }
  static void prepare(Process *p) {
    getcontext(&p->ctx);
    p->ctx.uc_stack.ss_sp = p->stack;
    p->ctx.uc_stack.ss_size = p->stack_bytes;
    p->ctx.uc_link = nullptr;
    uintptr_t bits = reinterpret_cast<uintptr_t>(p);
    makecontext(&p->ctx, reinterpret_cast<void (*)()>(&trampoline), 2, (unsigned)(bits & 0xffffffffu), (unsigned)(bits >> 32));
  }
#endif

 private:
  bool runnable(Process *p) const;
  [[noreturn]] void deadlock() const;

  std::vector<Process *> all_;
  std::vector<void *> free_stacks_;
  Process *current_ = nullptr;
#if defined(__x86_64__)
  void *loop_sp_ = nullptr;
#else
  ucontext_t loop_ctx_;
#endif
  bool looping_ = false;
};

// A dataflow region: its processes, started together, joined together.
class Region {
 public:
  explicit Region(const char *name) : name_(name) {}
  ~Region() {
    for (Process *p : procs_) {
      Scheduler::get().remove(p);
      if (p->stack) Scheduler::get().give_stack(p->stack);
      delete p;
    }
  }
  Region(const Region &) = delete;
  Region &operator=(const Region &) = delete;

  void spawn(const char *call, std::function<void()> body) {
    Process *p = new Process();
    p->name = name_ + "/" + call;
    p->body = std::move(body);
    p->region = this;
    p->stack_bytes = kStackBytes;
    p->stack = Scheduler::get().take_stack(kStackBytes);
    if (!p->stack) fail("cannot allocate a coroutine stack for " + p->name);
    Scheduler::prepare(p);
    procs_.push_back(p);
    Scheduler::get().add(p);
  }

  void join() { Scheduler::get().join(this); }

  bool finished() const {
    for (const Process *p : procs_)
      if (p->state != Process::kDone) return false;
    return true;
  }
  // A path through the region longer than any one process (TL_DATAFLOW_PATH).
  void path(std::function<uint64_t()> f) { path_ = std::move(f); }
  uint64_t path_cycles() const { return path_ ? path_() : 0; }
  // Modelled cycles of the region: its slowest process (the processes overlap), or its path.
  uint64_t cycles() const {
    uint64_t c = path_cycles();
    for (const Process *p : procs_)
      if (p->cycles > c) c = p->cycles;
    return c;
  }
  const std::vector<Process *> &processes() const { return procs_; }
  const std::string &name() const { return name_; }

 private:
  static constexpr size_t kStackBytes = size_t(64) << 20;
  std::string name_;
  std::vector<Process *> procs_;
  std::function<uint64_t()> path_;
};

inline bool Scheduler::runnable(Process *p) const {
  switch (p->state) {
    case Process::kReady: return true;
    case Process::kWaitRead: return p->waiting_on->fill() > 0;
    case Process::kWaitWrite: return p->waiting_on->fill() < p->waiting_on->depth();
    case Process::kJoining: return p->joining->finished();
    default: return false;
  }
}

inline void Scheduler::deadlock() const {
  std::string msg = "deadlock: every dataflow process is blocked (an undersized FIFO, or a process that reads or writes too few items)\n";
  for (const Process *p : all_) {
    msg += "  " + p->name + ": ";
    switch (p->state) {
      case Process::kWaitRead:
        msg += "waits to read '" + p->waiting_on->label() + "' (empty, depth " + std::to_string(p->waiting_on->depth()) + ")";
        break;
      case Process::kWaitWrite:
        msg += "waits to write '" + p->waiting_on->label() + "' (full, depth " + std::to_string(p->waiting_on->depth()) + ")";
        break;
      case Process::kJoining: msg += "waits for its region " + p->joining->name(); break;
      case Process::kDone: msg += "finished"; break;
      default: msg += "ready"; break;
    }
    msg += "\n";
  }
  fail(msg);
}

inline void Scheduler::join(Region *r) {
  if (current_) {
    // A process that owns a nested region: wait for it inside the running loop.
    current_->state = Process::kJoining;
    current_->joining = r;
    while (!r->finished()) yield();
    current_->state = Process::kReady;
    current_->joining = nullptr;
    current_->cycles += r->cycles();
    return;
  }
  if (looping_) fail("a dataflow region was joined from outside the running schedule");
  looping_ = true;
  while (!r->finished()) {
    bool ran = false;
    for (size_t i = 0; i < all_.size(); i++) {
      Process *p = all_[i];
      if (p->state == Process::kDone || !runnable(p)) continue;
      current_ = p;
      cycle_tally() = &p->cycles;
      resume(p);
      current_ = nullptr;
      cycle_tally() = &sequential_cycles();
      ran = true;
    }
    if (!ran && !r->finished()) deadlock();
  }
  looping_ = false;
  sequential_cycles() += r->cycles();
  if (region_observer()) region_observer()(*r);
}

}  // namespace csim
}  // namespace tl

namespace hls {

// A FIFO of capacity `depth()`: hls::stream<T, D> has depth D; hls::stream<T> (D = 0 here, as
// in Vitis) is the base every depth converts to, with Vitis's default depth of 2.
template <typename T, int D = 0>
class stream;

template <typename T>
class stream<T, 0> : public tl::csim::StreamBase {
 public:
  stream() : stream("<unnamed>", 2) {}
  explicit stream(const char *name) : stream(name, 2) {}
  ~stream() override {
    if (count_ != 0)
      tl::csim::fail("data left in stream '" + name_ + "' when its call ended: " + std::to_string(count_) +
                     " item(s) never read (a consumer reads fewer items than its producer writes)");
    delete[] buf_;
  }
  stream(const stream &) = delete;
  stream &operator=(const stream &) = delete;

  void write(const T &v) {
    tl::csim::Scheduler::get().wait(tl::csim::Process::kWaitWrite, *this, [this] { return count_ < cap_; }, "overflow: write to a full stream");
    buf_[(head_ + count_) % cap_] = v;
    count_++;
  }
  T read() {
    tl::csim::Scheduler::get().wait(tl::csim::Process::kWaitRead, *this, [this] { return count_ > 0; }, "read from an empty stream");
    T v = buf_[head_];
    head_ = (head_ + 1) % cap_;
    count_--;
    return v;
  }
  void read(T &v) { v = read(); }
  bool read_nb(T &v) {
    if (count_ == 0) return false;
    v = read();
    return true;
  }
  bool write_nb(const T &v) {
    if (count_ >= cap_) return false;
    write(v);
    return true;
  }
  void operator<<(const T &v) { write(v); }
  void operator>>(T &v) { v = read(); }
  bool empty() const { return count_ == 0; }
  bool full() const { return count_ >= cap_; }
  size_t size() const { return count_; }

  size_t fill() const override { return count_; }
  size_t depth() const override { return cap_; }
  const std::string &label() const override { return name_; }

 protected:
  stream(const char *name, size_t depth) : name_(name), cap_(depth), buf_(new T[depth]()) {}

 private:
  std::string name_;
  size_t cap_;
  T *buf_;
  size_t head_ = 0;
  size_t count_ = 0;
};

template <typename T, int D>
class stream : public stream<T, 0> {
  static_assert(D > 0, "a stream's depth must be positive");

 public:
  stream() : stream<T, 0>("<unnamed>", D) {}
  explicit stream(const char *name) : stream<T, 0>(name, D) {}
};

}  // namespace hls

#define TL_DATAFLOW_BEGIN(name) ::tl::csim::Region tl_dataflow_region_(name)
#define TL_PROCESS(call) tl_dataflow_region_.spawn(#call, [&]() { call; })
#define TL_DATAFLOW_END() tl_dataflow_region_.join()
#define TL_DATAFLOW_PATH(cycles) tl_dataflow_region_.path([&]() { return (uint64_t)(cycles); })

#endif  // __SYNTHESIS__
#endif  // TL_STREAM_HPP
