/*
 * CRC-32/ISO-HDLC (zlib, Ethernet; reflected polynomial 0xEDB88320, init and xorout 0xFFFFFFFF,
 * check value 0xCBF43926): the frame and upload-chunk checksum of docs/protocol.md.
 */
#ifndef TL_CRC32_H
#define TL_CRC32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** CRC-32 of n bytes. */
uint32_t tl_crc32(const void *data, size_t n);

/** Incremental form: start with crc = 0, feed pieces in order; the result equals tl_crc32 of the whole. */
uint32_t tl_crc32_update(uint32_t crc, const void *data, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* TL_CRC32_H */
