/* CRC-32/ISO-HDLC with a 256-entry table built once from the polynomial (not stored as constants). */
#include "tl_crc32.h"

#include <pthread.h>

#include "tl_protocol.h"  // Generated.

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_build_table(void) {
  for (uint32_t i = 0; i < 256u; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1u) ? (c >> 1) ^ TL_PROTO_CRC32_POLY_REFLECTED : c >> 1;
    crc_table[i] = c;
  }
}

uint32_t tl_crc32_update(uint32_t crc, const void *data, size_t n) {
  const uint8_t *p = (const uint8_t *)data;
  pthread_once(&crc_once, crc_build_table);
  uint32_t c = crc ^ TL_PROTO_CRC32_XOROUT;
  for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xffu] ^ (c >> 8);
  return c ^ TL_PROTO_CRC32_XOROUT;
}

uint32_t tl_crc32(const void *data, size_t n) { return tl_crc32_update(0, data, n); }
