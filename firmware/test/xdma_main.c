/*
 * fw_xdma: the xdma HAL backend (hal/tl_hal_xdma.c) against files standing in for the XDMA
 * character devices — a user-BAR file mapped for the registers, and one card-memory file under
 * the _h2c_0 and _c2h_0 names (the driver's DMA devices address the same card memory) — so its
 * register mapping, its chunking of DMA transfers and its short-transfer error run here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tl_hal.h"
#include "tl_registers.h"  // Generated.
#include "tl_test.h"

static char dir[] = "/tmp/tellme-fw-xdma-XXXXXX";
static char prefix[64];

static void make_files(size_t card_bytes) {
  char p[128], mem[128];
  snprintf(prefix, sizeof prefix, "%s/xdma0", dir);
  snprintf(p, sizeof p, "%s_user", prefix);
  FILE *f = fopen(p, "w");
  if (f == NULL || ftruncate(fileno(f), 0x20000) != 0) abort();
  fclose(f);
  snprintf(mem, sizeof mem, "%s/card.mem", dir);
  f = fopen(mem, "w");
  if (f == NULL || ftruncate(fileno(f), (off_t)card_bytes) != 0) abort();
  fclose(f);
  snprintf(p, sizeof p, "%s_h2c_0", prefix);
  unlink(p);
  if (link(mem, p) != 0) abort();
  snprintf(p, sizeof p, "%s_c2h_0", prefix);
  unlink(p);
  if (link(mem, p) != 0) abort();
}

static tl_hal *open_hal(uint64_t base, uint64_t bytes, uint64_t max_transfer) {
  tl_hal_config c;
  memset(&c, 0, sizeof c);
  c.board = &tl_boards[0];
  c.xdma_prefix = prefix;
  c.xdma_card_base = base;
  c.xdma_card_bytes = bytes;
  c.xdma_user_offset = 0x10000;
  c.xdma_max_transfer = max_transfer;
  tl_hal *h = NULL;
  char err[256] = "";
  TL_CHECK_EQ(tl_hal_open(&h, &c, err, sizeof err), TL_OK);
  return h;
}

static void test_registers_and_dma_in_pieces(void) {
  make_files(1u << 20);
  tl_hal *h = open_hal(4096, (1u << 20) - 4096, 1000); /* pieces of 1000 bytes */
  TL_CHECK_STR(tl_hal_backend(h), "xdma");
  TL_CHECK(tl_hal_mem_view(h, 0, 16) == NULL);
  TL_CHECK_EQ(tl_hal_reg_write(h, TL_REG_N_TOKENS, 0xA5A55A5Au), TL_OK);
  uint32_t v = 0;
  TL_CHECK_EQ(tl_hal_reg_read(h, TL_REG_N_TOKENS, &v), TL_OK);
  TL_CHECK_EQ(v, 0xA5A55A5Au);
  /* The register is in the user file at user offset + register offset. */
  char p[128];
  snprintf(p, sizeof p, "%s_user", prefix);
  FILE *f = fopen(p, "rb");
  uint8_t b[4] = {0};
  TL_CHECK(f != NULL && fseek(f, 0x10000 + TL_REG_N_TOKENS, SEEK_SET) == 0 && fread(b, 1, 4, f) == 4);
  if (f) fclose(f);
  TL_CHECK_EQ(b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24, 0xA5A55A5Au);
  static uint8_t out[12345], in[12345];
  for (size_t i = 0; i < sizeof out; i++) out[i] = (uint8_t)(i * 7 + 3);
  TL_CHECK_EQ(tl_hal_mem_write(h, 777, out, sizeof out), TL_OK);
  TL_CHECK_EQ(tl_hal_mem_read(h, 777, in, sizeof in), TL_OK);
  TL_CHECK(memcmp(in, out, sizeof in) == 0);
  TL_CHECK_EQ(tl_hal_mem_read(h, (1u << 20) - 4096 - 10, in, 11), TL_E_ARG); /* past the window */
  tl_hal_close(h);
}

static void test_short_transfer_is_an_error(void) {
  make_files(64u << 10);                    /* the card memory ends at 64 KiB ... */
  tl_hal *h = open_hal(0, 1u << 20, 0);     /* ... but the window claims 1 MiB */
  static uint8_t in[8192];
  TL_CHECK_EQ(tl_hal_mem_read(h, (64u << 10) - 100, in, sizeof in), TL_E_SHORT);
  TL_CHECK(strstr(tl_hal_error(h), "short transfer") != NULL);
  tl_hal_close(h);
}

static void test_missing_device_names_the_driver(void) {
  tl_hal_config c;
  memset(&c, 0, sizeof c);
  c.board = &tl_boards[0];
  c.xdma_prefix = "/nonexistent/xdma9";
  c.xdma_card_bytes = 4096;
  tl_hal *h = NULL;
  char err[256] = "";
  TL_CHECK_EQ(tl_hal_open(&h, &c, err, sizeof err), TL_E_IO);
  TL_CHECK(h == NULL);
  TL_CHECK(strstr(err, "/nonexistent/xdma9_user") != NULL && strstr(err, "XDMA driver") != NULL);
}

int main(int argc, char **argv) {
  if (mkdtemp(dir) == NULL) return 2;
  static const tl_test_case cases[] = {
      {"xdma registers and DMA in pieces", test_registers_and_dma_in_pieces},
      {"xdma short transfer is an error", test_short_transfer_is_an_error},
      {"xdma missing device names the driver", test_missing_device_names_the_driver},
  };
  int rc = tl_test_run(cases, sizeof cases / sizeof cases[0], argc > 1 ? argv[1] : NULL);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) rc = rc ? rc : 1;
  return rc;
}
