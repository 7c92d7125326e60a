/*
 * montecarlo: two Monte Carlo estimates whose results are bitwise identical
 * for every split of the work over ranks and threads.
 *
 * --estimate pi
 *   Throws --samples darts (default 2^26) at the unit square and counts the
 *   hits inside the quarter circle: pi ~ 4 hits / samples. Dart i draws its
 *   coordinates from Philox4x32-10 (philox.h) keyed by --seed (low, high 32
 *   bits) at counter (i / 2 low, i / 2 high, 0, 0): even darts take output
 *   words 0 and 1, odd darts words 2 and 3. A dart (x, y), two 32-bit
 *   integers standing for x / 2^32 and y / 2^32, hits when
 *   x^2 + y^2 < 2^64, decided exactly in 64-bit integers: no floating
 *   point, so vector and scalar code cannot disagree.
 *   Work: `samples` items ("samples"); no floating-point operations.
 *   Verifies |estimate - pi| <= 5 standard errors, the standard error being
 *   4 sqrt(p (1 - p) / samples) with p = pi / 4, the hit probability of an
 *   unbiased estimate. (The observed hits / samples would give a zero
 *   standard error, and a certain failure, whenever every dart hits, as a
 *   single dart does three times in four.)
 *
 * --estimate ep
 *   The NAS Parallel Benchmarks' EP kernel as NPB 3.4 defines it, for
 *   --class S, W, A, B, C: 2^M pairs, M = 24, 25, 28, 30, 32. The pairs are
 *   drawn in 2^(M-16) batches of 2^16 pairs (NPB's NN batches of NK = 2^MK
 *   pairs, MK = 16) from NPB's generator (npb_random.h) with NPB's fixed
 *   seed, not --seed: batch b starts from 271828183 * (5^13)^(2^17 b)
 *   mod 2^46, where the sequential stream stands after b batches. Each pair
 *   of uniforms becomes (x, y) in [-1, 1]^2; pairs inside the unit disk
 *   become two independent standard normal deviates by Marsaglia's polar
 *   method (Box-Muller without sine and cosine), computed in vectors by
 *   montecarlo_simd.c with its own logarithm (fdlibm's, <= 0.86 ulp
 *   measured; the sums differ from glibc log's in the last bits, the
 *   counts not at all for classes S to B). EP sums the deviates and
 *   counts the pairs by square annulus, l <= max(|X|, |Y|) < l + 1 for
 *   l = 0..9; a pair beyond 10 (about 3e-23 likely) is counted in annulus 9
 *   where NPB would write past its array.
 *   Work: 2^M items ("pairs"); flops are left at 0, as NPB counts random
 *   numbers, not flops. Memory: a 48 KiB workspace per thread and two
 *   doubles per batch (1 MiB for class C) on every rank.
 *   Verifies (1) NPB's own criterion: both sums within relative 1e-8 of
 *   NPB's reference values, and (2) the statistics: accepted pairs within 6
 *   binomial standard deviations of 2^M pi / 4, each sum within
 *   6 sqrt(accepted pairs) of 0, each annulus count within 6 standard
 *   deviations + 3 of its expectation.
 *
 * Work split. Pi: the counter blocks (two darts each) are split into
 * contiguous, balanced ranges over the ranks, and each rank's range
 * statically over its threads; hit counts are integers, so their sum does
 * not depend on the split. EP: the batches are split the same way. A
 * batch's sums are always computed by the same code, sequentially in pair
 * order, whoever computes it; every rank then gathers all batch sums and
 * adds them in batch order. So sums, counts and every output are the same
 * bits for every ranks x threads split, including splits where some ranks
 * or threads get no work.
 *
 * Collective calls (on ctx->comm only): run() ends with MPI_Allreduce (pi:
 * the hit count; EP: the annulus counts) and, for EP, MPI_Allgatherv of the
 * batch sums, so one repetition includes its communication and every rank
 * holds the final result. setup() and verify() communicate nothing (the
 * results are already replicated) but are called collectively as the
 * interface requires.
 */
#include "check.h"
#include "kernel.h"
#include "montecarlo_simd.h"
#include "npb_random.h"
#include "partition.h"
#include "philox.h"

#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double reference_pi = 3.14159265358979323846;

/* ---- options ------------------------------------------------------------ */

enum montecarlo_option {
  OPTION_ESTIMATE,
  OPTION_CLASS,
  OPTION_SAMPLES,
  OPTION_SIMD,
  OPTION_COUNT
};

/* Indices of the words of the `estimate` choice list "ep|pi". */
enum estimate_kind { ESTIMATE_EP, ESTIMATE_PI };

/* NPB EP classes: name, M (log2 of the pair count), NPB's reference sums
 * (NPB3.4-MPI/EP/ep.f). One list: it makes both the `class` choice list and
 * the table the choice indexes. */
#define EP_CLASS_LIST(X)                                                       \
  X(S, 24, -3.247834652034740e+3, -6.958407078382297e+3)                       \
  X(W, 25, -2.863319731645753e+3, -6.320053679109499e+3)                       \
  X(A, 28, -4.295875165629892e+3, -1.580732573678431e+4)                       \
  X(B, 30, 4.033815542441498e+4, -2.660669192809235e+4)                        \
  X(C, 32, 4.764367927995374e+4, -8.084072988043731e+4)

typedef struct ep_class {
  const char *name;
  int log2_pairs;
  double reference_sum_x;
  double reference_sum_y;
} ep_class;

#define EP_CLASS_ENTRY(name, log2_pairs, sum_x, sum_y)                         \
  {#name, log2_pairs, sum_x, sum_y},
#define EP_CLASS_CHOICE(name, log2_pairs, sum_x, sum_y) "|" #name

static const ep_class ep_classes[] = {EP_CLASS_LIST(EP_CLASS_ENTRY)};

static const parkit_option montecarlo_options[OPTION_COUNT] = {
    [OPTION_ESTIMATE] = {.name = "estimate",
                         .type = PARKIT_OPTION_CHOICE,
                         .default_value = "ep",
                         .unit = "1",
                         .help = "ep: NAS EP Gaussian pairs; pi: pi by "
                                 "dart throwing",
                         .choices = "ep|pi"},
    [OPTION_CLASS] = {.name = "class",
                      .type = PARKIT_OPTION_CHOICE,
                      .default_value = "S",
                      .unit = "1",
                      .help = "NPB EP class: 2^M pairs, M = 24, 25, 28, 30, "
                              "32 for S, W, A, B, C",
                      /* "|S|W|A|B|C" without its leading '|' */
                      .choices = &EP_CLASS_LIST(EP_CLASS_CHOICE)[1]},
    [OPTION_SAMPLES] = {.name = "samples",
                        .type = PARKIT_OPTION_INT,
                        .default_value = "67108864",
                        .unit = "samples",
                        .help = "darts thrown for --estimate pi",
                        .min = 1,
                        .max = INT64_C(1) << 50},
    [OPTION_SIMD] = {.name = "simd",
                     .type = PARKIT_OPTION_CHOICE,
                     .default_value = "auto",
                     .unit = "1",
                     .help = "code path of the hot loops: auto (the widest "
                             "this CPU runs) or one by name; all give the "
                             "same bits",
                     .choices = MONTECARLO_SIMD_CHOICES},
};

/* ---- EP constants (NPB's names in brackets) ----------------------------- */

#define EP_LOG2_BATCH_PAIRS 16                    /* [MK] */
#define EP_BATCH_PAIRS (1 << EP_LOG2_BATCH_PAIRS) /* [NK] pairs per batch */
#define EP_SEED UINT64_C(271828183)               /* [S] */
#define EP_NPB_TOLERANCE 1e-8                     /* NPB's relative epsilon */
/* A macro's value as a string literal, for messages: "1e-8", not "1e-08". */
#define STRINGIFY(text) #text
#define VALUE_TEXT(macro) STRINGIFY(macro)
#define STATISTICAL_SIGMAS 6.0
#define PI_SIGMAS 5.0
#define ANNULUS_SLACK 3.0 /* counts forgiven: far annuli expect ~0 */

/* ---- state -------------------------------------------------------------- */

_Static_assert(EP_BATCH_PAIRS % EP_CHUNK_PAIRS == 0,
               "a batch is a whole number of chunks");

typedef struct montecarlo_state {
  parkit_context context;
  int estimate;                     /* enum estimate_kind */
  const montecarlo_simd_path *path; /* the hot loops' code path */

  /* pi */
  int64_t samples;
  int64_t hits; /* over all ranks, after run() */

  /* EP */
  const ep_class *problem;
  int64_t batches;           /* [NN] over all ranks */
  int64_t first_batch;       /* this rank's first batch */
  int64_t local_batches;     /* this rank's batch count */
  uint64_t batch_multiplier; /* [AN] a^(2 NK): jumps the stream one batch */
  ep_workspace *workspaces;  /* one per thread */
  double *batch_sums;        /* (sum x, sum y) of every batch, batch order */
  int *gather_counts;        /* doubles of batch_sums each rank computes */
  int *gather_offsets;       /* where each rank's part of batch_sums starts */
  int64_t annulus_counts[EP_ANNULI]; /* over all ranks, after run() */
  int64_t accepted_pairs;
  double sum_x, sum_y;
} montecarlo_state;

static int64_t ep_batch_count(const ep_class *problem) {
  return INT64_C(1) << (problem->log2_pairs - EP_LOG2_BATCH_PAIRS);
}

/* ---- pi ------------------------------------------------------------------ */

static int run_pi(montecarlo_state *state) {
  const parkit_context *context = &state->context;
  int64_t blocks = (state->samples + 1) / 2;
  parkit_range mine =
      parkit_balanced_part(blocks, context->size, context->rank);
  /* Blocks below full_blocks hold two darts; with an odd sample count the
   * last block, numbered full_blocks, holds one: its second dart is
   * subtracted by the rank that owns it, so that the main loop stays
   * simple. */
  int64_t full_blocks = state->samples / 2;
  bool owns_half_block = state->samples % 2 == 1 && mine.begin <= full_blocks &&
                         full_blocks < mine.end;
  const uint32_t key[2] = {(uint32_t)context->seed,
                           (uint32_t)(context->seed >> 32)};
  const montecarlo_simd_path *path = state->path;
  int64_t hits = 0;
#pragma omp parallel num_threads(context->threads) reduction(+ : hits)
  {
    parkit_range part = parkit_balanced_part(
        mine.end - mine.begin, omp_get_num_threads(), omp_get_thread_num());
    hits += path->pi_hits(mine.begin + part.begin, mine.begin + part.end, key);
  }
  if (owns_half_block) {
    uint32_t counter[4] = {(uint32_t)full_blocks,
                           (uint32_t)((uint64_t)full_blocks >> 32), 0, 0};
    uint32_t words[4];
    philox4x32_10(counter, key, words);
    uint64_t x_squared = (uint64_t)words[2] * words[2];
    uint64_t y_squared = (uint64_t)words[3] * words[3];
    hits -= x_squared <= UINT64_MAX - y_squared;
  }
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &hits, 1, MPI_INT64_T, MPI_SUM,
                                context->comm));
  state->hits = hits;
  return 0;
}

static int verify_pi(const montecarlo_state *state, parkit_outputs *outputs,
                     parkit_verdict *verdict) {
  double samples = (double)state->samples;
  double estimate = 4.0 * (double)state->hits / samples;
  double hit_probability = reference_pi / 4.0;
  double standard_error =
      4.0 * sqrt(hit_probability * (1.0 - hit_probability) / samples);
  double error_sigmas = (estimate - reference_pi) / standard_error;
  verdict->passed = fabs(error_sigmas) <= PI_SIGMAS;
  snprintf(verdict->message, sizeof verdict->message,
           "pi estimate %.9f from %lld darts is %.2f standard errors from pi "
           "(limit %.0f)",
           estimate, (long long)state->samples, error_sigmas, PI_SIGMAS);
  PARKIT_CALL(parkit_output_integer(outputs, "samples", state->samples));
  PARKIT_CALL(parkit_output_integer(outputs, "hits", state->hits));
  PARKIT_CALL(parkit_output_real(outputs, "pi_estimate", estimate));
  PARKIT_CALL(parkit_output_real(outputs, "pi_standard_error", standard_error));
  PARKIT_CALL(parkit_output_real(outputs, "pi_error_sigmas", error_sigmas));
  return 0;
}

/* ---- EP ------------------------------------------------------------------ */

/* Where NPB's stream stands when batch `batch` starts: the seed advanced
 * 2 NK steps per earlier batch, by binary exponentiation of a^(2 NK) as
 * NPB's "find starting seed" loop does. */
static uint64_t ep_batch_seed(const montecarlo_state *state, int64_t batch) {
  return npb_random_multiply(
      EP_SEED, npb_random_power(state->batch_multiplier, (uint64_t)batch));
}

/* This rank's batches, split statically over the threads; each thread works
 * in its own workspace and adds its annulus counts at the end. */
static void ep_local_batches(montecarlo_state *state,
                             int64_t annulus_counts[EP_ANNULI]) {
#pragma omp parallel num_threads(state->context.threads)
  {
    ep_workspace *workspace = &state->workspaces[omp_get_thread_num()];
    int64_t thread_counts[EP_ANNULI] = {0};
#pragma omp for schedule(static)
    for (int64_t local = 0; local < state->local_batches; ++local) {
      int64_t batch = state->first_batch + local;
      /* Every batch runs exactly this code, with chunks at the same
       * offsets, so its sums are the same bits whoever computes it. */
      state->path->ep_pairs(ep_batch_seed(state, batch), EP_BATCH_PAIRS,
                            workspace, &state->batch_sums[2 * batch],
                            thread_counts);
    }
    for (int annulus = 0; annulus < EP_ANNULI; ++annulus) {
#pragma omp atomic
      annulus_counts[annulus] += thread_counts[annulus];
    }
  }
}

static int run_ep(montecarlo_state *state) {
  const parkit_context *context = &state->context;
  int64_t annulus_counts[EP_ANNULI] = {0};
  ep_local_batches(state, annulus_counts);
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, annulus_counts, EP_ANNULI,
                                MPI_INT64_T, MPI_SUM, context->comm));
  /* Each rank's batch sums already sit at their place in batch_sums. */
  PARKIT_MPI_CALL(MPI_Allgatherv(
      MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, state->batch_sums,
      state->gather_counts, state->gather_offsets, MPI_DOUBLE, context->comm));
  /* Batch order on every rank: the same bits for every split. */
  double sum_x = 0.0, sum_y = 0.0;
  for (int64_t batch = 0; batch < state->batches; ++batch) {
    sum_x += state->batch_sums[2 * batch];
    sum_y += state->batch_sums[2 * batch + 1];
  }
  state->sum_x = sum_x;
  state->sum_y = sum_y;
  state->accepted_pairs = 0;
  for (int annulus = 0; annulus < EP_ANNULI; ++annulus) {
    state->annulus_counts[annulus] = annulus_counts[annulus];
    state->accepted_pairs += annulus_counts[annulus];
  }
  return 0;
}

/* Probability that max(|X|, |Y|) of two independent standard normals lies in
 * annulus l: erf((l+1)/sqrt 2)^2 - erf(l/sqrt 2)^2, the last annulus open to
 * infinity. Written with erfc so the far annuli keep their precision. */
static double ep_annulus_probability(int annulus) {
  double lower_tail = erfc(annulus / sqrt(2.0));
  double upper_tail =
      annulus == EP_ANNULI - 1 ? 0.0 : erfc((annulus + 1) / sqrt(2.0));
  return (lower_tail - upper_tail) * (2.0 - lower_tail - upper_tail);
}

/* Deviation of `observed` from `expected` in units of `deviation`, after
 * forgiving `slack` counts. */
static double sigmas_beyond_slack(double observed, double expected,
                                  double deviation, double slack) {
  double excess = fabs(observed - expected) - slack;
  return excess > 0.0 ? excess / deviation : 0.0;
}

/* Appends printf-style text to the string `text` (of capacity `size`),
 * truncating what does not fit. */
static void append_text(char *text, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static void append_text(char *text, size_t size, const char *format, ...) {
  size_t used = strlen(text);
  if (used + 1 >= size)
    return;
  va_list arguments;
  va_start(arguments, format);
  vsnprintf(text + used, size - used, format, arguments);
  va_end(arguments);
}

/* The statistical checks; returns the number of failures and appends a
 * description of each to `failures`. */
static int ep_statistical_failures(const montecarlo_state *state,
                                   double sum_x_sigmas, double sum_y_sigmas,
                                   char *failures, size_t size) {
  double pairs = ldexp(1.0, state->problem->log2_pairs);
  double accepted = (double)state->accepted_pairs;
  double disk_probability = reference_pi / 4.0;
  double accepted_sigmas =
      (accepted - pairs * disk_probability) /
      sqrt(pairs * disk_probability * (1.0 - disk_probability));
  int count = 0;
  if (fabs(accepted_sigmas) > STATISTICAL_SIGMAS) {
    append_text(failures, size, "; accepted pairs %.1f sigma off pi/4",
                accepted_sigmas);
    ++count;
  }
  if (fabs(sum_x_sigmas) > STATISTICAL_SIGMAS ||
      fabs(sum_y_sigmas) > STATISTICAL_SIGMAS) {
    append_text(failures, size, "; sums %.1f, %.1f sigma off 0", sum_x_sigmas,
                sum_y_sigmas);
    ++count;
  }
  for (int annulus = 0; annulus < EP_ANNULI; ++annulus) {
    double probability = ep_annulus_probability(annulus);
    double beyond = sigmas_beyond_slack(
        (double)state->annulus_counts[annulus], accepted * probability,
        sqrt(accepted * probability * (1.0 - probability)), ANNULUS_SLACK);
    if (beyond > STATISTICAL_SIGMAS) {
      append_text(failures, size, "; annulus %d count %.1f sigma off", annulus,
                  beyond);
      ++count;
    }
  }
  return count;
}

static int ep_record_outputs(const montecarlo_state *state,
                             parkit_outputs *outputs, double relative_error_x,
                             double relative_error_y, double sum_x_sigmas,
                             double sum_y_sigmas) {
  const ep_class *problem = state->problem;
  PARKIT_CALL(parkit_output_integer(outputs, "pairs",
                                    INT64_C(1) << problem->log2_pairs));
  PARKIT_CALL(
      parkit_output_integer(outputs, "accepted_pairs", state->accepted_pairs));
  PARKIT_CALL(parkit_output_real(outputs, "sum_x", state->sum_x));
  PARKIT_CALL(parkit_output_real(outputs, "sum_y", state->sum_y));
  PARKIT_CALL(parkit_output_integers(outputs, "annulus_counts",
                                     state->annulus_counts, EP_ANNULI));
  PARKIT_CALL(parkit_output_real(outputs, "npb_reference_sum_x",
                                 problem->reference_sum_x));
  PARKIT_CALL(parkit_output_real(outputs, "npb_reference_sum_y",
                                 problem->reference_sum_y));
  PARKIT_CALL(
      parkit_output_real(outputs, "npb_relative_error_x", relative_error_x));
  PARKIT_CALL(
      parkit_output_real(outputs, "npb_relative_error_y", relative_error_y));
  PARKIT_CALL(parkit_output_real(outputs, "sum_x_sigmas", sum_x_sigmas));
  PARKIT_CALL(parkit_output_real(outputs, "sum_y_sigmas", sum_y_sigmas));
  return 0;
}

static int verify_ep(const montecarlo_state *state, parkit_outputs *outputs,
                     parkit_verdict *verdict) {
  const ep_class *problem = state->problem;
  double relative_error_x = fabs(state->sum_x - problem->reference_sum_x) /
                            fabs(problem->reference_sum_x);
  double relative_error_y = fabs(state->sum_y - problem->reference_sum_y) /
                            fabs(problem->reference_sum_y);
  double deviation = sqrt((double)state->accepted_pairs);
  double sum_x_sigmas = state->sum_x / deviation;
  double sum_y_sigmas = state->sum_y / deviation;

  static const char tolerance_text[] = VALUE_TEXT(EP_NPB_TOLERANCE);
  char failures[sizeof verdict->message] = "";
  int failure_count = 0;
  if (!(relative_error_x <= EP_NPB_TOLERANCE &&
        relative_error_y <= EP_NPB_TOLERANCE)) {
    append_text(failures, sizeof failures,
                "; sums differ from NPB by %.1e, %.1e (> %s)", relative_error_x,
                relative_error_y, tolerance_text);
    ++failure_count;
  }
  failure_count += ep_statistical_failures(state, sum_x_sigmas, sum_y_sigmas,
                                           failures, sizeof failures);
  verdict->passed = failure_count == 0;
  if (verdict->passed) {
    snprintf(verdict->message, sizeof verdict->message,
             "NPB EP class %s: sums match NPB to %.1e, %.1e (<= %s); "
             "accepted pairs, sums and annulus counts within %.0f sigma",
             problem->name, relative_error_x, relative_error_y, tolerance_text,
             STATISTICAL_SIGMAS);
  } else {
    /* Each failure starts with "; ": the first one's is dropped. */
    snprintf(verdict->message, sizeof verdict->message,
             "NPB EP class %s failed: ", problem->name);
    append_text(verdict->message, sizeof verdict->message, "%s", failures + 2);
  }
  return ep_record_outputs(state, outputs, relative_error_x, relative_error_y,
                           sum_x_sigmas, sum_y_sigmas);
}

/* ---- the interface ------------------------------------------------------ */

/* The word of MONTECARLO_SIMD_CHOICES that --simd picked. */
static const char *simd_choice_name(const parkit_value *options) {
  static const char *const names[] = {"auto", "generic", "avx2", "avx512"};
  _Static_assert(sizeof names / sizeof names[0] == 4,
                 "one name per word of MONTECARLO_SIMD_CHOICES");
  return names[options[OPTION_SIMD].choice];
}

static int montecarlo_validate(const parkit_context *context,
                               const parkit_value *options, char *message,
                               size_t message_size) {
  (void)context;
  if (montecarlo_simd_find(simd_choice_name(options)) == NULL) {
    snprintf(message, message_size,
             "--simd %s: this CPU or build cannot run that path; allowed "
             "here: auto or %s and narrower paths",
             simd_choice_name(options), montecarlo_simd_find("auto")->name);
    return -1;
  }
  int estimate = options[OPTION_ESTIMATE].choice;
  if (estimate == ESTIMATE_EP && options[OPTION_SAMPLES].is_set) {
    snprintf(message, message_size,
             "--samples applies to --estimate pi, not ep (ep's size is "
             "--class)");
    return -1;
  }
  if (estimate == ESTIMATE_PI && options[OPTION_CLASS].is_set) {
    snprintf(message, message_size,
             "--class applies to --estimate ep, not pi (pi's size is "
             "--samples)");
    return -1;
  }
  return 0;
}

/* Bytes of the per-thread workspaces, the sums of every batch and the
 * gather layout; pi needs only the state itself. */
static double montecarlo_memory_bytes(const parkit_context *context,
                                      const parkit_value *options) {
  double bytes = sizeof(montecarlo_state);
  if (options[OPTION_ESTIMATE].choice == ESTIMATE_EP) {
    int64_t batches = ep_batch_count(&ep_classes[options[OPTION_CLASS].choice]);
    bytes += (double)context->threads * sizeof(ep_workspace);
    bytes += 2.0 * (double)batches * sizeof(double);
    bytes += 2.0 * context->size * sizeof(int);
  }
  return bytes;
}

static void montecarlo_teardown(void *state_pointer) {
  montecarlo_state *state = state_pointer;
  if (state == NULL)
    return;
  free(state->workspaces);
  free(state->batch_sums);
  free(state->gather_counts);
  free(state->gather_offsets);
  free(state);
}

static int setup_ep(montecarlo_state *state) {
  const parkit_context *context = &state->context;
  state->batches = ep_batch_count(state->problem);
  state->batch_multiplier =
      npb_random_power(NPB_RANDOM_MULTIPLIER, 2 * EP_BATCH_PAIRS);
  parkit_range mine =
      parkit_balanced_part(state->batches, context->size, context->rank);
  state->first_batch = mine.begin;
  state->local_batches = mine.end - mine.begin;
  PARKIT_ALLOCATE(state->workspaces, context->threads);
  PARKIT_ALLOCATE(state->batch_sums, 2 * state->batches);
  PARKIT_ALLOCATE(state->gather_counts, context->size);
  PARKIT_ALLOCATE(state->gather_offsets, context->size);
  /* The same split as the work: rank r computes its share of the batches. */
  for (int rank = 0; rank < context->size; ++rank) {
    parkit_range share =
        parkit_balanced_part(state->batches, context->size, rank);
    state->gather_counts[rank] = (int)(2 * (share.end - share.begin));
    state->gather_offsets[rank] = (int)(2 * share.begin);
  }
  memset(state->batch_sums, 0, sizeof(double) * 2 * (size_t)state->batches);
  /* First touch by the thread that uses each buffer: its pages land on that
   * thread's memory node. */
#pragma omp parallel num_threads(context->threads)
  memset(&state->workspaces[omp_get_thread_num()], 0, sizeof(ep_workspace));
  return 0;
}

static int montecarlo_setup(const parkit_context *context,
                            const parkit_value *options, void **state_out) {
  *state_out = NULL;
  montecarlo_state *state;
  PARKIT_ALLOCATE(state, 1);
  memset(state, 0, sizeof *state);
  state->context = *context;
  state->estimate = options[OPTION_ESTIMATE].choice;
  state->samples = options[OPTION_SAMPLES].integer;
  state->problem = &ep_classes[options[OPTION_CLASS].choice];
  state->path = montecarlo_simd_find(simd_choice_name(options));
  if (state->estimate == ESTIMATE_EP && setup_ep(state) != 0) {
    montecarlo_teardown(state);
    return -1;
  }
  *state_out = state;
  return 0;
}

static int montecarlo_run(void *state_pointer) {
  montecarlo_state *state = state_pointer;
  return state->estimate == ESTIMATE_PI ? run_pi(state) : run_ep(state);
}

static int montecarlo_verify(void *state_pointer, parkit_outputs *outputs,
                             parkit_verdict *verdict) {
  const montecarlo_state *state = state_pointer;
  PARKIT_CALL(state->estimate == ESTIMATE_PI
                  ? verify_pi(state, outputs, verdict)
                  : verify_ep(state, outputs, verdict));
  /* Every path gives the same bits; this records which one ran. */
  return parkit_output_integer(outputs, "simd_lanes", state->path->lanes);
}

static parkit_work montecarlo_work(const void *state_pointer) {
  const montecarlo_state *state = state_pointer;
  parkit_work work = {.rate_basis = PARKIT_RATE_ITEMS};
  if (state->estimate == ESTIMATE_PI) {
    work.items = (double)state->samples;
    work.item_name = "samples";
  } else {
    work.items = ldexp(1.0, state->problem->log2_pairs);
    work.item_name = "pairs";
  }
  return work;
}

static const parkit_output_spec montecarlo_outputs[] = {
    {.name = "samples",
     .unit = "samples",
     .description = "darts thrown",
     .when = "estimate=pi"},
    {.name = "hits",
     .unit = "samples",
     .description = "darts inside the quarter circle",
     .when = "estimate=pi"},
    {.name = "pi_estimate",
     .unit = "1",
     .description = "4 hits / samples",
     .when = "estimate=pi",
     .headline = PARKIT_HEADLINE_VALUE},
    {.name = "pi_standard_error",
     .unit = "1",
     .description = "4 sqrt(p (1 - p) / samples), p = pi / 4",
     .when = "estimate=pi"},
    {.name = "pi_error_sigmas",
     .unit = "1",
     .description = "(estimate - pi) / standard error",
     .when = "estimate=pi"},
    {.name = "pairs",
     .unit = "pairs",
     .description = "uniform pairs drawn: 2^M",
     .when = "estimate=ep"},
    {.name = "accepted_pairs",
     .unit = "pairs",
     .description = "pairs inside the unit disk",
     .when = "estimate=ep"},
    {.name = "sum_x",
     .unit = "1",
     .description = "sum of the X deviates",
     .when = "estimate=ep"},
    {.name = "sum_y",
     .unit = "1",
     .description = "sum of the Y deviates",
     .when = "estimate=ep"},
    {.name = "annulus_counts",
     .unit = "pairs",
     .description = "pairs with l <= max(|X|, |Y|) < l + 1, l = 0..9",
     .shape = "10",
     .when = "estimate=ep"},
    {.name = "npb_reference_sum_x",
     .unit = "1",
     .description = "NPB's sum of the X deviates",
     .when = "estimate=ep"},
    {.name = "npb_reference_sum_y",
     .unit = "1",
     .description = "NPB's sum of the Y deviates",
     .when = "estimate=ep"},
    {.name = "npb_relative_error_x",
     .unit = "1",
     .description = "|sum_x - NPB's| / |NPB's|",
     .when = "estimate=ep",
     .headline = PARKIT_HEADLINE_VALUE},
    {.name = "npb_relative_error_y",
     .unit = "1",
     .description = "|sum_y - NPB's| / |NPB's|",
     .when = "estimate=ep",
     .headline = PARKIT_HEADLINE_VALUE},
    {.name = "sum_x_sigmas",
     .unit = "1",
     .description = "sum_x / sqrt(accepted_pairs)",
     .when = "estimate=ep"},
    {.name = "sum_y_sigmas",
     .unit = "1",
     .description = "sum_y / sqrt(accepted_pairs)",
     .when = "estimate=ep"},
    {.name = "simd_lanes",
     .unit = "1",
     .description = "doubles per vector in the code path that ran (--simd): "
                    "2 generic, 4 avx2, 8 avx512",
     .agreement = PARKIT_OUTPUT_DIFFERS},
};

static const parkit_test_config montecarlo_tests[] = {
    {.name = "montecarlo-ep", .arguments = "--estimate ep --class S"},
    {.name = "montecarlo-pi", .arguments = "--estimate pi --samples 3000001"},
};

static const parkit_rate_unit_spec montecarlo_rate_units[] = {
    {.unit = "Msamples/s", .when = "estimate=pi"},
    {.unit = "Mpairs/s", .when = "estimate=ep"}};

const parkit_kernel parkit_kernel_montecarlo = {
    .name = "montecarlo",
    .summary = "Monte Carlo: pi by dart throwing (Philox) or NAS EP Gaussian "
               "pairs, bitwise identical for every split",
    .options = montecarlo_options,
    .option_count = OPTION_COUNT,
    .kind = PARKIT_KERNEL_WORK,
    .outputs = montecarlo_outputs,
    .output_count = PARKIT_COUNT(montecarlo_outputs),
    .rate_units = montecarlo_rate_units,
    .rate_unit_count = PARKIT_COUNT(montecarlo_rate_units),
    .tests = montecarlo_tests,
    .test_count = PARKIT_COUNT(montecarlo_tests),
    .memcheck_arguments = "--estimate pi --samples 20000",
    .working_set = {.option = NULL},
    .validate = montecarlo_validate,
    .memory_bytes = montecarlo_memory_bytes,
    .setup = montecarlo_setup,
    .run = montecarlo_run,
    .verify = montecarlo_verify,
    .teardown = montecarlo_teardown,
    .work = montecarlo_work,
};
