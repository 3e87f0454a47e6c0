// The int8 attention unit (attention.hpp).
#include "attention.hpp"

#include "tl_numerics.h"
#include "tl_tap.hpp"

namespace tl {

namespace {

constexpr unsigned P = hw::ATTENTION_PES;
constexpr unsigned GH = hw::INT8_GROUP_HEADS;
constexpr unsigned D = hw::MAX_HEAD_DIM;
// Assumed pipeline depths (checked by csynth; the planner counts them, host/src/plan/hls-depths.ts):
// the query rows' read; DSP cascade of the dot product, the score multiply and compare (pass 1);
// exp, the sequential add, u, the value MAC (pass 2); the output multiply.
constexpr unsigned LOAD_Q_DEPTH = 4, PASS1_DEPTH = 16, PASS2_DEPTH = 48, OUT_DEPTH = 12;

inline unsigned max2(unsigned a, unsigned b) { return a > b ? a : b; }

}  // namespace

void attention(const word_t *ddr_act, const word_t *ddr_kv, const lane_word_t *w0, const lane_word_t *w1, const lane_word_t *w2, const lane_word_t *w3,
               word_t *ddr_out, const attn_args_t &a) {
  static int8_t q8[P][GH][D];
  static float qscale[P][GH];  // σq' = f32(σq × scale)
  static float score[GH][hw::MAX_CONTEXT];
#pragma HLS bind_storage variable = score type = ram_2p impl = bram
  static int64_t acc[P][GH][D];  // 44 bits suffice (numerics §8.3 bounds); DSP48E2 accumulators
#pragma HLS array_partition variable = acc dim = 3 complete
  int8_t k8[D], v8[D];
  float m[P][GH], l[P][GH], vmax[P], rho[P];
  const unsigned d = a.d;
  const unsigned group = a.heads / a.kv_heads;
  // Cycles per key of one int8 K or V row through the weight lanes (accel.hpp); its scales come
  // one word a cycle through the kv bundle, beside it.
  const unsigned row = ceil_div(d / 4, STREAM_WORDS);
BLOCKS:
  for (unsigned q0 = 0; q0 < a.tokens; q0 += P) {
#pragma HLS loop_tripcount max = hw::MAX_TOKENS / P
    const unsigned nq = a.tokens - q0 < P ? a.tokens - q0 : P;
    const unsigned keys = a.pos0 + q0 + nq;  // keys 0 .. position of the block's last query
    const bool keep = nq == 1;               // decode: scores stay on chip
  KV_HEADS:
    for (unsigned g = 0; g < a.kv_heads; g++) {
#pragma HLS loop_tripcount max = hw::MAX_KV_HEADS
    BATCHES:
      for (unsigned hb = 0; hb < group; hb += GH) {
#pragma HLS loop_tripcount max = hw::MAX_HEADS / GH
        const unsigned nh = group - hb < GH ? group - hb : GH;
        // The block's queries of this batch, on chip.
        TL_PIPELINE("attention.LOAD_Q", nq * nh * ceil_div(d / 4, PORT_WORDS), 1, LOAD_Q_DEPTH);
        for (unsigned q = 0; q < nq; q++) {
          vmax[q] = 0.0f;
          for (unsigned hh = 0; hh < nh; hh++) {
            const unsigned h = g * group + hb + hh;
            read_int8_row(ddr_act, a.q_off + (q0 + q) * a.q_stride + h * d / 4, d, q8[q][hh]);
            qscale[q][hh] = tl_mul(tl_bits_f32(ddr_act[a.qs_off + (q0 + q) * a.qs_stride + h]), a.scale);
            m[q][hh] = tl_bits_f32(0xff800000u);  // -inf
            l[q][hh] = 0.0f;
            for (unsigned t = 0; t < d; t++) acc[q][hh][t] = 0;
          }
        }
        // Pass 1: scores, their maximum, V. Per key: nq*nh*d products, nq*nh scores, one K row and
        // two scales (σk, σv) read.
        const unsigned ii1 = max2(max2(ceil_div(nq * nh * d, hw::INT8_QK_MACS), ceil_div(nq * nh, hw::SOFTMAX_LANES)), max2(row, 2));
        TL_PIPELINE("attention.PASS1", keys * ii1, 1, PASS1_DEPTH);
      PASS1:
        for (unsigned j = 0; j < keys; j++) {
#pragma HLS loop_tripcount max = hw::MAX_CONTEXT
#pragma HLS pipeline
          read_int8_row_lanes(w0, w1, w2, w3, a.k_off + j * a.kv_stride + g * d / 4, d, k8);
          const float sk = tl_bits_f32(ddr_kv[a.ks_off + j * a.s_stride + g]);
          const float sv = tl_bits_f32(ddr_kv[a.vs_off + j * a.s_stride + g]);
          for (unsigned q = 0; q < nq; q++) {
            if (j > a.pos0 + q0 + q) continue;  // causal: query q sees keys up to its position
            if (sv > vmax[q]) vmax[q] = sv;
            for (unsigned hh = 0; hh < nh; hh++) {
              const float s = tl_mul((float)dot_int8(q8[q][hh], k8, d), tl_mul(qscale[q][hh], sk));
              if (s > m[q][hh]) m[q][hh] = s;
              if (keep) score[hh][j] = s;
            }
          }
        }
        for (unsigned q = 0; q < nq; q++) rho[q] = tl_div(16777216.0f, vmax[q]);
        // Pass 2: exp, the denominator in ascending key order, the exact value sum. Per key a V row
        // and σv (decode), or K and V rows and both scales (scores recomputed).
        const unsigned reads2 = keep ? max2(row, 1) : max2(2 * row, 2);
        const unsigned ii2 = max2(max2(keep ? 0u : ceil_div(nq * nh * d, hw::INT8_QK_MACS), ceil_div(nq * nh * d, hw::INT8_VALUE_LANES)),
                                  max2(ceil_div(nq * nh, hw::SOFTMAX_LANES), reads2));
        TL_PIPELINE("attention.PASS2", keys * ii2, 1, PASS2_DEPTH);
      PASS2:
        for (unsigned j = 0; j < keys; j++) {
#pragma HLS loop_tripcount max = hw::MAX_CONTEXT
#pragma HLS pipeline
          read_int8_row_lanes(w0, w1, w2, w3, a.v_off + j * a.kv_stride + g * d / 4, d, v8);
          const float sv = tl_bits_f32(ddr_kv[a.vs_off + j * a.s_stride + g]);
          float sk = 0.0f;
          if (!keep) {
            read_int8_row_lanes(w0, w1, w2, w3, a.k_off + j * a.kv_stride + g * d / 4, d, k8);
            sk = tl_bits_f32(ddr_kv[a.ks_off + j * a.s_stride + g]);
          }
          for (unsigned q = 0; q < nq; q++) {
            if (j > a.pos0 + q0 + q) continue;
            for (unsigned hh = 0; hh < nh; hh++) {
              const float s = keep ? score[hh][j] : tl_mul((float)dot_int8(q8[q][hh], k8, d), tl_mul(qscale[q][hh], sk));
              const float e = tl_exp(tl_sub(s, m[q][hh]));
              l[q][hh] = tl_add(l[q][hh], e);
              const int64_t u = tl_round_even(tl_mul(tl_mul(e, sv), rho[q]));
              if (u == 0) continue;
              for (unsigned t = 0; t < d; t++) acc[q][hh][t] += u * (int64_t)v8[t];
            }
          }
        }
        // Output: f32(f32(A_t) × f32(ldexp(V, −24) ÷ l)).
        TL_PIPELINE("attention.OUT", nq * nh * ceil_div(d, PORT_WORDS), 1, OUT_DEPTH);
        for (unsigned q = 0; q < nq; q++) {
          for (unsigned hh = 0; hh < nh; hh++) {
            const unsigned h = g * group + hb + hh;
            const float c = tl_div(tl_ldexp(vmax[q], -24), l[q][hh]);
            for (unsigned t = 0; t < d; t++) {
              const float o = tl_mul((float)acc[q][hh][t], c);
              ddr_out[a.out_off + (q0 + q) * a.out_stride + h * d + t] = tl_f32_bits(o);
              TL_TAP(TAP_RESULT, q0 + q, h * d + t, a.heads * d, o);
            }
          }
        }
      }
    }
  }
}

}  // namespace tl
