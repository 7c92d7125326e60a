/*
 * spawn: what it costs to start and join workers, per worker, for w = 1 ..
 * --max_workers W workers started at once, four ways:
 *
 *   openmp_start_join  one OpenMP parallel region of w threads, after the
 *                      thread pool exists (a warm region of w threads runs
 *                      first; median of OPENMP_SAMPLES regions);
 *   pthread_start_join pthread_create of w threads, then pthread_join of
 *                      all (median of PTHREAD_SAMPLES);
 *   fork_exec_wait     fork + execv of w worker processes, all started
 *                      before the first waitpid (median of FORK_SAMPLES);
 *                      the worker is parkit itself (/proc/self/exe) with
 *                      the hidden argument that returns from main() at
 *                      once, before MPI_Init: the cost is fork, exec, the
 *                      dynamic loader and exit;
 *   mpi_comm_spawn     MPI_Comm_spawn of w copies of parkit whose hidden
 *                      argument runs MPI_Init, MPI_Comm_get_parent,
 *                      MPI_Comm_disconnect, MPI_Finalize, then
 *                      MPI_Comm_disconnect on the parent's side (one
 *                      sample): spawn plus the children's MPI_Init. Open
 *                      MPI needs a free slot per child, so the spawn asks
 *                      for info map_by = "slot:OVERSUBSCRIBE" (other MPI
 *                      libraries ignore the key). When MPI_Comm_spawn fails
 *                      it is not tried again in this run and the curve is
 *                      left out; the output mpi_comm_spawn_error says why
 *                      (0 it worked, -1 not tried, else the MPI error
 *                      class). Off unless --mpi_spawn yes: with Open MPI
 *                      4.1.4 on Debian 12's external PMIx 4.2.2, repeated
 *                      spawns hang (7 to 11 spawns in, as a singleton and
 *                      under mpirun) until PMIx gives up after 300 s
 *                      (openpmix/openpmix#2735). The first spawns work:
 *                      about 30 to 60 ms per worker, the children's
 *                      MPI_Init included.
 * Every curve is in microseconds per worker (the time for w workers / w).
 * openmp_first_region is the first parallel region of a fresh process (the
 * thread pool's creation), W threads: setup starts parkit with the hidden
 * argument "first-region", which times its very first region and prints
 * it, so no earlier region of this process can have created the pool.
 *
 * Who measures: rank 0 of ctx->comm only, so the other ranks' workers do
 * not compete for the cores; the other ranks wait in a sleeping barrier
 * and rank 0's results are broadcast, so every rank records the same
 * outputs. The values are those of the last sweep (run()); the runner's
 * warm-up sweep absorbs one-time costs (Open MPI's daemon for spawning).
 * The result does not depend on ctx->size or ctx->threads: the team sizes
 * are 1 .. W whatever the launch.
 *
 * Work per sweep: the workers started and joined ("workers").
 * Verifies: every region had w threads, every pthread ran, every worker
 * process exited with status 0, every spawn made w children, and every
 * recorded value is finite and positive.
 *
 * Collective calls on ctx->comm: setup (MPI_Comm_split: rank 0 alone on the
 * communicator it spawns from; the sleeping barrier and MPI_Bcast of the
 * first region), run (the sleeping barrier, MPI_Bcast of the sweep).
 * MPI_Comm_spawn runs on rank 0's own communicator.
 */
#include "check.h"
#include "kernel.h"
#include "probe.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Samples per point of each curve: enough for a stable median, few enough
 * that a default sweep (W = 4) takes about a second. */
enum {
  MAX_WORKERS = 64, /* --max_workers at most */
  OPENMP_SAMPLES = 200,
  PTHREAD_SAMPLES = 20,
  FORK_SAMPLES = 3,
};

/* After the last MPI_Comm_spawn of a sweep: time for the spawned processes
 * to finish MPI_Finalize before the next sweep times threads again. */
static const struct timespec spawned_settle_time = {0, 250000000};

/* ---- the helper process (main() hands over before MPI_Init) ------------ */

static int child_first_region(const char *threads_text) {
  char *end = NULL;
  long threads = strtol(threads_text, &end, 10);
  if (*threads_text == '\0' || *end != '\0' || threads < 1 || threads > 4096)
    return 2;
  omp_set_dynamic(0);
  int team = 0;
  double started = parkit_probe_seconds();
#pragma omp parallel num_threads((int)threads)
  {
#pragma omp master
    team = omp_get_num_threads();
  }
  double seconds = parkit_probe_seconds() - started;
  if (team != threads)
    return 1;
  printf("%.3f\n", seconds * 1e6);
  return fflush(stdout) == 0 ? 0 : 1;
}

static int child_mpi(void) {
  if (MPI_Init(NULL, NULL) != MPI_SUCCESS)
    return 1;
  MPI_Comm parent = MPI_COMM_NULL;
  bool spawned =
      MPI_Comm_get_parent(&parent) == MPI_SUCCESS && parent != MPI_COMM_NULL;
  bool fine = spawned && MPI_Comm_disconnect(&parent) == MPI_SUCCESS;
  fine = MPI_Finalize() == MPI_SUCCESS && fine;
  return fine ? 0 : 1;
}

int parkit_probe_child_main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[2], "exit") == 0)
    return 0;
  if (argc == 3 && strcmp(argv[2], "mpi") == 0)
    return child_mpi();
  if (argc == 4 && strcmp(argv[2], "first-region") == 0)
    return child_first_region(argv[3]);
  if (argc >= 3 && strcmp(argv[2], "isolation") == 0)
    return parkit_isolation_child_main(argc, argv);
  return 2;
}

/* ---- options and state -------------------------------------------------- */

enum { OPTION_WORKERS, OPTION_MPI_SPAWN, OPTION_COUNT };
enum { MPI_SPAWN_YES, MPI_SPAWN_NO };

static const parkit_option spawn_options[OPTION_COUNT] = {
    [OPTION_WORKERS] = {.name = "max_workers",
                        .type = PARKIT_OPTION_INT,
                        .default_value = "4",
                        .unit = "workers",
                        .help = "largest number of workers started at once: "
                                "curves over 1 .. workers",
                        .min = 1,
                        .max = MAX_WORKERS},
    [OPTION_MPI_SPAWN] = {.name = "mpi_spawn",
                          .type = PARKIT_OPTION_CHOICE,
                          .default_value = "no",
                          .unit = "1",
                          .help = "also time MPI_Comm_spawn (off by default: "
                                  "Open MPI 4.1 with PMIx 4 hangs after a "
                                  "few spawns)",
                          .choices = "yes|no"},
};

/* The curves, one value per worker count, index w - 1. */
enum {
  CURVE_OPENMP,
  CURVE_PTHREAD,
  CURVE_FORK,
  CURVE_MPI_SPAWN,
  CURVE_COUNT,
};

/* mpi_comm_spawn_error when MPI_Comm_spawn was not tried. */
enum { MPI_SPAWN_NOT_TRIED = -1 };

/* What rank 0 measured in the last sweep, broadcast to every rank. */
enum { STATUS_FAILURES, STATUS_MPI_SPAWN_ERROR, STATUS_COUNT };

typedef struct spawn_state {
  parkit_context context;
  int workers;
  bool try_mpi_spawn;
  char executable[4096]; /* this program, resolved from /proc/self/exe */
  MPI_Comm alone;        /* rank 0 by itself; MPI_COMM_NULL elsewhere */
  MPI_Info spawn_info;
  double first_region;  /* microseconds */
  double *curves;       /* CURVE_COUNT x workers, microseconds per worker */
  int64_t *status;      /* STATUS_COUNT */
  char failure[160];    /* the first failure of the last sweep, or "" */
  double *samples;      /* scratch for medians */
  pthread_t *threads;   /* scratch, workers */
  pid_t *processes;     /* scratch, workers */
  int *spawn_codes;     /* scratch, workers */
  double started_items; /* workers started per sweep */
} spawn_state;

static double *curve(const spawn_state *state, int which) {
  return state->curves + (size_t)which * (size_t)state->workers;
}

/* Keeps the first failure's description; counts every failure. */
static void note_failure(spawn_state *state, const char *what, int workers) {
  if (state->status[STATUS_FAILURES]++ == 0)
    snprintf(state->failure, sizeof state->failure, "%s with %d workers", what,
             workers);
}

/* ---- the four ways to start workers ------------------------------------ */

/* Seconds of one parallel region of `workers` threads. */
static double openmp_region_seconds(spawn_state *state, int workers) {
  int team = 0;
  double started = parkit_probe_seconds();
#pragma omp parallel num_threads(workers)
  {
#pragma omp master
    team = omp_get_num_threads();
  }
  double seconds = parkit_probe_seconds() - started;
  if (team != workers)
    note_failure(state, "an OpenMP region had the wrong team size", workers);
  return seconds;
}

static double openmp_start_join(spawn_state *state, int workers) {
  openmp_region_seconds(state, workers); /* the pool grows to `workers` */
  for (int sample = 0; sample < OPENMP_SAMPLES; ++sample)
    state->samples[sample] = openmp_region_seconds(state, workers);
  return parkit_probe_median(state->samples, OPENMP_SAMPLES);
}

static void *pthread_worker(void *ran) {
  atomic_fetch_add_explicit((atomic_int *)ran, 1, memory_order_relaxed);
  return NULL;
}

/* Seconds to create `workers` pthreads and join them all. */
static int pthread_sample(spawn_state *state, int workers, double *seconds) {
  atomic_int ran = 0;
  int created = 0, code = 0;
  double started = parkit_probe_seconds();
  for (; created < workers; ++created) {
    code = pthread_create(&state->threads[created], NULL, pthread_worker, &ran);
    if (code != 0)
      break;
  }
  for (int i = 0; i < created; ++i)
    pthread_join(state->threads[i], NULL);
  *seconds = parkit_probe_seconds() - started;
  PARKIT_CHECK(code == 0, "pthread_create of worker %d of %d failed: %s",
               created + 1, workers, strerror(code));
  if (atomic_load(&ran) != workers)
    note_failure(state, "a pthread did not run", workers);
  return 0;
}

static int pthread_start_join(spawn_state *state, int workers, double *median) {
  for (int sample = 0; sample < PTHREAD_SAMPLES; ++sample)
    PARKIT_CALL(pthread_sample(state, workers, &state->samples[sample]));
  *median = parkit_probe_median(state->samples, PTHREAD_SAMPLES);
  return 0;
}

/* Waits for `process`; true when it exited with status 0. */
static bool reaped_cleanly(pid_t process) {
  int status = 0;
  while (waitpid(process, &status, 0) < 0)
    if (errno != EINTR)
      return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Seconds to fork + exec `workers` processes and wait for them all. */
static int fork_sample(spawn_state *state, int workers, double *seconds) {
  char *arguments[] = {state->executable, PARKIT_PROBE_CHILD_ARGUMENT,
                       (char *)"exit", NULL};
  int started = 0, fork_errno = 0;
  double begun = parkit_probe_seconds();
  for (; started < workers; ++started) {
    pid_t process = fork();
    if (process == 0) { /* only async-signal-safe calls from here */
      execv(arguments[0], arguments);
      _exit(127);
    }
    if (process < 0) {
      fork_errno = errno;
      break;
    }
    state->processes[started] = process;
  }
  int unclean = 0;
  for (int i = 0; i < started; ++i)
    unclean += !reaped_cleanly(state->processes[i]);
  *seconds = parkit_probe_seconds() - begun;
  PARKIT_CHECK(started == workers, "fork of worker %d of %d failed: %s",
               started + 1, workers, strerror(fork_errno));
  if (unclean > 0)
    note_failure(state, "a worker process did not exit with status 0", workers);
  return 0;
}

static int fork_exec_wait(spawn_state *state, int workers, double *median) {
  for (int sample = 0; sample < FORK_SAMPLES; ++sample)
    PARKIT_CALL(fork_sample(state, workers, &state->samples[sample]));
  *median = parkit_probe_median(state->samples, FORK_SAMPLES);
  return 0;
}

/* Seconds to spawn `workers` MPI processes and disconnect from them. A
 * failing MPI_Comm_spawn is not an error of the run: its error class goes
 * to status[STATUS_MPI_SPAWN_ERROR] and *seconds stays untouched. */
static int mpi_comm_spawn(spawn_state *state, int workers, double *seconds) {
  char *arguments[] = {PARKIT_PROBE_CHILD_ARGUMENT, (char *)"mpi", NULL};
  MPI_Comm children = MPI_COMM_NULL;
  double started = parkit_probe_seconds();
  int code =
      MPI_Comm_spawn(state->executable, arguments, workers, state->spawn_info,
                     0, state->alone, &children, state->spawn_codes);
  if (code != MPI_SUCCESS) {
    int error_class = MPI_ERR_OTHER;
    if (MPI_Error_class(code, &error_class) != MPI_SUCCESS)
      error_class = MPI_ERR_OTHER;
    state->status[STATUS_MPI_SPAWN_ERROR] = error_class;
    return 0;
  }
  PARKIT_MPI_CALL(MPI_Comm_set_errhandler(children, MPI_ERRORS_RETURN));
  int spawned = 0;
  PARKIT_MPI_CALL(MPI_Comm_remote_size(children, &spawned));
  PARKIT_MPI_CALL(MPI_Comm_disconnect(&children));
  *seconds = parkit_probe_seconds() - started;
  for (int i = 0; i < workers; ++i)
    if (state->spawn_codes[i] != MPI_SUCCESS)
      spawned = -1;
  if (spawned != workers)
    note_failure(state, "MPI_Comm_spawn made the wrong number of processes",
                 workers);
  return 0;
}

/* ---- the sweep ---------------------------------------------------------- */

static bool mpi_spawn_usable(const spawn_state *state) {
  return state->try_mpi_spawn && state->status[STATUS_MPI_SPAWN_ERROR] == 0;
}

/* Rank 0: every curve at every worker count, one way after the other, the
 * processes last: spawned MPI processes still run MPI_Finalize after they
 * disconnect, and must not compete with the threads being timed. */
static int measure_sweep(spawn_state *state) {
  state->status[STATUS_FAILURES] = 0;
  state->failure[0] = '\0';
  const int count = state->workers;
  for (int workers = 1; workers <= count; ++workers)
    curve(state, CURVE_OPENMP)[workers - 1] = openmp_start_join(state, workers);
  for (int workers = 1; workers <= count; ++workers)
    PARKIT_CALL(pthread_start_join(state, workers,
                                   &curve(state, CURVE_PTHREAD)[workers - 1]));
  for (int workers = 1; workers <= count; ++workers)
    PARKIT_CALL(
        fork_exec_wait(state, workers, &curve(state, CURVE_FORK)[workers - 1]));
  for (int workers = 1; workers <= count && mpi_spawn_usable(state); ++workers)
    PARKIT_CALL(mpi_comm_spawn(state, workers,
                               &curve(state, CURVE_MPI_SPAWN)[workers - 1]));
  if (mpi_spawn_usable(state))
    nanosleep(&spawned_settle_time, NULL);
  /* Seconds per w workers to microseconds per worker. */
  for (int which = 0; which < CURVE_COUNT; ++which)
    for (int workers = 1; workers <= count; ++workers)
      curve(state, which)[workers - 1] *= 1e6 / workers;
  return 0;
}

static int spawn_run(void *opaque) {
  spawn_state *state = opaque;
  const parkit_context *context = &state->context;
  if (context->rank == 0)
    PARKIT_CALL(measure_sweep(state));
  PARKIT_MPI_CALL(parkit_probe_quiet_barrier(context->comm));
  PARKIT_MPI_CALL(MPI_Bcast(state->curves, CURVE_COUNT * state->workers,
                            MPI_DOUBLE, 0, context->comm));
  PARKIT_MPI_CALL(
      MPI_Bcast(state->status, STATUS_COUNT, MPI_INT64_T, 0, context->comm));
  PARKIT_MPI_CALL(MPI_Bcast(state->failure, sizeof state->failure, MPI_CHAR, 0,
                            context->comm));
  return 0;
}

/* ---- setup and teardown -------------------------------------------------- */

/* Reads what `descriptor` delivers until end of file, into `text` (of
 * capacity `size`, NUL-terminated, truncated). */
static void read_all(int descriptor, char *text, size_t size) {
  size_t total = 0;
  while (total + 1 < size) {
    ssize_t got = read(descriptor, text + total, size - 1 - total);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      break;
    total += (size_t)got;
  }
  text[total] = '\0';
}

/* Rank 0: microseconds of the first parallel region of a fresh parkit. */
static int measure_first_region(spawn_state *state) {
  char threads_text[16];
  snprintf(threads_text, sizeof threads_text, "%d", state->workers);
  char *arguments[] = {state->executable, PARKIT_PROBE_CHILD_ARGUMENT,
                       (char *)"first-region", threads_text, NULL};
  int pipe_ends[2];
  PARKIT_CHECK(pipe(pipe_ends) == 0, "pipe failed: %s", strerror(errno));
  pid_t process = fork();
  if (process == 0) {
    dup2(pipe_ends[1], STDOUT_FILENO);
    close(pipe_ends[0]);
    execv(arguments[0], arguments);
    _exit(127);
  }
  int fork_errno = errno;
  close(pipe_ends[1]);
  char text[64] = "";
  if (process > 0)
    read_all(pipe_ends[0], text, sizeof text);
  close(pipe_ends[0]);
  PARKIT_CHECK(process > 0, "fork failed: %s", strerror(fork_errno));
  bool clean = reaped_cleanly(process);
  char *end = NULL;
  state->first_region = strtod(text, &end);
  PARKIT_CHECK(clean && end != text,
               "'%s %s first-region %d' failed or printed no time ('%s')",
               state->executable, PARKIT_PROBE_CHILD_ARGUMENT, state->workers,
               text);
  return 0;
}

static int find_executable(spawn_state *state) {
  ssize_t length = readlink("/proc/self/exe", state->executable,
                            sizeof state->executable - 1);
  PARKIT_CHECK(length > 0 && length < (ssize_t)sizeof state->executable - 1,
               "cannot resolve /proc/self/exe: %s", strerror(errno));
  state->executable[length] = '\0';
  return 0;
}

static void spawn_teardown(void *opaque) {
  spawn_state *state = opaque;
  if (state == NULL)
    return;
  /* Clean-up: a failure here changes nothing the run reports. */
  if (state->alone != MPI_COMM_NULL)
    (void)MPI_Comm_free(&state->alone);
  if (state->spawn_info != MPI_INFO_NULL)
    (void)MPI_Info_free(&state->spawn_info);
  free(state->curves);
  free(state->status);
  free(state->samples);
  free(state->threads);
  free(state->processes);
  free(state->spawn_codes);
  free(state);
}

static int setup_state(spawn_state *state, const parkit_context *context,
                       const parkit_value *options) {
  state->context = *context;
  state->workers = (int)options[OPTION_WORKERS].integer;
  state->try_mpi_spawn = options[OPTION_MPI_SPAWN].choice == MPI_SPAWN_YES;
  int workers = state->workers;
  PARKIT_ALLOCATE(state->curves, CURVE_COUNT * workers);
  PARKIT_ALLOCATE(state->status, STATUS_COUNT);
  PARKIT_ALLOCATE(state->samples, OPENMP_SAMPLES);
  PARKIT_ALLOCATE(state->threads, workers);
  PARKIT_ALLOCATE(state->processes, workers);
  PARKIT_ALLOCATE(state->spawn_codes, workers);
  memset(state->curves, 0, sizeof(double) * CURVE_COUNT * (size_t)workers);
  state->status[STATUS_FAILURES] = 0;
  state->status[STATUS_MPI_SPAWN_ERROR] =
      state->try_mpi_spawn ? 0 : MPI_SPAWN_NOT_TRIED;
  int spawned_per_count = OPENMP_SAMPLES + 1 + PTHREAD_SAMPLES + FORK_SAMPLES +
                          (state->try_mpi_spawn ? 1 : 0);
  state->started_items =
      (double)spawned_per_count * workers * (workers + 1) / 2.0;

  PARKIT_MPI_CALL(MPI_Comm_split(
      context->comm, context->rank == 0 ? 0 : MPI_UNDEFINED, 0, &state->alone));
  if (context->rank == 0) {
    PARKIT_CALL(find_executable(state));
    PARKIT_MPI_CALL(MPI_Info_create(&state->spawn_info));
    PARKIT_MPI_CALL(
        MPI_Info_set(state->spawn_info, "map_by", "slot:OVERSUBSCRIBE"));
    PARKIT_CALL(measure_first_region(state));
  }
  PARKIT_MPI_CALL(parkit_probe_quiet_barrier(context->comm));
  PARKIT_MPI_CALL(
      MPI_Bcast(&state->first_region, 1, MPI_DOUBLE, 0, context->comm));
  return 0;
}

static int spawn_setup(const parkit_context *context,
                       const parkit_value *options, void **opaque) {
  *opaque = NULL;
  spawn_state *state = NULL;
  PARKIT_ALLOCATE(state, 1);
  memset(state, 0, sizeof *state);
  state->alone = MPI_COMM_NULL;
  state->spawn_info = MPI_INFO_NULL;
  if (setup_state(state, context, options) != 0) {
    spawn_teardown(state);
    return -1;
  }
  *opaque = state;
  return 0;
}

static double spawn_memory_bytes(const parkit_context *context,
                                 const parkit_value *options) {
  (void)context;
  double workers = (double)options[OPTION_WORKERS].integer;
  return sizeof(spawn_state) + sizeof(double) * OPENMP_SAMPLES +
         workers * (CURVE_COUNT * sizeof(double) + sizeof(pthread_t) +
                    sizeof(pid_t) + sizeof(int));
}

/* ---- verify -------------------------------------------------------------- */

static bool all_finite_positive(const double *values, int count) {
  for (int i = 0; i < count; ++i)
    if (!(isfinite(values[i]) && values[i] > 0.0))
      return false;
  return true;
}

static int record_outputs(const spawn_state *state, parkit_outputs *outputs,
                          bool with_mpi_spawn) {
  size_t count = (size_t)state->workers;
  int64_t workers[MAX_WORKERS];
  for (int w = 1; w <= state->workers; ++w)
    workers[w - 1] = w;
  PARKIT_CALL(parkit_output_integers(outputs, "workers", workers, count));
  PARKIT_CALL(
      parkit_output_real(outputs, "openmp_first_region", state->first_region));
  PARKIT_CALL(parkit_output_reals(outputs, "openmp_start_join",
                                  curve(state, CURVE_OPENMP), count));
  PARKIT_CALL(parkit_output_reals(outputs, "pthread_start_join",
                                  curve(state, CURVE_PTHREAD), count));
  PARKIT_CALL(parkit_output_reals(outputs, "fork_exec_wait",
                                  curve(state, CURVE_FORK), count));
  if (with_mpi_spawn)
    PARKIT_CALL(parkit_output_reals(outputs, "mpi_comm_spawn",
                                    curve(state, CURVE_MPI_SPAWN), count));
  PARKIT_CALL(parkit_output_integer(outputs, "mpi_comm_spawn_error",
                                    state->status[STATUS_MPI_SPAWN_ERROR]));
  return 0;
}

static int spawn_verify(void *opaque, parkit_outputs *outputs,
                        parkit_verdict *verdict) {
  const spawn_state *state = opaque;
  const int w = state->workers;
  bool with_mpi_spawn = mpi_spawn_usable(state);
  int curves = with_mpi_spawn ? CURVE_COUNT : CURVE_MPI_SPAWN;
  bool positive = all_finite_positive(&state->first_region, 1) &&
                  all_finite_positive(state->curves, curves * w);
  verdict->passed = positive && state->status[STATUS_FAILURES] == 0;
  if (!positive)
    snprintf(verdict->message, sizeof verdict->message,
             "a measured time is not finite and positive");
  else if (!verdict->passed)
    snprintf(verdict->message, sizeof verdict->message,
             "%lld worker start(s) went wrong; first: %s",
             (long long)state->status[STATUS_FAILURES], state->failure);
  else
    snprintf(verdict->message, sizeof verdict->message,
             "all workers ran, 1..%d at once; per worker at %d: OpenMP %.2f "
             "us, pthread %.1f us, fork+exec %.0f us%s",
             w, w, curve(state, CURVE_OPENMP)[w - 1],
             curve(state, CURVE_PTHREAD)[w - 1],
             curve(state, CURVE_FORK)[w - 1],
             with_mpi_spawn ? ", MPI_Comm_spawn measured"
                            : ", MPI_Comm_spawn left out");
  return record_outputs(state, outputs, with_mpi_spawn);
}

static parkit_work spawn_work(const void *opaque) {
  const spawn_state *state = opaque;
  return (parkit_work){.items = state->started_items,
                       .item_name = "workers",
                       .rate_basis = PARKIT_RATE_ITEMS};
}

static const parkit_output_spec spawn_outputs[] = {
    {.name = "workers",
     .unit = "1",
     .description = "workers started at once",
     .shape = "max_workers"},
    {.name = "openmp_first_region",
     .unit = "us",
     .description = "first OpenMP parallel region of a fresh process (thread "
                    "pool creation), --max_workers threads",
     .agreement = PARKIT_OUTPUT_MEASURED},
    {.name = "openmp_start_join",
     .unit = "us",
     .description = "OpenMP parallel region of w threads (pool warm) / w",
     .shape = "max_workers",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .headline = PARKIT_HEADLINE_LAST},
    {.name = "pthread_start_join",
     .unit = "us",
     .description = "pthread_create + pthread_join of w threads / w",
     .shape = "max_workers",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .headline = PARKIT_HEADLINE_LAST},
    {.name = "fork_exec_wait",
     .unit = "us",
     .description = "fork + exec + waitpid of w parkit processes at once / w",
     .shape = "max_workers",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .headline = PARKIT_HEADLINE_LAST},
    {.name = "mpi_comm_spawn",
     .unit = "us",
     .description = "MPI_Comm_spawn of w parkit processes (with their "
                    "MPI_Init) + MPI_Comm_disconnect / w",
     .shape = "max_workers",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .when = "mpi_comm_spawn_error=0",
     .headline = PARKIT_HEADLINE_LAST},
    {.name = "mpi_comm_spawn_error",
     .unit = "1",
     .description = "MPI error class of the failed MPI_Comm_spawn: 0 it "
                    "worked, -1 not tried (--mpi_spawn no)",
     .agreement = PARKIT_OUTPUT_DIFFERS},
};

static const parkit_test_config spawn_tests[] = {
    {.arguments = "--max_workers 2"},
};

static const parkit_rate_unit_spec spawn_rate_units[] = {
    {.unit = "Mworkers/s"}};

const parkit_kernel parkit_kernel_spawn = {
    .name = "spawn",
    .summary = "probe: cost per worker to start and join OpenMP threads, "
               "pthreads, processes (fork+exec) and MPI_Comm_spawn",
    .options = spawn_options,
    .option_count = OPTION_COUNT,
    .kind = PARKIT_KERNEL_PROBE,
    .outputs = spawn_outputs,
    .output_count = PARKIT_COUNT(spawn_outputs),
    .rate_units = spawn_rate_units,
    .rate_unit_count = PARKIT_COUNT(spawn_rate_units),
    .tests = spawn_tests,
    .test_count = PARKIT_COUNT(spawn_tests),
    .memcheck_arguments = "--max_workers 2",
    .memory_bytes = spawn_memory_bytes,
    .setup = spawn_setup,
    .run = spawn_run,
    .verify = spawn_verify,
    .teardown = spawn_teardown,
    .work = spawn_work,
};
