/*
 * The model on the accelerator: the loaded image, the session's KV length, and one pass at a time
 * (docs/registers.md §5, register map v2): the embedding lookup (bf16 rows of the image's embedding
 * region, exact into binary32, written to scratch.residual rows 0 .. n-1), the accelerator command
 * with the session's KV length as its kv_position (the fabric keeps none), and the logits — read
 * from the fabric head's records in the logits region (docs/accelerator.md §2: one per head
 * position), or computed by the int8 head on the ARM cores (tl_head.c) from the final norm output
 * the accelerator leaves in scratch.act0/amax.
 */
#ifndef TL_ENGINE_H
#define TL_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "tl_accel.h"
#include "tl_hal.h"
#include "tl_image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  tl_hal *hal;
  tl_accel accel;
  const tl_board_desc *board;
  int loaded;
  tl_model model;
  uint32_t kv_len;  /* tokens in the KV cache: the next pass's kv_position */
  uint32_t records; /* head records the last pass wrote (VERIFY: one per position) */
  float *logits;    /* [max_vocab]: the logits of the record read last */
  uint32_t greedy;  /* its greedy id (the largest logit, ties to the lower id), as the fabric found it */
  /* scratch, allocated once */
  uint16_t *emb;
  float *row;
  int8_t *qx;
  float *row_amax;
  int8_t *head_rows;
  size_t head_rows_cap;
} tl_engine;

int tl_engine_init(tl_engine *e, tl_hal *hal, const tl_board_desc *board, uint32_t accel_timeout_ms);
void tl_engine_free(tl_engine *e);

/**
 * Validate the image at path and make it the loaded one: its DDR sections copied into the window,
 * the accelerator checked (build_hash, register map version) and programmed, the KV cache emptied.
 * On a validation failure the previous image stays loaded; on a later failure none is.
 * Returns 0 or a protocol error code with detail.
 */
uint16_t tl_engine_load(tl_engine *e, const char *path, tl_image_buffers *b, char *detail, size_t len);

/** Tokens of one VERIFY pass at most (the logits region holds 16 head records; docs/accelerator.md §2). */
#define TL_ENGINE_VERIFY_MAX 16u

/** Run ids[0..n) at positions kv_len.. as one prefill; the last position's logits in e->logits. */
uint16_t tl_engine_prefill(tl_engine *e, const uint32_t *ids, uint32_t n, char *detail, size_t len);
/** Run one token through the decode datapath; its logits in e->logits. */
uint16_t tl_engine_decode(tl_engine *e, uint32_t id, char *detail, size_t len);
/** Run ids[0..n) (n <= TL_ENGINE_VERIFY_MAX) at positions kv_len.. as one VERIFY pass, the head at
 * every position: position 0's logits in e->logits, the others by tl_engine_read_record. */
uint16_t tl_engine_verify(tl_engine *e, const uint32_t *ids, uint32_t n, char *detail, size_t len);
/** Head record i (< e->records) of the last pass into e->logits and e->greedy. */
uint16_t tl_engine_read_record(tl_engine *e, uint32_t i, char *detail, size_t len);
/** Cut the KV cache to its first kv positions (kv <= kv_len): the next pass starts there. */
uint16_t tl_engine_set_kv(tl_engine *e, uint32_t kv, char *detail, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* TL_ENGINE_H */
