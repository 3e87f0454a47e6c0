/* Model image validation and loading (tl_image.h). */
#include "tl_image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tl_f32.h"  // hls/include: binary32 bits.
#include "tl_protocol.h"  // Generated: error codes.
#include "tl_sha256.h"

#define IMG_HEADER_BYTES 128u
#define IMG_HASHED_BYTES 96u
#define IMG_ALIGN 4096u
#define IMG_FORMAT_VERSION 2u
/* Head positions whose records the logits region holds (docs/accelerator.md §2; ddr.ts HEAD_RECORD_POSITIONS). */
#define IMG_HEAD_RECORD_POSITIONS 16u
#define IMG_NO_DDR UINT64_MAX
#define LINEARS 8u

static const uint8_t img_magic[8] = {0x89, 0x54, 0x4c, 0x4d, 0x49, 0x4d, 0x47, 0x0a};
static const char *const linear_names[LINEARS] = {"q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "gate_proj", "down_proj", "head"};
static const char *const norm_roles[4] = {"input", "post_attention", "attn_sub", "ffn_sub"};
/* hwconfig/hash.ts HASH_EXCLUDED_FIELDS */
static const char *const hash_excluded[4] = {"$schema", "description", "notes", "sources"};

typedef struct {
  const char *path;
  char *detail;
  size_t len;
  const tl_json_doc *doc;
} ctx_t;

static uint16_t bad(const ctx_t *c, uint16_t code, const char *fmt, ...) {
  int n = snprintf(c->detail, c->len, "%s: ", c->path);
  va_list ap;
  va_start(ap, fmt);
  if (n >= 0 && (size_t)n < c->len) vsnprintf(c->detail + n, c->len - (size_t)n, fmt, ap);
  va_end(ap);
  return code;
}

static int read_at(int fd, void *buf, size_t n, uint64_t off) {
  uint8_t *p = (uint8_t *)buf;
  while (n > 0) {
    ssize_t r = pread(fd, p, n, (off_t)off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 0;
    p += r;
    n -= (size_t)r;
    off += (uint64_t)r;
  }
  return 1;
}

static uint32_t le32(const uint8_t *p) { return tl_proto_get_u32(p); }
static uint64_t le64(const uint8_t *p) { return tl_proto_get_u64(p); }

int tl_image_buffers_alloc(tl_image_buffers *b, size_t manifest_cap, uint32_t toks_cap, size_t io_cap, uint32_t sections_cap) {
  memset(b, 0, sizeof *b);
  b->manifest = malloc(manifest_cap);
  b->toks = malloc((size_t)toks_cap * sizeof *b->toks);
  b->io = malloc(io_cap);
  b->sections = malloc((size_t)sections_cap * sizeof *b->sections);
  b->order = malloc((size_t)sections_cap * sizeof *b->order);
  b->regions = malloc((size_t)sections_cap * sizeof *b->regions);
  if (!b->manifest || !b->toks || !b->io || !b->sections || !b->order || !b->regions) {
    tl_image_buffers_free(b);
    return 0;
  }
  b->manifest_cap = manifest_cap;
  b->toks_cap = toks_cap;
  b->io_cap = io_cap;
  b->sections_cap = sections_cap;
  return 1;
}

void tl_image_buffers_free(tl_image_buffers *b) {
  free(b->manifest);
  free(b->toks);
  free(b->io);
  free(b->sections);
  free(b->order);
  free(b->regions);
  memset(b, 0, sizeof *b);
}

/* ---- manifest field access with errors that name the field ---- */

static int get_u64(const ctx_t *c, uint32_t obj, const char *key, uint64_t *out) { return tl_json_u64(c->doc, tl_json_get(c->doc, obj, key), out); }

static int get_u32(const ctx_t *c, uint32_t obj, const char *key, uint32_t *out) {
  uint64_t v;
  if (!get_u64(c, obj, key, &v) || v > UINT32_MAX) return 0;
  *out = (uint32_t)v;
  return 1;
}

/* The region named name (searched from *hint on: regions and sections come in DDR order). */
typedef struct {
  uint32_t arr;   /* the regions array token */
  uint32_t count;
  uint32_t *toks; /* each region's object token */
} regions_t;

static int find_region(const ctx_t *c, const regions_t *r, const char *name, uint32_t *hint, uint64_t *offset, uint64_t *size) {
  for (uint32_t k = 0; k < r->count; k++) {
    uint32_t i = (*hint + k) % r->count;
    if (tl_json_streq(c->doc, tl_json_get(c->doc, r->toks[i], "name"), name)) {
      *hint = i;
      if (!get_u64(c, r->toks[i], "offset", offset)) return 0;
      if (size && !get_u64(c, r->toks[i], "size", size)) return 0;
      return 1;
    }
  }
  return 0;
}

static int region_offset(const ctx_t *c, const regions_t *r, const char *name, uint64_t *offset) {
  uint32_t hint = 0;
  return find_region(c, r, name, &hint, offset, NULL);
}

static int linear_index(const ctx_t *c, uint32_t tok) {
  for (int n = 0; n < (int)LINEARS; n++)
    if (tl_json_streq(c->doc, tok, linear_names[n])) return n;
  return -1;
}

static int norm_role_index(const ctx_t *c, uint32_t tok) {
  for (int n = 0; n < 4; n++)
    if (tl_json_streq(c->doc, tok, norm_roles[n])) return n;
  return -1;
}

/* ---- the parts of validation ---- */

static uint16_t check_header(const ctx_t *c, const uint8_t *h, uint64_t file_size, uint64_t *moff, uint64_t *mlen) {
  uint8_t digest[32];
  if (memcmp(h, img_magic, 8) != 0) {
    return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "not a TeLLMe model image (the file does not start with the image magic 89 54 4C 4D 49 4D 47 0A)");
  }
  uint32_t version = le32(h + 8);
  if (version < IMG_FORMAT_VERSION) {
    return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "image format version %u is older than this firmware's version %u: re-convert the model (`tellme convert`)",
               version, IMG_FORMAT_VERSION);
  }
  if (version != IMG_FORMAT_VERSION) {
    return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "unknown image format version %u; this firmware reads version %u", version, IMG_FORMAT_VERSION);
  }
  tl_sha256(h, IMG_HASHED_BYTES, digest);
  if (memcmp(digest, h + IMG_HASHED_BYTES, 32) != 0) {
    return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "header checksum mismatch (bytes 0..95 do not match the sha256 stored at byte 96)");
  }
  if (le32(h + 12) != IMG_HEADER_BYTES) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "header size field is %u, expected %u", le32(h + 12), IMG_HEADER_BYTES);
  if (le32(h + 72) != IMG_ALIGN) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "section alignment field is %u, expected %u", le32(h + 72), IMG_ALIGN);
  for (unsigned i = 76; i < IMG_HASHED_BYTES; i++)
    if (h[i] != 0) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "reserved header byte %u is %u, expected 0", i, h[i]);
  uint64_t off = le64(h + 16), len = le64(h + 24), flen = le64(h + 64);
  if (off > TL_PROTO_U64_MAX || len > TL_PROTO_U64_MAX || flen > TL_PROTO_U64_MAX) {
    return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "a header size field is beyond any real file size");
  }
  if (flen != file_size) {
    return flen > file_size
               ? bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the file is %llu bytes but its header says %llu: it is truncated", (unsigned long long)file_size,
                     (unsigned long long)flen)
               : bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the file is %llu bytes but its header says %llu: unexpected bytes follow the image",
                     (unsigned long long)file_size, (unsigned long long)flen);
  }
  if (off % IMG_ALIGN != 0 || off < IMG_ALIGN) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "manifest offset %llu is not a multiple of 4096 after the header", (unsigned long long)off);
  if (len == 0 || off + len != flen) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the manifest does not end the file");
  *moff = off;
  *mlen = len;
  return 0;
}

static uint16_t check_hardware(const ctx_t *c, uint32_t root, const tl_board_desc *board) {
  uint32_t hw = tl_json_get(c->doc, root, "hardware");
  uint32_t config = tl_json_get(c->doc, hw, "config");
  char name[128], hash_hex[80];
  uint8_t hash[32], canon[32];
  if (!tl_json_is(c->doc, hw, TL_JSON_OBJECT) || !tl_json_is(c->doc, config, TL_JSON_OBJECT) ||
      !tl_json_str(c->doc, tl_json_get(c->doc, hw, "name"), name, sizeof name, NULL) ||
      !tl_json_str(c->doc, tl_json_get(c->doc, hw, "hash"), hash_hex, sizeof hash_hex, NULL) || !tl_sha256_from_hex(hash_hex, strlen(hash_hex), hash)) {
    return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the manifest's hardware record (name, hash, config) is missing or malformed");
  }
  if (!tl_json_canonical_sha256(c->doc, config, hash_excluded, 4, canon)) {
    return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the stored hardware description cannot be hashed (an object with too many members)");
  }
  if (memcmp(canon, hash, 32) != 0 || !tl_json_streq(c->doc, tl_json_get(c->doc, config, "name"), name)) {
    char have[65];
    tl_sha256_hex(canon, have);
    return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the stored hardware description (hash %.12s...) does not match the recorded %s (hash %.12s...)", have, name,
               hash_hex);
  }
  if (memcmp(hash, board->hw_hash, 32) != 0) {
    char mine[65];
    tl_sha256_hex(board->hw_hash, mine);
    return bad(c, TL_PROTO_ERR_IMAGE_HW_MISMATCH, "image built for %s (hash %.12s...) but this board is %s (hash %.12s...)", name, hash_hex,
               board->board_name, mine);
  }
  return 0;
}

static uint16_t check_spec(const ctx_t *c, uint32_t root, const tl_board_desc *b, tl_model *m) {
  uint32_t spec = tl_json_get(c->doc, root, "spec");
  tl_accel_regs *r = &m->regs;
  double eps = 0;
  if (!get_u32(c, spec, "hiddenSize", &r->hidden) || !get_u32(c, spec, "intermediateSize", &r->ffn) || !get_u32(c, spec, "numHeads", &r->heads) ||
      !get_u32(c, spec, "numKvHeads", &r->kv_heads) || !get_u32(c, spec, "headDim", &r->head_dim) || !get_u32(c, spec, "numLayers", &r->layers) ||
      !get_u32(c, spec, "vocabSize", &r->vocab) || !get_u32(c, spec, "maxPositions", &m->max_positions) ||
      !tl_json_f64(c->doc, tl_json_get(c->doc, spec, "rmsNormEps"), &eps)) {
    return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the manifest's model spec lacks a shape field (hiddenSize, intermediateSize, heads, headDim, layers, vocab, maxPositions, rmsNormEps)");
  }
  uint32_t act = tl_json_get(c->doc, spec, "activation");
  if (tl_json_streq(c->doc, act, "relu2")) r->activation = TL_ACTIVATION_RELU2;
  else if (tl_json_streq(c->doc, act, "silu")) r->activation = TL_ACTIVATION_SILU;
  else return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "spec.activation is neither \"relu2\" nor \"silu\"");
  uint32_t sub = tl_json_get(c->doc, spec, "subNorms");
  if (!tl_json_is(c->doc, sub, TL_JSON_TRUE) && !tl_json_is(c->doc, sub, TL_JSON_FALSE)) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "spec.subNorms is not a boolean");
  r->sub_norms = tl_json_is(c->doc, sub, TL_JSON_TRUE) ? 1u : 0u;
  /* f32(rms_norm_eps): binary64 rounded once to binary32 (Math.fround). */
  float epsf = (float)eps;
  r->rms_eps_bits = tl_f32_bits(epsf);
  if (!(epsf > 0)) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "spec.rmsNormEps %g is not a positive binary32 value", eps);
  /* The eps the registers get is recorded as bits (image format v2); it must be spec.rmsNormEps's. */
  char eps_hex[16], want_hex[16];
  snprintf(want_hex, sizeof want_hex, "0x%08x", r->rms_eps_bits);
  if (!tl_json_str(c->doc, tl_json_get(c->doc, tl_json_get(c->doc, root, "numerics"), "rms_norm_eps_bits"), eps_hex, sizeof eps_hex, NULL)) {
    return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the manifest's numerics.rms_norm_eps_bits is missing");
  }
  if (strcmp(eps_hex, want_hex) != 0) {
    return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "numerics.rms_norm_eps_bits is %s, but spec.rmsNormEps %g is %s in binary32", eps_hex, eps, want_hex);
  }
  if (r->heads == 0 || r->kv_heads == 0 || r->heads % r->kv_heads != 0 || r->head_dim == 0 || r->head_dim % 2 != 0 || r->hidden == 0 || r->ffn == 0 ||
      r->layers == 0 || r->vocab == 0) {
    return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the model spec is inconsistent (heads %u, KV heads %u, head_dim %u)", r->heads, r->kv_heads, r->head_dim);
  }
  const struct {
    const char *what;
    uint32_t have, max;
  } lim[] = {{"hidden", r->hidden, b->max_hidden}, {"ffn", r->ffn, b->max_ffn},       {"heads", r->heads, b->max_heads},
             {"kv_heads", r->kv_heads, b->max_kv_heads}, {"head_dim", r->head_dim, b->max_head_dim}, {"layers", r->layers, b->max_layers},
             {"vocab", r->vocab, b->max_vocab}};
  for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
    if (lim[i].have > lim[i].max) {
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the model's %s %u exceeds the %s build's maximum %u", lim[i].what, lim[i].have, b->board_name, lim[i].max);
    }
  }
  return 0;
}

/* The register values of docs/registers.md §4 (host/src/layout/register-values.ts), checked against every region. */
static uint16_t derive_registers(const ctx_t *c, uint32_t root, const regions_t *rg, const tl_board_desc *b, tl_model *m) {
  tl_accel_regs *r = &m->regs;
  uint32_t uram_linears = tl_json_get(c->doc, tl_json_get(c->doc, root, "uram"), "linears");
  if (!tl_json_is(c->doc, uram_linears, TL_JSON_ARRAY) || c->doc->toks[uram_linears].count == 0) {
    return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the manifest's uram.linears record is missing");
  }
  uint32_t ntiles[LINEARS] = {0};
  char name[96];
  uint64_t o0, o1;
  int first = linear_index(c, tl_json_get(c->doc, tl_json_first(c->doc, uram_linears), "linear"));
  if (first < 0) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "uram.linears[0] names no known linear");
  snprintf(name, sizeof name, "weights.L0.%s.t0.p0", linear_names[first]);
  if (!region_offset(c, rg, name, &r->weights_offset)) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the DDR map has no region %s", name);
  r->weights_layer_stride = 0;
  if (r->layers > 1) {
    snprintf(name, sizeof name, "weights.L1.%s.t0.p0", linear_names[first]);
    if (!region_offset(c, rg, name, &o1) || o1 < r->weights_offset || o1 - r->weights_offset > UINT32_MAX) {
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the DDR map's %s is missing or out of order", name);
    }
    r->weights_layer_stride = (uint32_t)(o1 - r->weights_offset);
  }
  for (uint32_t e = tl_json_first(c->doc, uram_linears), k = 0; k < c->doc->toks[uram_linears].count; k++, e = tl_json_skip(c->doc, e)) {
    int n = linear_index(c, tl_json_get(c->doc, e, "linear"));
    uint32_t tiles = tl_json_get(c->doc, e, "tiles");
    uint32_t nt = tl_json_is(c->doc, tiles, TL_JSON_ARRAY) ? c->doc->toks[tiles].count : 0;
    if (n < 0 || nt == 0 || ntiles[n] != 0 || !get_u32(c, tl_json_at(c->doc, tiles, 0), "rows", &r->linear_tile_rows[n]) || r->linear_tile_rows[n] == 0) {
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "uram.linears[%u] is malformed (linear, tiles, rows)", k);
    }
    ntiles[n] = nt;
    const char *ln = linear_names[n];
    uint64_t base, p0, p1;
    snprintf(name, sizeof name, "weights.L0.%s.t0.p0", ln);
    if (!region_offset(c, rg, name, &base) || base < r->weights_offset || base - r->weights_offset > UINT32_MAX) {
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the DDR map's %s is missing or out of order", name);
    }
    r->linear_offset[n] = (uint32_t)(base - r->weights_offset);
    for (int last = 0; last < 2; last++) {
      uint32_t t = last ? nt - 1 : 0;
      uint64_t lane = 0;
      if (b->weight_ports > 1) {
        snprintf(name, sizeof name, "weights.L0.%s.t%u.p0", ln, t);
        int ok = region_offset(c, rg, name, &p0);
        snprintf(name, sizeof name, "weights.L0.%s.t%u.p1", ln, t);
        if (!ok || !region_offset(c, rg, name, &p1) || p1 < p0 || p1 - p0 > UINT32_MAX) {
          return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the DDR map's lanes of %s tile %u are missing or out of order", ln, t);
        }
        lane = p1 - p0;
      }
      if (last) r->linear_last_lane_stride[n] = (uint32_t)lane;
      else r->linear_lane_stride[n] = (uint32_t)lane;
    }
    r->linear_tile_stride[n] = 0;
    if (nt > 1) {
      snprintf(name, sizeof name, "weights.L0.%s.t1.p0", ln);
      if (!region_offset(c, rg, name, &o1) || o1 < base || o1 - base > UINT32_MAX) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the DDR map's %s is missing", name);
      r->linear_tile_stride[n] = (uint32_t)(o1 - base);
    }
  }
  /* Norms: layer 0's first region, the layer stride, per role its offset. */
  uint32_t roles = r->sub_norms ? 4u : 2u;
  if (!region_offset(c, rg, "norms.L0.input", &r->norms_offset)) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the DDR map has no region norms.L0.input");
  r->norms_layer_stride = 0;
  if (r->layers > 1) {
    if (!region_offset(c, rg, "norms.L1.input", &o1) || o1 < r->norms_offset || o1 - r->norms_offset > UINT32_MAX) {
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the DDR map's norms.L1.input is missing or out of order");
    }
    r->norms_layer_stride = (uint32_t)(o1 - r->norms_offset);
  }
  memset(r->norm_role_offset, 0, sizeof r->norm_role_offset);
  for (uint32_t k = 0; k < roles; k++) {
    snprintf(name, sizeof name, "norms.L0.%s", norm_roles[k]);
    if (!region_offset(c, rg, name, &o0) || o0 < r->norms_offset || o0 - r->norms_offset > UINT32_MAX) {
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the DDR map's %s is missing or out of order", name);
    }
    r->norm_role_offset[k] = (uint32_t)(o0 - r->norms_offset);
  }
  const struct {
    const char *region;
    uint64_t *dst;
  } named[] = {
      {"norms.final", &r->norm_final_offset},   {"rope", &r->rope_offset},           {"kv.k", &r->kv_k_offset},
      {"kv.v", &r->kv_v_offset},                {"scratch.residual", &r->residual_offset}, {"scratch.act0", &r->act0_offset},
      {"scratch.act1", &r->act1_offset},        {"scratch.q", &r->q_offset},         {"scratch.amax", &r->amax_offset},
      {"lm_head.weight", &r->lm_head_weight_offset}, {"lm_head.scale", &r->lm_head_scale_offset}, {"embedding", &m->embedding_offset},
  };
  for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
    if (!region_offset(c, rg, named[i].region, named[i].dst)) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the DDR map has no region %s", named[i].region);
  }
  /* int8 KV (numerics §8.3): the per-token scales of the cache and of the queries. */
  r->kv_k_scale_offset = r->kv_v_scale_offset = r->q_scale_offset = 0;
  if (b->kv_int8) {
    const struct {
      const char *region;
      uint64_t *dst;
    } scales[] = {{"kv.k_scale", &r->kv_k_scale_offset}, {"kv.v_scale", &r->kv_v_scale_offset}, {"scratch.q_scale", &r->q_scale_offset}};
    for (size_t i = 0; i < sizeof scales / sizeof scales[0]; i++) {
      if (!region_offset(c, rg, scales[i].region, scales[i].dst)) {
        return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the DDR map has no region %s (this build's KV cache is int8)", scales[i].region);
      }
    }
  }
  /* The fabric head writes one record per head position into logits (docs/accelerator.md §2):
   * 16 bytes + vocab binary32 logits each, IMG_HEAD_RECORD_POSITIONS of them. */
  r->logits_offset = 0;
  if (!b->lm_head_on_arm) {
    uint32_t hint = 0;
    uint64_t size = 0;
    if (!find_region(c, rg, "logits", &hint, &r->logits_offset, &size)) {
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the DDR map has no logits region (this build's LM head is on the fabric)");
    }
    uint64_t want = (uint64_t)IMG_HEAD_RECORD_POSITIONS * (16u + 4ull * r->vocab);
    if (size < want) {
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the logits region is %llu bytes, less than %u head records of %llu bytes (image format v2)",
                 (unsigned long long)size, IMG_HEAD_RECORD_POSITIONS, (unsigned long long)(16u + 4ull * r->vocab));
    }
  }
  /* The formulas must reach every weight and norm region of the map. */
  for (uint32_t i = 0; i < rg->count; i++) {
    uint32_t t = rg->toks[i];
    uint32_t kind = tl_json_get(c->doc, t, "kind");
    uint64_t offset, want;
    uint32_t layer = 0, tile = 0, lane = 0;
    if (!get_u64(c, t, "offset", &offset)) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "DDR region %u has no offset", i);
    if (tl_json_streq(c->doc, kind, "weights")) {
      int n = linear_index(c, tl_json_get(c->doc, t, "linear"));
      if (n < 0 || !get_u32(c, t, "layer", &layer) || !get_u32(c, t, "tile", &tile) || !get_u32(c, t, "lane", &lane) || ntiles[n] == 0 ||
          tile >= ntiles[n] || layer >= r->layers || lane >= b->weight_ports) {
        return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "weight region %u has no valid layer, linear, tile and lane", i);
      }
      uint64_t ls = tile == ntiles[n] - 1 ? r->linear_last_lane_stride[n] : r->linear_lane_stride[n];
      want = r->weights_offset + (uint64_t)layer * r->weights_layer_stride + r->linear_offset[n] + (uint64_t)tile * r->linear_tile_stride[n] + lane * ls;
    } else if (tl_json_streq(c->doc, kind, "norms") && !tl_json_streq(c->doc, tl_json_get(c->doc, t, "role"), "final")) {
      int role = norm_role_index(c, tl_json_get(c->doc, t, "role"));
      if (role < 0 || (uint32_t)role >= roles || !get_u32(c, t, "layer", &layer) || layer >= r->layers) {
        return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "norm region %u has no valid layer and role", i);
      }
      want = r->norms_offset + (uint64_t)layer * r->norms_layer_stride + r->norm_role_offset[role];
    } else {
      continue;
    }
    if (want != offset) {
      char rn[96] = "?";
      (void)tl_json_str(c->doc, tl_json_get(c->doc, t, "name"), rn, sizeof rn, NULL);
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the register formulas put %s at %llu, the DDR map at %llu (docs/registers.md §4)", rn,
                 (unsigned long long)want, (unsigned long long)offset);
    }
  }
  return 0;
}

static uint16_t check_matrices(const ctx_t *c, uint32_t root, tl_model *m) {
  uint32_t arr = tl_json_get(c->doc, root, "matrices");
  const uint32_t layers = m->regs.layers;
  uint8_t seen[TL_REG_WEIGHT_SCALE_COUNT];
  if (!tl_json_is(c->doc, arr, TL_JSON_ARRAY) || c->doc->toks[arr].count != layers * 7u) {
    return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "%u matrix records, expected %u layers x 7", tl_json_is(c->doc, arr, TL_JSON_ARRAY) ? c->doc->toks[arr].count : 0,
               layers);
  }
  if (layers * LINEARS > TL_REG_WEIGHT_SCALE_COUNT) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "%u layers exceed the weight_scale registers", layers);
  memset(seen, 0, sizeof seen);
  memset(m->regs.weight_scale, 0, sizeof m->regs.weight_scale);
  for (uint32_t e = tl_json_first(c->doc, arr), k = 0; k < c->doc->toks[arr].count; k++, e = tl_json_skip(c->doc, e)) {
    uint32_t layer;
    int n = linear_index(c, tl_json_get(c->doc, e, "linear"));
    char bits_hex[16];
    double scale = 0;
    if (!get_u32(c, e, "layer", &layer) || n < 0 || n == 7 || layer >= layers || seen[layer * LINEARS + (uint32_t)n]) {
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "matrix record %u: layer or linear out of range or repeated", k);
    }
    seen[layer * LINEARS + (uint32_t)n] = 1;
    char *end = NULL;
    if (!tl_json_str(c->doc, tl_json_get(c->doc, e, "scale_bits"), bits_hex, sizeof bits_hex, NULL) ||
        !tl_json_f64(c->doc, tl_json_get(c->doc, e, "scale"), &scale) || strncmp(bits_hex, "0x", 2) != 0 || strlen(bits_hex) != 10) {
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "matrix layer %u %s: scale or scale_bits missing", layer, linear_names[n]);
    }
    unsigned long bits = strtoul(bits_hex + 2, &end, 16);
    float f = tl_bits_f32((uint32_t)bits);
    if (end == NULL || *end != '\0' || !(f > 0) || f != f || (double)f != scale || tl_ftz(f) != f || f > 3.4028234663852886e38) {
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "matrix layer %u %s: scale %g (%s) is not a positive normal binary32 value matching its bits", layer,
                 linear_names[n], scale, bits_hex);
    }
    m->regs.weight_scale[layer * LINEARS + (uint32_t)n] = (uint32_t)bits;
  }
  return 0;
}

static int cmp_by_file_offset(const void *a, const void *b, void *ctx) {
  const tl_image_section *s = (const tl_image_section *)ctx;
  uint64_t x = s[*(const uint32_t *)a].file_offset, y = s[*(const uint32_t *)b].file_offset;
  return x < y ? -1 : x > y;
}

/* qsort_r is not C11: a small insertion sort over indices (sections arrive sorted, so this is linear). */
static void sort_sections(uint32_t *order, uint32_t n, const tl_image_section *s) {
  for (uint32_t i = 0; i < n; i++) order[i] = i;
  for (uint32_t i = 1; i < n; i++) {
    uint32_t v = order[i], j = i;
    while (j > 0 && cmp_by_file_offset(&v, &order[j - 1], (void *)s) < 0) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = v;
  }
}

static uint16_t check_sections(const ctx_t *c, uint32_t root, const regions_t *rg, uint64_t manifest_offset, tl_image_buffers *b, tl_model *m) {
  uint32_t arr = tl_json_get(c->doc, root, "sections");
  if (!tl_json_is(c->doc, arr, TL_JSON_ARRAY)) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "the manifest has no sections array");
  uint32_t n = c->doc->toks[arr].count;
  if (n > b->sections_cap) return bad(c, TL_PROTO_ERR_NO_MEMORY, "%u sections exceed the firmware's table of %u", n, b->sections_cap);
  uint32_t ddr_sections = 0;
  for (uint32_t e = tl_json_first(c->doc, arr), k = 0; k < n; k++, e = tl_json_skip(c->doc, e)) {
    tl_image_section *s = &b->sections[k];
    char hex[80], sname[96] = "?";
    uint32_t nt = tl_json_get(c->doc, e, "name"), dd = tl_json_get(c->doc, e, "ddr_offset");
    (void)tl_json_str(c->doc, nt, sname, sizeof sname, NULL);
    s->name_tok = nt;
    if (!tl_json_is(c->doc, nt, TL_JSON_STRING) || !get_u64(c, e, "offset", &s->file_offset) || !get_u64(c, e, "size", &s->size) ||
        !tl_json_str(c->doc, tl_json_get(c->doc, e, "sha256"), hex, sizeof hex, NULL) || !tl_sha256_from_hex(hex, strlen(hex), s->sha256)) {
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "section record %u (%s) lacks a name, offset, size or sha256", k, sname);
    }
    if (tl_json_is(c->doc, dd, TL_JSON_NULL)) {
      s->ddr_offset = IMG_NO_DDR;
      if (strncmp(sname, "host.", 5) != 0) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "section %s has no DDR offset but is not a host section", sname);
    } else if (!tl_json_u64(c->doc, dd, &s->ddr_offset)) {
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "section %s: ddr_offset is not an offset", sname);
    } else {
      ddr_sections++;
    }
    if (s->file_offset % IMG_ALIGN != 0) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "section %s starts at %llu, not a multiple of 4096", sname, (unsigned long long)s->file_offset);
    if (s->file_offset < IMG_ALIGN || s->file_offset + s->size > manifest_offset) {
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "section %s [%llu, %llu) lies outside the data area [4096, %llu)", sname, (unsigned long long)s->file_offset,
                 (unsigned long long)(s->file_offset + s->size), (unsigned long long)manifest_offset);
    }
  }
  sort_sections(b->order, n, b->sections);
  for (uint32_t i = 1; i < n; i++) {
    const tl_image_section *p = &b->sections[b->order[i - 1]], *q = &b->sections[b->order[i]];
    if (q->file_offset < p->file_offset + p->size) {
      char a[96] = "?", bb[96] = "?";
      (void)tl_json_str(c->doc, p->name_tok, a, sizeof a, NULL);
      (void)tl_json_str(c->doc, q->name_tok, bb, sizeof bb, NULL);
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "section %s overlaps section %s", bb, a);
    }
  }
  /* Sections <-> DDR regions: each region the image carries has its section, same size and offset. */
  uint32_t carried = 0, hint = 0;
  for (uint32_t i = 0; i < rg->count; i++) {
    uint32_t t = rg->toks[i];
    uint32_t in = tl_json_get(c->doc, t, "in_image");
    uint64_t roff, rsize;
    char rn[96] = "?";
    if (!tl_json_is(c->doc, in, TL_JSON_TRUE)) continue;
    carried++;
    (void)tl_json_str(c->doc, tl_json_get(c->doc, t, "name"), rn, sizeof rn, NULL);
    if (!get_u64(c, t, "offset", &roff) || !get_u64(c, t, "size", &rsize)) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "DDR region %s lacks offset or size", rn);
    uint32_t found = UINT32_MAX;
    for (uint32_t k = 0; k < n; k++) {
      uint32_t j = (hint + k) % n;
      if (tl_json_streq(c->doc, b->sections[j].name_tok, rn)) {
        found = j;
        hint = j + 1;
        break;
      }
    }
    if (found == UINT32_MAX) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "no section for DDR region %s (%llu bytes)", rn, (unsigned long long)rsize);
    const tl_image_section *s = &b->sections[found];
    if (s->size != rsize || s->ddr_offset != roff) {
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "section %s is %llu bytes for DDR offset %llu, but the DDR map says %llu bytes at %llu", rn,
                 (unsigned long long)s->size, (unsigned long long)s->ddr_offset, (unsigned long long)rsize, (unsigned long long)roff);
    }
    if (roff % IMG_ALIGN != 0 || roff + rsize > m->ddr_total) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "DDR region %s lies outside the DDR map", rn);
  }
  if (carried != ddr_sections) {
    return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "%u sections have DDR offsets but the DDR map carries %u regions in the image", ddr_sections, carried);
  }
  m->sections = n;
  return 0;
}

/* Every section's sha256 and the zero padding between and around them, streamed. */
static uint16_t check_contents(const ctx_t *c, int fd, uint64_t manifest_offset, tl_image_buffers *b, uint32_t n) {
  uint64_t end = IMG_ALIGN;
  for (uint32_t i = 0; i <= n; i++) {
    const tl_image_section *s = i < n ? &b->sections[b->order[i]] : NULL;
    uint64_t next = s ? s->file_offset : manifest_offset;
    for (uint64_t pos = end; pos < next;) {
      size_t k = (size_t)(next - pos < b->io_cap ? next - pos : b->io_cap);
      if (!read_at(fd, b->io, k, pos)) return bad(c, TL_PROTO_ERR_IMAGE_IO, "read error at byte %llu", (unsigned long long)pos);
      for (size_t j = 0; j < k; j++) {
        if (b->io[j] != 0) return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "byte %llu (padding) is %u, expected 0", (unsigned long long)(pos + j), b->io[j]);
      }
      pos += k;
    }
    if (!s) break;
    tl_sha256_ctx h;
    uint8_t digest[32];
    tl_sha256_init(&h);
    for (uint64_t pos = 0; pos < s->size;) {
      size_t k = (size_t)(s->size - pos < b->io_cap ? s->size - pos : b->io_cap);
      if (!read_at(fd, b->io, k, s->file_offset + pos)) return bad(c, TL_PROTO_ERR_IMAGE_IO, "read error at byte %llu", (unsigned long long)(s->file_offset + pos));
      tl_sha256_update(&h, b->io, k);
      pos += k;
    }
    tl_sha256_final(&h, digest);
    if (memcmp(digest, s->sha256, 32) != 0) {
      char name[96] = "?", have[65];
      (void)tl_json_str(c->doc, s->name_tok, name, sizeof name, NULL);
      tl_sha256_hex(digest, have);
      return bad(c, TL_PROTO_ERR_IMAGE_INVALID, "section %s (bytes %llu..%llu) fails its checksum: sha256 %.16s... differs from the manifest's", name,
                 (unsigned long long)s->file_offset, (unsigned long long)(s->file_offset + s->size - 1), have);
    }
    end = s->file_offset + s->size;
  }
  return 0;
}

uint16_t tl_image_validate(const char *path, const tl_board_desc *board, uint64_t ddr_bytes, tl_image_buffers *b, tl_model *m, char *detail,
                           size_t len) {
  ctx_t c = {path, detail, len, NULL};
  tl_json_doc doc;
  struct stat st;
  uint8_t header[IMG_HEADER_BYTES], digest[32];
  uint64_t moff = 0, mlen = 0;
  uint16_t e = 0;
  memset(m, 0, sizeof *m);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return bad(&c, TL_PROTO_ERR_IMAGE_IO, "cannot open: %s", strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return bad(&c, TL_PROTO_ERR_IMAGE_IO, "not a regular file");
  }
  if ((uint64_t)st.st_size < IMG_HEADER_BYTES) {
    close(fd);
    return bad(&c, TL_PROTO_ERR_IMAGE_INVALID, "%llu bytes is shorter than the 128-byte image header", (unsigned long long)st.st_size);
  }
  if (!read_at(fd, header, IMG_HEADER_BYTES, 0)) e = bad(&c, TL_PROTO_ERR_IMAGE_IO, "cannot read the header");
  if (!e) e = check_header(&c, header, (uint64_t)st.st_size, &moff, &mlen);
  if (!e && mlen > b->manifest_cap) {
    e = bad(&c, TL_PROTO_ERR_NO_MEMORY, "the manifest is %llu bytes, more than the firmware's %zu-byte buffer", (unsigned long long)mlen, b->manifest_cap);
  }
  if (!e && !read_at(fd, b->manifest, (size_t)mlen, moff)) e = bad(&c, TL_PROTO_ERR_IMAGE_IO, "cannot read the manifest");
  if (!e) {
    tl_sha256(b->manifest, (size_t)mlen, digest);
    if (memcmp(digest, header + 32, 32) != 0) e = bad(&c, TL_PROTO_ERR_IMAGE_INVALID, "the manifest fails its checksum (sha256 differs from the header's)");
  }
  char perr[128];
  if (!e && !tl_json_parse(&doc, b->manifest, (size_t)mlen, b->toks, b->toks_cap, perr, sizeof perr)) {
    e = strstr(perr, "too many") ? bad(&c, TL_PROTO_ERR_NO_MEMORY, "the manifest has more JSON tokens than the firmware's %u", b->toks_cap)
                                 : bad(&c, TL_PROTO_ERR_IMAGE_INVALID, "the manifest is not valid UTF-8 JSON: %s", perr);
  }
  c.doc = &doc;
  uint64_t v = 0;
  if (!e && !tl_json_is(&doc, 0, TL_JSON_OBJECT)) e = bad(&c, TL_PROTO_ERR_IMAGE_INVALID, "the manifest is not a JSON object");
  if (!e && !tl_json_streq(&doc, tl_json_get(&doc, 0, "format"), "tellme-image")) e = bad(&c, TL_PROTO_ERR_IMAGE_INVALID, "the manifest's format is not \"tellme-image\"");
  if (!e && (!get_u64(&c, 0, "format_version", &v) || v != IMG_FORMAT_VERSION)) {
    e = bad(&c, TL_PROTO_ERR_IMAGE_INVALID, "unknown image manifest format version; this firmware reads version %u (it must equal the header's)", IMG_FORMAT_VERSION);
  }
  if (!e) e = check_hardware(&c, 0, board);
  if (!e && board->lm_head_shortlist && !board->lm_head_on_arm) {
    e = bad(&c, TL_PROTO_ERR_IMAGE_HW_MISMATCH,
            "hardware.config.numerics.lm_head is ternary-shortlist: this firmware reads the int8 head's records (docs/accelerator.md §2), "
            "not the shortlist's; convert the model for a build with numerics.lm_head int8");
  }
  if (!e) e = check_spec(&c, 0, board, m);
  /* The DDR map. */
  uint32_t ddr = tl_json_get(&doc, 0, "ddr");
  uint32_t regions_arr = tl_json_get(&doc, ddr, "regions");
  regions_t rg = {regions_arr, 0, NULL};
  if (!e) {
    uint64_t align = 0, ctx = 0;
    uint32_t context = 0;
    if (!get_u32(&c, 0, "context", &context) || !get_u64(&c, ddr, "context", &ctx) || !get_u64(&c, ddr, "alignment", &align) ||
        !get_u64(&c, ddr, "total_bytes", &m->ddr_total) || !tl_json_is(&doc, regions_arr, TL_JSON_ARRAY)) {
      e = bad(&c, TL_PROTO_ERR_IMAGE_INVALID, "the manifest's context or DDR map (alignment, context, total_bytes, regions) is missing");
    } else if (ctx != context || context == 0 || context > m->max_positions || context > board->max_context) {
      e = bad(&c, TL_PROTO_ERR_IMAGE_INVALID, "context %u (DDR map: %llu) is not within the model's %u positions and the build's %u", context,
              (unsigned long long)ctx, m->max_positions, board->max_context);
    } else if (align != IMG_ALIGN) {
      e = bad(&c, TL_PROTO_ERR_IMAGE_INVALID, "the DDR map's alignment is %llu, expected 4096", (unsigned long long)align);
    } else if (m->ddr_total > ddr_bytes) {
      e = bad(&c, TL_PROTO_ERR_IMAGE_TOO_LARGE, "the DDR map needs %llu bytes, the board's window has %llu", (unsigned long long)m->ddr_total,
              (unsigned long long)ddr_bytes);
    } else if (doc.toks[regions_arr].count > b->sections_cap) {
      e = bad(&c, TL_PROTO_ERR_NO_MEMORY, "%u DDR regions exceed the firmware's table of %u", doc.toks[regions_arr].count, b->sections_cap);
    } else {
      m->regs.context = context;
      rg.count = doc.toks[regions_arr].count;
      rg.toks = b->regions;
      uint32_t t = tl_json_first(&doc, regions_arr);
      for (uint32_t i = 0; i < rg.count; i++, t = tl_json_skip(&doc, t)) rg.toks[i] = t;
    }
  }
  if (!e) e = derive_registers(&c, 0, &rg, board, m);
  if (!e) e = check_matrices(&c, 0, m);
  if (!e) e = check_sections(&c, 0, &rg, moff, b, m);
  if (!e) e = check_contents(&c, fd, moff, b, m->sections);
  if (!e) {
    memcpy(m->manifest_sha256, header + 32, 32);
    m->file_size = (uint64_t)st.st_size;
  }
  close(fd);
  return e;
}

uint16_t tl_image_load(const char *path, const tl_model *m, tl_image_buffers *b, tl_hal *hal, char *detail, size_t len) {
  ctx_t c = {path, detail, len, NULL};
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return bad(&c, TL_PROTO_ERR_IMAGE_IO, "cannot open: %s", strerror(errno));
  uint16_t e = 0;
  for (uint32_t i = 0; i < m->sections && !e; i++) {
    const tl_image_section *s = &b->sections[i];
    if (s->ddr_offset == IMG_NO_DDR) continue;
    for (uint64_t pos = 0; pos < s->size && !e;) {
      size_t k = (size_t)(s->size - pos < b->io_cap ? s->size - pos : b->io_cap);
      if (!read_at(fd, b->io, k, s->file_offset + pos)) e = bad(&c, TL_PROTO_ERR_IMAGE_IO, "read error at byte %llu", (unsigned long long)(s->file_offset + pos));
      else if (tl_hal_mem_write(hal, s->ddr_offset + pos, b->io, k) != TL_OK) e = bad(&c, TL_PROTO_ERR_INTERNAL, "cannot write DDR: %s", tl_hal_error(hal));
      pos += k;
    }
  }
  close(fd);
  return e;
}
