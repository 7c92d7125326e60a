/*
 * Picks montecarlo's hot-loop path at run time (montecarlo_simd.h): the
 * x86-64 paths by what the CPU reports (__builtin_cpu_supports), so that a
 * binary built without -march=native still uses AVX-512 where it exists
 * and runs on a CPU without it.
 */
#include "montecarlo_simd.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define DECLARE_PATH(variant)                                                  \
  void montecarlo_ep_pairs_##variant(uint64_t seed, int64_t pairs,             \
                                     ep_workspace *workspace, double sums[2],  \
                                     int64_t annulus_counts[EP_ANNULI]);       \
  int64_t montecarlo_pi_hits_##variant(int64_t first_block, int64_t end_block, \
                                       const uint32_t key[2]);                 \
  void montecarlo_log_array_##variant(const double *values, double *results,   \
                                      int count);
#define PATH_ENTRY(variant, lanes)                                             \
  {                                                                            \
#variant, lanes, montecarlo_ep_pairs_##variant,                            \
        montecarlo_pi_hits_##variant, montecarlo_log_array_##variant           \
  }

DECLARE_PATH(generic)
#if defined(__x86_64__)
DECLARE_PATH(avx2)
DECLARE_PATH(avx512)
#endif

/* Widest first. */
static const montecarlo_simd_path paths[] = {
#if defined(__x86_64__)
    PATH_ENTRY(avx512, 8),
    PATH_ENTRY(avx2, 4),
    PATH_ENTRY(generic, 2),
#else
    PATH_ENTRY(generic, 1),
#endif
};

static bool cpu_runs(const montecarlo_simd_path *path) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  /* The features of x86-64-v3 and -v4 spelled out: clang 14 does not know
   * the level names. (A CPU with AVX2, FMA and BMI2 has the rest of v3:
   * MOVBE, LZCNT, F16C.) */
  bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
            __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
  bool v4 = v3 && __builtin_cpu_supports("avx512f") &&
            __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512cd") &&
            __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("avx512vl");
  if (strcmp(path->name, "avx512") == 0)
    return v4;
  if (strcmp(path->name, "avx2") == 0)
    return v3;
#endif
  (void)path;
  return true;
}

const montecarlo_simd_path *montecarlo_simd_find(const char *name) {
  bool any = strcmp(name, "auto") == 0;
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; ++i) {
    if ((any || strcmp(name, paths[i].name) == 0) && cpu_runs(&paths[i]))
      return &paths[i];
  }
  return NULL;
}
