/* The C ABI of the accelerator's C simulation (hls/sim/tl_hls_accel.h), used from C as the
 * firmware's sim HAL uses it: the block protocol (ap_start runs a call, ap_done is set once and
 * cleared on read, ap_idle between calls), register read-back, the status bits of a refused call,
 * SET_KV_LENGTH, and the simulation's own errors (a base outside the DDR array, an access outside
 * the register map). Register offsets and fields come from firmware/gen/tl_registers.h.
 * Prints the checks that failed and one JSON line {"cases", "mismatches", "pass"}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl_hls_accel.h"
#include "tl_registers.h"

static unsigned cases, failed;

static void expect(int ok, const char *what) {
  cases++;
  if (!ok) {
    failed++;
    fprintf(stderr, "abi_check: %s\n", what);
  }
}

static void w64(tl_hls_accel *a, uint32_t off, uint64_t v) {
  tl_hls_accel_write32(a, off, (uint32_t)v);
  tl_hls_accel_write32(a, off + 4, (uint32_t)(v >> 32));
}

/* Every m_axi base at the array's bus address. */
static void bases(tl_hls_accel *a, uint64_t base) {
  w64(a, TL_REG_DDR_ACT, base);
  w64(a, TL_REG_DDR_KV, base);
  w64(a, TL_REG_DDR_HEAD, base);
  w64(a, TL_REG_DDR_SIDE, base);
  w64(a, TL_REG_DDR_OUT, base);
  for (unsigned p = 0; p < 4; p++) w64(a, TL_REG_DDR_W(p), base);
}

static uint32_t start(tl_hls_accel *a) {
  tl_hls_accel_write32(a, TL_REG_CTRL, TL_REG_CTRL_AP_START_MASK);
  return tl_hls_accel_read32(a, TL_REG_CTRL);
}

int main(void) {
  const uint64_t bytes = 1u << 20, phys = 0x10000000u;
  void *ddr = calloc(bytes, 1);
  tl_hls_accel *a = tl_hls_accel_create(ddr, bytes, phys);
  uint32_t ctrl = tl_hls_accel_read32(a, TL_REG_CTRL);
  expect((ctrl & TL_REG_CTRL_AP_IDLE_MASK) && !(ctrl & TL_REG_CTRL_AP_DONE_MASK), "idle and not done after create");
  bases(a, phys);

  /* A command that is not one: refused with its status bit, still done. */
  tl_hls_accel_write32(a, TL_REG_COMMAND, 0);
  ctrl = start(a);
  expect((ctrl & TL_REG_CTRL_AP_DONE_MASK) != 0, "ap_done after a call");
  expect((tl_hls_accel_read32(a, TL_REG_CTRL) & TL_REG_CTRL_AP_DONE_MASK) == 0, "ap_done is cleared on read");
  expect((tl_hls_accel_read32(a, TL_REG_STATUS) & TL_REG_STATUS_BAD_COMMAND_MASK) != 0, "command 0 sets status.bad_command");
  expect(tl_hls_accel_read32(a, TL_REG_TOKENS_DONE) == 0, "a refused call processes no token");
  expect(tl_hls_accel_read32(a, TL_REG_REGMAP_VERSION) == TL_REGMAP_VERSION, "regmap_version reads the map's version");
  {
    char hex[17];
    const uint64_t h = (uint64_t)tl_hls_accel_read32(a, TL_REG_BUILD_HASH) | ((uint64_t)tl_hls_accel_read32(a, TL_REG_BUILD_HASH + 4) << 32);
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
    expect(strncmp(hex, tl_hls_accel_build_hash(), 16) == 0, "build_hash is the first 64 bits of the build's sha256");
  }
  expect(tl_hls_accel_last_error(a) == TL_HLS_ACCEL_OK, "no simulation error so far");

  /* SET_KV_LENGTH: nothing runs, kv_length reads back kv_position. */
  tl_hls_accel_write32(a, TL_REG_CONTEXT, 64);
  tl_hls_accel_write32(a, TL_REG_KV_POSITION, 5);
  tl_hls_accel_write32(a, TL_REG_COMMAND, TL_COMMAND_SET_KV_LENGTH);
  start(a);
  expect(tl_hls_accel_read32(a, TL_REG_STATUS) == 0, "set_kv_length runs");
  expect(tl_hls_accel_read32(a, TL_REG_KV_LENGTH) == 5, "kv_length reads back kv_position");

  /* A decode with shape registers beyond the build's maxima: refused. */
  tl_hls_accel_write32(a, TL_REG_COMMAND, TL_COMMAND_DECODE);
  tl_hls_accel_write32(a, TL_REG_N_TOKENS, 1);
  tl_hls_accel_write32(a, TL_REG_HIDDEN, 1u << 20);
  start(a);
  expect((tl_hls_accel_read32(a, TL_REG_STATUS) & TL_REG_STATUS_SHAPE_OVER_MAXIMA_MASK) != 0, "a hidden size over the maxima sets status.shape_over_maxima");

  /* A base outside the DDR array: the simulation refuses the call. */
  w64(a, TL_REG_DDR_KV, phys + bytes);
  start(a);
  expect(tl_hls_accel_last_error(a) == TL_HLS_ACCEL_BAD_ADDRESS, "a base past the array is TL_HLS_ACCEL_BAD_ADDRESS");
  expect(tl_hls_accel_last_error(a) == TL_HLS_ACCEL_OK, "last_error clears");

  /* Accesses outside the map or unaligned. */
  tl_hls_accel_read32(a, TL_REGMAP_BYTES);
  expect(tl_hls_accel_last_error(a) == TL_HLS_ACCEL_BAD_REGISTER, "a read past the map is TL_HLS_ACCEL_BAD_REGISTER");
  tl_hls_accel_write32(a, TL_REG_HIDDEN + 2, 1);
  expect(tl_hls_accel_last_error(a) == TL_HLS_ACCEL_BAD_REGISTER, "an unaligned write is TL_HLS_ACCEL_BAD_REGISTER");

  tl_hls_accel_destroy(a);
  free(ddr);
  printf("{\"cases\": %u, \"mismatches\": %u, \"pass\": %s}\n", cases, failed, failed ? "false" : "true");
  return failed ? 1 : 0;
}
