/*
 * Conformance driver for the numerics headers (hls/include/tl_numerics.h), in C11 so that it also
 * proves the headers are the C subset the firmware can use.
 *
 *   numerics_check <vector files...>
 *
 * First it checks known answers taken from docs/numerics.md (independent of any implementation),
 * then every vector file written by the TypeScript side from host/src/numerics
 * (test/hls/numerics.test.ts): each file is one operation, its records give the inputs and the
 * expected output bits. Every word is compared; the first mismatch of each file is printed.
 * The last line on stdout is a JSON summary {"cases": n, "mismatches": n, "pass": bool};
 * the exit code is 0 only when everything matched.
 *
 * File format (little-endian u32 words): magic 'TLNV', version 1, op name (16 bytes, NUL-padded),
 * record count; then per record: kind (0 = plain, 1 = sweep), in_words, the inputs, out_words,
 * the expected outputs. A sweep record's inputs are (start bits, stride, count) of a unary
 * operation and its outputs the count results.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl_numerics.h"

static unsigned long long g_cases = 0;
static unsigned long long g_mismatches = 0;

static float F(uint32_t u) { return tl_bits_f32(u); }
static uint32_t U(float f) { return tl_f32_bits(f); }

static void known(const char *what, uint32_t got, uint32_t want) {
  g_cases++;
  if (got != want) {
    g_mismatches++;
    fprintf(stderr, "known answer %s: got 0x%08x, want 0x%08x\n", what, got, want);
  }
}

/* Worked examples of docs/numerics.md, and properties that need no reference implementation. */
static void known_answers(void) {
  known("round_even(2.5) = 2", (uint32_t)tl_round_even(2.5f), 2);
  known("round_even(3.5) = 4", (uint32_t)tl_round_even(3.5f), 4);
  known("round_even(-2.5) = -2", (uint32_t)tl_round_even(-2.5f), (uint32_t)-2);
  known("f16(1 + 2^-11) = 0x3c00", tl_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);
  known("f16(1 + 3*2^-11) = 0x3c02", tl_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);
  known("f16(65520) = 0x7bff", tl_f32_to_f16(65520.0f), 0x7bff);
  known("f16(2^-15) = 0", tl_f32_to_f16(0x1p-15f), 0x0000);
  known("f16(2^-14 - 2^-26) = 0x0400", tl_f32_to_f16(0x1p-14f - 0x1p-26f), 0x0400);
  known("f16(-inf) = 0xfbff", tl_f32_to_f16(-INFINITY), 0xfbff);
  known("exp(0) = 1", U(tl_exp(0.0f)), U(1.0f));
  known("exp(-inf) = 0", U(tl_exp(-INFINITY)), 0);
  known("exp(88.5) = inf", U(tl_exp(88.5f)), U(INFINITY));
  known("silu(-100) = -0", U(tl_silu(-100.0f)), 0x80000000u);
  known("quant floor bits", U(tl_clamp_absmax(0.0f)), 0x3727c5acu);
  known("flush 2^-127 -> 0", U(tl_mul(0x1p-63f, 0x1p-64f)), 0);
  known("flush -2^-127 -> -0", U(tl_mul(-0x1p-63f, 0x1p-64f)), 0x80000000u);
  known("ldexp keeps 2^-126 from rounding up", U(tl_ldexp(F(0x00ffffffu), -1)), 0x00800000u);
  known("ldexp flushes below 2^-126", U(tl_ldexp(F(0x00fffffeu), -1)), 0);
  /* 1e8 followed by 31 ones: 100000024 in the 16-lane order (1e8 sequentially). */
  {
    float v[32], ones[32];
    v[0] = 1e8f;
    for (int i = 1; i < 32; i++) v[i] = 1.0f;
    for (int i = 0; i < 32; i++) ones[i] = 1.0f;
    known("16-lane sum of 1e8 + 31 ones", U(tl_dot16(v, ones, 32)), U(100000024.0f));
  }
  /* A fused multiply-add would round a*b+c once: 1 + 2^-23 squared minus 1 shows it. */
  {
    volatile float a = 1.0f + 0x1p-23f, c = -1.0f;
    known("no contraction of a*b+c", U(a * a + c), U(0x1p-22f));
  }
  /* binary16 round trip of every finite normal binary16 value is exact. */
  for (uint32_t h = 0; h < 0x10000u; h++) {
    uint32_t e = (h >> 10) & 0x1f;
    if (e == 0 || e == 0x1f) continue;
    g_cases++;
    if (tl_f32_to_f16(tl_f16_to_f32((uint16_t)h)) != h) {
      g_mismatches++;
      fprintf(stderr, "known answer: binary16 0x%04x does not round-trip\n", h);
      break;
    }
  }
}

/* ---- operations, by name: in words -> out words ---- */

typedef int (*op_fn)(const uint32_t *in, uint32_t n_in, uint32_t *out, uint32_t n_out);

#define UNARY(name, expr)                                                   \
  static int op_##name(const uint32_t *in, uint32_t n_in, uint32_t *out, uint32_t n_out) { \
    if (n_in != 1 || n_out != 1) return -1;                                 \
    float x = F(in[0]);                                                     \
    (void)x;                                                                \
    out[0] = (expr);                                                        \
    return 0;                                                               \
  }
#define BINARY(name, expr)                                                  \
  static int op_##name(const uint32_t *in, uint32_t n_in, uint32_t *out, uint32_t n_out) { \
    if (n_in != 2 || n_out != 1) return -1;                                 \
    float a = F(in[0]), b = F(in[1]);                                       \
    (void)a;                                                                \
    (void)b;                                                                \
    out[0] = (expr);                                                        \
    return 0;                                                               \
  }

UNARY(sqrt, U(tl_sqrt(x)))
UNARY(exp, U(tl_exp(x)))
UNARY(rsqrt, U(tl_rsqrt(x)))
UNARY(sigmoid, U(tl_sigmoid(x)))
UNARY(silu, U(tl_silu(x)))
UNARY(frexp_exponent, (uint32_t)tl_frexp_exponent(x))
UNARY(round_even, (uint32_t)tl_round_even(x))
UNARY(f32_to_f16, tl_f32_to_f16(x))
UNARY(f16_to_f32, U(tl_f16_to_f32((uint16_t)in[0])))
UNARY(bf16_to_f32, U(tl_bf16_to_f32((uint16_t)in[0])))
UNARY(round_f16, U(tl_round_f16(x)))
UNARY(quant_multiplier, U(tl_quant_multiplier(x)))
UNARY(inv_length, U(tl_inv_length(in[0])))
BINARY(add, U(tl_add(a, b)))
BINARY(sub, U(tl_sub(a, b)))
BINARY(mul, U(tl_mul(a, b)))
BINARY(div, U(tl_div(a, b)))
BINARY(ldexp, U(tl_ldexp(a, (int32_t)in[1])))
BINARY(silu_gate, U(tl_silu_gate(a, b)))
BINARY(relu2_gate, U(tl_relu2_gate(a, b)))
BINARY(quantize, (uint32_t)(int32_t)tl_quantize(a, b))
BINARY(dequant_factor, U(tl_dequant_factor(a, b)))
BINARY(dequantize, U(tl_dequantize((int32_t)in[0], b)))
BINARY(head_dequant, U(tl_head_dequant_factor(a, b)))

static int op_rope_pair(const uint32_t *in, uint32_t n_in, uint32_t *out, uint32_t n_out) {
  if (n_in != 4 || n_out != 2) return -1;
  float a, b;
  tl_rope_pair(F(in[0]), F(in[1]), F(in[2]), F(in[3]), &a, &b);
  out[0] = U(a);
  out[1] = U(b);
  return 0;
}

/* Vectors are copied word by word into float arrays (no aliasing of u32 storage as float). */
#define MAX_VECTOR 65536
static float g_va[MAX_VECTOR], g_vb[MAX_VECTOR], g_vy[MAX_VECTOR];

static int load_floats(float *dst, const uint32_t *src, uint32_t n) {
  if (n > MAX_VECTOR) return -1;
  for (uint32_t i = 0; i < n; i++) dst[i] = F(src[i]);
  return 0;
}

/* in: n, a[n], b[n] -> dot */
static int op_dot16(const uint32_t *in, uint32_t n_in, uint32_t *out, uint32_t n_out) {
  uint32_t n = in[0];
  if (n_in != 1 + 2 * n || n_out != 1 || load_floats(g_va, in + 1, n) || load_floats(g_vb, in + 1 + n, n)) return -1;
  out[0] = U(tl_dot16(g_va, g_vb, n));
  return 0;
}

/* in: n, x[n] -> sum of squares */
static int op_sum_squares16(const uint32_t *in, uint32_t n_in, uint32_t *out, uint32_t n_out) {
  uint32_t n = in[0];
  if (n_in != 1 + n || n_out != 1 || load_floats(g_va, in + 1, n)) return -1;
  out[0] = U(tl_sum_squares16(g_va, n));
  return 0;
}

/* in: n, eps, x[n], w[n] -> amax, y[n] */
static int op_rmsmax(const uint32_t *in, uint32_t n_in, uint32_t *out, uint32_t n_out) {
  uint32_t n = in[0];
  if (n_in != 2 + 2 * n || n_out != 1 + n || load_floats(g_va, in + 2, n) || load_floats(g_vb, in + 2 + n, n)) return -1;
  out[0] = U(tl_rmsmax(g_va, g_vb, n, F(in[1]), g_vy));
  for (uint32_t i = 0; i < n; i++) out[1 + i] = U(g_vy[i]);
  return 0;
}

static const struct {
  const char *name;
  op_fn fn;
} OPS[] = {
    {"add", op_add}, {"sub", op_sub}, {"mul", op_mul}, {"div", op_div}, {"sqrt", op_sqrt},
    {"ldexp", op_ldexp}, {"frexp_exponent", op_frexp_exponent}, {"round_even", op_round_even},
    {"f32_to_f16", op_f32_to_f16}, {"f16_to_f32", op_f16_to_f32}, {"bf16_to_f32", op_bf16_to_f32},
    {"round_f16", op_round_f16}, {"exp", op_exp}, {"rsqrt", op_rsqrt}, {"sigmoid", op_sigmoid},
    {"silu", op_silu}, {"silu_gate", op_silu_gate}, {"relu2_gate", op_relu2_gate},
    {"rope_pair", op_rope_pair}, {"quant_multiplier", op_quant_multiplier}, {"quantize", op_quantize},
    {"dequant_factor", op_dequant_factor}, {"dequantize", op_dequantize},
    {"head_dequant", op_head_dequant}, {"inv_length", op_inv_length},
    {"dot16", op_dot16}, {"sum_squares16", op_sum_squares16}, {"rmsmax", op_rmsmax},
};

static op_fn find_op(const char *name) {
  for (size_t i = 0; i < sizeof(OPS) / sizeof(OPS[0]); i++)
    if (strcmp(OPS[i].name, name) == 0) return OPS[i].fn;
  return NULL;
}

static uint32_t *read_file(const char *path, size_t *words) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (size < 0 || size % 4 != 0) {
    fclose(f);
    return NULL;
  }
  uint32_t *buf = (uint32_t *)malloc((size_t)size + 4);
  if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
    fclose(f);
    free(buf);
    return NULL;
  }
  fclose(f);
  *words = (size_t)size / 4;
  return buf;
}

/* Returns 0 when the file was well formed (its mismatches are counted), -1 otherwise. */
static int check_file(const char *path) {
  size_t nw = 0;
  uint32_t *w = read_file(path, &nw);
  if (!w) {
    fprintf(stderr, "%s: cannot read the vector file (missing, or not whole 32-bit words)\n", path);
    return -1;
  }
  int rc = -1;
  char name[17];
  if (nw < 7 || memcmp(w, "TLNV", 4) != 0 || w[1] != 1) {
    fprintf(stderr, "%s: not a numerics vector file (magic TLNV, version 1)\n", path);
    goto done;
  }
  memcpy(name, w + 2, 16);
  name[16] = 0;
  op_fn fn = find_op(name);
  if (!fn) {
    fprintf(stderr, "%s: unknown operation \"%s\"\n", path, name);
    goto done;
  }
  uint32_t records = w[6];
  size_t p = 7;
  unsigned long long bad = 0, cases = 0;
  static uint32_t got[MAX_VECTOR + 1];
  for (uint32_t r = 0; r < records; r++) {
    if (p + 1 >= nw) goto truncated;
    uint32_t kind = w[p++];
    uint32_t n_in = w[p++];
    if (p + n_in >= nw) goto truncated;
    const uint32_t *in = w + p;
    p += n_in;
    uint32_t n_out = w[p++];
    if (p + n_out > nw) goto truncated;
    if (kind == 0 && n_out > MAX_VECTOR + 1) goto malformed;
    const uint32_t *want = w + p;
    p += n_out;
    if (kind == 1) {
      /* sweep of a unary op: (start, stride, count) -> count results */
      if (n_in != 3 || n_out != in[2]) goto malformed;
      for (uint32_t i = 0; i < in[2]; i++) {
        uint32_t x = in[0] + i * in[1];
        if (fn(&x, 1, got, 1) != 0) goto malformed;
        cases++;
        if (got[0] != want[i] && bad++ == 0)
          fprintf(stderr, "%s: %s(0x%08x) = 0x%08x, golden 0x%08x (sweep element %u)\n", path, name, x, got[0], want[i], i);
      }
    } else if (kind == 0) {
      if (fn(in, n_in, got, n_out) != 0) goto malformed;
      cases++;
      for (uint32_t k = 0; k < n_out; k++) {
        if (got[k] != want[k]) {
          if (bad++ == 0) {
            fprintf(stderr, "%s: %s record %u, output word %u: 0x%08x, golden 0x%08x; inputs", path, name, r, k, got[k], want[k]);
            for (uint32_t j = 0; j < n_in && j < 8; j++) fprintf(stderr, " 0x%08x", in[j]);
            fprintf(stderr, "%s\n", n_in > 8 ? " ..." : "");
          }
          break;
        }
      }
    } else {
      goto malformed;
    }
  }
  if (p != nw) goto malformed;
  g_cases += cases;
  g_mismatches += bad;
  fprintf(stderr, "%s: %llu cases, %llu mismatches\n", name, cases, bad);
  rc = 0;
  goto done;
truncated:
  fprintf(stderr, "%s: truncated vector file\n", path);
  goto done;
malformed:
  fprintf(stderr, "%s: malformed record for operation %s\n", path, name);
done:
  free(w);
  return rc;
}

int main(int argc, char **argv) {
  int broken = 0;
  known_answers();
  if (argc < 2) {
    fprintf(stderr, "usage: numerics_check <vector files...> (no vector files given)\n");
    broken = 1;
  }
  for (int i = 1; i < argc; i++)
    if (check_file(argv[i]) != 0) broken = 1;
  int pass = !broken && g_mismatches == 0;
  printf("{\"cases\": %llu, \"mismatches\": %llu, \"pass\": %s}\n", g_cases, g_mismatches, pass ? "true" : "false");
  return pass ? 0 : 1;
}
