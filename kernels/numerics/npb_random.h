/*
 * The NAS Parallel Benchmarks' random number generator (NPB randlc/vranlc):
 * the multiplicative linear congruential generator
 *
 *     x_{k+1} = a * x_k mod 2^46,   uniform_k = x_k * 2^-46 in (0, 1),
 *
 * with a = 5^13 by default. NPB evaluates it in double precision by splitting
 * the operands into 23-bit halves; here it is plain uint64_t arithmetic:
 * 2^46 divides 2^64, so the wrapped 64-bit product masked to 46 bits is the
 * exact residue. States below 2^46 convert to double exactly, so the
 * uniforms are bit for bit NPB's.
 *
 * Skip-ahead: x_{k+n} = a^n * x_k mod 2^46, with a^n by binary
 * exponentiation, so any stretch of the stream can be reached in O(log n).
 */
#ifndef PARKIT_NPB_RANDOM_H
#define PARKIT_NPB_RANDOM_H

#include <stdint.h>

#define NPB_RANDOM_MULTIPLIER UINT64_C(1220703125) /* 5^13 */
#define NPB_RANDOM_MODULUS_MASK ((UINT64_C(1) << 46) - 1)

/* a * b mod 2^46 for a, b < 2^46. */
static inline uint64_t npb_random_multiply(uint64_t a, uint64_t b) {
  return (a * b) & NPB_RANDOM_MODULUS_MASK;
}

/* The state after `state`: NPB's randlc without the conversion. */
static inline uint64_t npb_random_next(uint64_t state, uint64_t multiplier) {
  return npb_random_multiply(multiplier, state);
}

/* A state as a uniform in (0, 1); exact, since states fit in 46 bits. */
static inline double npb_random_uniform(uint64_t state) {
  return (double)(int64_t)state * 0x1p-46;
}

/* multiplier^exponent mod 2^46 by binary exponentiation. */
static inline uint64_t npb_random_power(uint64_t multiplier,
                                        uint64_t exponent) {
  uint64_t result = 1, square = multiplier & NPB_RANDOM_MODULUS_MASK;
  while (exponent > 0) {
    if (exponent & 1)
      result = npb_random_multiply(result, square);
    square = npb_random_multiply(square, square);
    exponent >>= 1;
  }
  return result;
}

/* The state `steps` steps after `state`. */
static inline uint64_t npb_random_skip(uint64_t state, uint64_t multiplier,
                                       uint64_t steps) {
  return npb_random_multiply(npb_random_power(multiplier, steps), state);
}

/* NPB's vranlc: advances *state `count` times and writes each new state as a
 * uniform, so values[0] comes from the first step. The numbers are those of
 * the sequential recurrence; they are computed as eight interleaved streams
 * (each stepping by multiplier^8) so that the loop has no serial dependence
 * and vectorises. */
static inline void npb_random_fill(uint64_t *state, uint64_t multiplier,
                                   int64_t count, double *values) {
  enum { LANES = 8 };
  uint64_t lanes[LANES];
  uint64_t next = *state;
  for (int lane = 0; lane < LANES; ++lane) {
    next = npb_random_next(next, multiplier);
    lanes[lane] = next;
  }
  uint64_t lane_multiplier = npb_random_power(multiplier, LANES);
  int64_t whole = count - count % LANES;
  for (int64_t i = 0; i < whole; i += LANES) {
    for (int lane = 0; lane < LANES; ++lane) {
      values[i + lane] = npb_random_uniform(lanes[lane]);
      lanes[lane] = npb_random_multiply(lane_multiplier, lanes[lane]);
    }
  }
  for (int64_t i = whole; i < count; ++i)
    values[i] = npb_random_uniform(lanes[i - whole]);
  *state = npb_random_skip(*state, multiplier, (uint64_t)count);
}

#endif
