/* Unit tests of the accelerator driver (drv/tl_accel.c) on the mock HAL, and of the LM head's dot product. */
#include <stdlib.h>

#include "tl_accel.h"
#include "tl_hal_mock.h"
#include "tl_head.h"
#include "tl_test.h"
#include "tests.h"

static const tl_board_desc *kv260(void) {
  for (uint32_t i = 0; i < TL_BOARD_COUNT; i++)
    if (strcmp(tl_boards[i].board_name, "kv260") == 0) return &tl_boards[i];
  return NULL;
}

static tl_hal *mock(void) {
  tl_hal *h = NULL;
  tl_hal_config cfg = {0};
  if (tl_hal_open(&h, &cfg, NULL, 0) != TL_OK) abort();
  return h;
}

static void test_call_writes_its_arguments_then_starts(void) {
  tl_hal *h = mock();
  tl_accel a = {.hal = h, .board = kv260(), .timeout_ms = 1000};
  h->regs[TL_REG_KV_LENGTH / 4] = 12;
  h->regs[TL_REG_TOKENS_DONE / 4] = 5;
  tl_accel_result r;
  TL_CHECK_EQ(tl_accel_call(&a, TL_COMMAND_PREFILL, 5, 7, 24, 0, &r), TL_OK);
  TL_CHECK_EQ(h->starts, 1);
  const int start = tl_mock_find_write(h, TL_REG_CTRL, 0);
  TL_CHECK(start >= 0);
  /* Every argument register is written, with its value, before ap_start. */
  const struct {
    uint32_t off, value;
  } want[] = {{TL_REG_COMMAND, TL_COMMAND_PREFILL}, {TL_REG_N_TOKENS, 5}, {TL_REG_KV_POSITION, 7}, {TL_REG_LAYER_COUNT, 24},
              {TL_REG_FLAGS, 0},  {TL_REG_IER, TL_REG_IER_DONE_MASK}, {TL_REG_GIE, TL_REG_GIE_ENABLE_MASK}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    int at = tl_mock_find_write(h, want[i].off, 0);
    TL_CHECK(at >= 0 && at < start);
    if (at >= 0) TL_CHECK_EQ(h->log[at].value, want[i].value);
  }
  TL_CHECK_EQ(h->log[start].value, TL_REG_CTRL_AP_START_MASK);
  /* The pending interrupt is acknowledged after completion. */
  TL_CHECK(tl_mock_find_write(h, TL_REG_ISR, (uint32_t)start + 1) > start);
  TL_CHECK_EQ(r.status, 0);
  TL_CHECK_EQ(r.kv_length, 12);
  TL_CHECK_EQ(r.tokens_done, 5);
  tl_hal_close(h);
}

static void test_call_reports_status_bits_by_name(void) {
  tl_hal *h = mock();
  tl_accel a = {.hal = h, .board = kv260(), .timeout_ms = 1000};
  h->status = TL_REG_STATUS_CONTEXT_OVERFLOW_MASK | TL_REG_STATUS_MISALIGNED_MASK | TL_REG_STATUS_BAD_TILING_MASK | 0x100u;
  tl_accel_result r;
  TL_CHECK_EQ(tl_accel_call(&a, TL_COMMAND_DECODE, 1, 0, 24, 0, &r), TL_E_FAULT);
  char text[128];
  tl_accel_status_text(r.status, text, sizeof text);
  TL_CHECK_STR(text, "context_overflow, misaligned, bad_tiling, bits 0x00000100");
  tl_hal_close(h);
}

static void test_call_times_out_and_then_refuses_to_start(void) {
  tl_hal *h = mock();
  tl_accel a = {.hal = h, .board = kv260(), .timeout_ms = 250};
  h->hang = 1;
  tl_accel_result r;
  const uint64_t t0 = tl_hal_now_ms();
  TL_CHECK_EQ(tl_accel_call(&a, TL_COMMAND_DECODE, 1, 0, 24, 0, &r), TL_E_TIMEOUT);
  const uint64_t took = tl_hal_now_ms() - t0;
  TL_CHECK(took >= 250 && took < 2000);
  TL_CHECK_EQ(a.wedged, 1);
  /* Still busy: the next call starts nothing. */
  TL_CHECK_EQ(tl_accel_call(&a, TL_COMMAND_DECODE, 1, 0, 24, 0, &r), TL_E_TIMEOUT);
  TL_CHECK_EQ(h->starts, 1);
  tl_hal_close(h);
}

static void test_build_identity_is_checked(void) {
  tl_hal *h = mock();
  const tl_board_desc *b = kv260();
  tl_accel a = {.hal = h, .board = b, .timeout_ms = 1000};
  uint64_t id = 0;
  for (int i = 0; i < 8; i++) id = (id << 8) | b->hw_hash[i];
  h->regs[TL_REG_BUILD_HASH / 4] = (uint32_t)id;
  h->regs[TL_REG_BUILD_HASH / 4 + 1] = (uint32_t)(id >> 32);
  h->regs[TL_REG_REGMAP_VERSION / 4] = TL_REGMAP_VERSION;
  char detail[256] = "";
  TL_CHECK_EQ(tl_accel_check_build(&a, detail, sizeof detail), TL_OK);
  /* The identity registers are the top function's outputs: a SET_KV_LENGTH call comes first. */
  TL_CHECK_EQ(h->starts, 1);
  const int cmd = tl_mock_find_write(h, TL_REG_COMMAND, 0);
  TL_CHECK(cmd >= 0 && h->log[cmd].value == TL_COMMAND_SET_KV_LENGTH);
  h->regs[TL_REG_BUILD_HASH / 4] ^= 1u; /* one bit of another build */
  TL_CHECK_EQ(tl_accel_check_build(&a, detail, sizeof detail), TL_E_STATE);
  TL_CHECK(strstr(detail, "build_hash") != NULL && strstr(detail, "kv260") != NULL);
  h->regs[TL_REG_BUILD_HASH / 4] ^= 1u;
  h->regs[TL_REG_REGMAP_VERSION / 4] = TL_REGMAP_VERSION + 1;
  TL_CHECK_EQ(tl_accel_check_build(&a, detail, sizeof detail), TL_E_STATE);
  TL_CHECK(strstr(detail, "register map") != NULL);
  tl_hal_close(h);
}

static void test_program_writes_the_window_bases(void) {
  tl_hal *h = mock();
  const tl_board_desc *b = kv260();
  tl_accel a = {.hal = h, .board = b, .timeout_ms = 1000};
  tl_accel_regs m;
  memset(&m, 0, sizeof m);
  m.hidden = 2560;
  m.weights_offset = 0x123456789000ull;
  m.linear_tile_rows[TL_LINEAR_DOWN_PROJ] = 77;
  m.q_scale_offset = 0x5000;
  m.kv_k_scale_offset = 0x6000;
  m.kv_v_scale_offset = 0x7000;
  TL_CHECK_EQ(tl_accel_program(&a, &m), TL_OK);
  TL_CHECK_EQ(h->regs[TL_REG_HIDDEN / 4], 2560);
  /* 64-bit registers: low word then high word. */
  TL_CHECK_EQ(h->regs[TL_REG_WEIGHTS_OFFSET / 4], 0x56789000u);
  TL_CHECK_EQ(h->regs[TL_REG_WEIGHTS_OFFSET / 4 + 1], 0x1234u);
  TL_CHECK(tl_mock_find_write(h, TL_REG_WEIGHTS_OFFSET, 0) < tl_mock_find_write(h, TL_REG_WEIGHTS_OFFSET + 4, 0));
  TL_CHECK_EQ(h->regs[(TL_REG_LINEAR_TILE_ROWS + 4u * TL_LINEAR_DOWN_PROJ) / 4], 77);
  for (uint32_t p = 0; p < b->weight_ports; p++) TL_CHECK_EQ(h->regs[TL_REG_DDR_W(p) / 4], 0x40000000u);
  TL_CHECK_EQ(h->regs[TL_REG_DDR_ACT / 4], 0x40000000u);
  TL_CHECK_EQ(h->regs[TL_REG_DDR_SIDE / 4], 0x40000000u);
  TL_CHECK_EQ(h->regs[TL_REG_DDR_OUT / 4], 0x40000000u);
  TL_CHECK_EQ(h->regs[TL_REG_Q_SCALE_OFFSET / 4], 0x5000u);
  TL_CHECK_EQ(h->regs[TL_REG_KV_K_SCALE_OFFSET / 4], 0x6000u);
  TL_CHECK_EQ(h->regs[TL_REG_KV_V_SCALE_OFFSET / 4], 0x7000u);
  TL_CHECK_EQ(tl_hal_reg_write(h, 2, 0), TL_E_ARG); /* unaligned register access is refused */
  tl_hal_close(h);
}

/* The head's dot product: the build's kernel (NEON on aarch64) equals the portable loop, and known answers. */
static void test_head_dot_matches_portable_and_known_answers(void) {
  static int8_t a[4099], b[4099];
  uint32_t s = 12345;
  for (int round = 0; round < 200; round++) {
    const uint32_t n = (uint32_t)(round * 37 % 4099);
    for (uint32_t i = 0; i < n; i++) {
      s = s * 1664525u + 1013904223u;
      a[i] = (int8_t)(s >> 24);
      s = s * 1664525u + 1013904223u;
      b[i] = (int8_t)(s >> 24);
    }
    TL_CHECK_EQ(tl_head_dot(a, b, n), tl_head_dot_portable(a, b, n));
  }
  for (uint32_t i = 0; i < 4099; i++) {
    a[i] = -128;
    b[i] = -128;
  }
  TL_CHECK_EQ(tl_head_dot(a, b, 4099), 4099 * 16384);
  for (uint32_t i = 0; i < 4099; i++) b[i] = 127;
  TL_CHECK_EQ(tl_head_dot(a, b, 4099), -4099 * 16256);
  TL_CHECK_EQ(tl_head_dot(a, b, 15), -15 * 16256);
#if defined(__aarch64__)
  TL_CHECK_STR(tl_head_kernel(), "neon");
#else
  TL_CHECK_STR(tl_head_kernel(), "portable");
#endif
}

const tl_test_case tl_driver_tests[] = {
    {"accel call writes its arguments then starts", test_call_writes_its_arguments_then_starts},
    {"accel call reports status bits by name", test_call_reports_status_bits_by_name},
    {"accel call times out and then refuses to start", test_call_times_out_and_then_refuses_to_start},
    {"accel build identity is checked", test_build_identity_is_checked},
    {"accel program writes the window bases", test_program_writes_the_window_bases},
    {"head dot matches portable and known answers", test_head_dot_matches_portable_and_known_answers},
};
const size_t tl_driver_test_count = sizeof tl_driver_tests / sizeof tl_driver_tests[0];
