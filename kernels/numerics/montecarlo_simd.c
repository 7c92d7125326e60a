/*
 * montecarlo's hot loops, written as plain loops over arrays that the
 * compiler vectorises. kernels/CMakeLists.txt compiles this file once per
 * path with PARKIT_SIMD_VARIANT set to generic, avx2 or avx512 and the
 * matching -march (x86-64, x86-64-v3, x86-64-v4), always with
 * -ffp-contract=off: every operation is a correctly rounded IEEE operation
 * or an integer operation, so a lane of any width computes the same bits
 * as the scalar code (see montecarlo_simd.h). Check what vectorised with
 * `objdump -d` on the object files (ymm, zmm registers; vdivpd, vsqrtpd,
 * vpmullq, vpmuludq).
 */
#include "montecarlo_simd.h"
#include "npb_random.h"
#include "philox.h"

#include <math.h>
#include <string.h>

#ifndef PARKIT_SIMD_VARIANT
#error "compile with -DPARKIT_SIMD_VARIANT=generic|avx2|avx512"
#endif
#define SIMD_PASTE(name, variant) name##_##variant
#define SIMD_EXPAND(name, variant) SIMD_PASTE(name, variant)
/* name_generic, name_avx2, name_avx512: one set of symbols per path. */
#define SIMD_NAME(name) SIMD_EXPAND(name, PARKIT_SIMD_VARIANT)

/* ---- log ----------------------------------------------------------------- */

static inline double bits_to_double(uint64_t bits) {
  double value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

static inline uint64_t double_to_bits(double value) {
  uint64_t bits;
  memcpy(&bits, &value, sizeof bits);
  return bits;
}

/* condition ? if_true : if_false, in bit operations: a plain `?:` lets
 * GCC duplicate the code after it into two paths, and then it cannot keep
 * the sums of ep_chunk_deviates in order in vectors. */
static inline double select_double(int64_t condition, double if_true,
                                   double if_false) {
  uint64_t mask = -(uint64_t)(condition != 0);
  return bits_to_double((double_to_bits(if_true) & mask) |
                        (double_to_bits(if_false) & ~mask));
}

/* log(value) for positive normal `value`, by FreeBSD's msun/fdlibm e_log.c
 * (Sun Microsystems, 1993), without its branches so that it vectorises:
 * value = 2^k m with m in [sqrt(2)/2, sqrt(2)), f = m - 1,
 * s = f / (2 + f), log(m) = 2 atanh(s) = 2s + s R(s^2) with fdlibm's
 * degree-14 polynomial R, and log(value) = k ln2_hi + (log(m) + k ln2_lo)
 * with ln2_hi exact in 33 bits. fdlibm's special cases are left out: zero,
 * negative, subnormal, infinite and NaN inputs never reach it, and for
 * f = 0 and tiny f its general formula (used here) is as accurate as the
 * shortcuts fdlibm takes for speed. fdlibm's bound: error < 1 ulp.
 * Measured with tests/unit/test_montecarlo_simd.c 67108864 (against long
 * double logl, on 2^25 random values with uniform mantissa and exponent in
 * [2^-90, 1], EP's range, and 2^25 random normal doubles): at most
 * 0.86 ulp in EP's range, 0.84 ulp elsewhere (glibc's log: about 0.5).
 * Pure IEEE double operations: the same bits in every lane width. */
static inline double simd_log(double value) {
  static const double ln2_hi = 0x1.62e42feep-1, ln2_lo = 0x1.a39ef35793c76p-33;
  static const double lg1 = 0x1.5555555555593p-1, lg2 = 0x1.999999997fa04p-2,
                      lg3 = 0x1.2492494229359p-2, lg4 = 0x1.c71c51d8e78afp-3,
                      lg5 = 0x1.7466496cb03dep-3, lg6 = 0x1.39a09d078c69fp-3,
                      lg7 = 0x1.2f112df3e5244p-3;
  /* fdlibm tests the top 20 bits of the mantissa in integers; here the
   * same tests are made exactly on m1 = 1.mantissa in [1, 2), in double
   * compares that every SIMD width has (SSE2 lacks 64-bit integer
   * compares). hx >= c is m1 >= 1 + c 2^-20, hx <= c is m1 < 1 + (c + 1)
   * 2^-20. */
  uint64_t bits = double_to_bits(value);
  double m1 = bits_to_double((bits & UINT64_C(0x000fffffffffffff)) |
                             UINT64_C(0x3ff0000000000000));
  /* (double)(biased exponent), exactly: 2^52 + e has e in its low bits. */
  double biased_exponent =
      bits_to_double((bits >> 52) | UINT64_C(0x4330000000000000)) - 0x1p52;
  /* m1 >= sqrt(2) (fdlibm: (hx + 0x95f64) & 0x100000): use m1 / 2. */
  int64_t halve = m1 >= 1.0 + 0x6a09c * 0x1p-20;
  double f = select_double(halve, 0.5 * m1, m1) - 1.0;
  double k = biased_exponent - 1023.0 + select_double(halve, 1.0, 0.0);
  double s = f / (2.0 + f);
  double z = s * s;
  double w = z * z;
  double t1 = w * (lg2 + w * (lg4 + w * lg6));
  double t2 = z * (lg1 + w * (lg3 + w * (lg5 + w * lg7)));
  double r = t2 + t1;
  double half_f_squared = 0.5 * f * f;
  double near_sqrt2 =
      k * ln2_hi -
      ((half_f_squared - (s * (half_f_squared + r) + k * ln2_lo)) - f);
  double elsewhere = k * ln2_hi - ((s * (f - r) - k * ln2_lo) - f);
  /* fdlibm's choice: the half_f_squared form where m is near sqrt(2) or
   * sqrt(2)/2 (|f| largest): 0x6147a <= hx <= 0x6b851. */
  int64_t use_near =
      m1 >= 1.0 + 0x6147a * 0x1p-20 && m1 < 1.0 + 0x6b852 * 0x1p-20;
  return select_double(use_near, near_sqrt2, elsewhere);
}

void SIMD_NAME(montecarlo_log_array)(const double *values, double *results,
                                     int count);
void SIMD_NAME(montecarlo_log_array)(const double *values, double *results,
                                     int count) {
  for (int i = 0; i < count; ++i)
    results[i] = simd_log(values[i]);
}

/* ---- EP ------------------------------------------------------------------ */

/* NPB's multiplier raised to the powers the chunk loop steps by. */
typedef struct ep_multipliers {
  uint64_t lane_step;  /* a^EP_STREAM_LANES: one step of each lane */
  uint64_t chunk_step; /* a^(2 EP_CHUNK_PAIRS): one chunk */
} ep_multipliers;

/* The chunk's 2 EP_CHUNK_PAIRS states of NPB's stream, which stands at
 * *stream: state i + 1 after *stream into states[i]; *stream is advanced
 * past them. The first EP_STREAM_LANES states are stepped one by one, the
 * rest jump EP_STREAM_LANES back (x_{i+L} = a^L x_i), a recurrence at
 * distance L that vectorises for vectors of up to L lanes. */
#define EP_STREAM_LANES 8
static void ep_chunk_states(uint64_t *stream, const ep_multipliers *steps,
                            uint64_t *states) {
  uint64_t state = *stream;
  for (int i = 0; i < EP_STREAM_LANES; ++i) {
    state = npb_random_next(state, NPB_RANDOM_MULTIPLIER);
    states[i] = state;
  }
  for (int i = EP_STREAM_LANES; i < 2 * EP_CHUNK_PAIRS; ++i)
    states[i] =
        npb_random_multiply(steps->lane_step, states[i - EP_STREAM_LANES]);
  *stream = npb_random_multiply(steps->chunk_step, *stream);
}

/* NPB's uniform state * 2^-46 (npb_random_uniform), converted without an
 * int64 -> double instruction (which SSE2 and AVX2 lack): states are below
 * 2^46, so 2^52 + state has the state in its low bits, exactly. */
static inline double ep_uniform(uint64_t state) {
  return (bits_to_double(state | UINT64_C(0x4330000000000000)) - 0x1p52) *
         0x1p-46;
}

#if !PARKIT_SIMD_SCALAR
/* One chunk of pairs: the pairs inside the unit disk become Marsaglia's
 * polar deviates (x, y) sqrt(-2 log(r^2) / r^2), which are added to
 * sums[0..1] one by one in pair order (the order fixes the bits; the
 * compiler keeps it, adding the lanes of each vector in turn); their
 * sizes max(|X|, |Y|) go to workspace->size. The other pairs become (0, 0)
 * with size -1: adding +0.0 leaves a sum's bits as they are, so the
 * sums are those of a loop over the accepted pairs alone. Every pair
 * computes a logarithm, kept or not: a fifth of them are wasted, but the
 * loop has no branch and no compaction and runs in full vectors. */
static void ep_chunk_deviates(ep_workspace *workspace, double sums[2]) {
  double sum_x = sums[0], sum_y = sums[1];
  for (int pair = 0; pair < EP_CHUNK_PAIRS; ++pair) {
    double x = 2.0 * ep_uniform(workspace->states[2 * pair]) - 1.0;
    double y = 2.0 * ep_uniform(workspace->states[2 * pair + 1]) - 1.0;
    double radius_squared = x * x + y * y;
    int64_t accepted = radius_squared <= 1.0;
    double scale_squared = -2.0 * simd_log(radius_squared) / radius_squared;
    double scale = sqrt(select_double(accepted, scale_squared, 0.0));
    double deviate_x = x * scale, deviate_y = y * scale;
    sum_x += deviate_x;
    sum_y += deviate_y;
    double larger =
        fabs(deviate_x) > fabs(deviate_y) ? fabs(deviate_x) : fabs(deviate_y);
    /* Stored as a double, not as the annulus floor(larger): a 32-bit
     * integer here would give the loop two vector widths, and GCC keeps
     * the sums in order only with one. */
    workspace->size[pair] = select_double(accepted, larger, -1.0);
  }
  sums[0] = sum_x;
  sums[1] = sum_y;
}

#else
/* ep_chunk_deviates for scalar code (the generic path: SSE2 has no
 * 64-bit select, so GCC does not vectorise ep_chunk_deviates there): the
 * same operations on the same values in the same order, hence the same
 * bits, but the pairs inside the unit disk are first gathered (as NPB
 * does), so that only they pay for a logarithm, a division and a square
 * root. */
static void ep_chunk_deviates(ep_workspace *workspace, double sums[2]) {
  int accepted = 0;
  for (int pair = 0; pair < EP_CHUNK_PAIRS; ++pair) {
    double x = 2.0 * ep_uniform(workspace->states[2 * pair]) - 1.0;
    double y = 2.0 * ep_uniform(workspace->states[2 * pair + 1]) - 1.0;
    double radius_squared = x * x + y * y;
    /* branch-free: the next pair overwrites this one unless it is kept */
    workspace->x[accepted] = x;
    workspace->y[accepted] = y;
    workspace->radius_squared[accepted] = radius_squared;
    accepted += radius_squared <= 1.0;
  }
  double sum_x = sums[0], sum_y = sums[1];
  for (int pair = 0; pair < accepted; ++pair) {
    double x = workspace->x[pair], y = workspace->y[pair];
    double radius_squared = workspace->radius_squared[pair];
    double scale = sqrt(-2.0 * simd_log(radius_squared) / radius_squared);
    double deviate_x = x * scale, deviate_y = y * scale;
    sum_x += deviate_x;
    sum_y += deviate_y;
    workspace->size[pair] =
        fabs(deviate_x) > fabs(deviate_y) ? fabs(deviate_x) : fabs(deviate_y);
  }
  for (int pair = accepted; pair < EP_CHUNK_PAIRS; ++pair)
    workspace->size[pair] = -1.0;
  sums[0] = sum_x;
  sums[1] = sum_y;
}

#endif

/* Adds the chunk's pairs to NPB's annulus counts: annulus l holds the
 * sizes in [l, l + 1), the last one (l = EP_ANNULI - 1) every size from l
 * on, the rare ones beyond 10 included; rejected pairs (size -1) count
 * nowhere. A vectorised pass counts the sizes of at least 0 .. 4; only a
 * chunk with a size of 4 or more (about one chunk in ten) takes a second,
 * scalar pass for the bounds above. */
static void ep_chunk_annuli(const ep_workspace *workspace,
                            int64_t annulus_counts[EP_ANNULI]) {
  enum { COMMON = 5 }; /* bounds 0 .. COMMON-1 counted in the first pass */
  int64_t at_least[EP_ANNULI + 1] = {0};
  int64_t at_least_0 = 0, at_least_1 = 0, at_least_2 = 0, at_least_3 = 0,
          at_least_4 = 0;
  for (int pair = 0; pair < EP_CHUNK_PAIRS; ++pair) {
    double size = workspace->size[pair];
    at_least_0 += size >= 0.0;
    at_least_1 += size >= 1.0;
    at_least_2 += size >= 2.0;
    at_least_3 += size >= 3.0;
    at_least_4 += size >= 4.0;
  }
  at_least[0] = at_least_0, at_least[1] = at_least_1;
  at_least[2] = at_least_2, at_least[3] = at_least_3;
  at_least[4] = at_least_4;
  if (at_least_4 > 0) {
    for (int pair = 0; pair < EP_CHUNK_PAIRS; ++pair) {
      for (int bound = COMMON; bound < EP_ANNULI; ++bound)
        at_least[bound] += workspace->size[pair] >= bound;
    }
  }
  for (int annulus = 0; annulus < EP_ANNULI; ++annulus)
    annulus_counts[annulus] += at_least[annulus] - at_least[annulus + 1];
}

void SIMD_NAME(montecarlo_ep_pairs)(uint64_t seed, int64_t pairs,
                                    ep_workspace *workspace, double sums[2],
                                    int64_t annulus_counts[EP_ANNULI]);
void SIMD_NAME(montecarlo_ep_pairs)(uint64_t seed, int64_t pairs,
                                    ep_workspace *workspace, double sums[2],
                                    int64_t annulus_counts[EP_ANNULI]) {
  const ep_multipliers steps = {
      npb_random_power(NPB_RANDOM_MULTIPLIER, EP_STREAM_LANES),
      npb_random_power(NPB_RANDOM_MULTIPLIER, 2 * EP_CHUNK_PAIRS)};
  uint64_t stream = seed;
  sums[0] = sums[1] = 0.0;
  for (int64_t done = 0; done < pairs; done += EP_CHUNK_PAIRS) {
    ep_chunk_states(&stream, &steps, workspace->states);
    ep_chunk_deviates(workspace, sums);
    ep_chunk_annuli(workspace, annulus_counts);
  }
}

/* ---- pi ------------------------------------------------------------------ */

/* Hits among counter blocks [first_block, end_block): philox4x32_10
 * (philox.h) written out for one block per vector lane. The 32-bit words
 * live in 64-bit variables (upper halves zero) and the blocks' loop has no
 * other dependence than the hit count, so it vectorises: one
 * 32 x 32 -> 64-bit product is one even-lane multiply (pmuludq) or a
 * 64-bit multiply in every SIMD width. */
int64_t SIMD_NAME(montecarlo_pi_hits)(int64_t first_block, int64_t end_block,
                                      const uint32_t key[2]);
int64_t SIMD_NAME(montecarlo_pi_hits)(int64_t first_block, int64_t end_block,
                                      const uint32_t key[2]) {
  const uint64_t low_half = UINT64_C(0xffffffff);
  int64_t hits = 0;
  for (int64_t block = first_block; block < end_block; ++block) {
    uint64_t word_0 = (uint64_t)block & low_half,
             word_1 = (uint64_t)block >> 32;
    uint64_t word_2 = 0, word_3 = 0;
    uint64_t key_0 = key[0], key_1 = key[1];
    for (int round = 0; round < PHILOX4X32_ROUNDS; ++round) {
      uint64_t product_0 = PHILOX4X32_MULTIPLIER_0 * word_0;
      uint64_t product_1 = PHILOX4X32_MULTIPLIER_1 * word_2;
      word_0 = (product_1 >> 32) ^ word_1 ^ key_0;
      word_2 = (product_0 >> 32) ^ word_3 ^ key_1;
      word_1 = product_1 & low_half;
      word_3 = product_0 & low_half;
      key_0 = (key_0 + PHILOX4X32_KEY_INCREMENT_0) & low_half;
      key_1 = (key_1 + PHILOX4X32_KEY_INCREMENT_1) & low_half;
    }
    /* x^2 + y^2 < 2^64 for the darts (word 0, word 1), (word 2, word 3) */
    hits += (word_0 * word_0 <= UINT64_MAX - word_1 * word_1) +
            (word_2 * word_2 <= UINT64_MAX - word_3 * word_3);
  }
  return hits;
}
