/*
 * stream: a STREAM-like memory bandwidth kernel (not STREAM itself: same
 * four loops and the same checks, run through parkit's runner). Each
 * repetition runs, in order,
 *   copy   c = a            16 bytes per element
 *   scale  b = s c          16 bytes per element
 *   add    c = a + b        24 bytes per element
 *   triad  a = b + s c      24 bytes per element
 * on three arrays of --n doubles (bytes count what STREAM counts: reads plus
 * writes, no write-allocate traffic). Work per repetition: 80 n bytes; the
 * rate is in GB/s. Each operation is also timed on its own, between
 * barriers as a phase the runner times (parkit_phase_begin/end), and the
 * output <operation>_rate is its best rate over the calls of run() after
 * the first (the first is usually the runner's warm-up), as STREAM
 * reports.
 *
 * Parameters
 *   --n        elements per array; 0 (the default) makes each array 4 x
 *              the job's last-level cache, ctx->last_level_cache_bytes
 *              (the sum of the distinct last-level caches the CPUs of all
 *              ranks use, a cache of unknown size counted as 32 MiB;
 *              4 x 32 MiB where the context has none), so that no array
 *              fits in the caches whatever the split. Every rank gets the
 *              same value, so the size is the same on every rank. The size
 *              used is the output `array_elements`.
 *   --scalar   s; the default 0.4 makes a repetition multiply a by
 *              s (2 + s) = 0.96, so many repetitions neither overflow nor
 *              reach subnormal numbers quickly (STREAM's 3 grows 15x)
 *   --perturb  test only: corrupts one element so verification fails
 *
 * Split: the n elements are split over ranks with parkit_balanced_part, and
 * each rank's part statically over its threads; setup first-touches the
 * arrays with that same static loop, so every thread streams through pages
 * it placed. Non-temporal stores are not used.
 *
 * Verification (STREAM's checkSTREAMresults): a, b, c start at 1, 2, 0, and
 * every element goes through the same operations, so after k calls of run()
 * each array holds one known value, computed by repeating the four scalar
 * operations k times. Every element must lie within relative 1e-13 of it.
 * The largest deviation is reduced with MPI_MAX, so outputs other than the
 * rates are the same bits for every split.
 *
 * Collective calls on ctx->comm: run (MPI_Barrier around each operation),
 * verify (MPI_Allreduce). setup communicates nothing.
 */
#include "check.h"
#include "kernel.h"
#include "partition.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPTION_N, OPTION_SCALAR, OPTION_PERTURB, OPTION_COUNT };

static const parkit_option stream_options[OPTION_COUNT] = {
    [OPTION_N] = {.name = "n",
                  .type = PARKIT_OPTION_INT,
                  .default_value = "0",
                  .unit = "elements",
                  .help = "doubles per array; 0: 4 x the sum of the "
                          "last-level caches of the job's CPUs (hwloc; 32 "
                          "MiB for each of unknown size)",
                  .min = 0,
                  .max = INT64_C(1) << 40},
    [OPTION_SCALAR] = {.name = "scalar",
                       .type = PARKIT_OPTION_DOUBLE,
                       .default_value = "0.4",
                       .unit = "1",
                       .help = "s in scale (b = s c) and triad (a = b + s c)",
                       .min_real = -1.0,
                       .max_real = 1.0},
    [OPTION_PERTURB] = {.name = "perturb",
                        .type = PARKIT_OPTION_FLAG,
                        .unit = "1",
                        .help = "test only: corrupt one element so that "
                                "verification must fail"},
};

/* One list of the operations: name and bytes moved per element. */
#define STREAM_OPERATIONS(X) X(copy, 16) X(scale, 16) X(add, 24) X(triad, 24)
#define OPERATION_ENUM(name, bytes) OPERATION_##name,
enum { STREAM_OPERATIONS(OPERATION_ENUM) OPERATION_COUNT };
#define OPERATION_BYTES(name, bytes) bytes,
static const double operation_bytes[OPERATION_COUNT] = {
    STREAM_OPERATIONS(OPERATION_BYTES)};
#define OPERATION_PHASE(operation, bytes)                                      \
  {.name = #operation,                                                         \
   .description = "the " #operation " loop (" #bytes " bytes per element)"},
static const parkit_phase_spec stream_phases[OPERATION_COUNT] = {
    STREAM_OPERATIONS(OPERATION_PHASE)};

/* The outputs: four of the run, then one rate per operation; triad's is
 * the headline (STREAM's figure of merit). */
enum { RATE_OUTPUTS = 4 };
#define OPERATION_RATE(operation, bytes)                                       \
  {.name = #operation "_rate",                                                 \
   .unit = "GB/s",                                                             \
   .description =                                                              \
       "best " #operation " bandwidth over the calls after the first "         \
       "(" #bytes " bytes per element)",                                       \
   .agreement = PARKIT_OUTPUT_MEASURED,                                        \
   .headline = OPERATION_##operation == OPERATION_triad                        \
                   ? PARKIT_HEADLINE_VALUE                                     \
                   : PARKIT_HEADLINE_NONE},
static const parkit_output_spec stream_outputs[] = {
    {.name = "array_elements",
     .unit = "elements",
     .description = "doubles in each array"},
    {.name = "calls",
     .unit = "1",
     .description = "run() calls the arrays went through (warm-up included)"},
    {.name = "expected",
     .unit = "1",
     .description = "closed-form values of a, b, c",
     .shape = "3"},
    {.name = "max_relative_error",
     .unit = "1",
     .description = "largest |x - expected| / |expected| over a, b and c"},
    STREAM_OPERATIONS(OPERATION_RATE)};

#define DEFAULT_CACHE_BYTES (INT64_C(32) << 20)
#define RELATIVE_TOLERANCE 1e-13

typedef struct stream_state {
  parkit_context context;
  int64_t n;         /* elements per array, over all ranks */
  parkit_range mine; /* this rank's elements */
  double scalar;
  bool perturb;
  double *a, *b, *c;        /* this rank's parts, mine.end - mine.begin each */
  int64_t calls;            /* run() calls so far */
  double *seconds;          /* [call][operation], this rank */
  int64_t seconds_capacity; /* calls `seconds` has room for */
} stream_state;

/* ---- the array size ----------------------------------------------------- */

/* --n, or 4 x the job's last-level cache in doubles: the same on every
 * rank, since the context's cache size is. */
static int64_t chosen_elements(const parkit_context *ctx,
                               const parkit_value *options) {
  if (options[OPTION_N].integer > 0)
    return options[OPTION_N].integer;
  int64_t cache = ctx->last_level_cache_bytes > 0 ? ctx->last_level_cache_bytes
                                                  : DEFAULT_CACHE_BYTES;
  return 4 * cache / (int64_t)sizeof(double);
}

static double stream_memory_bytes(const parkit_context *ctx,
                                  const parkit_value *options) {
  double n = (double)chosen_elements(ctx, options);
  return 3.0 * sizeof(double) * (n / ctx->size + 1);
}

/* ---- setup and teardown ----------------------------------------------------
 */

static void stream_teardown(void *opaque_state) {
  stream_state *state = opaque_state;
  if (state == NULL)
    return;
  free(state->a);
  free(state->b);
  free(state->c);
  free(state->seconds);
  free(state);
}

static int64_t local_count(const stream_state *state) {
  return state->mine.end - state->mine.begin;
}

/* STREAM's start values, written by the threads that will stream them. */
static void first_touch(stream_state *state) {
  double *restrict a = state->a, *restrict b = state->b, *restrict c = state->c;
  const int64_t count = local_count(state);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    a[i] = 1.0;
    b[i] = 2.0;
    c[i] = 0.0;
  }
}

static int setup_state(stream_state *state, const parkit_context *ctx,
                       const parkit_value *options) {
  state->context = *ctx;
  state->n = chosen_elements(ctx, options);
  state->scalar = options[OPTION_SCALAR].real;
  state->perturb = options[OPTION_PERTURB].flag;
  state->mine = parkit_balanced_part(state->n, ctx->size, ctx->rank);
  size_t count = (size_t)local_count(state);
  PARKIT_ALLOCATE(state->a, count ? count : 1);
  PARKIT_ALLOCATE(state->b, count ? count : 1);
  PARKIT_ALLOCATE(state->c, count ? count : 1);
  first_touch(state);
  return 0;
}

static int stream_setup(const parkit_context *ctx, const parkit_value *options,
                        void **opaque_state) {
  stream_state *state = NULL;
  PARKIT_ALLOCATE(state, 1);
  memset(state, 0, sizeof *state);
  if (setup_state(state, ctx, options) != 0) {
    stream_teardown(state);
    return -1;
  }
  *opaque_state = state;
  return 0;
}

/* ---- run -------------------------------------------------------------------
 */

static void run_operation(stream_state *state, int operation) {
  double *restrict a = state->a, *restrict b = state->b, *restrict c = state->c;
  const double s = state->scalar;
  const int64_t count = local_count(state);
  switch (operation) {
  case OPERATION_copy:
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < count; ++i)
      c[i] = a[i];
    break;
  case OPERATION_scale:
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < count; ++i)
      b[i] = s * c[i];
    break;
  case OPERATION_add:
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < count; ++i)
      c[i] = a[i] + b[i];
    break;
  case OPERATION_triad:
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < count; ++i)
      a[i] = b[i] + s * c[i];
    break;
  }
}

/* Room for this call's operation times. */
static int reserve_seconds(stream_state *state) {
  if (state->calls < state->seconds_capacity)
    return 0;
  int64_t capacity = state->seconds_capacity ? 2 * state->seconds_capacity : 16;
  double *grown = realloc(state->seconds,
                          sizeof(double) * OPERATION_COUNT * (size_t)capacity);
  PARKIT_CHECK(grown != NULL, "cannot grow the table of operation times");
  state->seconds = grown;
  state->seconds_capacity = capacity;
  return 0;
}

static int stream_run(void *opaque_state) {
  stream_state *state = opaque_state;
  PARKIT_CALL(reserve_seconds(state));
  double *seconds = state->seconds + state->calls * OPERATION_COUNT;
  for (int operation = 0; operation < OPERATION_COUNT; ++operation) {
    const char *name = stream_phases[operation].name;
    PARKIT_MPI_CALL(MPI_Barrier(state->context.comm));
    parkit_phase_begin(&state->context, name);
    run_operation(state, operation);
    parkit_phase_end(&state->context, name);
    seconds[operation] = parkit_phase_seconds(&state->context, name);
  }
  state->calls++;
  /* --perturb: the owner of the middle element of a spoils it. */
  int64_t middle = state->n / 2;
  if (state->perturb && middle >= state->mine.begin && middle < state->mine.end)
    state->a[middle - state->mine.begin] += 1.0;
  return 0;
}

/* ---- verify
 * ------------------------------------------------------------------ */

/* The values every element of a, b, c holds after `calls` calls. */
static void expected_values(const stream_state *state, double expected[3]) {
  double a = 1.0, b = 2.0, c = 0.0;
  const double s = state->scalar;
  for (int64_t call = 0; call < state->calls; ++call) {
    c = a;
    b = s * c;
    c = a + b;
    a = b + s * c;
  }
  expected[0] = a, expected[1] = b, expected[2] = c;
}

/* Largest relative deviation of this rank's elements from `expected`;
 * a non-finite value gives infinity. */
static double largest_deviation(const stream_state *state,
                                const double expected[3]) {
  const double *arrays[3] = {state->a, state->b, state->c};
  const int64_t count = local_count(state);
  double worst = 0.0;
  for (int k = 0; k < 3; ++k) {
    const double *x = arrays[k];
    const double scale = fabs(expected[k]) > 0 ? fabs(expected[k]) : 1.0;
    const double value = expected[k];
#pragma omp parallel for schedule(static) reduction(max : worst)
    for (int64_t i = 0; i < count; ++i) {
      double deviation = fabs(x[i] - value) / scale;
      if (!(deviation <= worst))
        worst = isnan(deviation) ? INFINITY : deviation;
    }
  }
  return worst;
}

/* Best rate of each operation over the calls after the first; each call's
 * time is that of the slowest rank. */
static int best_rates(stream_state *state, double rates[OPERATION_COUNT]) {
  size_t values = (size_t)state->calls * OPERATION_COUNT;
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, state->seconds, (int)values,
                                MPI_DOUBLE, MPI_MAX, state->context.comm));
  int64_t first = state->calls > 1 ? 1 : 0;
  for (int operation = 0; operation < OPERATION_COUNT; ++operation) {
    double best = INFINITY;
    for (int64_t call = first; call < state->calls; ++call) {
      double seconds = state->seconds[call * OPERATION_COUNT + operation];
      best = seconds < best ? seconds : best;
    }
    double bytes = operation_bytes[operation] * (double)state->n;
    rates[operation] = best > 0 && isfinite(best) ? bytes / best * 1e-9 : 0.0;
  }
  return 0;
}

static int stream_verify(void *opaque_state, parkit_outputs *outputs,
                         parkit_verdict *verdict) {
  stream_state *state = opaque_state;
  double expected[3];
  expected_values(state, expected);
  double worst = largest_deviation(state, expected);
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_DOUBLE, MPI_MAX,
                                state->context.comm));
  double rates[OPERATION_COUNT];
  PARKIT_CALL(best_rates(state, rates));

  verdict->passed = worst <= RELATIVE_TOLERANCE;
  snprintf(verdict->message, sizeof verdict->message,
           "after %" PRId64 " calls a, b, c deviate from their closed forms "
           "(%.6g, %.6g, %.6g) by at most %.3g relative %s 1e-13",
           state->calls, expected[0], expected[1], expected[2], worst,
           verdict->passed ? "<=" : "EXCEEDING");

  PARKIT_CALL(parkit_output_integer(outputs, "array_elements", state->n));
  PARKIT_CALL(parkit_output_integer(outputs, "calls", state->calls));
  PARKIT_CALL(parkit_output_reals(outputs, "expected", expected, 3));
  PARKIT_CALL(parkit_output_real(outputs, "max_relative_error", worst));
  for (int operation = 0; operation < OPERATION_COUNT; ++operation)
    PARKIT_CALL(parkit_output_real(
        outputs, stream_outputs[RATE_OUTPUTS + operation].name,
        rates[operation]));
  return 0;
}

static parkit_work stream_work(const void *opaque_state) {
  const stream_state *state = opaque_state;
  double bytes = 0.0;
  for (int operation = 0; operation < OPERATION_COUNT; ++operation)
    bytes += operation_bytes[operation];
  return (parkit_work){.bytes = bytes * (double)state->n,
                       .rate_basis = PARKIT_RATE_BYTES};
}

/* n = 100003 does not divide over 2, 3 or 4 ranks. */
static const parkit_test_config stream_tests[] = {{.arguments = "--n 100003"}};

static const parkit_rate_unit_spec stream_rate_units[] = {{.unit = "GB/s"}};

const parkit_kernel parkit_kernel_stream = {
    .name = "stream",
    .summary = "STREAM-like copy, scale, add and triad bandwidth (not the "
               "official STREAM), GB/s per operation",
    .options = stream_options,
    .option_count = OPTION_COUNT,
    .kind = PARKIT_KERNEL_WORK,
    .outputs = stream_outputs,
    .output_count = PARKIT_COUNT(stream_outputs),
    .rate_units = stream_rate_units,
    .rate_unit_count = PARKIT_COUNT(stream_rate_units),
    .phases = stream_phases,
    .phase_count = PARKIT_COUNT(stream_phases),
    .tests = stream_tests,
    .test_count = PARKIT_COUNT(stream_tests),
    .memcheck_arguments = "--n 20000",
    .working_set = {.option = "n", .bytes_per_unit = 24, .exponent = 1},
    .memory_bytes = stream_memory_bytes,
    .setup = stream_setup,
    .run = stream_run,
    .verify = stream_verify,
    .teardown = stream_teardown,
    .work = stream_work,
};
