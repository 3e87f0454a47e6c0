/*
 * tellme-vboard: the virtual board. The firmware's command processor (firmware/app) with the sim
 * HAL backend over the simulated accelerator (tl_accel_sim.h: the HLS top of hls/ in C simulation),
 * reachable exactly like a board: over a
 * pseudo-terminal (openpty, raw), and optionally a loopback TCP port and the PCIe mailbox as
 * files (docs/protocol.md §10-§11, the command-line contract with host/src/transport/sim.ts).
 *
 *   tellme-vboard --fidelity csim|rtl --board NAME [--tcp PORT] [--xdma] [--state-dir DIR]
 *                 [--token-delay-ms N] [--flip-logit ID] [--accel-timeout-ms N] [--accel-hang]
 *                 [--image PATH]
 *
 * Prints "TELLME-VBOARD pty|tcp|xdma <where>" per endpoint and "TELLME-VBOARD ready" on stdout;
 * diagnostics on stderr. Exits 0 on SIGTERM/SIGINT and when stdin reaches end of file.
 *
 * One executable links one accelerator library (the HLS top is one per process): tellme-vboard the
 * csim one, tellme-vboard-rtl the one with the Verilated TLMM engine. Asked for the other fidelity,
 * each runs its sibling in the same directory with the same arguments.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "tl_accel_sim.h"
#include "tl_boards.h"  // Generated.
#include "tl_fw.h"
#include "tl_hal.h"
#include "tl_protocol.h"  // Generated.

#define VB_WRITE_TIMEOUT_MS 2000
#define VB_RING (1u << 18)
#define VB_H2C_BASE 0u
#define VB_C2H_BASE VB_RING
#define VB_OUTQ (4u << 20)

enum { EP_NONE = 0, EP_PTY, EP_TCP, EP_XDMA };

typedef struct {
  int pty_master, pty_slave;
  char pty_name[256];
  int listen_fd, client_fd;
  /* the PCIe mailbox as files */
  int xdma;
  int user_fd, mem_fd;
  char xdma_prefix[1024];
  pthread_mutex_t outq_mu;
  uint8_t *outq;
  size_t outq_len;
  uint32_t c2h_write;
  atomic_int active; /* where replies go: the endpoint that last sent bytes */
} vboard_links;

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig) {
  (void)sig;
  int saved = errno;
  if (write(sig_pipe[1], "x", 1) < 0) {
  }
  errno = saved;
}

static void die(const char *fmt, const char *arg) {
  fprintf(stderr, "tellme-vboard: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\n");
  exit(2);
}

/* ---- writing to the host (bounded: a host that stops reading is gone) ---- */

static int write_fd_bounded(int fd, const uint8_t *b, size_t n) {
  uint64_t deadline = tl_hal_now_ms() + VB_WRITE_TIMEOUT_MS;
  while (n > 0) {
    ssize_t w = write(fd, b, n);
    if (w > 0) {
      b += w;
      n -= (size_t)w;
      continue;
    }
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return 0;
    uint64_t now = tl_hal_now_ms();
    if (now >= deadline) return 0;
    struct pollfd p = {fd, POLLOUT, 0};
    (void)poll(&p, 1, (int)(deadline - now));
  }
  return 1;
}

static int vb_send(void *ctx, const uint8_t *bytes, size_t n) {
  vboard_links *l = (vboard_links *)ctx;
  switch (atomic_load(&l->active)) {
    case EP_PTY: return write_fd_bounded(l->pty_master, bytes, n);
    case EP_TCP: return l->client_fd >= 0 && write_fd_bounded(l->client_fd, bytes, n);
    case EP_XDMA: {
      pthread_mutex_lock(&l->outq_mu);
      int ok = l->outq_len + n <= VB_OUTQ;
      if (ok) {
        memcpy(l->outq + l->outq_len, bytes, n);
        l->outq_len += n;
      }
      pthread_mutex_unlock(&l->outq_mu);
      return ok;
    }
    default: return 0;
  }
}

/* A new host on the serial line: what the previous one never read is dropped. */
static void vb_on_hello(void *ctx) {
  vboard_links *l = (vboard_links *)ctx;
  if (atomic_load(&l->active) == EP_PTY) tcflush(l->pty_slave, TCIFLUSH);
}

/* ---- the PCIe mailbox (docs/protocol.md §10) over files ---- */

static uint32_t mbox_get(vboard_links *l, uint32_t reg) {
  uint8_t b[4] = {0};
  if (pread(l->user_fd, b, 4, TL_PROTO_MBOX_USER_OFFSET + reg) != 4) return 0;
  return tl_proto_get_u32(b);
}

static void mbox_set(vboard_links *l, uint32_t reg, uint32_t v) {
  uint8_t b[4];
  tl_proto_put_u32(b, v);
  if (pwrite(l->user_fd, b, 4, TL_PROTO_MBOX_USER_OFFSET + reg) != 4) fprintf(stderr, "tellme-vboard: mailbox register write failed\n");
}

static void mbox_open(vboard_links *l, const char *dir) {
  char mem[1100], name[1100];
  snprintf(l->xdma_prefix, sizeof l->xdma_prefix, "%s/xdma0", dir);
  snprintf(mem, sizeof mem, "%s/card.mem", dir);
  l->mem_fd = open(mem, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  snprintf(name, sizeof name, "%s_user", l->xdma_prefix);
  l->user_fd = open(name, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (l->mem_fd < 0 || l->user_fd < 0 || ftruncate(l->mem_fd, 2 * VB_RING) != 0 || ftruncate(l->user_fd, TL_PROTO_MBOX_USER_OFFSET + 4096) != 0) {
    die("cannot create the mailbox files in %s", dir);
  }
  /* The card's DMA channels address one card memory: two names of one file. */
  snprintf(name, sizeof name, "%s_h2c_%u", l->xdma_prefix, TL_PROTO_MBOX_H2C_CHANNEL);
  unlink(name);
  if (link(mem, name) != 0) die("cannot link %s", name);
  snprintf(name, sizeof name, "%s_c2h_%u", l->xdma_prefix, TL_PROTO_MBOX_C2H_CHANNEL);
  unlink(name);
  if (link(mem, name) != 0) die("cannot link %s", name);
  mbox_set(l, TL_PROTO_MBOX_REG_VERSION, TL_PROTO_MAJOR);
  mbox_set(l, TL_PROTO_MBOX_REG_H2C_BASE_LO, VB_H2C_BASE);
  mbox_set(l, TL_PROTO_MBOX_REG_H2C_BASE_HI, 0);
  mbox_set(l, TL_PROTO_MBOX_REG_H2C_SIZE, VB_RING);
  mbox_set(l, TL_PROTO_MBOX_REG_C2H_BASE_LO, VB_C2H_BASE);
  mbox_set(l, TL_PROTO_MBOX_REG_C2H_BASE_HI, 0);
  mbox_set(l, TL_PROTO_MBOX_REG_C2H_SIZE, VB_RING);
  mbox_set(l, TL_PROTO_MBOX_REG_MAGIC, TL_PROTO_MBOX_MAGIC); /* last: the mailbox is ready */
  l->outq = malloc(VB_OUTQ);
  if (l->outq == NULL) die("%s", "out of memory");
  l->xdma = 1;
}

/* Move bytes both ways; returns 1 when something moved. */
static int mbox_tick(vboard_links *l, tl_fw *fw) {
  static uint8_t buf[VB_RING];
  int moved = 0;
  uint32_t wr = mbox_get(l, TL_PROTO_MBOX_REG_H2C_WRITE), rd = mbox_get(l, TL_PROTO_MBOX_REG_H2C_READ);
  uint32_t avail = wr - rd;
  if (avail > 0 && avail <= VB_RING) {
    uint32_t at = rd % VB_RING, n = avail < VB_RING - at ? avail : VB_RING - at;
    if (pread(l->mem_fd, buf, n, VB_H2C_BASE + at) == (ssize_t)n) {
      mbox_set(l, TL_PROTO_MBOX_REG_H2C_READ, rd + n);
      atomic_store(&l->active, EP_XDMA);
      tl_fw_receive(fw, buf, n);
      moved = 1;
    }
  }
  pthread_mutex_lock(&l->outq_mu);
  size_t done = 0;
  while (done < l->outq_len) {
    uint32_t space = VB_RING - (l->c2h_write - mbox_get(l, TL_PROTO_MBOX_REG_C2H_READ));
    if (space == 0) break;
    uint32_t at = l->c2h_write % VB_RING;
    size_t n = l->outq_len - done;
    if (n > space) n = space;
    if (n > VB_RING - at) n = VB_RING - at;
    if (pwrite(l->mem_fd, l->outq + done, n, VB_C2H_BASE + at) != (ssize_t)n) break;
    l->c2h_write += (uint32_t)n;
    mbox_set(l, TL_PROTO_MBOX_REG_C2H_WRITE, l->c2h_write);
    done += n;
    moved = 1;
  }
  memmove(l->outq, l->outq + done, l->outq_len - done);
  l->outq_len -= done;
  pthread_mutex_unlock(&l->outq_mu);
  return moved;
}

/* ---- start-up ---- */

static const tl_board_desc *find_board(const char *name) {
  for (unsigned i = 0; i < TL_BOARD_COUNT; i++)
    if (strcmp(tl_boards[i].board_name, name) == 0) return &tl_boards[i];
  char known[512] = "";
  for (unsigned i = 0; i < TL_BOARD_COUNT; i++) {
    strncat(known, i ? ", " : "", sizeof known - strlen(known) - 1);
    strncat(known, tl_boards[i].board_name, sizeof known - strlen(known) - 1);
  }
  fprintf(stderr, "tellme-vboard: unknown board \"%s\"; known boards: %s\n", name, known);
  exit(2);
}

static void open_pty(vboard_links *l) {
  struct termios t;
  if (openpty(&l->pty_master, &l->pty_slave, l->pty_name, NULL, NULL) != 0) die("openpty failed: %s", strerror(errno));
  /* The device side raw: bytes pass unchanged (no echo, no line editing, no CR/LF mapping). */
  if (tcgetattr(l->pty_slave, &t) == 0) {
    cfmakeraw(&t);
    tcsetattr(l->pty_slave, TCSANOW, &t);
  }
  fcntl(l->pty_master, F_SETFL, fcntl(l->pty_master, F_GETFL) | O_NONBLOCK);
  fcntl(l->pty_master, F_SETFD, FD_CLOEXEC);
  fcntl(l->pty_slave, F_SETFD, FD_CLOEXEC);
}

static void open_tcp(vboard_links *l, int port, char *where, size_t len) {
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  int one = 1;
  l->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(l->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (l->listen_fd < 0 || bind(l->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(l->listen_fd, 4) != 0 ||
      getsockname(l->listen_fd, (struct sockaddr *)&a, &alen) != 0) {
    die("cannot listen on 127.0.0.1: %s", strerror(errno));
  }
  snprintf(where, len, "127.0.0.1:%u", ntohs(a.sin_port));
}

static void remove_tree(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char p[2048];
  if (d == NULL) return;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    unlink(p);
  }
  closedir(d);
  rmdir(dir);
}

/* Replace this process by the sibling executable that links the other fidelity's accelerator. */
static void exec_sibling(const char *name, char **argv) {
  static char self[4096], path[4096 + 64];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) die("%s", "cannot find this executable (/proc/self/exe)");
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  if (slash) *slash = '\0';
  snprintf(path, sizeof path, "%s/%s", self, name);
  argv[0] = path;
  execv(path, argv);
  fprintf(stderr, "tellme-vboard: this virtual board links the %s accelerator; the other fidelity is %s, which cannot run (%s): build it with `make vboard`\n",
          tl_accel_sim_linked_fidelity() == TL_ACCEL_SIM_RTL ? "rtl" : "csim", path, strerror(errno));
  exit(2);
}

static long parse_num(const char *flag, const char *v, long lo, long hi) {
  char *end = NULL;
  long n = v ? strtol(v, &end, 10) : 0;
  if (v == NULL || *v == '\0' || *end != '\0' || n < lo || n > hi) die("%s needs an integer in range", flag);
  return n;
}

int main(int argc, char **argv) {
  const char *fidelity = NULL, *board_name = NULL, *state_dir = NULL, *image = NULL;
  long tcp_port = -1, token_delay = 0, flip = -1, accel_timeout = 600000;
  int xdma = 0, hang = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--fidelity") == 0 && v) fidelity = argv[++i];
    else if (strcmp(a, "--board") == 0 && v) board_name = argv[++i];
    else if (strcmp(a, "--state-dir") == 0 && v) state_dir = argv[++i];
    else if (strcmp(a, "--image") == 0 && v) image = argv[++i];
    else if (strcmp(a, "--tcp") == 0) tcp_port = parse_num(a, v, 0, 65535), i++;
    else if (strcmp(a, "--token-delay-ms") == 0) token_delay = parse_num(a, v, 0, 600000), i++;
    else if (strcmp(a, "--flip-logit") == 0) flip = parse_num(a, v, 0, 1L << 30), i++;
    else if (strcmp(a, "--accel-timeout-ms") == 0) accel_timeout = parse_num(a, v, 1, 86400000), i++;
    else if (strcmp(a, "--accel-hang") == 0) hang = 1;
    else if (strcmp(a, "--xdma") == 0) xdma = 1;
    else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      printf("usage: tellme-vboard --fidelity csim|rtl --board NAME [--tcp PORT] [--xdma] [--state-dir DIR]\n"
             "                     [--token-delay-ms N] [--flip-logit ID] [--accel-timeout-ms N] [--accel-hang] [--image PATH]\n");
      return 0;
    } else {
      die("unknown or incomplete argument %s (see --help)", a);
    }
  }
  if (fidelity == NULL || (strcmp(fidelity, "csim") != 0 && strcmp(fidelity, "rtl") != 0)) die("%s", "--fidelity csim|rtl is required");
  if (board_name == NULL) die("%s", "--board NAME is required");
  const tl_board_desc *board = find_board(board_name);
  const tl_accel_sim_fidelity want = strcmp(fidelity, "rtl") == 0 ? TL_ACCEL_SIM_RTL : TL_ACCEL_SIM_CSIM;
  if (want != tl_accel_sim_linked_fidelity()) exec_sibling(want == TL_ACCEL_SIM_RTL ? "tellme-vboard-rtl" : "tellme-vboard", argv);

  static char tmp_state[256];
  int own_state = 0;
  if (state_dir == NULL) {
    snprintf(tmp_state, sizeof tmp_state, "%s/tellme-vboard-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(tmp_state) == NULL) die("cannot create a state directory: %s", strerror(errno));
    state_dir = tmp_state;
    own_state = 1;
  } else if (mkdir(state_dir, 0700) != 0 && errno != EEXIST) {
    die("cannot create --state-dir %s", state_dir);
  }

  char err[512] = "";
  tl_hal *hal = NULL;
  tl_hal_config hc;
  memset(&hc, 0, sizeof hc);
  hc.board = board;
  hc.sim_fidelity = want;
  hc.sim_hang = hang;
  if (tl_hal_open(&hal, &hc, err, sizeof err) != TL_OK) die("%s", err);

  static vboard_links links;
  links.pty_master = links.pty_slave = links.listen_fd = links.client_fd = links.user_fd = links.mem_fd = -1;
  pthread_mutex_init(&links.outq_mu, NULL);
  atomic_store(&links.active, EP_NONE);

  tl_fw_config fc;
  memset(&fc, 0, sizeof fc);
  fc.board = board;
  fc.hal = hal;
  fc.firmware_name = "tellme-fw 0.1.0";
  fc.state_dir = state_dir;
  fc.window = 2;
  fc.max_payload = TL_PROTO_MAX_PAYLOAD;
  fc.accel_timeout_ms = (uint32_t)accel_timeout;
  fc.token_delay_ms = (uint32_t)token_delay;
  fc.flip_logit = flip;
  fc.manifest_cap = 64u << 20;
  fc.json_tokens = 4u << 20;
  fc.sections_cap = 65536;
  fc.send = vb_send;
  fc.send_ctx = &links;
  fc.on_hello = vb_on_hello;
  tl_fw *fw = tl_fw_create(&fc, err, sizeof err);
  if (fw == NULL) die("%s", err);
  if (image) {
    char detail[600];
    if (tl_fw_load_image(fw, image, detail, sizeof detail) != 0) die("%s", detail);
  }

  if (pipe(sig_pipe) != 0) die("%s", "pipe failed");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  open_pty(&links);
  printf("TELLME-VBOARD pty %s\n", links.pty_name);
  if (tcp_port >= 0) {
    char where[64];
    open_tcp(&links, (int)tcp_port, where, sizeof where);
    printf("TELLME-VBOARD tcp %s\n", where);
  }
  if (xdma) {
    mbox_open(&links, state_dir);
    printf("TELLME-VBOARD xdma %s\n", links.xdma_prefix);
  }
  printf("TELLME-VBOARD ready\n");
  fflush(stdout);

  static uint8_t buf[65536];
  int running = 1;
  while (running) {
    struct pollfd p[5];
    int np = 0, ip_pty, ip_listen = -1, ip_client = -1, ip_stdin, ip_sig;
    p[ip_pty = np++] = (struct pollfd){links.pty_master, POLLIN, 0};
    p[ip_stdin = np++] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
    p[ip_sig = np++] = (struct pollfd){sig_pipe[0], POLLIN, 0};
    if (links.listen_fd >= 0) p[ip_listen = np++] = (struct pollfd){links.listen_fd, POLLIN, 0};
    if (links.client_fd >= 0) p[ip_client = np++] = (struct pollfd){links.client_fd, POLLIN, 0};
    int idle_ms = links.xdma ? 1 : 50;
    int r = poll(p, (nfds_t)np, idle_ms);
    if (r < 0 && errno != EINTR) break;
    if (r > 0) {
      if (p[ip_sig].revents) running = 0;
      if (p[ip_stdin].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n <= 0) running = 0; /* the host that started us is gone */
      }
      if (p[ip_pty].revents & POLLIN) {
        ssize_t n = read(links.pty_master, buf, sizeof buf);
        if (n > 0) {
          atomic_store(&links.active, EP_PTY);
          tl_fw_receive(fw, buf, (size_t)n);
        }
      }
      if (ip_listen >= 0 && (p[ip_listen].revents & POLLIN)) {
        int c = accept4(links.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (c >= 0) {
          int one = 1;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          if (links.client_fd >= 0) close(links.client_fd); /* a new connection replaces the old one */
          links.client_fd = c;
          atomic_store(&links.active, EP_TCP);
          tl_fw_link_changed(fw);
          ip_client = -1;
        }
      }
      if (ip_client >= 0 && (p[ip_client].revents & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t n = read(links.client_fd, buf, sizeof buf);
        if (n > 0) {
          atomic_store(&links.active, EP_TCP);
          tl_fw_receive(fw, buf, (size_t)n);
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          int was = atomic_load(&links.active) == EP_TCP;
          close(links.client_fd);
          links.client_fd = -1;
          if (was) atomic_store(&links.active, EP_NONE);
        }
      }
    }
    if (links.xdma) {
      while (mbox_tick(&links, fw)) {
      }
    }
    tl_fw_poll(fw);
  }
  /* Shut down without waiting for a long accelerator call: the process ends here. */
  if (links.xdma) mbox_set(&links, TL_PROTO_MBOX_REG_MAGIC, 0);
  if (own_state) remove_tree(state_dir);
  fflush(stderr);
  _exit(0);
}
