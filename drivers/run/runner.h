/*
 * The one runner every kernel goes through: setup, warm-up, barrier-aligned
 * timed repetitions, timing statistics over ranks, verification, and the
 * placement of every thread. Kernels hold no timing code.
 */
#ifndef PARKIT_RUNNER_H
#define PARKIT_RUNNER_H

#include "fault.h"
#include "interference.h"
#include "kernel.h"
#include "outputs.h"
#include "phases.h"
#include "placement.h"
#include "statistics.h"
#include "topology.h"

#include <stdbool.h>

typedef struct parkit_runner_settings {
  int repetitions;       /* timed, >= 1 */
  int warmup;            /* untimed, >= 0 */
  int batch;             /* calls of run() per repetition (timed together) */
  int nodes;             /* nodes of the launch, for the output table's
                            conditions */
  bool progress;         /* rank 0 reports progress on stderr for long runs */
  double progress_after; /* s before the first progress line (progress.h) */
  const parkit_fault *fault; /* test-only injected fault, or NULL */
  /* Where to look for interference during the timed repetitions. */
  parkit_interference_scope interference;
  const parkit_topology *topology; /* for the threads' NUMA nodes */
} parkit_runner_settings;

typedef struct parkit_run_result {
  int repetitions; /* asked for (--reps) */
  int ranks, threads;
  /* Timed repetitions done: fewer than asked when a stop signal came
   * (interrupted); 0 means none finished, and the run is abandoned (no
   * times, no verification). Same on all ranks. */
  int repetitions_completed;
  bool interrupted;
  double *times; /* [repetition * ranks + rank] for the completed
                    repetitions, seconds; same on all ranks */
  parkit_time_statistics statistics;
  /* The kernel's phases (its phase table): seconds per repetition and rank,
   * [phase][repetition * ranks + rank], and their statistics like the
   * repetitions'. Same on all ranks. */
  int phase_count;
  const parkit_phase_spec *phase_specs;
  double *phase_times;
  parkit_time_statistics *phase_statistics;
  /* What else used the CPUs during the timed repetitions. */
  parkit_interference interference;
  parkit_work work; /* per repetition: batch calls of run() */
  int batch;
  double rate;      /* work per median time, in rate_unit */
  double rate_best; /* work per minimum time */
  char rate_unit[48];
  parkit_verdict verdict;
  parkit_outputs outputs;
  int *thread_cpus;       /* [threads]: CPU of each thread */
  int *thread_numa_nodes; /* [threads]: NUMA node of that CPU, -1 unknown */
  char (*thread_cpusets)[PARKIT_CPUSET_TEXT]; /* [threads]: its mask */
  double peak_resident_bytes;                 /* this rank's peak RSS */
} parkit_run_result;

/* Collective over ctx->comm. Runs the kernel with `options` (checked by the
 * parser) in the context `ctx`, whose `clock` it sets itself. Stops early,
 * after the current repetition, when any rank got a stop signal (see
 * signals.h). On failure returns -1 and sets *failed_phase to "setup",
 * "warm-up", "run" or "verify"; the run cannot continue then, since the other
 * ranks may be inside a collective call. */
int parkit_run_kernel(const parkit_kernel *kernel, const parkit_context *ctx,
                      const parkit_value *options,
                      const parkit_runner_settings *settings,
                      parkit_run_result *result, const char **failed_phase);

void parkit_run_result_free(parkit_run_result *result);

#endif
