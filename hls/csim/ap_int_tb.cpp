// Known answers for the ap_uint/ap_int model (hls/include/tl_ap_int.hpp): the vendor semantics
// the kernels rely on (wrap on assignment, sign extension, ranges across 64-bit words, bit access).
// Prints "ok" and exits 0, or names the first failed check and exits 1.
#include <cstdio>

#include "tl_ap_int.hpp"

static int failures = 0;
#define CHECK(cond)                                                 \
  do {                                                              \
    if (!(cond)) {                                                  \
      std::fprintf(stderr, "ap_int_tb: check failed: %s\n", #cond); \
      failures++;                                                   \
    }                                                               \
  } while (0)

int main() {
  ap_uint<8> a = 300;
  CHECK(a == 44);
  ap_int<4> b = 7;
  b += 1;
  CHECK(b == -8);
  ap_uint<8> c = ap_int<4>(-1);
  CHECK(c == 255);
  ap_uint<8> u = 5;
  CHECK(u - 10 < 0);
  ap_int<8> s8 = ap_uint<8>(200);
  CHECK(s8 == -56);
  ap_int<22> acc = 0;
  ap_int<10> entry = -381;
  for (int i = 0; i < 2884; i++) acc += entry;  // 127 * 8652 = the largest |acc| of numerics §6.3
  CHECK(acc == -1098804);
  ap_int<21> small = 0;
  small += 1 << 20;  // wraps to -2^20 in 21 bits
  CHECK(small == -(1 << 20));
  // A 144-bit URAM word holding 28 five-bit indices, written and read back by range.
  ap_uint<144> w = 0;
  for (int j = 0; j < 28; j++) w.range(5 * j + 4, 5 * j) = (j * 7) % 27;
  bool ranges_ok = true;
  for (int j = 0; j < 28; j++) ranges_ok = ranges_ok && (int)w.range(5 * j + 4, 5 * j) == (j * 7) % 27;
  CHECK(ranges_ok);
  CHECK(w.range(64, 60) == (uint64_t)((12 * 7) % 27));  // index 12 straddles the 64-bit word boundary
  // A 140-bit vector placed into and read out of a 512-bit beat at bit 140.
  ap_uint<512> beat = 0;
  beat.range(279, 140) = w;
  ap_uint<144> back = beat.range(279, 140);
  CHECK(back == w);
  CHECK(beat.range(139, 0) == 0);
  CHECK(((beat << 3) >> 3) == beat);
  CHECK((beat >> 140).range(4, 0) == (uint64_t)0);
  ap_uint<3> bits = 0;
  bits[1] = 1;
  CHECK(bits == 2 && bits[1] && !bits[0]);
  ap_uint<64> full = ~0ULL;
  CHECK(full.to_uint64() == ~0ULL && full.range(63, 32) == 0xffffffffu);
  ap_int<130> neg = -2;
  CHECK(neg.range(129, 128) == 3 && neg.range(63, 0) == 0xfffffffffffffffeULL);
  if (failures == 0) std::printf("ok\n");
  return failures ? 1 : 0;
}
