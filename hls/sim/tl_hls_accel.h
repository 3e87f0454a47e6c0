/* The accelerator in C simulation behind a register file: the C ABI the firmware's `sim` HAL
 * backend (and hls/csim/accel_tb.cpp) links. It is what the board's AXI-Lite slave and DDR look
 * like to the firmware: 32-bit register reads and writes at the offsets of
 * firmware/gen/tl_registers.h, and one DDR array that the accelerator's m_axi ports reach.
 *
 *   tl_hls_accel *a = tl_hls_accel_create(ddr, ddr_bytes, ddr_phys_base);
 *   tl_hls_accel_write32(a, TL_REG_HIDDEN, 2048); ...          shape, DDR bases, offsets
 *   tl_hls_accel_write32(a, TL_REG_COMMAND, TL_COMMAND_DECODE); ...
 *   tl_hls_accel_write32(a, TL_REG_CTRL, TL_REG_CTRL_AP_START_MASK);   runs the whole call
 *   while (!(tl_hls_accel_read32(a, TL_REG_CTRL) & TL_REG_CTRL_AP_DONE_MASK)) {}
 *   status = tl_hls_accel_read32(a, TL_REG_STATUS);
 *
 * A write of ap_start runs the call to its end before returning (the C simulation has no clock;
 * CYCLES reads the modelled cycles of the call). ap_done is then set, cleared on read (as in the
 * Vitis block protocol); ap_idle reads 1 between calls. The m_axi base registers (ddr_act ..
 * ddr_w<p>) hold bus addresses: the simulation maps address A to ddr + (A - ddr_phys_base) and
 * ends the call with TL_HLS_ACCEL_BAD_ADDRESS when a base lies outside the array.
 *
 * Built as build/hls/libtellme_hls_accel.a (`make build/hls/libtellme_hls_accel.a`); C++17 inside,
 * so link with g++ (or add -lstdc++ -lpthread). One accelerator per process (the kernels keep
 * their on-chip memories in statics, as the hardware has one of each). */
#ifndef TL_HLS_ACCEL_H
#define TL_HLS_ACCEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tl_hls_accel tl_hls_accel;

/* Results of tl_hls_accel_last_error (the register STATUS holds the accelerator's own errors). */
#define TL_HLS_ACCEL_OK 0
#define TL_HLS_ACCEL_BAD_ADDRESS 1 /* an m_axi base register points outside the DDR array */
#define TL_HLS_ACCEL_BAD_REGISTER 2 /* an access outside the register map or not 4-byte aligned */

/* ddr: the DDR array (at least ddr_bytes); ddr_phys_base: the bus address of its first byte. */
tl_hls_accel *tl_hls_accel_create(void *ddr, uint64_t ddr_bytes, uint64_t ddr_phys_base);
void tl_hls_accel_destroy(tl_hls_accel *a);

void tl_hls_accel_write32(tl_hls_accel *a, uint32_t offset, uint32_t value);
uint32_t tl_hls_accel_read32(tl_hls_accel *a, uint32_t offset);

/* The error of the last register access or call (TL_HLS_ACCEL_*), then cleared. */
int tl_hls_accel_last_error(tl_hls_accel *a);

/* The hardware build this library simulates (the build hash's 64 hex digits, e.g. for logs). */
const char *tl_hls_accel_build_hash(void);

#ifdef __cplusplus
}
#endif

#endif /* TL_HLS_ACCEL_H */
