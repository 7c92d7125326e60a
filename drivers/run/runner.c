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

/* Where each OpenMP thread of this rank is: its CPU now, that CPU's NUMA
 * node, and its mask. */
static int sample_thread_placement(const parkit_topology *topology,
                                   parkit_run_result *result) {
  PARKIT_ALLOCATE(result->thread_cpus, result->threads);
  PARKIT_ALLOCATE(result->thread_numa_nodes, result->threads);
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
  for (int thread = 0; thread < result->threads; ++thread)
    result->thread_numa_nodes[thread] =
        parkit_topology_numa_node(topology, result->thread_cpus[thread]);
  return 0;
}

/* Runs the timed repetitions until all are done or a stop signal is agreed
 * on (checked after each repetition, outside the timed region); the number
 * done goes to result->repetitions_completed. */
/* One call of run(), its phases counted in the current repetition. */
static int call_run(const parkit_kernel *kernel, void *state,
                    parkit_phase_clock *clock) {
  parkit_phase_clock_start_call(clock);
  PARKIT_CALL(kernel->run(state));
  return parkit_phase_clock_end_call(clock);
}

static int timed_repetitions(const parkit_kernel *kernel,
                             const parkit_context *ctx, void *state,
                             const parkit_runner_settings *settings,
                             double *my_times, parkit_progress *tracker,
                             parkit_run_result *result) {
  for (int repetition = 0; repetition < settings->repetitions; ++repetition) {
    PARKIT_MPI_CALL(MPI_Barrier(ctx->comm));
    parkit_phase_clock_start_repetition(ctx->clock);
    double started = MPI_Wtime();
    for (int call = 0; call < settings->batch; ++call)
      PARKIT_CALL(call_run(kernel, state, ctx->clock));
    my_times[repetition] = MPI_Wtime() - started;
    parkit_phase_clock_end_repetition(ctx->clock, repetition);
    result->repetitions_completed = repetition + 1;
    parkit_progress_report(tracker, "repetition", repetition + 1,
                           settings->repetitions);
    PARKIT_CALL(parkit_signals_agree(ctx->comm, &result->interrupted));
    if (result->interrupted)
      break;
  }
  return 0;
}

/* Gathers every rank's `mine` (one value per completed repetition) into
 * all[repetition * ranks + rank], and its statistics. Collective. */
static int gather_by_repetition(const parkit_context *ctx, const double *mine,
                                const parkit_run_result *result, double *all,
                                parkit_time_statistics *statistics) {
  int repetitions = result->repetitions_completed, ranks = result->ranks;
  double *by_rank = NULL;
  PARKIT_ALLOCATE(by_rank, (size_t)repetitions * (size_t)ranks);
  int gathered = MPI_Allgather(mine, repetitions, MPI_DOUBLE, by_rank,
                               repetitions, MPI_DOUBLE, ctx->comm);
  if (gathered == MPI_SUCCESS)
    for (int rank = 0; rank < ranks; ++rank)
      for (int repetition = 0; repetition < repetitions; ++repetition)
        all[(size_t)repetition * (size_t)ranks + (size_t)rank] =
            by_rank[(size_t)rank * (size_t)repetitions + (size_t)repetition];
  free(by_rank);
  PARKIT_MPI_CALL(gathered);
  return parkit_time_statistics_compute(all, repetitions, ranks, statistics);
}

/* Every rank's repetition times into result->times, and every phase's into
 * result->phase_times. Collective. */
static int gather_times(const parkit_context *ctx, const double *my_times,
                        parkit_run_result *result) {
  size_t cells = (size_t)result->repetitions_completed * (size_t)result->ranks;
  PARKIT_ALLOCATE(result->times, cells);
  PARKIT_CALL(gather_by_repetition(ctx, my_times, result, result->times,
                                   &result->statistics));
  const parkit_phase_clock *clock = ctx->clock;
  result->phase_count = clock->count;
  result->phase_specs = clock->specs;
  if (clock->count == 0)
    return 0;
  PARKIT_ALLOCATE(result->phase_times, cells * (size_t)clock->count);
  PARKIT_ALLOCATE(result->phase_statistics, clock->count);
  double *mine = NULL;
  PARKIT_ALLOCATE(mine, result->repetitions_completed);
  int status = 0;
  for (int phase = 0; phase < clock->count && status == 0; ++phase) {
    for (int repetition = 0; repetition < result->repetitions_completed;
         ++repetition)
      mine[repetition] = parkit_phase_clock_timed(clock, repetition, phase);
    status = gather_by_repetition(ctx, mine, result,
                                  result->phase_times + cells * (size_t)phase,
                                  &result->phase_statistics[phase]);
  }
  free(mine);
  return status;
}

/* The kernel's work per call of run(), times the calls per repetition. */
static void batch_work(parkit_work *work, int batch) {
  work->flops *= batch;
  work->bytes *= batch;
  work->items *= batch;
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

/* What the descriptor's `when` conditions of this run are evaluated
 * against: the launch, the options and the outputs recorded. */
static parkit_output_condition_context
conditions_of(const parkit_kernel *kernel, const parkit_context *ctx,
              const parkit_value *options,
              const parkit_runner_settings *settings,
              const parkit_run_result *result) {
  return (parkit_output_condition_context){.kernel = kernel,
                                           .options = options,
                                           .ranks = ctx->size,
                                           .threads = ctx->threads,
                                           .nodes = settings->nodes,
                                           .outputs = &result->outputs};
}

/* Checks that the kernel recorded exactly the outputs its table says apply
 * to this launch (kernel.h, parkit_output_spec.when). */
static int check_outputs(const parkit_kernel *kernel, const parkit_context *ctx,
                         const parkit_value *options,
                         const parkit_runner_settings *settings,
                         const parkit_run_result *result) {
  parkit_output_condition_context at =
      conditions_of(kernel, ctx, options, settings, result);
  return parkit_outputs_check_complete(&result->outputs, &at);
}

/* Checks that the rate unit computed from work() is the one the kernel's
 * rate-unit table declares for this launch (kernel.h,
 * parkit_rate_unit_spec): the catalogue tells tools the unit before a run,
 * so the two must not drift apart. */
static int check_rate_unit(const parkit_kernel *kernel,
                           const parkit_context *ctx,
                           const parkit_value *options,
                           const parkit_runner_settings *settings,
                           const parkit_run_result *result) {
  parkit_output_condition_context at =
      conditions_of(kernel, ctx, options, settings, result);
  const char *declared = NULL;
  for (int i = 0; i < kernel->rate_unit_count; ++i) {
    int holds = parkit_output_condition_holds(kernel->rate_units[i].when, &at);
    if (holds < 0)
      return -1; /* the condition's own message names it */
    PARKIT_CHECK(holds == 0 || declared == NULL,
                 "%s declares two rate units for this run: '%s' and '%s'",
                 kernel->name, declared, kernel->rate_units[i].unit);
    if (holds != 0)
      declared = kernel->rate_units[i].unit;
  }
  PARKIT_CHECK(declared != NULL,
               "%s declares no rate unit for this run (.rate_units of its "
               "descriptor); its rate is in %s",
               kernel->name, result->rate_unit);
  PARKIT_CHECK(strcmp(declared, result->rate_unit) == 0,
               "%s's descriptor declares its rate in '%s', but work() gives "
               "'%s'",
               kernel->name, declared, result->rate_unit);
  return 0;
}

static int run_with_clock(const parkit_kernel *kernel,
                          const parkit_context *ctx,
                          const parkit_value *options,
                          const parkit_runner_settings *settings,
                          parkit_run_result *result, const char **failed_phase);

int parkit_run_kernel(const parkit_kernel *kernel, const parkit_context *ctx,
                      const parkit_value *options,
                      const parkit_runner_settings *settings,
                      parkit_run_result *result, const char **failed_phase) {
  memset(result, 0, sizeof *result);
  *failed_phase = "setup";
  parkit_phase_clock clock;
  PARKIT_CALL(parkit_phase_clock_init(&clock, kernel, settings->repetitions));
  parkit_context timed_context = *ctx;
  timed_context.clock = &clock;
  int status = run_with_clock(kernel, &timed_context, options, settings, result,
                              failed_phase);
  parkit_phase_clock_free(&clock);
  return status;
}

static int run_with_clock(const parkit_kernel *kernel,
                          const parkit_context *ctx,
                          const parkit_value *options,
                          const parkit_runner_settings *settings,
                          parkit_run_result *result,
                          const char **failed_phase) {
  result->repetitions = settings->repetitions;
  result->ranks = ctx->size;
  result->threads = ctx->threads;
  result->batch = settings->batch;
  parkit_outputs_init(&result->outputs, kernel);
  parkit_progress tracker = parkit_progress_start(
      settings->progress && ctx->rank == 0, settings->progress_after);
  void *state = NULL;
  double *my_times = NULL;

  PARKIT_CALL(enter_phase("setup", failed_phase, settings, ctx->rank));
  PARKIT_CALL(kernel->setup(ctx, options, &state));
  PARKIT_CALL(sample_thread_placement(settings->topology, result));
  PARKIT_ALLOCATE(my_times, settings->repetitions);

  PARKIT_CALL(enter_phase("warm-up", failed_phase, settings, ctx->rank));
  PARKIT_CALL(parkit_signals_agree(ctx->comm, &result->interrupted));
  for (int repetition = 0;
       repetition < settings->warmup && !result->interrupted; ++repetition) {
    PARKIT_CALL(call_run(kernel, state, ctx->clock));
    parkit_progress_report(&tracker, "warm-up repetition", repetition + 1,
                           settings->warmup);
    PARKIT_CALL(parkit_signals_agree(ctx->comm, &result->interrupted));
  }

  PARKIT_CALL(enter_phase("run", failed_phase, settings, ctx->rank));
  parkit_interference_sample before, after;
  parkit_interference_sample_now(&settings->interference, &before);
  if (!result->interrupted)
    PARKIT_CALL(timed_repetitions(kernel, ctx, state, settings, my_times,
                                  &tracker, result));
  parkit_interference_sample_now(&settings->interference, &after);
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
  PARKIT_CALL(parkit_interference_measure(&settings->interference, &before,
                                          &after, ctx->comm,
                                          &result->interference));

  PARKIT_CALL(enter_phase("verify", failed_phase, settings, ctx->rank));
  result->work = kernel->work(state);
  batch_work(&result->work, settings->batch);
  compute_rate(result);
  PARKIT_CALL(check_rate_unit(kernel, ctx, options, settings, result));
  PARKIT_CALL(kernel->verify(state, &result->outputs, &result->verdict));
  PARKIT_CALL(check_outputs(kernel, ctx, options, settings, result));
  kernel->teardown(state);
  result->peak_resident_bytes = peak_resident_bytes();
  *failed_phase = NULL;
  return 0;
}

void parkit_run_result_free(parkit_run_result *result) {
  free(result->times);
  free(result->phase_times);
  free(result->phase_statistics);
  free(result->thread_cpus);
  free(result->thread_numa_nodes);
  free(result->thread_cpusets);
  parkit_outputs_free(&result->outputs);
  memset(result, 0, sizeof *result);
}
