/* The model on the accelerator (tl_engine.h). */
#include "tl_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl_f16.h"  // hls/include: bfloat16 -> binary32.
#include "tl_head.h"
#include "tl_protocol.h"  // Generated: error codes.
#include "tl_sampler.h"

#define HEAD_CHUNK_BYTES (1u << 20)

int tl_engine_init(tl_engine *e, tl_hal *hal, const tl_board_desc *board, uint32_t accel_timeout_ms) {
  memset(e, 0, sizeof *e);
  e->hal = hal;
  e->board = board;
  e->accel.hal = hal;
  e->accel.board = board;
  e->accel.timeout_ms = accel_timeout_ms;
  e->accel.progress_ms = 1000;
  const size_t hidden = board->max_hidden, vocab = board->max_vocab;
  e->logits = malloc(vocab * sizeof *e->logits);
  e->emb = malloc(hidden * sizeof *e->emb);
  e->row = malloc(hidden * sizeof *e->row);
  e->qx = malloc(hidden);
  e->row_amax = malloc(vocab * sizeof *e->row_amax);
  e->head_rows_cap = HEAD_CHUNK_BYTES > hidden ? HEAD_CHUNK_BYTES : hidden;
  e->head_rows = malloc(e->head_rows_cap);
  if (!e->logits || !e->emb || !e->row || !e->qx || !e->row_amax || !e->head_rows) {
    tl_engine_free(e);
    return 0;
  }
  return 1;
}

void tl_engine_free(tl_engine *e) {
  free(e->logits);
  free(e->emb);
  free(e->row);
  free(e->qx);
  free(e->row_amax);
  free(e->head_rows);
  memset(e, 0, sizeof *e);
}

static uint16_t hal_fail(tl_engine *e, char *detail, size_t len, const char *what) {
  snprintf(detail, len, "%s: %s", what, tl_hal_error(e->hal));
  return TL_PROTO_ERR_INTERNAL;
}

/* The accelerator's answer to a call, as a protocol error. */
static uint16_t accel_fail(tl_engine *e, tl_status_t s, const tl_accel_result *r, const char *what, char *detail, size_t len) {
  if (s == TL_E_TIMEOUT) {
    snprintf(detail, len, "%s: the accelerator did not finish within %u ms%s", what, e->accel.timeout_ms,
             e->accel.wedged ? "" : " (it is still busy with a call that timed out)");
    return TL_PROTO_ERR_ACCEL_TIMEOUT;
  }
  if (s == TL_E_FAULT) {
    char bits[160];
    tl_accel_status_text(r->status, bits, sizeof bits);
    snprintf(detail, len, "%s: the accelerator reported %s (status 0x%08x)", what, bits, r->status);
    return TL_PROTO_ERR_ACCEL_FAULT;
  }
  return hal_fail(e, detail, len, what);
}

uint16_t tl_engine_load(tl_engine *e, const char *path, tl_image_buffers *b, char *detail, size_t len) {
  tl_model m;
  uint16_t code = tl_image_validate(path, e->board, tl_hal_mem_size(e->hal), b, &m, detail, len);
  if (code) return code;
  e->loaded = 0;
  e->kv_len = 0;
  code = tl_image_load(path, &m, b, e->hal, detail, len);
  if (code) return code;
  char why[200];
  tl_status_t s = tl_accel_check_build(&e->accel, why, sizeof why);
  if (s != TL_OK) {
    snprintf(detail, len, "%s", why);
    return TL_PROTO_ERR_ACCEL_FAULT;
  }
  if (tl_accel_program(&e->accel, &m.regs) != TL_OK) return hal_fail(e, detail, len, "programming the accelerator");
  e->model = m;
  e->loaded = 1;
  e->kv_len = 0;
  e->records = 0;
  return 0;
}

static uint16_t require_image(tl_engine *e, char *detail, size_t len) {
  if (e->loaded) return 0;
  snprintf(detail, len, "no image is loaded");
  return TL_PROTO_ERR_NO_IMAGE;
}

uint16_t tl_engine_set_kv(tl_engine *e, uint32_t kv, char *detail, size_t len) {
  uint16_t code = require_image(e, detail, len);
  if (code) return code;
  if (kv > e->kv_len) {
    snprintf(detail, len, "KV length %u is beyond the %u tokens in the KV cache", kv, e->kv_len);
    return TL_PROTO_ERR_KV_LEN;
  }
  /* The fabric keeps no KV length (register map v2): the next pass gets kv as its kv_position, and
   * positions >= kv are overwritten by it. Nothing to undo, nothing to call. */
  e->kv_len = kv;
  return 0;
}

/* Embedding rows of ids into scratch.residual rows 0 .. n-1 (register map v2). */
static uint16_t write_embeddings(tl_engine *e, const uint32_t *ids, uint32_t n, char *detail, size_t len) {
  const tl_accel_regs *r = &e->model.regs;
  const uint32_t h = r->hidden;
  for (uint32_t t = 0; t < n; t++) {
    if (tl_hal_mem_read(e->hal, e->model.embedding_offset + (uint64_t)ids[t] * h * 2u, e->emb, (size_t)h * 2u) != TL_OK) {
      return hal_fail(e, detail, len, "reading the embedding");
    }
    for (uint32_t i = 0; i < h; i++) e->row[i] = tl_bf16_to_f32(e->emb[i]);
    if (tl_hal_mem_write(e->hal, r->residual_offset + (uint64_t)t * h * 4u, e->row, (size_t)h * 4u) != TL_OK) {
      return hal_fail(e, detail, len, "writing scratch.residual");
    }
  }
  return 0;
}

/* The int8 LM head on the ARM cores (numerics §9) from the final norm output in scratch.act0 row 0. */
static uint16_t arm_head(tl_engine *e, char *detail, size_t len) {
  const tl_accel_regs *r = &e->model.regs;
  const uint32_t h = r->hidden, vocab = r->vocab;
  float amax = 0;
  if (tl_hal_mem_read(e->hal, r->act0_offset, e->row, (size_t)h * 4u) != TL_OK || tl_hal_mem_read(e->hal, r->amax_offset, &amax, 4) != TL_OK ||
      tl_hal_mem_read(e->hal, r->lm_head_scale_offset, e->row_amax, (size_t)vocab * 4u) != TL_OK) {
    return hal_fail(e, detail, len, "reading the head's input");
  }
  tl_head_quantize(e->row, h, amax, e->qx);
  const uint32_t per = (uint32_t)(e->head_rows_cap / h);
  for (uint32_t r0 = 0; r0 < vocab; r0 += per) {
    const uint32_t k = vocab - r0 < per ? vocab - r0 : per;
    const uint64_t off = r->lm_head_weight_offset + (uint64_t)r0 * h;
    const int8_t *rows = (const int8_t *)tl_hal_mem_view(e->hal, off, (size_t)k * h);
    if (rows == NULL) {
      if (tl_hal_mem_read(e->hal, off, e->head_rows, (size_t)k * h) != TL_OK) return hal_fail(e, detail, len, "reading the LM head");
      rows = e->head_rows;
    }
    tl_head_logits(rows, h, e->row_amax + r0, k, e->qx, h, amax, e->logits + r0);
  }
  e->greedy = tl_argmax(e->logits, vocab);
  return 0;
}

/* Head record i of the last pass (docs/accelerator.md §2: u32 greedy id, f32 greedy logit, u32 vocab,
 * u32 0, then f32 logit[vocab]) into e->logits and e->greedy. */
uint16_t tl_engine_read_record(tl_engine *e, uint32_t i, char *detail, size_t len) {
  const tl_accel_regs *r = &e->model.regs;
  if (i >= e->records) {
    snprintf(detail, len, "head record %u of a pass that wrote %u", i, e->records);
    return TL_PROTO_ERR_INTERNAL;
  }
  if (e->board->lm_head_on_arm) return 0; /* the ARM head computed the one position's logits */
  const uint64_t rec = 16u + 4ull * r->vocab, off = r->logits_offset + (uint64_t)i * rec;
  uint32_t head[4];
  if (tl_hal_mem_read(e->hal, off, head, sizeof head) != TL_OK || tl_hal_mem_read(e->hal, off + 16u, e->logits, (size_t)r->vocab * 4u) != TL_OK) {
    return hal_fail(e, detail, len, "reading the head record");
  }
  if (head[2] != r->vocab || head[3] != 0 || head[0] >= r->vocab) {
    snprintf(detail, len, "head record %u is malformed (greedy id %u, count %u, reserved %u; vocab %u)", i, head[0], head[2], head[3], r->vocab);
    return TL_PROTO_ERR_ACCEL_FAULT;
  }
  e->greedy = head[0];
  return 0;
}

/* One accelerator pass of ids[0..n) at positions kv_len..; the head for the last position, or for
 * every position (all: VERIFY). */
static uint16_t run_pass(tl_engine *e, uint32_t command, const uint32_t *ids, uint32_t n, char *detail, size_t len) {
  tl_accel_result r;
  const char *what = command == TL_COMMAND_PREFILL ? "prefill" : command == TL_COMMAND_DECODE ? "decode" : "verify";
  e->records = 0;
  uint16_t code = write_embeddings(e, ids, n, detail, len);
  if (code) return code;
  tl_status_t s = tl_accel_call(&e->accel, command, n, e->kv_len, e->model.regs.layers, 0, &r);
  if (s != TL_OK) return accel_fail(e, s, &r, what, detail, len);
  if (r.kv_length != e->kv_len + n || r.tokens_done != n) {
    snprintf(detail, len, "%s: the accelerator reports KV length %u and %u tokens done after a pass of %u tokens at %u", what, r.kv_length,
             r.tokens_done, n, e->kv_len);
    return TL_PROTO_ERR_ACCEL_FAULT;
  }
  e->kv_len += n;
  e->records = command == TL_COMMAND_VERIFY ? n : 1;
  if (e->board->lm_head_on_arm) {
    if (command == TL_COMMAND_VERIFY) {
      snprintf(detail, len, "verify: this build's LM head is on the ARM cores, which run it for one position a pass");
      return TL_PROTO_ERR_INTERNAL;
    }
    return arm_head(e, detail, len);
  }
  return tl_engine_read_record(e, 0, detail, len);
}

uint16_t tl_engine_prefill(tl_engine *e, const uint32_t *ids, uint32_t n, char *detail, size_t len) {
  uint16_t code = require_image(e, detail, len);
  return code ? code : run_pass(e, TL_COMMAND_PREFILL, ids, n, detail, len);
}

uint16_t tl_engine_decode(tl_engine *e, uint32_t id, char *detail, size_t len) {
  uint16_t code = require_image(e, detail, len);
  return code ? code : run_pass(e, TL_COMMAND_DECODE, &id, 1, detail, len);
}

uint16_t tl_engine_verify(tl_engine *e, const uint32_t *ids, uint32_t n, char *detail, size_t len) {
  uint16_t code = require_image(e, detail, len);
  if (code) return code;
  if (n == 0 || n > TL_ENGINE_VERIFY_MAX) {
    snprintf(detail, len, "verify: %u tokens in one pass, at most %u", n, TL_ENGINE_VERIFY_MAX);
    return TL_PROTO_ERR_INTERNAL;
  }
  return run_pass(e, TL_COMMAND_VERIFY, ids, n, detail, len);
}
