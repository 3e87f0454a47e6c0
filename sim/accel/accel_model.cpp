// The simulated accelerator (tl_accel_sim.h): register file, call thread, and the passes of
// docs/registers.md §2 computed as docs/numerics.md §11 specifies, reading and writing the DDR
// window at the addresses the registers give. Element-wise arithmetic is hls/include's (the
// numerics contract as C11 headers); the LM head is firmware/app/tl_head.c (the one copy the ARM
// head uses too); the TLMM is a TileEngine (C++ tables or the Verilated RTL engine).
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tile_engine.hpp"
#include "tl_accel_sim.h"
#include "tl_head.h"
#include "tl_numerics.h"  // hls/include
#include "tl_registers.h"  // Generated.

namespace tl_sim {
namespace {

/** Status bit the model sets for what only a simulation sees (an access outside the DDR window, a bad weight index). */
constexpr uint32_t kStatusModelFault = 1u << 31;
constexpr uint32_t kLinears = 8;
constexpr uint32_t kAlign = 4096;

enum Linear : uint32_t { Q = TL_LINEAR_Q_PROJ, K = TL_LINEAR_K_PROJ, V = TL_LINEAR_V_PROJ, O = TL_LINEAR_O_PROJ,
                         UP = TL_LINEAR_UP_PROJ, GATE = TL_LINEAR_GATE_PROJ, DOWN = TL_LINEAR_DOWN_PROJ };

/** The registers of one call, read when it starts. */
struct CallArgs {
  uint32_t command, n_tokens, kv_position, layer_count, flags;
  uint32_t hidden, ffn, heads, kv_heads, head_dim, layers, vocab, context, activation, sub_norms;
  float rms_eps;
  uint64_t ddr_act, ddr_kv, ddr_head, ddr_w[32];
  uint64_t weights_offset, norms_offset, norm_final_offset, rope_offset, kv_k_offset, kv_v_offset, residual_offset,
      act0_offset, act1_offset, q_offset, amax_offset, lm_head_weight_offset, lm_head_scale_offset, logits_offset;
  uint32_t weights_layer_stride, norms_layer_stride;
  uint32_t linear_offset[kLinears], linear_lane_stride[kLinears], linear_last_lane_stride[kLinears],
      linear_tile_stride[kLinears], linear_tile_rows[kLinears], norm_role_offset[4];
  uint32_t weight_scale[TL_REG_WEIGHT_SCALE_COUNT];
};

/** Shape of linear n (rows x cols). */
void linear_shape(const CallArgs& a, uint32_t n, uint32_t* rows, uint32_t* cols) {
  const uint32_t qd = a.heads * a.head_dim, kvd = a.kv_heads * a.head_dim;
  switch (n) {
    case Q: *rows = qd; *cols = a.hidden; break;
    case K: case V: *rows = kvd; *cols = a.hidden; break;
    case O: *rows = a.hidden; *cols = qd; break;
    case UP: case GATE: *rows = a.ffn; *cols = a.hidden; break;
    default: *rows = a.hidden; *cols = a.ffn; break;
  }
}

}  // namespace

class Accelerator {
 public:
  Accelerator(const tl_accel_sim_config& cfg, std::unique_ptr<TileEngine> engine, uint8_t* ddr, uint64_t ddr_bytes)
      : board_(*cfg.board), hang_(cfg.hang != 0), engine_(std::move(engine)), ddr_(ddr), ddr_bytes_(ddr_bytes) {
    std::memset(regs_, 0, sizeof regs_);
    regs_[TL_REG_CTRL / 4] = TL_REG_CTRL_AP_IDLE_MASK;
    // build_hash: the first 64 bits of the build's sha256, big-endian (docs/registers.md §2).
    uint64_t h = 0;
    for (int i = 0; i < 8; i++) h = (h << 8) | board_.hw_hash[i];
    regs_[TL_REG_BUILD_HASH / 4] = uint32_t(h);
    regs_[TL_REG_BUILD_HASH / 4 + 1] = uint32_t(h >> 32);
    regs_[TL_REG_REGMAP_VERSION / 4] = TL_REGMAP_VERSION;
    worker_ = std::thread([this] { loop(); });
  }

  ~Accelerator() {
    {
      std::lock_guard<std::mutex> g(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    worker_.join();
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

  uint64_t lookups() const { return lookups_.load(); }

 private:
  static bool is_output(uint32_t off) {
    return (off >= TL_REG_STATUS && off < TL_REG_STATUS + 4) || (off >= TL_REG_KV_LENGTH && off < TL_REG_KV_LENGTH + 4) ||
           (off >= TL_REG_TOKENS_DONE && off < TL_REG_TOKENS_DONE + 4) || (off >= TL_REG_CYCLES && off < TL_REG_CYCLES + 8) ||
           (off >= TL_REG_BUILD_HASH && off < TL_REG_BUILD_HASH + 8) || (off >= TL_REG_REGMAP_VERSION && off < TL_REG_REGMAP_VERSION + 4);
  }

  bool irq() const {
    return (regs_[TL_REG_GIE / 4] & TL_REG_GIE_ENABLE_MASK) && (regs_[TL_REG_ISR / 4] & regs_[TL_REG_IER / 4]);
  }

  uint32_t r32(uint32_t off) const { return regs_[off / 4]; }
  uint64_t r64(uint32_t off) const { return uint64_t(regs_[off / 4]) | (uint64_t(regs_[off / 4 + 1]) << 32); }

  CallArgs snapshot() const {
    CallArgs a;
    a.command = r32(TL_REG_COMMAND);
    a.n_tokens = r32(TL_REG_N_TOKENS);
    a.kv_position = r32(TL_REG_KV_POSITION);
    a.layer_count = r32(TL_REG_LAYER_COUNT);
    a.flags = r32(TL_REG_FLAGS);
    a.hidden = r32(TL_REG_HIDDEN);
    a.ffn = r32(TL_REG_FFN);
    a.heads = r32(TL_REG_HEADS);
    a.kv_heads = r32(TL_REG_KV_HEADS);
    a.head_dim = r32(TL_REG_HEAD_DIM);
    a.layers = r32(TL_REG_LAYERS);
    a.vocab = r32(TL_REG_VOCAB);
    a.context = r32(TL_REG_CONTEXT);
    a.activation = r32(TL_REG_ACTIVATION);
    a.sub_norms = r32(TL_REG_SUB_NORMS);
    a.rms_eps = tl_bits_f32(r32(TL_REG_RMS_EPS));
    a.ddr_act = r64(TL_REG_DDR_ACT);
    a.ddr_kv = r64(TL_REG_DDR_KV);
    a.ddr_head = r64(TL_REG_DDR_HEAD);
    for (uint32_t p = 0; p < TL_REG_DDR_W_COUNT; p++) a.ddr_w[p] = r64(TL_REG_DDR_W(p));
    a.weights_offset = r64(TL_REG_WEIGHTS_OFFSET);
    a.weights_layer_stride = r32(TL_REG_WEIGHTS_LAYER_STRIDE);
    a.norms_offset = r64(TL_REG_NORMS_OFFSET);
    a.norms_layer_stride = r32(TL_REG_NORMS_LAYER_STRIDE);
    a.norm_final_offset = r64(TL_REG_NORM_FINAL_OFFSET);
    a.rope_offset = r64(TL_REG_ROPE_OFFSET);
    a.kv_k_offset = r64(TL_REG_KV_K_OFFSET);
    a.kv_v_offset = r64(TL_REG_KV_V_OFFSET);
    a.residual_offset = r64(TL_REG_RESIDUAL_OFFSET);
    a.act0_offset = r64(TL_REG_ACT0_OFFSET);
    a.act1_offset = r64(TL_REG_ACT1_OFFSET);
    a.q_offset = r64(TL_REG_Q_OFFSET);
    a.amax_offset = r64(TL_REG_AMAX_OFFSET);
    a.lm_head_weight_offset = r64(TL_REG_LM_HEAD_WEIGHT_OFFSET);
    a.lm_head_scale_offset = r64(TL_REG_LM_HEAD_SCALE_OFFSET);
    a.logits_offset = r64(TL_REG_LOGITS_OFFSET);
    for (uint32_t n = 0; n < kLinears; n++) {
      a.linear_offset[n] = r32(TL_REG_LINEAR_OFFSET + 4 * n);
      a.linear_lane_stride[n] = r32(TL_REG_LINEAR_LANE_STRIDE + 4 * n);
      a.linear_last_lane_stride[n] = r32(TL_REG_LINEAR_LAST_LANE_STRIDE + 4 * n);
      a.linear_tile_stride[n] = r32(TL_REG_LINEAR_TILE_STRIDE + 4 * n);
      a.linear_tile_rows[n] = r32(TL_REG_LINEAR_TILE_ROWS + 4 * n);
    }
    for (uint32_t r = 0; r < 4; r++) a.norm_role_offset[r] = r32(TL_REG_NORM_ROLE_OFFSET + 4 * r);
    for (uint32_t i = 0; i < TL_REG_WEIGHT_SCALE_COUNT; i++) a.weight_scale[i] = r32(TL_REG_WEIGHT_SCALE + 4 * i);
    return a;
  }

  void loop() {
    std::unique_lock<std::mutex> g(mu_);
    for (;;) {
      cv_.wait(g, [this] { return quit_ || start_; });
      if (quit_) return;
      start_ = false;
      regs_[TL_REG_CTRL / 4] &= ~TL_REG_CTRL_AP_START_MASK;
      if (hang_) continue;  // fault injection: the call never finishes
      CallArgs args = snapshot();
      uint32_t kv = kv_length_;
      g.unlock();
      uint32_t done = 0;
      uint32_t status = run(args, &kv, &done);
      g.lock();
      if (status == 0) kv_length_ = kv;
      regs_[TL_REG_STATUS / 4] = status;
      regs_[TL_REG_KV_LENGTH / 4] = kv_length_;
      regs_[TL_REG_TOKENS_DONE / 4] = status == 0 ? done : 0;
      regs_[TL_REG_CYCLES / 4] = 0;  // a C model counts no clock cycles
      regs_[TL_REG_CYCLES / 4 + 1] = 0;
      regs_[TL_REG_CTRL / 4] |= TL_REG_CTRL_AP_DONE_MASK | TL_REG_CTRL_AP_IDLE_MASK | TL_REG_CTRL_AP_READY_MASK;
      regs_[TL_REG_ISR / 4] |= regs_[TL_REG_IER / 4] & (TL_REG_ISR_DONE_MASK | TL_REG_ISR_READY_MASK);
      cv_.notify_all();
    }
  }

  // ---- checks of a call (docs/registers.md §2) ----

  uint32_t check(const CallArgs& a, uint32_t kv) const {
    uint32_t st = 0;
    if (a.command < TL_COMMAND_PREFILL || a.command > TL_COMMAND_SET_KV_LENGTH) return TL_REG_STATUS_BAD_COMMAND_MASK;
    if (a.command == TL_COMMAND_SET_KV_LENGTH) return a.kv_position > kv ? TL_REG_STATUS_BAD_KV_POSITION_MASK : 0;
    const tl_board_desc& b = board_;
    if (a.hidden == 0 || a.hidden > b.max_hidden || a.ffn == 0 || a.ffn > b.max_ffn || a.heads == 0 || a.heads > b.max_heads ||
        a.kv_heads == 0 || a.kv_heads > b.max_kv_heads || a.head_dim == 0 || a.head_dim > b.max_head_dim || a.head_dim % 2 ||
        a.heads % a.kv_heads || a.layers == 0 || a.layers > b.max_layers || a.vocab == 0 || a.vocab > b.max_vocab ||
        a.context == 0 || a.context > b.max_context || a.activation > TL_ACTIVATION_SILU)
      st |= TL_REG_STATUS_SHAPE_OVER_MAXIMA_MASK;
    if (a.n_tokens == 0 || (a.command == TL_COMMAND_DECODE && a.n_tokens != 1)) st |= TL_REG_STATUS_BAD_TOKEN_COUNT_MASK;
    const uint32_t first = a.command == TL_COMMAND_VERIFY ? a.kv_position : kv;
    if (a.command == TL_COMMAND_VERIFY && a.kv_position > kv) st |= TL_REG_STATUS_BAD_KV_POSITION_MASK;
    if (uint64_t(first) + a.n_tokens > a.context) st |= TL_REG_STATUS_CONTEXT_OVERFLOW_MASK;
    if (a.layer_count == 0 || a.layer_count > a.layers) st |= TL_REG_STATUS_BAD_LAYER_COUNT_MASK;
    bool misaligned = (a.ddr_act | a.ddr_kv | a.ddr_head) % kAlign;
    for (uint32_t p = 0; p < b.weight_ports; p++) misaligned |= a.ddr_w[p] % kAlign != 0;
    for (uint64_t o : {a.weights_offset, a.norms_offset, a.norm_final_offset, a.rope_offset, a.kv_k_offset, a.kv_v_offset,
                       a.residual_offset, a.act0_offset, a.act1_offset, a.q_offset, a.amax_offset, a.lm_head_weight_offset,
                       a.lm_head_scale_offset, a.logits_offset})
      misaligned |= o % kAlign != 0;
    if (misaligned) st |= TL_REG_STATUS_MISALIGNED_MASK;
    return st;
  }

  // ---- DDR access (bounds-checked: the model reports what a bus would silently do) ----

  uint8_t* at(uint64_t addr, uint64_t bytes) const {
    if (addr > ddr_bytes_ || bytes > ddr_bytes_ - addr) {
      throw ModelFault("DDR access [" + std::to_string(addr) + ", +" + std::to_string(bytes) + ") outside the " +
                       std::to_string(ddr_bytes_) + "-byte window");
    }
    return ddr_ + addr;
  }
  void read_f32(uint64_t addr, float* out, uint32_t n) const { std::memcpy(out, at(addr, 4ull * n), 4ull * n); }
  void write_f32(uint64_t addr, const float* in, uint32_t n) const { std::memcpy(at(addr, 4ull * n), in, 4ull * n); }

  // ---- one call ----

  uint32_t run(const CallArgs& a, uint32_t* kv, uint32_t* done) {
    uint32_t st = check(a, *kv);
    if (st) return st;
    if (a.command == TL_COMMAND_SET_KV_LENGTH) {
      *kv = a.kv_position;
      return 0;
    }
    if (a.command == TL_COMMAND_VERIFY) {
      // Where a verify pass leaves the head outputs of its n positions has no DDR region in the
      // register map yet (docs/registers.md §4 has one logits vector); the firmware runs VERIFY as
      // decode calls, which give the same bits (docs/accelerator.md).
      std::fprintf(stderr, "tl_accel_sim: the verify command is not modelled (no DDR region for n head outputs)\n");
      return TL_REG_STATUS_BAD_COMMAND_MASK;
    }
    try {
      pass(a, *kv);
    } catch (const ModelFault& f) {
      std::fprintf(stderr, "tl_accel_sim: %s\n", f.what());
      return kStatusModelFault;
    }
    *kv += a.n_tokens;
    *done = a.n_tokens;
    lookups_.store(engine_->lookups());
    return 0;
  }

  /** Tile t of linear n of layer l, lanes joined into one beat stream. */
  Tile load_tile(const CallArgs& a, uint32_t l, uint32_t n, uint32_t t, uint32_t rows, uint32_t cols, uint32_t tiles) const {
    Tile tile;
    const uint32_t tile_rows = a.linear_tile_rows[n];
    tile.rows = t + 1 < tiles ? tile_rows : rows - t * tile_rows;
    tile.chunks = (cols + board_.chunk_elements - 1) / board_.chunk_elements;
    tile.k = cols;
    const uint64_t bits = uint64_t(tile.rows) * tile.chunks * board_.vector_bits;
    const uint32_t beat_bytes = board_.beat_bits / 8, lane_bytes = board_.lane_bits / 8, P = board_.weight_ports;
    const uint64_t beats = (bits + board_.beat_bits - 1) / board_.beat_bits;
    const uint64_t lane_stride = t + 1 < tiles ? a.linear_lane_stride[n] : a.linear_last_lane_stride[n];
    const uint64_t off = a.weights_offset + uint64_t(l) * a.weights_layer_stride + a.linear_offset[n] + uint64_t(t) * a.linear_tile_stride[n];
    tile.beats.resize(beats * beat_bytes);
    for (uint32_t p = 0; p < P; p++) {
      const uint8_t* lane = at(a.ddr_w[p] + off + p * lane_stride, beats * lane_bytes);
      for (uint64_t b = 0; b < beats; b++) std::memcpy(&tile.beats[b * beat_bytes + p * lane_bytes], lane + b * lane_bytes, lane_bytes);
    }
    return tile;
  }

  /** acc[t][rows] of linear n of layer l for the tokens' quantised inputs q8[t][chunks*84]. */
  void linear(const CallArgs& a, uint32_t l, uint32_t n, const std::vector<int8_t>& q8, uint32_t tokens, std::vector<int32_t>& acc) {
    uint32_t rows, cols;
    linear_shape(a, n, &rows, &cols);
    const uint32_t tile_rows = a.linear_tile_rows[n];
    if (tile_rows == 0) throw ModelFault("linear_tile_rows[" + std::to_string(n) + "] is 0");
    const uint32_t tiles = (rows + tile_rows - 1) / tile_rows;
    acc.assign(size_t(tokens) * rows, 0);
    std::vector<int32_t> part;
    for (uint32_t t = 0; t < tiles; t++) {
      Tile tile = load_tile(a, l, n, t, rows, cols, tiles);
      part.assign(size_t(tokens) * tile.rows, 0);
      engine_->run(tile, q8.data(), tokens, part.data());
      for (uint32_t k = 0; k < tokens; k++)
        std::memcpy(&acc[size_t(k) * rows + t * tile_rows], &part[size_t(k) * tile.rows], 4ull * tile.rows);
    }
  }

  /** Quantise x (n values, absmax amax) into q8's row for one token, zero-padded to whole chunks. */
  void quantize_row(const float* x, uint32_t n, float amax, int8_t* row, uint32_t padded) const {
    const float s = tl_quant_multiplier(amax);
    for (uint32_t i = 0; i < n; i++) row[i] = tl_quantize(x[i], s);
    std::fill(row + n, row + padded, int8_t(0));
  }

  uint32_t padded(uint32_t k) const { return (k + board_.chunk_elements - 1) / board_.chunk_elements * board_.chunk_elements; }

  float weight_scale(const CallArgs& a, uint32_t l, uint32_t n) const { return tl_bits_f32(a.weight_scale[l * kLinears + n]); }

  void norm_weights(const CallArgs& a, uint32_t l, uint32_t role, uint32_t n, std::vector<float>& w) const {
    w.resize(n);
    read_f32(a.ddr_act + a.norms_offset + uint64_t(l) * a.norms_layer_stride + a.norm_role_offset[role], w.data(), n);
  }

  void pass(const CallArgs& a, uint32_t kv) {
    const uint32_t N = a.n_tokens, h = a.hidden, d = a.head_dim, F = a.ffn;
    const uint32_t qd = a.heads * d, kvd = a.kv_heads * d, maxk = std::max({h, F, qd});
    const uint32_t start = kv;  // prefill and decode append at kv_length
    const bool prefill = a.command == TL_COMMAND_PREFILL;
    std::vector<float> x(size_t(N) * h), normed(maxk), w, rope(size_t(d / 2) * 2), qv(size_t(N) * qd), attn(size_t(N) * qd),
        ffn(F), amax(N);
    std::vector<int8_t> q8;
    std::vector<int32_t> acc, acc2;
    const uint64_t res = a.ddr_act + a.residual_offset;
    for (uint32_t t = 0; t < N; t++) read_f32(res + (uint64_t(start) + t) * h * 4, &x[size_t(t) * h], h);

    for (uint32_t l = 0; l < a.layer_count; l++) {
      // q, k, v: RMS-MAX, quantise, TLMM, dequantise, RoPE, binary16 (numerics §11 steps 1-2).
      norm_weights(a, l, TL_NORM_ROLE_INPUT, h, w);
      q8.assign(size_t(N) * padded(h), 0);
      for (uint32_t t = 0; t < N; t++) {
        amax[t] = tl_rmsmax(&x[size_t(t) * h], w.data(), h, a.rms_eps, normed.data());
        quantize_row(normed.data(), h, amax[t], &q8[size_t(t) * padded(h)], padded(h));
      }
      std::vector<int32_t> aq, ak, av;
      linear(a, l, Q, q8, N, aq);
      linear(a, l, K, q8, N, ak);
      linear(a, l, V, q8, N, av);
      const float cq0 = weight_scale(a, l, Q), ck0 = weight_scale(a, l, K), cv0 = weight_scale(a, l, V);
      for (uint32_t t = 0; t < N; t++) {
        const uint32_t pos = start + t;
        const float cq = tl_dequant_factor(amax[t], cq0), ck = tl_dequant_factor(amax[t], ck0), cv = tl_dequant_factor(amax[t], cv0);
        read_f32(a.ddr_act + a.rope_offset + uint64_t(pos) * d * 4, rope.data(), d);  // [d/2][cos, sin]
        float* q = &qv[size_t(t) * qd];
        for (uint32_t i = 0; i < qd; i++) q[i] = tl_dequantize(aq[size_t(t) * qd + i], cq);
        std::vector<float> k(kvd), v(kvd);
        for (uint32_t i = 0; i < kvd; i++) {
          k[i] = tl_dequantize(ak[size_t(t) * kvd + i], ck);
          v[i] = tl_dequantize(av[size_t(t) * kvd + i], cv);
        }
        for (uint32_t hh = 0; hh < a.heads; hh++) rope_head(q + hh * d, d, rope.data());
        for (uint32_t hh = 0; hh < a.kv_heads; hh++) rope_head(&k[hh * d], d, rope.data());
        for (uint32_t i = 0; i < qd; i++) q[i] = tl_round_f16(q[i]);
        uint16_t* kc = reinterpret_cast<uint16_t*>(at(kv_addr(a, a.kv_k_offset, l, pos), 2ull * kvd));
        uint16_t* vc = reinterpret_cast<uint16_t*>(at(kv_addr(a, a.kv_v_offset, l, pos), 2ull * kvd));
        for (uint32_t i = 0; i < kvd; i++) {
          kc[i] = tl_f32_to_f16(k[i]);
          vc[i] = tl_f32_to_f16(v[i]);
        }
      }
      // Attention (§8.1 prefill, §8.2 decode), every key of this call already in the cache.
      for (uint32_t t = 0; t < N; t++) attention(a, l, start + t, &qv[size_t(t) * qd], &attn[size_t(t) * qd], prefill);
      // o_proj (+ sub-norm) and residual (step 4).
      norm_weights(a, l, TL_NORM_ROLE_ATTN_SUB, a.sub_norms ? qd : 0, w);
      q8.assign(size_t(N) * padded(qd), 0);
      for (uint32_t t = 0; t < N; t++) {
        const float* o = &attn[size_t(t) * qd];
        if (a.sub_norms) {
          amax[t] = tl_rmsmax(o, w.data(), qd, a.rms_eps, normed.data());
          quantize_row(normed.data(), qd, amax[t], &q8[size_t(t) * padded(qd)], padded(qd));
        } else {
          amax[t] = tl_absmax(o, qd);
          quantize_row(o, qd, amax[t], &q8[size_t(t) * padded(qd)], padded(qd));
        }
      }
      linear(a, l, O, q8, N, acc);
      for (uint32_t t = 0; t < N; t++) {
        const float c = tl_dequant_factor(amax[t], weight_scale(a, l, O));
        for (uint32_t i = 0; i < h; i++) x[size_t(t) * h + i] = tl_add(x[size_t(t) * h + i], tl_dequantize(acc[size_t(t) * h + i], c));
      }
      // FFN: RMS-MAX, up and gate, the gate activation, (+ sub-norm), down, residual (steps 5-6).
      norm_weights(a, l, TL_NORM_ROLE_POST_ATTENTION, h, w);
      q8.assign(size_t(N) * padded(h), 0);
      for (uint32_t t = 0; t < N; t++) {
        amax[t] = tl_rmsmax(&x[size_t(t) * h], w.data(), h, a.rms_eps, normed.data());
        quantize_row(normed.data(), h, amax[t], &q8[size_t(t) * padded(h)], padded(h));
      }
      std::vector<int32_t> au, ag;
      linear(a, l, UP, q8, N, au);
      linear(a, l, GATE, q8, N, ag);
      std::vector<float> wsub;
      norm_weights(a, l, TL_NORM_ROLE_FFN_SUB, a.sub_norms ? F : 0, wsub);
      std::vector<int8_t> q8d(size_t(N) * padded(F), 0);
      std::vector<float> amax2(N);
      for (uint32_t t = 0; t < N; t++) {
        const float cu = tl_dequant_factor(amax[t], weight_scale(a, l, UP)), cg = tl_dequant_factor(amax[t], weight_scale(a, l, GATE));
        for (uint32_t i = 0; i < F; i++) {
          const float g = tl_dequantize(ag[size_t(t) * F + i], cg), u = tl_dequantize(au[size_t(t) * F + i], cu);
          ffn[i] = a.activation == TL_ACTIVATION_RELU2 ? tl_relu2_gate(g, u) : tl_silu_gate(g, u);
        }
        if (a.sub_norms) {
          amax2[t] = tl_rmsmax(ffn.data(), wsub.data(), F, a.rms_eps, normed.data());
          quantize_row(normed.data(), F, amax2[t], &q8d[size_t(t) * padded(F)], padded(F));
        } else {
          amax2[t] = tl_absmax(ffn.data(), F);
          quantize_row(ffn.data(), F, amax2[t], &q8d[size_t(t) * padded(F)], padded(F));
        }
      }
      linear(a, l, DOWN, q8d, N, acc2);
      for (uint32_t t = 0; t < N; t++) {
        const float c = tl_dequant_factor(amax2[t], weight_scale(a, l, DOWN));
        for (uint32_t i = 0; i < h; i++) x[size_t(t) * h + i] = tl_add(x[size_t(t) * h + i], tl_dequantize(acc2[size_t(t) * h + i], c));
      }
    }
    for (uint32_t t = 0; t < N; t++) write_f32(res + (uint64_t(start) + t) * h * 4, &x[size_t(t) * h], h);
    if (a.layer_count != a.layers) return;  // a partial pass runs no final norm and no head

    // Final norm and the LM head for the last position (every position with all_positions).
    std::vector<float> wf(h), logits(a.vocab), row_amax(a.vocab);
    read_f32(a.ddr_act + a.norm_final_offset, wf.data(), h);
    read_f32(a.ddr_head + a.lm_head_scale_offset, row_amax.data(), a.vocab);
    const int8_t* rows = reinterpret_cast<const int8_t*>(at(a.ddr_head + a.lm_head_weight_offset, uint64_t(a.vocab) * h));
    std::vector<int8_t> qx(h);
    const uint32_t first = (a.flags & TL_REG_FLAGS_ALL_POSITIONS_MASK) ? 0 : N - 1;
    for (uint32_t t = first; t < N; t++) {
      const float am = tl_rmsmax(&x[size_t(t) * h], wf.data(), h, a.rms_eps, normed.data());
      const uint32_t slot = t - first;
      if (board_.lm_head_on_arm) {
        // The ARM head's input: the final RMS-MAX output in scratch.act0 row slot, its amax in scratch.amax[slot].
        write_f32(a.ddr_act + a.act0_offset + uint64_t(slot) * maxk * 4, normed.data(), h);
        write_f32(a.ddr_act + a.amax_offset + uint64_t(slot) * 4, &am, 1);
      } else {
        tl_head_quantize(normed.data(), h, am, qx.data());
        tl_head_logits(rows, h, row_amax.data(), a.vocab, qx.data(), h, am, logits.data());
        write_f32(a.ddr_head + a.logits_offset + uint64_t(slot) * a.vocab * 4, logits.data(), a.vocab);
      }
    }
  }

  uint64_t kv_addr(const CallArgs& a, uint64_t region, uint32_t l, uint32_t pos) const {
    const uint64_t kvd = uint64_t(a.kv_heads) * a.head_dim;
    return a.ddr_kv + region + ((uint64_t(l) * a.context + pos) * kvd) * 2;
  }

  static void rope_head(float* x, uint32_t d, const float* cs) {
    for (uint32_t i = 0; i < d / 2; i++) tl_rope_pair(x[2 * i], x[2 * i + 1], cs[2 * i], cs[2 * i + 1], &x[2 * i], &x[2 * i + 1]);
  }

  /** Attention of the query at position pos (q: heads*d binary16 values as binary32) into out. */
  void attention(const CallArgs& a, uint32_t l, uint32_t pos, const float* q, float* out, bool prefill) const {
    const uint32_t d = a.head_dim, kvd = a.kv_heads * d, group = a.heads / a.kv_heads;
    const uint16_t* kc = reinterpret_cast<const uint16_t*>(at(kv_addr(a, a.kv_k_offset, l, 0), 2ull * kvd * (pos + 1)));
    const uint16_t* vc = reinterpret_cast<const uint16_t*>(at(kv_addr(a, a.kv_v_offset, l, 0), 2ull * kvd * (pos + 1)));
    const float scale = tl_div(1.0f, tl_sqrt(float(d)));
    std::vector<float> kf(d), o(d), scores(pos + 1);
    auto score = [&](const float* qh, uint32_t j, uint32_t g) {
      for (uint32_t t = 0; t < d; t++) kf[t] = tl_f16_to_f32(kc[size_t(j) * kvd + g * d + t]);
      return tl_mul(tl_dot16(qh, kf.data(), d), scale);
    };
    for (uint32_t hh = 0; hh < a.heads; hh++) {
      const uint32_t g = hh / group;
      const float* qh = q + hh * d;
      float l_sum = 0.0f;
      std::fill(o.begin(), o.end(), 0.0f);
      if (prefill) {  // §8.1: keys pos .. 0, online softmax
        float m = -INFINITY;
        for (int64_t j = pos; j >= 0; j--) {
          const float s = score(qh, uint32_t(j), g);
          const float mn = s > m ? s : m;
          const float ea = tl_exp(tl_sub(m, mn)), eb = tl_exp(tl_sub(s, mn));
          l_sum = tl_add(tl_mul(l_sum, ea), eb);
          const uint16_t* vj = vc + size_t(j) * kvd + g * d;
          for (uint32_t t = 0; t < d; t++) o[t] = tl_add(tl_mul(o[t], ea), tl_mul(eb, tl_f16_to_f32(vj[t])));
          m = mn;
        }
      } else {  // §8.2: scores 0 .. pos, max, then exp and the value sum in position order
        float m = -INFINITY;
        for (uint32_t j = 0; j <= pos; j++) {
          scores[j] = score(qh, j, g);
          if (scores[j] > m) m = scores[j];
        }
        for (uint32_t j = 0; j <= pos; j++) {
          const float e = tl_exp(tl_sub(scores[j], m));
          l_sum = tl_add(l_sum, e);
          const uint16_t* vj = vc + size_t(j) * kvd + g * d;
          for (uint32_t t = 0; t < d; t++) o[t] = tl_add(o[t], tl_mul(e, tl_f16_to_f32(vj[t])));
        }
      }
      const float rl = tl_div(1.0f, l_sum);
      for (uint32_t t = 0; t < d; t++) out[hh * d + t] = tl_mul(o[t], rl);
    }
  }

  const tl_board_desc& board_;
  const bool hang_;
  std::unique_ptr<TileEngine> engine_;
  uint8_t* const ddr_;
  const uint64_t ddr_bytes_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint32_t regs_[TL_REGMAP_BYTES / 4];
  uint32_t kv_length_ = 0;
  bool start_ = false, quit_ = false;
  std::atomic<uint64_t> lookups_{0};
  std::thread worker_;
};

}  // namespace tl_sim

struct tl_accel_sim {
  std::unique_ptr<tl_sim::Accelerator> acc;
};

extern "C" {

tl_accel_sim* tl_accel_sim_create(const tl_accel_sim_config* cfg, char* err, size_t errlen) {
  auto fail = [&](const std::string& m) -> tl_accel_sim* {
    if (err && errlen) std::snprintf(err, errlen, "%s", m.c_str());
    return nullptr;
  };
  if (!cfg || !cfg->board) return fail("no board");
  const tl_board_desc& b = *cfg->board;
  if (!b.register_driven) {
    return fail(std::string("the register-driven accelerator does not implement ") + b.board_name +
                " (it needs tiled weights, dense beats and binary32 activations; hw/boards/" + b.board_name + ".json)");
  }
  if (b.kv_int8 || b.lm_head_shortlist) {
    return fail(std::string("the simulated accelerator implements the binary16 KV cache and the int8 head; ") + b.board_name +
                " asks for " + (b.kv_int8 ? "int8 attention" : "the ternary shortlist head"));
  }
  std::unique_ptr<tl_sim::TileEngine> engine;
  try {
    engine = cfg->fidelity == TL_ACCEL_SIM_RTL ? tl_sim::make_rtl_engine(b, 1) : tl_sim::make_csim_engine(b);
  } catch (const tl_sim::ModelFault& f) {
    return fail(f.what());
  }
  const uint64_t bytes = cfg->ddr_bytes ? cfg->ddr_bytes : uint64_t(b.ddr_usable_mib) << 20;
  // Reserved, not committed: pages appear as the image and the KV cache touch them.
  void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) return fail("cannot reserve " + std::to_string(bytes) + " bytes of simulated DDR");
  auto* a = new tl_accel_sim;
  a->acc = std::make_unique<tl_sim::Accelerator>(*cfg, std::move(engine), static_cast<uint8_t*>(mem), bytes);
  return a;
}

void tl_accel_sim_destroy(tl_accel_sim* a) { delete a; }
uint8_t* tl_accel_sim_ddr(tl_accel_sim* a, uint64_t* bytes) { return a->acc->ddr(bytes); }
uint32_t tl_accel_sim_read32(tl_accel_sim* a, uint32_t offset) { return a->acc->read32(offset); }
void tl_accel_sim_write32(tl_accel_sim* a, uint32_t offset, uint32_t value) { a->acc->write32(offset, value); }
int tl_accel_sim_wait_irq(tl_accel_sim* a, uint32_t timeout_ms) { return a->acc->wait_irq(timeout_ms) ? 1 : 0; }
uint64_t tl_accel_sim_lookups(const tl_accel_sim* a) { return a->acc->lookups(); }

}  // extern "C"
