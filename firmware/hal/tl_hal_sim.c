/* The sim backend of tl_hal.h: the virtual board's simulated accelerator (sim/vboard/tl_accel_sim.h: the HLS top of hls/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl_accel_sim.h"
#include "tl_hal.h"

struct tl_hal {
  tl_accel_sim *accel;
  uint8_t *ddr;
  uint64_t ddr_bytes;
  const char *backend;
  char error[256];
};

tl_status_t tl_hal_open(tl_hal **out, const tl_hal_config *cfg, char *err, size_t errlen) {
  if (out == NULL || cfg == NULL || cfg->board == NULL) return TL_E_ARG;
  *out = NULL;
  tl_hal *h = calloc(1, sizeof *h);
  if (h == NULL) return TL_E_NOMEM;
  tl_accel_sim_config ac = {cfg->board, cfg->sim_fidelity == TL_ACCEL_SIM_RTL ? TL_ACCEL_SIM_RTL : TL_ACCEL_SIM_CSIM,
                            cfg->sim_ddr_bytes, cfg->sim_hang};
  h->accel = tl_accel_sim_create(&ac, err, errlen);
  if (h->accel == NULL) {
    free(h);
    return TL_E_ARG;
  }
  h->ddr = tl_accel_sim_ddr(h->accel, &h->ddr_bytes);
  h->backend = ac.fidelity == TL_ACCEL_SIM_RTL ? "sim-rtl" : "sim-csim";
  *out = h;
  return TL_OK;
}

void tl_hal_close(tl_hal *h) {
  if (h == NULL) return;
  tl_accel_sim_destroy(h->accel);
  free(h);
}

const char *tl_hal_backend(const tl_hal *h) { return h->backend; }
const char *tl_hal_error(const tl_hal *h) { return h->error; }

static tl_status_t range_error(tl_hal *h, const char *what, uint64_t off, size_t n) {
  snprintf(h->error, sizeof h->error, "%s [%llu, +%zu) is outside the %llu-byte DDR window", what, (unsigned long long)off, n,
           (unsigned long long)h->ddr_bytes);
  return TL_E_ARG;
}

tl_status_t tl_hal_reg_read(tl_hal *h, uint32_t offset, uint32_t *value) {
  if (h == NULL || value == NULL || offset % 4u) return TL_E_ARG;
  *value = tl_accel_sim_read32(h->accel, offset);
  return TL_OK;
}

tl_status_t tl_hal_reg_write(tl_hal *h, uint32_t offset, uint32_t value) {
  if (h == NULL || offset % 4u) return TL_E_ARG;
  tl_accel_sim_write32(h->accel, offset, value);
  return TL_OK;
}

tl_status_t tl_hal_wait_irq(tl_hal *h, uint32_t timeout_ms) {
  if (h == NULL) return TL_E_ARG;
  return tl_accel_sim_wait_irq(h->accel, timeout_ms) ? TL_OK : TL_E_TIMEOUT;
}

uint64_t tl_hal_mem_size(const tl_hal *h) { return h->ddr_bytes; }
uint64_t tl_hal_mem_device_base(const tl_hal *h) {
  (void)h;
  return 0;
}

tl_status_t tl_hal_mem_write(tl_hal *h, uint64_t off, const void *src, size_t n) {
  if (h == NULL || (n && src == NULL)) return TL_E_ARG;
  if (off > h->ddr_bytes || n > h->ddr_bytes - off) return range_error(h, "write", off, n);
  memcpy(h->ddr + off, src, n);
  return TL_OK;
}

tl_status_t tl_hal_mem_read(tl_hal *h, uint64_t off, void *dst, size_t n) {
  if (h == NULL || (n && dst == NULL)) return TL_E_ARG;
  if (off > h->ddr_bytes || n > h->ddr_bytes - off) return range_error(h, "read", off, n);
  memcpy(dst, h->ddr + off, n);
  return TL_OK;
}

const void *tl_hal_mem_view(tl_hal *h, uint64_t off, size_t n) {
  if (h == NULL || off > h->ddr_bytes || n > h->ddr_bytes - off) return NULL;
  return h->ddr + off;
}
