/*
 * The accelerator driver: programs a model's shape and DDR map into the registers
 * (docs/registers.md §3-5, offsets from firmware/gen/tl_registers.h) and runs one command per
 * call, waiting for completion with a deadline. Everything goes through the HAL.
 */
#ifndef TL_ACCEL_H
#define TL_ACCEL_H

#include <stddef.h>
#include <stdint.h>

#include "tl_hal.h"
#include "tl_registers.h"  // Generated.
#include "tl_status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The register values of one model (what host/src/layout/register-values.ts computes on the host). */
typedef struct {
  uint32_t hidden, ffn, heads, kv_heads, head_dim, layers, vocab, context, activation, sub_norms, rms_eps_bits;
  uint64_t weights_offset, norms_offset, norm_final_offset, rope_offset, kv_k_offset, kv_v_offset, residual_offset, act0_offset,
      act1_offset, q_offset, amax_offset, lm_head_weight_offset, lm_head_scale_offset, logits_offset, q_scale_offset, kv_k_scale_offset,
      kv_v_scale_offset;
  uint32_t weights_layer_stride, norms_layer_stride;
  uint32_t linear_offset[TL_REG_LINEAR_OFFSET_COUNT];
  uint32_t linear_lane_stride[TL_REG_LINEAR_LANE_STRIDE_COUNT];
  uint32_t linear_last_lane_stride[TL_REG_LINEAR_LAST_LANE_STRIDE_COUNT];
  uint32_t linear_tile_stride[TL_REG_LINEAR_TILE_STRIDE_COUNT];
  uint32_t linear_tile_rows[TL_REG_LINEAR_TILE_ROWS_COUNT];
  uint32_t norm_role_offset[TL_REG_NORM_ROLE_OFFSET_COUNT];
  uint32_t weight_scale[TL_REG_WEIGHT_SCALE_COUNT];
} tl_accel_regs;

typedef struct {
  tl_hal *hal;
  const tl_board_desc *board;
  uint32_t timeout_ms;
  /** Called about every progress_ms while a call runs (PREFILL_PROGRESS keep-alives); may be NULL. */
  void (*progress)(void *ctx, uint64_t elapsed_ms);
  void *progress_ctx;
  uint32_t progress_ms;
  /** A call timed out: the accelerator may still be running; nothing is started until it is idle. */
  int wedged;
} tl_accel;

typedef struct {
  uint32_t status;      /* the status register: 0, or its error bits */
  uint32_t kv_length;   /* after the call: kv_position + n_tokens (the fabric keeps no KV length) */
  uint32_t tokens_done;
  uint64_t cycles;
} tl_accel_result;

/**
 * The accelerator is the build this firmware was made for: its build_hash register holds the first
 * 64 bits of board->hw_hash and its regmap_version this map's. Those are outputs of the top
 * function, valid after a call, so this runs a SET_KV_LENGTH call (nothing else runs) first.
 * detail says what differs.
 */
TL_MUST_USE tl_status_t tl_accel_check_build(tl_accel *a, char *detail, size_t len);

/** Write the shape, the window bases (ddr_act, ddr_kv, ddr_head, ddr_side, ddr_out, ddr_w0..P-1) and the map of a model. */
TL_MUST_USE tl_status_t tl_accel_program(tl_accel *a, const tl_accel_regs *m);

/**
 * Run one command (TL_COMMAND_*) at KV position kv_position (the tokens already in the cache: the
 * pass runs positions kv_position .. kv_position + n_tokens - 1) and wait for it (at most
 * timeout_ms). TL_E_FAULT when the status
 * register reports errors (out->status names them, tl_accel_status_text spells them out),
 * TL_E_TIMEOUT when ap_done does not come.
 */
TL_MUST_USE tl_status_t tl_accel_call(tl_accel *a, uint32_t command, uint32_t n_tokens, uint32_t kv_position, uint32_t layer_count,
                                      uint32_t flags, tl_accel_result *out);

/** The names of a status register's bits ("context_overflow, misaligned"). */
void tl_accel_status_text(uint32_t status, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* TL_ACCEL_H */
