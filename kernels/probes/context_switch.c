/*
 * context_switch: what one switch between two workers on ONE core costs,
 * between two threads of one process and between two processes, in the
 * manner of lmbench's lat_ctx (McVoy and Staelin, USENIX 1996).
 *
 * Two workers, both pinned to the same CPU, hand a token back and forth
 * through two pipes: each blocks in read() until the other has written,
 * so every hand-off is one context switch. Between hand-offs each worker
 * reads its own working set (one 8-byte word per 64-byte line of a buffer
 * of s bytes), so with s > 0 a switch also costs what the other worker's
 * data evicted from the caches and the TLB. The working sets run over
 * s = 0, 4 KiB, 16 KiB, ... (x4) below --max_bytes, then --max_bytes.
 *
 *   thread_switch   the partner is a POSIX thread of this process;
 *   process_switch  the partner is a child process (fork without exec: the
 *                   child only reads, writes, touches memory and _exits);
 *   handoff_overhead what a hand-off costs without a switch: one worker
 *                   writes the token into a pipe, reads it back and reads
 *                   its working set (lat_ctx's "overhead").
 * Per switch (us) = median round trip / 2 - handoff_overhead: the switch
 * itself plus the cache and TLB refills it causes. Round trips are timed in
 * batches of BATCH_ROUND_TRIPS, the three ways taking turns batch by batch
 * (both partners wait, blocked, while the other way runs), so a load that
 * comes and goes hits all three alike; each way's median over its batches
 * is taken, so a batch that waited for another load does not shift it.
 * Each size runs one untimed batch of each way first (warm caches,
 * copied-on-write pages of the child) and then turns until
 * SIZE_BUDGET_SECONDS or MAX_BATCHES, at least MIN_BATCHES.
 *
 * The CPU: the first CPU the calling thread of rank 0 may run on; its
 * affinity is narrowed to it for the sweep and restored after.
 *
 * Who measures: rank 0 of ctx->comm only, whatever the launch (the two
 * workers are its own); the other ranks wait in a sleeping barrier, and
 * rank 0's results are broadcast so every rank records the same outputs.
 * Values are those of the last sweep (run()).
 *
 * Work per sweep: the hand-offs made ("switches").
 * Verifies: every token came back incremented once per hand-off (the
 * partner checks what it receives and exits with status 0 only if all
 * was right), the measuring worker was switched out (voluntarily or not,
 * getrusage) at least once per timed round trip, the child exited with
 * status 0, and every time is finite.
 *
 * Collective calls on ctx->comm: run (the sleeping barrier, MPI_Bcast of
 * the results). setup and verify communicate nothing.
 */
#include "check.h"
#include "kernel.h"
#include "probe.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

enum { OPTION_MAX_BYTES, OPTION_COUNT };

static const parkit_option context_switch_options[OPTION_COUNT] = {
    [OPTION_MAX_BYTES] = {.name = "max_bytes",
                          .type = PARKIT_OPTION_INT,
                          .default_value = "4194304",
                          .unit = "B",
                          .help = "largest working set per worker: sizes run "
                                  "0, 4 KiB, 16 KiB, ... up to this",
                          .min = 0,
                          .max = INT64_C(1) << 30},
};

enum {
  SMALLEST_SET = 4096, /* the first working set after 0 bytes */
  SET_FACTOR = 4,
  LINE_BYTES = 64,
  BATCH_ROUND_TRIPS = 16,
  MIN_BATCHES = 5,
  MAX_BATCHES = 400,
  STOP_TOKEN = -1, /* tells the partner to leave */
};

/* Wall-clock seconds each way and each size may take, timed batches. */
static const double SIZE_BUDGET_SECONDS = 0.06;

enum { RESULT_OVERHEAD, RESULT_THREAD, RESULT_PROCESS, RESULT_COUNT };

typedef struct context_switch_state {
  parkit_context context;
  int sizes;
  int64_t *set_bytes; /* [sizes] */
  double *results;    /* [RESULT_COUNT][sizes], microseconds */
  int64_t cpu;        /* the CPU both workers ran on */
  int64_t failures;   /* wrong tokens, too few switches, unclean children */
  char failure[160];  /* the first failure */
  double handoffs;    /* made in the last sweep */
  uint64_t *sets[2];  /* the two workers' working sets, max_bytes each */
  double *samples;    /* [RESULT_COUNT][MAX_BATCHES], seconds */
} context_switch_state;

static double *result(const context_switch_state *state, int which) {
  return state->results + (size_t)which * (size_t)state->sizes;
}

static void note_failure(context_switch_state *state, const char *what,
                         int64_t bytes) {
  if (state->failures++ == 0)
    snprintf(state->failure, sizeof state->failure, "%s (working set %lld B)",
             what, (long long)bytes);
}

/* 0, 4 KiB, 16 KiB, ... below max, then max. Returns the count; fills
 * `bytes` when not NULL. */
static int working_sets(int64_t max, int64_t *bytes) {
  int count = 0;
  if (bytes)
    bytes[count] = 0;
  ++count;
  if (max == 0)
    return count;
  for (int64_t size = SMALLEST_SET; size < max; size *= SET_FACTOR) {
    if (bytes)
      bytes[count] = size;
    ++count;
  }
  if (bytes)
    bytes[count] = max;
  return count + 1;
}

/* Reads one word per cache line of the set (volatile: every read
 * happens). */
static void touch(const uint64_t *set, int64_t bytes) {
  const volatile uint64_t *words = set;
  for (int64_t offset = 0; offset < bytes; offset += LINE_BYTES)
    (void)words[offset / 8];
}

/* ---- the token's way between two workers -------------------------------- */

/* One worker's ends: it reads the token from `in` and writes it to `out`. */
typedef struct worker_ends {
  int in, out;
  const uint64_t *set;
  int64_t bytes;
} worker_ends;

static bool write_token(int descriptor, int64_t token) {
  ssize_t done;
  do
    done = write(descriptor, &token, sizeof token);
  while (done < 0 && errno == EINTR);
  return done == (ssize_t)sizeof token;
}

static bool read_token(int descriptor, int64_t *token) {
  ssize_t done;
  do
    done = read(descriptor, token, sizeof *token);
  while (done < 0 && errno == EINTR);
  return done == (ssize_t)sizeof *token;
}

/* The partner: receives the token, touches its set, passes token + 1 on,
 * until STOP_TOKEN. Returns 0 when every token was the one expected. Uses
 * only read, write and memory, so a forked child may run it. */
static int echo_tokens(const worker_ends *ends) {
  int64_t expected = 0;
  for (;;) {
    int64_t token = 0;
    if (!read_token(ends->in, &token))
      return 1;
    if (token == STOP_TOKEN)
      return 0;
    if (token != expected)
      return 1;
    touch(ends->set, ends->bytes);
    if (!write_token(ends->out, token + 1))
      return 1;
    expected = token + 2;
  }
}

static void *partner_thread(void *opaque) {
  static int failed = 1, fine = 0;
  return echo_tokens(opaque) == 0 ? &fine : &failed;
}

/* This thread's context switches so far (voluntary + involuntary). */
static int64_t switches_so_far(void) {
  struct rusage usage;
  if (getrusage(RUSAGE_THREAD, &usage) != 0)
    return -1;
  return (int64_t)usage.ru_nvcsw + (int64_t)usage.ru_nivcsw;
}

/* The measuring worker: `count` hand-offs there and back, starting at
 * *token. False when a token came back wrong or a pipe failed. */
static bool round_trips(const worker_ends *ends, int64_t *token, int count) {
  for (int trip = 0; trip < count; ++trip) {
    int64_t back = 0;
    if (!write_token(ends->out, *token) || !read_token(ends->in, &back) ||
        back != *token + 1)
      return false;
    touch(ends->set, ends->bytes);
    *token += 2;
  }
  return true;
}

/* A batch of hand-offs to oneself: write the token into one's own pipe,
 * read it back, touch the set. False when a token went wrong. */
static bool own_handoffs(const worker_ends *own, int count) {
  for (int trip = 0; trip < count; ++trip) {
    int64_t back = -2;
    if (!write_token(own->out, trip) || !read_token(own->in, &back) ||
        back != trip)
      return false;
    touch(own->set, own->bytes);
  }
  return true;
}

/* ---- the partners ------------------------------------------------------- */

typedef struct pipes {
  int there[2], back[2]; /* [0] read end, [1] write end */
} pipes;

static void close_end(int *end) {
  if (*end >= 0)
    close(*end);
  *end = -1;
}

static void close_pipes(pipes *p) {
  int *ends[] = {&p->there[0], &p->there[1], &p->back[0], &p->back[1]};
  for (int i = 0; i < 4; ++i)
    close_end(ends[i]);
}

/* The measuring worker's ends of a pair of pipes, and the partner's. */
static worker_ends my_ends(const pipes *p, const uint64_t *set, int64_t bytes) {
  return (worker_ends){
      .in = p->back[0], .out = p->there[1], .set = set, .bytes = bytes};
}

static worker_ends partner_ends(const pipes *p, const uint64_t *set,
                                int64_t bytes) {
  return (worker_ends){
      .in = p->there[0], .out = p->back[1], .set = set, .bytes = bytes};
}

/* One size's three ways: the own pipe, the thread's and the process's. */
typedef struct partners {
  pipes own, thread_pipes, process_pipes;
  pthread_t thread;
  bool thread_started;
  pid_t process;
  worker_ends partner; /* the thread's ends (it reads them) */
} partners;

/* Starts the child first, so that it holds none of the thread's pipes. */
static int start_partners(context_switch_state *state, int64_t bytes,
                          partners *ways) {
  pipes *own = &ways->own, *thread = &ways->thread_pipes,
        *process = &ways->process_pipes;
  PARKIT_CHECK(pipe(own->there) == 0 && pipe(process->there) == 0 &&
                   pipe(process->back) == 0,
               "pipe failed: %s", strerror(errno));
  worker_ends child_ends = partner_ends(process, state->sets[1], bytes);
  ways->process = fork();
  if (ways->process == 0) {
    /* Only its own ends; writes its set once, so that its pages are its
     * own, not copies shared with the parent. */
    close(process->there[1]);
    close(process->back[0]);
    close(own->there[0]);
    close(own->there[1]);
    volatile uint64_t *words = state->sets[1];
    for (int64_t offset = 0; offset < bytes; offset += LINE_BYTES)
      words[offset / 8] += 1;
    _exit(echo_tokens(&child_ends));
  }
  PARKIT_CHECK(ways->process > 0, "fork failed: %s", strerror(errno));
  close_end(&process->there[0]);
  close_end(&process->back[1]);
  PARKIT_CHECK(pipe(thread->there) == 0 && pipe(thread->back) == 0,
               "pipe failed: %s", strerror(errno));
  ways->partner = partner_ends(thread, state->sets[1], bytes);
  int code =
      pthread_create(&ways->thread, NULL, partner_thread, &ways->partner);
  PARKIT_CHECK(code == 0, "pthread_create failed: %s", strerror(code));
  ways->thread_started = true;
  return 0;
}

/* Stops both partners (STOP_TOKEN, or end of file when it cannot be
 * written); notes a failure when either saw a wrong token. */
static void stop_partners(context_switch_state *state, int64_t bytes,
                          partners *ways) {
  if (ways->thread_started) {
    (void)write_token(ways->thread_pipes.there[1], STOP_TOKEN);
    close_end(&ways->thread_pipes.there[1]);
    void *status = NULL;
    pthread_join(ways->thread, &status);
    if (status == NULL || *(int *)status != 0)
      note_failure(state, "a token between threads came back wrong", bytes);
  }
  if (ways->process > 0) {
    (void)write_token(ways->process_pipes.there[1], STOP_TOKEN);
    close_end(&ways->process_pipes.there[1]);
    int status = 0;
    while (waitpid(ways->process, &status, 0) < 0 && errno == EINTR)
      continue;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      note_failure(state, "a token between processes came back wrong", bytes);
  }
  close_pipes(&ways->own);
  close_pipes(&ways->thread_pipes);
  close_pipes(&ways->process_pipes);
}

/* ---- one working-set size ----------------------------------------------- */

/* One batch of each way in turn; seconds per round trip into the
 * samples' row `batch`. False when a token went wrong. */
static bool one_turn(context_switch_state *state, const worker_ends ends[3],
                     int64_t tokens[3], int batch) {
  for (int way = 0; way < RESULT_COUNT; ++way) {
    double started = parkit_probe_seconds();
    bool fine = way == RESULT_OVERHEAD
                    ? own_handoffs(&ends[way], BATCH_ROUND_TRIPS)
                    : round_trips(&ends[way], &tokens[way], BATCH_ROUND_TRIPS);
    if (!fine)
      return false;
    if (batch >= 0)
      state->samples[way * MAX_BATCHES + batch] =
          (parkit_probe_seconds() - started) / BATCH_ROUND_TRIPS;
  }
  return true;
}

/* The three ways at one working-set size, with both partners listening:
 * the median seconds of a hand-off without a switch and of a round trip
 * with each partner. Checks that the measuring worker switched out once
 * per round trip with a partner at least. */
static int measure_ways(context_switch_state *state, const partners *ways,
                        int64_t bytes, double medians[RESULT_COUNT]) {
  const worker_ends ends[RESULT_COUNT] = {
      [RESULT_OVERHEAD] = {.in = ways->own.there[0],
                           .out = ways->own.there[1],
                           .set = state->sets[0],
                           .bytes = bytes},
      [RESULT_THREAD] = my_ends(&ways->thread_pipes, state->sets[0], bytes),
      [RESULT_PROCESS] = my_ends(&ways->process_pipes, state->sets[0], bytes),
  };
  int64_t tokens[RESULT_COUNT] = {0, 0, 0};
  PARKIT_CHECK(one_turn(state, ends, tokens, -1),
               "a token did not come back (working set %lld B)",
               (long long)bytes);
  int64_t switches = switches_so_far();
  double deadline = parkit_probe_seconds() + SIZE_BUDGET_SECONDS;
  int batches = 0;
  while (batches < MAX_BATCHES &&
         (batches < MIN_BATCHES || parkit_probe_seconds() < deadline)) {
    PARKIT_CHECK(one_turn(state, ends, tokens, batches),
                 "a token did not come back (working set %lld B)",
                 (long long)bytes);
    ++batches;
  }
  int64_t switched = switches_so_far() - switches;
  if (switches >= 0 && switched < 2 * (int64_t)batches * BATCH_ROUND_TRIPS)
    note_failure(state, "the worker was not switched out once per round trip",
                 bytes);
  for (int way = 0; way < RESULT_COUNT; ++way)
    medians[way] =
        parkit_probe_median(state->samples + way * MAX_BATCHES, batches);
  /* Two hand-offs per round trip with a partner. */
  state->handoffs += (double)(tokens[RESULT_THREAD] + tokens[RESULT_PROCESS]);
  return 0;
}

static int measure_size(context_switch_state *state, int size) {
  const int64_t bytes = state->set_bytes[size];
  partners ways = {.own = {{-1, -1}, {-1, -1}},
                   .thread_pipes = {{-1, -1}, {-1, -1}},
                   .process_pipes = {{-1, -1}, {-1, -1}},
                   .process = -1};
  double medians[RESULT_COUNT] = {0};
  int measured = start_partners(state, bytes, &ways);
  if (measured == 0)
    measured = measure_ways(state, &ways, bytes, medians);
  stop_partners(state, bytes, &ways);
  if (measured != 0)
    return -1;
  /* Per switch: half a round trip less one hand-off without a switch. */
  double overhead = medians[RESULT_OVERHEAD];
  result(state, RESULT_OVERHEAD)[size] = 1e6 * overhead;
  result(state, RESULT_THREAD)[size] =
      1e6 * (medians[RESULT_THREAD] / 2 - overhead);
  result(state, RESULT_PROCESS)[size] =
      1e6 * (medians[RESULT_PROCESS] / 2 - overhead);
  return 0;
}

/* ---- the sweep --------------------------------------------------------------
 */

/* Narrows this thread to its first allowed CPU; `saved` gets the old set. */
static int pin_to_one_cpu(cpu_set_t *saved, int64_t *cpu) {
  PARKIT_CHECK(sched_getaffinity(0, sizeof *saved, saved) == 0,
               "sched_getaffinity failed: %s", strerror(errno));
  int first = -1;
  for (int c = 0; c < CPU_SETSIZE && first < 0; ++c)
    if (CPU_ISSET(c, saved))
      first = c;
  PARKIT_CHECK(first >= 0, "this thread may run on no CPU");
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  PARKIT_CHECK(sched_setaffinity(0, sizeof one, &one) == 0,
               "sched_setaffinity to CPU %d failed: %s", first,
               strerror(errno));
  *cpu = first;
  return 0;
}

static int measure_sizes(context_switch_state *state) {
  for (int size = 0; size < state->sizes; ++size)
    PARKIT_CALL(measure_size(state, size));
  return 0;
}

static int measure_sweep(context_switch_state *state) {
  state->failures = 0;
  state->failure[0] = '\0';
  state->handoffs = 0;
  cpu_set_t saved;
  PARKIT_CALL(pin_to_one_cpu(&saved, &state->cpu));
  int measured = measure_sizes(state);
  PARKIT_CHECK(sched_setaffinity(0, sizeof saved, &saved) == 0,
               "cannot restore this thread's CPU set: %s", strerror(errno));
  return measured;
}

static int context_switch_run(void *opaque) {
  context_switch_state *state = opaque;
  const parkit_context *context = &state->context;
  if (context->rank == 0)
    PARKIT_CALL(measure_sweep(state));
  PARKIT_MPI_CALL(parkit_probe_quiet_barrier(context->comm));
  PARKIT_MPI_CALL(MPI_Bcast(state->results, RESULT_COUNT * state->sizes,
                            MPI_DOUBLE, 0, context->comm));
  int64_t facts[2] = {state->cpu, state->failures};
  PARKIT_MPI_CALL(MPI_Bcast(facts, 2, MPI_INT64_T, 0, context->comm));
  state->cpu = facts[0];
  state->failures = facts[1];
  PARKIT_MPI_CALL(MPI_Bcast(state->failure, sizeof state->failure, MPI_CHAR, 0,
                            context->comm));
  PARKIT_MPI_CALL(MPI_Bcast(&state->handoffs, 1, MPI_DOUBLE, 0, context->comm));
  return 0;
}

/* ---- setup and teardown -------------------------------------------------- */

static void context_switch_teardown(void *opaque) {
  context_switch_state *state = opaque;
  if (state == NULL)
    return;
  free(state->set_bytes);
  free(state->results);
  free(state->sets[0]);
  free(state->sets[1]);
  free(state->samples);
  free(state);
}

static int setup_state(context_switch_state *state,
                       const parkit_context *context,
                       const parkit_value *options) {
  state->context = *context;
  int64_t max = options[OPTION_MAX_BYTES].integer;
  state->sizes = working_sets(max, NULL);
  PARKIT_ALLOCATE(state->set_bytes, state->sizes);
  PARKIT_ALLOCATE(state->results, RESULT_COUNT * state->sizes);
  working_sets(max, state->set_bytes);
  memset(state->results, 0,
         sizeof(double) * RESULT_COUNT * (size_t)state->sizes);
  if (context->rank != 0)
    return 0;
  int64_t words = max / 8 + 1;
  PARKIT_ALLOCATE(state->samples, RESULT_COUNT * MAX_BATCHES);
  for (int worker = 0; worker < 2; ++worker) {
    PARKIT_ALLOCATE(state->sets[worker], words);
    for (int64_t i = 0; i < words; ++i)
      state->sets[worker][i] = (uint64_t)i * 2654435761u + (uint64_t)worker;
  }
  return 0;
}

static int context_switch_setup(const parkit_context *context,
                                const parkit_value *options, void **opaque) {
  *opaque = NULL;
  context_switch_state *state = NULL;
  PARKIT_ALLOCATE(state, 1);
  memset(state, 0, sizeof *state);
  if (setup_state(state, context, options) != 0) {
    context_switch_teardown(state);
    return -1;
  }
  *opaque = state;
  return 0;
}

static double context_switch_memory_bytes(const parkit_context *context,
                                          const parkit_value *options) {
  double max = (double)options[OPTION_MAX_BYTES].integer;
  int sizes = working_sets(options[OPTION_MAX_BYTES].integer, NULL);
  return sizeof(context_switch_state) +
         (double)sizes * (RESULT_COUNT + 1) * sizeof(double) +
         (context->rank == 0
              ? 2.0 * (max + 8) + RESULT_COUNT * MAX_BATCHES * 8.0
              : 0.0);
}

/* ---- verify -------------------------------------------------------------- */

static int context_switch_verify(void *opaque, parkit_outputs *outputs,
                                 parkit_verdict *verdict) {
  const context_switch_state *state = opaque;
  bool finite = true;
  for (int i = 0; i < RESULT_COUNT * state->sizes; ++i)
    finite = finite && isfinite(state->results[i]);
  verdict->passed = finite && state->failures == 0;
  int last = state->sizes - 1;
  if (state->failures != 0)
    snprintf(verdict->message, sizeof verdict->message,
             "%lld hand-off check(s) failed; first: %s",
             (long long)state->failures, state->failure);
  else if (!finite)
    snprintf(verdict->message, sizeof verdict->message,
             "a measured time is not finite");
  else
    snprintf(verdict->message, sizeof verdict->message,
             "every token came back on CPU %lld; per switch with no working "
             "set: threads %.2f us, processes %.2f us; with %lld B: %.2f, "
             "%.2f us",
             (long long)state->cpu, result(state, RESULT_THREAD)[0],
             result(state, RESULT_PROCESS)[0],
             (long long)state->set_bytes[last],
             result(state, RESULT_THREAD)[last],
             result(state, RESULT_PROCESS)[last]);
  size_t sizes = (size_t)state->sizes;
  PARKIT_CALL(parkit_output_integers(outputs, "working_set_bytes",
                                     state->set_bytes, sizes));
  PARKIT_CALL(parkit_output_reals(outputs, "handoff_overhead",
                                  result(state, RESULT_OVERHEAD), sizes));
  PARKIT_CALL(parkit_output_reals(outputs, "thread_switch",
                                  result(state, RESULT_THREAD), sizes));
  PARKIT_CALL(parkit_output_reals(outputs, "process_switch",
                                  result(state, RESULT_PROCESS), sizes));
  PARKIT_CALL(parkit_output_integer(outputs, "cpu", state->cpu));
  return 0;
}

static parkit_work context_switch_work(const void *opaque) {
  const context_switch_state *state = opaque;
  return (parkit_work){.items = state->handoffs,
                       .item_name = "switches",
                       .rate_basis = PARKIT_RATE_ITEMS};
}

static const parkit_output_spec context_switch_outputs[] = {
    {.name = "working_set_bytes",
     .unit = "B",
     .description = "each worker's working set, read between hand-offs",
     .shape = "sizes"},
    {.name = "handoff_overhead",
     .unit = "us",
     .description = "a hand-off without a switch: write and read one's own "
                    "pipe, read the working set",
     .shape = "sizes",
     .agreement = PARKIT_OUTPUT_MEASURED},
    {.name = "thread_switch",
     .unit = "us",
     .description = "one switch between two threads on one CPU (half a "
                    "round trip less handoff_overhead)",
     .shape = "sizes",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .headline = PARKIT_HEADLINE_FIRST},
    {.name = "process_switch",
     .unit = "us",
     .description = "one switch between two processes on one CPU (half a "
                    "round trip less handoff_overhead)",
     .shape = "sizes",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .headline = PARKIT_HEADLINE_FIRST},
    {.name = "cpu",
     .unit = "1",
     .description = "the CPU both workers were pinned to",
     .agreement = PARKIT_OUTPUT_DIFFERS},
};

static const parkit_test_config context_switch_tests[] = {
    {.arguments = "--max_bytes 65536"},
};

static const parkit_rate_unit_spec context_switch_rate_units[] = {
    {.unit = "Mswitches/s"}};

const parkit_kernel parkit_kernel_context_switch = {
    .name = "context_switch",
    .summary = "probe: one context switch between two threads and between "
               "two processes on one CPU, with a working set (lat_ctx)",
    .kind = PARKIT_KERNEL_PROBE,
    .options = context_switch_options,
    .option_count = OPTION_COUNT,
    .outputs = context_switch_outputs,
    .output_count = PARKIT_COUNT(context_switch_outputs),
    .rate_units = context_switch_rate_units,
    .rate_unit_count = PARKIT_COUNT(context_switch_rate_units),
    .tests = context_switch_tests,
    .test_count = PARKIT_COUNT(context_switch_tests),
    .memcheck_arguments = "--max_bytes 4096",
    .memory_bytes = context_switch_memory_bytes,
    .setup = context_switch_setup,
    .run = context_switch_run,
    .verify = context_switch_verify,
    .teardown = context_switch_teardown,
    .work = context_switch_work,
};
