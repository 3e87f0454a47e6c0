// The project's model of ap_uint<W> / ap_int<W> for plain g++ builds (included by tl_ap_int.hpp
// when not synthesising; what it covers and why: see there).
#ifndef TL_AP_INT_MODEL_HPP
#define TL_AP_INT_MODEL_HPP

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <type_traits>

namespace tl_ap {

[[noreturn]] inline void range_error(int hi, int lo, int w) {
  std::fprintf(stderr, "ap_int shim: range(%d, %d) outside a %d-bit value (hi >= lo >= 0 required)\n", hi, lo, w);
  std::abort();
}

inline constexpr uint64_t low_mask(int bits) { return bits >= 64 ? ~uint64_t(0) : ((uint64_t(1) << bits) - 1); }

// Storage of W bits in N = ceil(W/64) words, least significant first; bits above W are zero
// (the sign of an ap_int lives in bit W-1 and is applied when a value is read as an integer).
template <int W>
struct Words {
  static constexpr int N = (W + 63) / 64;
  uint64_t w[N];

  void clear() {
    for (int i = 0; i < N; i++) w[i] = 0;
  }
  void normalise() { w[N - 1] &= low_mask(W - 64 * (N - 1)); }
  // Bits [lo, lo + n) as an integer, n <= 64.
  uint64_t get(int lo, int n) const {
    int k = lo >> 6, off = lo & 63;
    uint64_t v = w[k] >> off;
    if (off != 0 && off + n > 64 && k + 1 < N) v |= w[k + 1] << (64 - off);
    return v & low_mask(n);
  }
  // Set bits [lo, lo + n) to the low n bits of v, n <= 64.
  void set(int lo, int n, uint64_t v) {
    uint64_t m = low_mask(n);
    v &= m;
    int k = lo >> 6, off = lo & 63;
    w[k] = (w[k] & ~(m << off)) | (v << off);
    if (off != 0 && off + n > 64 && k + 1 < N) {
      int hi_bits = off + n - 64;
      uint64_t mh = low_mask(hi_bits);
      w[k + 1] = (w[k + 1] & ~mh) | (v >> (64 - off));
    }
  }
};

}  // namespace tl_ap

template <int W, bool Signed, bool Wide = (W > 64)>
class tl_ap_int_base;

// A range [hi:lo] of a value, readable and assignable (the vendor's ap_range_ref).
template <typename Owner>
class tl_ap_range_ref {
 public:
  tl_ap_range_ref(Owner &o, int hi, int lo) : o_(o), hi_(hi), lo_(lo) {
    if (lo < 0 || hi < lo || hi >= Owner::width) tl_ap::range_error(hi, lo, Owner::width);
  }
  int length() const { return hi_ - lo_ + 1; }
  uint64_t to_uint64() const { return o_.get_bits(lo_, length()); }
  unsigned to_uint() const { return (unsigned)to_uint64(); }
  int to_int() const { return (int)to_uint64(); }
  operator uint64_t() const { return to_uint64(); }
  template <int W2, bool S2, bool Wd2>
  operator tl_ap_int_base<W2, S2, Wd2>() const {
    tl_ap_int_base<W2, S2, Wd2> r(0);
    int n = length() < W2 ? length() : W2;
    for (int b = 0; b < n; b += 64) r.set_bits(b, n - b < 64 ? n - b : 64, o_.get_bits(lo_ + b, n - b < 64 ? n - b : 64));
    r.fix_sign();
    return r;
  }
  tl_ap_range_ref &operator=(uint64_t v) {
    o_.set_bits(lo_, length() < 64 ? length() : 64, v);
    for (int b = 64; b < length(); b += 64) o_.set_bits(lo_ + b, length() - b < 64 ? length() - b : 64, 0);
    o_.fix_sign();
    return *this;
  }
  template <int W2, bool S2, bool Wd2>
  tl_ap_range_ref &operator=(const tl_ap_int_base<W2, S2, Wd2> &v) {
    int n = length();
    for (int b = 0; b < n; b += 64) {
      int k = n - b < 64 ? n - b : 64;
      o_.set_bits(lo_ + b, k, b < W2 ? v.get_bits(b, W2 - b < k ? W2 - b : k) : 0);
    }
    o_.fix_sign();
    return *this;
  }
  tl_ap_range_ref &operator=(const tl_ap_range_ref &r) { return *this = r.to_uint64(); }

 private:
  Owner &o_;
  int hi_, lo_;
};

// One bit of a value (the vendor's ap_bit_ref).
template <typename Owner>
class tl_ap_bit_ref {
 public:
  tl_ap_bit_ref(Owner &o, int i) : o_(o), i_(i) {
    if (i < 0 || i >= Owner::width) tl_ap::range_error(i, i, Owner::width);
  }
  operator bool() const { return o_.get_bits(i_, 1) != 0; }
  tl_ap_bit_ref &operator=(bool b) {
    o_.set_bits(i_, 1, b ? 1 : 0);
    o_.fix_sign();
    return *this;
  }
  tl_ap_bit_ref &operator=(const tl_ap_bit_ref &r) { return *this = bool(r); }

 private:
  Owner &o_;
  int i_;
};

// ---- W <= 64: one native integer, normalised (masked, sign-extended for ap_int) ----
template <int W, bool Signed>
class tl_ap_int_base<W, Signed, false> {
  static_assert(W >= 1, "ap_int width must be at least 1");

 public:
  static constexpr int width = W;
  // The integer the value converts to: int64 except for a full 64-bit ap_uint.
  using native = typename std::conditional<(W == 64 && !Signed), uint64_t, int64_t>::type;

  tl_ap_int_base() : v_(0) {}
  template <typename T, typename = typename std::enable_if<std::is_integral<T>::value || std::is_enum<T>::value>::type>
  tl_ap_int_base(T x) : v_(norm((uint64_t)(int64_t)x)) {}
  template <int W2, bool S2>
  tl_ap_int_base(const tl_ap_int_base<W2, S2, false> &o) : v_(norm((uint64_t)o.to_int64_raw())) {}
  template <int W2, bool S2>
  explicit tl_ap_int_base(const tl_ap_int_base<W2, S2, true> &o) : v_(norm(o.get_bits(0, 64))) {}
  template <typename O>
  tl_ap_int_base(const tl_ap_range_ref<O> &r) : v_(norm(r.to_uint64())) {}

  operator native() const { return (native)v_; }

  uint64_t to_uint64() const { return v_ & tl_ap::low_mask(W); }
  int64_t to_int64() const { return (int64_t)v_; }
  unsigned to_uint() const { return (unsigned)to_uint64(); }
  int to_int() const { return (int)(int64_t)v_; }
  long long to_long() const { return (long long)(int64_t)v_; }
  int length() const { return W; }
  int64_t to_int64_raw() const { return Signed ? (int64_t)v_ : (int64_t)(v_ & tl_ap::low_mask(W)); }

  tl_ap_range_ref<tl_ap_int_base> range(int hi, int lo) { return tl_ap_range_ref<tl_ap_int_base>(*this, hi, lo); }
  uint64_t range(int hi, int lo) const {
    if (lo < 0 || hi < lo || hi >= W) tl_ap::range_error(hi, lo, W);
    return get_bits(lo, hi - lo + 1);
  }
  tl_ap_range_ref<tl_ap_int_base> operator()(int hi, int lo) { return range(hi, lo); }
  uint64_t operator()(int hi, int lo) const { return range(hi, lo); }
  tl_ap_bit_ref<tl_ap_int_base> operator[](int i) { return tl_ap_bit_ref<tl_ap_int_base>(*this, i); }
  bool operator[](int i) const { return get_bits(i, 1) != 0; }
  bool get_bit(int i) const { return get_bits(i, 1) != 0; }
  void set_bit(int i, bool b) { set_bits(i, 1, b ? 1 : 0), fix_sign(); }

  template <typename T>
  tl_ap_int_base &operator+=(T x) { return *this = (native)*this + x; }
  template <typename T>
  tl_ap_int_base &operator-=(T x) { return *this = (native)*this - x; }
  template <typename T>
  tl_ap_int_base &operator*=(T x) { return *this = (native)*this * x; }
  template <typename T>
  tl_ap_int_base &operator/=(T x) { return *this = (native)*this / x; }
  template <typename T>
  tl_ap_int_base &operator%=(T x) { return *this = (native)*this % x; }
  template <typename T>
  tl_ap_int_base &operator&=(T x) { return *this = (native)*this & x; }
  template <typename T>
  tl_ap_int_base &operator|=(T x) { return *this = (native)*this | x; }
  template <typename T>
  tl_ap_int_base &operator^=(T x) { return *this = (native)*this ^ x; }
  tl_ap_int_base &operator<<=(int s) { return *this = (uint64_t)v_ << s; }
  tl_ap_int_base &operator>>=(int s) { return *this = (native)*this >> s; }
  tl_ap_int_base &operator++() { return *this += 1; }
  tl_ap_int_base &operator--() { return *this -= 1; }
  tl_ap_int_base operator++(int) {
    tl_ap_int_base t = *this;
    *this += 1;
    return t;
  }
  tl_ap_int_base operator--(int) {
    tl_ap_int_base t = *this;
    *this -= 1;
    return t;
  }

  // Raw bit access (used by the range/bit references and the wide type).
  uint64_t get_bits(int lo, int n) const { return ((v_ & tl_ap::low_mask(W)) >> lo) & tl_ap::low_mask(n); }
  void set_bits(int lo, int n, uint64_t x) {
    uint64_t m = tl_ap::low_mask(n) << lo;
    v_ = (v_ & ~m) | ((x << lo) & m);
  }
  void fix_sign() { v_ = norm(v_); }

 private:
  static uint64_t norm(uint64_t x) {
    if (W == 64) return x;
    x &= tl_ap::low_mask(W);
    if (Signed && ((x >> (W - 1)) & 1)) x |= ~tl_ap::low_mask(W);
    return x;
  }
  uint64_t v_;
};

// ---- W > 64: an array of 64-bit words; bit moves only ----
template <int W, bool Signed>
class tl_ap_int_base<W, Signed, true> {
 public:
  static constexpr int width = W;

  tl_ap_int_base() { d_.clear(); }
  template <typename T, typename = typename std::enable_if<std::is_integral<T>::value>::type>
  tl_ap_int_base(T x) {
    uint64_t fill = (std::is_signed<T>::value && x < 0) ? ~uint64_t(0) : 0;
    d_.w[0] = (uint64_t)(int64_t)x;
    for (int i = 1; i < N; i++) d_.w[i] = fill;
    d_.normalise();
  }
  template <int W2, bool S2, bool Wd2>
  tl_ap_int_base(const tl_ap_int_base<W2, S2, Wd2> &o) {
    d_.clear();
    int n = W2 < W ? W2 : W;
    for (int b = 0; b < n; b += 64) d_.set(b, n - b < 64 ? n - b : 64, o.get_bits(b, n - b < 64 ? n - b : 64));
    if (S2 && W2 < W && o.get_bits(W2 - 1, 1)) {
      for (int b = W2; b < W; b += 64) d_.set(b, W - b < 64 ? W - b : 64, ~uint64_t(0));
    }
    d_.normalise();
  }
  template <typename O>
  tl_ap_int_base(const tl_ap_range_ref<O> &r) : tl_ap_int_base(r.operator tl_ap_int_base()) {}

  tl_ap_range_ref<tl_ap_int_base> range(int hi, int lo) { return tl_ap_range_ref<tl_ap_int_base>(*this, hi, lo); }
  // A const range of at most 64 bits reads straight from the words (the hot path).
  uint64_t range(int hi, int lo) const {
    if (lo < 0 || hi < lo || hi >= W || hi - lo >= 64) tl_ap::range_error(hi, lo, W);
    return d_.get(lo, hi - lo + 1);
  }
  tl_ap_range_ref<tl_ap_int_base> operator()(int hi, int lo) { return range(hi, lo); }
  uint64_t operator()(int hi, int lo) const { return range(hi, lo); }
  tl_ap_bit_ref<tl_ap_int_base> operator[](int i) { return tl_ap_bit_ref<tl_ap_int_base>(*this, i); }
  bool operator[](int i) const { return d_.get(i, 1) != 0; }
  int length() const { return W; }
  uint64_t to_uint64() const { return d_.w[0]; }
  unsigned to_uint() const { return (unsigned)d_.w[0]; }
  int to_int() const { return (int)d_.w[0]; }

  friend bool operator==(const tl_ap_int_base &a, const tl_ap_int_base &b) {
    for (int i = 0; i < N; i++)
      if (a.d_.w[i] != b.d_.w[i]) return false;
    return true;
  }
  friend bool operator!=(const tl_ap_int_base &a, const tl_ap_int_base &b) { return !(a == b); }
  friend tl_ap_int_base operator&(tl_ap_int_base a, const tl_ap_int_base &b) {
    for (int i = 0; i < N; i++) a.d_.w[i] &= b.d_.w[i];
    return a;
  }
  friend tl_ap_int_base operator|(tl_ap_int_base a, const tl_ap_int_base &b) {
    for (int i = 0; i < N; i++) a.d_.w[i] |= b.d_.w[i];
    return a;
  }
  friend tl_ap_int_base operator^(tl_ap_int_base a, const tl_ap_int_base &b) {
    for (int i = 0; i < N; i++) a.d_.w[i] ^= b.d_.w[i];
    return a;
  }
  tl_ap_int_base operator~() const {
    tl_ap_int_base r = *this;
    for (int i = 0; i < N; i++) r.d_.w[i] = ~r.d_.w[i];
    r.d_.normalise();
    return r;
  }
  // Logical shifts of the W-bit pattern (the kernels shift unsigned words only).
  tl_ap_int_base operator<<(int s) const {
    tl_ap_int_base r(0);
    for (int b = 0; b + s < W; b += 64) {
      int k = W - (b + s) < 64 ? W - (b + s) : 64;
      r.d_.set(b + s, k, d_.get(b, k));
    }
    return r;
  }
  tl_ap_int_base operator>>(int s) const {
    tl_ap_int_base r(0);
    for (int b = s; b < W; b += 64) {
      int k = W - b < 64 ? W - b : 64;
      r.d_.set(b - s, k, d_.get(b, k));
    }
    return r;
  }
  tl_ap_int_base &operator<<=(int s) { return *this = *this << s; }
  tl_ap_int_base &operator>>=(int s) { return *this = *this >> s; }
  tl_ap_int_base &operator&=(const tl_ap_int_base &b) { return *this = *this & b; }
  tl_ap_int_base &operator|=(const tl_ap_int_base &b) { return *this = *this | b; }
  tl_ap_int_base &operator^=(const tl_ap_int_base &b) { return *this = *this ^ b; }

  uint64_t get_bits(int lo, int n) const { return d_.get(lo, n); }
  void set_bits(int lo, int n, uint64_t x) { d_.set(lo, n, x); }
  void fix_sign() {}

 private:
  static constexpr int N = tl_ap::Words<W>::N;
  tl_ap::Words<W> d_;
};

template <int W>
class ap_uint : public tl_ap_int_base<W, false> {
  using base = tl_ap_int_base<W, false>;

 public:
  using base::base;
  ap_uint() : base() {}
  ap_uint(const base &b) : base(b) {}
};

template <int W>
class ap_int : public tl_ap_int_base<W, true> {
  using base = tl_ap_int_base<W, true>;

 public:
  using base::base;
  ap_int() : base() {}
  ap_int(const base &b) : base(b) {}
};

#endif  // TL_AP_INT_MODEL_HPP
