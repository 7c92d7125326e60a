/*
 * footprint: resident memory of the whole job for one problem, so that one
 * process with T threads can be compared with P processes (or P x T).
 *
 * The problem is --bytes bytes in all, split over the ranks (balanced,
 * partition.h) and each rank's share over its threads; every thread writes
 * its part (first touch in the first run(), rewrites after). Each rank reads
 * its own resident set: VmRSS from /proc/self/status and, where the kernel
 * offers it, Pss from /proc/self/smaps_rollup (proportional set size: a page
 * shared by k processes counts 1/k in each, so shared libraries and shared
 * memory are not counted once per process as they are in RSS). The
 * baseline is read in setup, before the problem is allocated: what the
 * process costs with MPI, HDF5 and the OpenMP runtime loaded and started.
 *
 * Outputs (bytes unless noted), identical on every rank (gathered):
 *   problem_bytes   --bytes
 *   baseline_rss    sum over ranks of VmRSS before allocating the problem
 *   job_rss         sum over ranks of VmRSS after touching it
 *   job_pss         sum over ranks of Pss after touching it (only when
 *                   every rank can read smaps_rollup)
 *   rank_rss        [ranks] each rank's VmRSS after touching
 *   overhead_ratio  job_rss / problem_bytes (1)
 * The values are read at the end of the last run() (sweep).
 *
 * Work per sweep: the pages written ("pages").
 * Verifies: every byte of the problem holds the value the last sweep
 * wrote, and every resident size is positive.
 *
 * Collective calls on ctx->comm: verify (MPI_Allgather of the resident
 * sizes, MPI_Allreduce of the check). setup and run communicate nothing.
 */
#include "check.h"
#include "kernel.h"
#include "partition.h"

#include <inttypes.h>
#include <omp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OPTION_BYTES, OPTION_COUNT };

static const parkit_option footprint_options[OPTION_COUNT] = {
    [OPTION_BYTES] = {.name = "bytes",
                      .type = PARKIT_OPTION_INT,
                      .default_value = "67108864",
                      .unit = "B",
                      .help = "problem size in all, split over every rank "
                              "and thread",
                      .min = 1,
                      .max = INT64_C(1) << 40},
};

/* What one rank reads about itself, in bytes; -1 when unreadable. */
enum { BASELINE_RSS, AFTER_RSS, AFTER_PSS, READING_COUNT };

typedef struct footprint_state {
  parkit_context context;
  int64_t problem_bytes;
  parkit_range share; /* this rank's bytes of the problem */
  unsigned char *data;
  unsigned char value; /* what the last sweep wrote */
  int64_t reading[READING_COUNT];
  int64_t *rank_readings; /* [ranks][READING_COUNT], filled by verify */
} footprint_state;

/* The "NAME: N kB" line of a /proc file, in bytes; -1 when absent. */
static int64_t proc_kilobytes(const char *path, const char *name) {
  FILE *file = fopen(path, "r");
  if (file == NULL)
    return -1;
  char line[256];
  int64_t bytes = -1;
  size_t length = strlen(name);
  while (fgets(line, sizeof line, file)) {
    long long kilobytes = 0;
    if (strncmp(line, name, length) == 0 && line[length] == ':' &&
        sscanf(line + length + 1, "%lld kB", &kilobytes) == 1) {
      bytes = (int64_t)kilobytes * 1024;
      break;
    }
  }
  fclose(file);
  return bytes;
}

static int64_t resident_bytes(void) {
  return proc_kilobytes("/proc/self/status", "VmRSS");
}

static int64_t proportional_bytes(void) {
  return proc_kilobytes("/proc/self/smaps_rollup", "Pss");
}

static int64_t share_bytes(const footprint_state *state) {
  return state->share.end - state->share.begin;
}

static void teardown(void *opaque) {
  footprint_state *state = opaque;
  if (state == NULL)
    return;
  free(state->data);
  free(state->rank_readings);
  free(state);
}

static int setup_state(footprint_state *state, const parkit_context *context,
                       const parkit_value *options) {
  state->context = *context;
  state->problem_bytes = options[OPTION_BYTES].integer;
  state->share =
      parkit_balanced_part(state->problem_bytes, context->size, context->rank);
  PARKIT_ALLOCATE(state->rank_readings, READING_COUNT * context->size);
  state->reading[BASELINE_RSS] = resident_bytes();
  PARKIT_CHECK(state->reading[BASELINE_RSS] > 0,
               "cannot read VmRSS from /proc/self/status");
  /* Allocated, not touched: the pages become resident in run(). */
  PARKIT_ALLOCATE(state->data, share_bytes(state));
  return 0;
}

static int footprint_setup(const parkit_context *context,
                           const parkit_value *options, void **opaque) {
  *opaque = NULL;
  footprint_state *state = NULL;
  PARKIT_ALLOCATE(state, 1);
  memset(state, 0, sizeof *state);
  if (setup_state(state, context, options) != 0) {
    teardown(state);
    return -1;
  }
  *opaque = state;
  return 0;
}

static double footprint_memory_bytes(const parkit_context *context,
                                     const parkit_value *options) {
  parkit_range share = parkit_balanced_part(options[OPTION_BYTES].integer,
                                            context->size, context->rank);
  return (double)(share.end - share.begin) + sizeof(footprint_state) +
         READING_COUNT * sizeof(int64_t) * (double)context->size;
}

/* Thread `thread`'s part of this rank's share. */
static parkit_range thread_part(const footprint_state *state, int thread,
                                int threads) {
  return parkit_balanced_part(share_bytes(state), threads, thread);
}

static int footprint_run(void *opaque) {
  footprint_state *state = opaque;
  state->value = (unsigned char)(state->value + 1);
  const unsigned char value = state->value;
#pragma omp parallel num_threads(state->context.threads)
  {
    parkit_range part =
        thread_part(state, omp_get_thread_num(), omp_get_num_threads());
    memset(state->data + part.begin, value, (size_t)(part.end - part.begin));
  }
  state->reading[AFTER_RSS] = resident_bytes();
  state->reading[AFTER_PSS] = proportional_bytes();
  PARKIT_CHECK(state->reading[AFTER_RSS] > 0,
               "cannot read VmRSS from /proc/self/status");
  return 0;
}

/* Bytes of this rank's share that do not hold the last value written. */
static int64_t wrong_bytes(const footprint_state *state) {
  int64_t wrong = 0;
  const unsigned char value = state->value;
#pragma omp parallel num_threads(state->context.threads) reduction(+ : wrong)
  {
    parkit_range part =
        thread_part(state, omp_get_thread_num(), omp_get_num_threads());
    for (int64_t i = part.begin; i < part.end; ++i)
      wrong += state->data[i] != value;
  }
  return wrong;
}

/* Sum over ranks of reading `which`; -1 when any rank could not read it. */
static int64_t job_sum(const footprint_state *state, int which) {
  int64_t sum = 0;
  for (int rank = 0; rank < state->context.size; ++rank) {
    int64_t value = state->rank_readings[rank * READING_COUNT + which];
    if (value < 0)
      return -1;
    sum += value;
  }
  return sum;
}

static int record_outputs(const footprint_state *state, parkit_outputs *outputs,
                          int64_t job_rss, int64_t job_pss,
                          const int64_t *rank_rss) {
  PARKIT_CALL(
      parkit_output_integer(outputs, "problem_bytes", state->problem_bytes));
  PARKIT_CALL(parkit_output_integer(outputs, "baseline_rss",
                                    job_sum(state, BASELINE_RSS)));
  PARKIT_CALL(parkit_output_integer(outputs, "job_rss", job_rss));
  if (job_pss >= 0)
    PARKIT_CALL(parkit_output_integer(outputs, "job_pss", job_pss));
  PARKIT_CALL(parkit_output_integers(outputs, "rank_rss", rank_rss,
                                     (size_t)state->context.size));
  PARKIT_CALL(
      parkit_output_real(outputs, "overhead_ratio",
                         (double)job_rss / (double)state->problem_bytes));
  return 0;
}

static int footprint_verify(void *opaque, parkit_outputs *outputs,
                            parkit_verdict *verdict) {
  footprint_state *state = opaque;
  const parkit_context *context = &state->context;
  int64_t wrong = wrong_bytes(state);
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &wrong, 1, MPI_INT64_T, MPI_SUM,
                                context->comm));
  PARKIT_MPI_CALL(MPI_Allgather(state->reading, READING_COUNT, MPI_INT64_T,
                                state->rank_readings, READING_COUNT,
                                MPI_INT64_T, context->comm));
  int64_t *rank_rss = NULL;
  PARKIT_ALLOCATE(rank_rss, context->size);
  bool positive = true;
  for (int rank = 0; rank < context->size; ++rank) {
    rank_rss[rank] = state->rank_readings[rank * READING_COUNT + AFTER_RSS];
    positive = positive && rank_rss[rank] > 0 &&
               state->rank_readings[rank * READING_COUNT + BASELINE_RSS] > 0;
  }
  int64_t job_rss = job_sum(state, AFTER_RSS);
  int64_t job_pss = job_sum(state, AFTER_PSS);
  verdict->passed = wrong == 0 && positive;
  if (wrong != 0)
    snprintf(verdict->message, sizeof verdict->message,
             "%" PRId64 " of %" PRId64 " bytes do not hold what was written",
             wrong, state->problem_bytes);
  else if (!positive)
    snprintf(verdict->message, sizeof verdict->message,
             "a resident size read as zero");
  else
    snprintf(verdict->message, sizeof verdict->message,
             "%" PRId64 " B written and read back intact; job RSS %.1f MiB "
             "(baseline %.1f MiB), %.2f x the problem",
             state->problem_bytes, (double)job_rss / 1048576.0,
             (double)job_sum(state, BASELINE_RSS) / 1048576.0,
             (double)job_rss / (double)state->problem_bytes);
  int recorded = record_outputs(state, outputs, job_rss, job_pss, rank_rss);
  free(rank_rss);
  return recorded;
}

static parkit_work footprint_work(const void *opaque) {
  const footprint_state *state = opaque;
  double page = (double)sysconf(_SC_PAGESIZE);
  return (parkit_work){.items = (double)state->problem_bytes / page,
                       .item_name = "pages",
                       .rate_basis = PARKIT_RATE_ITEMS};
}

static const parkit_output_spec footprint_outputs[] = {
    {.name = "problem_bytes",
     .unit = "B",
     .description = "problem size, split over the workers"},
    {.name = "baseline_rss",
     .unit = "B",
     .description = "sum over ranks of VmRSS before allocating the problem",
     .agreement = PARKIT_OUTPUT_MEASURED},
    {.name = "job_rss",
     .unit = "B",
     .description = "sum over ranks of VmRSS after touching the problem",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .headline = PARKIT_HEADLINE_VALUE},
    {.name = "job_pss",
     .unit = "B",
     .description = "sum over ranks of Pss (smaps_rollup) after touching the "
                    "problem",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .when = "optional"},
    {.name = "rank_rss",
     .unit = "B",
     .description = "VmRSS of each rank after touching",
     .shape = "ranks",
     .agreement = PARKIT_OUTPUT_MEASURED},
    {.name = "overhead_ratio",
     .unit = "1",
     .description = "job_rss / problem_bytes",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .headline = PARKIT_HEADLINE_VALUE},
};

static const parkit_test_config footprint_tests[] = {
    {.arguments = "--bytes 8388608"},
};

static const parkit_rate_unit_spec footprint_rate_units[] = {
    {.unit = "Mpages/s"}};

const parkit_kernel parkit_kernel_footprint = {
    .name = "footprint",
    .summary = "probe: resident memory of the whole job (RSS, PSS) for one "
               "problem, as threads or as processes",
    .options = footprint_options,
    .option_count = OPTION_COUNT,
    .kind = PARKIT_KERNEL_PROBE,
    .outputs = footprint_outputs,
    .output_count = PARKIT_COUNT(footprint_outputs),
    .rate_units = footprint_rate_units,
    .rate_unit_count = PARKIT_COUNT(footprint_rate_units),
    .tests = footprint_tests,
    .test_count = PARKIT_COUNT(footprint_tests),
    .memcheck_arguments = "--bytes 1048576",
    .memory_bytes = footprint_memory_bytes,
    .setup = footprint_setup,
    .run = footprint_run,
    .verify = footprint_verify,
    .teardown = teardown,
    .work = footprint_work,
};
