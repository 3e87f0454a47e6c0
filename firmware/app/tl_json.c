/* The bounded JSON parser of tl_json.h: iterative (an explicit container stack), no allocation. */
#include "tl_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl_protocol.h"  // Generated: tl_proto_utf8_valid.

enum { S_VALUE, S_ARRAY_FIRST, S_OBJECT_FIRST, S_KEY, S_COLON, S_AFTER_VALUE };

static int fail(char *err, size_t errlen, const char *what, size_t at) {
  if (err && errlen) snprintf(err, errlen, "%s at byte %zu", what, at);
  return 0;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* Scan a number literal at *pos; returns 0 when it is malformed. */
static int scan_number(const char *s, size_t len, size_t *pos) {
  size_t p = *pos;
  if (p < len && s[p] == '-') p++;
  if (p >= len || !is_digit(s[p])) return 0;
  if (s[p] == '0') p++;
  else while (p < len && is_digit(s[p])) p++;
  if (p < len && s[p] == '.') {
    p++;
    if (p >= len || !is_digit(s[p])) return 0;
    while (p < len && is_digit(s[p])) p++;
  }
  if (p < len && (s[p] == 'e' || s[p] == 'E')) {
    p++;
    if (p < len && (s[p] == '+' || s[p] == '-')) p++;
    if (p >= len || !is_digit(s[p])) return 0;
    while (p < len && is_digit(s[p])) p++;
  }
  *pos = p;
  return 1;
}

static int hex4(const char *s, uint32_t *out) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

/* Scan a string body after its opening quote; *pos ends on the closing quote. */
static int scan_string(const char *s, size_t len, size_t *pos) {
  size_t p = *pos;
  while (p < len) {
    unsigned char c = (unsigned char)s[p];
    if (c == '"') {
      *pos = p;
      return 1;
    }
    if (c < 0x20u) return 0;
    if (c == '\\') {
      if (p + 1 >= len) return 0;
      char e = s[p + 1];
      if (e == 'u') {
        uint32_t v;
        if (p + 6 > len || !hex4(s + p + 2, &v)) return 0;
        p += 6;
        continue;
      }
      if (!strchr("\"\\/bfnrt", e) || e == '\0') return 0;
      p += 2;
      continue;
    }
    p++;
  }
  return 0;
}

static int add_tok(tl_json_doc *d, uint32_t cap, uint32_t type, size_t start, size_t end) {
  if (d->ntoks >= cap) return 0;
  tl_json_tok *t = &d->toks[d->ntoks++];
  t->type = type;
  t->start = (uint32_t)start;
  t->end = (uint32_t)end;
  t->count = 0;
  t->next = d->ntoks;
  return 1;
}

int tl_json_parse(tl_json_doc *doc, const char *text, size_t len, tl_json_tok *toks, uint32_t cap, char *err, size_t errlen) {
  uint32_t stack[TL_JSON_MAX_DEPTH];
  uint32_t depth = 0;
  size_t p = 0;
  int state = S_VALUE;
  doc->text = text;
  doc->len = len;
  doc->toks = toks;
  doc->ntoks = 0;
  if (len > UINT32_MAX - 1u) return fail(err, errlen, "text too long", 0);
  if (!tl_proto_utf8_valid((const uint8_t *)text, (uint32_t)len)) return fail(err, errlen, "not UTF-8", 0);
  /* A decoder strips a leading byte-order mark before JSON.parse sees the text. */
  if (len >= 3 && (unsigned char)text[0] == 0xefu && (unsigned char)text[1] == 0xbbu && (unsigned char)text[2] == 0xbfu) p = 3;
  for (;;) {
    while (p < len && is_ws(text[p])) p++;
    if (state == S_AFTER_VALUE && depth == 0) {
      if (p != len) return fail(err, errlen, "unexpected text after the JSON value", p);
      return 1;
    }
    if (p >= len) return fail(err, errlen, "unexpected end of text", p);
    char c = text[p];
    uint32_t top = depth ? stack[depth - 1] : 0;
    int in_object = depth && toks[top].type == TL_JSON_OBJECT;
    switch (state) {
      case S_AFTER_VALUE:
        if (c == ',') {
          p++;
          state = in_object ? S_KEY : S_VALUE;
          continue;
        }
        if (c == (in_object ? '}' : ']')) {
          p++;
          toks[top].end = (uint32_t)p;
          toks[top].next = doc->ntoks;
          depth--;
          if (depth && toks[stack[depth - 1]].type == TL_JSON_ARRAY) toks[stack[depth - 1]].count++;
          state = S_AFTER_VALUE;
          continue;
        }
        return fail(err, errlen, in_object ? "expected ',' or '}'" : "expected ',' or ']'", p);
      case S_COLON:
        if (c != ':') return fail(err, errlen, "expected ':'", p);
        p++;
        state = S_VALUE;
        continue;
      case S_OBJECT_FIRST:
        if (c == '}') {
          p++;
          toks[top].end = (uint32_t)p;
          toks[top].next = doc->ntoks;
          depth--;
          if (depth && toks[stack[depth - 1]].type == TL_JSON_ARRAY) toks[stack[depth - 1]].count++;
          state = S_AFTER_VALUE;
          continue;
        }
        /* fall through: a key */
        /* FALLTHROUGH */
      case S_KEY: {
        if (c != '"') return fail(err, errlen, "expected a string key", p);
        size_t q = p + 1;
        if (!scan_string(text, len, &q)) return fail(err, errlen, "malformed string", p);
        if (!add_tok(doc, cap, TL_JSON_STRING, p + 1, q)) return fail(err, errlen, "too many JSON tokens", p);
        toks[top].count++;
        p = q + 1;
        state = S_COLON;
        continue;
      }
      case S_ARRAY_FIRST:
        if (c == ']') {
          p++;
          toks[top].end = (uint32_t)p;
          toks[top].next = doc->ntoks;
          depth--;
          if (depth && toks[stack[depth - 1]].type == TL_JSON_ARRAY) toks[stack[depth - 1]].count++;
          state = S_AFTER_VALUE;
          continue;
        }
        /* FALLTHROUGH */
      case S_VALUE:
      default: {
        size_t start = p;
        uint32_t type;
        if (c == '{' || c == '[') {
          if (depth >= TL_JSON_MAX_DEPTH) return fail(err, errlen, "JSON nested too deeply", p);
          if (!add_tok(doc, cap, c == '{' ? TL_JSON_OBJECT : TL_JSON_ARRAY, p, p + 1)) return fail(err, errlen, "too many JSON tokens", p);
          stack[depth++] = doc->ntoks - 1u;
          p++;
          state = c == '{' ? S_OBJECT_FIRST : S_ARRAY_FIRST;
          continue;
        }
        if (c == '"') {
          size_t q = p + 1;
          if (!scan_string(text, len, &q)) return fail(err, errlen, "malformed string", p);
          if (!add_tok(doc, cap, TL_JSON_STRING, p + 1, q)) return fail(err, errlen, "too many JSON tokens", p);
          p = q + 1;
        } else if (c == '-' || is_digit(c)) {
          if (!scan_number(text, len, &p)) return fail(err, errlen, "malformed number", start);
          if (!add_tok(doc, cap, TL_JSON_NUMBER, start, p)) return fail(err, errlen, "too many JSON tokens", start);
        } else {
          static const struct { const char *word; uint32_t type; } lits[] = {
              {"true", TL_JSON_TRUE}, {"false", TL_JSON_FALSE}, {"null", TL_JSON_NULL}};
          type = 99;
          for (size_t k = 0; k < 3; k++) {
            size_t n = strlen(lits[k].word);
            if (len - p >= n && memcmp(text + p, lits[k].word, n) == 0) {
              type = lits[k].type;
              p += n;
              break;
            }
          }
          if (type == 99) return fail(err, errlen, "unexpected character", p);
          if (!add_tok(doc, cap, type, start, p)) return fail(err, errlen, "too many JSON tokens", start);
        }
        if (depth && toks[top].type == TL_JSON_ARRAY) toks[top].count++;
        state = S_AFTER_VALUE;
        continue;
      }
    }
  }
}

/* ---- decoding string tokens ---- */

/* Next code point of a string token's raw text at *p (< end); lone surrogates are returned as such. */
static uint32_t next_cp(const char *s, size_t *p, size_t end) {
  unsigned char c = (unsigned char)s[*p];
  if (c == '\\') {
    char e = s[*p + 1];
    *p += 2;
    switch (e) {
      case 'b': return 0x08;
      case 'f': return 0x0c;
      case 'n': return 0x0a;
      case 'r': return 0x0d;
      case 't': return 0x09;
      case 'u': {
        uint32_t v = 0, lo = 0;
        (void)hex4(s + *p, &v);
        *p += 4;
        if (v >= 0xd800u && v < 0xdc00u && *p + 6 <= end && s[*p] == '\\' && s[*p + 1] == 'u' && hex4(s + *p + 2, &lo) &&
            lo >= 0xdc00u && lo < 0xe000u) {
          *p += 6;
          return 0x10000u + ((v - 0xd800u) << 10) + (lo - 0xdc00u);
        }
        return v;
      }
      default: return (uint32_t)(unsigned char)e; /* \" \\ \/ */
    }
  }
  /* Raw UTF-8 (validated by the parser). */
  uint32_t n = c < 0x80u ? 1 : c < 0xe0u ? 2 : c < 0xf0u ? 3 : 4;
  uint32_t v = n == 1 ? c : n == 2 ? (c & 0x1fu) : n == 3 ? (c & 0x0fu) : (c & 0x07u);
  for (uint32_t k = 1; k < n; k++) v = (v << 6) | ((unsigned char)s[*p + k] & 0x3fu);
  *p += n;
  return v;
}

static int is_surrogate(uint32_t cp) { return cp >= 0xd800u && cp < 0xe000u; }

static size_t put_utf8(uint32_t cp, char *out) {
  if (cp < 0x80u) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800u) {
    out[0] = (char)(0xc0u | (cp >> 6));
    out[1] = (char)(0x80u | (cp & 0x3fu));
    return 2;
  }
  if (cp < 0x10000u) {
    out[0] = (char)(0xe0u | (cp >> 12));
    out[1] = (char)(0x80u | ((cp >> 6) & 0x3fu));
    out[2] = (char)(0x80u | (cp & 0x3fu));
    return 3;
  }
  out[0] = (char)(0xf0u | (cp >> 18));
  out[1] = (char)(0x80u | ((cp >> 12) & 0x3fu));
  out[2] = (char)(0x80u | ((cp >> 6) & 0x3fu));
  out[3] = (char)(0x80u | (cp & 0x3fu));
  return 4;
}

int tl_json_str(const tl_json_doc *doc, uint32_t i, char *buf, size_t cap, size_t *len_out) {
  if (!tl_json_is(doc, i, TL_JSON_STRING) || cap == 0) return 0;
  const tl_json_tok *t = &doc->toks[i];
  size_t p = t->start, n = 0;
  while (p < t->end) {
    uint32_t cp = next_cp(doc->text, &p, t->end);
    if (is_surrogate(cp)) return 0;
    char tmp[4];
    size_t k = put_utf8(cp, tmp);
    if (n + k + 1 > cap) return 0;
    memcpy(buf + n, tmp, k);
    n += k;
  }
  buf[n] = '\0';
  if (len_out) *len_out = n;
  return 1;
}

int tl_json_streq(const tl_json_doc *doc, uint32_t i, const char *s) {
  if (!tl_json_is(doc, i, TL_JSON_STRING)) return 0;
  const tl_json_tok *t = &doc->toks[i];
  size_t p = t->start, k = 0, n = strlen(s);
  while (p < t->end) {
    uint32_t cp = next_cp(doc->text, &p, t->end);
    char tmp[4];
    size_t m = put_utf8(cp, tmp);
    if (is_surrogate(cp) || k + m > n || memcmp(s + k, tmp, m) != 0) return 0;
    k += m;
  }
  return k == n;
}

uint32_t tl_json_get(const tl_json_doc *doc, uint32_t obj, const char *key) {
  if (!tl_json_is(doc, obj, TL_JSON_OBJECT)) return TL_JSON_NONE;
  uint32_t found = TL_JSON_NONE, k = obj + 1u;
  for (uint32_t m = 0; m < doc->toks[obj].count; m++) {
    if (tl_json_streq(doc, k, key)) found = k + 1u;
    k = doc->toks[k + 1u].next;
  }
  return found;
}

uint32_t tl_json_at(const tl_json_doc *doc, uint32_t arr, uint32_t k) {
  if (!tl_json_is(doc, arr, TL_JSON_ARRAY) || k >= doc->toks[arr].count) return TL_JSON_NONE;
  uint32_t e = arr + 1u;
  while (k--) e = doc->toks[e].next;
  return e;
}

int tl_json_u64(const tl_json_doc *doc, uint32_t i, uint64_t *out) {
  if (!tl_json_is(doc, i, TL_JSON_NUMBER)) return 0;
  const tl_json_tok *t = &doc->toks[i];
  uint64_t v = 0;
  if (t->end - t->start > 16u) return 0;
  for (uint32_t p = t->start; p < t->end; p++) {
    char c = doc->text[p];
    if (!is_digit(c)) return 0;
    v = v * 10u + (uint64_t)(c - '0');
  }
  if (v > TL_PROTO_U64_MAX) return 0;
  *out = v;
  return 1;
}

int tl_json_f64(const tl_json_doc *doc, uint32_t i, double *out) {
  if (!tl_json_is(doc, i, TL_JSON_NUMBER)) return 0;
  const tl_json_tok *t = &doc->toks[i];
  char buf[128];
  size_t n = t->end - t->start;
  if (n >= sizeof buf) return 0;
  memcpy(buf, doc->text + t->start, n);
  buf[n] = '\0';
  *out = strtod(buf, NULL);
  return 1;
}

/* ---- canonical JSON (hwconfig/hash.ts canonicalJson) into a sha256 ---- */

#define CANON_MAX_MEMBERS 128u

/* JSON.stringify of a string token's value. */
static void canon_string(const tl_json_doc *doc, uint32_t i, tl_sha256_ctx *h) {
  static const char hexd[] = "0123456789abcdef";
  const tl_json_tok *t = &doc->toks[i];
  size_t p = t->start;
  tl_sha256_update(h, "\"", 1);
  while (p < t->end) {
    uint32_t cp = next_cp(doc->text, &p, t->end);
    char tmp[8];
    size_t n;
    if (cp == '"' || cp == '\\') {
      tmp[0] = '\\';
      tmp[1] = (char)cp;
      n = 2;
    } else if (cp == 0x08 || cp == 0x0c || cp == 0x0a || cp == 0x0d || cp == 0x09) {
      tmp[0] = '\\';
      tmp[1] = cp == 0x08 ? 'b' : cp == 0x0c ? 'f' : cp == 0x0a ? 'n' : cp == 0x0d ? 'r' : 't';
      n = 2;
    } else if (cp < 0x20u || is_surrogate(cp)) {
      tmp[0] = '\\';
      tmp[1] = 'u';
      tmp[2] = hexd[(cp >> 12) & 15u];
      tmp[3] = hexd[(cp >> 8) & 15u];
      tmp[4] = hexd[(cp >> 4) & 15u];
      tmp[5] = hexd[cp & 15u];
      n = 6;
    } else {
      n = put_utf8(cp, tmp);
    }
    tl_sha256_update(h, tmp, n);
  }
  tl_sha256_update(h, "\"", 1);
}

/* JSON.stringify of a number (Number.prototype.toString: the shortest digits that read back). */
static void canon_number(const tl_json_doc *doc, uint32_t i, tl_sha256_ctx *h) {
  double v = 0;
  char out[64];
  (void)tl_json_f64(doc, i, &v);
  if (v == 0) {
    tl_sha256_update(h, "0", 1);
    return;
  }
  char e_form[40];
  int prec;
  for (prec = 1; prec <= 17; prec++) {
    snprintf(e_form, sizeof e_form, "%.*e", prec - 1, v);
    if (strtod(e_form, NULL) == v) break;
  }
  /* e_form: [-]d[.ddd]e[+-]XX -> digits and the decimal exponent n (value = 0.digits * 10^n). */
  char digits[24];
  size_t nd = 0, p = 0;
  int neg = 0;
  if (e_form[p] == '-') {
    neg = 1;
    p++;
  }
  for (; e_form[p] && e_form[p] != 'e'; p++) {
    if (is_digit(e_form[p])) digits[nd++] = e_form[p];
  }
  int exp10 = atoi(e_form + p + 1);
  while (nd > 1 && digits[nd - 1] == '0') nd--;
  int n = exp10 + 1;
  int k = (int)nd;
  size_t o = 0;
  if (neg) out[o++] = '-';
  if (k <= n && n <= 21) {
    memcpy(out + o, digits, nd);
    o += nd;
    for (int z = 0; z < n - k; z++) out[o++] = '0';
  } else if (0 < n && n <= 21) {
    memcpy(out + o, digits, (size_t)n);
    o += (size_t)n;
    out[o++] = '.';
    memcpy(out + o, digits + n, nd - (size_t)n);
    o += nd - (size_t)n;
  } else if (-6 < n && n <= 0) {
    out[o++] = '0';
    out[o++] = '.';
    for (int z = 0; z < -n; z++) out[o++] = '0';
    memcpy(out + o, digits, nd);
    o += nd;
  } else {
    out[o++] = digits[0];
    if (nd > 1) {
      out[o++] = '.';
      memcpy(out + o, digits + 1, nd - 1);
      o += nd - 1;
    }
    o += (size_t)snprintf(out + o, sizeof out - o, "e%c%d", n - 1 >= 0 ? '+' : '-', n - 1 >= 0 ? n - 1 : 1 - n);
  }
  tl_sha256_update(h, out, o);
}

static int key_less(const tl_json_doc *doc, uint32_t a, uint32_t b) {
  /* UTF-16 code unit order, as Array.prototype.sort compares strings. */
  size_t pa = doc->toks[a].start, pb = doc->toks[b].start;
  uint32_t ea = doc->toks[a].end, eb = doc->toks[b].end;
  uint32_t ua[2], ub[2];
  int na = 0, nb = 0, ia = 0, ib = 0;
  for (;;) {
    if (ia == na) {
      if (pa >= ea) na = 0;
      else {
        uint32_t cp = next_cp(doc->text, &pa, ea);
        if (cp >= 0x10000u) {
          ua[0] = 0xd800u + ((cp - 0x10000u) >> 10);
          ua[1] = 0xdc00u + ((cp - 0x10000u) & 0x3ffu);
          na = 2;
        } else {
          ua[0] = cp;
          na = 1;
        }
      }
      ia = 0;
    }
    if (ib == nb) {
      if (pb >= eb) nb = 0;
      else {
        uint32_t cp = next_cp(doc->text, &pb, eb);
        if (cp >= 0x10000u) {
          ub[0] = 0xd800u + ((cp - 0x10000u) >> 10);
          ub[1] = 0xdc00u + ((cp - 0x10000u) & 0x3ffu);
          nb = 2;
        } else {
          ub[0] = cp;
          nb = 1;
        }
      }
      ib = 0;
    }
    if (na == 0 || nb == 0) return na == 0 && nb != 0;
    if (ua[ia] != ub[ib]) return ua[ia] < ub[ib];
    ia++;
    ib++;
  }
}

static int canon(const tl_json_doc *doc, uint32_t i, const char *const *exclude, size_t nexclude, tl_sha256_ctx *h, unsigned depth) {
  const tl_json_tok *t = &doc->toks[i];
  if (depth > TL_JSON_MAX_DEPTH) return 0;
  switch (t->type) {
    case TL_JSON_NULL: tl_sha256_update(h, "null", 4); return 1;
    case TL_JSON_TRUE: tl_sha256_update(h, "true", 4); return 1;
    case TL_JSON_FALSE: tl_sha256_update(h, "false", 5); return 1;
    case TL_JSON_NUMBER: canon_number(doc, i, h); return 1;
    case TL_JSON_STRING: canon_string(doc, i, h); return 1;
    case TL_JSON_ARRAY: {
      uint32_t e = i + 1u;
      tl_sha256_update(h, "[", 1);
      for (uint32_t k = 0; k < t->count; k++) {
        if (k) tl_sha256_update(h, ",", 1);
        if (!canon(doc, e, NULL, 0, h, depth + 1)) return 0;
        e = doc->toks[e].next;
      }
      tl_sha256_update(h, "]", 1);
      return 1;
    }
    default: {
      uint32_t keys[CANON_MAX_MEMBERS];
      uint32_t n = 0, k = i + 1u;
      if (t->count > CANON_MAX_MEMBERS) return 0;
      for (uint32_t m = 0; m < t->count; m++) {
        int skip = 0;
        for (size_t x = 0; x < nexclude; x++) skip |= tl_json_streq(doc, k, exclude[x]);
        /* A repeated key: JSON.parse keeps the last value, so drop the earlier one. */
        for (uint32_t y = 0; y < n && !skip; y++) {
          if (!key_less(doc, keys[y], k) && !key_less(doc, k, keys[y])) {
            keys[y] = keys[--n];
            break;
          }
        }
        if (!skip) keys[n++] = k;
        k = doc->toks[k + 1u].next;
      }
      for (uint32_t a = 1; a < n; a++) { /* insertion sort: objects are small */
        uint32_t v = keys[a], b = a;
        while (b > 0 && key_less(doc, v, keys[b - 1])) {
          keys[b] = keys[b - 1];
          b--;
        }
        keys[b] = v;
      }
      tl_sha256_update(h, "{", 1);
      for (uint32_t a = 0; a < n; a++) {
        if (a) tl_sha256_update(h, ",", 1);
        canon_string(doc, keys[a], h);
        tl_sha256_update(h, ":", 1);
        if (!canon(doc, keys[a] + 1u, NULL, 0, h, depth + 1)) return 0;
      }
      tl_sha256_update(h, "}", 1);
      return 1;
    }
  }
}

int tl_json_canonical_sha256(const tl_json_doc *doc, uint32_t i, const char *const *exclude, size_t nexclude,
                             uint8_t out[TL_SHA256_BYTES]) {
  tl_sha256_ctx h;
  if (i >= doc->ntoks) return 0;
  tl_sha256_init(&h);
  if (!canon(doc, i, exclude, nexclude, &h, 0)) return 0;
  tl_sha256_final(&h, out);
  return 1;
}
