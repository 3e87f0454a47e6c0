/*
 * The firmware's command processor (docs/protocol.md): frames in, requests run, replies and
 * events out. The caller owns the byte link: it feeds received bytes to tl_fw_receive and gives a
 * send function; a board's main (tl_fw_main.c) uses a serial device or TCP, the virtual board a
 * pseudo-terminal, TCP or the PCIe mailbox.
 *
 * Threads: the caller's I/O thread deframes, answers the control requests (HELLO, PING, INFO,
 * CANCEL) at once — even while a request runs — and queues the others (at most `window`, the
 * running one included; BUSY beyond); one worker thread runs them in arrival order. Replies from
 * both are serialised by a mutex, so frames never interleave. All memory is allocated at
 * tl_fw_create.
 */
#ifndef TL_FW_H
#define TL_FW_H

#include <stddef.h>
#include <stdint.h>

#include "tl_boards.h"  // Generated.
#include "tl_hal.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tl_fw tl_fw;

/** Write bytes to the host; returns 0 when the link is gone or the host stopped reading (bounded). */
typedef int (*tl_fw_send_fn)(void *ctx, const uint8_t *bytes, size_t n);

typedef struct {
  const tl_board_desc *board;
  tl_hal *hal;
  const char *firmware_name;   /* HELLO_OK.firmware */
  const char *state_dir;       /* partial uploads (resumable across restarts) */
  uint16_t window;             /* requests queued, the running one included (>= 1) */
  uint32_t max_payload;        /* the board's largest payload (<= TL_PROTO_MAX_PAYLOAD) */
  uint32_t accel_timeout_ms;   /* the bound on every wait for the accelerator */
  uint32_t token_delay_ms;     /* fault tests: sleep after each generated token */
  int64_t flip_logit;          /* fault tests: flip bit 0 of this token's logit in LOGITS events; -1: none */
  size_t manifest_cap;         /* largest image manifest */
  uint32_t json_tokens;        /* JSON tokens of the largest manifest */
  uint32_t sections_cap;       /* sections / DDR regions of the largest image */
  tl_fw_send_fn send;
  void *send_ctx;
  /** Optional: a HELLO is about to be answered (a serial link drops what the old host never read). */
  void (*on_hello)(void *send_ctx);
} tl_fw_config;

/** Create the processor and start its worker; NULL with err on a bad configuration or no memory. */
tl_fw *tl_fw_create(const tl_fw_config *cfg, char *err, size_t errlen);
/** Stop the worker (cancelling what runs, bounded by the accelerator timeout) and free everything. */
void tl_fw_destroy(tl_fw *fw);

/** Bytes from the host (I/O thread). */
void tl_fw_receive(tl_fw *fw, const uint8_t *bytes, size_t n);
/** Call at least every 100 ms from the I/O thread: reports a frame that stopped arriving (inter-byte timeout). */
void tl_fw_poll(tl_fw *fw);
/** The link has a new peer (a new TCP client): forget a partially received frame. */
void tl_fw_link_changed(tl_fw *fw);

/** Load an image at start-up, as IMAGE_LOAD_PATH would (0, or a protocol error code with detail). */
uint16_t tl_fw_load_image(tl_fw *fw, const char *path, char *detail, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* TL_FW_H */
