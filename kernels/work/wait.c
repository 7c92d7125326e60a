/*
 * wait: latency-bound work. Each work item is a request that a responder
 * answers after a set latency, over a socket, followed by a set amount of
 * CPU work on the answer: the shape of a program that reads from a disk or
 * a network and computes on what it read. It answers "while one worker
 * waits, others use the CPU": with more workers than cores (threads or
 * ranks, launched oversubscribed), the waits overlap.
 *
 * Parameters: --items N work items in all (split over every rank and
 * thread), --latency L microseconds from a request to its answer,
 * --compute C Philox4x32-10 blocks of CPU work per item.
 * Work per repetition: N items ("items"); no flops or bytes counted.
 * With W workers, each item costs L of waiting plus its CPU time c, so
 * throughput is W / (L + c) items/s until the cores saturate at about
 * cores / c; latency_bound_rate records W / L, the bound without CPU work.
 *
 * The responders stand for the disk or the server, which serves every
 * waiting request at once: worker t of a rank (its OpenMP thread t) has a
 * responder of its own, a POSIX thread (not an OpenMP thread; it never
 * calls MPI) started in setup and stopped in teardown, and a Unix
 * sequenced-packet socket pair between them. A worker sends the item's
 * index and blocks in recv(); its responder, blocked in recv() on the
 * other end, sleeps the latency (nanosleep: the kernel's timer does the
 * waiting, nobody reads a clock) and sends back the index and the item's
 * payload: the first two words of Philox4x32-10 at counter (index, 0, 0,
 * 0) under the responder's key. With --latency 0 it answers at once. So
 * threads and ranks wait alike: a responder per worker, whatever the
 * split. A worker has one request in flight; its recv() gives up after
 * the latency plus RECEIVE_TIMEOUT_SECONDS, so a lost answer is an error,
 * not a hang. A responder leaves when its worker's end is closed.
 *
 * CPU work on an answer: C rounds of Philox4x32-10 under the workers' key,
 * each taking the previous output as its counter, starting from the
 * payload; the last output's first two words, as a 64-bit integer, are the
 * item's result. checksum = the sum of every item's result modulo 2^64: the
 * same bits for every split, since items are numbered globally and integer
 * sums do not depend on their order.
 *
 * Work split: the items over the ranks in balanced contiguous parts
 * (partition.h), each rank's part over its threads the same way.
 * Verifies: every item was answered, each answer carried its own index and
 * the payload the worker expects for it (the worker recomputes it).
 * --perturb (test only) makes the responder spoil one answer.
 *
 * Collective calls on ctx->comm: run (MPI_Allreduce of the counts and the
 * checksum). setup, verify and teardown communicate nothing.
 */
#include "check.h"
#include "kernel.h"
#include "partition.h"
#include "philox.h"

#include <errno.h>
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
  OPTION_ITEMS,
  OPTION_LATENCY,
  OPTION_COMPUTE,
  OPTION_PERTURB,
  OPTION_COUNT
};

enum {
  MAX_LATENCY_US = 10000000, /* 10 s */
  RECEIVE_TIMEOUT_SECONDS = 30,
  /* Descriptors a rank keeps free for MPI, HDF5 and the result file. */
  RESERVED_DESCRIPTORS = 64,
  DESCRIPTORS_PER_WORKER = 2, /* the two ends of its socket pair */
};

static const parkit_option wait_options[OPTION_COUNT] = {
    [OPTION_ITEMS] = {.name = "items",
                      .type = PARKIT_OPTION_INT,
                      .default_value = "512",
                      .unit = "items",
                      .help = "work items in all, split over every rank and "
                              "thread",
                      .min = 1,
                      .max = INT64_C(1) << 40},
    [OPTION_LATENCY] = {.name = "latency",
                        .type = PARKIT_OPTION_INT,
                        .default_value = "1000",
                        .unit = "us",
                        .help = "time from a request to its answer (0: at "
                                "once)",
                        .min = 0,
                        .max = MAX_LATENCY_US},
    [OPTION_COMPUTE] = {.name = "compute",
                        .type = PARKIT_OPTION_INT,
                        .default_value = "1000",
                        .unit = "blocks",
                        .help = "CPU work per item: Philox4x32-10 blocks "
                                "computed on the answer",
                        .min = 0,
                        .max = INT64_C(1) << 32},
    [OPTION_PERTURB] = {.name = "perturb",
                        .type = PARKIT_OPTION_FLAG,
                        .unit = "1",
                        .help = "test only: the responder spoils one answer "
                                "so that verification must fail"},
};

/* Keys of the two Philox streams: the responder's payloads and the
 * workers' CPU work. Fixed, so that a run's checksum is its problem's. */
static const uint32_t responder_key[2] = {UINT32_C(0x7761697f),
                                          UINT32_C(0x72657370)};
static const uint32_t compute_key[2] = {UINT32_C(0x636f6d70),
                                        UINT32_C(0x75746521)};

/* What travels over a channel. */
typedef struct request {
  int64_t item;
} request;

typedef struct answer {
  int64_t item;
  uint64_t payload;
} answer;

/* A worker's tally of one repetition. */
typedef struct tally {
  int64_t answered, wrong;
  uint64_t checksum;
  int error; /* errno of a failed send or recv; 0 none */
} tally;

struct wait_state;

/* One worker's connection to its responder. */
typedef struct channel {
  int worker_end;    /* the worker sends and receives here */
  int responder_end; /* the responder's side of the pair */
  pthread_t responder;
  bool responder_started;
  atomic_int responder_error; /* errno of the responder's failure; 0 */
  const struct wait_state *state;
} channel;

typedef struct wait_state {
  parkit_context context;
  int64_t items, latency_us, compute;
  int64_t perturbed_item; /* -1: none */
  parkit_range mine;      /* this rank's items */
  int workers;            /* this rank's: ctx->threads */
  channel *channels;      /* [workers] */
  tally *tallies;         /* [workers] */
  /* Over all ranks, after run(). */
  int64_t answered, wrong;
  uint64_t checksum;
} wait_state;

/* ---- payloads and CPU work ---------------------------------------------- */

static uint64_t payload_of(int64_t item) {
  const uint32_t counter[4] = {(uint32_t)item, (uint32_t)((uint64_t)item >> 32),
                               0, 0};
  uint32_t words[4];
  philox4x32_10(counter, responder_key, words);
  return (uint64_t)words[0] | (uint64_t)words[1] << 32;
}

static uint64_t compute_on(uint64_t payload, int64_t blocks) {
  uint32_t words[4] = {(uint32_t)payload, (uint32_t)(payload >> 32), 0, 0};
  for (int64_t block = 0; block < blocks; ++block) {
    uint32_t counter[4] = {words[0], words[1], words[2], words[3]};
    philox4x32_10(counter, compute_key, words);
  }
  return (uint64_t)words[0] | (uint64_t)words[1] << 32;
}

/* ---- the responders --------------------------------------------------------
 */

static void sleep_microseconds(int64_t microseconds) {
  struct timespec left = {.tv_sec = microseconds / 1000000,
                          .tv_nsec = microseconds % 1000000 * 1000};
  while (nanosleep(&left, &left) != 0 && errno == EINTR)
    continue;
}

/* A responder's life: answer each request after the latency, until the
 * worker's end is closed (recv returns 0). */
static void *responder_main(void *opaque) {
  channel *line = opaque;
  const wait_state *state = line->state;
  for (;;) {
    request asked;
    ssize_t got = recv(line->responder_end, &asked, sizeof asked, 0);
    if (got < 0 && errno == EINTR)
      continue;
    if (got == 0)
      return NULL;
    if (got != (ssize_t)sizeof asked) {
      atomic_store(&line->responder_error, got < 0 ? errno : EPROTO);
      return NULL;
    }
    if (state->latency_us > 0)
      sleep_microseconds(state->latency_us);
    answer reply = {.item = asked.item, .payload = payload_of(asked.item)};
    if (reply.item == state->perturbed_item)
      reply.payload ^= 1;
    if (send(line->responder_end, &reply, sizeof reply, MSG_NOSIGNAL) !=
        (ssize_t)sizeof reply) {
      atomic_store(&line->responder_error, errno ? errno : EIO);
      return NULL;
    }
  }
}

/* ---- one worker -----------------------------------------------------------
 */

static void work_items(const wait_state *state, const channel *line,
                       parkit_range items, tally *count) {
  *count = (tally){0};
  for (int64_t item = items.begin; item < items.end; ++item) {
    request asked = {.item = item};
    if (send(line->worker_end, &asked, sizeof asked, MSG_NOSIGNAL) !=
        (ssize_t)sizeof asked) {
      count->error = errno ? errno : EIO;
      return;
    }
    answer reply;
    ssize_t got;
    do
      got = recv(line->worker_end, &reply, sizeof reply, 0);
    while (got < 0 && errno == EINTR);
    if (got != (ssize_t)sizeof reply) {
      count->error = got < 0 ? errno : EPROTO;
      return;
    }
    if (reply.item != item || reply.payload != payload_of(item)) {
      ++count->wrong;
      continue;
    }
    ++count->answered;
    count->checksum += compute_on(reply.payload, state->compute);
  }
}

static int wait_run(void *opaque) {
  wait_state *state = opaque;
  const parkit_context *context = &state->context;
  int team = 0;
  const int64_t local = state->mine.end - state->mine.begin;
#pragma omp parallel num_threads(state->workers)
  {
    int worker = omp_get_thread_num();
#pragma omp master
    team = omp_get_num_threads();
    parkit_range part =
        parkit_balanced_part(local, omp_get_num_threads(), worker);
    part.begin += state->mine.begin;
    part.end += state->mine.begin;
    work_items(state, &state->channels[worker], part, &state->tallies[worker]);
  }
  PARKIT_CHECK(team == state->workers, "OpenMP gave %d threads, not %d", team,
               state->workers);
  int64_t counts[2] = {0, 0};
  uint64_t checksum = 0;
  for (int worker = 0; worker < state->workers; ++worker) {
    const tally *count = &state->tallies[worker];
    PARKIT_CHECK(count->error == 0, "worker %d: talking to the responder: %s",
                 worker, strerror(count->error));
    counts[0] += count->answered;
    counts[1] += count->wrong;
    checksum += count->checksum;
  }
  for (int worker = 0; worker < state->workers; ++worker) {
    int failure = atomic_load(&state->channels[worker].responder_error);
    PARKIT_CHECK(failure == 0, "the responder of worker %d failed: %s", worker,
                 strerror(failure));
  }
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, counts, 2, MPI_INT64_T, MPI_SUM,
                                context->comm));
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &checksum, 1, MPI_UINT64_T,
                                MPI_SUM, context->comm));
  state->answered = counts[0];
  state->wrong = counts[1];
  state->checksum = checksum;
  return 0;
}

/* ---- setup and teardown ----------------------------------------------------
 */

static void wait_teardown(void *opaque) {
  wait_state *state = opaque;
  if (state == NULL)
    return;
  for (int worker = 0; state->channels && worker < state->workers; ++worker) {
    channel *line = &state->channels[worker];
    /* Closing the worker's end ends its responder's recv(). */
    if (line->worker_end >= 0)
      close(line->worker_end);
    if (line->responder_started)
      pthread_join(line->responder, NULL);
    if (line->responder_end >= 0)
      close(line->responder_end);
  }
  free(state->channels);
  free(state->tallies);
  free(state);
}

static int open_channel(wait_state *state, int worker) {
  channel *line = &state->channels[worker];
  int pair[2];
  PARKIT_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0,
               "socketpair failed: %s", strerror(errno));
  line->worker_end = pair[0];
  line->responder_end = pair[1];
  /* An answer later than this is lost: recv fails instead of hanging. */
  int64_t patience =
      state->latency_us + INT64_C(1000000) * RECEIVE_TIMEOUT_SECONDS;
  struct timeval timeout = {.tv_sec = patience / 1000000,
                            .tv_usec = patience % 1000000};
  PARKIT_CHECK(setsockopt(line->worker_end, SOL_SOCKET, SO_RCVTIMEO, &timeout,
                          sizeof timeout) == 0,
               "setsockopt(SO_RCVTIMEO) failed: %s", strerror(errno));
  line->state = state;
  int code = pthread_create(&line->responder, NULL, responder_main, line);
  PARKIT_CHECK(code == 0, "cannot start responder %d: %s", worker,
               strerror(code));
  line->responder_started = true;
  return 0;
}

static int setup_state(wait_state *state, const parkit_context *context,
                       const parkit_value *options) {
  state->items = options[OPTION_ITEMS].integer;
  state->latency_us = options[OPTION_LATENCY].integer;
  state->compute = options[OPTION_COMPUTE].integer;
  state->perturbed_item =
      options[OPTION_PERTURB].flag ? state->items / 2 : INT64_C(-1);
  state->mine =
      parkit_balanced_part(state->items, context->size, context->rank);
  PARKIT_ALLOCATE(state->channels, state->workers);
  PARKIT_ALLOCATE(state->tallies, state->workers);
  for (int worker = 0; worker < state->workers; ++worker) {
    state->channels[worker] = (channel){.worker_end = -1, .responder_end = -1};
    atomic_init(&state->channels[worker].responder_error, 0);
  }
  for (int worker = 0; worker < state->workers; ++worker)
    PARKIT_CALL(open_channel(state, worker));
  return 0;
}

static int wait_setup(const parkit_context *context,
                      const parkit_value *options, void **opaque) {
  *opaque = NULL;
  wait_state *state = NULL;
  PARKIT_ALLOCATE(state, 1);
  memset(state, 0, sizeof *state);
  state->context = *context;
  state->workers = context->threads;
  if (setup_state(state, context, options) != 0) {
    wait_teardown(state);
    return -1;
  }
  *opaque = state;
  return 0;
}

/* Every worker needs DESCRIPTORS_PER_WORKER open files; refuse a thread
 * count whose descriptors would not fit under RLIMIT_NOFILE. */
static int wait_validate(const parkit_context *context,
                         const parkit_value *options, char *message,
                         size_t message_size) {
  (void)options;
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return 0;
  int64_t needed =
      (int64_t)context->threads * DESCRIPTORS_PER_WORKER + RESERVED_DESCRIPTORS;
  if (needed > (int64_t)limit.rlim_cur) {
    snprintf(message, message_size,
             "--threads %d: wait needs %d open files per thread (%lld in "
             "all), more than this process may open (ulimit -n %llu); "
             "allowed: at most %lld threads",
             context->threads, DESCRIPTORS_PER_WORKER, (long long)needed,
             (unsigned long long)limit.rlim_cur,
             (long long)(((int64_t)limit.rlim_cur - RESERVED_DESCRIPTORS) /
                         DESCRIPTORS_PER_WORKER));
    return -1;
  }
  return 0;
}

static double wait_memory_bytes(const parkit_context *context,
                                const parkit_value *options) {
  (void)options;
  return sizeof(wait_state) +
         (double)context->threads * (sizeof(channel) + sizeof(tally));
}

/* ---- verify -------------------------------------------------------------- */

static int wait_verify(void *opaque, parkit_outputs *outputs,
                       parkit_verdict *verdict) {
  const wait_state *state = opaque;
  const parkit_context *context = &state->context;
  int64_t workers = (int64_t)context->size * context->threads;
  verdict->passed = state->answered == state->items && state->wrong == 0;
  if (verdict->passed)
    snprintf(verdict->message, sizeof verdict->message,
             "all %lld items answered with their own payload after %lld us "
             "each, by %lld workers",
             (long long)state->items, (long long)state->latency_us,
             (long long)workers);
  else
    snprintf(verdict->message, sizeof verdict->message,
             "%lld of %lld items answered with their own payload, %lld "
             "answers wrong",
             (long long)state->answered, (long long)state->items,
             (long long)state->wrong);
  PARKIT_CALL(parkit_output_integer(outputs, "answered", state->answered));
  PARKIT_CALL(parkit_output_integer(outputs, "wrong_answers", state->wrong));
  PARKIT_CALL(
      parkit_output_integer(outputs, "checksum", (int64_t)state->checksum));
  if (state->latency_us > 0)
    PARKIT_CALL(
        parkit_output_real(outputs, "latency_bound_rate",
                           (double)workers * 1e6 / (double)state->latency_us));
  return 0;
}

static parkit_work wait_work(const void *opaque) {
  const wait_state *state = opaque;
  return (parkit_work){.items = (double)state->items,
                       .item_name = "items",
                       .rate_basis = PARKIT_RATE_ITEMS};
}

static const parkit_output_spec wait_outputs[] = {
    {.name = "answered",
     .unit = "items",
     .description = "items answered with their own index and payload",
     .headline = PARKIT_HEADLINE_VALUE},
    {.name = "wrong_answers",
     .unit = "items",
     .description = "answers with another index or a wrong payload"},
    {.name = "checksum",
     .unit = "1",
     .description = "sum modulo 2^64 of every item's result (CPU work on "
                    "its payload), as a signed 64-bit integer"},
    {.name = "latency_bound_rate",
     .unit = "items/s",
     .description = "workers / latency: the throughput if the CPU work and "
                    "the messages took no time",
     .agreement = PARKIT_OUTPUT_DIFFERS,
     .when = "latency>0",
     .headline = PARKIT_HEADLINE_VALUE},
};

static const parkit_test_config wait_tests[] = {
    {.name = "wait", .arguments = "--items 97 --latency 200 --compute 50"},
    {.name = "wait-at-once", .arguments = "--items 61 --latency 0"},
};

static const parkit_rate_unit_spec wait_rate_units[] = {{.unit = "Mitems/s"}};

const parkit_kernel parkit_kernel_wait = {
    .name = "wait",
    .summary = "latency-bound work: each item waits for a responder's answer "
               "after --latency us, then computes on it",
    .kind = PARKIT_KERNEL_WORK,
    .options = wait_options,
    .option_count = OPTION_COUNT,
    .outputs = wait_outputs,
    .output_count = PARKIT_COUNT(wait_outputs),
    .rate_units = wait_rate_units,
    .rate_unit_count = PARKIT_COUNT(wait_rate_units),
    .tests = wait_tests,
    .test_count = PARKIT_COUNT(wait_tests),
    .memcheck_arguments = "--items 24 --latency 100 --compute 10",
    .working_set = {.option = NULL},
    .validate = wait_validate,
    .memory_bytes = wait_memory_bytes,
    .setup = wait_setup,
    .run = wait_run,
    .verify = wait_verify,
    .teardown = wait_teardown,
    .work = wait_work,
};
