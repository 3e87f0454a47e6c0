/*
 * Frames of docs/protocol.md §2: a 24-byte header with its own CRC-32, the payload, and the
 * payload's CRC-32; and the receiver's resynchronising deframer, which behaves exactly as the
 * host's (host/src/protocol/frame.ts Deframer): bytes before a magic are skipped; a header whose
 * CRC fails is skipped one byte at a time; a frame whose payload CRC fails, or that stops arriving
 * (tl_deframer_expire, called after the inter-byte timeout), is reported and the scan restarts one
 * byte after its magic; a declared length above max_payload is reported and its header skipped.
 */
#ifndef TL_FRAME_H
#define TL_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "tl_protocol.h"  // Generated.

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  uint16_t type;
  uint16_t major;
  uint32_t seq;
  uint32_t request_id;
  uint32_t length;
} tl_frame_header;

/** Bytes of a frame with an n-byte payload. */
static inline size_t tl_frame_size(uint32_t n) { return TL_PROTO_HEADER_BYTES + (size_t)n + TL_PROTO_TRAILER_BYTES; }

/** Write one frame (the sender's major: TL_PROTO_MAJOR) into out[cap]; returns its size, or 0 when it does not fit. */
size_t tl_frame_encode(uint8_t *out, size_t cap, uint16_t type, uint32_t seq, uint32_t request_id, const uint8_t *payload,
                       uint32_t len);

typedef enum {
  TL_DEFRAME_FRAME = 0,   /* a good frame: header and payload */
  TL_DEFRAME_BAD_CRC,     /* the header was good, the payload's CRC was not */
  TL_DEFRAME_TRUNCATED,   /* the header was good, the rest never came */
  TL_DEFRAME_TOO_LARGE,   /* the header declared more than max_payload */
} tl_deframe_kind;

/** Called for each event; payload (length h->length) is valid only during the call, and only for TL_DEFRAME_FRAME. */
typedef void (*tl_deframe_fn)(void *ctx, tl_deframe_kind kind, const tl_frame_header *h, const uint8_t *payload);

/** The minimum buffer: one largest frame plus a little room to append. */
#define TL_DEFRAMER_MIN_BUFFER (TL_PROTO_MAX_FRAME + 4096u)

typedef struct {
  uint8_t *buf;
  size_t cap;
  size_t start, end;
  uint32_t max_payload;
  uint64_t discarded; /* bytes skipped while looking for frames */
} tl_deframer;

/** buf[cap] with cap >= tl_frame_size(max_payload) + 1 (TL_DEFRAMER_MIN_BUFFER for the spec's largest). */
int tl_deframer_init(tl_deframer *d, uint8_t *buf, size_t cap, uint32_t max_payload);

/** Feed bytes; events are delivered in stream order. */
void tl_deframer_push(tl_deframer *d, const uint8_t *bytes, size_t n, tl_deframe_fn fn, void *ctx);

/** No byte came for the inter-byte timeout: report and drop an incomplete frame, if any. */
void tl_deframer_expire(tl_deframer *d, tl_deframe_fn fn, void *ctx);

/** Whether an incomplete frame (or the start of one) waits for more bytes. */
static inline int tl_deframer_pending(const tl_deframer *d) { return d->end > d->start; }

/** Forget everything buffered (a new link). */
static inline void tl_deframer_reset(tl_deframer *d) { d->start = d->end = 0; }

#ifdef __cplusplus
}
#endif

#endif /* TL_FRAME_H */
