/* Frame encoder and resynchronising deframer (tl_frame.h). */
#include "tl_frame.h"

#include <string.h>

#include "tl_crc32.h"

static const uint8_t frame_magic[4] = {TL_PROTO_MAGIC_0, TL_PROTO_MAGIC_1, TL_PROTO_MAGIC_2, TL_PROTO_MAGIC_3};

size_t tl_frame_encode(uint8_t *out, size_t cap, uint16_t type, uint32_t seq, uint32_t request_id, const uint8_t *payload,
                       uint32_t len) {
  size_t total = tl_frame_size(len);
  if (out == NULL || total > cap || (len > 0 && payload == NULL)) return 0;
  memcpy(out, frame_magic, 4);
  tl_proto_put_u16(out + TL_PROTO_HDR_TYPE_OFFSET, type);
  tl_proto_put_u16(out + TL_PROTO_HDR_PROTOCOL_MAJOR_OFFSET, (uint16_t)TL_PROTO_MAJOR);
  tl_proto_put_u32(out + TL_PROTO_HDR_SEQ_OFFSET, seq);
  tl_proto_put_u32(out + TL_PROTO_HDR_REQUEST_ID_OFFSET, request_id);
  tl_proto_put_u32(out + TL_PROTO_HDR_LENGTH_OFFSET, len);
  tl_proto_put_u32(out + TL_PROTO_HDR_HEADER_CRC_OFFSET, tl_crc32(out, TL_PROTO_HDR_HEADER_CRC_OFFSET));
  if (len > 0 && out + TL_PROTO_HEADER_BYTES != payload) memmove(out + TL_PROTO_HEADER_BYTES, payload, len);
  tl_proto_put_u32(out + TL_PROTO_HEADER_BYTES + len, tl_crc32(out + TL_PROTO_HEADER_BYTES, len));
  return total;
}

int tl_deframer_init(tl_deframer *d, uint8_t *buf, size_t cap, uint32_t max_payload) {
  if (d == NULL || buf == NULL || cap < tl_frame_size(max_payload) + 1u) return 0;
  d->buf = buf;
  d->cap = cap;
  d->start = d->end = 0;
  d->max_payload = max_payload;
  d->discarded = 0;
  return 1;
}

static void skip(tl_deframer *d, size_t n) {
  d->start += n;
  d->discarded += n;
}

static size_t find_magic(const tl_deframer *d) {
  for (size_t i = d->start; i + 4 <= d->end; i++) {
    if (d->buf[i] == frame_magic[0] && d->buf[i + 1] == frame_magic[1] && d->buf[i + 2] == frame_magic[2] &&
        d->buf[i + 3] == frame_magic[3])
      return i;
  }
  return SIZE_MAX;
}

static void scan(tl_deframer *d, int expire, tl_deframe_fn fn, void *ctx) {
  for (;;) {
    size_t at = find_magic(d);
    if (at == SIZE_MAX) {
      /* Keep a tail that may be the start of a magic. */
      size_t have = d->end - d->start;
      size_t keep = expire ? 0 : (have < 3 ? have : 3);
      skip(d, have - keep);
      break;
    }
    skip(d, at - d->start);
    if (d->end - d->start < TL_PROTO_HEADER_BYTES) {
      if (!expire) break;
      skip(d, 1);
      continue;
    }
    const uint8_t *h = d->buf + d->start;
    if (tl_proto_get_u32(h + TL_PROTO_HDR_HEADER_CRC_OFFSET) != tl_crc32(h, TL_PROTO_HDR_HEADER_CRC_OFFSET)) {
      skip(d, 1);
      continue;
    }
    tl_frame_header hd;
    hd.type = tl_proto_get_u16(h + TL_PROTO_HDR_TYPE_OFFSET);
    hd.major = tl_proto_get_u16(h + TL_PROTO_HDR_PROTOCOL_MAJOR_OFFSET);
    hd.seq = tl_proto_get_u32(h + TL_PROTO_HDR_SEQ_OFFSET);
    hd.request_id = tl_proto_get_u32(h + TL_PROTO_HDR_REQUEST_ID_OFFSET);
    hd.length = tl_proto_get_u32(h + TL_PROTO_HDR_LENGTH_OFFSET);
    if (hd.length > d->max_payload) {
      fn(ctx, TL_DEFRAME_TOO_LARGE, &hd, NULL);
      skip(d, TL_PROTO_HEADER_BYTES);
      continue;
    }
    size_t total = tl_frame_size(hd.length);
    if (d->end - d->start < total) {
      if (!expire) break;
      fn(ctx, TL_DEFRAME_TRUNCATED, &hd, NULL);
      skip(d, 1);
      /* Frames inside the dropped bytes are complete already; the incomplete tail waits again. */
      expire = 0;
      continue;
    }
    const uint8_t *p = h + TL_PROTO_HEADER_BYTES;
    if (tl_proto_get_u32(p + hd.length) != tl_crc32(p, hd.length)) {
      fn(ctx, TL_DEFRAME_BAD_CRC, &hd, NULL);
      skip(d, 1);
      continue;
    }
    fn(ctx, TL_DEFRAME_FRAME, &hd, p);
    d->start += total;
  }
  if (d->start == d->end) d->start = d->end = 0;
}

void tl_deframer_push(tl_deframer *d, const uint8_t *bytes, size_t n, tl_deframe_fn fn, void *ctx) {
  while (n > 0) {
    if (d->start > 0 && d->end + n > d->cap) {
      memmove(d->buf, d->buf + d->start, d->end - d->start);
      d->end -= d->start;
      d->start = 0;
    }
    size_t room = d->cap - d->end;
    size_t take = n < room ? n : room;
    memcpy(d->buf + d->end, bytes, take);
    d->end += take;
    bytes += take;
    n -= take;
    scan(d, 0, fn, ctx);
  }
}

void tl_deframer_expire(tl_deframer *d, tl_deframe_fn fn, void *ctx) { scan(d, 1, fn, ctx); }
