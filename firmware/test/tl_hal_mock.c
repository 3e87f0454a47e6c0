/* The mock HAL of tl_hal_mock.h. */
#include "tl_hal_mock.h"

#include <stdlib.h>
#include <string.h>

#include "tl_registers.h"  // Generated.

tl_status_t tl_hal_open(tl_hal **out, const tl_hal_config *cfg, char *err, size_t errlen) {
  (void)cfg;
  (void)err;
  (void)errlen;
  if (out == NULL) return TL_E_ARG;
  *out = calloc(1, sizeof **out);
  if (*out == NULL) return TL_E_NOMEM;
  (*out)->regs[TL_REG_CTRL / 4] = TL_REG_CTRL_AP_IDLE_MASK;
  return TL_OK;
}

void tl_hal_close(tl_hal *h) { free(h); }
const char *tl_hal_backend(const tl_hal *h) {
  (void)h;
  return "mock";
}
const char *tl_hal_error(const tl_hal *h) { return h->error; }

int tl_mock_find_write(const tl_hal *h, uint32_t off, uint32_t from) {
  for (uint32_t i = from; i < h->writes && i < TL_MOCK_LOG; i++)
    if (h->log[i].off == off) return (int)i;
  return -1;
}

tl_status_t tl_hal_reg_read(tl_hal *h, uint32_t offset, uint32_t *value) {
  if (h == NULL || value == NULL || offset % 4u || offset >= TL_REGMAP_BYTES) return TL_E_ARG;
  *value = h->regs[offset / 4];
  return TL_OK;
}

tl_status_t tl_hal_reg_write(tl_hal *h, uint32_t offset, uint32_t value) {
  if (h == NULL || offset % 4u || offset >= TL_REGMAP_BYTES) return TL_E_ARG;
  if (h->writes < TL_MOCK_LOG) h->log[h->writes] = (tl_mock_write){offset, value};
  h->writes++;
  if (offset == TL_REG_CTRL && (value & TL_REG_CTRL_AP_START_MASK)) {
    h->starts++;
    if (h->hang) {
      h->regs[TL_REG_CTRL / 4] &= ~TL_REG_CTRL_AP_IDLE_MASK;
      return TL_OK;
    }
    h->regs[TL_REG_STATUS / 4] = h->status;
    h->regs[TL_REG_CTRL / 4] = TL_REG_CTRL_AP_IDLE_MASK | TL_REG_CTRL_AP_DONE_MASK;
    h->regs[TL_REG_ISR / 4] |= TL_REG_ISR_DONE_MASK;
    return TL_OK;
  }
  if (offset == TL_REG_ISR) {
    h->regs[offset / 4] &= ~value;
    return TL_OK;
  }
  h->regs[offset / 4] = value;
  return TL_OK;
}

tl_status_t tl_hal_wait_irq(tl_hal *h, uint32_t timeout_ms) {
  if (h == NULL) return TL_E_ARG;
  if (h->regs[TL_REG_ISR / 4] & h->regs[TL_REG_IER / 4]) return TL_OK;
  tl_hal_sleep_ms(timeout_ms);
  return TL_E_TIMEOUT;
}

uint64_t tl_hal_mem_size(const tl_hal *h) { return sizeof h->mem; }
uint64_t tl_hal_mem_device_base(const tl_hal *h) {
  (void)h;
  return 0x40000000u;
}

tl_status_t tl_hal_mem_write(tl_hal *h, uint64_t off, const void *src, size_t n) {
  if (h == NULL || off > sizeof h->mem || n > sizeof h->mem - off) return TL_E_ARG;
  memcpy(h->mem + off, src, n);
  return TL_OK;
}

tl_status_t tl_hal_mem_read(tl_hal *h, uint64_t off, void *dst, size_t n) {
  if (h == NULL || off > sizeof h->mem || n > sizeof h->mem - off) return TL_E_ARG;
  memcpy(dst, h->mem + off, n);
  return TL_OK;
}

const void *tl_hal_mem_view(tl_hal *h, uint64_t off, size_t n) {
  if (h == NULL || off > sizeof h->mem || n > sizeof h->mem - off) return NULL;
  return h->mem + off;
}
