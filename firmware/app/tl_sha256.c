/* SHA-256 as FIPS 180-4 §6.2 specifies it: 64 rounds per 512-bit block, big-endian words. */
#include "tl_sha256.h"

#include <string.h>

/* First 32 bits of the fractional parts of the cube roots of the first 64 primes (FIPS 180-4 §4.2.2). */
static const uint32_t sha_k[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

static uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }

static void sha_block(uint32_t h[8], const uint8_t *p) {
  uint32_t w[64];
  for (unsigned t = 0; t < 16u; t++) {
    w[t] = ((uint32_t)p[4 * t] << 24) | ((uint32_t)p[4 * t + 1] << 16) | ((uint32_t)p[4 * t + 2] << 8) | p[4 * t + 3];
  }
  for (unsigned t = 16; t < 64u; t++) {
    uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
    uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (unsigned t = 0; t < 64u; t++) {
    uint32_t t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[t] + w[t];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += k;
}

void tl_sha256_init(tl_sha256_ctx *c) {
  /* First 32 bits of the fractional parts of the square roots of the first 8 primes (§5.3.3). */
  static const uint32_t h0[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
  memcpy(c->h, h0, sizeof h0);
  c->length = 0;
  c->used = 0;
}

void tl_sha256_update(tl_sha256_ctx *c, const void *data, size_t n) {
  const uint8_t *p = (const uint8_t *)data;
  c->length += n;
  if (c->used > 0) {
    size_t take = 64u - c->used;
    if (take > n) take = n;
    memcpy(c->block + c->used, p, take);
    c->used += (uint32_t)take;
    p += take;
    n -= take;
    if (c->used < 64u) return;
    sha_block(c->h, c->block);
    c->used = 0;
  }
  while (n >= 64u) {
    sha_block(c->h, p);
    p += 64;
    n -= 64;
  }
  memcpy(c->block, p, n);
  c->used = (uint32_t)n;
}

void tl_sha256_final(tl_sha256_ctx *c, uint8_t out[TL_SHA256_BYTES]) {
  uint64_t bits = c->length * 8u;
  uint8_t pad[72];
  size_t padn = (c->used < 56u) ? 56u - c->used : 120u - c->used;
  memset(pad, 0, sizeof pad);
  pad[0] = 0x80u;
  for (unsigned i = 0; i < 8u; i++) pad[padn + i] = (uint8_t)(bits >> (56u - 8u * i));
  uint64_t keep = c->length;
  tl_sha256_update(c, pad, padn + 8u);
  c->length = keep;
  for (unsigned i = 0; i < 8u; i++) {
    out[4 * i] = (uint8_t)(c->h[i] >> 24);
    out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
    out[4 * i + 3] = (uint8_t)c->h[i];
  }
}

void tl_sha256(const void *data, size_t n, uint8_t out[TL_SHA256_BYTES]) {
  tl_sha256_ctx c;
  tl_sha256_init(&c);
  tl_sha256_update(&c, data, n);
  tl_sha256_final(&c, out);
}

void tl_sha256_hex(const uint8_t digest[TL_SHA256_BYTES], char hex[65]) {
  static const char digits[] = "0123456789abcdef";
  for (unsigned i = 0; i < TL_SHA256_BYTES; i++) {
    hex[2 * i] = digits[digest[i] >> 4];
    hex[2 * i + 1] = digits[digest[i] & 15u];
  }
  hex[64] = '\0';
}

static int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

int tl_sha256_from_hex(const char *s, size_t n, uint8_t out[TL_SHA256_BYTES]) {
  if (n != 2u * TL_SHA256_BYTES) return 0;
  for (unsigned i = 0; i < TL_SHA256_BYTES; i++) {
    int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return 0;
    out[i] = (uint8_t)(hi * 16 + lo);
  }
  return 1;
}
