/* Unit tests of the firmware's byte-level libraries: CRC-32, SHA-256, the JSON parser, frames. */
#include <stdlib.h>

#include "tl_crc32.h"
#include "tl_frame.h"
#include "tl_json.h"
#include "tl_sha256.h"
#include "tl_test.h"
#include "tests.h"

static void hex_of(const uint8_t d[32], char out[65]) { tl_sha256_hex(d, out); }

static void test_crc32_known_answers(void) {
  TL_CHECK_EQ(tl_crc32("123456789", 9), TL_PROTO_CRC32_CHECK);
  TL_CHECK_EQ(tl_crc32("", 0), 0u);
  uint32_t c = tl_crc32_update(0, "1234", 4);
  c = tl_crc32_update(c, "56789", 5);
  TL_CHECK_EQ(c, 0xCBF43926u);
  /* The PING example of docs/protocol.md: header CRC e2 ce 88 0e, payload CRC 42 f5 10 76. */
  static const uint8_t payload[8] = {4, 0, 0, 0, 1, 2, 3, 4};
  TL_CHECK_EQ(tl_crc32(payload, 8), 0x7610f542u);
}

static void test_sha256_known_answers(void) {
  uint8_t d[32];
  char hex[65];
  tl_sha256("", 0, d);
  hex_of(d, hex);
  TL_CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  tl_sha256("abc", 3, d);
  hex_of(d, hex);
  TL_CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  tl_sha256(two, strlen(two), d);
  hex_of(d, hex);
  TL_CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  /* One million 'a', fed in uneven pieces. */
  static char a[1000];
  memset(a, 'a', sizeof a);
  tl_sha256_ctx c;
  tl_sha256_init(&c);
  size_t fed = 0, piece = 1;
  while (fed < 1000000u) {
    size_t n = piece % 997u + 1u;
    if (n > 1000000u - fed) n = 1000000u - fed;
    tl_sha256_update(&c, a, n);
    fed += n;
    piece = piece * 31u + 7u;
  }
  tl_sha256_final(&c, d);
  hex_of(d, hex);
  TL_CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  uint8_t back[32];
  TL_CHECK(tl_sha256_from_hex(hex, 64, back) && memcmp(back, d, 32) == 0);
  TL_CHECK(!tl_sha256_from_hex(hex, 63, back));
  TL_CHECK(!tl_sha256_from_hex("zz", 2, back));
}

static tl_json_tok toks[256];

static int parses(const char *s) {
  tl_json_doc doc;
  char err[128];
  return tl_json_parse(&doc, s, strlen(s), toks, 256, err, sizeof err);
}

static void test_json_accepts_and_refuses_as_json_parse(void) {
  static const char *good[] = {"0", "-0", "1e5", "1E-5", "-1.25e+10", "\"\"", "\"a\\u00e9\\n\\\"\"", "[]", "{}", " [ 1 , [2] , {} ] ",
                               "{\"a\":{\"b\":[true,false,null]}}", "\xef\xbb\xbf{}", "\"\xc3\xa9\"", "\"\\ud83d\\ude00\""};
  static const char *bad[] = {"", " ", "01", "1.", ".5", "-", "+1", "1e", "[1,]", "{\"a\":1,}", "{a:1}", "[1 2]", "tru", "nul",
                              "\"\x01\"", "\"\\x\"", "\"\\u12\"", "{\"a\" 1}", "[] []", "\"abc", "[", "{\"a\":}", "\xc3\x28",
                              "\"\xed\xa0\x80\""};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    if (!parses(good[i])) fprintf(stderr, "  refused: %s\n", good[i]);
    TL_CHECK(parses(good[i]));
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (parses(bad[i])) fprintf(stderr, "  accepted: %s\n", bad[i]);
    TL_CHECK(!parses(bad[i]));
  }
  /* Depth: 64 levels parse, 65 do not; too many tokens fail cleanly. */
  char deep[200];
  memset(deep, '[', 64);
  memset(deep + 64, ']', 64);
  deep[128] = '\0';
  TL_CHECK(parses(deep));
  memset(deep, '[', 65);
  memset(deep + 65, ']', 65);
  deep[130] = '\0';
  TL_CHECK(!parses(deep));
  tl_json_doc doc;
  char err[128] = "";
  TL_CHECK(!tl_json_parse(&doc, "[1,2,3]", 7, toks, 3, err, sizeof err));
  TL_CHECK(strstr(err, "too many") != NULL);
}

static void test_json_lookups_numbers_strings(void) {
  const char *s = "{\"a\":1,\"b\":[10,{\"x\":\"y\"},30],\"a\":9007199254740991,\"s\":\"t\\u00e9\\\\\",\"f\":-2.5e-3,\"big\":9007199254740992}";
  tl_json_doc doc;
  char err[128];
  TL_CHECK(tl_json_parse(&doc, s, strlen(s), toks, 256, err, sizeof err));
  uint64_t v = 0;
  TL_CHECK(tl_json_u64(&doc, tl_json_get(&doc, 0, "a"), &v));
  TL_CHECK_EQ(v, 9007199254740991ull); /* the last "a", as JSON.parse */
  TL_CHECK(!tl_json_u64(&doc, tl_json_get(&doc, 0, "big"), &v));
  TL_CHECK(!tl_json_u64(&doc, tl_json_get(&doc, 0, "f"), &v));
  double f = 0;
  TL_CHECK(tl_json_f64(&doc, tl_json_get(&doc, 0, "f"), &f) && f == -2.5e-3);
  uint32_t b = tl_json_get(&doc, 0, "b");
  TL_CHECK_EQ(doc.toks[b].count, 3);
  TL_CHECK(tl_json_u64(&doc, tl_json_at(&doc, b, 2), &v) && v == 30);
  TL_CHECK(tl_json_streq(&doc, tl_json_get(&doc, tl_json_at(&doc, b, 1), "x"), "y"));
  TL_CHECK_EQ(tl_json_at(&doc, b, 3), TL_JSON_NONE);
  TL_CHECK_EQ(tl_json_get(&doc, 0, "missing"), TL_JSON_NONE);
  char buf[16];
  size_t n = 0;
  TL_CHECK(tl_json_str(&doc, tl_json_get(&doc, 0, "s"), buf, sizeof buf, &n));
  TL_CHECK_STR(buf, "t\xc3\xa9\\");
  TL_CHECK_EQ(n, 4);
  TL_CHECK(!tl_json_str(&doc, tl_json_get(&doc, 0, "s"), buf, 4, &n)); /* does not fit */
  TL_CHECK(tl_json_streq(&doc, tl_json_get(&doc, 0, "s"), "t\xc3\xa9\\"));
  TL_CHECK(!tl_json_streq(&doc, tl_json_get(&doc, 0, "s"), "t\xc3\xa9"));
}

/* sha256 of canonical(text minus the excluded top-level keys) must be sha256(expected). */
static void check_canonical(const char *text, const char *expected, const char *const *excl, size_t nexcl) {
  tl_json_doc doc;
  char err[128];
  uint8_t got[32], want[32];
  TL_CHECK(tl_json_parse(&doc, text, strlen(text), toks, 256, err, sizeof err));
  TL_CHECK(tl_json_canonical_sha256(&doc, 0, excl, nexcl, got));
  tl_sha256(expected, strlen(expected), want);
  if (memcmp(got, want, 32) != 0) fprintf(stderr, "  canonical of %s is not %s\n", text, expected);
  TL_CHECK(memcmp(got, want, 32) == 0);
}

static void test_json_canonical_form_is_canonical_json(void) {
  static const char *excl[] = {"$schema", "description"};
  check_canonical("{ \"b\" : 1, \"a\" : [ true , null ], \"$schema\": \"x\", \"description\": \"d\", \"c\": {\"z\":\"\\u0041\",\"y\":\"\\n\\u0001\"} }",
                  "{\"a\":[true,null],\"b\":1,\"c\":{\"y\":\"\\n\\u0001\",\"z\":\"A\"}}", excl, 2);
  /* Numbers as JSON.stringify writes them. */
  check_canonical("[1.0, 100, 1e21, 1e-7, 0.000001, 123456789012345680000, 0.1, 1.5e300, -0, 19.2, 0.833, 1E2, 2.50, -1e-7, 5e-324]",
                  "[1,100,1e+21,1e-7,0.000001,123456789012345680000,0.1,1.5e+300,0,19.2,0.833,100,2.5,-1e-7,5e-324]", NULL, 0);
  /* A repeated key keeps its last value; keys sort by UTF-16 code units (U+FF61 after U+1F600's high surrogate). */
  check_canonical("{\"k\":1,\"k\":2,\"\xef\xbd\xa1\":0,\"\xf0\x9f\x98\x80\":0}", "{\"k\":2,\"\xf0\x9f\x98\x80\":0,\"\xef\xbd\xa1\":0}", NULL, 0);
}

/* ---- frames ---- */

typedef struct {
  int kinds[16];
  uint32_t ids[16];
  uint32_t lens[16];
  int n;
} events_t;

static void collect(void *ctx, tl_deframe_kind kind, const tl_frame_header *h, const uint8_t *payload) {
  events_t *e = (events_t *)ctx;
  (void)payload;
  if (e->n < 16) {
    e->kinds[e->n] = (int)kind;
    e->ids[e->n] = h->request_id;
    e->lens[e->n] = h->length;
  }
  e->n++;
}

static uint8_t dbuf[TL_DEFRAMER_MIN_BUFFER];

static void test_frame_encoding_matches_the_spec_example(void) {
  static const uint8_t want[] = {0xa5, 0x54, 0x4c, 0x4b, 0x02, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x08, 0x00,
                                 0x00, 0x00, 0xe2, 0xce, 0x88, 0x0e, 0x04, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x42, 0xf5, 0x10, 0x76};
  static const uint8_t payload[8] = {4, 0, 0, 0, 1, 2, 3, 4};
  uint8_t out[64];
  size_t n = tl_frame_encode(out, sizeof out, TL_PROTO_MSG_PING, 3, 7, payload, 8);
  TL_CHECK_EQ(n, sizeof want);
  TL_CHECK(memcmp(out, want, sizeof want) == 0);
  TL_CHECK_EQ(tl_frame_encode(out, 35, TL_PROTO_MSG_PING, 3, 7, payload, 8), 0);
}

static void test_deframer_resynchronises(void) {
  tl_deframer d;
  events_t e;
  uint8_t a[64], b[64], stream[512];
  static const uint8_t p1[3] = {1, 2, 3};
  size_t na = tl_frame_encode(a, sizeof a, TL_PROTO_MSG_PING, 0, 11, p1, 3);
  size_t nb = tl_frame_encode(b, sizeof b, TL_PROTO_MSG_INFO, 1, 12, NULL, 0);
  TL_CHECK(tl_deframer_init(&d, dbuf, sizeof dbuf, TL_PROTO_MAX_PAYLOAD));

  /* Garbage (with a false magic) before a frame, the frame split byte by byte. */
  memset(&e, 0, sizeof e);
  static const uint8_t junk[] = {0xa5, 0x54, 0x4c, 0x4b, 0, 1, 2, 3, 0x55, 0xaa, 0xa5, 0x54, 'A', 'T', '\r', '\n'};
  size_t n = 0;
  memcpy(stream, junk, sizeof junk);
  n += sizeof junk;
  memcpy(stream + n, a, na);
  n += na;
  for (size_t i = 0; i < n; i++) tl_deframer_push(&d, stream + i, 1, collect, &e);
  TL_CHECK_EQ(e.n, 1);
  TL_CHECK_EQ(e.kinds[0], TL_DEFRAME_FRAME);
  TL_CHECK_EQ(e.ids[0], 11);
  TL_CHECK(!tl_deframer_pending(&d));
  TL_CHECK_EQ(d.discarded, sizeof junk);

  /* A payload CRC error names its request; the next frame still arrives. */
  memset(&e, 0, sizeof e);
  memcpy(stream, a, na);
  stream[na - 6] ^= 1u;
  memcpy(stream + na, b, nb);
  tl_deframer_push(&d, stream, na + nb, collect, &e);
  TL_CHECK_EQ(e.n, 2);
  TL_CHECK_EQ(e.kinds[0], TL_DEFRAME_BAD_CRC);
  TL_CHECK_EQ(e.ids[0], 11);
  TL_CHECK_EQ(e.kinds[1], TL_DEFRAME_FRAME);
  TL_CHECK_EQ(e.ids[1], 12);

  /* A truncated frame waits, then on expiry is reported; a good frame inside it is still found. */
  memset(&e, 0, sizeof e);
  uint8_t big[128];
  static uint8_t p2[64];
  size_t nbig = tl_frame_encode(big, sizeof big, TL_PROTO_MSG_PING, 2, 13, p2, 64);
  (void)nbig;
  memcpy(stream, big, 30); /* the header and 6 payload bytes */
  memcpy(stream + 30, b, nb);
  tl_deframer_push(&d, stream, 30 + nb, collect, &e);
  TL_CHECK_EQ(e.n, 0);
  TL_CHECK(tl_deframer_pending(&d));
  tl_deframer_expire(&d, collect, &e);
  TL_CHECK_EQ(e.n, 2);
  TL_CHECK_EQ(e.kinds[0], TL_DEFRAME_TRUNCATED);
  TL_CHECK_EQ(e.ids[0], 13);
  TL_CHECK_EQ(e.kinds[1], TL_DEFRAME_FRAME);
  TL_CHECK_EQ(e.ids[1], 12);
  TL_CHECK(!tl_deframer_pending(&d));

  /* A declared length above max_payload: reported, header skipped. */
  memset(&e, 0, sizeof e);
  tl_deframer small;
  static uint8_t sbuf[2048];
  TL_CHECK(tl_deframer_init(&small, sbuf, sizeof sbuf, 1024));
  static uint8_t p3[1500];
  static uint8_t f3[1600];
  size_t n3 = tl_frame_encode(f3, sizeof f3, TL_PROTO_MSG_PING, 0, 14, p3, 1500);
  tl_deframer_push(&small, f3, n3, collect, &e);
  tl_deframer_push(&small, b, nb, collect, &e);
  TL_CHECK_EQ(e.kinds[0], TL_DEFRAME_TOO_LARGE);
  TL_CHECK_EQ(e.ids[0], 14);
  TL_CHECK_EQ(e.kinds[e.n - 1], TL_DEFRAME_FRAME);
  TL_CHECK_EQ(e.ids[e.n - 1], 12);
  TL_CHECK(!tl_deframer_init(&small, sbuf, 1000, 1024)); /* a buffer too small for one frame */
}

static void test_deframer_carries_largest_frames_back_to_back(void) {
  static uint8_t payload[TL_PROTO_MAX_PAYLOAD];
  static uint8_t frames[2 * TL_PROTO_MAX_FRAME];
  tl_deframer d;
  events_t e;
  memset(&e, 0, sizeof e);
  for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 7u);
  size_t n1 = tl_frame_encode(frames, sizeof frames, TL_PROTO_MSG_PING, 0, 21, payload, TL_PROTO_MAX_PAYLOAD);
  size_t n2 = tl_frame_encode(frames + n1, sizeof frames - n1, TL_PROTO_MSG_PING, 1, 22, payload, TL_PROTO_MAX_PAYLOAD);
  TL_CHECK(tl_deframer_init(&d, dbuf, sizeof dbuf, TL_PROTO_MAX_PAYLOAD));
  for (size_t off = 0; off < n1 + n2; off += 5000) {
    size_t k = n1 + n2 - off < 5000 ? n1 + n2 - off : 5000;
    tl_deframer_push(&d, frames + off, k, collect, &e);
  }
  TL_CHECK_EQ(e.n, 2);
  TL_CHECK_EQ(e.lens[0], TL_PROTO_MAX_PAYLOAD);
  TL_CHECK_EQ(e.ids[1], 22);
}

const tl_test_case tl_codec_tests[] = {
    {"crc32 known answers", test_crc32_known_answers},
    {"sha256 known answers (FIPS 180-4 examples)", test_sha256_known_answers},
    {"json accepts and refuses as JSON.parse", test_json_accepts_and_refuses_as_json_parse},
    {"json lookups, numbers, strings", test_json_lookups_numbers_strings},
    {"json canonical form", test_json_canonical_form_is_canonical_json},
    {"frame encoding matches the spec's example", test_frame_encoding_matches_the_spec_example},
    {"deframer resynchronises", test_deframer_resynchronises},
    {"deframer carries largest frames back to back", test_deframer_carries_largest_frames_back_to_back},
};
const size_t tl_codec_test_count = sizeof tl_codec_tests / sizeof tl_codec_tests[0];
