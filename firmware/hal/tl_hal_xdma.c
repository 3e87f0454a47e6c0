/*
 * The xdma backend of tl_hal.h: the firmware on the PC of a PCIe card behind AMD's XDMA driver.
 *   registers  mmap of /dev/xdmaN_user (the user BAR), at cfg->xdma_user_offset;
 *   completion the accelerator's ISR register polled every millisecond up to the timeout (the
 *              driver's events device needs the card's interrupt wiring, which no build has yet);
 *   DDR window card memory at cfg->xdma_card_base, reached only by DMA: pwrite on
 *              /dev/xdmaN_h2c_C and pread on /dev/xdmaN_c2h_C at the card address, in pieces of at
 *              most xdma_max_transfer (Linux moves at most 0x7ffff000 bytes per call); a short
 *              transfer is an error (TL_E_SHORT), never retried silently. No CPU mapping
 *              (tl_hal_mem_view is NULL: the caller copies).
 * Built (make firmware); not run here: there is no card on this machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tl_hal.h"
#include "tl_registers.h"  // Generated.

#define XDMA_LINUX_MAX_TRANSFER 0x7ffff000ull

struct tl_hal {
  int user_fd, h2c_fd, c2h_fd;
  uint8_t *user;
  size_t user_bytes;
  volatile uint32_t *regs;
  uint64_t card_base, card_bytes, max_transfer;
  char error[512];
};

static tl_status_t open_dev(int *fd, const char *prefix, const char *suffix, int flags, char *err, size_t len) {
  char p[512];
  snprintf(p, sizeof p, "%s%s", prefix, suffix);
  *fd = open(p, flags | O_CLOEXEC);
  if (*fd >= 0) return TL_OK;
  if (err && len) snprintf(err, len, "cannot open %s: %s (is the XDMA driver loaded?)", p, strerror(errno));
  return TL_E_IO;
}

tl_status_t tl_hal_open(tl_hal **out, const tl_hal_config *cfg, char *err, size_t errlen) {
  if (out == NULL || cfg == NULL || cfg->board == NULL || cfg->xdma_prefix == NULL || cfg->xdma_card_bytes == 0) return TL_E_ARG;
  *out = NULL;
  tl_hal *h = calloc(1, sizeof *h);
  if (h == NULL) return TL_E_NOMEM;
  h->user_fd = h->h2c_fd = h->c2h_fd = -1;
  h->card_base = cfg->xdma_card_base;
  h->card_bytes = cfg->xdma_card_bytes;
  h->max_transfer = cfg->xdma_max_transfer && cfg->xdma_max_transfer < XDMA_LINUX_MAX_TRANSFER ? cfg->xdma_max_transfer : XDMA_LINUX_MAX_TRANSFER;
  char h2c[32], c2h[32];
  snprintf(h2c, sizeof h2c, "_h2c_%u", cfg->xdma_channel);
  snprintf(c2h, sizeof c2h, "_c2h_%u", cfg->xdma_channel);
  tl_status_t s = open_dev(&h->user_fd, cfg->xdma_prefix, "_user", O_RDWR | O_SYNC, err, errlen);
  if (s == TL_OK) s = open_dev(&h->h2c_fd, cfg->xdma_prefix, h2c, O_WRONLY, err, errlen);
  if (s == TL_OK) s = open_dev(&h->c2h_fd, cfg->xdma_prefix, c2h, O_RDONLY, err, errlen);
  if (s == TL_OK) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    const size_t base = cfg->xdma_user_offset / page * page;
    h->user_bytes = (cfg->xdma_user_offset - base + TL_REGMAP_BYTES + page - 1) / page * page;
    void *m = mmap(NULL, h->user_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, h->user_fd, (off_t)base);
    if (m == MAP_FAILED) {
      if (err && errlen) snprintf(err, errlen, "cannot map %s_user: %s", cfg->xdma_prefix, strerror(errno));
      s = TL_E_IO;
    } else {
      h->user = m;
      h->regs = (volatile uint32_t *)(h->user + (cfg->xdma_user_offset - base));
    }
  }
  if (s != TL_OK) {
    tl_hal_close(h);
    return s;
  }
  *out = h;
  return TL_OK;
}

void tl_hal_close(tl_hal *h) {
  if (h == NULL) return;
  if (h->user) munmap(h->user, h->user_bytes);
  if (h->user_fd >= 0) close(h->user_fd);
  if (h->h2c_fd >= 0) close(h->h2c_fd);
  if (h->c2h_fd >= 0) close(h->c2h_fd);
  free(h);
}

const char *tl_hal_backend(const tl_hal *h) {
  (void)h;
  return "xdma";
}
const char *tl_hal_error(const tl_hal *h) { return h->error; }

tl_status_t tl_hal_reg_read(tl_hal *h, uint32_t offset, uint32_t *value) {
  if (h == NULL || value == NULL || offset % 4u || offset >= TL_REGMAP_BYTES) return TL_E_ARG;
  *value = h->regs[offset / 4];
  return TL_OK;
}

tl_status_t tl_hal_reg_write(tl_hal *h, uint32_t offset, uint32_t value) {
  if (h == NULL || offset % 4u || offset >= TL_REGMAP_BYTES) return TL_E_ARG;
  h->regs[offset / 4] = value;
  return TL_OK;
}

tl_status_t tl_hal_wait_irq(tl_hal *h, uint32_t timeout_ms) {
  if (h == NULL) return TL_E_ARG;
  const uint64_t deadline = tl_hal_now_ms() + timeout_ms;
  for (;;) {
    if (h->regs[TL_REG_ISR / 4] & h->regs[TL_REG_IER / 4]) return TL_OK;
    if (tl_hal_now_ms() >= deadline) return TL_E_TIMEOUT;
    tl_hal_sleep_ms(1);
  }
}

uint64_t tl_hal_mem_size(const tl_hal *h) { return h->card_bytes; }
uint64_t tl_hal_mem_device_base(const tl_hal *h) { return h->card_base; }

/* One DMA direction over [off, off + n) of the window, in pieces of at most max_transfer. */
static tl_status_t dma(tl_hal *h, int to_card, uint64_t off, uint8_t *buf, size_t n) {
  if (off > h->card_bytes || n > h->card_bytes - off) {
    snprintf(h->error, sizeof h->error, "[%" PRIu64 ", +%zu) is outside the %" PRIu64 "-byte card window", off, n, h->card_bytes);
    return TL_E_ARG;
  }
  while (n > 0) {
    const size_t k = n < h->max_transfer ? n : (size_t)h->max_transfer;
    const off_t at = (off_t)(h->card_base + off);
    const ssize_t r = to_card ? pwrite(h->h2c_fd, buf, k, at) : pread(h->c2h_fd, buf, k, at);
    if (r != (ssize_t)k) {
      snprintf(h->error, sizeof h->error, "%s of %zu bytes at card address 0x%" PRIx64 " moved %zd: %s", to_card ? "H2C" : "C2H", k,
               (uint64_t)at, r, r < 0 ? strerror(errno) : "short transfer");
      return r < 0 ? TL_E_IO : TL_E_SHORT;
    }
    buf += k;
    off += k;
    n -= k;
  }
  return TL_OK;
}

tl_status_t tl_hal_mem_write(tl_hal *h, uint64_t off, const void *src, size_t n) {
  if (h == NULL || (n && src == NULL)) return TL_E_ARG;
  return dma(h, 1, off, (uint8_t *)(uintptr_t)src, n);
}

tl_status_t tl_hal_mem_read(tl_hal *h, uint64_t off, void *dst, size_t n) {
  if (h == NULL || (n && dst == NULL)) return TL_E_ARG;
  return dma(h, 0, off, dst, n);
}

const void *tl_hal_mem_view(tl_hal *h, uint64_t off, size_t n) {
  (void)h;
  (void)off;
  (void)n;
  return NULL;
}
