/*
 * A small, bounded JSON parser (RFC 8259) for the model image manifest: it tokenises the text
 * into a caller-provided token array (no allocation), refuses anything JSON.parse would refuse
 * (and text that is not UTF-8), limits the nesting depth, and offers lookups, numbers, strings
 * and the canonical form the hardware-set hash is taken over (docs/layout.md §1).
 *
 * Token i of a container is followed by its children; `next` is the index just past its subtree,
 * so siblings are walked without recursion. Object members are a key token (a string) followed by
 * the value's tokens.
 */
#ifndef TL_JSON_H
#define TL_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "tl_sha256.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  TL_JSON_NULL = 0,
  TL_JSON_FALSE,
  TL_JSON_TRUE,
  TL_JSON_NUMBER,
  TL_JSON_STRING,
  TL_JSON_ARRAY,
  TL_JSON_OBJECT,
} tl_json_type;

typedef struct {
  uint32_t type;  /* tl_json_type */
  uint32_t start; /* first byte: strings the byte after the quote, containers the bracket */
  uint32_t end;   /* one past the last byte: strings the closing quote, containers past the bracket */
  uint32_t count; /* array elements or object members */
  uint32_t next;  /* index just past this token's subtree */
} tl_json_tok;

typedef struct {
  const char *text;
  size_t len;
  tl_json_tok *toks;
  uint32_t ntoks;
} tl_json_doc;

#define TL_JSON_MAX_DEPTH 64u
/** The "no such member or element" index. */
#define TL_JSON_NONE UINT32_MAX

/**
 * Parse text (len bytes, no NUL needed) into toks[cap]. Returns 1 on success; 0 with a message
 * naming the byte offset in err on invalid JSON, too many tokens or too deep a nesting.
 */
int tl_json_parse(tl_json_doc *doc, const char *text, size_t len, tl_json_tok *toks, uint32_t cap, char *err, size_t errlen);

/** The value of member `key` of object token `obj` (the last one if repeated, as JSON.parse), or TL_JSON_NONE. */
uint32_t tl_json_get(const tl_json_doc *doc, uint32_t obj, const char *key);

/** Element k of array token `arr`, or TL_JSON_NONE. */
uint32_t tl_json_at(const tl_json_doc *doc, uint32_t arr, uint32_t k);

/** First child (array element / object key) and the sibling after token i. */
static inline uint32_t tl_json_first(const tl_json_doc *doc, uint32_t i) { (void)doc; return i + 1u; }
static inline uint32_t tl_json_skip(const tl_json_doc *doc, uint32_t i) { return doc->toks[i].next; }

static inline int tl_json_is(const tl_json_doc *doc, uint32_t i, tl_json_type t) {
  return i < doc->ntoks && doc->toks[i].type == (uint32_t)t;
}

/** A non-negative integer literal (no fraction, no exponent, at most 2^53 - 1) into *out. */
int tl_json_u64(const tl_json_doc *doc, uint32_t i, uint64_t *out);

/** Any number into *out (binary64, as JSON.parse reads it). */
int tl_json_f64(const tl_json_doc *doc, uint32_t i, double *out);

/**
 * A string's value, unescaped, into buf[cap] with a NUL; *len_out (if not NULL) its length. Fails
 * on a non-string, a value that does not fit, or an escape that is not valid UTF-16 (lone surrogate).
 */
int tl_json_str(const tl_json_doc *doc, uint32_t i, char *buf, size_t cap, size_t *len_out);

/** Whether token i is a string equal to s. */
int tl_json_streq(const tl_json_doc *doc, uint32_t i, const char *s);

/**
 * sha256 of the canonical JSON of token i (keys sorted at every level, no whitespace, numbers and
 * strings as written — which is JSON.stringify's form for text JSON.stringify produced), leaving out
 * the named top-level members. Returns 0 when an object has more members than the sort can hold.
 */
int tl_json_canonical_sha256(const tl_json_doc *doc, uint32_t i, const char *const *exclude, size_t nexclude,
                             uint8_t out[TL_SHA256_BYTES]);

#ifdef __cplusplus
}
#endif

#endif /* TL_JSON_H */
