/*
 * SHA-256 (FIPS 180-4): the image checksums of docs/image-format.md §4 (header, manifest and every
 * section) and the hardware-set hash of docs/layout.md §1. Incremental, no allocation.
 */
#ifndef TL_SHA256_H
#define TL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TL_SHA256_BYTES 32u

typedef struct {
  uint32_t h[8];
  uint64_t length;   /* bytes fed so far */
  uint8_t block[64]; /* a partial block */
  uint32_t used;     /* bytes in block */
} tl_sha256_ctx;

void tl_sha256_init(tl_sha256_ctx *c);
void tl_sha256_update(tl_sha256_ctx *c, const void *data, size_t n);
void tl_sha256_final(tl_sha256_ctx *c, uint8_t out[TL_SHA256_BYTES]);

/** One-shot digest of n bytes. */
void tl_sha256(const void *data, size_t n, uint8_t out[TL_SHA256_BYTES]);

/** 64 lowercase hex digits and a NUL into hex[65]. */
void tl_sha256_hex(const uint8_t digest[TL_SHA256_BYTES], char hex[65]);

/** Parse 64 hex digits (either case); 0 when s is not exactly that. */
int tl_sha256_from_hex(const char *s, size_t n, uint8_t out[TL_SHA256_BYTES]);

#ifdef __cplusplus
}
#endif

#endif /* TL_SHA256_H */
