/* The unit-test runner of tl_test.h. */
#include "tl_test.h"

int tl_test_checks;
int tl_test_failures;
const char *tl_test_current = "";

int tl_test_run(const tl_test_case *cases, size_t n, const char *filter) {
  size_t ran = 0;
  for (size_t i = 0; i < n; i++) {
    if (filter && !strstr(cases[i].name, filter)) continue;
    int before = tl_test_failures;
    tl_test_current = cases[i].name;
    cases[i].fn();
    ran++;
    fprintf(stderr, "%s %s\n", tl_test_failures == before ? "ok  " : "FAIL", cases[i].name);
  }
  printf("{\"cases\":%zu,\"checks\":%d,\"failures\":%d}\n", ran, tl_test_checks, tl_test_failures);
  return tl_test_failures == 0 && ran > 0 ? 0 : 1;
}
