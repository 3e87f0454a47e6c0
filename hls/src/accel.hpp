// Types shared by the units of the whole accelerator (the sequencer in accel_top.cpp and the units
// it drives): the model shape and the DDR map as the registers give them (docs/registers.md), and
// the 32-bit words of the activation, KV and head bundles.
#ifndef TL_ACCEL_HPP
#define TL_ACCEL_HPP

#include "tl_registers.hpp"  // Generated.
#include "tl_types.hpp"

#ifndef __SYNTHESIS__
#include <cstring>
#endif

namespace tl {

static_assert(hw::KV_INT8, "this accelerator implements the int8 KV cache and attention of numerics §8.3 (kv_format int8)");
static_assert(hw::LM_HEAD_FABRIC && !hw::LM_HEAD_SHORTLIST, "this accelerator implements the int8 LM head on the fabric (numerics §9.1)");
static_assert(hw::MAX_HEAD_DIM % 4 == 0 && hw::MAX_HIDDEN % 4 == 0, "int8 rows are moved as 32-bit words");

// One word of the act, kv and head bundles: a binary32 value (its bits) or four int8 values
// (element 4i + b in bits [8b, 8b + 8)). DDR offsets in registers are bytes; the units take words.
typedef uint32_t word_t;

// The number of linears of a layer and of norm roles (the register map's enums).
constexpr unsigned LINEARS = 7;
constexpr unsigned NORM_ROLES = 4;
// Longest vector of a query or KV row: heads * head_dim.
constexpr unsigned MAX_Q_DIM = hw::MAX_HEADS * hw::MAX_HEAD_DIM;

// The model shape of the call (the shape registers) and what follows from it.
struct shape_t {
  unsigned hidden, ffn, heads, kv_heads, head_dim, layers, vocab, context;
  unsigned activation;  // tl_regs::activation_t
  bool sub_norms;
  float eps;            // f32(rms_norm_eps)
  unsigned q_dim;       // heads * head_dim
  unsigned kv_dim;      // kv_heads * head_dim
  unsigned act_dim;     // row length of scratch.act0/act1: max(hidden, q_dim, ffn)
};

// The DDR map of the call, in words from the window base (byte offsets / 4; every region is 4 KiB
// aligned, docs/layout.md §4), except the weights, which are in bytes (they are read as lane words).
struct ddr_map_t {
  uint64_t weights, norms, norm_final, rope, kv_k, kv_v, kv_k_scale, kv_v_scale, residual, act0, act1, q, q_scale, amax, lm_head_weight,
      lm_head_scale, head_out;
  uint64_t weights_layer_stride, norms_layer_stride;   // bytes; words for the norms
  uint64_t linear_offset[LINEARS], linear_lane_stride[LINEARS], linear_tile_stride[LINEARS], linear_last_lane_stride[LINEARS];  // bytes
  unsigned linear_tile_rows[LINEARS];
  uint64_t norm_role_offset[NORM_ROLES];  // words
  float weight_scale[hw::MAX_LAYERS][LINEARS];
};

// Rows and reduction length of linear n (the register map's linear enum).
inline unsigned linear_rows(const shape_t &s, unsigned n) {
  switch (n) {
    case tl_regs::LINEAR_Q_PROJ: return s.q_dim;
    case tl_regs::LINEAR_K_PROJ:
    case tl_regs::LINEAR_V_PROJ: return s.kv_dim;
    case tl_regs::LINEAR_UP_PROJ:
    case tl_regs::LINEAR_GATE_PROJ: return s.ffn;
    default: return s.hidden;  // o_proj, down_proj
  }
}
inline unsigned linear_cols(const shape_t &s, unsigned n) {
  switch (n) {
    case tl_regs::LINEAR_O_PROJ: return s.q_dim;
    case tl_regs::LINEAR_DOWN_PROJ: return s.ffn;
    default: return s.hidden;
  }
}

// The exact dot product of n int8 pairs (|sum| <= 127^2 * n fits int32 for every n of the build).
inline int32_t dot_int8(const int8_t *a, const int8_t *b, unsigned n) {
  int32_t acc = 0;
  for (unsigned i = 0; i < n; i++) acc += (int32_t)a[i] * (int32_t)b[i];
  return acc;
}

// n int8 values of a row that starts at word `base` (n a multiple of 4).
inline void read_int8_row(const word_t *mem, uint64_t base, unsigned n, int8_t *out) {
#ifndef __SYNTHESIS__
  // The C simulation's shortcut: on a little-endian host the packed words are the bytes in order.
  std::memcpy(out, mem + base, n);
#else
  for (unsigned w = 0; w < n / 4; w++) {
    const word_t v = mem[base + w];
    for (unsigned b = 0; b < 4; b++) out[4 * w + b] = (int8_t)(uint8_t)(v >> (8 * b));
  }
#endif
}

// Words one port moves per cycle (a beat of the act, kv or head bundle, or one weight lane), and
// the words the weight lanes move together (memory.axi_data_bits and memory.weight_ports of the
// board). The KV cache's and the LM head's int8 rows are the accelerator's other long streams, so
// they are read through the weight lanes, which are idle then (attention and the head run between
// engine calls, and an engine call's weight fetch ends with it): a row at the weight stream's
// width, not one port's. Their binary32 scales come through the kv and head bundles beside them.
constexpr unsigned PORT_WORDS = hw::LANE_BITS / 32;
constexpr unsigned STREAM_WORDS = hw::WEIGHT_PORTS * PORT_WORDS;
static_assert(hw::WEIGHT_PORTS == 4, "the weight lanes are the four ports w0 .. w3");

// n int8 values of a row that starts at word `base` of the DDR window, through the weight lanes:
// lane word i (words 4i .. 4i + 3 of the window) through port i mod 4, so a row takes
// ceil(n / 4 / STREAM_WORDS) cycles (aligned; the units' cycle report counts that).
inline void read_int8_row_lanes(const lane_word_t *w0, const lane_word_t *w1, const lane_word_t *w2, const lane_word_t *w3, uint64_t base,
                                unsigned n, int8_t *out) {
  const unsigned words = n / 4;
  for (unsigned i = 0; i < words;) {
    const uint64_t lane = (base + i) / PORT_WORDS;
    const unsigned first = (unsigned)((base + i) % PORT_WORDS);
    const unsigned take = PORT_WORDS - first < words - i ? PORT_WORDS - first : words - i;
    const unsigned port = (unsigned)(lane % hw::WEIGHT_PORTS);
    const lane_word_t *p = port == 0 ? w0 : port == 1 ? w1 : port == 2 ? w2 : w3;
#ifndef __SYNTHESIS__
    // The C simulation's shortcut: a lane word is its bytes in order (little-endian host).
    std::memcpy(out + 4 * i, reinterpret_cast<const uint8_t *>(p + lane) + 4 * first, 4 * take);
#else
    const lane_word_t v = p[lane];
    for (unsigned b = 0; b < 4 * take; b++) out[4 * i + b] = (int8_t)(uint8_t)v.range(8 * (4 * first + b) + 7, 8 * (4 * first + b));
#endif
    i += take;
  }
}

}  // namespace tl

#endif  // TL_ACCEL_HPP
