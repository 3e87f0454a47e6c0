/*
 * Model images on the board (docs/image-format.md): validation with the checks of the host's
 * reader that do not need the planner — the header (magic, version, its sha256, sizes, file
 * length), the manifest (sha256, UTF-8 JSON parsed by tl_json, format and version), the hardware
 * set (the stored description's canonical hash is the recorded hash, and that is this board's),
 * the model (shape within the build's maxima, context, DDR map inside the window, the register
 * formulas of docs/registers.md §4 reaching every weight and norm region), the matrices (one per
 * layer and linear, scales positive normal binary32 matching their bits), the section table
 * (aligned, inside the data area, disjoint, exactly the image's DDR regions plus host sections)
 * and every section's sha256 and the zero padding — then the DDR sections are copied into the
 * window at their offsets. What the planner would re-derive (the URAM tiling, the DDR map from
 * the spec) is bound by the hashes instead: the manifest's sha256 is in the checksummed header.
 */
#ifndef TL_IMAGE_H
#define TL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "tl_accel.h"
#include "tl_boards.h"  // Generated.
#include "tl_hal.h"
#include "tl_json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  uint64_t file_offset;
  uint64_t size;
  uint64_t ddr_offset; /* UINT64_MAX: a host section */
  uint8_t sha256[32];
  uint32_t name_tok;
} tl_image_section;

/** Working memory, allocated once at start-up (tl_image_buffers_alloc): no allocation per image. */
typedef struct {
  char *manifest;
  size_t manifest_cap;
  tl_json_tok *toks;
  uint32_t toks_cap;
  uint8_t *io;
  size_t io_cap;
  tl_image_section *sections;
  uint32_t sections_cap;
  uint32_t *order;   /* sections by file offset */
  uint32_t *regions; /* the DDR map's region tokens */
} tl_image_buffers;

/** What the firmware keeps of a valid image. */
typedef struct {
  tl_accel_regs regs;
  uint64_t embedding_offset; /* bf16 [vocab][hidden] */
  uint64_t ddr_total;        /* bytes of the DDR map */
  uint64_t file_size;
  uint8_t manifest_sha256[32];
  uint32_t max_positions;
  uint32_t sections;         /* in bufs->sections, for tl_image_load */
} tl_model;

int tl_image_buffers_alloc(tl_image_buffers *b, size_t manifest_cap, uint32_t toks_cap, size_t io_cap, uint32_t sections_cap);
void tl_image_buffers_free(tl_image_buffers *b);

/**
 * Validate the image file at path for board with a DDR window of ddr_bytes. Returns 0 and fills *m,
 * or a protocol error code (IMAGE_IO, IMAGE_INVALID, IMAGE_HW_MISMATCH, IMAGE_TOO_LARGE, NO_MEMORY)
 * with a detail naming the file and what is wrong. Nothing outside *b and *m is touched.
 */
uint16_t tl_image_validate(const char *path, const tl_board_desc *board, uint64_t ddr_bytes, tl_image_buffers *b, tl_model *m,
                           char *detail, size_t len);

/** Copy a validated image's DDR sections into the window (caches flushed by the HAL). */
uint16_t tl_image_load(const char *path, const tl_model *m, tl_image_buffers *b, tl_hal *hal, char *detail, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* TL_IMAGE_H */
