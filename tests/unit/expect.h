/* The unit tests' one check: EXPECT(condition, format, ...) counts a
 * failure and names the file, line and condition, then goes on, so one run
 * reports every failure. Each unit test is one program (one translation
 * unit) that includes this once and returns failures != 0 from main. */
#ifndef PARKIT_TESTS_EXPECT_H
#define PARKIT_TESTS_EXPECT_H

#include <stdio.h>

static int failures;

#define EXPECT(condition, ...)                                                 \
  do {                                                                         \
    if (!(condition)) {                                                        \
      ++failures;                                                              \
      fprintf(stderr, "%s:%d: expected %s: ", __FILE__, __LINE__, #condition); \
      fprintf(stderr, __VA_ARGS__);                                            \
      fprintf(stderr, "\n");                                                   \
    }                                                                          \
  } while (0)

#endif
