// Stand-in for Vitis's <hls_stream.h> in the synthesis view of the subset check (see ap_int.h here):
// declarations only, enough to parse the kernels. Never used to build anything. As in Vitis (and
// the C-simulation shim, tl_stream.hpp), a stream of depth D is a stream<T> (D = 0: the default
// depth), so a kernel that takes hls::stream<T>& accepts a FIFO of any depth.
#ifndef TL_SYNTH_VIEW_HLS_STREAM_H
#define TL_SYNTH_VIEW_HLS_STREAM_H
namespace hls {
template <typename T, int D = 0>
class stream;

template <typename T>
class stream<T, 0> {
 public:
  stream();
  explicit stream(const char *name);
  T read();
  void read(T &v);
  void write(const T &v);
  bool read_nb(T &v);
  bool write_nb(const T &v);
  bool empty() const;
  bool full() const;
  stream(const stream &) = delete;
};

template <typename T, int D>
class stream : public stream<T, 0> {
 public:
  stream();
  explicit stream(const char *name);
};
}  // namespace hls
#endif
