/* The firmware's command processor (tl_fw.h). */
#include "tl_fw.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tl_crc32.h"
#include "tl_engine.h"
#include "tl_frame.h"
#include "tl_image.h"
#include "tl_protocol.h"  // Generated.
#include "tl_sampler.h"
#include "tl_sha256.h"

#define DETAIL_MAX TL_PROTO_ERROR_DETAIL_MAX
#define IDS_MAX 16000u
/* How long a request that finds the window full waits for the worker to free a slot (s). */
#define BUSY_GRACE_S 1
#define LOGITS_PER_EVENT 16000u
#define HELLO_WAIT_EXTRA_MS 10000u

typedef struct {
  uint16_t type;
  uint32_t rid;
  uint32_t len;
  uint8_t *payload; /* max_payload bytes */
  atomic_int cancel;
} request_t;

typedef struct {
  int open;
  uint32_t context;
  tl_sampling sampling;
  tl_xoshiro128 rng;
} session_t;

typedef struct {
  tl_fw *fw;
  request_t *q;
  char detail[DETAIL_MAX + 8];
} job_t;

typedef struct {
  int active;
  uint64_t size;
  uint8_t sha[32];
  char name[TL_PROTO_UPLOAD_BEGIN_NAME_MAX + 1];
  char path[1200];
  uint64_t received;
  int fd;
} upload_t;

struct tl_fw {
  tl_fw_config cfg;
  uint64_t start_ms;
  /* rx: the I/O thread only */
  tl_deframer deframer;
  uint8_t *rxbuf;
  uint64_t last_rx_ms;
  int have_rx_seq;
  uint32_t rx_next_seq;
  uint8_t *cpayload; /* control replies */
  /* counters (mu) */
  uint32_t rx_frames, rx_crc, rx_truncated, rx_gaps, tx_frames;
  /* tx */
  pthread_mutex_t tx_mu;
  uint32_t tx_seq;
  uint8_t *txbuf;
  atomic_uint peer_max_payload;
  /* the request queue */
  pthread_mutex_t mu;
  pthread_cond_t work_cv, idle_cv;
  request_t *slots;
  uint32_t head, count; /* count includes the running request (slot head) */
  int running;
  int quit;
  pthread_t worker;
  int worker_started;
  /* what INFO and HELLO report (mu) */
  int image_loaded;
  uint8_t image_sha[32];
  char image_name[TL_PROTO_IMAGE_OK_NAME_MAX + 1];
  session_t session; /* worker writes under mu; INFO reads under mu */
  uint32_t kv_len_view;
  /* worker state */
  tl_engine engine;
  tl_image_buffers img;
  upload_t upload;
  uint8_t *wpayload;
  uint32_t *ids;     /* decoded u32[] */
  uint32_t *tokens;  /* selections of a step */
  uint32_t *order;   /* sampler scratch */
  float *escratch;
  float *logits_out; /* logits as sent (fault injection) */
  job_t job;
  uint32_t progress_total;
};

/* ---- sending ---- */

/* Length of the well-formed UTF-8 character at s[0..n), or 0. */
static uint32_t utf8_char(const char *s, uint32_t n) {
  for (uint32_t k = 1; k <= 4 && k <= n; k++)
    if (tl_proto_utf8_valid((const uint8_t *)s, k)) return k;
  return 0;
}

/* Make detail valid UTF-8 of at most DETAIL_MAX bytes (the ERROR encoder refuses anything else):
 * a byte that starts no character becomes '?', a character cut by the limit is dropped. */
static uint32_t clean_detail(char *s) {
  uint32_t n = (uint32_t)strlen(s), i = 0;
  if (n > DETAIL_MAX) n = DETAIL_MAX;
  while (i < n) {
    uint32_t k = utf8_char(s + i, n - i);
    if (k > 0) {
      i += k;
    } else if (n - i < 4 && n == DETAIL_MAX && utf8_char(s + i, (uint32_t)strlen(s + i)) > n - i) {
      break; /* a character the limit cut */
    } else {
      s[i++] = '?';
    }
  }
  s[i] = '\0';
  return i;
}

static void send_frame(tl_fw *fw, uint16_t type, uint32_t rid, const uint8_t *payload, uint32_t len) {
  pthread_mutex_lock(&fw->tx_mu);
  size_t n = tl_frame_encode(fw->txbuf, tl_frame_size(TL_PROTO_MAX_PAYLOAD), type, fw->tx_seq, rid, payload, len);
  if (n > 0) {
    fw->tx_seq++;
    (void)fw->cfg.send(fw->cfg.send_ctx, fw->txbuf, n);
    pthread_mutex_lock(&fw->mu);
    fw->tx_frames++;
    pthread_mutex_unlock(&fw->mu);
  }
  pthread_mutex_unlock(&fw->tx_mu);
}

static void send_error(tl_fw *fw, uint8_t *buf, uint32_t rid, uint16_t code, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void send_error(tl_fw *fw, uint8_t *buf, uint32_t rid, uint16_t code, const char *fmt, ...) {
  char detail[DETAIL_MAX + 8];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  tl_proto_error_t m = {code, {detail, clean_detail(detail)}};
  uint32_t len = 0;
  if (tl_proto_error_encode(&m, buf, fw->cfg.max_payload, &len) == TL_PROTO_OK) send_frame(fw, TL_PROTO_MSG_ERROR, rid, buf, len);
}

/* Encode with the message's generated encoder into buf, then send. */
#define SEND_MSG(fw, buf, rid, NAME, lower, value)                                                      \
  do {                                                                                                  \
    uint32_t send_len_ = 0;                                                                             \
    if (tl_proto_##lower##_encode((value), (buf), (fw)->cfg.max_payload, &send_len_) == TL_PROTO_OK)    \
      send_frame((fw), TL_PROTO_MSG_##NAME, (rid), (buf), send_len_);                                   \
    else                                                                                                \
      send_error((fw), (buf), (rid), TL_PROTO_ERR_INTERNAL, "cannot encode %s", #NAME);                 \
  } while (0)

static const char *proto_status_text(tl_proto_status_t s) {
  switch (s) {
    case TL_PROTO_E_SHORT: return "the payload ends inside a field";
    case TL_PROTO_E_MAX: return "a length or count is above its maximum";
    case TL_PROTO_E_TRAILING: return "bytes follow the last field";
    case TL_PROTO_E_UTF8: return "a string is not well-formed UTF-8";
    default: return "malformed";
  }
}

/* ---- control requests (I/O thread) ---- */

static void reply_hello(tl_fw *fw, const tl_frame_header *h, const uint8_t *payload) {
  tl_proto_hello_t m;
  tl_proto_status_t st = tl_proto_hello_decode(payload, h->length, &m);
  if (st != TL_PROTO_OK) {
    send_error(fw, fw->cpayload, h->request_id, TL_PROTO_ERR_BAD_PAYLOAD, "HELLO: %s", proto_status_text(st));
    return;
  }
  /* A new host owns the link: end what runs (its terminal reply comes first) and what waits. */
  pthread_mutex_lock(&fw->mu);
  for (uint32_t k = 0; k < fw->count; k++) atomic_store(&fw->slots[(fw->head + k) % fw->cfg.window].cancel, 1);
  uint64_t deadline = tl_hal_now_ms() + fw->cfg.accel_timeout_ms + HELLO_WAIT_EXTRA_MS;
  while (fw->count > 0 && tl_hal_now_ms() < deadline) {
    pthread_mutex_unlock(&fw->mu);
    tl_hal_sleep_ms(2);
    pthread_mutex_lock(&fw->mu);
  }
  tl_proto_hello_ok_t r;
  memset(&r, 0, sizeof r);
  r.major = TL_PROTO_MAJOR;
  r.minor = TL_PROTO_MINOR;
  r.max_payload = fw->cfg.max_payload;
  r.window = fw->cfg.window;
  r.firmware = (tl_proto_str_t){fw->cfg.firmware_name, (uint32_t)strlen(fw->cfg.firmware_name)};
  const char *backend = tl_hal_backend(fw->cfg.hal);
  r.backend = (tl_proto_str_t){backend, (uint32_t)strlen(backend)};
  r.board = (tl_proto_str_t){fw->cfg.board->board_name, (uint32_t)strlen(fw->cfg.board->board_name)};
  memcpy(r.hw_hash, fw->cfg.board->hw_hash, 32);
  r.image_loaded = (uint8_t)fw->image_loaded;
  if (fw->image_loaded) memcpy(r.image_sha256, fw->image_sha, 32);
  r.image_name = (tl_proto_str_t){fw->image_name, fw->image_loaded ? (uint32_t)strlen(fw->image_name) : 0u};
  pthread_mutex_unlock(&fw->mu);
  uint32_t peer = m.max_payload < TL_PROTO_MIN_MAX_PAYLOAD ? TL_PROTO_MIN_MAX_PAYLOAD : m.max_payload;
  atomic_store(&fw->peer_max_payload, peer < fw->cfg.max_payload ? peer : fw->cfg.max_payload);
  /* Both directions restart at 0: this reply is the board's frame 0, the host's next frame follows its HELLO. */
  if (fw->cfg.on_hello) fw->cfg.on_hello(fw->cfg.send_ctx);
  pthread_mutex_lock(&fw->tx_mu);
  fw->tx_seq = 0;
  pthread_mutex_unlock(&fw->tx_mu);
  fw->have_rx_seq = 1;
  fw->rx_next_seq = h->seq + 1u;
  SEND_MSG(fw, fw->cpayload, h->request_id, HELLO_OK, hello_ok, &r);
}

static void reply_info(tl_fw *fw, const tl_frame_header *h) {
  tl_proto_info_ok_t r;
  memset(&r, 0, sizeof r);
  pthread_mutex_lock(&fw->mu);
  r.clock_khz = 0; /* not measured by this firmware */
  r.max_image_bytes = tl_hal_mem_size(fw->cfg.hal);
  r.context_max = fw->cfg.board->max_context;
  r.accel_timeout_ms = fw->cfg.accel_timeout_ms;
  r.uptime_ms = tl_hal_now_ms() - fw->start_ms;
  r.session_open = (uint8_t)fw->session.open;
  r.context = fw->session.open ? fw->session.context : 0;
  r.kv_len = fw->session.open ? fw->kv_len_view : 0;
  r.rx_frames = fw->rx_frames;
  r.rx_crc_errors = fw->rx_crc;
  r.rx_truncated = fw->rx_truncated;
  r.rx_discarded_bytes = (uint32_t)fw->deframer.discarded;
  r.rx_seq_gaps = fw->rx_gaps;
  r.tx_frames = fw->tx_frames;
  pthread_mutex_unlock(&fw->mu);
  SEND_MSG(fw, fw->cpayload, h->request_id, INFO_OK, info_ok, &r);
}

static void reply_cancel(tl_fw *fw, const tl_frame_header *h, const uint8_t *payload) {
  tl_proto_cancel_t m;
  tl_proto_status_t st = tl_proto_cancel_decode(payload, h->length, &m);
  if (st != TL_PROTO_OK) {
    send_error(fw, fw->cpayload, h->request_id, TL_PROTO_ERR_BAD_PAYLOAD, "CANCEL: %s", proto_status_text(st));
    return;
  }
  tl_proto_cancel_ok_t r = {0};
  pthread_mutex_lock(&fw->mu);
  for (uint32_t k = 0; k < fw->count; k++) {
    request_t *q = &fw->slots[(fw->head + k) % fw->cfg.window];
    if (q->rid == m.target) {
      atomic_store(&q->cancel, 1);
      r.found = 1;
    }
  }
  pthread_mutex_unlock(&fw->mu);
  SEND_MSG(fw, fw->cpayload, h->request_id, CANCEL_OK, cancel_ok, &r);
}

static void on_frame(tl_fw *fw, const tl_frame_header *h, const uint8_t *payload) {
  if (h->major != TL_PROTO_MAJOR) {
    send_error(fw, fw->cpayload, h->request_id, TL_PROTO_ERR_VERSION, "protocol major %u; this board speaks %u", h->major, TL_PROTO_MAJOR);
    return;
  }
  if (!tl_proto_msg_is_request(h->type)) {
    send_error(fw, fw->cpayload, h->request_id, TL_PROTO_ERR_UNKNOWN_MESSAGE, "message type 0x%04x is not a request this firmware knows", h->type);
    return;
  }
  if (h->request_id == 0) {
    send_error(fw, fw->cpayload, 0, TL_PROTO_ERR_BAD_REQUEST, "%s with request_id 0: request ids are nonzero", tl_proto_msg_name(h->type));
    return;
  }
  switch (h->type) {
    case TL_PROTO_MSG_HELLO: reply_hello(fw, h, payload); return;
    case TL_PROTO_MSG_INFO: {
      tl_proto_info_t m;
      if (tl_proto_info_decode(payload, h->length, &m) != TL_PROTO_OK) {
        send_error(fw, fw->cpayload, h->request_id, TL_PROTO_ERR_BAD_PAYLOAD, "INFO: an empty payload is expected");
        return;
      }
      reply_info(fw, h);
      return;
    }
    case TL_PROTO_MSG_PING: {
      tl_proto_ping_t m;
      tl_proto_status_t st = tl_proto_ping_decode(payload, h->length, &m);
      if (st != TL_PROTO_OK) {
        send_error(fw, fw->cpayload, h->request_id, TL_PROTO_ERR_BAD_PAYLOAD, "PING: %s", proto_status_text(st));
        return;
      }
      tl_proto_pong_t r = {m.data};
      SEND_MSG(fw, fw->cpayload, h->request_id, PONG, pong, &r);
      return;
    }
    case TL_PROTO_MSG_CANCEL: reply_cancel(fw, h, payload); return;
    default: break;
  }
  /* A queued request: BUSY beyond the window. The worker sends a request's final reply before it
   * frees the request's slot, so a host that keeps to the window may send its next request while
   * the slot is still taken: wait (bounded) for the worker to free it before refusing. */
  pthread_mutex_lock(&fw->mu);
  if (fw->count >= fw->cfg.window) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += BUSY_GRACE_S;
    while (fw->count >= fw->cfg.window && pthread_cond_timedwait(&fw->idle_cv, &fw->mu, &until) == 0) {
    }
  }
  if (fw->count >= fw->cfg.window) {
    uint32_t n = fw->count;
    pthread_mutex_unlock(&fw->mu);
    send_error(fw, fw->cpayload, h->request_id, TL_PROTO_ERR_BUSY, "%u requests are queued (window %u)", n, fw->cfg.window);
    return;
  }
  request_t *q = &fw->slots[(fw->head + fw->count) % fw->cfg.window];
  q->type = h->type;
  q->rid = h->request_id;
  q->len = h->length;
  memcpy(q->payload, payload, h->length);
  atomic_store(&q->cancel, 0);
  fw->count++;
  pthread_cond_signal(&fw->work_cv);
  pthread_mutex_unlock(&fw->mu);
}

static void on_deframe(void *ctx, tl_deframe_kind kind, const tl_frame_header *h, const uint8_t *payload) {
  tl_fw *fw = (tl_fw *)ctx;
  if (kind == TL_DEFRAME_FRAME) {
    pthread_mutex_lock(&fw->mu);
    fw->rx_frames++;
    if (fw->have_rx_seq && h->seq != fw->rx_next_seq && h->type != TL_PROTO_MSG_HELLO) fw->rx_gaps++;
    pthread_mutex_unlock(&fw->mu);
    fw->have_rx_seq = 1;
    fw->rx_next_seq = h->seq + 1u;
    on_frame(fw, h, payload);
    return;
  }
  pthread_mutex_lock(&fw->mu);
  if (kind == TL_DEFRAME_BAD_CRC) fw->rx_crc++;
  if (kind == TL_DEFRAME_TRUNCATED) fw->rx_truncated++;
  pthread_mutex_unlock(&fw->mu);
  uint16_t code = kind == TL_DEFRAME_BAD_CRC ? TL_PROTO_ERR_FRAME_CRC : kind == TL_DEFRAME_TRUNCATED ? TL_PROTO_ERR_FRAME_TRUNCATED : TL_PROTO_ERR_FRAME_TOO_LARGE;
  const char *what = kind == TL_DEFRAME_BAD_CRC ? "its payload failed the CRC-32"
                     : kind == TL_DEFRAME_TRUNCATED ? "it stopped before its declared length"
                                                    : "it declares a payload above max_payload";
  send_error(fw, fw->cpayload, h->request_id, code, "frame of request %u (type 0x%04x, %u bytes): %s", h->request_id, h->type, h->length, what);
}

void tl_fw_receive(tl_fw *fw, const uint8_t *bytes, size_t n) {
  if (n == 0) return;
  fw->last_rx_ms = tl_hal_now_ms();
  tl_deframer_push(&fw->deframer, bytes, n, on_deframe, fw);
}

void tl_fw_poll(tl_fw *fw) {
  if (tl_deframer_pending(&fw->deframer) && tl_hal_now_ms() - fw->last_rx_ms >= TL_PROTO_INTERBYTE_TIMEOUT_MS) {
    tl_deframer_expire(&fw->deframer, on_deframe, fw);
  }
}

void tl_fw_link_changed(tl_fw *fw) { tl_deframer_reset(&fw->deframer); }

/* ---- the worker's requests ---- */

static uint16_t fail(job_t *j, uint16_t code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static uint16_t fail(job_t *j, uint16_t code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(j->detail, sizeof j->detail, fmt, ap);
  va_end(ap);
  return code;
}

static int cancelled(job_t *j) { return atomic_load(&j->q->cancel) != 0; }

static void publish_session(tl_fw *fw) {
  pthread_mutex_lock(&fw->mu);
  fw->kv_len_view = fw->engine.kv_len;
  pthread_mutex_unlock(&fw->mu);
}

static void set_session_open(tl_fw *fw, int open, uint32_t context) {
  pthread_mutex_lock(&fw->mu);
  fw->session.open = open;
  fw->session.context = context;
  fw->kv_len_view = fw->engine.kv_len;
  pthread_mutex_unlock(&fw->mu);
}

static uint16_t require_session(job_t *j) {
  if (!j->fw->engine.loaded) return fail(j, TL_PROTO_ERR_NO_IMAGE, "no image is loaded");
  if (!j->fw->session.open) return fail(j, TL_PROTO_ERR_NO_SESSION, "no session is open");
  return 0;
}

static uint16_t check_ids(job_t *j, const tl_proto_u32s_t *a, const char *field) {
  const uint32_t vocab = j->fw->engine.model.regs.vocab;
  if (a->count > IDS_MAX) return fail(j, TL_PROTO_ERR_BAD_REQUEST, "%s: %u ids, at most %u", field, a->count, IDS_MAX);
  for (uint32_t i = 0; i < a->count; i++) {
    uint32_t id = tl_proto_u32s_get(a, i);
    if (id >= vocab) return fail(j, TL_PROTO_ERR_TOKEN_RANGE, "%s[%u]: token %u is not below the vocabulary size %u", field, i, id, vocab);
    j->fw->ids[i] = id;
  }
  return 0;
}

static void session_ok(job_t *j) {
  tl_fw *fw = j->fw;
  tl_proto_session_ok_t r = {fw->session.context, fw->engine.kv_len, fw->engine.model.regs.vocab};
  publish_session(fw);
  SEND_MSG(fw, fw->wpayload, j->q->rid, SESSION_OK, session_ok, &r);
}

static void image_ok(job_t *j) {
  tl_fw *fw = j->fw;
  tl_proto_image_ok_t r;
  memcpy(r.image_sha256, fw->engine.model.manifest_sha256, 32);
  r.name = (tl_proto_str_t){fw->image_name, (uint32_t)strlen(fw->image_name)};
  r.size = fw->engine.model.file_size;
  r.vocab = fw->engine.model.regs.vocab;
  r.context = fw->engine.model.regs.context;
  SEND_MSG(fw, fw->wpayload, j->q->rid, IMAGE_OK, image_ok, &r);
}

/* The accelerator's progress keep-alive during a prefill: PREFILL_PROGRESS at least once a second. */
static void on_progress(void *ctx, uint64_t elapsed_ms) {
  job_t *j = (job_t *)ctx;
  (void)elapsed_ms;
  tl_proto_prefill_progress_t r = {0, j->fw->progress_total};
  uint8_t buf[16];
  uint32_t len = 0;
  if (tl_proto_prefill_progress_encode(&r, buf, sizeof buf, &len) == TL_PROTO_OK) send_frame(j->fw, TL_PROTO_MSG_PREFILL_PROGRESS, j->q->rid, buf, len);
}

static uint16_t load_image(job_t *j, const char *path, const char *name, const uint8_t *expect_sha) {
  tl_fw *fw = j->fw;
  int was_loaded = fw->engine.loaded;
  uint16_t code = tl_engine_load(&fw->engine, path, &fw->img, j->detail, sizeof j->detail);
  if (code == 0 && expect_sha && memcmp(expect_sha, fw->engine.model.manifest_sha256, 32) != 0) {
    fw->engine.loaded = 0;
    code = fail(j, TL_PROTO_ERR_IMAGE_INVALID, "%s: its manifest sha256 is not the one UPLOAD_BEGIN announced", name);
  }
  if (code == 0 || !fw->engine.loaded || !was_loaded) set_session_open(fw, 0, 0);
  pthread_mutex_lock(&fw->mu);
  fw->image_loaded = fw->engine.loaded;
  if (code == 0) {
    memcpy(fw->image_sha, fw->engine.model.manifest_sha256, 32);
    snprintf(fw->image_name, sizeof fw->image_name, "%s", name);
  }
  pthread_mutex_unlock(&fw->mu);
  return code;
}

static uint16_t do_image_load_path(job_t *j, const tl_proto_image_load_path_t *m) {
  char path[TL_PROTO_IMAGE_LOAD_PATH_PATH_MAX + 1];
  memcpy(path, m->path.data, m->path.len);
  path[m->path.len] = '\0';
  if (path[0] != '/') return fail(j, TL_PROTO_ERR_BAD_REQUEST, "path: \"%s\" is not an absolute path on the board", path);
  if (strlen(path) != m->path.len) return fail(j, TL_PROTO_ERR_BAD_REQUEST, "path: contains a NUL byte");
  const char *base = strrchr(path, '/') + 1;
  uint16_t code = load_image(j, path, base, NULL);
  if (code == 0) image_ok(j);
  return code;
}

/* ---- uploads: a file in the state directory, named by the upload's identity ---- */

static void upload_discard(tl_fw *fw) {
  if (fw->upload.fd >= 0) close(fw->upload.fd);
  if (fw->upload.active) unlink(fw->upload.path);
  memset(&fw->upload, 0, sizeof fw->upload);
  fw->upload.fd = -1;
}

static uint32_t chunk_max(tl_fw *fw) {
  uint32_t mp = atomic_load(&fw->peer_max_payload);
  uint32_t c = mp - 16u; /* offset u64, crc32 u32, blob length u32 */
  return c < TL_PROTO_UPLOAD_CHUNK_DATA_MAX ? c : TL_PROTO_UPLOAD_CHUNK_DATA_MAX;
}

static uint16_t do_upload_begin(job_t *j, const tl_proto_upload_begin_t *m) {
  tl_fw *fw = j->fw;
  upload_t *u = &fw->upload;
  if (m->size == 0) return fail(j, TL_PROTO_ERR_BAD_REQUEST, "size: an image is not empty");
  if (m->size > tl_hal_mem_size(fw->cfg.hal)) {
    return fail(j, TL_PROTO_ERR_IMAGE_TOO_LARGE, "an image of %llu bytes does not fit the %llu-byte DDR window", (unsigned long long)m->size,
                (unsigned long long)tl_hal_mem_size(fw->cfg.hal));
  }
  if (!(u->active && u->size == m->size && memcmp(u->sha, m->image_sha256, 32) == 0)) {
    upload_discard(fw);
    char hex[65];
    tl_sha256_hex(m->image_sha256, hex);
    snprintf(u->path, sizeof u->path, "%s/upload-%s-%llu.part", fw->cfg.state_dir, hex, (unsigned long long)m->size);
    u->fd = open(u->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (u->fd < 0) {
      int err = errno;
      upload_discard(fw);
      return fail(j, TL_PROTO_ERR_IMAGE_IO, "cannot open the upload file in %s: %s", fw->cfg.state_dir, strerror(err));
    }
    struct stat st;
    uint64_t have = fstat(u->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    u->active = 1;
    u->size = m->size;
    memcpy(u->sha, m->image_sha256, 32);
    u->received = have < m->size ? have : m->size; /* a partial upload of an earlier run resumes */
  }
  memcpy(u->name, m->name.data, m->name.len);
  u->name[m->name.len] = '\0';
  tl_proto_upload_status_t r = {u->received, chunk_max(fw)};
  SEND_MSG(fw, fw->wpayload, j->q->rid, UPLOAD_STATUS, upload_status, &r);
  return 0;
}

static uint16_t do_upload_chunk(job_t *j, const tl_proto_upload_chunk_t *m) {
  tl_fw *fw = j->fw;
  upload_t *u = &fw->upload;
  if (!u->active) return fail(j, TL_PROTO_ERR_UPLOAD_STATE, "no upload in progress (send UPLOAD_BEGIN)");
  if (m->offset != u->received) {
    return fail(j, TL_PROTO_ERR_UPLOAD_STATE, "chunk at offset %llu, expected %llu", (unsigned long long)m->offset, (unsigned long long)u->received);
  }
  if (m->data.len > chunk_max(fw)) return fail(j, TL_PROTO_ERR_BAD_REQUEST, "data: %u bytes, chunk_max is %u", m->data.len, chunk_max(fw));
  if (u->received + m->data.len > u->size) return fail(j, TL_PROTO_ERR_UPLOAD_STATE, "chunk beyond the declared size %llu", (unsigned long long)u->size);
  /* Store, then check what was stored. */
  if (pwrite(u->fd, m->data.data, m->data.len, (off_t)m->offset) != (ssize_t)m->data.len ||
      pread(u->fd, fw->img.io, m->data.len, (off_t)m->offset) != (ssize_t)m->data.len) {
    return fail(j, TL_PROTO_ERR_IMAGE_IO, "cannot store the chunk at %llu: %s", (unsigned long long)m->offset, strerror(errno));
  }
  uint32_t crc = tl_crc32(fw->img.io, m->data.len);
  if (crc != m->crc32) return fail(j, TL_PROTO_ERR_UPLOAD_CRC, "chunk at %llu: crc32 0x%08x, expected 0x%08x", (unsigned long long)m->offset, crc, m->crc32);
  u->received += m->data.len;
  tl_proto_upload_ack_t r = {u->received};
  SEND_MSG(fw, fw->wpayload, j->q->rid, UPLOAD_ACK, upload_ack, &r);
  return 0;
}

static uint16_t do_upload_commit(job_t *j) {
  tl_fw *fw = j->fw;
  upload_t *u = &fw->upload;
  if (!u->active || u->received != u->size) {
    return u->active ? fail(j, TL_PROTO_ERR_UPLOAD_STATE, "%llu of %llu bytes received", (unsigned long long)u->received, (unsigned long long)u->size)
                     : fail(j, TL_PROTO_ERR_UPLOAD_STATE, "no upload in progress");
  }
  (void)ftruncate(u->fd, (off_t)u->size);
  char path[sizeof u->path], name[sizeof u->name];
  uint8_t sha[32];
  memcpy(path, u->path, sizeof path);
  memcpy(name, u->name, sizeof name);
  memcpy(sha, u->sha, 32);
  uint16_t code = load_image(j, path, name, sha);
  upload_discard(fw); /* loaded into DDR, or refused: the file is done either way */
  if (code == 0) image_ok(j);
  return code;
}

/* ---- sessions and passes ---- */

static uint16_t do_session_open(job_t *j, const tl_proto_session_open_t *m) {
  tl_fw *fw = j->fw;
  if (!fw->engine.loaded) return fail(j, TL_PROTO_ERR_NO_IMAGE, "no image is loaded");
  uint32_t image_ctx = fw->engine.model.regs.context;
  uint32_t ctx = m->context ? m->context : image_ctx;
  if (ctx > image_ctx) return fail(j, TL_PROTO_ERR_CONTEXT, "context %u is more than the image's %u", ctx, image_ctx);
  uint16_t code = tl_engine_set_kv(&fw->engine, 0, j->detail, sizeof j->detail);
  if (code) return code;
  pthread_mutex_lock(&fw->mu);
  fw->session.sampling = (tl_sampling){0.0, 0, 1.0};
  tl_xoshiro128_seed(&fw->session.rng, 0);
  pthread_mutex_unlock(&fw->mu);
  set_session_open(fw, 1, ctx);
  session_ok(j);
  return 0;
}

static void send_logits(job_t *j, uint32_t position) {
  tl_fw *fw = j->fw;
  const uint32_t vocab = fw->engine.model.regs.vocab;
  uint32_t per = (atomic_load(&fw->peer_max_payload) - 12u) / 4u;
  if (per > LOGITS_PER_EVENT) per = LOGITS_PER_EVENT;
  memcpy(fw->logits_out, fw->engine.logits, (size_t)vocab * 4u);
  if (fw->cfg.flip_logit >= 0 && (uint64_t)fw->cfg.flip_logit < vocab) {
    uint32_t bits;
    memcpy(&bits, &fw->logits_out[fw->cfg.flip_logit], 4);
    bits ^= 1u;
    memcpy(&fw->logits_out[fw->cfg.flip_logit], &bits, 4);
  }
  for (uint32_t first = 0; first < vocab; first += per) {
    uint32_t n = vocab - first < per ? vocab - first : per;
    tl_proto_logits_t r = {position, first, {NULL, fw->logits_out + first, n}};
    SEND_MSG(fw, fw->wpayload, j->q->rid, LOGITS, logits, &r);
  }
}

static uint32_t select_token(tl_fw *fw) {
  /* Greedy: the head's own greedy id (largest logit, ties to the lower id: numerics §10). */
  if (fw->session.sampling.temperature == 0) return fw->engine.greedy;
  return tl_sample(fw->engine.logits, fw->engine.model.regs.vocab, &fw->session.sampling, &fw->session.rng, fw->order, fw->escratch);
}

static uint16_t do_step(job_t *j, uint16_t type, uint8_t flags, uint32_t kv_offset, const tl_proto_u32s_t *ids_in, uint32_t one_id) {
  tl_fw *fw = j->fw;
  tl_engine *e = &fw->engine;
  uint16_t code = require_session(j);
  if (code) return code;
  tl_proto_u32s_t single = {NULL, &one_id, 1};
  const tl_proto_u32s_t *ids = type == TL_PROTO_MSG_DECODE ? &single : ids_in;
  if (ids->count == 0) return fail(j, TL_PROTO_ERR_BAD_REQUEST, "ids: at least one id");
  if ((code = check_ids(j, ids, "ids")) != 0) return code;
  const uint32_t n = ids->count, ctx = fw->session.context;
  uint32_t ntok = 0;
  if (type == TL_PROTO_MSG_VERIFY) {
    if (kv_offset > e->kv_len) return fail(j, TL_PROTO_ERR_KV_LEN, "kv_offset %u is beyond the %u tokens in the KV cache", kv_offset, e->kv_len);
    if ((uint64_t)kv_offset + n > ctx) return fail(j, TL_PROTO_ERR_CONTEXT, "%u tokens at KV offset %u do not fit the context of %u", n, kv_offset, ctx);
    if ((code = tl_engine_set_kv(e, kv_offset, j->detail, sizeof j->detail)) != 0) return code;
    /* VERIFY passes of at most TL_ENGINE_VERIFY_MAX tokens, the head at every position (positions
     * are independent given the cache, so splitting changes no bit: docs/accelerator.md §3); the
     * selection stops after the first position whose choice is not the next draft. */
    int selecting = (flags & TL_PROTO_STEP_FLAGS_SELECT) != 0;
    for (uint32_t i0 = 0; i0 < n; i0 += TL_ENGINE_VERIFY_MAX) {
      if (cancelled(j)) {
        publish_session(fw);
        return fail(j, TL_PROTO_ERR_CANCELLED, "VERIFY cancelled after %u of %u positions", i0, n);
      }
      const uint32_t k = n - i0 < TL_ENGINE_VERIFY_MAX ? n - i0 : TL_ENGINE_VERIFY_MAX;
      if ((code = tl_engine_verify(e, fw->ids + i0, k, j->detail, sizeof j->detail)) != 0) return code;
      for (uint32_t i = i0; i < i0 + k; i++) {
        if (i > i0 && (code = tl_engine_read_record(e, i - i0, j->detail, sizeof j->detail)) != 0) return code;
        if (flags & TL_PROTO_STEP_FLAGS_LOGITS) send_logits(j, i);
        if (selecting) {
          uint32_t t = select_token(fw);
          fw->tokens[ntok++] = t;
          if (i + 1 < n && t != fw->ids[i + 1]) selecting = 0;
        }
      }
    }
  } else {
    if ((uint64_t)e->kv_len + n > ctx) {
      return fail(j, TL_PROTO_ERR_CONTEXT, "%u tokens after %u cached do not fit the context of %u", n, e->kv_len, ctx);
    }
    fw->progress_total = n;
    code = type == TL_PROTO_MSG_PREFILL ? tl_engine_prefill(e, fw->ids, n, j->detail, sizeof j->detail)
                                        : tl_engine_decode(e, fw->ids[0], j->detail, sizeof j->detail);
    if (code) return code;
    if (flags & TL_PROTO_STEP_FLAGS_LOGITS) send_logits(j, 0);
    if (flags & TL_PROTO_STEP_FLAGS_SELECT) fw->tokens[ntok++] = select_token(fw);
  }
  publish_session(fw);
  tl_proto_step_ok_t r = {e->kv_len, {NULL, fw->tokens, ntok}};
  SEND_MSG(fw, fw->wpayload, j->q->rid, STEP_OK, step_ok, &r);
  return 0;
}

/* Prompt-lookup drafts (host/src/runtime/drafts.ts, numerics §10.1): for n = 3 … 1, the last n
 * tokens of text, their most recent earlier occurrence, and up to count tokens that followed it. */
#define DRAFT_MAX_NGRAM 3u
static uint32_t prompt_lookup_drafts(const uint32_t *text, uint32_t len, uint32_t count, uint32_t *out) {
  if (count == 0 || len < 2) return 0;
  for (uint32_t n = len - 1 < DRAFT_MAX_NGRAM ? len - 1 : DRAFT_MAX_NGRAM; n >= 1; n--) {
    const uint32_t tail = len - n;
    for (uint32_t s = tail; s-- > 0;) {
      uint32_t k = 0;
      while (k < n && text[s + k] == text[tail + k]) k++;
      if (k < n) continue;
      uint32_t got = 0;
      for (uint32_t i = s + n; i < len && got < count; i++) out[got++] = text[i];
      return got;
    }
  }
  return 0;
}

/* One generation's progress (do_generate). */
typedef struct {
  uint32_t count, passes, tlen;
  uint8_t reason;
} gen_state;

/* Emit a selected token: the TOKEN event, the text the drafts come from; 1 when the generation ends with it. */
static int emit_token(job_t *j, const tl_proto_generate_t *m, gen_state *g, uint32_t id) {
  tl_fw *fw = j->fw;
  tl_proto_token_t tok = {g->count, id, g->passes};
  SEND_MSG(fw, fw->wpayload, j->q->rid, TOKEN, token, &tok);
  g->count++;
  if (g->tlen < IDS_MAX) fw->ids[g->tlen++] = id;
  if (fw->cfg.token_delay_ms) tl_hal_sleep_ms(fw->cfg.token_delay_ms);
  for (uint32_t k = 0; k < m->stop_ids.count; k++) {
    if (tl_proto_u32s_get(&m->stop_ids, k) == id) {
      g->reason = TL_PROTO_STOP_REASON_EOS;
      return 1;
    }
  }
  return g->count >= m->max_new_tokens;
}

/*
 * The generation loop of host/src/runtime/generate.ts, on the board: prefill, then select and emit
 * until a stop id, max_new_tokens or a full KV cache. With draft_tokens > 0 every pass after the
 * prompt is a VERIFY of the last emitted token x and up to draft_tokens prompt-lookup drafts (at
 * most TL_ENGINE_VERIFY_MAX - 1: one VERIFY pass holds 16 tokens); the longest prefix the model
 * itself selects is accepted and the KV length set past it (numerics §10.1). The tokens and the
 * sampler's draws are those of plain decoding; only the passes change.
 */
static uint16_t do_generate(job_t *j, const tl_proto_generate_t *m) {
  tl_fw *fw = j->fw;
  tl_engine *e = &fw->engine;
  uint16_t code = require_session(j);
  if (code) return code;
  if (m->prompt.count == 0) return fail(j, TL_PROTO_ERR_BAD_REQUEST, "prompt: at least one id");
  if ((code = check_ids(j, &m->prompt, "prompt")) != 0) return code;
  tl_sampling s = {m->temperature, m->top_k, m->top_p};
  const char *why = NULL;
  if (!tl_sampling_valid(&s, &why)) return fail(j, TL_PROTO_ERR_SAMPLING, "%s (temperature %g, top_p %g)", why, m->temperature, m->top_p);
  const uint32_t n = m->prompt.count, ctx = fw->session.context;
  if ((uint64_t)e->kv_len + n > ctx) {
    return fail(j, TL_PROTO_ERR_CONTEXT, "prompt of %u tokens after %u cached does not fit the context of %u", n, e->kv_len, ctx);
  }
  pthread_mutex_lock(&fw->mu);
  fw->session.sampling = s;
  tl_xoshiro128_seed(&fw->session.rng, m->seed);
  pthread_mutex_unlock(&fw->mu);
  const uint64_t t0 = tl_hal_now_ms();
  fw->progress_total = n;
  if ((code = tl_engine_prefill(e, fw->ids, n, j->detail, sizeof j->detail)) != 0) return code;
  publish_session(fw);
  const uint64_t t1 = tl_hal_now_ms();
  gen_state g = {0, 0, n, TL_PROTO_STOP_REASON_MAX_NEW_TOKENS};
  uint32_t pass_ids[TL_ENGINE_VERIFY_MAX];
  int done = m->max_new_tokens == 0;
  if (!done && cancelled(j)) {
    g.reason = TL_PROTO_STOP_REASON_CANCELLED;
    done = 1;
  }
  if (!done) done = emit_token(j, m, &g, select_token(fw));
  /* Here the last emitted token is not in the KV cache yet. */
  while (!done) {
    const uint32_t L = e->kv_len;
    if (L >= ctx) {
      g.reason = TL_PROTO_STOP_REASON_CONTEXT;
      break;
    }
    if (cancelled(j)) {
      g.reason = TL_PROTO_STOP_REASON_CANCELLED;
      break;
    }
    uint32_t room = m->draft_tokens;
    if (room > ctx - L - 1) room = ctx - L - 1;
    if (room > m->max_new_tokens - g.count - 1) room = m->max_new_tokens - g.count - 1;
    if (room > TL_ENGINE_VERIFY_MAX - 1) room = TL_ENGINE_VERIFY_MAX - 1;
    pass_ids[0] = fw->ids[g.tlen - 1];
    const uint32_t nd = prompt_lookup_drafts(fw->ids, g.tlen, room, pass_ids + 1);
    code = nd > 0 ? tl_engine_verify(e, pass_ids, nd + 1, j->detail, sizeof j->detail) : tl_engine_decode(e, pass_ids[0], j->detail, sizeof j->detail);
    if (code) return code;
    g.passes++;
    for (uint32_t i = 0; i <= nd; i++) {
      if (i > 0 && (code = tl_engine_read_record(e, i, j->detail, sizeof j->detail)) != 0) return code;
      const uint32_t y = select_token(fw);
      done = emit_token(j, m, &g, y);
      if (done || i == nd || y != pass_ids[i + 1]) {
        /* Keep x and the i accepted drafts; y is the next pass's first token. */
        if (e->kv_len != L + i + 1 && (code = tl_engine_set_kv(e, L + i + 1, j->detail, sizeof j->detail)) != 0) return code;
        break;
      }
    }
    publish_session(fw);
  }
  const uint64_t t2 = tl_hal_now_ms();
  publish_session(fw);
  tl_proto_generate_done_t r = {g.reason, g.count, n, g.passes, e->kv_len, (t1 - t0) * 1000u, (t2 - t1) * 1000u};
  SEND_MSG(fw, fw->wpayload, j->q->rid, GENERATE_DONE, generate_done, &r);
  return 0;
}

#define DECODE_OR_FAIL(lower, NAME, var)                                                               \
  tl_proto_##lower##_t var;                                                                            \
  {                                                                                                    \
    tl_proto_status_t st_ = tl_proto_##lower##_decode(q->payload, q->len, &var);                       \
    if (st_ != TL_PROTO_OK) return fail(j, TL_PROTO_ERR_BAD_PAYLOAD, "%s: %s", #NAME, proto_status_text(st_)); \
  }

static uint16_t run_request(job_t *j) {
  tl_fw *fw = j->fw;
  request_t *q = j->q;
  if (cancelled(j)) return fail(j, TL_PROTO_ERR_CANCELLED, "%s was cancelled before it ran", tl_proto_msg_name(q->type));
  switch (q->type) {
    case TL_PROTO_MSG_IMAGE_LOAD_PATH: {
      DECODE_OR_FAIL(image_load_path, IMAGE_LOAD_PATH, m);
      return do_image_load_path(j, &m);
    }
    case TL_PROTO_MSG_UPLOAD_BEGIN: {
      DECODE_OR_FAIL(upload_begin, UPLOAD_BEGIN, m);
      return do_upload_begin(j, &m);
    }
    case TL_PROTO_MSG_UPLOAD_CHUNK: {
      DECODE_OR_FAIL(upload_chunk, UPLOAD_CHUNK, m);
      return do_upload_chunk(j, &m);
    }
    case TL_PROTO_MSG_UPLOAD_COMMIT: {
      DECODE_OR_FAIL(upload_commit, UPLOAD_COMMIT, m);
      (void)m;
      return do_upload_commit(j);
    }
    case TL_PROTO_MSG_SESSION_OPEN: {
      DECODE_OR_FAIL(session_open, SESSION_OPEN, m);
      return do_session_open(j, &m);
    }
    case TL_PROTO_MSG_SESSION_RESET: {
      DECODE_OR_FAIL(session_reset, SESSION_RESET, m);
      (void)m;
      uint16_t code = require_session(j);
      if (!code) code = tl_engine_set_kv(&fw->engine, 0, j->detail, sizeof j->detail);
      if (!code) session_ok(j);
      return code;
    }
    case TL_PROTO_MSG_SET_KV_LEN: {
      DECODE_OR_FAIL(set_kv_len, SET_KV_LEN, m);
      uint16_t code = require_session(j);
      if (code) return code;
      if (m.kv_len > fw->engine.kv_len) return fail(j, TL_PROTO_ERR_KV_LEN, "kv_len %u is beyond the %u tokens in the KV cache", m.kv_len, fw->engine.kv_len);
      if ((code = tl_engine_set_kv(&fw->engine, m.kv_len, j->detail, sizeof j->detail)) != 0) return code;
      session_ok(j);
      return 0;
    }
    case TL_PROTO_MSG_SAMPLER: {
      DECODE_OR_FAIL(sampler, SAMPLER, m);
      uint16_t code = require_session(j);
      if (code) return code;
      tl_sampling s = {m.temperature, m.top_k, m.top_p};
      const char *why = NULL;
      if (!tl_sampling_valid(&s, &why)) return fail(j, TL_PROTO_ERR_SAMPLING, "%s (temperature %g, top_p %g)", why, m.temperature, m.top_p);
      pthread_mutex_lock(&fw->mu);
      fw->session.sampling = s;
      tl_xoshiro128_seed(&fw->session.rng, m.seed);
      pthread_mutex_unlock(&fw->mu);
      session_ok(j);
      return 0;
    }
    case TL_PROTO_MSG_PREFILL: {
      DECODE_OR_FAIL(prefill, PREFILL, m);
      return do_step(j, q->type, m.flags, 0, &m.ids, 0);
    }
    case TL_PROTO_MSG_DECODE: {
      DECODE_OR_FAIL(decode, DECODE, m);
      return do_step(j, q->type, m.flags, 0, NULL, m.id);
    }
    case TL_PROTO_MSG_VERIFY: {
      DECODE_OR_FAIL(verify, VERIFY, m);
      return do_step(j, q->type, m.flags, m.kv_offset, &m.ids, 0);
    }
    case TL_PROTO_MSG_GENERATE: {
      DECODE_OR_FAIL(generate, GENERATE, m);
      return do_generate(j, &m);
    }
    default:
      return fail(j, TL_PROTO_ERR_UNKNOWN_MESSAGE, "message type 0x%04x", q->type);
  }
}

static void *worker_main(void *arg) {
  tl_fw *fw = (tl_fw *)arg;
  job_t *job = &fw->job;
  pthread_mutex_lock(&fw->mu);
  for (;;) {
    while (!fw->quit && fw->count == 0) pthread_cond_wait(&fw->work_cv, &fw->mu);
    if (fw->quit) break;
    request_t *q = &fw->slots[fw->head];
    fw->running = 1;
    pthread_mutex_unlock(&fw->mu);
    job->fw = fw;
    job->q = q;
    job->detail[0] = '\0';
    fw->engine.accel.progress = on_progress;
    fw->engine.accel.progress_ctx = job;
    uint16_t code = run_request(job);
    if (code) send_error(fw, fw->wpayload, q->rid, code, "%s", job->detail);
    pthread_mutex_lock(&fw->mu);
    fw->running = 0;
    fw->head = (fw->head + 1u) % fw->cfg.window;
    fw->count--;
    pthread_cond_broadcast(&fw->idle_cv);
  }
  pthread_mutex_unlock(&fw->mu);
  return NULL;
}

/* ---- life cycle ---- */

tl_fw *tl_fw_create(const tl_fw_config *cfg, char *err, size_t errlen) {
  if (cfg == NULL || cfg->board == NULL || cfg->hal == NULL || cfg->send == NULL || cfg->window == 0 || cfg->state_dir == NULL ||
      cfg->max_payload < TL_PROTO_MIN_MAX_PAYLOAD || cfg->max_payload > TL_PROTO_MAX_PAYLOAD || cfg->firmware_name == NULL) {
    snprintf(err, errlen, "tl_fw_create: incomplete configuration");
    return NULL;
  }
  tl_fw *fw = calloc(1, sizeof *fw);
  if (fw == NULL) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  fw->cfg = *cfg;
  fw->start_ms = tl_hal_now_ms();
  fw->upload.fd = -1;
  const size_t frame = tl_frame_size(TL_PROTO_MAX_PAYLOAD);
  const uint32_t vocab = cfg->board->max_vocab;
  fw->rxbuf = malloc(TL_DEFRAMER_MIN_BUFFER);
  fw->txbuf = malloc(frame);
  fw->cpayload = malloc(TL_PROTO_MAX_PAYLOAD);
  fw->wpayload = malloc(TL_PROTO_MAX_PAYLOAD);
  fw->slots = calloc(cfg->window, sizeof *fw->slots);
  fw->ids = malloc(IDS_MAX * sizeof *fw->ids);
  fw->tokens = malloc(IDS_MAX * sizeof *fw->tokens);
  fw->order = malloc((size_t)vocab * sizeof *fw->order);
  fw->escratch = malloc((size_t)vocab * sizeof *fw->escratch);
  fw->logits_out = malloc((size_t)vocab * sizeof *fw->logits_out);
  int ok = fw->rxbuf && fw->txbuf && fw->cpayload && fw->wpayload && fw->slots && fw->ids && fw->tokens && fw->order && fw->escratch && fw->logits_out;
  for (uint32_t i = 0; ok && i < cfg->window; i++) ok = (fw->slots[i].payload = malloc(TL_PROTO_MAX_PAYLOAD)) != NULL;
  ok = ok && tl_deframer_init(&fw->deframer, fw->rxbuf, TL_DEFRAMER_MIN_BUFFER, cfg->max_payload);
  ok = ok && tl_image_buffers_alloc(&fw->img, cfg->manifest_cap, cfg->json_tokens, 1u << 20, cfg->sections_cap);
  ok = ok && tl_engine_init(&fw->engine, cfg->hal, cfg->board, cfg->accel_timeout_ms);
  atomic_store(&fw->peer_max_payload, TL_PROTO_MIN_MAX_PAYLOAD);
  pthread_mutex_init(&fw->tx_mu, NULL);
  pthread_mutex_init(&fw->mu, NULL);
  pthread_cond_init(&fw->work_cv, NULL);
  pthread_cond_init(&fw->idle_cv, NULL);
  if (ok) ok = pthread_create(&fw->worker, NULL, worker_main, fw) == 0;
  fw->worker_started = ok;
  if (!ok) {
    snprintf(err, errlen, "out of memory for the firmware's buffers");
    tl_fw_destroy(fw);
    return NULL;
  }
  return fw;
}

void tl_fw_destroy(tl_fw *fw) {
  if (fw == NULL) return;
  if (fw->worker_started) {
    pthread_mutex_lock(&fw->mu);
    for (uint32_t k = 0; k < fw->count; k++) atomic_store(&fw->slots[(fw->head + k) % fw->cfg.window].cancel, 1);
    fw->quit = 1;
    pthread_cond_broadcast(&fw->work_cv);
    pthread_mutex_unlock(&fw->mu);
    pthread_join(fw->worker, NULL);
  }
  if (fw->upload.fd >= 0) close(fw->upload.fd);
  tl_engine_free(&fw->engine);
  tl_image_buffers_free(&fw->img);
  for (uint32_t i = 0; fw->slots && i < fw->cfg.window; i++) free(fw->slots[i].payload);
  free(fw->slots);
  free(fw->rxbuf);
  free(fw->txbuf);
  free(fw->cpayload);
  free(fw->wpayload);
  free(fw->ids);
  free(fw->tokens);
  free(fw->order);
  free(fw->escratch);
  free(fw->logits_out);
  free(fw);
}

uint16_t tl_fw_load_image(tl_fw *fw, const char *path, char *detail, size_t len) {
  static request_t none; /* start-up only, before any request */
  job_t *job = &fw->job;
  job->fw = fw;
  job->q = &none;
  pthread_mutex_lock(&fw->mu);
  int busy = fw->count > 0;
  pthread_mutex_unlock(&fw->mu);
  if (busy) {
    snprintf(detail, len, "the firmware is running a request");
    return TL_PROTO_ERR_BUSY;
  }
  const char *base = strrchr(path, '/');
  uint16_t code = load_image(job, path, base ? base + 1 : path, NULL);
  snprintf(detail, len, "%s", job->detail);
  return code;
}
