/*
 * Unit test of montecarlo's hot-loop paths
 * (kernels/numerics/montecarlo_simd.h): every path this CPU runs (generic,
 * avx2, avx512) must give the generic path's bits for
 *  - the logarithm, on edge values and random values in EP's range
 *    [2^-90, 2] and over all normal doubles, whose error must stay below
 *    1 ulp of the exact value (long double logl);
 *  - EP's batches of pairs, which must also equal a plain scalar loop that
 *    keeps the accepted pairs one by one, as NPB does;
 *  - pi's hit counts, which must also equal philox4x32_10 one block at a
 *    time.
 * usage: test_montecarlo_simd [RANDOM_VALUES] (default 2^20). Exit status 0
 * when everything holds; otherwise each failure is printed. The paths the
 * CPU cannot run are reported as skipped.
 */
#include "montecarlo_simd.h"
#include "npb_random.h"
#include "philox.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

static void expect(int condition, const char *what, const char *path) {
  if (!condition) {
    printf("FAILED: %s (path %s)\n", what, path);
    ++failures;
  }
}

static const char *const path_names[] = {"generic", "avx2", "avx512"};
enum { PATH_NAMES = 3 };

/* A reproducible 64-bit stream (splitmix64). */
static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static double from_bits(uint64_t bits) {
  double value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

/* Test inputs: edge values, then random values with uniform mantissa and
 * exponent in [-90, 0] (EP's r^2 lies in [2^-90, 1]), then random normal
 * doubles. Returns the count written (a multiple of 8). */
static int log_inputs(double *values, int random_count) {
  int count = 0;
  const double edges[] = {1.0,
                          2.0,
                          0.5,
                          0x1p-90,
                          0x1p-1022,
                          0x1.fffffffffffffp1023,
                          nextafter(1.0, 0.0),
                          nextafter(1.0, 2.0),
                          M_SQRT2,
                          nextafter(M_SQRT2, 0.0),
                          nextafter(M_SQRT2, 2.0),
                          M_SQRT1_2,
                          nextafter(M_SQRT1_2, 0.0),
                          1.0 + 0x6a09c * 0x1p-20,
                          nextafter(1.0 + 0x6a09c * 0x1p-20, 0.0),
                          1.0 + 0x6147a * 0x1p-20,
                          nextafter(1.0 + 0x6147a * 0x1p-20, 0.0),
                          1.0 + 0x6b852 * 0x1p-20,
                          nextafter(1.0 + 0x6b852 * 0x1p-20, 0.0),
                          1.0 + 0x1p-20,
                          1.0 - 0x1p-21,
                          0.75,
                          1.5,
                          1e-10};
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; ++i)
    values[count++] = edges[i];
  uint64_t state = 42;
  for (int i = 0; i < random_count; ++i) {
    uint64_t bits = next_random(&state);
    uint64_t mantissa = bits & UINT64_C(0x000fffffffffffff);
    uint64_t exponent = i % 2 == 0 ? 1023 - (bits >> 52) % 91 /* 2^-90..2^0 */
                                   : 1 + (bits >> 52) % 2046; /* normal */
    values[count++] = from_bits(exponent << 52 | mantissa);
  }
  while (count % 8 != 0)
    values[count++] = 1.0;
  return count;
}

/* Error of `got` against the exact log(value), in ulps of the exact. */
static double ulp_error(double value, double got) {
  long double exact = logl((long double)value);
  if (exact == 0.0L)
    return got == 0.0 ? 0.0 : INFINITY;
  int exponent;
  frexpl(exact, &exponent);
  /* ulp of a double of magnitude |exact|: 2^(exponent - 53), subnormals
   * do not occur (|log| >= 2^-53 for every double other than 1) */
  long double ulp = ldexpl(1.0L, exponent - 53);
  return (double)(fabsl((long double)got - exact) / ulp);
}

static void test_log(const montecarlo_simd_path *generic,
                     const montecarlo_simd_path *paths[], int random_count) {
  int capacity = random_count + 64;
  double *values = malloc(sizeof(double) * (size_t)capacity);
  double *expected = malloc(sizeof(double) * (size_t)capacity);
  double *got = malloc(sizeof(double) * (size_t)capacity);
  if (values == NULL || expected == NULL || got == NULL) {
    expect(0, "allocation", "any");
    free(values), free(expected), free(got);
    return;
  }
  int count = log_inputs(values, random_count);
  generic->log_array(values, expected, count);
  double worst[2] = {0.0, 0.0}; /* EP's range, all normal doubles */
  for (int i = 0; i < count; ++i) {
    double error = ulp_error(values[i], expected[i]);
    int range = values[i] >= 0x1p-90 && values[i] <= 2.0 ? 0 : 1;
    if (error > worst[range])
      worst[range] = error;
  }
  printf("log: %d values, max error %.3f ulp in [2^-90, 2], %.3f ulp "
         "elsewhere\n",
         count, worst[0], worst[1]);
  expect(worst[0] < 1.0 && worst[1] < 1.0, "log error below 1 ulp", "generic");
  expect(expected[0] == 0.0 && expected[2] == -M_LN2,
         "log(1) = 0 and log(1/2) = -ln 2 (correctly rounded)", "generic");
  for (int p = 0; paths[p] != NULL; ++p) {
    paths[p]->log_array(values, got, count);
    int differ = 0;
    for (int i = 0; i < count; ++i)
      differ += memcmp(&got[i], &expected[i], sizeof(double)) != 0;
    if (differ > 0)
      printf("  %d of %d logarithms differ\n", differ, count);
    expect(differ == 0, "log bitwise equal to generic", paths[p]->name);
  }
  free(values), free(expected), free(got);
}

/* NPB's EP loop for one batch, pair by pair: keeps the accepted pairs,
 * adds their deviates in order and counts them by annulus, with the log
 * of the generic path. */
static void reference_pairs(const montecarlo_simd_path *generic, uint64_t seed,
                            int64_t pairs, double sums[2],
                            int64_t annulus_counts[EP_ANNULI]) {
  uint64_t stream = seed;
  sums[0] = sums[1] = 0.0;
  for (int64_t pair = 0; pair < pairs; ++pair) {
    uint64_t first = npb_random_next(stream, NPB_RANDOM_MULTIPLIER);
    stream = npb_random_next(first, NPB_RANDOM_MULTIPLIER);
    double x = 2.0 * npb_random_uniform(first) - 1.0;
    double y = 2.0 * npb_random_uniform(stream) - 1.0;
    double radius_squared = x * x + y * y;
    if (radius_squared > 1.0)
      continue;
    double logarithm[8], argument[8] = {radius_squared, 1, 1, 1, 1, 1, 1, 1};
    generic->log_array(argument, logarithm, 8);
    double scale = sqrt(-2.0 * logarithm[0] / radius_squared);
    double deviate_x = x * scale, deviate_y = y * scale;
    double larger = fmax(fabs(deviate_x), fabs(deviate_y));
    annulus_counts[larger < EP_ANNULI ? (int)larger : EP_ANNULI - 1] += 1;
    sums[0] += deviate_x;
    sums[1] += deviate_y;
  }
}

static void test_ep(const montecarlo_simd_path *generic,
                    const montecarlo_simd_path *paths[]) {
  static ep_workspace workspace;
  const int64_t pairs = 8 * EP_CHUNK_PAIRS;
  /* NPB's seed, the stream after 3 steps, and 2 chunks before chunk 2136,
   * which holds a pair in annulus 5 (the rare annuli take another pass) */
  const uint64_t seeds[] = {
      271828183, npb_random_skip(271828183, NPB_RANDOM_MULTIPLIER, 3),
      npb_random_skip(271828183, NPB_RANDOM_MULTIPLIER,
                      2 * EP_CHUNK_PAIRS * (2136 - 2))};
  for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; ++s) {
    double expected_sums[2];
    int64_t expected_counts[EP_ANNULI] = {0};
    reference_pairs(generic, seeds[s], pairs, expected_sums, expected_counts);
    for (int p = 0; paths[p] != NULL; ++p) {
      double sums[2];
      int64_t counts[EP_ANNULI] = {0};
      paths[p]->ep_pairs(seeds[s], pairs, &workspace, sums, counts);
      if (s == 2)
        expect(counts[5] > 0, "the third seed reaches annulus 5",
               paths[p]->name);
      expect(memcmp(sums, expected_sums, sizeof sums) == 0,
             "EP sums bitwise equal to the pair-by-pair loop", paths[p]->name);
      expect(memcmp(counts, expected_counts, sizeof counts) == 0,
             "EP annulus counts equal to the pair-by-pair loop",
             paths[p]->name);
    }
  }
}

static void test_pi(const montecarlo_simd_path *paths[]) {
  const uint32_t key[2] = {0x12345678, 0x9abcdef0};
  /* ranges that start and end off the 16-block groups, one past 2^32 */
  const int64_t ranges[][2] = {
      {0, 0},
      {3, 5},
      {7, 1000},
      {(INT64_C(1) << 32) - 9, (INT64_C(1) << 32) + 40}};
  for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; ++r) {
    int64_t expected = 0;
    for (int64_t block = ranges[r][0]; block < ranges[r][1]; ++block) {
      uint32_t counter[4] = {(uint32_t)block, (uint32_t)((uint64_t)block >> 32),
                             0, 0};
      uint32_t words[4];
      philox4x32_10(counter, key, words);
      for (int dart = 0; dart < 2; ++dart) {
        uint64_t x = words[2 * dart], y = words[2 * dart + 1];
        expected += x * x <= UINT64_MAX - y * y;
      }
    }
    for (int p = 0; paths[p] != NULL; ++p)
      expect(paths[p]->pi_hits(ranges[r][0], ranges[r][1], key) == expected,
             "pi hits equal to philox4x32_10 block by block", paths[p]->name);
  }
}

int main(int argc, char **argv) {
  int random_count = argc > 1 ? atoi(argv[1]) : 1 << 20;
  if (random_count < 0 || random_count > (1 << 28)) {
    printf("usage: test_montecarlo_simd [RANDOM_VALUES in 0..2^28]\n");
    return 2;
  }
  const montecarlo_simd_path *paths[PATH_NAMES + 1] = {NULL};
  int available = 0;
  for (int i = 0; i < PATH_NAMES; ++i) {
    const montecarlo_simd_path *path = montecarlo_simd_find(path_names[i]);
    if (path == NULL)
      printf("path %s: skipped (this CPU or build cannot run it)\n",
             path_names[i]);
    else
      paths[available++] = path;
  }
  const montecarlo_simd_path *generic = montecarlo_simd_find("generic");
  expect(generic != NULL, "the generic path always runs", "generic");
  expect(montecarlo_simd_find("auto") != NULL, "auto finds a path", "auto");
  expect(montecarlo_simd_find("sse9") == NULL, "unknown names are refused",
         "sse9");
  if (generic == NULL)
    return 1;
  for (int p = 0; p < available; ++p)
    printf("path %s: %d doubles per vector\n", paths[p]->name, paths[p]->lanes);
  test_log(generic, paths, random_count);
  test_ep(generic, paths);
  test_pi(paths);
  if (failures == 0)
    printf("all montecarlo paths agree (%d paths)\n", available);
  return failures == 0 ? 0 : 1;
}
