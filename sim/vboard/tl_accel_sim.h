/*
 * The simulated accelerator behind the firmware's `sim` HAL backend: the whole HLS top of hls/ in C
 * simulation (hls/sim/tl_hls_accel.h, build/hls/libtellme_hls_accel.a) behind what the board's
 * AXI-Lite slave adds around it: a call runs on its own thread, as the fabric does, and raises
 * ap_done and the interrupt (gie, ier, isr) when it is finished; fault injection for the
 * firmware's timeout path. One executable links one build of the accelerator library: csim (every
 * unit in C++) or rtl (the Verilated hw/rtl TLMM engine behind tlmm_engine_hls()), for one board.
 */
#ifndef TL_ACCEL_SIM_H
#define TL_ACCEL_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "tl_boards.h"  // Generated.

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tl_accel_sim tl_accel_sim;

typedef enum {
  TL_ACCEL_SIM_CSIM = 0, /* every unit in C++ (build/hls/libtellme_hls_accel.a) */
  TL_ACCEL_SIM_RTL = 1,  /* the TLMM engine is the Verilated hw/rtl engine (build/hls/libtellme_hls_accel_rtl.a) */
} tl_accel_sim_fidelity;

typedef struct {
  const tl_board_desc *board;
  tl_accel_sim_fidelity fidelity;
  /** Bytes of the DDR window (0: the board's ddr_usable_mib); reserved lazily. */
  uint64_t ddr_bytes;
  /** Fault injection for the firmware's timeout path: passes (PREFILL, DECODE, VERIFY) never finish. */
  int hang;
} tl_accel_sim_config;

/** The fidelity of the accelerator library this executable links. */
tl_accel_sim_fidelity tl_accel_sim_linked_fidelity(void);

/** Create the accelerator (NULL with a message in err when the configuration cannot be simulated). */
tl_accel_sim *tl_accel_sim_create(const tl_accel_sim_config *cfg, char *err, size_t errlen);
void tl_accel_sim_destroy(tl_accel_sim *a);

/** The DDR window as the m_axi ports see it (device address 0 is ddr[0]) and its size. */
uint8_t *tl_accel_sim_ddr(tl_accel_sim *a, uint64_t *bytes);

/** 32-bit register access at a byte offset (4-byte aligned, inside TL_REGMAP_BYTES; others read 0 / are ignored). */
uint32_t tl_accel_sim_read32(tl_accel_sim *a, uint32_t offset);
void tl_accel_sim_write32(tl_accel_sim *a, uint32_t offset, uint32_t value);

/** Wait until the interrupt line (isr & ier, gated by gie) is high, at most timeout_ms; 1 when it is. */
int tl_accel_sim_wait_irq(tl_accel_sim *a, uint32_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* TL_ACCEL_SIM_H */
