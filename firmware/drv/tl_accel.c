/* The accelerator driver (tl_accel.h). */
#include "tl_accel.h"

#include <stdio.h>
#include <string.h>

#define ACCEL_WAIT_SLICE_MS 100u

static tl_status_t w32(tl_accel *a, uint32_t off, uint32_t v) { return tl_hal_reg_write(a->hal, off, v); }

static tl_status_t w64(tl_accel *a, uint32_t off, uint64_t v) {
  tl_status_t s = w32(a, off, (uint32_t)v); /* low word first (docs/registers.md §1) */
  return s != TL_OK ? s : w32(a, off + 4u, (uint32_t)(v >> 32));
}

tl_status_t tl_accel_check_build(tl_accel *a, char *detail, size_t len) {
  uint32_t lo = 0, hi = 0, ver = 0;
  if (a == NULL || a->hal == NULL || a->board == NULL) return TL_E_ARG;
  tl_accel_result r;
  tl_status_t s = tl_accel_call(a, TL_COMMAND_SET_KV_LENGTH, 0, 0, 0, 0, &r);
  if (s != TL_OK && s != TL_E_FAULT) {
    snprintf(detail, len, "the accelerator does not answer a call (%s): %s", s == TL_E_TIMEOUT ? "no ap_done" : "register access",
             s == TL_E_TIMEOUT ? "is the bitstream loaded?" : tl_hal_error(a->hal));
    return s;
  }
  s = tl_hal_reg_read(a->hal, TL_REG_BUILD_HASH, &lo);
  if (s == TL_OK) s = tl_hal_reg_read(a->hal, TL_REG_BUILD_HASH + 4u, &hi);
  if (s == TL_OK) s = tl_hal_reg_read(a->hal, TL_REG_REGMAP_VERSION, &ver);
  if (s != TL_OK) {
    snprintf(detail, len, "cannot read the accelerator's identity registers: %s", tl_hal_error(a->hal));
    return s;
  }
  uint64_t want = 0;
  for (int i = 0; i < 8; i++) want = (want << 8) | a->board->hw_hash[i];
  uint64_t have = ((uint64_t)hi << 32) | lo;
  if (have != want) {
    snprintf(detail, len, "the accelerator's build_hash is %016llx but this firmware is for %s (%016llx)", (unsigned long long)have,
             a->board->board_name, (unsigned long long)want);
    return TL_E_STATE;
  }
  if (ver != TL_REGMAP_VERSION) {
    snprintf(detail, len, "the accelerator's register map is version %u, this firmware's %u", ver, TL_REGMAP_VERSION);
    return TL_E_STATE;
  }
  return TL_OK;
}

tl_status_t tl_accel_program(tl_accel *a, const tl_accel_regs *m) {
  if (a == NULL || m == NULL) return TL_E_ARG;
  const uint64_t base = tl_hal_mem_device_base(a->hal);
  const struct {
    uint32_t off;
    uint32_t v;
  } s32[] = {
      {TL_REG_HIDDEN, m->hidden},       {TL_REG_FFN, m->ffn},
      {TL_REG_HEADS, m->heads},         {TL_REG_KV_HEADS, m->kv_heads},
      {TL_REG_HEAD_DIM, m->head_dim},   {TL_REG_LAYERS, m->layers},
      {TL_REG_VOCAB, m->vocab},         {TL_REG_CONTEXT, m->context},
      {TL_REG_ACTIVATION, m->activation}, {TL_REG_SUB_NORMS, m->sub_norms},
      {TL_REG_RMS_EPS, m->rms_eps_bits}, {TL_REG_WEIGHTS_LAYER_STRIDE, m->weights_layer_stride},
      {TL_REG_NORMS_LAYER_STRIDE, m->norms_layer_stride},
  };
  const struct {
    uint32_t off;
    uint64_t v;
  } s64[] = {
      {TL_REG_DDR_ACT, base},
      {TL_REG_DDR_KV, base},
      {TL_REG_DDR_HEAD, base},
      {TL_REG_DDR_SIDE, base},
      {TL_REG_DDR_OUT, base},
      {TL_REG_WEIGHTS_OFFSET, m->weights_offset},
      {TL_REG_NORMS_OFFSET, m->norms_offset},
      {TL_REG_NORM_FINAL_OFFSET, m->norm_final_offset},
      {TL_REG_ROPE_OFFSET, m->rope_offset},
      {TL_REG_KV_K_OFFSET, m->kv_k_offset},
      {TL_REG_KV_V_OFFSET, m->kv_v_offset},
      {TL_REG_RESIDUAL_OFFSET, m->residual_offset},
      {TL_REG_ACT0_OFFSET, m->act0_offset},
      {TL_REG_ACT1_OFFSET, m->act1_offset},
      {TL_REG_Q_OFFSET, m->q_offset},
      {TL_REG_AMAX_OFFSET, m->amax_offset},
      {TL_REG_LM_HEAD_WEIGHT_OFFSET, m->lm_head_weight_offset},
      {TL_REG_LM_HEAD_SCALE_OFFSET, m->lm_head_scale_offset},
      {TL_REG_LOGITS_OFFSET, m->logits_offset},
      {TL_REG_Q_SCALE_OFFSET, m->q_scale_offset},
      {TL_REG_KV_K_SCALE_OFFSET, m->kv_k_scale_offset},
      {TL_REG_KV_V_SCALE_OFFSET, m->kv_v_scale_offset},
  };
  tl_status_t s = TL_OK;
  for (size_t i = 0; s == TL_OK && i < sizeof s32 / sizeof s32[0]; i++) s = w32(a, s32[i].off, s32[i].v);
  for (size_t i = 0; s == TL_OK && i < sizeof s64 / sizeof s64[0]; i++) s = w64(a, s64[i].off, s64[i].v);
  for (uint32_t p = 0; s == TL_OK && p < a->board->weight_ports && p < TL_REG_DDR_W_COUNT; p++) s = w64(a, TL_REG_DDR_W(p), base);
  for (uint32_t n = 0; s == TL_OK && n < TL_REG_LINEAR_OFFSET_COUNT; n++) {
    s = w32(a, TL_REG_LINEAR_OFFSET + 4u * n, m->linear_offset[n]);
    if (s == TL_OK) s = w32(a, TL_REG_LINEAR_LANE_STRIDE + 4u * n, m->linear_lane_stride[n]);
    if (s == TL_OK) s = w32(a, TL_REG_LINEAR_LAST_LANE_STRIDE + 4u * n, m->linear_last_lane_stride[n]);
    if (s == TL_OK) s = w32(a, TL_REG_LINEAR_TILE_STRIDE + 4u * n, m->linear_tile_stride[n]);
    if (s == TL_OK) s = w32(a, TL_REG_LINEAR_TILE_ROWS + 4u * n, m->linear_tile_rows[n]);
  }
  for (uint32_t r = 0; s == TL_OK && r < TL_REG_NORM_ROLE_OFFSET_COUNT; r++) s = w32(a, TL_REG_NORM_ROLE_OFFSET + 4u * r, m->norm_role_offset[r]);
  for (uint32_t i = 0; s == TL_OK && i < TL_REG_WEIGHT_SCALE_COUNT; i++) s = w32(a, TL_REG_WEIGHT_SCALE + 4u * i, m->weight_scale[i]);
  return s;
}

void tl_accel_status_text(uint32_t status, char *buf, size_t len) {
  static const struct {
    uint32_t mask;
    const char *name;
  } bits[] = {
      {TL_REG_STATUS_BAD_COMMAND_MASK, "bad_command"},
      {TL_REG_STATUS_SHAPE_OVER_MAXIMA_MASK, "shape_over_maxima"},
      {TL_REG_STATUS_CONTEXT_OVERFLOW_MASK, "context_overflow"},
      {TL_REG_STATUS_BAD_TOKEN_COUNT_MASK, "bad_token_count"},
      {TL_REG_STATUS_BAD_KV_POSITION_MASK, "bad_kv_position"},
      {TL_REG_STATUS_BAD_LAYER_COUNT_MASK, "bad_layer_count"},
      {TL_REG_STATUS_MISALIGNED_MASK, "misaligned"},
      {TL_REG_STATUS_BAD_TILING_MASK, "bad_tiling"},
  };
  size_t n = 0;
  uint32_t rest = status;
  if (len == 0) return;
  buf[0] = '\0';
  for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
    if (!(status & bits[i].mask)) continue;
    rest &= ~bits[i].mask;
    n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? ", " : "", bits[i].name);
  }
  if (rest && n < len) snprintf(buf + n, len - n, "%sbits 0x%08x", n ? ", " : "", rest);
}

tl_status_t tl_accel_call(tl_accel *a, uint32_t command, uint32_t n_tokens, uint32_t kv_position, uint32_t layer_count, uint32_t flags,
                          tl_accel_result *out) {
  if (a == NULL || out == NULL) return TL_E_ARG;
  memset(out, 0, sizeof *out);
  uint32_t ctrl = 0;
  tl_status_t s = tl_hal_reg_read(a->hal, TL_REG_CTRL, &ctrl);
  if (s != TL_OK) return s;
  if (!(ctrl & TL_REG_CTRL_AP_IDLE_MASK)) return TL_E_TIMEOUT; /* still busy with a call that timed out */
  a->wedged = 0;
  s = w32(a, TL_REG_COMMAND, command);
  if (s == TL_OK) s = w32(a, TL_REG_N_TOKENS, n_tokens);
  if (s == TL_OK) s = w32(a, TL_REG_KV_POSITION, kv_position);
  if (s == TL_OK) s = w32(a, TL_REG_LAYER_COUNT, layer_count);
  if (s == TL_OK) s = w32(a, TL_REG_FLAGS, flags);
  if (s == TL_OK) s = w32(a, TL_REG_ISR, TL_REG_ISR_DONE_MASK | TL_REG_ISR_READY_MASK); /* clear what is pending */
  if (s == TL_OK) s = w32(a, TL_REG_IER, TL_REG_IER_DONE_MASK);
  if (s == TL_OK) s = w32(a, TL_REG_GIE, TL_REG_GIE_ENABLE_MASK);
  if (s == TL_OK) s = w32(a, TL_REG_CTRL, TL_REG_CTRL_AP_START_MASK);
  if (s != TL_OK) return s;
  const uint64_t t0 = tl_hal_now_ms(), deadline = t0 + a->timeout_ms;
  uint64_t next_progress = t0 + (a->progress_ms ? a->progress_ms : 1000u);
  for (;;) {
    uint64_t now = tl_hal_now_ms();
    uint64_t left = deadline > now ? deadline - now : 0;
    s = tl_hal_wait_irq(a->hal, (uint32_t)(left < ACCEL_WAIT_SLICE_MS ? left : ACCEL_WAIT_SLICE_MS));
    if (s != TL_OK && s != TL_E_TIMEOUT) return s;
    s = tl_hal_reg_read(a->hal, TL_REG_CTRL, &ctrl);
    if (s != TL_OK) return s;
    if (ctrl & TL_REG_CTRL_AP_IDLE_MASK) break;
    now = tl_hal_now_ms();
    if (now >= deadline) {
      a->wedged = 1;
      return TL_E_TIMEOUT;
    }
    if (a->progress && now >= next_progress) {
      a->progress(a->progress_ctx, now - t0);
      next_progress = now + (a->progress_ms ? a->progress_ms : 1000u);
    }
  }
  uint32_t lo = 0, hi = 0;
  s = w32(a, TL_REG_ISR, TL_REG_ISR_DONE_MASK | TL_REG_ISR_READY_MASK);
  if (s == TL_OK) s = tl_hal_reg_read(a->hal, TL_REG_STATUS, &out->status);
  if (s == TL_OK) s = tl_hal_reg_read(a->hal, TL_REG_KV_LENGTH, &out->kv_length);
  if (s == TL_OK) s = tl_hal_reg_read(a->hal, TL_REG_TOKENS_DONE, &out->tokens_done);
  if (s == TL_OK) s = tl_hal_reg_read(a->hal, TL_REG_CYCLES, &lo);
  if (s == TL_OK) s = tl_hal_reg_read(a->hal, TL_REG_CYCLES + 4u, &hi);
  if (s != TL_OK) return s;
  out->cycles = ((uint64_t)hi << 32) | lo;
  return out->status ? TL_E_FAULT : TL_OK;
}
