// Trace taps: the C simulation shows every tensor of docs/numerics.md §11 as it passes through a
// unit, so the whole-accelerator driver can write a trace (docs/trace.md) and compare it with the
// golden model's tensor by tensor. Compiled away for synthesis.
//
// A kernel taps what it computes by *slot* (what the value is to that unit: its input, its
// accumulators, its output, ...); the sequencer says, before it starts a unit, which trace tensor
// each slot is in this step (TL_TAP_SCOPE: the layer, the position of token 0, a name per slot;
// a slot without a name is not traced). A hook installed by the driver receives every tapped
// element; with no hook a tap costs one test.
//
//   TL_TAP(TAP_OUT, token, index, length, value);
#ifndef TL_TAP_HPP
#define TL_TAP_HPP

namespace tl {

enum tap_slot_t : unsigned {
  TAP_AMAX = 0,  // the absmax a quantiser uses (f32 [1])
  TAP_IN,        // a linear's int8 input (i8 [K])
  TAP_ACC,       // TLMM accumulators (i32 [rows])
  TAP_OUT,       // dequantised output before the fused operation (f32 [rows])
  TAP_RESULT,    // a unit's final output (f32): after residual add, gate activation, RMS-MAX, attention
  TAP_Q8,        // int8 heads of the head quantiser (i8 [heads·d])
  TAP_SCALE,     // their binary32 scales (f32 [heads])
  TAP_LOGITS,    // head logits (f32 [vocab])
  TAP_SLOTS
};

}  // namespace tl

#ifdef __SYNTHESIS__
#define TL_TAP(slot, token, index, length, value)
#define TL_TAP_SCOPE(layer, pos0, ...)
#define TL_TAP_RANGE(index0, length)
#define TL_TAP_ENABLED(slot) false
#else

#include <initializer_list>

namespace tl {
namespace csim {

struct TapContext {
  int layer = -1;         // decoder layer, -1 outside the layers
  unsigned pos0 = 0;      // position of token 0 of the step
  unsigned index0 = 0;    // element of the tensor that the unit's element 0 is (a tile's first row)
  unsigned length = 0;    // elements of the whole tensor (0: the length the unit taps with)
  const char *names[TAP_SLOTS] = {};
};

// value: the element (f32 values and integers below 2^53 are exact as double).
typedef void (*tap_fn)(void *user, const TapContext &ctx, unsigned slot, unsigned token, unsigned index, unsigned length, double value);

struct TapHook {
  tap_fn fn = nullptr;
  void *user = nullptr;
  TapContext ctx;
};

inline TapHook &tap_hook() {
  static TapHook h;
  return h;
}

// The names of the step's slots: {slot, name} pairs; every other slot is not traced.
struct TapName {
  unsigned slot;
  const char *name;
};
inline void tap_scope(int layer, unsigned pos0, std::initializer_list<TapName> names) {
  TapContext &c = tap_hook().ctx;
  c.layer = layer;
  c.pos0 = pos0;
  c.index0 = 0;
  c.length = 0;
  for (unsigned s = 0; s < TAP_SLOTS; s++) c.names[s] = nullptr;
  for (const TapName &n : names) c.names[n.slot] = n.name;
}

}  // namespace csim
}  // namespace tl

#define TL_TAP_ENABLED(slot) (::tl::csim::tap_hook().fn != nullptr && ::tl::csim::tap_hook().ctx.names[slot] != nullptr)
#define TL_TAP(slot, token, index, length, value)                                                                        \
  do {                                                                                                                   \
    if (TL_TAP_ENABLED(slot)) {                                                                                          \
      ::tl::csim::TapHook &tl_tap_h_ = ::tl::csim::tap_hook();                                                           \
      tl_tap_h_.fn(tl_tap_h_.user, tl_tap_h_.ctx, slot, (unsigned)(token), (unsigned)(index), (unsigned)(length), (double)(value)); \
    }                                                                                                                    \
  } while (0)
#define TL_TAP_SCOPE(layer, pos0, ...) ::tl::csim::tap_scope((layer), (pos0), {__VA_ARGS__})
// The unit works on elements index0 .. of a tensor of `length` elements (a tile of a linear).
#define TL_TAP_RANGE(i0, len) (::tl::csim::tap_hook().ctx.index0 = (i0), ::tl::csim::tap_hook().ctx.length = (len))

#endif  // __SYNTHESIS__
#endif  // TL_TAP_HPP
