/* Token selection (tl_sampler.h). */
#include "tl_sampler.h"

#include <math.h>
#include <stddef.h>

#include "tl_numerics.h"  // hls/include: flushed binary32 operations and the contract's exp.

static uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

static uint32_t rotl(uint32_t x, unsigned k) { return (x << k) | (x >> (32u - k)); }

void tl_xoshiro128_seed(tl_xoshiro128 *r, uint32_t seed) {
  for (uint32_t i = 0; i < 4; i++) r->s[i] = fmix32(seed + (i + 1u) * 0x9e3779b9u);
  if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) r->s[0] = 1;
}

uint32_t tl_xoshiro128_next(tl_xoshiro128 *r) {
  uint32_t *s = r->s;
  uint32_t result = rotl(s[1] * 5u, 7) * 9u;
  uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 11);
  return result;
}

float tl_xoshiro128_uniform(tl_xoshiro128 *r) { return (float)(tl_xoshiro128_next(r) >> 8) * 0x1p-24f; }

int tl_sampling_valid(const tl_sampling *s, const char **why) {
  if (!(s->temperature >= 0) || !isfinite(s->temperature)) {
    *why = "temperature must be a finite number >= 0";
    return 0;
  }
  if (!(s->top_p > 0 && s->top_p <= 1)) {
    *why = "top_p must be in (0, 1]";
    return 0;
  }
  return 1;
}

uint32_t tl_argmax(const float *logits, uint32_t n) {
  uint32_t best = 0;
  for (uint32_t i = 1; i < n; i++)
    if (logits[i] > logits[best]) best = i;
  return best;
}

/* (logit descending, id ascending): a total order, so the sort's result is unique. */
static int before(const float *l, uint32_t a, uint32_t b) { return l[a] > l[b] || (!(l[a] < l[b]) && a < b); }

/* Heap sort of order[0..n) by `before` (no allocation, O(n log n) worst case). */
static void sift(const float *l, uint32_t *o, size_t root, size_t n) {
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= n) return;
    if (child + 1 < n && before(l, o[child], o[child + 1])) child++;
    if (!before(l, o[root], o[child])) return;
    uint32_t t = o[root];
    o[root] = o[child];
    o[child] = t;
    root = child;
  }
}

static void sort_candidates(const float *l, uint32_t *o, uint32_t n) {
  for (size_t i = n / 2; i-- > 0;) sift(l, o, i, n);
  for (size_t end = n; end-- > 1;) {
    uint32_t t = o[0];
    o[0] = o[end];
    o[end] = t;
    sift(l, o, 0, end);
  }
}

uint32_t tl_sample(const float *logits, uint32_t n, const tl_sampling *s, tl_xoshiro128 *rng, uint32_t *order, float *e) {
  if (s->temperature == 0) return tl_argmax(logits, n);
  for (uint32_t i = 0; i < n; i++) order[i] = i;
  sort_candidates(logits, order, n);
  const uint32_t k = s->top_k > 0 && s->top_k < n ? s->top_k : n;
  const float inv_t = tl_ftz((float)(1.0 / s->temperature));
  const float lmax = logits[order[0]];
  float total = 0.0f;
  for (uint32_t i = 0; i < k; i++) {
    e[i] = tl_exp(tl_mul(tl_sub(logits[order[i]], lmax), inv_t));
    total = tl_add(total, e[i]);
  }
  uint32_t kept = k;
  if (s->top_p < 1) {
    const float threshold = tl_ftz((float)(s->top_p * (double)total));
    float c = 0.0f;
    for (uint32_t i = 0; i < k; i++) {
      c = tl_add(c, e[i]);
      if (c >= threshold) {
        kept = i + 1;
        total = c;
        break;
      }
    }
  }
  const float target = tl_mul(tl_xoshiro128_uniform(rng), total);
  float c = 0.0f;
  for (uint32_t i = 0; i < kept; i++) {
    c = tl_add(c, e[i]);
    if (c > target) return order[i];
  }
  return order[kept - 1];
}
