/* fw_unit: every firmware unit-test group; `fw_unit [FILTER]` runs the cases whose name contains FILTER. */
#include <stdlib.h>

#include "tests.h"

int main(int argc, char **argv) {
  static tl_test_case all[256];
  size_t n = 0;
  for (size_t i = 0; i < tl_codec_test_count; i++) all[n++] = tl_codec_tests[i];
  for (size_t i = 0; i < tl_driver_test_count; i++) all[n++] = tl_driver_tests[i];
  return tl_test_run(all, n, argc > 1 ? argv[1] : NULL);
}
