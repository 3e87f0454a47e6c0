/*
 * A mock backend of tl_hal.h for the driver's unit tests: a register file that logs every write
 * (offset, value) so a test can expect them by generated name, an accelerator whose ap_start
 * completes at once with a chosen status (or never: the timeout path), and a plain DDR array.
 */
#ifndef TL_HAL_MOCK_H
#define TL_HAL_MOCK_H

#include "tl_hal.h"
#include "tl_registers.h"  // Generated.

#define TL_MOCK_LOG 4096

typedef struct {
  uint32_t off, value;
} tl_mock_write;

/** The mock's state (tl_hal is this struct; tl_hal_open with any configuration gives a fresh one). */
struct tl_hal {
  uint32_t regs[TL_REGMAP_BYTES / 4];
  tl_mock_write log[TL_MOCK_LOG];
  uint32_t writes;
  /** What ap_start does: 0 completes at once with status `status`, 1 never completes. */
  int hang;
  uint32_t status;
  uint32_t starts;
  uint8_t mem[1u << 16];
  char error[128];
};

/** Index of the first logged write to off at or after index from, or -1. */
int tl_mock_find_write(const tl_hal *h, uint32_t off, uint32_t from);

#endif /* TL_HAL_MOCK_H */
