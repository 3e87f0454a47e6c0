/*
 * The request window (docs/protocol.md §5) through the command processor (app/tl_fw.c) on the mock
 * HAL: a host that keeps to the window is never refused BUSY, however late the board's write of
 * a reply returns, and one that exceeds it is.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tl_frame.h"
#include "tl_fw.h"
#include "tl_hal_mock.h"
#include "tl_protocol.h"  // Generated.
#include "tl_test.h"
#include "tests.h"

/* The host's end of the link: the frames the board wrote, counted. */
typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  tl_deframer d;
  uint8_t *buf;
  uint32_t replies, busy, other_errors;
  uint32_t write_delay_ms; /* how long each write of the board takes to return (a slow serial line) */
} host_end;

static void on_board_frame(void *ctx, tl_deframe_kind kind, const tl_frame_header *h, const uint8_t *payload) {
  host_end *e = (host_end *)ctx;
  if (kind != TL_DEFRAME_FRAME) return;
  if (h->type == TL_PROTO_MSG_ERROR) {
    tl_proto_error_t m;
    if (tl_proto_error_decode(payload, h->length, &m) == TL_PROTO_OK && m.code == TL_PROTO_ERR_BUSY) e->busy++;
    else if (m.code != TL_PROTO_ERR_NO_IMAGE) e->other_errors++;
  }
  if (tl_proto_msg_is_reply(h->type)) e->replies++;
}

/* The board's send function: the host sees the bytes at once (and may answer at once); the write
 * itself returns only after write_delay_ms. */
static int board_send(void *ctx, const uint8_t *bytes, size_t n) {
  host_end *e = (host_end *)ctx;
  pthread_mutex_lock(&e->mu);
  tl_deframer_push(&e->d, bytes, n, on_board_frame, e);
  pthread_cond_broadcast(&e->cv);
  uint32_t delay = e->write_delay_ms;
  pthread_mutex_unlock(&e->mu);
  if (delay) usleep(delay * 1000u);
  return 1;
}

static const tl_board_desc *kv260(void) {
  for (uint32_t i = 0; i < TL_BOARD_COUNT; i++)
    if (strcmp(tl_boards[i].board_name, "kv260") == 0) return &tl_boards[i];
  return NULL;
}

typedef struct {
  tl_fw *fw;
  tl_hal *hal;
  host_end e;
  char state_dir[64];
} rig;

static int rig_open(rig *r, uint16_t window, uint32_t write_delay_ms) {
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->e.mu, NULL);
  pthread_cond_init(&r->e.cv, NULL);
  r->e.buf = malloc(TL_DEFRAMER_MIN_BUFFER);
  r->e.write_delay_ms = write_delay_ms;
  if (r->e.buf == NULL || !tl_deframer_init(&r->e.d, r->e.buf, TL_DEFRAMER_MIN_BUFFER, TL_PROTO_MAX_PAYLOAD)) return 0;
  tl_hal_config hc = {0};
  if (tl_hal_open(&r->hal, &hc, NULL, 0) != TL_OK) return 0;
  snprintf(r->state_dir, sizeof r->state_dir, "/tmp/tl_window_test.XXXXXX");
  if (mkdtemp(r->state_dir) == NULL) return 0;
  tl_fw_config fc;
  memset(&fc, 0, sizeof fc);
  fc.board = kv260();
  fc.hal = r->hal;
  fc.firmware_name = "fw_unit";
  fc.state_dir = r->state_dir;
  fc.window = window;
  fc.max_payload = TL_PROTO_MAX_PAYLOAD;
  fc.accel_timeout_ms = 1000;
  fc.flip_logit = -1;
  fc.manifest_cap = 1u << 16;
  fc.json_tokens = 4096;
  fc.sections_cap = 64;
  fc.send = board_send;
  fc.send_ctx = &r->e;
  char err[256];
  r->fw = tl_fw_create(&fc, err, sizeof err);
  if (r->fw == NULL) fprintf(stderr, "tl_fw_create: %s\n", err);
  return r->fw != NULL;
}

static void rig_close(rig *r) {
  if (r->fw) tl_fw_destroy(r->fw);
  if (r->hal) tl_hal_close(r->hal);
  rmdir(r->state_dir);
  free(r->e.buf);
}

/* Send a SESSION_OPEN (a queued request; with no image loaded the worker answers ERROR NO_IMAGE). */
static void send_request(rig *r, uint32_t seq, uint32_t rid) {
  tl_proto_session_open_t m = {64};
  uint8_t payload[16], frame[64];
  uint32_t len = 0;
  if (tl_proto_session_open_encode(&m, payload, sizeof payload, &len) != TL_PROTO_OK) abort();
  size_t n = tl_frame_encode(frame, sizeof frame, TL_PROTO_MSG_SESSION_OPEN, seq, rid, payload, len);
  tl_fw_receive(r->fw, frame, n);
}

/* Wait (at most 5 s) until the host has seen `replies` replies. */
static int wait_replies(rig *r, uint32_t replies) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 5;
  pthread_mutex_lock(&r->e.mu);
  int rc = 0;
  while (r->e.replies < replies && rc == 0) rc = pthread_cond_timedwait(&r->e.cv, &r->e.mu, &until);
  int ok = r->e.replies >= replies;
  pthread_mutex_unlock(&r->e.mu);
  return ok;
}

static void test_a_host_keeping_to_the_window_is_never_refused(void) {
  /* Window 1, and each write of the board returns 30 ms after the host has read it: the host
   * sends its next request the moment it reads a reply, while the worker is still in the write of
   * that reply. The slot is free already (it is freed when the reply is framed). */
  rig r;
  TL_CHECK(rig_open(&r, 1, 30));
  if (r.fw == NULL) return;
  const uint32_t n = 20;
  for (uint32_t i = 0; i < n; i++) {
    send_request(&r, i, i + 1);
    TL_CHECK(wait_replies(&r, i + 1));
  }
  pthread_mutex_lock(&r.e.mu);
  TL_CHECK_EQ(r.e.replies, n);
  TL_CHECK_EQ(r.e.busy, 0);
  TL_CHECK_EQ(r.e.other_errors, 0);
  pthread_mutex_unlock(&r.e.mu);
  rig_close(&r);
}

static void test_a_host_exceeding_the_window_gets_busy(void) {
  /* Window 2. The first request's reply is framed and read, then its write holds the worker for
   * 500 ms: meanwhile the host sends three more. Two fill the window; the third is refused BUSY
   * (once the worker's write has returned: one frame at a time on the link). */
  rig r;
  TL_CHECK(rig_open(&r, 2, 500));
  if (r.fw == NULL) return;
  send_request(&r, 0, 1);
  TL_CHECK(wait_replies(&r, 1));
  send_request(&r, 1, 2);
  send_request(&r, 2, 3);
  send_request(&r, 3, 4);
  TL_CHECK(wait_replies(&r, 4));
  pthread_mutex_lock(&r.e.mu);
  TL_CHECK_EQ(r.e.busy, 1);
  TL_CHECK_EQ(r.e.other_errors, 0);
  pthread_mutex_unlock(&r.e.mu);
  rig_close(&r);
}

const tl_test_case tl_window_tests[] = {
    {"window: a host keeping to it is never refused BUSY", test_a_host_keeping_to_the_window_is_never_refused},
    {"window: a host exceeding it gets BUSY", test_a_host_exceeding_the_window_gets_busy},
};
const size_t tl_window_test_count = sizeof tl_window_tests / sizeof tl_window_tests[0];
