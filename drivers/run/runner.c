#include "runner.h"

#include "check.h"
#include "guard.h"
#include "progress.h"
#include "signals.h"

#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* Where each OpenMP thread of this rank is: its CPU now and its mask. */
static int sample_thread_placement(parkit_run_result *result) {
  PARKIT_ALLOCATE(result->thread_cpus, result->threads);
  PARKIT_ALLOCATE(result->thread_cpusets, result->threads);
  memset(result->thread_cpusets, 0,
         sizeof(*result->thread_cpusets) * (size_t)result->threads);
#pragma omp parallel num_threads(result->threads)
  {
    int thread = omp_get_thread_num();
    cpu_set_t mask;
    CPU_ZERO(&mask);
    pthread_getaffinity_np(pthread_self(), sizeof mask, &mask);
    result->thread_cpus[thread] = sched_getcpu();
    parkit_format_cpuset(&mask, result->thread_cpusets[thread],
                         PARKIT_CPUSET_TEXT);
  }
  return 0;
}

/* Runs the timed repetitions until all are done or a stop signal is agreed
 * on (checked after each repetition, outside the timed region); the number
 * done goes to result->repetitions_completed. */
static int timed_repetitions(const parkit_kernel *kernel,
                             const parkit_context *ctx, void *state,
                             const parkit_runner_settings *settings,
                             double *my_times, parkit_progress *tracker,
                             parkit_run_result *result) {
  for (int repetition = 0; repetition < settings->repetitions; ++repetition) {
    PARKIT_MPI_CALL(MPI_Barrier(ctx->comm));
    double started = MPI_Wtime();
    PARKIT_CALL(kernel->run(state));
    my_times[repetition] = MPI_Wtime() - started;
    result->repetitions_completed = repetition + 1;
    parkit_progress_report(tracker, "repetition", repetition + 1,
                           settings->repetitions);
    PARKIT_CALL(parkit_signals_agree(ctx->comm, &result->interrupted));
    if (result->interrupted)
      break;
  }
  return 0;
}

/* Gathers every rank's times into result->times[repetition][rank]. */
static int gather_times(const parkit_context *ctx, const double *my_times,
                        parkit_run_result *result) {
  int repetitions = result->repetitions_completed, ranks = result->ranks;
  double *by_rank = NULL;
  PARKIT_ALLOCATE(by_rank, (size_t)repetitions * (size_t)ranks);
  PARKIT_MPI_CALL(MPI_Allgather(my_times, repetitions, MPI_DOUBLE, by_rank,
                                repetitions, MPI_DOUBLE, ctx->comm));
  PARKIT_ALLOCATE(result->times, (size_t)repetitions * (size_t)ranks);
  for (int rank = 0; rank < ranks; ++rank)
    for (int repetition = 0; repetition < repetitions; ++repetition)
      result->times[(size_t)repetition * (size_t)ranks + (size_t)rank] =
          by_rank[(size_t)rank * (size_t)repetitions + (size_t)repetition];
  free(by_rank);
  return parkit_time_statistics_compute(result->times, repetitions, ranks,
                                        &result->statistics);
}

static void compute_rate(parkit_run_result *result) {
  const parkit_work *work = &result->work;
  double amount = 0, scale = 1;
  switch (work->rate_basis) {
  case PARKIT_RATE_FLOPS:
    amount = work->flops, scale = 1e-9;
    snprintf(result->rate_unit, sizeof result->rate_unit, "GFLOP/s");
    break;
  case PARKIT_RATE_BYTES:
    amount = work->bytes, scale = 1e-9;
    snprintf(result->rate_unit, sizeof result->rate_unit, "GB/s");
    break;
  case PARKIT_RATE_ITEMS:
    amount = work->items, scale = 1e-6;
    snprintf(result->rate_unit, sizeof result->rate_unit, "M%s/s",
             work->item_name ? work->item_name : "items");
    break;
  }
  const parkit_time_statistics *time = &result->statistics;
  result->rate = time->median > 0 ? amount * scale / time->median : 0;
  result->rate_best = time->min > 0 ? amount * scale / time->min : 0;
}

/* Every phase change goes through here: the failure message, the crash
 * handler and the watchdog name the phase, and an injected fault fires. */
static int enter_phase(const char *phase, const char **failed_phase,
                       const parkit_runner_settings *settings, int rank) {
  *failed_phase = phase;
  parkit_guard_phase(phase);
  return parkit_fault_point(settings->fault, phase, rank);
}

static double peak_resident_bytes(void) {
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0)
    return -1;
  return (double)usage.ru_maxrss * 1024.0; /* Linux reports KiB */
}

int parkit_run_kernel(const parkit_kernel *kernel, const parkit_context *ctx,
                      const parkit_value *options,
                      const parkit_runner_settings *settings,
                      parkit_run_result *result, const char **failed_phase) {
  memset(result, 0, sizeof *result);
  result->repetitions = settings->repetitions;
  result->ranks = ctx->size;
  result->threads = ctx->threads;
  parkit_outputs_init(&result->outputs);
  parkit_progress tracker = parkit_progress_start(
      settings->progress && ctx->rank == 0, settings->progress_after);
  void *state = NULL;
  double *my_times = NULL;

  PARKIT_CALL(enter_phase("setup", failed_phase, settings, ctx->rank));
  PARKIT_CALL(kernel->setup(ctx, options, &state));
  PARKIT_CALL(sample_thread_placement(result));
  PARKIT_ALLOCATE(my_times, settings->repetitions);

  PARKIT_CALL(enter_phase("warm-up", failed_phase, settings, ctx->rank));
  PARKIT_CALL(parkit_signals_agree(ctx->comm, &result->interrupted));
  for (int repetition = 0;
       repetition < settings->warmup && !result->interrupted; ++repetition) {
    PARKIT_CALL(kernel->run(state));
    parkit_progress_report(&tracker, "warm-up repetition", repetition + 1,
                           settings->warmup);
    PARKIT_CALL(parkit_signals_agree(ctx->comm, &result->interrupted));
  }

  PARKIT_CALL(enter_phase("run", failed_phase, settings, ctx->rank));
  if (!result->interrupted)
    PARKIT_CALL(timed_repetitions(kernel, ctx, state, settings, my_times,
                                  &tracker, result));
  /* A signal during the last repetition stops nothing. */
  result->interrupted = result->repetitions_completed < settings->repetitions;
  if (result->repetitions_completed == 0) { /* stopped before any: abandon */
    free(my_times);
    kernel->teardown(state);
    *failed_phase = NULL;
    return 0;
  }
  PARKIT_CALL(gather_times(ctx, my_times, result));
  free(my_times);

  PARKIT_CALL(enter_phase("verify", failed_phase, settings, ctx->rank));
  result->work = kernel->work(state);
  compute_rate(result);
  PARKIT_CALL(kernel->verify(state, &result->outputs, &result->verdict));
  kernel->teardown(state);
  result->peak_resident_bytes = peak_resident_bytes();
  *failed_phase = NULL;
  return 0;
}

void parkit_run_result_free(parkit_run_result *result) {
  free(result->times);
  free(result->thread_cpus);
  free(result->thread_cpusets);
  parkit_outputs_free(&result->outputs);
  memset(result, 0, sizeof *result);
}
