/*
 * libFuzzer harness of the firmware's frame and message parser: the resynchronising deframer
 * (app/tl_frame.c) and the message decoders the command processor uses (gen/tl_protocol.c).
 * Built with clang -fsanitize=fuzzer,address,undefined (make fuzz-build); any sanitizer report or
 * a broken property below aborts, which libFuzzer records as a finding.
 *
 * The first input byte picks a mode:
 *   0  a raw byte stream, pushed in pieces (sizes from a PRNG seeded by the input), then expired;
 *   1  one payload given straight to the decoder of one message type;
 *   2  well-formed frames built from the input (so the fuzzer need not find CRCs), optionally with
 *      bytes flipped; uncorrupted, each must come out once, in order, with its payload.
 * Properties: every decoder refuses or accepts without reading out of bounds; an accepted payload
 * re-encodes to exactly its bytes; the deframer delivers only frames whose CRCs hold and whose
 * length is at most max_payload.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl_crc32.h"
#include "tl_frame.h"
#include "tl_protocol.h"  // Generated.

#define CHECK(c)                                                          \
  do {                                                                    \
    if (!(c)) {                                                           \
      fprintf(stderr, "fuzz_frames: property failed: %s (line %d)\n", #c, __LINE__); \
      abort();                                                            \
    }                                                                     \
  } while (0)

/* Every message of the spec: id and a decode-then-re-encode round trip. */
#define ROUND_TRIP(lower)                                                                      \
  static int rt_##lower(const uint8_t *p, uint32_t n, uint8_t *out, uint32_t cap) {            \
    tl_proto_##lower##_t m;                                                                    \
    if (tl_proto_##lower##_decode(p, n, &m) != TL_PROTO_OK) return 0;                          \
    uint32_t len = 0;                                                                          \
    CHECK(tl_proto_##lower##_encode(&m, out, cap, &len) == TL_PROTO_OK);                       \
    CHECK(len == n && (n == 0 || memcmp(out, p, n) == 0));                                     \
    return 1;                                                                                  \
  }
#define MESSAGES(X)                                                                                                     \
  X(hello, HELLO) X(hello_ok, HELLO_OK) X(ping, PING) X(pong, PONG) X(info, INFO) X(info_ok, INFO_OK)                   \
  X(image_load_path, IMAGE_LOAD_PATH) X(upload_begin, UPLOAD_BEGIN) X(upload_status, UPLOAD_STATUS)                     \
  X(upload_chunk, UPLOAD_CHUNK) X(upload_ack, UPLOAD_ACK) X(upload_commit, UPLOAD_COMMIT) X(image_ok, IMAGE_OK)         \
  X(session_open, SESSION_OPEN) X(session_reset, SESSION_RESET) X(set_kv_len, SET_KV_LEN) X(sampler, SAMPLER)           \
  X(session_ok, SESSION_OK) X(prefill, PREFILL) X(decode, DECODE) X(verify, VERIFY) X(step_ok, STEP_OK)                 \
  X(generate, GENERATE) X(generate_done, GENERATE_DONE) X(cancel, CANCEL) X(cancel_ok, CANCEL_OK) X(token, TOKEN)       \
  X(prefill_progress, PREFILL_PROGRESS) X(logits, LOGITS) X(error, ERROR)

#define DEFINE_RT(lower, NAME) ROUND_TRIP(lower)
MESSAGES(DEFINE_RT)

typedef struct {
  uint16_t id;
  int (*rt)(const uint8_t *, uint32_t, uint8_t *, uint32_t);
} message_t;
#define ENTRY(lower, NAME) {TL_PROTO_MSG_##NAME, rt_##lower},
static const message_t messages[] = {MESSAGES(ENTRY)};
#define N_MESSAGES (sizeof messages / sizeof messages[0])

static uint8_t scratch[TL_PROTO_MAX_PAYLOAD];
static uint8_t rxbuf[TL_DEFRAMER_MIN_BUFFER];

/** Decode payload p as message id (if the spec has it) and check the round trip. */
static void round_trip(uint16_t id, const uint8_t *p, uint32_t n) {
  for (size_t i = 0; i < N_MESSAGES; i++)
    if (messages[i].id == id) {
      (void)messages[i].rt(p, n, scratch, sizeof scratch);
      return;
    }
}

typedef struct {
  uint32_t max_payload;
  /* mode 2: the frames expected, in order */
  const uint32_t *want_offsets, *want_lengths;
  const uint8_t *stream;
  size_t want, got;
  int strict;
} sink_t;

static void on_event(void *ctx, tl_deframe_kind kind, const tl_frame_header *h, const uint8_t *payload) {
  sink_t *s = (sink_t *)ctx;
  if (kind != TL_DEFRAME_FRAME) {
    CHECK(!s->strict);
    CHECK(payload == NULL);
    if (kind == TL_DEFRAME_TOO_LARGE) CHECK(h->length > s->max_payload);
    return;
  }
  CHECK(h->length <= s->max_payload);
  CHECK(tl_proto_get_u32(payload + h->length) == tl_crc32(payload, h->length));
  if (s->strict) {
    CHECK(s->got < s->want);
    CHECK(h->length == s->want_lengths[s->got]);
    CHECK(memcmp(payload, s->stream + s->want_offsets[s->got], h->length) == 0);
    s->got++;
  }
  round_trip(h->type, payload, h->length);
}

static uint32_t next(uint32_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 17;
  *x ^= *x << 5;
  return *x;
}

/** Push in pieces; unless the frames must all arrive (strict), an inter-byte timeout now and then. */
static void push_in_pieces(tl_deframer *d, const uint8_t *bytes, size_t n, uint32_t seed, sink_t *s) {
  uint32_t x = seed | 1u;
  while (n > 0) {
    size_t k = 1 + next(&x) % 97u;
    if (k > n) k = n;
    tl_deframer_push(d, bytes, k, on_event, s);
    bytes += k;
    n -= k;
    if (!s->strict && next(&x) % 16u == 0) tl_deframer_expire(d, on_event, s);
  }
  /* The link goes quiet: each expiry drops at least one byte, so this ends with nothing pending. */
  for (size_t k = 0; tl_deframer_pending(d) && k <= sizeof rxbuf; k++) tl_deframer_expire(d, on_event, s);
  CHECK(!tl_deframer_pending(d));
}

#define MAX_FRAMES 64
static uint8_t stream[MAX_FRAMES * (TL_PROTO_HEADER_BYTES + 4u) + 65536u];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  const uint8_t mode = data[0] % 3u, arg = data[1];
  data += 2;
  size -= 2;
  tl_deframer d;
  /* A board may announce less than the spec's max_payload, never below its minimum. */
  const uint32_t max_payload = (arg & 1u) ? TL_PROTO_MAX_PAYLOAD : TL_PROTO_MIN_MAX_PAYLOAD;
  CHECK(tl_deframer_init(&d, rxbuf, sizeof rxbuf, max_payload));
  sink_t s = {.max_payload = max_payload};
  switch (mode) {
    case 0:
      push_in_pieces(&d, data, size, arg * 2654435761u, &s);
      return 0;
    case 1:
      if (size < 1 || size - 1 > TL_PROTO_MAX_PAYLOAD) return 0;
      round_trip(messages[data[0] % N_MESSAGES].id, data + 1, (uint32_t)(size - 1));
      return 0;
    default: {
      /* [message index u8][payload length u8][payload] ... framed properly; arg bit 1: flip bytes. */
      static uint32_t offsets[MAX_FRAMES], lengths[MAX_FRAMES];
      size_t out = 0, frames = 0, i = 0;
      while (i + 2 <= size && frames < MAX_FRAMES) {
        const uint16_t id = messages[data[i] % N_MESSAGES].id;
        uint32_t len = data[i + 1];
        i += 2;
        if (len > size - i) len = (uint32_t)(size - i);
        const size_t n = tl_frame_encode(stream + out, sizeof stream - out, id, (uint32_t)frames, (uint32_t)frames + 1u, data + i, len);
        CHECK(n == tl_frame_size(len));
        offsets[frames] = (uint32_t)(out + TL_PROTO_HEADER_BYTES);
        lengths[frames] = len;
        out += n;
        i += len;
        frames++;
      }
      const int corrupt = (arg & 2u) != 0;
      if (corrupt && out > 0)
        for (size_t k = i; k + 2 <= size; k += 2) stream[(data[k] | (data[k + 1] << 8)) % out] ^= (uint8_t)(1u << (data[k] & 7u));
      s.strict = !corrupt;
      s.stream = stream;
      s.want_offsets = offsets;
      s.want_lengths = lengths;
      s.want = frames;
      push_in_pieces(&d, stream, out, arg, &s);
      if (s.strict) CHECK(s.got == frames);
      return 0;
    }
  }
}
