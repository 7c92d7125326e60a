/*
 * montecarlo's hot loops, compiled once per instruction set and chosen at
 * run time (numerics/montecarlo_simd.c, kernels/CMakeLists.txt).
 *
 * Paths: "generic" (x86-64 baseline, SSE2: 2 doubles per vector; on other
 * CPUs the compiler's default), "avx2" (x86-64-v3: 4 doubles) and "avx512"
 * (x86-64-v4: 8 doubles). Every path runs the same C source, with plain IEEE
 * operations only (add, subtract, multiply, divide, square root, integer bit
 * operations) and no fused multiply-add contraction (-ffp-contract=off), so
 * each lane computes exactly what the scalar code computes: all paths give
 * the same bits, checked by tests/unit/test_montecarlo_simd.c.
 *
 * No MPI, no OpenMP, no allocation: the caller splits the work.
 */
#ifndef PARKIT_MONTECARLO_SIMD_H
#define PARKIT_MONTECARLO_SIMD_H

#include <stdint.h>

#define EP_ANNULI 10 /* NPB's NQ */
/* Pairs handled in one pass through the workspace. */
#define EP_CHUNK_PAIRS 1024

/* A thread's workspace for one chunk of EP pairs (48 KiB). */
typedef struct ep_workspace {
  uint64_t states[2 * EP_CHUNK_PAIRS]; /* NPB's stream, two per pair */
  double size[EP_CHUNK_PAIRS]; /* max(|X|, |Y|); -1 for a rejected pair */
  /* the accepted pairs, gathered: generic path only */
  double x[EP_CHUNK_PAIRS], y[EP_CHUNK_PAIRS], radius_squared[EP_CHUNK_PAIRS];
} ep_workspace;

typedef struct montecarlo_simd_path {
  const char *name; /* "generic", "avx2", "avx512" */
  int lanes;        /* doubles per vector register */
  /* EP: `pairs` (a multiple of EP_CHUNK_PAIRS) pairs of NPB's stream from
   * state `seed`; sets sums[0..1] to the sums of the X and Y deviates, added
   * in pair order from 0.0, and adds the pairs' annulus counts to
   * annulus_counts. */
  void (*ep_pairs)(uint64_t seed, int64_t pairs, ep_workspace *workspace,
                   double sums[2], int64_t annulus_counts[EP_ANNULI]);
  /* pi: darts inside the quarter circle among counter blocks
   * [first_block, end_block) (two darts each) of Philox4x32-10 under key. */
  int64_t (*pi_hits)(int64_t first_block, int64_t end_block,
                     const uint32_t key[2]);
  /* log(values[i]) into results[i] for i < count (count a multiple of 8),
   * for values in [0x1p-1022, 0x1p1023] (EP uses (0, 2]); accuracy in
   * montecarlo_simd.c. */
  void (*log_array)(const double *values, double *results, int count);
} montecarlo_simd_path;

/* The path called `name`, or NULL when this build lacks it or this CPU
 * cannot run it. "auto" is the widest path the CPU runs. */
const montecarlo_simd_path *montecarlo_simd_find(const char *name);

/* Every path's name, "|"-separated, auto first: the option's choices. */
#define MONTECARLO_SIMD_CHOICES "auto|generic|avx2|avx512"

#endif
