/* The unit-test groups linked into build/firmware/<arch>/fw_unit (firmware/test/main.c runs them). */
#ifndef TL_TESTS_H
#define TL_TESTS_H

#include "tl_test.h"

extern const tl_test_case tl_codec_tests[];
extern const size_t tl_codec_test_count;
extern const tl_test_case tl_driver_tests[];
extern const size_t tl_driver_test_count;

#endif /* TL_TESTS_H */
