/*
 * pingpong: one message of s bytes handed from one worker to another and
 * back, for s = 8 B, 8 f, 8 f^2, ... below --max-bytes, then --max-bytes
 * itself (f = --factor, 2 or 4), two ways:
 *
 *   shm  two threads of rank 0 sharing memory (T >= 2): the sender copies
 *        the message with memcpy straight into the receiver's buffer and
 *        raises a flag (C11 atomic store, release); the receiver waits for
 *        the flag (acquire), then sends the message back the same way;
 *   mpi  ranks 0 and 1 of ctx->comm (P >= 2): MPI_Send and MPI_Recv, rank 1
 *        echoing what it received.
 * Latency is half the round trip (us), bandwidth s / latency (GB/s), both
 * per size from the total time of round_trips(s) round trips after one
 * untimed round trip: many for small messages, few for large ones (about
 * TARGET_BYTES each way, within [MIN_TRIPS, MAX_TRIPS]), so a default sweep
 * takes a fraction of a second.
 *
 * Who measures: rank 0 (both ways) with rank 1 (mpi); every other rank
 * waits in a sleeping barrier. Rank 0's results are broadcast, so every
 * rank records the same outputs. Values are those of the last run()
 * (sweep). Outputs present: message_bytes always; shm_* when T >= 2; mpi_*
 * when P >= 2 (decided from ctx->threads and ctx->size only).
 *
 * Work per sweep: the messages handed over ("messages").
 * Verifies: after each size's round trips the message that came back (and
 * on rank 1 the one that arrived) equals the pattern sent, byte for byte;
 * every latency and bandwidth is finite and positive.
 *
 * Collective calls on ctx->comm: run (the sleeping barrier, MPI_Allreduce
 * of the corrupted-message count, MPI_Bcast of the results; MPI_Send and
 * MPI_Recv between ranks 0 and 1). setup and verify communicate nothing.
 */
#include "check.h"
#include "kernel.h"
#include "probe.h"

#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPTION_MAX_BYTES, OPTION_FACTOR, OPTION_COUNT };

static const parkit_option pingpong_options[OPTION_COUNT] = {
    [OPTION_MAX_BYTES] = {.name = "max-bytes",
                          .type = PARKIT_OPTION_INT,
                          .default_value = "16777216",
                          .unit = "B",
                          .help = "largest message: sizes run from 8 B up to "
                                  "this",
                          .min = 8,
                          .max = INT64_C(1) << 30},
    [OPTION_FACTOR] = {.name = "factor",
                       .type = PARKIT_OPTION_CHOICE,
                       .default_value = "4",
                       .unit = "1",
                       .help = "ratio of one message size to the next",
                       .choices = "2|4"},
};

enum {
  SMALLEST_MESSAGE = 8,    /* bytes */
  TARGET_BYTES = 64 << 20, /* moved per size and direction, about */
  MIN_TRIPS = 4,
  MAX_TRIPS = 10000,
  SPINS_BEFORE_YIELD = 1 << 16, /* then the waiter yields its core */
  MESSAGE_TAG = 7,
};

/* Results: one array of `sizes` values each. */
enum {
  SHM_LATENCY,
  SHM_BANDWIDTH,
  MPI_LATENCY,
  MPI_BANDWIDTH,
  RESULT_COUNT,
};

typedef struct pingpong_state {
  /* The two flags of the shared-memory handshake, each on its own cache
   * line: the number of the last message handed over. */
  alignas(64) atomic_llong to_thread_1;
  alignas(64) atomic_llong to_thread_0;
  alignas(64) parkit_context context;
  bool shm, mpi; /* which ways this launch measures */
  int sizes;
  int64_t *message_bytes; /* [sizes] */
  double *results;        /* [RESULT_COUNT][sizes] */
  int64_t corrupted;      /* messages that arrived wrong in the last sweep */
  double messages;        /* handed over per sweep */
  unsigned char *pattern; /* what is sent (rank 0; rank 1 to compare) */
  unsigned char *echo;    /* what comes back to rank 0 / thread 0 */
  unsigned char *inbox;   /* thread 1's buffer (rank 0), rank 1's buffer */
} pingpong_state;

static double *result(const pingpong_state *state, int which) {
  return state->results + (size_t)which * (size_t)state->sizes;
}

static int64_t round_trips(int64_t bytes) {
  int64_t trips = TARGET_BYTES / bytes;
  return trips < MIN_TRIPS ? MIN_TRIPS : trips > MAX_TRIPS ? MAX_TRIPS : trips;
}

/* The message sizes: 8, 8 f, ... below max, then max. Returns the count;
 * fills `bytes` when not NULL. */
static int message_sizes(int64_t max, int64_t factor, int64_t *bytes) {
  int count = 0;
  for (int64_t size = SMALLEST_MESSAGE; size < max; size *= factor) {
    if (bytes)
      bytes[count] = size;
    ++count;
  }
  if (bytes)
    bytes[count] = max;
  return count + 1;
}

/* Byte i of the message of `bytes` bytes: differs between sizes, so a
 * message left over from another size does not pass. */
static void fill_pattern(unsigned char *message, int64_t bytes) {
  for (int64_t i = 0; i < bytes; ++i)
    message[i] = (unsigned char)(i * 131 + bytes * 7 + 1);
}

/* ---- shared memory: two threads of rank 0 ------------------------------- */

static void wait_for(atomic_llong *flag, long long message) {
  long spins = 0;
  while (atomic_load_explicit(flag, memory_order_acquire) < message)
    if (++spins > SPINS_BEFORE_YIELD)
      sched_yield();
}

/* Thread 0: sends, waits for the echo. Returns the seconds of the timed
 * round trips (message 0 is the untimed one). */
static double shm_thread_0(pingpong_state *state, int64_t bytes,
                           int64_t trips) {
  double started = 0.0;
  for (long long message = 1; message <= trips + 1; ++message) {
    if (message == 2)
      started = parkit_probe_seconds();
    memcpy(state->inbox, state->pattern, (size_t)bytes);
    atomic_store_explicit(&state->to_thread_1, message, memory_order_release);
    wait_for(&state->to_thread_0, message);
  }
  return parkit_probe_seconds() - started;
}

/* Thread 1: receives, sends the message back. */
static void shm_thread_1(pingpong_state *state, int64_t bytes, int64_t trips) {
  for (long long message = 1; message <= trips + 1; ++message) {
    wait_for(&state->to_thread_1, message);
    memcpy(state->echo, state->inbox, (size_t)bytes);
    atomic_store_explicit(&state->to_thread_0, message, memory_order_release);
  }
}

/* Rank 0: one size between two threads; false when the team was not two. */
static bool shm_size(pingpong_state *state, int64_t bytes, int64_t trips,
                     double *seconds) {
  atomic_store(&state->to_thread_1, 0);
  atomic_store(&state->to_thread_0, 0);
  bool paired = true;
#pragma omp parallel num_threads(2)
  {
    if (omp_get_num_threads() != 2) {
#pragma omp master
      paired = false;
    } else if (omp_get_thread_num() == 0) {
      *seconds = shm_thread_0(state, bytes, trips);
    } else {
      shm_thread_1(state, bytes, trips);
    }
  }
  return paired;
}

static int shm_sweep(pingpong_state *state) {
  for (int size = 0; size < state->sizes; ++size) {
    int64_t bytes = state->message_bytes[size], trips = round_trips(bytes);
    fill_pattern(state->pattern, bytes);
    memset(state->echo, 0, (size_t)bytes);
    memset(state->inbox, 0, (size_t)bytes);
    double seconds = 0.0;
    PARKIT_CHECK(shm_size(state, bytes, trips, &seconds),
                 "OpenMP gave no team of two threads");
    double latency = seconds / (2.0 * (double)trips);
    result(state, SHM_LATENCY)[size] = 1e6 * latency;
    result(state, SHM_BANDWIDTH)[size] = 1e-9 * (double)bytes / latency;
    state->corrupted += memcmp(state->echo, state->pattern, (size_t)bytes) != 0;
    state->corrupted +=
        memcmp(state->inbox, state->pattern, (size_t)bytes) != 0;
  }
  return 0;
}

/* ---- MPI: ranks 0 and 1 -------------------------------------------------- */

/* Rank 0: returns in *seconds the time of the timed round trips. */
static int mpi_rank_0(pingpong_state *state, int64_t bytes, int64_t trips,
                      double *seconds) {
  MPI_Comm comm = state->context.comm;
  double started = 0.0;
  for (int64_t trip = 0; trip <= trips; ++trip) {
    if (trip == 1)
      started = parkit_probe_seconds();
    PARKIT_MPI_CALL(
        MPI_Send(state->pattern, (int)bytes, MPI_BYTE, 1, MESSAGE_TAG, comm));
    PARKIT_MPI_CALL(MPI_Recv(state->echo, (int)bytes, MPI_BYTE, 1, MESSAGE_TAG,
                             comm, MPI_STATUS_IGNORE));
  }
  *seconds = parkit_probe_seconds() - started;
  return 0;
}

static int mpi_rank_1(pingpong_state *state, int64_t bytes, int64_t trips) {
  MPI_Comm comm = state->context.comm;
  for (int64_t trip = 0; trip <= trips; ++trip) {
    PARKIT_MPI_CALL(MPI_Recv(state->inbox, (int)bytes, MPI_BYTE, 0, MESSAGE_TAG,
                             comm, MPI_STATUS_IGNORE));
    PARKIT_MPI_CALL(
        MPI_Send(state->inbox, (int)bytes, MPI_BYTE, 0, MESSAGE_TAG, comm));
  }
  return 0;
}

/* Ranks 0 and 1 only. */
static int mpi_sweep(pingpong_state *state) {
  int rank = state->context.rank;
  for (int size = 0; size < state->sizes; ++size) {
    int64_t bytes = state->message_bytes[size], trips = round_trips(bytes);
    fill_pattern(state->pattern, bytes);
    unsigned char *arrived = rank == 0 ? state->echo : state->inbox;
    memset(arrived, 0, (size_t)bytes);
    if (rank == 0) {
      double seconds = 0.0;
      PARKIT_CALL(mpi_rank_0(state, bytes, trips, &seconds));
      double latency = seconds / (2.0 * (double)trips);
      result(state, MPI_LATENCY)[size] = 1e6 * latency;
      result(state, MPI_BANDWIDTH)[size] = 1e-9 * (double)bytes / latency;
    } else {
      PARKIT_CALL(mpi_rank_1(state, bytes, trips));
    }
    state->corrupted += memcmp(arrived, state->pattern, (size_t)bytes) != 0;
  }
  return 0;
}

static int pingpong_run(void *opaque) {
  pingpong_state *state = opaque;
  const parkit_context *context = &state->context;
  state->corrupted = 0;
  if (state->shm && context->rank == 0)
    PARKIT_CALL(shm_sweep(state));
  if (state->mpi && context->rank <= 1)
    PARKIT_CALL(mpi_sweep(state));
  PARKIT_MPI_CALL(parkit_probe_quiet_barrier(context->comm));
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &state->corrupted, 1, MPI_INT64_T,
                                MPI_SUM, context->comm));
  PARKIT_MPI_CALL(MPI_Bcast(state->results, RESULT_COUNT * state->sizes,
                            MPI_DOUBLE, 0, context->comm));
  return 0;
}

/* ---- setup and teardown -------------------------------------------------- */

static void pingpong_teardown(void *opaque) {
  pingpong_state *state = opaque;
  if (state == NULL)
    return;
  free(state->message_bytes);
  free(state->results);
  free(state->pattern);
  free(state->echo);
  free(state->inbox);
  free(state);
}

/* Message buffers this rank needs: rank 0 the pattern and the echo (and
 * thread 1's inbox when T >= 2), rank 1 the pattern and its inbox when
 * P >= 2, every other rank none. */
static bool needs_pattern_and_echo(const parkit_context *context) {
  return context->rank == 0 && (context->threads >= 2 || context->size >= 2);
}

static bool needs_inbox(const parkit_context *context) {
  return (context->rank == 0 && context->threads >= 2) ||
         (context->rank == 1 && context->size >= 2);
}

static size_t buffer_count(const parkit_context *context) {
  return 2 * (size_t)needs_pattern_and_echo(context) +
         (size_t)needs_inbox(context) +
         (size_t)(context->rank == 1 && context->size >= 2);
}

static int allocate_buffers(pingpong_state *state, int64_t max) {
  const parkit_context *context = &state->context;
  if (needs_pattern_and_echo(context) || needs_inbox(context)) {
    PARKIT_ALLOCATE(state->pattern, max);
    memset(state->pattern, 0, (size_t)max);
  }
  if (needs_pattern_and_echo(context)) {
    PARKIT_ALLOCATE(state->echo, max);
    memset(state->echo, 0, (size_t)max);
  }
  if (!needs_inbox(context))
    return 0;
  PARKIT_ALLOCATE(state->inbox, max);
  /* On rank 0 thread 1 touches its inbox first, so its pages are its own. */
  int toucher = context->rank == 0 ? 1 : 0;
#pragma omp parallel num_threads(toucher + 1)
  if (omp_get_thread_num() == toucher)
    memset(state->inbox, 0, (size_t)max);
  return 0;
}

static int setup_state(pingpong_state *state, const parkit_context *context,
                       const parkit_value *options) {
  state->context = *context;
  state->shm = context->threads >= 2;
  state->mpi = context->size >= 2;
  int64_t max = options[OPTION_MAX_BYTES].integer;
  int64_t factor = options[OPTION_FACTOR].choice == 0 ? 2 : 4;
  state->sizes = message_sizes(max, factor, NULL);
  PARKIT_ALLOCATE(state->message_bytes, state->sizes);
  PARKIT_ALLOCATE(state->results, RESULT_COUNT * state->sizes);
  message_sizes(max, factor, state->message_bytes);
  memset(state->results, 0,
         sizeof(double) * RESULT_COUNT * (size_t)state->sizes);
  for (int size = 0; size < state->sizes; ++size) {
    double messages =
        2.0 * (double)(round_trips(state->message_bytes[size]) + 1);
    state->messages += messages * (state->shm + state->mpi);
  }
  return allocate_buffers(state, max);
}

static int pingpong_setup(const parkit_context *context,
                          const parkit_value *options, void **opaque) {
  *opaque = NULL;
  pingpong_state *state = NULL;
  PARKIT_ALLOCATE(state, 1);
  memset(state, 0, sizeof *state);
  if (setup_state(state, context, options) != 0) {
    pingpong_teardown(state);
    return -1;
  }
  *opaque = state;
  return 0;
}

static double pingpong_memory_bytes(const parkit_context *context,
                                    const parkit_value *options) {
  double max = (double)options[OPTION_MAX_BYTES].integer;
  return sizeof(pingpong_state) + (double)buffer_count(context) * max +
         64.0 * (RESULT_COUNT + 1) * sizeof(double);
}

/* ---- verify -------------------------------------------------------------- */

static bool all_finite_positive(const double *values, int count) {
  for (int i = 0; i < count; ++i)
    if (!(isfinite(values[i]) && values[i] > 0.0))
      return false;
  return true;
}

static int record_outputs(const pingpong_state *state,
                          parkit_outputs *outputs) {
  size_t sizes = (size_t)state->sizes;
  PARKIT_CALL(parkit_output_integers(outputs, "message_bytes",
                                     state->message_bytes, sizes, "B",
                                     "message size"));
  if (state->shm) {
    PARKIT_CALL(parkit_output_reals(
        outputs, "shm_latency", result(state, SHM_LATENCY), sizes, "us",
        "half round trip between two threads (memcpy + atomic flag)"));
    PARKIT_CALL(parkit_output_reals(outputs, "shm_bandwidth",
                                    result(state, SHM_BANDWIDTH), sizes, "GB/s",
                                    "message bytes / shm_latency"));
  }
  if (state->mpi) {
    PARKIT_CALL(parkit_output_reals(
        outputs, "mpi_latency", result(state, MPI_LATENCY), sizes, "us",
        "half round trip between ranks 0 and 1 (MPI_Send / MPI_Recv)"));
    PARKIT_CALL(parkit_output_reals(outputs, "mpi_bandwidth",
                                    result(state, MPI_BANDWIDTH), sizes, "GB/s",
                                    "message bytes / mpi_latency"));
  }
  return 0;
}

static int pingpong_verify(void *opaque, parkit_outputs *outputs,
                           parkit_verdict *verdict) {
  const pingpong_state *state = opaque;
  const int last = state->sizes - 1;
  bool positive = true;
  if (state->shm)
    positive = positive && all_finite_positive(result(state, SHM_LATENCY),
                                               2 * state->sizes);
  if (state->mpi)
    positive = positive && all_finite_positive(result(state, MPI_LATENCY),
                                               2 * state->sizes);
  verdict->passed = positive && state->corrupted == 0;
  char mpi_text[96] = "", shm_text[96] = "";
  if (state->shm)
    snprintf(shm_text, sizeof shm_text,
             "; shm %.3g us, %.3g GB/s at the largest",
             result(state, SHM_LATENCY)[0], result(state, SHM_BANDWIDTH)[last]);
  if (state->mpi)
    snprintf(mpi_text, sizeof mpi_text,
             "; mpi %.3g us, %.3g GB/s at the largest",
             result(state, MPI_LATENCY)[0], result(state, MPI_BANDWIDTH)[last]);
  if (state->corrupted != 0)
    snprintf(verdict->message, sizeof verdict->message,
             "%" PRId64 " message(s) arrived corrupted", state->corrupted);
  else if (!positive)
    snprintf(verdict->message, sizeof verdict->message,
             "a latency or bandwidth is not finite and positive%s%s", shm_text,
             mpi_text);
  else
    snprintf(verdict->message, sizeof verdict->message,
             "messages of %d sizes (%" PRId64 " .. %" PRId64
             " B) arrived intact%s%s",
             state->sizes, state->message_bytes[0], state->message_bytes[last],
             shm_text, mpi_text);
  return record_outputs(state, outputs);
}

static parkit_work pingpong_work(const void *opaque) {
  const pingpong_state *state = opaque;
  return (parkit_work){.items = state->messages,
                       .item_name = "messages",
                       .rate_basis = PARKIT_RATE_ITEMS};
}

const parkit_kernel parkit_kernel_pingpong = {
    .name = "pingpong",
    .summary = "probe: message latency and bandwidth between two threads "
               "(shared memory) and two ranks (MPI)",
    .options = pingpong_options,
    .option_count = OPTION_COUNT,
    .memory_bytes = pingpong_memory_bytes,
    .setup = pingpong_setup,
    .run = pingpong_run,
    .verify = pingpong_verify,
    .teardown = pingpong_teardown,
    .work = pingpong_work,
};
