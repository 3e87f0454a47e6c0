// One RMS-MAX step of the sequencer (numerics §5, §11): `tokens` rows of a DDR buffer through the
// RMS-MAX unit (rmsmax.hpp) into the normalised rows and the per-token absmax (scratch.amax) the
// next linear's quantiser uses; without a norm only the absmax (the input of o_proj / down_proj in
// models without sub-norms, which read their input rows as they are).
//
// Dataflow: read (the rows, the norm weights beside the first; ddr_act) -> RMS-MAX -> write (ddr_out).
// Taps: TAP_AMAX the absmax, TAP_RESULT the normalised rows.
#ifndef TL_NORM_PASS_HPP
#define TL_NORM_PASS_HPP

#include "accel.hpp"

namespace tl {

struct norm_args_t {
  unsigned n, tokens;        // row length, rows
  bool with_norm;            // RMSNorm with the weights at w_off; else the plain absmax
  float eps;
  uint64_t w_off;            // norm weights (binary32 [n]), words
  uint64_t x_off, x_stride;  // input rows, words
  uint64_t y_off, y_stride;  // normalised rows (with_norm only), words
  uint64_t amax_off;         // binary32 [tokens], words
};

void norm_pass(const word_t *ddr_act, word_t *ddr_out, const norm_args_t &a);

}  // namespace tl

#endif  // TL_NORM_PASS_HPP
