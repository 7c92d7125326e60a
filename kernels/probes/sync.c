/*
 * sync: what one synchronisation costs among the T threads of a rank and
 * among the P ranks of ctx->comm, in microseconds, EPCC syncbench style:
 *
 *   thread_barrier    `omp barrier` in a team of T threads       (T > 1)
 *   thread_reduction  a parallel region of T threads with
 *                     reduction(+) of one double: EPCC's
 *                     REDUCTION, so it includes the region's
 *                     start and join                              (T > 1)
 *   rank_barrier      MPI_Barrier on ctx->comm                    (P > 1)
 *   rank_allreduce    MPI_Allreduce of one double (8 B), MPI_SUM  (P > 1)
 *   hybrid_barrier    omp barrier, MPI_Barrier on the master
 *                     thread, omp barrier: what a hybrid code
 *                     pays to synchronise every thread of the job (T, P > 1)
 * An output is recorded only when it applies (T = P = 1: none).
 *
 * Method (EPCC): --iterations synchronisations in BATCHES batches; each
 * iteration first runs a fixed busy delay (DELAY_STEPS steps, about a tenth
 * of a microsecond) so that successive synchronisations do not pile up. The
 * time per iteration of each batch, minus the reference (the same loop with
 * the delay only, run by one thread), is one sample; the result is the
 * median over the batches. Every rank measures at the same time (hybrid:
 * each rank's team its own barrier) and the outputs are the maximum over
 * ranks, so every rank records the same values. Values are those of the
 * last run() (sweep).
 *
 * Work per sweep: the synchronisations timed ("synchronisations").
 * Verifies: every reduction summed one per thread (or rank) exactly, and
 * every value is finite and positive.
 *
 * Collective calls on ctx->comm: run (MPI_Barrier, MPI_Allreduce, both in
 * the timed loops and to combine the results). setup and verify
 * communicate nothing.
 */
#include "check.h"
#include "kernel.h"
#include "probe.h"

#include <math.h>
#include <omp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
  BATCHES = 20,    /* samples of the median */
  DELAY_STEPS = 64 /* busy steps between two synchronisations */
};

enum { OPTION_ITERATIONS, OPTION_COUNT };

static const parkit_option sync_options[OPTION_COUNT] = {
    [OPTION_ITERATIONS] = {.name = "iterations",
                           .type = PARKIT_OPTION_INT,
                           .default_value = "10000",
                           .unit = "synchronisations",
                           .help = "synchronisations timed per measure, in "
                                   "20 batches",
                           .min = BATCHES,
                           .max = 100000000},
};

typedef enum measure {
  THREAD_BARRIER,
  THREAD_REDUCTION,
  RANK_BARRIER,
  RANK_ALLREDUCE,
  HYBRID_BARRIER,
  MEASURE_COUNT
} measure;

/* The outputs, one per measure, in the measures' order. */
static const parkit_output_spec sync_outputs[MEASURE_COUNT] = {
    [THREAD_BARRIER] = {.name = "thread_barrier",
                        .unit = "us",
                        .description = "omp barrier among the threads of a "
                                       "rank, max over ranks",
                        .agreement = PARKIT_OUTPUT_MEASURED,
                        .when = "threads>1",
                        .headline = PARKIT_HEADLINE_VALUE},
    [THREAD_REDUCTION] = {.name = "thread_reduction",
                          .unit = "us",
                          .description = "parallel region with reduction(+) "
                                         "of one double (EPCC REDUCTION), max "
                                         "over ranks",
                          .agreement = PARKIT_OUTPUT_MEASURED,
                          .when = "threads>1",
                          .headline = PARKIT_HEADLINE_VALUE},
    [RANK_BARRIER] = {.name = "rank_barrier",
                      .unit = "us",
                      .description = "MPI_Barrier among the ranks, max over "
                                     "ranks",
                      .agreement = PARKIT_OUTPUT_MEASURED,
                      .when = "ranks>1",
                      .headline = PARKIT_HEADLINE_VALUE},
    [RANK_ALLREDUCE] = {.name = "rank_allreduce",
                        .unit = "us",
                        .description = "MPI_Allreduce of one double among the "
                                       "ranks, max over ranks",
                        .agreement = PARKIT_OUTPUT_MEASURED,
                        .when = "ranks>1",
                        .headline = PARKIT_HEADLINE_VALUE},
    [HYBRID_BARRIER] = {.name = "hybrid_barrier",
                        .unit = "us",
                        .description = "omp barrier + MPI_Barrier on the "
                                       "master thread + omp barrier, max over "
                                       "ranks",
                        .agreement = PARKIT_OUTPUT_MEASURED,
                        .when = "threads>1 and ranks>1",
                        .headline = PARKIT_HEADLINE_VALUE},
};

typedef struct sync_state {
  parkit_context context;
  int64_t per_batch; /* iterations per batch */
  bool applies[MEASURE_COUNT];
  double microseconds[MEASURE_COUNT]; /* last sweep, max over ranks */
  int64_t wrong_sums;                 /* last sweep, summed over ranks */
  double batch_seconds[BATCHES];
} sync_state;

/* EPCC's delay: busy work the compiler cannot remove. */
static void delay(void) {
  for (volatile int step = 0; step < DELAY_STEPS; ++step) {
  }
}

/* Median over the batches of the seconds per iteration. */
static double per_iteration(sync_state *state) {
  double median = parkit_probe_median(state->batch_seconds, BATCHES);
  return median / (double)state->per_batch;
}

/* Seconds per iteration of the loop with the delay only. */
static double reference_seconds(sync_state *state) {
  for (int batch = 0; batch < BATCHES; ++batch) {
    double started = parkit_probe_seconds();
    for (int64_t i = 0; i < state->per_batch; ++i)
      delay();
    state->batch_seconds[batch] = parkit_probe_seconds() - started;
  }
  return per_iteration(state);
}

static double thread_barrier_seconds(sync_state *state) {
  const int64_t per_batch = state->per_batch;
#pragma omp parallel num_threads(state->context.threads)
  for (int batch = 0; batch < BATCHES; ++batch) {
#pragma omp barrier
    double started = parkit_probe_seconds();
    for (int64_t i = 0; i < per_batch; ++i) {
      delay();
#pragma omp barrier
    }
#pragma omp master
    state->batch_seconds[batch] = parkit_probe_seconds() - started;
  }
  return per_iteration(state);
}

static double thread_reduction_seconds(sync_state *state) {
  const int threads = state->context.threads;
  for (int batch = 0; batch < BATCHES; ++batch) {
    double started = parkit_probe_seconds();
    for (int64_t i = 0; i < state->per_batch; ++i) {
      double sum = 0.0;
#pragma omp parallel num_threads(threads) reduction(+ : sum)
      {
        delay();
        sum += 1.0;
      }
      state->wrong_sums += sum != (double)threads;
    }
    state->batch_seconds[batch] = parkit_probe_seconds() - started;
  }
  return per_iteration(state);
}

static int rank_barrier_seconds(sync_state *state, double *seconds) {
  MPI_Comm comm = state->context.comm;
  for (int batch = 0; batch < BATCHES; ++batch) {
    PARKIT_MPI_CALL(MPI_Barrier(comm));
    double started = parkit_probe_seconds();
    for (int64_t i = 0; i < state->per_batch; ++i) {
      delay();
      PARKIT_MPI_CALL(MPI_Barrier(comm));
    }
    state->batch_seconds[batch] = parkit_probe_seconds() - started;
  }
  *seconds = per_iteration(state);
  return 0;
}

static int rank_allreduce_seconds(sync_state *state, double *seconds) {
  MPI_Comm comm = state->context.comm;
  const double one = 1.0;
  for (int batch = 0; batch < BATCHES; ++batch) {
    PARKIT_MPI_CALL(MPI_Barrier(comm));
    double started = parkit_probe_seconds();
    for (int64_t i = 0; i < state->per_batch; ++i) {
      double sum = 0.0;
      delay();
      PARKIT_MPI_CALL(MPI_Allreduce(&one, &sum, 1, MPI_DOUBLE, MPI_SUM, comm));
      state->wrong_sums += sum != (double)state->context.size;
    }
    state->batch_seconds[batch] = parkit_probe_seconds() - started;
  }
  *seconds = per_iteration(state);
  return 0;
}

/* MPI_Barrier from the master thread; keeps the first failure in *code and
 * still takes part in every later barrier, so no rank is left waiting. */
static void master_barrier(MPI_Comm comm, int *code) {
  int this_code = MPI_Barrier(comm);
  if (*code == MPI_SUCCESS)
    *code = this_code;
}

static int hybrid_barrier_seconds(sync_state *state, double *seconds) {
  const int64_t per_batch = state->per_batch;
  MPI_Comm comm = state->context.comm;
  int code = MPI_SUCCESS;
#pragma omp parallel num_threads(state->context.threads)
  for (int batch = 0; batch < BATCHES; ++batch) {
#pragma omp master
    master_barrier(comm, &code); /* all ranks start the batch together */
#pragma omp barrier
    double started = parkit_probe_seconds();
    for (int64_t i = 0; i < per_batch; ++i) {
      delay();
#pragma omp barrier
#pragma omp master
      master_barrier(comm, &code);
#pragma omp barrier
    }
#pragma omp master
    state->batch_seconds[batch] = parkit_probe_seconds() - started;
  }
  PARKIT_MPI_CALL(code);
  *seconds = per_iteration(state);
  return 0;
}

/* Every measure that applies, on this rank, in seconds per iteration with
 * the delay's time included. */
static int measure_all(sync_state *state, double seconds[MEASURE_COUNT]) {
  if (state->applies[THREAD_BARRIER])
    seconds[THREAD_BARRIER] = thread_barrier_seconds(state);
  if (state->applies[THREAD_REDUCTION])
    seconds[THREAD_REDUCTION] = thread_reduction_seconds(state);
  if (state->applies[RANK_BARRIER])
    PARKIT_CALL(rank_barrier_seconds(state, &seconds[RANK_BARRIER]));
  if (state->applies[RANK_ALLREDUCE])
    PARKIT_CALL(rank_allreduce_seconds(state, &seconds[RANK_ALLREDUCE]));
  if (state->applies[HYBRID_BARRIER])
    PARKIT_CALL(hybrid_barrier_seconds(state, &seconds[HYBRID_BARRIER]));
  return 0;
}

static int sync_run(void *opaque) {
  sync_state *state = opaque;
  state->wrong_sums = 0;
  double reference = reference_seconds(state);
  double seconds[MEASURE_COUNT] = {0};
  PARKIT_CALL(measure_all(state, seconds));
  double microseconds[MEASURE_COUNT] = {0};
  for (int which = 0; which < MEASURE_COUNT; ++which)
    if (state->applies[which])
      microseconds[which] = 1e6 * (seconds[which] - reference);
  MPI_Comm comm = state->context.comm;
  PARKIT_MPI_CALL(MPI_Allreduce(microseconds, state->microseconds,
                                MEASURE_COUNT, MPI_DOUBLE, MPI_MAX, comm));
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &state->wrong_sums, 1,
                                MPI_INT64_T, MPI_SUM, comm));
  return 0;
}

static int sync_setup(const parkit_context *context,
                      const parkit_value *options, void **opaque) {
  *opaque = NULL;
  sync_state *state = NULL;
  PARKIT_ALLOCATE(state, 1);
  memset(state, 0, sizeof *state);
  state->context = *context;
  state->per_batch = options[OPTION_ITERATIONS].integer / BATCHES;
  bool threads = context->threads > 1, ranks = context->size > 1;
  state->applies[THREAD_BARRIER] = threads;
  state->applies[THREAD_REDUCTION] = threads;
  state->applies[RANK_BARRIER] = ranks;
  state->applies[RANK_ALLREDUCE] = ranks;
  state->applies[HYBRID_BARRIER] = threads && ranks;
  *opaque = state;
  return 0;
}

static void sync_teardown(void *opaque) {
  free(opaque);
}

static double sync_memory_bytes(const parkit_context *context,
                                const parkit_value *options) {
  (void)context;
  (void)options;
  return sizeof(sync_state);
}

static int sync_verify(void *opaque, parkit_outputs *outputs,
                       parkit_verdict *verdict) {
  const sync_state *state = opaque;
  const parkit_context *context = &state->context;
  int measured = 0, bad = 0;
  char summary[sizeof verdict->message] = "";
  size_t used = 0;
  for (int which = 0; which < MEASURE_COUNT; ++which) {
    if (!state->applies[which])
      continue;
    double value = state->microseconds[which];
    ++measured;
    bad += !(isfinite(value) && value > 0.0);
    if (used < sizeof summary)
      used += (size_t)snprintf(summary + used, sizeof summary - used,
                               "%s%s %.3g us", used ? ", " : "",
                               sync_outputs[which].name, value);
    PARKIT_CALL(parkit_output_real(outputs, sync_outputs[which].name, value));
  }
  verdict->passed = bad == 0 && state->wrong_sums == 0;
  if (measured == 0)
    snprintf(verdict->message, sizeof verdict->message,
             "1 rank x 1 thread: nothing to synchronise, nothing measured");
  else if (state->wrong_sums != 0)
    snprintf(verdict->message, sizeof verdict->message,
             "%lld reductions summed wrong", (long long)state->wrong_sums);
  else if (bad != 0)
    snprintf(verdict->message, sizeof verdict->message,
             "%d of %d costs not finite and positive: %s", bad, measured,
             summary);
  else
    snprintf(verdict->message, sizeof verdict->message,
             "%d ranks x %d threads, reductions exact: %s", context->size,
             context->threads, summary);
  return 0;
}

static parkit_work sync_work(const void *opaque) {
  const sync_state *state = opaque;
  int measures = 0;
  for (int which = 0; which < MEASURE_COUNT; ++which)
    measures += state->applies[which];
  return (parkit_work){.items = (double)measures * BATCHES *
                                (double)state->per_batch,
                       .item_name = "synchronisations",
                       .rate_basis = PARKIT_RATE_ITEMS};
}

static const parkit_test_config sync_tests[] = {
    {.arguments = "--iterations 100"},
};

static const parkit_rate_unit_spec sync_rate_units[] = {
    {.unit = "Msynchronisations/s"}};

const parkit_kernel parkit_kernel_sync = {
    .name = "sync",
    .summary = "probe: barrier and reduction cost among threads (OpenMP), "
               "ranks (MPI) and both (EPCC method)",
    .options = sync_options,
    .option_count = OPTION_COUNT,
    .kind = PARKIT_KERNEL_PROBE,
    .outputs = sync_outputs,
    .output_count = PARKIT_COUNT(sync_outputs),
    .rate_units = sync_rate_units,
    .rate_unit_count = PARKIT_COUNT(sync_rate_units),
    .tests = sync_tests,
    .test_count = PARKIT_COUNT(sync_tests),
    .memcheck_arguments = "--iterations 50",
    .memory_bytes = sync_memory_bytes,
    .setup = sync_setup,
    .run = sync_run,
    .verify = sync_verify,
    .teardown = sync_teardown,
    .work = sync_work,
};
