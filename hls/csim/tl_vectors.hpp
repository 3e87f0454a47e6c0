// Reading and checking vector files in C-simulation drivers (C-sim only, never synthesised).
//
// A vector file ("TLVF", written by test/hls/vectors.ts from the golden model's pieces) holds named
// tensors: magic 'TLVF', u32 version 1, u32 count; per tensor a 48-byte NUL-padded name, u32 dtype
// (0 u8, 1 i8, 2 u16, 3 i32, 4 u32, 5 f32, 6 u64), u32 ndim, u32 dims[4], u64 byte length, the data
// padded to 8 bytes. Little-endian. A missing file or tensor is a failure, never a skip.
#ifndef TL_VECTORS_HPP
#define TL_VECTORS_HPP

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace tl {
namespace vectors {

enum Dtype : uint32_t { kU8 = 0, kI8 = 1, kU16 = 2, kI32 = 3, kU32 = 4, kF32 = 5, kU64 = 6 };

struct Tensor {
  Dtype dtype;
  std::vector<uint32_t> dims;
  std::vector<uint8_t> bytes;
  size_t elements() const {
    size_t n = 1;
    for (uint32_t d : dims) n *= d;
    return n;
  }
  template <typename T>
  const T *as() const {
    return reinterpret_cast<const T *>(bytes.data());
  }
};

[[noreturn]] inline void die(const std::string &msg) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s\n", msg.c_str());
  std::printf("{\"cases\": 0, \"mismatches\": 0, \"pass\": false}\n");
  std::exit(2);
}

class File {
 public:
  explicit File(const std::string &path) : path_(path) {
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) die(path + ": cannot read the vector file");
    std::vector<uint8_t> all;
    uint8_t buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) all.insert(all.end(), buf, buf + n);
    std::fclose(f);
    size_t p = 0;
    auto need = [&](size_t k) {
      if (p + k > all.size()) die(path + ": truncated vector file");
    };
    auto u32 = [&]() {
      need(4);
      uint32_t v;
      std::memcpy(&v, &all[p], 4);
      p += 4;
      return v;
    };
    if (all.size() < 12 || std::memcmp(all.data(), "TLVF", 4) != 0) die(path + ": not a TLVF vector file");
    p = 4;
    if (u32() != 1) die(path + ": unknown TLVF version");
    uint32_t count = u32();
    for (uint32_t i = 0; i < count; i++) {
      need(48);
      std::string name(reinterpret_cast<const char *>(&all[p]), strnlen(reinterpret_cast<const char *>(&all[p]), 48));
      p += 48;
      Tensor t;
      t.dtype = static_cast<Dtype>(u32());
      uint32_t ndim = u32();
      uint32_t dims[4];
      for (int k = 0; k < 4; k++) dims[k] = u32();
      if (ndim > 4) die(path + ": tensor " + name + " has more than 4 dimensions");
      t.dims.assign(dims, dims + ndim);
      need(8);
      uint64_t len;
      std::memcpy(&len, &all[p], 8);
      p += 8;
      need(len);
      t.bytes.assign(all.begin() + (long)p, all.begin() + (long)(p + len));
      p += (len + 7) & ~uint64_t(7);
      tensors_[name] = std::move(t);
    }
  }

  const Tensor &get(const std::string &name, Dtype dtype) const {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) die(path_ + ": tensor '" + name + "' missing");
    if (it->second.dtype != dtype) die(path_ + ": tensor '" + name + "' has the wrong dtype");
    return it->second;
  }
  bool has(const std::string &name) const { return tensors_.count(name) != 0; }
  uint32_t scalar_u32(const std::string &name) const { return get(name, kU32).as<uint32_t>()[0]; }
  float scalar_f32(const std::string &name) const {
    float v;
    std::memcpy(&v, get(name, kF32).bytes.data(), 4);
    return v;
  }
  const std::string &path() const { return path_; }

 private:
  std::string path_;
  std::map<std::string, Tensor> tensors_;
};

// Counts compared words and mismatches; prints the first mismatch of each case.
class Checker {
 public:
  void begin_case(const std::string &name) {
    case_ = name;
    case_bad_ = 0;
    cases_++;
  }
  // Compare one word; `where` is evaluated only for the first mismatch of a case.
  template <typename Where>
  void word(uint64_t got, uint64_t want, Where where) {
    words_++;
    if (got == want) return;
    mismatches_++;
    if (case_bad_++ == 0) {
      std::fprintf(stderr, "%s: %s: got 0x%llx, golden 0x%llx\n", case_.c_str(), where().c_str(), (unsigned long long)got,
                   (unsigned long long)want);
    }
  }
  void end_case() {
    if (case_bad_) bad_cases_++;
    std::fprintf(stderr, "%s: %s\n", case_.c_str(), case_bad_ ? "MISMATCH" : "ok");
  }
  // The JSON summary on stdout's last line; returns the exit code.
  int finish() const {
    bool pass = mismatches_ == 0 && cases_ > 0;
    std::printf("{\"cases\": %llu, \"mismatches\": %llu, \"words\": %llu, \"pass\": %s}\n", (unsigned long long)cases_,
                (unsigned long long)mismatches_, (unsigned long long)words_, pass ? "true" : "false");
    return pass ? 0 : 1;
  }

 private:
  std::string case_;
  unsigned long long case_bad_ = 0, cases_ = 0, bad_cases_ = 0, mismatches_ = 0, words_ = 0;
};

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace vectors
}  // namespace tl

#endif  // TL_VECTORS_HPP
