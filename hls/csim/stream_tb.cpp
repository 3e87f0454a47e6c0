// Checks of the bounded stream model and the dataflow scheduler (hls/include/tl_stream.hpp).
//
//   stream_tb <case>
// pipeline      a 3-process pipeline through depth-2 FIFOs moves 100000 items in order
// nested        a dataflow region inside a process of another region
// fork-join N   a fork whose two paths reconverge; the long path holds 32 items before its
//               first output, so the bypass FIFO needs depth >= 32 (N = its depth): N = 32 runs,
//               N = 8 deadlocks, as the RTL would
// overflow      the main program writes 3 items into a depth-2 stream
// empty-read    the main program reads an empty stream
// leftover      a region ends with an item nobody read
// Exit 0 and "ok" on success; the failure cases abort with the shim's message on stderr.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "tl_stream.hpp"

typedef hls::stream<int> int_strm_t;

static void produce(int_strm_t &out, int n) {
  for (int i = 0; i < n; i++) out.write(i);
}
static void square(int_strm_t &in, int_strm_t &out, int n) {
  for (int i = 0; i < n; i++) {
    int v = in.read();
    out.write(v * 3);
  }
}
static void consume(int_strm_t &in, int n, long long *sum, int *order_errors) {
  for (int i = 0; i < n; i++) {
    int v = in.read();
    if (v != 3 * i) (*order_errors)++;
    *sum += v;
  }
}

static int pipeline(int n) {
  int_strm_t a("a"), b("b");
  long long sum = 0;
  int errors = 0;
  TL_DATAFLOW_BEGIN("pipeline");
  TL_PROCESS(produce(a, n));
  TL_PROCESS(square(a, b, n));
  TL_PROCESS(consume(b, n, &sum, &errors));
  TL_DATAFLOW_END();
  long long want = 3LL * n * (n - 1) / 2;
  if (sum != want || errors) {
    std::fprintf(stderr, "pipeline: sum %lld (want %lld), %d out of order\n", sum, want, errors);
    return 1;
  }
  return 0;
}

// A process whose body is itself a dataflow region.
static void inner(int_strm_t &in, int_strm_t &out, int n) {
  int_strm_t mid("inner.mid");
  TL_DATAFLOW_BEGIN("inner");
  TL_PROCESS(square(in, mid, n));
  TL_PROCESS(square(mid, out, n));
  TL_DATAFLOW_END();
}
static void consume9(int_strm_t &in, int n, int *errors) {
  for (int i = 0; i < n; i++)
    if (in.read() != 9 * i) (*errors)++;
}

static int nested(int n) {
  int_strm_t a("a"), b("b");
  int errors = 0;
  TL_DATAFLOW_BEGIN("outer");
  TL_PROCESS(produce(a, n));
  TL_PROCESS(inner(a, b, n));
  TL_PROCESS(consume9(b, n, &errors));
  TL_DATAFLOW_END();
  return errors ? 1 : 0;
}

// fork: every item goes to both paths
static void fork2(int n, int_strm_t &to_long, int_strm_t &to_bypass) {
  for (int i = 0; i < n; i++) {
    to_long.write(i);
    to_bypass.write(i);
  }
}
// The long path: a window of `hold` items before the first output (like a line buffer).
static void window(int n, int hold, int_strm_t &in, int_strm_t &out) {
  int buf[64];
  for (int i = 0; i < n + hold; i++) {
    if (i < n) buf[i % 64] = in.read();
    if (i >= hold) out.write(buf[(i - hold) % 64]);
  }
}
static void join2(int n, int_strm_t &from_long, int_strm_t &from_bypass, int *errors) {
  for (int i = 0; i < n; i++) {
    int a = from_long.read(), b = from_bypass.read();
    if (a != i || b != i) (*errors)++;
  }
}

static int fork_join(int bypass_depth) {
  const int n = 1000, hold = 32;
  int_strm_t to_long("to_long"), from_long("from_long");
  // The FIFO under test: its depth is a run-time choice here only so one driver shows both sizes.
  hls::stream<int, 32> bypass32("bypass");
  hls::stream<int, 8> bypass8("bypass");
  hls::stream<int> &bypass = bypass_depth >= 32 ? static_cast<hls::stream<int> &>(bypass32) : static_cast<hls::stream<int> &>(bypass8);
  int errors = 0;
  TL_DATAFLOW_BEGIN("fork_join");
  TL_PROCESS(fork2(n, to_long, bypass));
  TL_PROCESS(window(n, hold, to_long, from_long));
  TL_PROCESS(join2(n, from_long, bypass, &errors));
  TL_DATAFLOW_END();
  return errors ? 1 : 0;
}

static void leave_one(int_strm_t &out) {
  out.write(1);
  out.write(2);
}
static void read_one(int_strm_t &in) { (void)in.read(); }
static void leftover() {
  int_strm_t s("left");
  TL_DATAFLOW_BEGIN("leftover");
  TL_PROCESS(leave_one(s));
  TL_PROCESS(read_one(s));
  TL_DATAFLOW_END();
}

int main(int argc, char **argv) {
  const char *c = argc > 1 ? argv[1] : "";
  int rc;
  if (!std::strcmp(c, "pipeline")) rc = pipeline(100000);
  else if (!std::strcmp(c, "nested")) rc = nested(10000);
  else if (!std::strcmp(c, "fork-join") && argc > 2) rc = fork_join(std::atoi(argv[2]));
  else if (!std::strcmp(c, "overflow")) {
    hls::stream<int> s("main.s");
    s.write(1);
    s.write(2);
    s.write(3);
    rc = 1;
  } else if (!std::strcmp(c, "empty-read")) {
    hls::stream<int> s("main.s");
    (void)s.read();
    rc = 1;
  } else if (!std::strcmp(c, "leftover")) {
    leftover();
    rc = 1;
  } else {
    std::fprintf(stderr, "usage: stream_tb pipeline|nested|fork-join <depth>|overflow|empty-read|leftover\n");
    return 2;
  }
  if (rc == 0) std::printf("ok\n");
  return rc;
}
