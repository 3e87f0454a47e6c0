/*
 * The kv260 backend of tl_hal.h (Linux on the KV260's Cortex-A53s):
 *   registers  mmap of the accelerator's UIO device (/dev/uioN, map cfg->uio_map: offset map * page size);
 *   interrupt  UIO: write 1 to the device to unmask, poll() with the timeout, read the event count;
 *   DDR window a u-dma-buf buffer (/dev/udmabufN, physically contiguous, cached mapping), whose
 *              physical address and size come from sysfs; the CPU's caches are cleaned before the
 *              accelerator reads (sync_for_device) and invalidated before the CPU reads what it
 *              wrote (sync_for_cpu), through u-dma-buf's sync_offset/sync_size/sync_direction files.
 * Built (make firmware, aarch64 and x86-64); not run here: there is no board on this machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tl_hal.h"
#include "tl_registers.h"  // Generated.

struct tl_hal {
  int uio_fd, buf_fd;
  volatile uint32_t *regs;
  size_t regs_bytes;
  uint8_t *mem;
  uint64_t mem_bytes, phys;
  char sysfs[256];
  char error[512];
};

static tl_status_t failf(char *err, size_t len, tl_status_t s, const char *what, const char *path) {
  if (err && len) snprintf(err, len, "%s %s: %s", what, path, strerror(errno));
  return s;
}

static int read_sysfs_u64(const char *dir, const char *name, uint64_t *v) {
  char p[320], b[64] = "";
  snprintf(p, sizeof p, "%s/%s", dir, name);
  FILE *f = fopen(p, "r");
  if (f == NULL) return 0;
  int ok = fgets(b, sizeof b, f) != NULL;
  fclose(f);
  char *end = NULL;
  *v = ok ? strtoull(b, &end, 0) : 0;
  return ok && end != b;
}

static int write_sysfs(const tl_hal *h, const char *name, uint64_t v) {
  char p[320], b[32];
  snprintf(p, sizeof p, "%s/%s", h->sysfs, name);
  int fd = open(p, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int n = snprintf(b, sizeof b, "%" PRIu64, v);
  int ok = write(fd, b, (size_t)n) == n;
  close(fd);
  return ok;
}

/* u-dma-buf's manual cache maintenance of [off, off + n): direction 1 to the device, 2 from it. */
static tl_status_t sync_range(tl_hal *h, uint64_t off, size_t n, int to_device) {
  if (n == 0) return TL_OK;
  if (!write_sysfs(h, "sync_offset", off) || !write_sysfs(h, "sync_size", n) || !write_sysfs(h, "sync_direction", to_device ? 1u : 2u) ||
      !write_sysfs(h, to_device ? "sync_for_device" : "sync_for_cpu", 1)) {
    snprintf(h->error, sizeof h->error, "cache maintenance through %s failed: %s", h->sysfs, strerror(errno));
    return TL_E_IO;
  }
  return TL_OK;
}

tl_status_t tl_hal_open(tl_hal **out, const tl_hal_config *cfg, char *err, size_t errlen) {
  if (out == NULL || cfg == NULL || cfg->board == NULL || cfg->uio_device == NULL || cfg->udmabuf_device == NULL || cfg->udmabuf_sysfs == NULL)
    return TL_E_ARG;
  *out = NULL;
  tl_hal *h = calloc(1, sizeof *h);
  if (h == NULL) return TL_E_NOMEM;
  h->uio_fd = h->buf_fd = -1;
  snprintf(h->sysfs, sizeof h->sysfs, "%s", cfg->udmabuf_sysfs);
  tl_status_t s = TL_OK;
  const long page = sysconf(_SC_PAGESIZE);
  h->regs_bytes = ((size_t)TL_REGMAP_BYTES + (size_t)page - 1) / (size_t)page * (size_t)page;
  if ((h->uio_fd = open(cfg->uio_device, O_RDWR | O_CLOEXEC)) < 0) {
    s = failf(err, errlen, TL_E_IO, "cannot open", cfg->uio_device);
  } else {
    void *r = mmap(NULL, h->regs_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, h->uio_fd, (off_t)cfg->uio_map * page);
    if (r == MAP_FAILED) s = failf(err, errlen, TL_E_IO, "cannot map the registers of", cfg->uio_device);
    else h->regs = (volatile uint32_t *)r;
  }
  if (s == TL_OK && (!read_sysfs_u64(h->sysfs, "phys_addr", &h->phys) || !read_sysfs_u64(h->sysfs, "size", &h->mem_bytes))) {
    s = failf(err, errlen, TL_E_IO, "cannot read phys_addr and size in", h->sysfs);
  }
  if (s == TL_OK && (h->buf_fd = open(cfg->udmabuf_device, O_RDWR | O_CLOEXEC)) < 0) s = failf(err, errlen, TL_E_IO, "cannot open", cfg->udmabuf_device);
  if (s == TL_OK) {
    void *m = mmap(NULL, h->mem_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, h->buf_fd, 0);
    if (m == MAP_FAILED) s = failf(err, errlen, TL_E_IO, "cannot map", cfg->udmabuf_device);
    else h->mem = m;
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
  if (h->regs) munmap((void *)h->regs, h->regs_bytes);
  if (h->mem) munmap(h->mem, h->mem_bytes);
  if (h->uio_fd >= 0) close(h->uio_fd);
  if (h->buf_fd >= 0) close(h->buf_fd);
  free(h);
}

const char *tl_hal_backend(const tl_hal *h) {
  (void)h;
  return "kv260";
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
  uint32_t unmask = 1, count = 0;
  if (write(h->uio_fd, &unmask, sizeof unmask) != (ssize_t)sizeof unmask) {
    snprintf(h->error, sizeof h->error, "cannot unmask the UIO interrupt: %s", strerror(errno));
    return TL_E_IO;
  }
  struct pollfd p = {h->uio_fd, POLLIN, 0};
  int r = poll(&p, 1, (int)timeout_ms);
  if (r == 0) return TL_E_TIMEOUT;
  if (r < 0 || read(h->uio_fd, &count, sizeof count) != (ssize_t)sizeof count) {
    snprintf(h->error, sizeof h->error, "waiting for the UIO interrupt failed: %s", strerror(errno));
    return TL_E_IO;
  }
  return TL_OK;
}

uint64_t tl_hal_mem_size(const tl_hal *h) { return h->mem_bytes; }
uint64_t tl_hal_mem_device_base(const tl_hal *h) { return h->phys; }

static int in_window(tl_hal *h, uint64_t off, size_t n) {
  if (off <= h->mem_bytes && n <= h->mem_bytes - off) return 1;
  snprintf(h->error, sizeof h->error, "[%" PRIu64 ", +%zu) is outside the %" PRIu64 "-byte DMA buffer", off, n, h->mem_bytes);
  return 0;
}

tl_status_t tl_hal_mem_write(tl_hal *h, uint64_t off, const void *src, size_t n) {
  if (h == NULL || (n && src == NULL)) return TL_E_ARG;
  if (!in_window(h, off, n)) return TL_E_ARG;
  memcpy(h->mem + off, src, n);
  return sync_range(h, off, n, 1);
}

tl_status_t tl_hal_mem_read(tl_hal *h, uint64_t off, void *dst, size_t n) {
  if (h == NULL || (n && dst == NULL)) return TL_E_ARG;
  if (!in_window(h, off, n)) return TL_E_ARG;
  tl_status_t s = sync_range(h, off, n, 0);
  if (s == TL_OK) memcpy(dst, h->mem + off, n);
  return s;
}

const void *tl_hal_mem_view(tl_hal *h, uint64_t off, size_t n) {
  if (h == NULL || !in_window(h, off, n) || sync_range(h, off, n, 0) != TL_OK) return NULL;
  return h->mem + off;
}
