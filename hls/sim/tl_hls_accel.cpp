// The register-file model of the accelerator (tl_hls_accel.h): what the AXI-Lite slave of the
// Vitis block does around the top function, for the C simulation. Register offsets come from the
// generated binding (hls/gen/<board>/tl_registers.hpp), never from literals.
#include "tl_hls_accel.h"

#include <cstring>

#include "accel_top.hpp"

namespace {

using namespace tl_regs;

constexpr unsigned REG_WORDS = 0x1000 / 4;  // the register map's 4 KiB window
static_assert(WEIGHT_SCALE_OFFSET + 4 * 512 <= 4 * REG_WORDS, "the register map fits its window");

constexpr uint32_t AP_START = 1u << 0, AP_DONE = 1u << 1, AP_IDLE = 1u << 2, AP_READY = 1u << 3;
constexpr unsigned DDR_W_OFFSET[4] = {DDR_W0_OFFSET, DDR_W1_OFFSET, DDR_W2_OFFSET, DDR_W3_OFFSET};
static_assert(tl::hw::WEIGHT_PORTS == 4, "the top function has four weight ports");

}  // namespace

struct tl_hls_accel {
  uint8_t *ddr;
  uint64_t bytes, base;
  uint32_t regs[REG_WORDS];
  bool done = false;
  int error = TL_HLS_ACCEL_OK;

  uint32_t r32(unsigned off) const { return regs[off / 4]; }
  uint64_t r64(unsigned off) const { return (uint64_t)regs[off / 4] | ((uint64_t)regs[off / 4 + 1] << 32); }
  const uint32_t *arr(unsigned off) const { return &regs[off / 4]; }
  // The host pointer of bus address reg64(off); null (and an error) outside the array.
  uint8_t *map(unsigned off) {
    const uint64_t a = r64(off);
    if (a < base || a - base >= bytes) {
      error = TL_HLS_ACCEL_BAD_ADDRESS;
      return nullptr;
    }
    return ddr + (a - base);
  }
  void set64(unsigned off, uint64_t v) {
    regs[off / 4] = (uint32_t)v;
    regs[off / 4 + 1] = (uint32_t)(v >> 32);
  }

  void run() {
    const tl::word_t *act = (const tl::word_t *)map(DDR_ACT_OFFSET), *kv = (const tl::word_t *)map(DDR_KV_OFFSET),
                     *head = (const tl::word_t *)map(DDR_HEAD_OFFSET), *side = (const tl::word_t *)map(DDR_SIDE_OFFSET);
    tl::word_t *out = (tl::word_t *)map(DDR_OUT_OFFSET);
    const tl::lane_word_t *w[4];
    for (unsigned p = 0; p < 4; p++) w[p] = (const tl::lane_word_t *)map(DDR_W_OFFSET[p]);
    if (error != TL_HLS_ACCEL_OK) return;
    unsigned status = 0, kv_length = 0, tokens_done = 0, regmap_version = 0;
    uint64_t cycles = 0, build_hash = 0;
    tellme_accel(r32(COMMAND_OFFSET), r32(N_TOKENS_OFFSET), r32(KV_POSITION_OFFSET), r32(LAYER_COUNT_OFFSET), r32(FLAGS_OFFSET), status, kv_length,
                 tokens_done, cycles, build_hash, regmap_version, r32(HIDDEN_OFFSET), r32(FFN_OFFSET), r32(HEADS_OFFSET), r32(KV_HEADS_OFFSET),
                 r32(HEAD_DIM_OFFSET), r32(LAYERS_OFFSET), r32(VOCAB_OFFSET), r32(CONTEXT_OFFSET), r32(ACTIVATION_OFFSET), r32(SUB_NORMS_OFFSET),
                 r32(RMS_EPS_OFFSET), act, kv, head, side, out, w[0], w[1], w[2], w[3], r64(WEIGHTS_OFFSET_OFFSET), r32(WEIGHTS_LAYER_STRIDE_OFFSET),
                 r64(NORMS_OFFSET_OFFSET), r32(NORMS_LAYER_STRIDE_OFFSET), r64(NORM_FINAL_OFFSET_OFFSET), r64(ROPE_OFFSET_OFFSET),
                 r64(KV_K_OFFSET_OFFSET), r64(KV_V_OFFSET_OFFSET), r64(RESIDUAL_OFFSET_OFFSET), r64(ACT0_OFFSET_OFFSET), r64(ACT1_OFFSET_OFFSET),
                 r64(Q_OFFSET_OFFSET), r64(AMAX_OFFSET_OFFSET), r64(LM_HEAD_WEIGHT_OFFSET_OFFSET), r64(LM_HEAD_SCALE_OFFSET_OFFSET),
                 r64(LOGITS_OFFSET_OFFSET), r64(Q_SCALE_OFFSET_OFFSET), arr(LINEAR_OFFSET_OFFSET), arr(LINEAR_LANE_STRIDE_OFFSET),
                 arr(LINEAR_TILE_STRIDE_OFFSET), arr(LINEAR_TILE_ROWS_OFFSET), arr(LINEAR_LAST_LANE_STRIDE_OFFSET), r64(KV_K_SCALE_OFFSET_OFFSET),
                 r64(KV_V_SCALE_OFFSET_OFFSET), arr(NORM_ROLE_OFFSET_OFFSET), arr(WEIGHT_SCALE_OFFSET));
    regs[STATUS_OFFSET / 4] = status;
    regs[KV_LENGTH_OFFSET / 4] = kv_length;
    regs[TOKENS_DONE_OFFSET / 4] = tokens_done;
    regs[REGMAP_VERSION_OFFSET / 4] = regmap_version;
    set64(CYCLES_OFFSET, cycles);
    set64(BUILD_HASH_OFFSET, build_hash);
  }
};

extern "C" {

tl_hls_accel *tl_hls_accel_create(void *ddr, uint64_t ddr_bytes, uint64_t ddr_phys_base) {
  tl_hls_accel *a = new tl_hls_accel;
  a->ddr = (uint8_t *)ddr;
  a->bytes = ddr_bytes;
  a->base = ddr_phys_base;
  std::memset(a->regs, 0, sizeof a->regs);
  a->regs[CTRL_OFFSET / 4] = AP_IDLE;
  return a;
}

void tl_hls_accel_destroy(tl_hls_accel *a) { delete a; }

void tl_hls_accel_write32(tl_hls_accel *a, uint32_t offset, uint32_t value) {
  if (offset % 4 != 0 || offset >= 4 * REG_WORDS) {
    a->error = TL_HLS_ACCEL_BAD_REGISTER;
    return;
  }
  if (offset == CTRL_OFFSET) {
    a->regs[0] = (a->regs[0] & ~0x80u) | (value & 0x80u);  // auto_restart is the only writable bit
    if (value & AP_START) {
      a->regs[0] &= ~AP_IDLE;
      a->run();
      a->done = true;
      a->regs[0] |= AP_IDLE;
    }
    return;
  }
  a->regs[offset / 4] = value;
}

uint32_t tl_hls_accel_read32(tl_hls_accel *a, uint32_t offset) {
  if (offset % 4 != 0 || offset >= 4 * REG_WORDS) {
    a->error = TL_HLS_ACCEL_BAD_REGISTER;
    return 0;
  }
  if (offset == CTRL_OFFSET) {
    // ap_done and ap_ready are clear-on-read.
    const uint32_t v = a->regs[0] | (a->done ? AP_DONE | AP_READY : 0u);
    a->done = false;
    return v;
  }
  return a->regs[offset / 4];
}

int tl_hls_accel_last_error(tl_hls_accel *a) {
  const int e = a->error;
  a->error = TL_HLS_ACCEL_OK;
  return e;
}

const char *tl_hls_accel_build_hash(void) { return tl::hw::HW_HASH; }

}  // extern "C"
