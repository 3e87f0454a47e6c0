/*
 * A minimal unit-test harness for the firmware's C tests (they run natively and under
 * qemu-aarch64): checks count failures and print the first ones with file and line; the runner
 * prints a JSON summary line and exits non-zero on any failure.
 */
#ifndef TL_TEST_H
#define TL_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

extern int tl_test_checks;
extern int tl_test_failures;
extern const char *tl_test_current;

#define TL_CHECK(cond)                                                                          \
  do {                                                                                          \
    tl_test_checks++;                                                                           \
    if (!(cond)) {                                                                              \
      tl_test_failures++;                                                                       \
      if (tl_test_failures <= 50)                                                               \
        fprintf(stderr, "FAIL %s (%s:%d): %s\n", tl_test_current, __FILE__, __LINE__, #cond); \
    }                                                                                           \
  } while (0)

#define TL_CHECK_EQ(a, b)                                                                                  \
  do {                                                                                                     \
    long long tl_a_ = (long long)(a), tl_b_ = (long long)(b);                                             \
    tl_test_checks++;                                                                                      \
    if (tl_a_ != tl_b_) {                                                                                  \
      tl_test_failures++;                                                                                  \
      if (tl_test_failures <= 50)                                                                          \
        fprintf(stderr, "FAIL %s (%s:%d): %s == %s (%lld vs %lld)\n", tl_test_current, __FILE__, __LINE__, #a, #b, \
                tl_a_, tl_b_);                                                                             \
    }                                                                                                      \
  } while (0)

#define TL_CHECK_STR(a, b)                                                                               \
  do {                                                                                                   \
    const char *tl_a_ = (a), *tl_b_ = (b);                                                              \
    tl_test_checks++;                                                                                    \
    if (strcmp(tl_a_, tl_b_) != 0) {                                                                     \
      tl_test_failures++;                                                                                \
      if (tl_test_failures <= 50)                                                                        \
        fprintf(stderr, "FAIL %s (%s:%d): \"%s\" vs \"%s\"\n", tl_test_current, __FILE__, __LINE__, tl_a_, tl_b_); \
    }                                                                                                    \
  } while (0)

typedef void (*tl_test_fn)(void);
typedef struct {
  const char *name;
  tl_test_fn fn;
} tl_test_case;

/** Run the cases (all, or those whose name contains filter); prints {"checks","failures","cases"}; returns the exit status. */
int tl_test_run(const tl_test_case *cases, size_t n, const char *filter);

#endif /* TL_TEST_H */
