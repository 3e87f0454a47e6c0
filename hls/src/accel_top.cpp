// The accelerator's top function and its sequencer (accel_top.hpp).
//
// A pass of n tokens at KV offset L, per layer (numerics §11; the scratch rows are the pass's
// tokens 0 .. n - 1, the KV cache rows their positions L .. L + n - 1):
//   RMS-MAX(residual, input norm)             -> act0, amax
//   q_proj (RoPE) -> act1;  head quantiser    -> scratch.q, q_scale
//   k_proj (RoPE) -> act1;  head quantiser    -> kv.k, k_scale  [layer][L ..]
//   v_proj        -> act1;  head quantiser    -> kv.v, v_scale
//   attention (q, the cache 0 .. p)           -> act0
//   RMS-MAX(act0, attention sub-norm) -> act1, or the plain absmax of act0
//   o_proj (+ residual, in place)             -> residual
//   RMS-MAX(residual, post-attention norm)    -> act0, amax
//   up_proj -> act1;  gate_proj (act · up, in place) -> act1
//   RMS-MAX(act1, FFN sub-norm) -> act0, or the plain absmax of act1
//   down_proj (+ residual, in place)          -> residual
// then, for the head positions (the last token, or every token of a verify pass or of a prefill
// with flags.all_positions), RMS-MAX(residual, final norm) -> act0 and the LM head -> head.out.
//
// The TLMM engine's weight tiles run in one sequence over the whole pass (docs/layout.md §2.3):
// every engine call computes tile i from one buffer half while tile i + 1 of the sequence (the
// next tile of this linear, or the first of the next linear or layer) loads into the other.
#include "accel_top.hpp"

#include "attention.hpp"
#include "head_quant.hpp"
#include "linear.hpp"
#include "lm_head.hpp"
#include "norm_pass.hpp"
#include "tl_numerics.h"
#include "tl_steps.hpp"
#include "tl_tap.hpp"
#include "tlmm_engine_hls.hpp"
#include "weight_loader.hpp"

#ifndef __SYNTHESIS__
#include <string>
#endif

namespace tl {

namespace {

constexpr uint64_t ALIGN = 4096;  // every DDR region starts on 4 KiB (docs/layout.md §4)

constexpr unsigned hex_digit(char c) { return c >= 'a' ? (unsigned)(c - 'a' + 10) : (unsigned)(c - '0'); }
// The first 64 bits (16 hex digits, big-endian) of the build's sha256.
constexpr uint64_t hash64(const char *h) {
  uint64_t acc = 0;
  for (unsigned i = 0; i < 16; i++) acc = (acc << 4) | hex_digit(h[i]);
  return acc;
}
constexpr uint64_t BUILD_HASH = hash64(hw::HW_HASH);

// The pointers of the call.
struct ports_t {
  const word_t *act, *kv, *head, *side;
  word_t *out;
  const lane_word_t *w0, *w1, *w2, *w3;
};

// A weight tile of the pass's sequence.
struct tile_ref_t {
  bool valid;
  unsigned layer, linear, tile;
};

struct pass_t {
  shape_t s;
  ddr_map_t m;
  ports_t p;
  unsigned n, L, layer_count;
  unsigned buf;  // the weight-buffer half the next compute reads
};

unsigned tiles_of(const pass_t &ps, unsigned n) { return ceil_div(linear_rows(ps.s, n), ps.m.linear_tile_rows[n]); }
unsigned tile_rows(const pass_t &ps, unsigned n, unsigned t) {
  const unsigned rows = linear_rows(ps.s, n), per = ps.m.linear_tile_rows[n];
  return t + 1 < tiles_of(ps, n) ? per : rows - t * per;
}

tile_ref_t next_tile(const pass_t &ps, tile_ref_t r) {
  if (r.tile + 1 < tiles_of(ps, r.linear)) return tile_ref_t{true, r.layer, r.linear, r.tile + 1};
  if (r.linear + 1 < LINEARS) return tile_ref_t{true, r.layer, r.linear + 1, 0};
  if (r.layer + 1 < ps.layer_count) return tile_ref_t{true, r.layer + 1, 0, 0};
  return tile_ref_t{false, 0, 0, 0};
}

// The load half of an engine call: tile r into half `buf`, its lane regions (docs/registers.md §4).
void set_load(const pass_t &ps, tile_ref_t r, unsigned buf, linear_args_t &a) {
  a.load = r.valid;
  if (!r.valid) return;
  const unsigned n = r.linear;
  a.load_rows = tile_rows(ps, n, r.tile);
  a.load_chunks = ceil_div(linear_cols(ps.s, n), CHUNK);
  a.load_buf = buf;
  const uint64_t lane = r.tile + 1 < tiles_of(ps, n) ? ps.m.linear_lane_stride[n] : ps.m.linear_last_lane_stride[n];
  const uint64_t base = ps.m.weights + r.layer * ps.m.weights_layer_stride + ps.m.linear_offset[n] + r.tile * ps.m.linear_tile_stride[n];
  for (unsigned q = 0; q < hw::WEIGHT_PORTS; q++) a.lane_off[q] = (base + q * lane) / (hw::LANE_BITS / 8);
}

linear_args_t no_linear() {
  linear_args_t a = {};
  a.compute = false;
  a.load = false;
  a.mode = DQ_PLAIN;
  return a;
}

unsigned call_linear(const pass_t &ps, const linear_args_t &a) { return linear_call(ps.p.act, ps.p.side, ps.p.out, ps.p.w0, ps.p.w1, ps.p.w2, ps.p.w3, a); }

#ifndef __SYNTHESIS__
const char *const LINEAR_NAMES[LINEARS] = {"q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "gate_proj", "down_proj"};
#endif

// Every tile of linear n of layer l for the pass's n tokens. in/out/side rows are words; `in_name`
// is the trace name of the quantised input (tapped in the first tile), `result` of what leaves the
// fused operation (null: not a trace tensor).
void run_linear(pass_t &ps, unsigned l, unsigned n, uint64_t in_off, uint64_t out_off, dq_mode_t mode, uint64_t side_off, const char *in_name,
                const char *result) {
  const unsigned tiles = tiles_of(ps, n);
  unsigned row_start = 0;
TILES:
  for (unsigned t = 0; t < tiles; t++) {
#pragma HLS loop_tripcount max = hw::MAX_FFN / hw::PARALLEL_VECTORS
    linear_args_t a = no_linear();
    a.compute = true;
    a.k = linear_cols(ps.s, n);
    a.rows = tile_rows(ps, n, t);
    a.row_start = row_start;
    a.tokens = ps.n;
    a.buf = ps.buf;
    a.in_off = in_off;
    a.in_stride = in_off == ps.m.residual ? ps.s.hidden : ps.s.act_dim;  // residual rows are hidden wide, scratch rows act_dim
    a.amax_off = ps.m.amax;
    a.mode = mode;
    a.activation = ps.s.activation;
    a.weight_scale = ps.m.weight_scale[l][n];
    a.out_off = out_off;
    a.out_stride = out_off == ps.m.residual ? ps.s.hidden : ps.s.act_dim;
    a.side_off = side_off;
    a.side_stride = side_off == ps.m.residual ? ps.s.hidden : ps.s.act_dim;
    a.head_dim = ps.s.head_dim;
    a.pos0 = ps.L;
    set_load(ps, next_tile(ps, tile_ref_t{true, l, n, t}), ps.buf ^ 1, a);
#ifndef __SYNTHESIS__
    const std::string base = LINEAR_NAMES[n];
    const std::string acc_name = base + ".acc", out_name = base + ".out";
    TL_TAP_SCOPE((int)l, ps.L, {TAP_IN, t == 0 ? in_name : nullptr}, {TAP_ACC, acc_name.c_str()}, {TAP_OUT, out_name.c_str()}, {TAP_RESULT, result});
    TL_TAP_RANGE(row_start, linear_rows(ps.s, n));
    TL_STEP_BEGIN(base + "#" + std::to_string(t), (int)l);
#endif
    call_linear(ps, a);
    TL_STEP_END();
    ps.buf ^= 1;
    row_start += a.rows;
  }
}

// RMS-MAX of `tokens` rows of width `n` at x_off (words) into y_off (if with_norm) and scratch.amax.
void run_norm(const pass_t &ps, uint64_t x_off, uint64_t x_stride, unsigned n, unsigned tokens, bool with_norm, uint64_t w_off, uint64_t y_off) {
  norm_args_t a;
  a.n = n;
  a.tokens = tokens;
  a.with_norm = with_norm;
  a.eps = ps.s.eps;
  a.w_off = w_off;
  a.x_off = x_off;
  a.x_stride = x_stride;
  a.y_off = y_off;
  a.y_stride = ps.s.act_dim;
  a.amax_off = ps.m.amax;
  norm_pass(ps.p.act, ps.p.out, a);
}

// Head-quantise `heads` heads of the act1 rows into int8 rows at dst (words, stride dst_stride) and
// scales at scale_off (stride scale_stride).
void run_head_quant(const pass_t &ps, unsigned heads, uint64_t dst, uint64_t dst_stride, uint64_t scale_off, uint64_t scale_stride) {
  head_quant_args_t a;
  a.heads = heads;
  a.d = ps.s.head_dim;
  a.tokens = ps.n;
  a.src_off = ps.m.act1;
  a.src_stride = ps.s.act_dim;
  a.dst_off = dst;
  a.dst_stride = dst_stride;
  a.scale_off = scale_off;
  a.scale_stride = scale_stride;
  head_quantize(ps.p.act, ps.p.out, a);
}

void run_layer(pass_t &ps, unsigned l) {
  const shape_t &s = ps.s;
  const ddr_map_t &m = ps.m;
  const uint64_t norms = m.norms + l * m.norms_layer_stride;
  const uint64_t kv_pos = (uint64_t)l * s.context + ps.L;  // this layer's row of the first position
  const uint64_t kv_row = s.kv_dim / 4;                    // words of one int8 K or V row
  // Input RMS-MAX, q / k / v with RoPE, their head quantisers (the KV cache at L ..).
  TL_TAP_SCOPE((int)l, ps.L, {TAP_AMAX, "qkv.amax"}, {TAP_RESULT, "input_norm.out"});
  TL_STEP_BEGIN("norm.input", (int)l);
  run_norm(ps, m.residual, s.hidden, s.hidden, ps.n, true, norms + m.norm_role_offset[tl_regs::NORM_ROLE_INPUT], m.act0);
  TL_STEP_END();
  run_linear(ps, l, tl_regs::LINEAR_Q_PROJ, m.act0, m.act1, DQ_ROPE, m.rope, "qkv.in", nullptr);
  TL_TAP_SCOPE((int)l, ps.L, {TAP_Q8, "attn.q8"}, {TAP_SCALE, "attn.q_scale"});
  TL_STEP_BEGIN("head_quant.q", (int)l);
  run_head_quant(ps, s.heads, m.q, s.q_dim / 4, m.q_scale, s.heads);
  TL_STEP_END();
  run_linear(ps, l, tl_regs::LINEAR_K_PROJ, m.act0, m.act1, DQ_ROPE, m.rope, nullptr, nullptr);
  TL_TAP_SCOPE((int)l, ps.L, {TAP_Q8, "attn.k8"}, {TAP_SCALE, "attn.k_scale"});
  TL_STEP_BEGIN("head_quant.k", (int)l);
  run_head_quant(ps, s.kv_heads, m.kv_k + kv_pos * kv_row, kv_row, m.kv_k_scale + kv_pos * s.kv_heads, s.kv_heads);
  TL_STEP_END();
  run_linear(ps, l, tl_regs::LINEAR_V_PROJ, m.act0, m.act1, DQ_PLAIN, 0, nullptr, nullptr);
  TL_TAP_SCOPE((int)l, ps.L, {TAP_Q8, "attn.v8"}, {TAP_SCALE, "attn.v_scale"});
  TL_STEP_BEGIN("head_quant.v", (int)l);
  run_head_quant(ps, s.kv_heads, m.kv_v + kv_pos * kv_row, kv_row, m.kv_v_scale + kv_pos * s.kv_heads, s.kv_heads);
  TL_STEP_END();
  // Attention over the cache 0 .. p of every position p of the pass.
  attn_args_t at;
  at.heads = s.heads;
  at.kv_heads = s.kv_heads;
  at.d = s.head_dim;
  at.tokens = ps.n;
  at.pos0 = ps.L;
  at.scale = tl_div(1.0f, tl_sqrt((float)s.head_dim));
  at.q_off = m.q;
  at.q_stride = s.q_dim / 4;
  at.qs_off = m.q_scale;
  at.qs_stride = s.heads;
  at.k_off = m.kv_k + (uint64_t)l * s.context * kv_row;
  at.v_off = m.kv_v + (uint64_t)l * s.context * kv_row;
  at.kv_stride = kv_row;
  at.ks_off = m.kv_k_scale + (uint64_t)l * s.context * s.kv_heads;
  at.vs_off = m.kv_v_scale + (uint64_t)l * s.context * s.kv_heads;
  at.s_stride = s.kv_heads;
  at.out_off = m.act0;
  at.out_stride = s.act_dim;
  TL_TAP_SCOPE((int)l, ps.L, {TAP_RESULT, "attn.out"});
  TL_STEP_BEGIN("attention", (int)l);
  attention(ps.p.act, ps.p.kv, ps.p.w0, ps.p.w1, ps.p.w2, ps.p.w3, ps.p.out, at);
  TL_STEP_END();
  // o_proj on the attention sub-norm's output (or the attention output and its plain absmax).
  TL_TAP_SCOPE((int)l, ps.L, {TAP_AMAX, "o_proj.amax"}, {TAP_RESULT, s.sub_norms ? "attn_sub_norm.out" : nullptr});
  TL_STEP_BEGIN("norm.attn_sub", (int)l);
  run_norm(ps, m.act0, s.act_dim, s.q_dim, ps.n, s.sub_norms, norms + m.norm_role_offset[tl_regs::NORM_ROLE_ATTN_SUB], m.act1);
  TL_STEP_END();
  run_linear(ps, l, tl_regs::LINEAR_O_PROJ, s.sub_norms ? m.act1 : m.act0, m.residual, DQ_RESIDUAL, m.residual, "o_proj.in", "residual.attn");
  // The gated FFN.
  TL_TAP_SCOPE((int)l, ps.L, {TAP_AMAX, "gate_up.amax"}, {TAP_RESULT, "post_attention_norm.out"});
  TL_STEP_BEGIN("norm.post_attention", (int)l);
  run_norm(ps, m.residual, s.hidden, s.hidden, ps.n, true, norms + m.norm_role_offset[tl_regs::NORM_ROLE_POST_ATTENTION], m.act0);
  TL_STEP_END();
  run_linear(ps, l, tl_regs::LINEAR_UP_PROJ, m.act0, m.act1, DQ_PLAIN, 0, "gate_up.in", nullptr);
  run_linear(ps, l, tl_regs::LINEAR_GATE_PROJ, m.act0, m.act1, DQ_GATE, m.act1, nullptr, "ffn.act");
  TL_TAP_SCOPE((int)l, ps.L, {TAP_AMAX, "down_proj.amax"}, {TAP_RESULT, s.sub_norms ? "ffn_sub_norm.out" : nullptr});
  TL_STEP_BEGIN("norm.ffn_sub", (int)l);
  run_norm(ps, m.act1, s.act_dim, s.ffn, ps.n, s.sub_norms, norms + m.norm_role_offset[tl_regs::NORM_ROLE_FFN_SUB], m.act0);
  TL_STEP_END();
  run_linear(ps, l, tl_regs::LINEAR_DOWN_PROJ, s.sub_norms ? m.act0 : m.act1, m.residual, DQ_RESIDUAL, m.residual, "down_proj.in", "residual.ffn");
}

// The final norm and the LM head for `positions` rows from `first` (a pass's token index).
void run_head(const pass_t &ps, unsigned first, unsigned positions) {
  const ddr_map_t &m = ps.m;
  TL_TAP_SCOPE(-1, ps.L + first, {TAP_AMAX, "head.amax"}, {TAP_RESULT, "final_norm.out"});
  TL_STEP_BEGIN("norm.final", -1);
  run_norm(ps, m.residual + (uint64_t)first * ps.s.hidden, ps.s.hidden, ps.s.hidden, positions, true, m.norm_final, m.act0);
  TL_STEP_END();
  head_args_t h;
  h.hidden = ps.s.hidden;
  h.vocab = ps.s.vocab;
  h.positions = positions;
  h.x_off = m.act0;
  h.x_stride = ps.s.act_dim;
  h.amax_off = m.amax;
  h.w_off = m.lm_head_weight;
  h.scale_off = m.lm_head_scale;
  h.out_off = m.head_out;
  TL_TAP_SCOPE(-1, ps.L + first, {TAP_IN, "head.in"}, {TAP_ACC, "head.acc"}, {TAP_LOGITS, "head.logits"});
  TL_STEP_BEGIN("lm_head", -1);
  lm_head(ps.p.act, ps.p.head, ps.p.w0, ps.p.w1, ps.p.w2, ps.p.w3, ps.p.out, h);
  TL_STEP_END();
}

bool misaligned(uint64_t byte_offset) { return byte_offset % ALIGN != 0; }

// Every tile of every linear fits the weight buffer and the engine (the engine would refuse it).
bool tiling_fits(const pass_t &ps) {
  for (unsigned n = 0; n < LINEARS; n++) {
    const unsigned per = ps.m.linear_tile_rows[n];
    const unsigned chunks = ceil_div(linear_cols(ps.s, n), CHUNK);
    if (per == 0 || per > hw::MAX_TILE_ROWS || linear_cols(ps.s, n) > hw::K_MAX_PADDED) return false;
    if (chunks * ceil_div(per, BANKS) > WORDS_PER_BUFFER) return false;
  }
  return true;
}

}  // namespace

}  // namespace tl

void tellme_accel(unsigned command, unsigned n_tokens, unsigned kv_position, unsigned layer_count, unsigned flags, unsigned &status,
                  unsigned &kv_length, unsigned &tokens_done, uint64_t &cycles, uint64_t &build_hash, unsigned &regmap_version, unsigned hidden,
                  unsigned ffn, unsigned heads, unsigned kv_heads, unsigned head_dim, unsigned layers, unsigned vocab, unsigned context,
                  unsigned activation, unsigned sub_norms, unsigned rms_eps, const tl::word_t *ddr_act, const tl::word_t *ddr_kv,
                  const tl::word_t *ddr_head, const tl::word_t *ddr_side, tl::word_t *ddr_out, const tl::lane_word_t *ddr_w0,
                  const tl::lane_word_t *ddr_w1, const tl::lane_word_t *ddr_w2, const tl::lane_word_t *ddr_w3, uint64_t weights_offset,
                  unsigned weights_layer_stride, uint64_t norms_offset, unsigned norms_layer_stride, uint64_t norm_final_offset,
                  uint64_t rope_offset, uint64_t kv_k_offset, uint64_t kv_v_offset, uint64_t residual_offset, uint64_t act0_offset,
                  uint64_t act1_offset, uint64_t q_offset, uint64_t amax_offset, uint64_t lm_head_weight_offset, uint64_t lm_head_scale_offset,
                  uint64_t logits_offset, uint64_t q_scale_offset, const unsigned linear_offset[8], const unsigned linear_lane_stride[8],
                  const unsigned linear_tile_stride[8], const unsigned linear_tile_rows[8], const unsigned linear_last_lane_stride[8],
                  uint64_t kv_k_scale_offset, uint64_t kv_v_scale_offset, const unsigned norm_role_offset[4], const unsigned weight_scale[512]) {
  TL_CONTROL_INTERFACE()
  TL_WEIGHT_PORTS_INTERFACE()
  // The act bundle has one reader per process of a dataflow region (ddr_act, ddr_side) and one
  // writer (ddr_out); kv and head are read-only and carry the KV and head scales (the int8 rows
  // come through the weight lanes, accel.hpp). 128-bit words, bursts of 16 beats (256 bytes: an
  // aligned burst never crosses 4 KiB). C/RTL co-simulation needs each port's depth: hls/README.md.
#pragma HLS interface mode = m_axi port = ddr_act bundle = act offset = slave max_widen_bitwidth = 128 max_read_burst_length = 16 num_read_outstanding = 8
#pragma HLS interface mode = m_axi port = ddr_side bundle = act offset = slave max_widen_bitwidth = 128 max_read_burst_length = 16 num_read_outstanding = 8
#pragma HLS interface mode = m_axi port = ddr_out bundle = act offset = slave max_widen_bitwidth = 128 max_write_burst_length = 16 num_write_outstanding = 8
#pragma HLS interface mode = m_axi port = ddr_kv bundle = kv offset = slave max_widen_bitwidth = 128 max_read_burst_length = 16 num_read_outstanding = 8
#pragma HLS interface mode = m_axi port = ddr_head bundle = head offset = slave max_widen_bitwidth = 128 max_read_burst_length = 16 num_read_outstanding = 8
  using namespace tl;
#ifndef __SYNTHESIS__
  const uint64_t cycles0 = csim::sequential_cycles();
#endif
  build_hash = BUILD_HASH;
  regmap_version = tl_regs::REGMAP_VERSION;
  tokens_done = 0;
  kv_length = kv_position;
  cycles = 0;

  pass_t ps;
  ps.s.hidden = hidden;
  ps.s.ffn = ffn;
  ps.s.heads = heads;
  ps.s.kv_heads = kv_heads;
  ps.s.head_dim = head_dim;
  ps.s.layers = layers;
  ps.s.vocab = vocab;
  ps.s.context = context;
  ps.s.activation = activation;
  ps.s.sub_norms = sub_norms != 0;
  ps.s.eps = tl_bits_f32(rms_eps);
  ps.s.q_dim = heads * head_dim;
  ps.s.kv_dim = kv_heads * head_dim;
  ps.s.act_dim = hidden > ps.s.q_dim ? hidden : ps.s.q_dim;
  if (ffn > ps.s.act_dim) ps.s.act_dim = ffn;

  // Checks (docs/registers.md §2): a call with an error does nothing else.
  unsigned err = 0;
  if (command < tl_regs::COMMAND_PREFILL || command > tl_regs::COMMAND_SET_KV_LENGTH) err |= tl_regs::STATUS_BAD_COMMAND;
  if (kv_position >= context && command != tl_regs::COMMAND_SET_KV_LENGTH) err |= tl_regs::STATUS_BAD_KV_POSITION;
  if (kv_position > context) err |= tl_regs::STATUS_BAD_KV_POSITION;
  if (command != tl_regs::COMMAND_SET_KV_LENGTH && err == 0) {
    const bool shape_ok = hidden >= 4 && hidden <= hw::MAX_HIDDEN && hidden % 4 == 0 && ffn >= 1 && ffn <= hw::MAX_FFN && heads >= 1 &&
                          heads <= hw::MAX_HEADS && kv_heads >= 1 && kv_heads <= hw::MAX_KV_HEADS && heads % kv_heads == 0 && head_dim >= 4 &&
                          head_dim <= hw::MAX_HEAD_DIM && head_dim % 4 == 0 && layers >= 1 && layers <= hw::MAX_LAYERS && vocab >= 1 &&
                          vocab <= hw::MAX_VOCAB && context >= 1 && context <= hw::MAX_CONTEXT && activation <= tl_regs::ACTIVATION_SILU &&
                          ps.s.q_dim <= hw::K_MAX_PADDED;
    if (!shape_ok) err |= tl_regs::STATUS_SHAPE_OVER_MAXIMA;
    const bool all_positions = command == tl_regs::COMMAND_VERIFY || (flags & tl_regs::FLAGS_ALL_POSITIONS) != 0;
    if (n_tokens == 0 || (command == tl_regs::COMMAND_DECODE && n_tokens != 1) || (all_positions && n_tokens > hw::HEAD_POSITIONS))
      err |= tl_regs::STATUS_BAD_TOKEN_COUNT;
    if ((uint64_t)kv_position + n_tokens > context) err |= tl_regs::STATUS_CONTEXT_OVERFLOW;
    if (layer_count == 0 || layer_count > layers) err |= tl_regs::STATUS_BAD_LAYER_COUNT;
    if (misaligned(weights_offset) || misaligned(weights_layer_stride) || misaligned(norms_offset) || misaligned(norms_layer_stride) ||
        misaligned(norm_final_offset) || misaligned(rope_offset) || misaligned(kv_k_offset) || misaligned(kv_v_offset) ||
        misaligned(kv_k_scale_offset) || misaligned(kv_v_scale_offset) || misaligned(residual_offset) || misaligned(act0_offset) ||
        misaligned(act1_offset) || misaligned(q_offset) || misaligned(q_scale_offset) || misaligned(amax_offset) ||
        misaligned(lm_head_weight_offset) || misaligned(lm_head_scale_offset) || misaligned(logits_offset))
      err |= tl_regs::STATUS_MISALIGNED;
    for (unsigned n = 0; n < LINEARS; n++) {
      if (misaligned(linear_offset[n]) || misaligned(linear_lane_stride[n]) || misaligned(linear_tile_stride[n]) || misaligned(linear_last_lane_stride[n]))
        err |= tl_regs::STATUS_MISALIGNED;
    }
    for (unsigned r = 0; r < NORM_ROLES; r++)
      if (misaligned(norm_role_offset[r])) err |= tl_regs::STATUS_MISALIGNED;
  }
  status = err;
  if (err != 0 || command == tl_regs::COMMAND_SET_KV_LENGTH) return;

  ps.m.weights = weights_offset;
  ps.m.weights_layer_stride = weights_layer_stride;
  ps.m.norms = norms_offset / 4;
  ps.m.norms_layer_stride = norms_layer_stride / 4;
  ps.m.norm_final = norm_final_offset / 4;
  ps.m.rope = rope_offset / 4;
  ps.m.kv_k = kv_k_offset / 4;
  ps.m.kv_v = kv_v_offset / 4;
  ps.m.kv_k_scale = kv_k_scale_offset / 4;
  ps.m.kv_v_scale = kv_v_scale_offset / 4;
  ps.m.residual = residual_offset / 4;
  ps.m.act0 = act0_offset / 4;
  ps.m.act1 = act1_offset / 4;
  ps.m.q = q_offset / 4;
  ps.m.q_scale = q_scale_offset / 4;
  ps.m.amax = amax_offset / 4;
  ps.m.lm_head_weight = lm_head_weight_offset / 4;
  ps.m.lm_head_scale = lm_head_scale_offset / 4;
  ps.m.head_out = logits_offset / 4;
  for (unsigned n = 0; n < LINEARS; n++) {
    ps.m.linear_offset[n] = linear_offset[n];
    ps.m.linear_lane_stride[n] = linear_lane_stride[n];
    ps.m.linear_tile_stride[n] = linear_tile_stride[n];
    ps.m.linear_last_lane_stride[n] = linear_last_lane_stride[n];
    ps.m.linear_tile_rows[n] = linear_tile_rows[n];
  }
  for (unsigned r = 0; r < NORM_ROLES; r++) ps.m.norm_role_offset[r] = norm_role_offset[r] / 4;
  for (unsigned l = 0; l < layers; l++)
    for (unsigned n = 0; n < LINEARS; n++) ps.m.weight_scale[l][n] = tl_bits_f32(weight_scale[l * 8 + n]);
  ps.p = ports_t{ddr_act, ddr_kv, ddr_head, ddr_side, ddr_out, ddr_w0, ddr_w1, ddr_w2, ddr_w3};
  ps.n = n_tokens;
  ps.L = kv_position;
  ps.layer_count = layer_count;
  ps.buf = 0;
  if (!tiling_fits(ps)) {
    status = tl_regs::STATUS_BAD_TILING;
    return;
  }

#ifndef __SYNTHESIS__
  // The embedded tokens as the fabric reads them (C simulation: the trace's `embed`).
  TL_TAP_SCOPE(-1, kv_position, {TAP_RESULT, "embed"});
  for (unsigned t = 0; t < n_tokens; t++)
    for (unsigned i = 0; i < hidden; i++) TL_TAP(TAP_RESULT, t, i, hidden, tl_bits_f32(ddr_act[ps.m.residual + (uint64_t)t * hidden + i]));
#endif

  // The first tile of the pass loads alone; every later load rides with a compute.
  linear_args_t first = no_linear();
  set_load(ps, tile_ref_t{true, 0, 0, 0}, 0, first);
  TL_STEP_BEGIN("load.first", 0);
  call_linear(ps, first);
  TL_STEP_END();
LAYERS:
  for (unsigned l = 0; l < layer_count; l++) {
#pragma HLS loop_tripcount max = hw::MAX_LAYERS
    run_layer(ps, l);
  }
  if (layer_count == layers) {
    const bool all = command == tl_regs::COMMAND_VERIFY || (flags & tl_regs::FLAGS_ALL_POSITIONS) != 0;
    run_head(ps, all ? 0 : n_tokens - 1, all ? n_tokens : 1);
  }
  kv_length = kv_position + n_tokens;
  tokens_done = n_tokens;
#ifndef __SYNTHESIS__
  cycles = csim::sequential_cycles() - cycles0;
#endif
}
