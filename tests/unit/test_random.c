/*
 * Unit test of the two random number generators the montecarlo kernel uses:
 *  - Philox4x32-10 (kernels/numerics/philox.h) against the known-answer vectors
 * that ship with Random123 (kat_vectors);
 *  - the NPB 46-bit generator (kernels/numerics/npb_random.h): skip-ahead by k
 * equals k single steps, the fill equals single steps and leaves the same
 * state, states stay below 2^46, and states and uniforms equal those of NPB's
 *    double-precision randlc.
 * Exit status 0 when everything holds; otherwise each failure is printed.
 */
#include "npb_random.h"
#include "philox.h"

#include <inttypes.h>
#include <stdio.h>

static int failures = 0;

static void expect(int condition, const char *what) {
  if (!condition) {
    printf("FAILED: %s\n", what);
    ++failures;
  }
}

typedef struct philox_vector {
  uint32_t counter[4];
  uint32_t key[2];
  uint32_t expected[4];
} philox_vector;

static void test_philox_known_answers(void) {
  static const philox_vector vectors[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  int count = (int)(sizeof(vectors) / sizeof(vectors[0]));
  for (int v = 0; v < count; ++v) {
    uint32_t output[4];
    philox4x32_10(vectors[v].counter, vectors[v].key, output);
    for (int i = 0; i < 4; ++i) {
      if (output[i] != vectors[v].expected[i]) {
        printf("FAILED: philox4x32-10 vector %d word %d: got %08" PRIx32
               ", expected %08" PRIx32 "\n",
               v, i, output[i], vectors[v].expected[i]);
        ++failures;
      }
    }
  }
}

/* k single steps from `state`. */
static uint64_t step_many(uint64_t state, uint64_t steps) {
  for (uint64_t i = 0; i < steps; ++i) {
    state = npb_random_next(state, NPB_RANDOM_MULTIPLIER);
    if (state > NPB_RANDOM_MODULUS_MASK) {
      printf("FAILED: state %" PRIu64 " >= 2^46 after %" PRIu64 " steps\n",
             state, i + 1);
      ++failures;
      return state;
    }
  }
  return state;
}

static void test_npb_skip_ahead(void) {
  static const uint64_t seeds[] = {271828183, 314159265, 1,
                                   NPB_RANDOM_MODULUS_MASK};
  static const uint64_t steps[] = {
      0, 1, 2, 12345, UINT64_C(1) << 17, (UINT64_C(1) << 20) + 3};
  for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); ++s) {
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); ++k) {
      uint64_t stepped = step_many(seeds[s], steps[k]);
      uint64_t skipped =
          npb_random_skip(seeds[s], NPB_RANDOM_MULTIPLIER, steps[k]);
      if (stepped != skipped) {
        printf("FAILED: seed %" PRIu64 ", skip %" PRIu64 ": skip-ahead gives "
               "%" PRIu64 ", single steps give %" PRIu64 "\n",
               seeds[s], steps[k], skipped, stepped);
        ++failures;
      }
      expect(skipped <= NPB_RANDOM_MODULUS_MASK, "skip-ahead state < 2^46");
    }
  }
}

/* The fill (interleaved streams) against single steps, for counts around
 * its internal stream count, and the state it leaves behind. */
static void test_npb_fill(void) {
  enum { MOST = 200 };
  static const int64_t counts[] = {0, 1, 7, 8, 9, 15, 16, 17, 131, MOST};
  double values[MOST];
  for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); ++c) {
    uint64_t filled = 271828183, stepped = 271828183;
    npb_random_fill(&filled, NPB_RANDOM_MULTIPLIER, counts[c], values);
    for (int64_t i = 0; i < counts[c]; ++i) {
      stepped = npb_random_next(stepped, NPB_RANDOM_MULTIPLIER);
      double expected = (double)stepped / 70368744177664.0; /* 2^46 */
      if (values[i] != expected || !(values[i] > 0.0 && values[i] < 1.0)) {
        printf("FAILED: fill of %" PRId64 ": value %" PRId64 " is %a, "
               "expected %a\n",
               counts[c], i, values[i], expected);
        ++failures;
        break;
      }
    }
    if (filled != stepped) {
      printf("FAILED: fill of %" PRId64 " leaves state %" PRIu64
             ", single steps %" PRIu64 "\n",
             counts[c], filled, stepped);
      ++failures;
    }
  }
}

/* NPB's randlc as NPB computes it, in double precision: a and x are split
 * into 23-bit halves so that every partial product is exact in a double.
 * Advances *x and returns the new uniform. */
static double npb_randlc_double(double *x, double a) {
  const double r23 = 0x1p-23, t23 = 0x1p23, r46 = 0x1p-46, t46 = 0x1p46;
  double a_high = (double)(int)(r23 * a);
  double a_low = a - t23 * a_high;
  double x_high = (double)(int)(r23 * *x);
  double x_low = *x - t23 * x_high;
  double cross = a_high * x_low + a_low * x_high;
  double cross_mod = cross - t23 * (double)(int)(r23 * cross);
  double product = t23 * cross_mod + a_low * x_low;
  *x = product - t46 * (double)(int)(r46 * product);
  return r46 * *x;
}

/* The integer generator against NPB's double-precision one, from EP's seed:
 * the same states and the same uniforms, bit for bit. */
static void test_npb_matches_double_precision(void) {
  double npb_state = 271828183.0;
  uint64_t state = 271828183;
  for (int i = 0; i < 100000; ++i) {
    double npb_uniform =
        npb_randlc_double(&npb_state, (double)NPB_RANDOM_MULTIPLIER);
    state = npb_random_next(state, NPB_RANDOM_MULTIPLIER);
    if ((double)state != npb_state ||
        npb_random_uniform(state) != npb_uniform) {
      printf("FAILED: step %d: state %" PRIu64 " (%a), NPB's %a (%a)\n", i + 1,
             state, npb_random_uniform(state), npb_state, npb_uniform);
      ++failures;
      return;
    }
  }
  expect(npb_random_power(NPB_RANDOM_MULTIPLIER, 0) == 1, "a^0 = 1");
  expect(npb_random_power(NPB_RANDOM_MULTIPLIER, 1) == NPB_RANDOM_MULTIPLIER,
         "a^1 = a");
}

int main(void) {
  test_philox_known_answers();
  test_npb_skip_ahead();
  test_npb_fill();
  test_npb_matches_double_precision();
  if (failures > 0) {
    printf("test_random: %d failure(s)\n", failures);
    return 1;
  }
  printf("test_random: all checks passed\n");
  return 0;
}
