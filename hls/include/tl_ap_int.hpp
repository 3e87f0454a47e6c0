// Arbitrary-width integers: Vitis HLS's ap_uint<W> / ap_int<W> under synthesis, a small
// project-owned model of them for plain g++ C simulation (docs: hls/README.md).
//
// The model covers the subset the kernels use, with the vendor's meaning:
//  - construction and assignment from integers and other widths: truncate to W bits (wrap), then
//    sign-extend for ap_int (an ap_int<W> value is always in [-2^(W-1), 2^(W-1)));
//  - W <= 64: implicit conversion to a 64-bit integer, so arithmetic and comparisons happen in
//    int64 (as the vendor's widened result types do for these widths; every kernel expression
//    stays far below 2^63); W < 64 converts to a signed int64 even for ap_uint, so `u - 10 < 0`
//    means what it means in Vitis;
//  - any W: range(hi, lo) / (hi, lo) read and write (hi >= lo), operator[] bit access, bitwise
//    &, |, ^, ~, shifts by a constant, ==, !=, to_uint(), to_int(), to_uint64(), to_int64();
//  - W > 64 has no arithmetic (+, *): the kernels only move bits of wide words.
// Fast paths: a range of at most 64 bits reads one or two 64-bit words, which is what the C
// simulation's speed depends on (hundreds of millions of index extractions per decoded token).
#ifndef TL_AP_INT_HPP
#define TL_AP_INT_HPP

#ifdef __SYNTHESIS__
#include <ap_int.h>
#else
#include "tl_ap_int_model.hpp"
#endif

#endif  // TL_AP_INT_HPP
