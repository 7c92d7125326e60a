/*
 * isolation: what happens to the other workers when one crashes, with a
 * real invalid memory access (SIGSEGV), three ways:
 *
 *   thread   one child process running --team W threads;
 *   process  W child processes;
 *   rank     one MPI job of W ranks (mpirun, MPMD: one crashing rank, W-1
 *            surviving ones), started with --mpirun (default: `mpirun`
 *            from PATH) as an Open MPI command line: --oversubscribe
 *            --bind-to none. Its environment is this process's without
 *            the variables of the MPI job parkit itself may run in
 *            (OMPI_*, PMIX_*, ORTE_*, OPAL_*, PMI_*, PRTE_*, HYDRA_*,
 *            SLURM_*, except OMPI_ALLOW_RUN_AS_ROOT*), so it is a job of
 *            its own on this node. --mpi no leaves it out.
 * Every worker is parkit itself (/proc/self/exe) with the hidden argument
 * "isolation" (parkit_isolation_child_main below), so the children start
 * clean, never from a fork of this MPI process.
 *
 * Each worker does its work in steps of STEP_MICROSECONDS (a nap and a
 * mix of the step number into its result): HALF_STEPS steps, then it
 * reports "half". The supervisor (this probe, on rank 0) answers with two
 * signs, files it creates beside the result file (.parkit-isolation-PID.
 * crash and .go, removed after each way): "crash" once every worker has
 * reported "half", upon which the crashing worker writes into a PROT_NONE
 * page; "go" once it has seen the crashing worker's process end, upon
 * which the others do --remaining milliseconds more steps and report
 * "done" with their result. So every worker has started before the crash,
 * none can have finished before it, and a survivor finishes only if the
 * crash left it running. Reports are lines on the workers' standard output, a
 * pipe (each line one write, shorter than PIPE_BUF). Crashing workers
 * turn core dumps off first (PR_SET_DUMPABLE) and run with
 * ASAN_OPTIONS=handle_segv=0, so that a sanitized build dies by the
 * signal too.
 *
 * What is recorded, per way: workers that started (reported "half") and
 * that finished (reported "done" with the right result), how the crashing
 * worker's process ended (its exit status, 128 + the signal when a signal
 * ended it; for rank: mpirun's), processes that exited with status 0
 * (process), and the seconds from the moment the crash was seen to the
 * end of the job (every child reaped). rank_status says whether the MPI
 * job ran: 0 it did, -1 not tried (--mpi no), else mpirun's exit status
 * when no worker started (127: not found).
 *
 * Who measures: rank 0 of ctx->comm only, whatever the launch; the other
 * ranks wait in a sleeping barrier and rank 0's results are broadcast, so
 * every rank records the same outputs. Values are those of the last sweep.
 *
 * Work per sweep: the workers started ("workers").
 * Verifies that the facts were recorded consistently and, where POSIX
 * guarantees them, that they hold: thread: every worker started, the
 * crash ended the process by a signal or a failure status, no thread
 * finished; process: every worker started, the crashing process ended
 * badly, every other one finished with the right result and exited with
 * status 0; rank (what the MPI does is recorded, not required): no more
 * than W - 1 finished, every finished result right.
 *
 * Collective calls on ctx->comm: run (the sleeping barrier, MPI_Bcast of
 * the results). setup and verify communicate nothing.
 */
#include "check.h"
#include "kernel.h"
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum {
  OPTION_WORKERS,
  OPTION_REMAINING,
  OPTION_MPI,
  OPTION_MPIRUN,
  OPTION_COUNT
};
enum { MPI_YES, MPI_NO };

enum {
  MAX_WORKERS = 64,
  HALF_STEPS = 5,
  STEP_MICROSECONDS = 2000,
  GO_POLL_MICROSECONDS = 1000,
  /* Seconds to wait for the workers to start and the crash to be seen
   * (an MPI job's start-up on a loaded node), for a survivor to wait for
   * the go, and beyond --remaining for the job to end once it is given. */
  START_LIMIT_SECONDS = 60,
  GO_LIMIT_SECONDS = 120,
  END_LIMIT_SECONDS = 30,
  /* Exit statuses of a worker that could not do its part. */
  WORKER_BAD_ARGUMENTS = 2,
  WORKER_NO_GO = 3,
  WORKER_FAILED = 4,
};

static const parkit_option isolation_options[OPTION_COUNT] = {
    [OPTION_WORKERS] = {.name = "team",
                        .type = PARKIT_OPTION_INT,
                        .default_value = "4",
                        .unit = "workers",
                        .help = "workers per way; the last one crashes",
                        .min = 2,
                        .max = MAX_WORKERS},
    [OPTION_REMAINING] = {.name = "remaining",
                          .type = PARKIT_OPTION_INT,
                          .default_value = "2000",
                          .unit = "ms",
                          .help = "work each other worker still has to do "
                                  "when the crash happens",
                          .min = 0,
                          .max = 600000},
    [OPTION_MPI] = {.name = "mpi",
                    .type = PARKIT_OPTION_CHOICE,
                    .default_value = "yes",
                    .unit = "1",
                    .help = "also crash one rank of an MPI job of --team "
                            "ranks started with --mpirun",
                    .choices = "yes|no"},
    [OPTION_MPIRUN] = {.name = "mpirun",
                       .type = PARKIT_OPTION_TEXT,
                       .default_value = "mpirun",
                       .unit = "1",
                       .help = "the Open MPI mpirun that starts the ranks "
                               "(a path, or a name looked up in PATH)"},
};

/* ---- the workers (helper processes) ---------------------------------------
 */

/* A worker's result after `steps` steps: the same for every worker, so the
 * supervisor knows what a finished worker must report. */
static uint64_t mix_step(uint64_t value, int64_t step) {
  value ^= (uint64_t)step + UINT64_C(0x9e3779b97f4a7c15) + (value << 6) +
           (value >> 2);
  value *= UINT64_C(0xbf58476d1ce4e5b9);
  return value ^ (value >> 31);
}

static uint64_t expected_result(int64_t steps) {
  uint64_t value = 1;
  for (int64_t step = 0; step < steps; ++step)
    value = mix_step(value, step);
  return value;
}

static int64_t total_steps(int64_t remaining_milliseconds) {
  return HALF_STEPS + remaining_milliseconds * 1000 / STEP_MICROSECONDS;
}

static void nap(long microseconds) {
  struct timespec time = {microseconds / 1000000,
                          microseconds % 1000000 * 1000};
  while (nanosleep(&time, &time) != 0 && errno == EINTR)
    continue;
}

/* One line on standard output in one write. */
static void report(const char *format, ...)
    __attribute__((format(printf, 1, 2)));
static void report(const char *format, ...) {
  char line[128];
  va_list arguments;
  va_start(arguments, format);
  int length = vsnprintf(line, sizeof line, format, arguments);
  va_end(arguments);
  if (length > 0 && length < (int)sizeof line)
    (void)!write(STDOUT_FILENO, line, (size_t)length);
}

/* A real invalid memory access: a write into a page that allows none. */
static void crash_now(void) {
  (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no core file */
  volatile int *page = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page != MAP_FAILED)
    *page = 1;
  raise(SIGSEGV); /* only if the page could not be made */
}

/* True once `path` exists; false after GO_LIMIT_SECONDS. */
static bool wait_for_file(const char *path) {
  long waited = 0;
  while (access(path, F_OK) != 0) {
    if (waited > GO_LIMIT_SECONDS * 1000000L)
      return false;
    nap(GO_POLL_MICROSECONDS);
    waited += GO_POLL_MICROSECONDS;
  }
  return true;
}

typedef struct worker_plan {
  char role; /* 'c' crashes, 's' survives */
  long id;
  const char *files; /* FILES.crash and FILES.go: the supervisor's signs */
  int64_t steps;     /* in all */
} worker_plan;

/* Waits for the supervisor's sign FILES.SUFFIX. */
static bool wait_for_sign(const worker_plan *plan, const char *suffix) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s.%s", plan->files, suffix) >=
      (int)sizeof path)
    return false;
  return wait_for_file(path);
}

/* A worker's life. Returns the exit status it would end with. */
static int work(const worker_plan *plan) {
  uint64_t value = 1;
  for (int64_t step = 0; step < HALF_STEPS; ++step) {
    nap(STEP_MICROSECONDS);
    value = mix_step(value, step);
  }
  report("half %c %ld %ld\n", plan->role, plan->id, (long)getpid());
  if (plan->role == 'c') {
    if (!wait_for_sign(plan, "crash")) /* every worker has started */
      return WORKER_NO_GO;
    crash_now();
  }
  if (!wait_for_sign(plan, "go"))
    return WORKER_NO_GO;
  for (int64_t step = HALF_STEPS; step < plan->steps; ++step) {
    nap(STEP_MICROSECONDS);
    value = mix_step(value, step);
  }
  report("done %c %ld %llu\n", plan->role, plan->id, (unsigned long long)value);
  return 0;
}

static void *thread_worker(void *opaque) {
  static int failed = WORKER_NO_GO, fine = 0;
  return work(opaque) == 0 ? &fine : &failed;
}

static bool parse_long(const char *text, long low, long high, long *value) {
  char *end = NULL;
  errno = 0;
  *value = strtol(text, &end, 10);
  return *text != '\0' && *end == '\0' && errno == 0 && *value >= low &&
         *value <= high;
}

/* "threads W GO REMAINING": W threads in this process, the last crashes. */
static int child_threads(char **argv) {
  long workers = 0, remaining = 0;
  if (!parse_long(argv[0], 2, MAX_WORKERS, &workers) ||
      !parse_long(argv[2], 0, 600000, &remaining))
    return WORKER_BAD_ARGUMENTS;
  worker_plan plans[MAX_WORKERS];
  pthread_t threads[MAX_WORKERS];
  for (long w = 0; w < workers; ++w)
    plans[w] = (worker_plan){.role = w == workers - 1 ? 'c' : 's',
                             .id = w,
                             .files = argv[1],
                             .steps = total_steps(remaining)};
  for (long w = 0; w < workers; ++w)
    if (pthread_create(&threads[w], NULL, thread_worker, &plans[w]) != 0)
      return WORKER_FAILED;
  int status = 0;
  for (long w = 0; w < workers; ++w) {
    void *result = NULL;
    pthread_join(threads[w], &result);
    if (result == NULL || *(int *)result != 0)
      status = WORKER_NO_GO;
  }
  return status;
}

/* "process ROLE ID GO REMAINING" and "rank ROLE GO REMAINING". */
static int child_worker(char **argv, bool rank) {
  long id = (long)getpid(), remaining = 0;
  const char *role = argv[0];
  if ((strcmp(role, "crash") != 0 && strcmp(role, "survive") != 0) ||
      (!rank && !parse_long(argv[1], 0, MAX_WORKERS, &id)) ||
      !parse_long(argv[rank ? 2 : 3], 0, 600000, &remaining))
    return WORKER_BAD_ARGUMENTS;
  worker_plan plan = {.role = role[0] == 'c' ? 'c' : 's',
                      .id = id,
                      .files = argv[rank ? 1 : 2],
                      .steps = total_steps(remaining)};
  if (!rank)
    return work(&plan);
  if (MPI_Init(NULL, NULL) != MPI_SUCCESS)
    return WORKER_FAILED;
  int status = work(&plan);
  return MPI_Finalize() == MPI_SUCCESS ? status : WORKER_FAILED;
}

int parkit_isolation_child_main(int argc, char **argv) {
  /* argv: parkit --parkit-probe-child isolation WAY ARGUMENTS... */
  if (argc == 7 && strcmp(argv[3], "threads") == 0)
    return child_threads(argv + 4);
  if (argc == 8 && strcmp(argv[3], "process") == 0)
    return child_worker(argv + 4, false);
  if (argc == 7 && strcmp(argv[3], "rank") == 0)
    return child_worker(argv + 4, true);
  return WORKER_BAD_ARGUMENTS;
}

/* ---- options and state ----------------------------------------------------
 */

/* The three ways, in the order of the outputs. */
enum { WAY_THREAD, WAY_PROCESS, WAY_RANK, WAY_COUNT };

/* What one way's job did. */
typedef struct outcome {
  int64_t started, finished, wrong_results, clean_exits;
  int64_t crash_status;   /* 128 + signal, or the exit status */
  double end_after_crash; /* seconds */
  int64_t crash_seen;     /* 1: the crash was seen before the limit */
  int64_t killed;         /* 1: the probe had to end the job */
} outcome;

enum { MPI_NOT_TRIED = -1 };

typedef struct isolation_state {
  parkit_context context;
  int workers;
  int64_t remaining;
  bool try_mpi;
  const char *mpirun;
  char executable[PATH_MAX];
  char files[PATH_MAX]; /* the signs' common path: FILES.crash, FILES.go */
  char **environment;   /* for the children; NULL-terminated */
  outcome outcomes[WAY_COUNT];
  int64_t rank_status;
  double started_workers; /* in the last sweep */
} isolation_state;

/* ---- the supervisor -------------------------------------------------------
 */

/* A job under supervision: its direct children and the report pipe. */
typedef struct job {
  pid_t children[MAX_WORKERS];
  int statuses[MAX_WORKERS];
  bool reaped[MAX_WORKERS];
  int count;
  int reports;       /* read end; -1 at end of file */
  pid_t crasher;     /* 0 until known */
  int crasher_index; /* its index in children, or -1 when not a child */
  char buffer[4096];
  size_t buffered;
} job;

static int64_t exit_code(int status) {
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void reap(job *running) {
  for (int i = 0; i < running->count; ++i) {
    if (running->reaped[i])
      continue;
    pid_t done = waitpid(running->children[i], &running->statuses[i], WNOHANG);
    if (done == running->children[i] || (done < 0 && errno == ECHILD))
      running->reaped[i] = true;
  }
}

static bool all_reaped(const job *running) {
  for (int i = 0; i < running->count; ++i)
    if (!running->reaped[i])
      return false;
  return true;
}

/* A process that is not our child: gone, or a zombie. */
static bool process_ended(pid_t process) {
  char path[64], text[512];
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)process);
  int descriptor = open(path, O_RDONLY | O_CLOEXEC);
  if (descriptor < 0)
    return true;
  ssize_t length = read(descriptor, text, sizeof text - 1);
  close(descriptor);
  if (length <= 0)
    return true;
  text[length] = '\0';
  const char *after_name = strrchr(text, ')');
  return after_name == NULL || after_name[1] == '\0' || after_name[2] == 'Z' ||
         after_name[2] == 'X';
}

static bool crash_seen(const job *running) {
  if (all_reaped(running))
    return true;
  if (running->crasher_index >= 0)
    return running->reaped[running->crasher_index];
  return running->crasher > 0 && process_ended(running->crasher);
}

/* One report line: "half ROLE ID PID" or "done ROLE ID RESULT". */
static void take_line(job *running, outcome *result, const char *line,
                      uint64_t expected) {
  char word[8] = "", role = 0;
  long id = 0;
  unsigned long long value = 0;
  if (sscanf(line, "%7s %c %ld %llu", word, &role, &id, &value) != 4)
    return;
  if (strcmp(word, "half") == 0) {
    ++result->started;
    if (role == 'c' && running->crasher == 0)
      running->crasher = (pid_t)value;
  } else if (strcmp(word, "done") == 0) {
    if (value == expected)
      ++result->finished;
    else
      ++result->wrong_results;
  }
}

/* Reads what the report pipe holds (waiting up to `milliseconds`). */
static void read_reports(job *running, outcome *result, uint64_t expected,
                         int milliseconds) {
  if (running->reports < 0) {
    nap(milliseconds * 1000L);
    return;
  }
  struct pollfd ready = {.fd = running->reports, .events = POLLIN};
  if (poll(&ready, 1, milliseconds) <= 0)
    return;
  ssize_t got = read(running->reports, running->buffer + running->buffered,
                     sizeof running->buffer - 1 - running->buffered);
  if (got < 0 && errno == EINTR)
    return;
  if (got <= 0) {
    close(running->reports);
    running->reports = -1;
    return;
  }
  running->buffered += (size_t)got;
  running->buffer[running->buffered] = '\0';
  char *start = running->buffer, *end;
  while ((end = strchr(start, '\n')) != NULL) {
    *end = '\0';
    take_line(running, result, start, expected);
    start = end + 1;
  }
  running->buffered = strlen(start);
  memmove(running->buffer, start, running->buffered + 1);
  if (running->buffered == sizeof running->buffer - 1)
    running->buffered = 0; /* a line too long to be ours */
}

static void end_job(job *running, int signal_number) {
  for (int i = 0; i < running->count; ++i)
    if (!running->reaped[i])
      kill(-running->children[i], signal_number); /* its process group */
}

/* The sign FILES.SUFFIX: its path, and making or removing it. */
static void sign_path(const isolation_state *state, const char *suffix,
                      char *path, size_t size) {
  snprintf(path, size, "%s.%s", state->files, suffix);
}

static int give_sign(const isolation_state *state, const char *suffix) {
  char path[PATH_MAX + 8];
  sign_path(state, suffix, path, sizeof path);
  int descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  PARKIT_CHECK(descriptor >= 0, "cannot create '%s': %s", path,
               strerror(errno));
  close(descriptor);
  return 0;
}

static void remove_signs(const isolation_state *state) {
  char path[PATH_MAX + 8];
  sign_path(state, "crash", path, sizeof path);
  (void)unlink(path);
  sign_path(state, "go", path, sizeof path);
  (void)unlink(path);
}

/* Watches a started job to its end: the reports; the sign to crash once
 * every worker has started; the crash; the go to the others. */
static int supervise(isolation_state *state, job *running, outcome *result) {
  const uint64_t expected = expected_result(total_steps(state->remaining));
  double started = parkit_probe_seconds(), crashed = 0;
  double end_limit = (double)state->remaining / 1000.0 + END_LIMIT_SECONDS;
  bool crash_given = false, go_given = false, terminated = false;
  for (;;) {
    read_reports(running, result, expected, 1);
    reap(running);
    double now = parkit_probe_seconds();
    if (!crash_given && result->started >= state->workers) {
      PARKIT_CALL(give_sign(state, "crash"));
      crash_given = true;
    }
    if (!go_given && crash_seen(running)) {
      crashed = now;
      result->crash_seen = 1;
      PARKIT_CALL(give_sign(state, "go"));
      go_given = true;
    } else if (!go_given && now - started > START_LIMIT_SECONDS) {
      crashed = now; /* not seen: the job is ended below */
      go_given = true;
      end_job(running, SIGKILL);
      result->killed = 1;
    }
    if (running->reports < 0 && all_reaped(running))
      break;
    if (go_given && !terminated && now - crashed > end_limit) {
      end_job(running, SIGTERM);
      result->killed = 1;
      terminated = true;
    } else if (terminated && now - crashed > end_limit + 5) {
      end_job(running, SIGKILL);
    }
  }
  result->end_after_crash = parkit_probe_seconds() - crashed;
  return 0;
}

/* ---- starting the three jobs ----------------------------------------------
 */

/* Starts `arguments` (argv[0] a path, or a name for PATH when `search`)
 * in a process group of its own, standard output into `reports`, standard
 * input and error from and to /dev/null. */
static int start_child(const isolation_state *state, char *const *arguments,
                       bool search, int reports, pid_t *child) {
  *child = fork();
  if (*child == 0) { /* only async-signal-safe calls from here */
    int null = open("/dev/null", O_RDWR);
    setpgid(0, 0);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
        dup2(reports, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0)
      _exit(127);
    if (search)
      execvpe(arguments[0], arguments, state->environment);
    else
      execve(arguments[0], arguments, state->environment);
    _exit(127);
  }
  PARKIT_CHECK(*child > 0, "fork failed: %s", strerror(errno));
  (void)setpgid(*child, *child); /* also here: no race with end_job */
  return 0;
}

static void job_init(job *running) {
  memset(running, 0, sizeof *running);
  running->reports = -1;
  running->crasher_index = -1;
}

typedef struct way_arguments {
  char remaining[32], workers[32], ids[MAX_WORKERS][16];
} way_arguments;

static int run_way(isolation_state *state, int way) {
  outcome *result = &state->outcomes[way];
  memset(result, 0, sizeof *result);
  remove_signs(state);
  int pipe_ends[2];
  PARKIT_CHECK(pipe2(pipe_ends, O_CLOEXEC) == 0, "pipe failed: %s",
               strerror(errno));
  job running;
  job_init(&running);
  running.reports = pipe_ends[0];
  way_arguments text;
  snprintf(text.remaining, sizeof text.remaining, "%lld",
           (long long)state->remaining);
  snprintf(text.workers, sizeof text.workers, "%d", state->workers);
  char *exe = state->executable, *child = (char *)PARKIT_PROBE_CHILD_ARGUMENT;
  char *go = state->files, *kind = (char *)"isolation";
  int failed = 0;
  if (way == WAY_THREAD) {
    char *arguments[] = {exe,          child, kind,           (char *)"threads",
                         text.workers, go,    text.remaining, NULL};
    failed = start_child(state, arguments, false, pipe_ends[1],
                         &running.children[0]);
    running.count = failed ? 0 : 1;
    running.crasher_index = 0;
  } else if (way == WAY_PROCESS) {
    for (int w = 0; w < state->workers && !failed; ++w) {
      snprintf(text.ids[w], sizeof text.ids[w], "%d", w);
      bool crashes = w == state->workers - 1;
      char *arguments[] = {exe,
                           child,
                           kind,
                           (char *)"process",
                           crashes ? (char *)"crash" : (char *)"survive",
                           text.ids[w],
                           go,
                           text.remaining,
                           NULL};
      failed = start_child(state, arguments, false, pipe_ends[1],
                           &running.children[w]);
      running.count = failed ? w : w + 1;
    }
    running.crasher_index = state->workers - 1;
  } else {
    snprintf(text.ids[0], sizeof text.ids[0], "%d", state->workers - 1);
    char *arguments[] = {(char *)state->mpirun,
                         (char *)"--oversubscribe",
                         (char *)"--bind-to",
                         (char *)"none",
                         (char *)"-np",
                         (char *)"1",
                         exe,
                         child,
                         kind,
                         (char *)"rank",
                         (char *)"crash",
                         go,
                         text.remaining,
                         (char *)":",
                         (char *)"-np",
                         text.ids[0],
                         exe,
                         child,
                         kind,
                         (char *)"rank",
                         (char *)"survive",
                         go,
                         text.remaining,
                         NULL};
    failed =
        start_child(state, arguments, true, pipe_ends[1], &running.children[0]);
    running.count = failed ? 0 : 1;
  }
  close(pipe_ends[1]);
  int supervised = failed ? -1 : supervise(state, &running, result);
  if (running.reports >= 0)
    close(running.reports);
  remove_signs(state);
  PARKIT_CHECK(failed == 0 && supervised == 0, "cannot run the %s way",
               way == WAY_THREAD    ? "thread"
               : way == WAY_PROCESS ? "process"
                                    : "rank");
  /* The crashing worker's process (for rank: mpirun) and clean exits. */
  int crasher = way == WAY_PROCESS ? state->workers - 1 : 0;
  result->crash_status = exit_code(running.statuses[crasher]);
  for (int i = 0; i < running.count; ++i)
    result->clean_exits += i != crasher && running.statuses[i] == 0;
  state->started_workers += (double)result->started;
  return 0;
}

static int measure_sweep(isolation_state *state) {
  state->started_workers = 0;
  PARKIT_CALL(run_way(state, WAY_THREAD));
  PARKIT_CALL(run_way(state, WAY_PROCESS));
  state->rank_status = MPI_NOT_TRIED;
  if (state->try_mpi) {
    PARKIT_CALL(run_way(state, WAY_RANK));
    const outcome *rank = &state->outcomes[WAY_RANK];
    state->rank_status = rank->started > 0 ? 0 : rank->crash_status;
  }
  return 0;
}

static int isolation_run(void *opaque) {
  isolation_state *state = opaque;
  const parkit_context *context = &state->context;
  if (context->rank == 0)
    PARKIT_CALL(measure_sweep(state));
  PARKIT_MPI_CALL(parkit_probe_quiet_barrier(context->comm));
  PARKIT_MPI_CALL(MPI_Bcast(state->outcomes, sizeof state->outcomes, MPI_BYTE,
                            0, context->comm));
  PARKIT_MPI_CALL(
      MPI_Bcast(&state->rank_status, 1, MPI_INT64_T, 0, context->comm));
  PARKIT_MPI_CALL(
      MPI_Bcast(&state->started_workers, 1, MPI_DOUBLE, 0, context->comm));
  return 0;
}

/* ---- setup and teardown -------------------------------------------------- */

/* Variables of an MPI job that a job of its own must not inherit. */
static bool belongs_to_the_outer_job(const char *entry) {
  static const char *const prefixes[] = {"OMPI_", "PMIX_", "ORTE_",  "OPAL_",
                                         "PMI_",  "PRTE_", "HYDRA_", "SLURM_"};
  if (strncmp(entry, "OMPI_ALLOW_RUN_AS_ROOT", 22) == 0)
    return false;
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; ++i)
    if (strncmp(entry, prefixes[i], strlen(prefixes[i])) == 0)
      return true;
  return false;
}

static void free_environment(char **environment) {
  for (char **entry = environment; entry && *entry; ++entry)
    free(*entry);
  free(environment);
}

/* This process's environment less the outer job's variables, with
 * handle_segv=0 added to ASAN_OPTIONS. */
static int build_environment(isolation_state *state) {
  size_t count = 0;
  for (char **entry = environ; *entry; ++entry)
    ++count;
  PARKIT_ALLOCATE(state->environment, count + 2);
  memset(state->environment, 0, sizeof(char *) * (count + 2));
  size_t kept = 0;
  const char *sanitizer = "";
  for (char **entry = environ; *entry; ++entry) {
    if (strncmp(*entry, "ASAN_OPTIONS=", 13) == 0)
      sanitizer = *entry + 13;
    else if (!belongs_to_the_outer_job(*entry))
      state->environment[kept++] = strdup(*entry);
    PARKIT_CHECK(kept == 0 || state->environment[kept - 1] != NULL,
                 "cannot copy the environment");
  }
  size_t length = strlen(sanitizer) + 64;
  PARKIT_ALLOCATE(state->environment[kept], length);
  snprintf(state->environment[kept], length, "ASAN_OPTIONS=%s%shandle_segv=0",
           sanitizer, *sanitizer ? ":" : "");
  state->environment[kept + 1] = NULL;
  return 0;
}

static void isolation_teardown(void *opaque) {
  isolation_state *state = opaque;
  if (state == NULL)
    return;
  free_environment(state->environment);
  free(state);
}

static int find_paths(isolation_state *state, const char *scratch_dir) {
  ssize_t length = readlink("/proc/self/exe", state->executable,
                            sizeof state->executable - 1);
  PARKIT_CHECK(length > 0 && length < (ssize_t)sizeof state->executable - 1,
               "cannot resolve /proc/self/exe: %s", strerror(errno));
  state->executable[length] = '\0';
  char directory[PATH_MAX];
  PARKIT_CHECK(realpath(scratch_dir ? scratch_dir : ".", directory) != NULL,
               "cannot resolve the directory '%s': %s",
               scratch_dir ? scratch_dir : ".", strerror(errno));
  int written = snprintf(state->files, sizeof state->files,
                         "%s/.parkit-isolation-%ld", directory, (long)getpid());
  PARKIT_CHECK(written > 0 && written < (int)sizeof state->files - 8,
               "the path of the signs is too long");
  return 0;
}

static int isolation_setup(const parkit_context *context,
                           const parkit_value *options, void **opaque) {
  *opaque = NULL;
  isolation_state *state = NULL;
  PARKIT_ALLOCATE(state, 1);
  memset(state, 0, sizeof *state);
  state->context = *context;
  state->workers = (int)options[OPTION_WORKERS].integer;
  state->remaining = options[OPTION_REMAINING].integer;
  state->try_mpi = options[OPTION_MPI].choice == MPI_YES;
  state->mpirun = options[OPTION_MPIRUN].text;
  state->rank_status = MPI_NOT_TRIED;
  if (context->rank == 0 && (find_paths(state, context->scratch_dir) != 0 ||
                             build_environment(state) != 0)) {
    isolation_teardown(state);
    return -1;
  }
  *opaque = state;
  return 0;
}

static int isolation_validate(const parkit_context *context,
                              const parkit_value *options, char *message,
                              size_t message_size) {
  (void)context;
  if (options[OPTION_MPIRUN].is_set && options[OPTION_MPI].choice == MPI_NO) {
    snprintf(message, message_size,
             "--mpirun '%s' applies to --mpi yes, not --mpi no",
             options[OPTION_MPIRUN].text);
    return -1;
  }
  return 0;
}

static double isolation_memory_bytes(const parkit_context *context,
                                     const parkit_value *options) {
  (void)context;
  (void)options;
  return sizeof(isolation_state) + 64.0 * 1024;
}

/* ---- verify -------------------------------------------------------------- */

static bool ended_badly(int64_t status) {
  return status != 0;
}

/* Appends the failed checks of the three ways to `failures`. */
static int count_failures(const isolation_state *state, char *failures,
                          size_t size) {
  const int64_t w = state->workers;
  const outcome *thread = &state->outcomes[WAY_THREAD];
  const outcome *process = &state->outcomes[WAY_PROCESS];
  const outcome *rank = &state->outcomes[WAY_RANK];
  struct {
    bool holds;
    const char *what;
  } checks[] = {
      {thread->started == w, "not every thread started"},
      {thread->crash_seen && ended_badly(thread->crash_status),
       "the crashing thread did not end its process"},
      {thread->finished == 0 && thread->wrong_results == 0,
       "a thread finished after the crash"},
      {process->started == w, "not every process started"},
      {process->crash_seen && ended_badly(process->crash_status),
       "the crashing process did not end badly"},
      {process->finished == w - 1 && process->clean_exits == w - 1 &&
           process->wrong_results == 0,
       "not every other process finished with the right result"},
      {state->rank_status != 0 ||
           (rank->finished <= w - 1 && rank->wrong_results == 0),
       "a rank's result was wrong"},
  };
  int count = 0;
  failures[0] = '\0';
  for (size_t i = 0; i < sizeof checks / sizeof checks[0]; ++i)
    if (!checks[i].holds && count++ == 0)
      snprintf(failures, size, "%s", checks[i].what);
  return count;
}

static int record_way(parkit_outputs *outputs, const char *way,
                      const outcome *result, bool processes) {
  char name[64];
  struct {
    const char *suffix;
    int64_t value;
  } counts[] = {
      {"started", result->started},
      {"finished", result->finished},
      {processes ? "crash_status" : "exit_status", result->crash_status}};
  for (size_t i = 0; i < sizeof counts / sizeof counts[0]; ++i) {
    snprintf(name, sizeof name, "%s_%s", way, counts[i].suffix);
    PARKIT_CALL(parkit_output_integer(outputs, name, counts[i].value));
  }
  if (processes) {
    snprintf(name, sizeof name, "%s_clean_exits", way);
    PARKIT_CALL(parkit_output_integer(outputs, name, result->clean_exits));
  }
  snprintf(name, sizeof name, "%s_end_after_crash", way);
  return parkit_output_real(outputs, name, result->end_after_crash);
}

static int isolation_verify(void *opaque, parkit_outputs *outputs,
                            parkit_verdict *verdict) {
  const isolation_state *state = opaque;
  char failures[160];
  int failed = count_failures(state, failures, sizeof failures);
  const outcome *thread = &state->outcomes[WAY_THREAD];
  const outcome *process = &state->outcomes[WAY_PROCESS];
  const outcome *rank = &state->outcomes[WAY_RANK];
  verdict->passed = failed == 0;
  char rank_text[96] = "; ranks not tried";
  if (state->rank_status == 0)
    snprintf(rank_text, sizeof rank_text,
             "; ranks %lld of %d finished, mpirun exit %lld",
             (long long)rank->finished, state->workers - 1,
             (long long)rank->crash_status);
  else if (state->rank_status != MPI_NOT_TRIED)
    snprintf(rank_text, sizeof rank_text,
             "; the MPI job did not start "
             "(mpirun exit %lld)",
             (long long)state->rank_status);
  if (failed)
    snprintf(verdict->message, sizeof verdict->message,
             "%d check(s) failed; first: %s", failed, failures);
  else
    snprintf(verdict->message, sizeof verdict->message,
             "one of %d crashed: threads %lld finished (exit %lld), "
             "processes %lld finished%s",
             state->workers, (long long)thread->finished,
             (long long)thread->crash_status, (long long)process->finished,
             rank_text);
  PARKIT_CALL(record_way(outputs, "thread", thread, false));
  PARKIT_CALL(record_way(outputs, "process", process, true));
  PARKIT_CALL(
      parkit_output_integer(outputs, "rank_status", state->rank_status));
  if (state->rank_status == 0)
    PARKIT_CALL(record_way(outputs, "rank", rank, false));
  return 0;
}

static parkit_work isolation_work(const void *opaque) {
  const isolation_state *state = opaque;
  return (parkit_work){.items = state->started_workers,
                       .item_name = "workers",
                       .rate_basis = PARKIT_RATE_ITEMS};
}

static const parkit_output_spec isolation_outputs[] = {
    {.name = "thread_started",
     .unit = "workers",
     .description = "threads that did the first half of their work"},
    {.name = "thread_finished",
     .unit = "workers",
     .description = "threads that finished their work after another thread "
                    "of their process crashed",
     .headline = PARKIT_HEADLINE_VALUE},
    {.name = "thread_exit_status",
     .unit = "1",
     .description = "exit status of the threads' process: 128 + the signal "
                    "that ended it, else its exit code"},
    {.name = "thread_end_after_crash",
     .unit = "s",
     .description = "from the crash seen to the process reaped",
     .agreement = PARKIT_OUTPUT_MEASURED},
    {.name = "process_started",
     .unit = "workers",
     .description = "processes that did the first half of their work"},
    {.name = "process_finished",
     .unit = "workers",
     .description = "processes that finished their work with the right "
                    "result after another one crashed",
     .headline = PARKIT_HEADLINE_VALUE},
    {.name = "process_crash_status",
     .unit = "1",
     .description = "exit status of the crashing process: 128 + signal"},
    {.name = "process_clean_exits",
     .unit = "workers",
     .description = "other processes that exited with status 0"},
    {.name = "process_end_after_crash",
     .unit = "s",
     .description = "from the crash seen to the last process reaped (the "
                    "others' remaining work included)",
     .agreement = PARKIT_OUTPUT_MEASURED},
    {.name = "rank_status",
     .unit = "1",
     .description = "0 the MPI job ran; -1 not tried (--mpi no); else "
                    "mpirun's exit status when no rank started",
     .agreement = PARKIT_OUTPUT_DIFFERS},
    {.name = "rank_started",
     .unit = "workers",
     .description = "ranks that did the first half of their work",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .when = "rank_status=0"},
    {.name = "rank_finished",
     .unit = "workers",
     .description = "ranks that finished their work with the right result "
                    "after another rank crashed",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .headline = PARKIT_HEADLINE_VALUE,
     .when = "rank_status=0"},
    {.name = "rank_exit_status",
     .unit = "1",
     .description = "mpirun's exit status: 128 + the signal that ended it, "
                    "else its exit code",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .when = "rank_status=0"},
    {.name = "rank_end_after_crash",
     .unit = "s",
     .description = "from the crashed rank seen gone to mpirun's exit",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .when = "rank_status=0"},
};

static const parkit_test_config isolation_tests[] = {
    {.arguments = "--team 3 --remaining 100"},
};

static const parkit_rate_unit_spec isolation_rate_units[] = {
    {.unit = "Mworkers/s"}};

const parkit_kernel parkit_kernel_isolation = {
    .name = "isolation",
    .summary = "probe: one worker crashes (SIGSEGV): what becomes of the "
               "others as threads, as processes and as MPI ranks",
    .kind = PARKIT_KERNEL_PROBE,
    .options = isolation_options,
    .option_count = OPTION_COUNT,
    .outputs = isolation_outputs,
    .output_count = PARKIT_COUNT(isolation_outputs),
    .rate_units = isolation_rate_units,
    .rate_unit_count = PARKIT_COUNT(isolation_rate_units),
    .tests = isolation_tests,
    .test_count = PARKIT_COUNT(isolation_tests),
    .memcheck_arguments = "--team 2 --remaining 10 --mpi no",
    .validate = isolation_validate,
    .memory_bytes = isolation_memory_bytes,
    .setup = isolation_setup,
    .run = isolation_run,
    .verify = isolation_verify,
    .teardown = isolation_teardown,
    .work = isolation_work,
};
