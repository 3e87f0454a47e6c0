/*
 * The hardware abstraction of the firmware: the accelerator's 32-bit registers (offsets from
 * firmware/gen/tl_registers.h), its completion interrupt, and the DDR window the accelerator's
 * m_axi ports read (the model image, the KV cache, scratch and logits live there). One interface,
 * three backends chosen at link time:
 *   tl_hal_kv260.c  Linux UIO: mmap of the register space, interrupt through read/poll on
 *                   /dev/uioN; the DDR window is a u-dma-buf buffer (physically contiguous),
 *                   with cache flush before the accelerator reads and invalidate before the CPU does.
 *   tl_hal_xdma.c   the PC side of a PCIe card: registers by mmap of /dev/xdmaN_user, the card's
 *                   DDR by pwrite/pread on /dev/xdmaN_h2c_C / _c2h_C in chunks of at most
 *                   0x7ffff000 bytes; a short transfer is an error.
 *   tl_hal_sim.c    the simulated accelerator of the virtual board (sim/vboard/tl_accel_sim.h: the HLS top).
 * Platform #ifdefs live in the backends only. Every call checks its arguments, returns a status
 * and is warn_unused_result; a failure writes a one-line reason (tl_hal_error) for the reply.
 */
#ifndef TL_HAL_H
#define TL_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "tl_boards.h"  // Generated.
#include "tl_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tl_hal tl_hal;

typedef struct {
  /** The hardware build this firmware drives (its hash is checked against the accelerator's build_hash register). */
  const tl_board_desc *board;
  /* kv260 */
  const char *uio_device;     /* e.g. /dev/uio0 */
  uint32_t uio_map;           /* map index of the register space (mmap offset map * page size) */
  const char *udmabuf_device; /* e.g. /dev/udmabuf0 */
  const char *udmabuf_sysfs;  /* e.g. /sys/class/u-dma-buf/udmabuf0 (phys_addr, size, sync_*) */
  /* xdma */
  const char *xdma_prefix;    /* e.g. /dev/xdma0: _user, _h2c_<channel>, _c2h_<channel> */
  uint32_t xdma_channel;
  uint64_t xdma_card_base;    /* card address of the DDR window */
  uint64_t xdma_card_bytes;   /* its size */
  uint32_t xdma_user_offset;  /* offset of the accelerator's registers in the user BAR */
  uint64_t xdma_max_transfer; /* largest pread/pwrite (0: 0x7ffff000, Linux's cap) */
  /* sim */
  int sim_fidelity;           /* tl_accel_sim_fidelity */
  int sim_hang;               /* fault injection: accelerator calls never finish */
  uint64_t sim_ddr_bytes;     /* 0: the board's ddr_usable_mib */
} tl_hal_config;

/** Open the backend; on failure *out is NULL and err says why (device, errno text). */
TL_MUST_USE tl_status_t tl_hal_open(tl_hal **out, const tl_hal_config *cfg, char *err, size_t errlen);
void tl_hal_close(tl_hal *h);

/** "kv260", "xdma", "sim-csim" or "sim-rtl" (HELLO_OK.backend). */
const char *tl_hal_backend(const tl_hal *h);

/** The reason for the last failed call of this HAL. */
const char *tl_hal_error(const tl_hal *h);

TL_MUST_USE tl_status_t tl_hal_reg_read(tl_hal *h, uint32_t offset, uint32_t *value);
TL_MUST_USE tl_status_t tl_hal_reg_write(tl_hal *h, uint32_t offset, uint32_t value);

/** Wait for the accelerator's interrupt (at most timeout_ms): TL_OK when it fired, TL_E_TIMEOUT when not. */
TL_MUST_USE tl_status_t tl_hal_wait_irq(tl_hal *h, uint32_t timeout_ms);

/** Bytes of the DDR window, and the address the accelerator's ports see for its byte 0. */
uint64_t tl_hal_mem_size(const tl_hal *h);
uint64_t tl_hal_mem_device_base(const tl_hal *h);

/** Copy into the DDR window at byte offset off (then visible to the accelerator: caches flushed). */
TL_MUST_USE tl_status_t tl_hal_mem_write(tl_hal *h, uint64_t off, const void *src, size_t n);
/** Copy out of the DDR window (what the accelerator wrote: caches invalidated first). */
TL_MUST_USE tl_status_t tl_hal_mem_read(tl_hal *h, uint64_t off, void *dst, size_t n);

/**
 * A CPU pointer to [off, off + n) of the window for reading in place (the LM head streams its rows
 * this way), after making the accelerator's writes visible; NULL where the backend has no mapping
 * (xdma: card memory is reached only by DMA; the caller then copies with tl_hal_mem_read).
 */
const void *tl_hal_mem_view(tl_hal *h, uint64_t off, size_t n);

/** Milliseconds of a monotonic clock. */
uint64_t tl_hal_now_ms(void);
/** Sleep for ms milliseconds. */
void tl_hal_sleep_ms(uint32_t ms);

#ifdef __cplusplus
}
#endif

#endif /* TL_HAL_H */
