/*
 * The arithmetic contract of docs/numerics.md as header-only C11/C++: include this one header.
 *   tl_f32.h        flushed binary32 operations, ldexp, exponent, round-to-even (§2.1-2.2)
 *   tl_f16.h        binary16 / bfloat16 conversions (§2.3)
 *   tl_reduce.h     the 16-lane reduction order (§2.4)
 *   tl_functions.h  exp, rsqrt, sigmoid, SiLU, gate activations, RoPE pair (§3, §7.1)
 *   tl_quant.h      the int8 quantiser and the dequantisation factors (§4, §9)
 *   tl_rmsmax.h     RMS-MAX (§5)
 * Build with -ffp-contract=off, without -ffast-math.
 */
#ifndef TL_NUMERICS_H
#define TL_NUMERICS_H

#include "tl_f32.h"
#include "tl_f16.h"
#include "tl_reduce.h"
#include "tl_functions.h"
#include "tl_quant.h"
#include "tl_rmsmax.h"

#endif /* TL_NUMERICS_H */
