// The simulated accelerator (tl_accel_sim.h): the HLS top's C simulation (hls/sim/tl_hls_accel.h)
// with what the Vitis block's AXI-Lite slave does around it on a board — a call that runs while the
// firmware waits (here a thread), ap_done / ap_idle, the interrupt registers — and a DDR window.
// The numerics are all the HLS top's: this file moves registers and raises the interrupt, nothing else.
#include <sys/mman.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "tl_accel_sim.h"
#include "tl_hls_accel.h"  // hls/sim
#include "tl_registers.h"  // Generated.

namespace {

/** Status bit for what only a simulation sees (an m_axi base outside the DDR array). */
constexpr uint32_t kStatusModelFault = 1u << 31;

bool is_output(uint32_t off) {
  const uint32_t out[][2] = {{TL_REG_STATUS, 4}, {TL_REG_KV_LENGTH, 4}, {TL_REG_TOKENS_DONE, 4}, {TL_REG_CYCLES, 8}, {TL_REG_BUILD_HASH, 8}, {TL_REG_REGMAP_VERSION, 4}};
  for (const auto& o : out)
    if (off >= o[0] && off < o[0] + o[1]) return true;
  return false;
}

// The control block the wrapper keeps itself (the library runs a call synchronously).
bool is_block(uint32_t off) { return off == TL_REG_CTRL || off == TL_REG_GIE || off == TL_REG_IER || off == TL_REG_ISR; }

class Accelerator {
 public:
  Accelerator(const tl_accel_sim_config& cfg, uint8_t* ddr, uint64_t ddr_bytes)
      : hang_(cfg.hang != 0), ddr_(ddr), ddr_bytes_(ddr_bytes), hls_(tl_hls_accel_create(ddr, ddr_bytes, 0)) {
    std::memset(regs_, 0, sizeof regs_);
    regs_[TL_REG_CTRL / 4] = TL_REG_CTRL_AP_IDLE_MASK;
    worker_ = std::thread([this] { loop(); });
  }

  ~Accelerator() {
    {
      std::lock_guard<std::mutex> g(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    worker_.join();
    tl_hls_accel_destroy(hls_);
    munmap(ddr_, ddr_bytes_);
  }

  uint8_t* ddr(uint64_t* bytes) {
    *bytes = ddr_bytes_;
    return ddr_;
  }

  uint32_t read32(uint32_t off) {
    if (off % 4 || off >= TL_REGMAP_BYTES) return 0;
    std::lock_guard<std::mutex> g(mu_);
    uint32_t v = regs_[off / 4];
    if (off == TL_REG_CTRL) regs_[off / 4] &= ~(TL_REG_CTRL_AP_DONE_MASK | TL_REG_CTRL_AP_READY_MASK);  // clear on read
    return v;
  }

  void write32(uint32_t off, uint32_t v) {
    if (off % 4 || off >= TL_REGMAP_BYTES) return;
    std::lock_guard<std::mutex> g(mu_);
    if (off == TL_REG_CTRL) {
      uint32_t& c = regs_[off / 4];
      c = (c & ~TL_REG_CTRL_AUTO_RESTART_MASK) | (v & TL_REG_CTRL_AUTO_RESTART_MASK);
      if ((v & TL_REG_CTRL_AP_START_MASK) && (c & TL_REG_CTRL_AP_IDLE_MASK)) {
        c = (c | TL_REG_CTRL_AP_START_MASK) & ~(TL_REG_CTRL_AP_IDLE_MASK | TL_REG_CTRL_AP_DONE_MASK);
        start_ = true;
        cv_.notify_all();
      }
      return;
    }
    if (off == TL_REG_ISR) {  // toggle on write: a 1 clears a pending bit
      regs_[off / 4] &= ~v;
      cv_.notify_all();
      return;
    }
    if (is_output(off)) return;
    regs_[off / 4] = v;
    cv_.notify_all();
  }

  bool wait_irq(uint32_t timeout_ms) {
    std::unique_lock<std::mutex> g(mu_);
    return cv_.wait_for(g, std::chrono::milliseconds(timeout_ms), [this] { return irq(); });
  }

 private:
  bool irq() const { return (regs_[TL_REG_GIE / 4] & TL_REG_GIE_ENABLE_MASK) && (regs_[TL_REG_ISR / 4] & regs_[TL_REG_IER / 4]); }

  void loop() {
    std::unique_lock<std::mutex> g(mu_);
    for (;;) {
      cv_.wait(g, [this] { return quit_ || start_; });
      if (quit_) return;
      start_ = false;
      regs_[TL_REG_CTRL / 4] &= ~TL_REG_CTRL_AP_START_MASK;
      const uint32_t command = regs_[TL_REG_COMMAND / 4];
      if (hang_ && command != TL_COMMAND_SET_KV_LENGTH) continue;  // fault injection: the pass never finishes
      // The call's registers as ap_start saw them, into the HLS top's register file.
      uint32_t in[TL_REGMAP_BYTES / 4];
      std::memcpy(in, regs_, sizeof in);
      g.unlock();
      for (uint32_t off = 0; off < TL_REGMAP_BYTES; off += 4)
        if (!is_block(off) && !is_output(off)) tl_hls_accel_write32(hls_, off, in[off / 4]);
      tl_hls_accel_write32(hls_, TL_REG_CTRL, TL_REG_CTRL_AP_START_MASK);  // runs the whole call
      (void)tl_hls_accel_read32(hls_, TL_REG_CTRL);                        // its ap_done (clear on read)
      uint32_t out[TL_REGMAP_BYTES / 4] = {0};
      for (uint32_t off = 0; off < TL_REGMAP_BYTES; off += 4)
        if (is_output(off)) out[off / 4] = tl_hls_accel_read32(hls_, off);
      const bool fault = tl_hls_accel_last_error(hls_) != TL_HLS_ACCEL_OK;
      g.lock();
      for (uint32_t off = 0; off < TL_REGMAP_BYTES; off += 4)
        if (is_output(off)) regs_[off / 4] = out[off / 4];
      if (fault) regs_[TL_REG_STATUS / 4] |= kStatusModelFault;
      regs_[TL_REG_CTRL / 4] |= TL_REG_CTRL_AP_DONE_MASK | TL_REG_CTRL_AP_IDLE_MASK | TL_REG_CTRL_AP_READY_MASK;
      regs_[TL_REG_ISR / 4] |= regs_[TL_REG_IER / 4] & (TL_REG_ISR_DONE_MASK | TL_REG_ISR_READY_MASK);
      cv_.notify_all();
    }
  }

  const bool hang_;
  uint8_t* const ddr_;
  const uint64_t ddr_bytes_;
  tl_hls_accel* const hls_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint32_t regs_[TL_REGMAP_BYTES / 4];
  bool start_ = false, quit_ = false;
  std::thread worker_;
};

// The board whose build hash the linked library carries, or null (tl_boards is static: one copy per
// translation unit, so boards are compared by hash, not by address).
const tl_board_desc* linked_board() {
  const char* hex = tl_hls_accel_build_hash();
  for (uint32_t i = 0; i < TL_BOARD_COUNT; i++) {
    char mine[65];
    for (int k = 0; k < 32; k++) std::snprintf(mine + 2 * k, 3, "%02x", tl_boards[i].hw_hash[k]);
    if (std::strcmp(mine, hex) == 0) return &tl_boards[i];
  }
  return nullptr;
}

}  // namespace

struct tl_accel_sim {
  Accelerator* acc;
};

extern "C" {

tl_accel_sim_fidelity tl_accel_sim_linked_fidelity(void) {
#ifdef TL_VBOARD_RTL
  return TL_ACCEL_SIM_RTL;
#else
  return TL_ACCEL_SIM_CSIM;
#endif
}

tl_accel_sim* tl_accel_sim_create(const tl_accel_sim_config* cfg, char* err, size_t errlen) {
  auto fail = [&](const std::string& m) -> tl_accel_sim* {
    if (err && errlen) std::snprintf(err, errlen, "%s", m.c_str());
    return nullptr;
  };
  if (!cfg || !cfg->board) return fail("no board");
  const char* lib = tl_accel_sim_linked_fidelity() == TL_ACCEL_SIM_RTL ? "rtl" : "csim";
  if (cfg->fidelity != tl_accel_sim_linked_fidelity()) {
    return fail(std::string("this virtual board links the ") + lib + " accelerator; --fidelity " + (cfg->fidelity == TL_ACCEL_SIM_RTL ? "rtl" : "csim") +
                " is the other executable (sim/README.md)");
  }
  const tl_board_desc* built = linked_board();
  if (built == nullptr || std::memcmp(built->hw_hash, cfg->board->hw_hash, 32) != 0) {
    return fail(std::string("this virtual board simulates the ") + (built ? built->board_name : "(unknown)") +
                " build of the accelerator (build/hls, HLS_BOARD); --board " + cfg->board->board_name +
                " needs a virtual board built for it: `make vboard HLS_BOARD=" + cfg->board->board_name +
                "` after `rm -rf build/hls build/vboard` (the HLS top implements int8 attention and the int8 fabric head only)");
  }
  const uint64_t bytes = cfg->ddr_bytes ? cfg->ddr_bytes : uint64_t(cfg->board->ddr_usable_mib) << 20;
  // Reserved, not committed: pages appear as the image and the KV cache touch them.
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) return fail("cannot reserve " + std::to_string(bytes) + " bytes of simulated DDR");
  auto* a = new tl_accel_sim;
  a->acc = new Accelerator(*cfg, static_cast<uint8_t*>(mem), bytes);
  return a;
}

void tl_accel_sim_destroy(tl_accel_sim* a) {
  if (a == nullptr) return;
  delete a->acc;
  delete a;
}
uint8_t* tl_accel_sim_ddr(tl_accel_sim* a, uint64_t* bytes) { return a->acc->ddr(bytes); }
uint32_t tl_accel_sim_read32(tl_accel_sim* a, uint32_t offset) { return a->acc->read32(offset); }
void tl_accel_sim_write32(tl_accel_sim* a, uint32_t offset, uint32_t value) { a->acc->write32(offset, value); }
int tl_accel_sim_wait_irq(tl_accel_sim* a, uint32_t timeout_ms) { return a->acc->wait_irq(timeout_ms) ? 1 : 0; }

}  // extern "C"
