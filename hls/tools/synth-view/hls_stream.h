// Stand-in for Vitis's <hls_stream.h> in the synthesis view of the subset check (see ap_int.h here):
// declarations only, enough to parse the kernels. Never used to build anything.
#ifndef TL_SYNTH_VIEW_HLS_STREAM_H
#define TL_SYNTH_VIEW_HLS_STREAM_H
namespace hls {
template <typename T, int D = 0>
class stream {
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
  template <int D2>
  stream(const stream<T, D2> &) = delete;
};
}  // namespace hls
#endif
