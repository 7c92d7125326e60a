/*
 * pingpong: one message of s bytes handed from one worker to another and
 * back, for s = 8 B, 8 f, 8 f^2, ... below --max_bytes, then --max_bytes
 * itself (f = --factor, 2 or 4), two ways:
 *
 *   shm  two threads of rank 0 sharing memory (T >= 2): the sender copies
 *        the message with memcpy straight into the receiver's buffer and
 *        raises a flag (C11 atomic store, release); the receiver waits for
 *        the flag (acquire), then sends the message back the same way;
 *   mpi  ranks 0 and 1 of ctx->comm (P >= 2): MPI_Isend and MPI_Irecv,
 *        each completed by polling MPI_Test, rank 1 echoing what it
 *        received.
 * Both ways wait alike: they poll, and yield the core after
 * SPINS_BEFORE_YIELD polls, so a pair that shares a core (a loaded or
 * oversubscribed machine) hands a message over in a context switch, not a
 * time slice.
 * Latency is half the median round trip (us), bandwidth s / latency
 * (GB/s), per size. Each size makes one untimed round trip, then timed
 * ones: many for small messages, few for large ones (about TARGET_BYTES
 * each way, within [MIN_TRIPS, MAX_TRIPS]) and no more than fit in
 * SIZE_BUDGET_SECONDS, so a default sweep takes a fraction of a second
 * even on a loaded machine; round trips of messages below 4 KiB are timed
 * 64 at a time. Then one untimed round trip tells the partner to stop.
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
 * of the corrupted-message count, MPI_Bcast of the results; MPI_Isend,
 * MPI_Irecv and MPI_Test between ranks 0 and 1). setup and verify
 * communicate nothing.
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
    [OPTION_MAX_BYTES] = {.name = "max_bytes",
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
  MIN_SAMPLES = 4, /* of the median, before the time budget may stop */
  MAX_TRIPS = 10000,
  CLOCK_EVERY_TRIP_BYTES = 4096, /* smaller messages: every CLOCK_STRIDE */
  CLOCK_STRIDE = 64,
  SPINS_BEFORE_YIELD = 1 << 10, /* then the waiter yields its core */
  MESSAGE_TAG = 7,
  LAST_TAG = 8, /* the size's last message: rank 1 stops after echoing it */
};

/* Wall-clock seconds one size may take, each way: round trips stop there
 * (after MIN_SAMPLES), so a loaded or oversubscribed machine, where a round
 * trip can wait for a time slice, still finishes a sweep quickly. */
static const double SIZE_BUDGET_SECONDS = 0.025;

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
  atomic_bool last_message; /* set with the size's last to_thread_1 */
  alignas(64) parkit_context context;
  bool shm, mpi; /* which ways this launch measures */
  int sizes;
  int64_t *message_bytes; /* [sizes] */
  double *results;        /* [RESULT_COUNT][sizes] */
  int64_t corrupted;      /* messages that arrived wrong in the last sweep */
  double messages;        /* handed over in the last sweep */
  unsigned char *pattern; /* what is sent (rank 0; rank 1 to compare) */
  unsigned char *echo;    /* what comes back to rank 0 / thread 0 */
  unsigned char *inbox;   /* thread 1's buffer (rank 0), rank 1's buffer */
  double *samples;        /* rank 0: round-trip samples of one size */
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

/* Times one size's round trips in batches (samples) and says when to
 * stop. Small messages are timed CLOCK_STRIDE round trips at a time, since
 * reading the clock would show in their latency; the result is the median
 * over the samples, so a round trip that waited for a time slice on a
 * loaded machine does not shift it. */
typedef struct trip_timer {
  int64_t batch;   /* round trips per sample */
  int64_t planned; /* samples wanted */
  int64_t taken;   /* samples so far */
  double deadline, batch_started;
  double *samples; /* MAX_TRIPS */
} trip_timer;

static void trip_timer_start(trip_timer *timer, int64_t bytes,
                             double *samples) {
  timer->batch = bytes < CLOCK_EVERY_TRIP_BYTES ? CLOCK_STRIDE : 1;
  timer->planned = (round_trips(bytes) + timer->batch - 1) / timer->batch;
  timer->taken = 0;
  timer->samples = samples;
  timer->batch_started = parkit_probe_seconds();
  timer->deadline = timer->batch_started + SIZE_BUDGET_SECONDS;
}

/* After timed round trip `trip` (counted from 1): closes a full batch.
 * True when the planned samples are taken, or at least MIN_SAMPLES and the
 * size's time budget is spent. */
static bool trip_timer_done(trip_timer *timer, int64_t trip) {
  if (trip % timer->batch != 0)
    return false;
  double now = parkit_probe_seconds();
  timer->samples[timer->taken++] =
      (now - timer->batch_started) / (double)timer->batch;
  timer->batch_started = now;
  return timer->taken >= timer->planned ||
         (timer->taken >= MIN_SAMPLES && now >= timer->deadline);
}

/* Median seconds of one round trip. */
static double trip_timer_median(trip_timer *timer) {
  return parkit_probe_median(timer->samples, (int)timer->taken);
}

/* ---- shared memory: two threads of rank 0 ------------------------------- */

static void wait_for(atomic_llong *flag, long long message) {
  long spins = 0;
  while (atomic_load_explicit(flag, memory_order_acquire) < message)
    if (++spins > SPINS_BEFORE_YIELD)
      sched_yield();
}

/* Thread 0: hands message 0 (untimed warm-up), then the timed ones, then
 * a last untimed one that tells thread 1 to stop, and waits for each to
 * come back. Sets *round_trip (median seconds); returns the round trips
 * made. */
static int64_t shm_thread_0(pingpong_state *state, int64_t bytes,
                            double *round_trip) {
  trip_timer timer = {0};
  bool stop = false;
  long long message = 0;
  for (;; ++message) {
    memcpy(state->inbox, state->pattern, (size_t)bytes);
    atomic_store_explicit(&state->last_message, stop, memory_order_relaxed);
    /* The flags count from 1: message m raises them to m + 1. */
    atomic_store_explicit(&state->to_thread_1, message + 1,
                          memory_order_release);
    wait_for(&state->to_thread_0, message + 1);
    if (stop)
      break;
    if (message == 0)
      trip_timer_start(&timer, bytes, state->samples);
    else
      stop = trip_timer_done(&timer, message);
  }
  *round_trip = trip_timer_median(&timer);
  return message + 1;
}

/* Thread 1: receives each message and hands it back, until the last. */
static void shm_thread_1(pingpong_state *state, int64_t bytes) {
  for (long long flag = 1;; ++flag) {
    wait_for(&state->to_thread_1, flag);
    /* Written before the release store that wait_for acquired. */
    bool last =
        atomic_load_explicit(&state->last_message, memory_order_relaxed);
    memcpy(state->echo, state->inbox, (size_t)bytes);
    atomic_store_explicit(&state->to_thread_0, flag, memory_order_release);
    if (last)
      return;
  }
}

/* Rank 0: one size between two threads; the round trips made, or -1 when
 * the team was not two. */
static int64_t shm_size(pingpong_state *state, int64_t bytes,
                        double *round_trip) {
  atomic_store(&state->to_thread_1, 0);
  atomic_store(&state->to_thread_0, 0);
  int64_t trips = -1;
#pragma omp parallel num_threads(2)
  {
    if (omp_get_num_threads() == 2 && omp_get_thread_num() == 0)
      trips = shm_thread_0(state, bytes, round_trip);
    else if (omp_get_num_threads() == 2)
      shm_thread_1(state, bytes);
  }
  return trips;
}

/* Records size `size`'s latency and bandwidth for `way` (SHM_LATENCY or
 * MPI_LATENCY) from the median round trip; counts the messages. */
static void record_size(pingpong_state *state, int way, int size,
                        double round_trip, int64_t trips) {
  double latency = round_trip / 2.0;
  double bytes = (double)state->message_bytes[size];
  result(state, way)[size] = 1e6 * latency;
  result(state, way + 1)[size] = 1e-9 * bytes / latency;
  state->messages += 2.0 * (double)trips;
}

static int shm_sweep(pingpong_state *state) {
  for (int size = 0; size < state->sizes; ++size) {
    int64_t bytes = state->message_bytes[size];
    fill_pattern(state->pattern, bytes);
    memset(state->echo, 0, (size_t)bytes);
    memset(state->inbox, 0, (size_t)bytes);
    double round_trip = 0.0;
    int64_t trips = shm_size(state, bytes, &round_trip);
    PARKIT_CHECK(trips > 0, "OpenMP gave no team of two threads");
    record_size(state, SHM_LATENCY, size, round_trip, trips);
    state->corrupted += memcmp(state->echo, state->pattern, (size_t)bytes) != 0;
    state->corrupted +=
        memcmp(state->inbox, state->pattern, (size_t)bytes) != 0;
  }
  return 0;
}

/* ---- MPI: ranks 0 and 1 -------------------------------------------------- */

/* Completes `request` by polling MPI_Test, yielding the core after
 * SPINS_BEFORE_YIELD polls: the same wait as the threads' (MPI_Recv would
 * spin without yielding, and two ranks sharing a core would then hand each
 * message over only once per time slice). */
static int complete(MPI_Request *request, MPI_Status *status) {
  long polls = 0;
  int done = 0;
  for (;;) {
    PARKIT_MPI_CALL(MPI_Test(request, &done, status));
    if (done)
      return 0;
    if (++polls > SPINS_BEFORE_YIELD)
      sched_yield();
  }
}

static int send_message(const unsigned char *message, int64_t bytes,
                        int partner, int tag, MPI_Comm comm) {
  MPI_Request request;
  PARKIT_MPI_CALL(
      MPI_Isend(message, (int)bytes, MPI_BYTE, partner, tag, comm, &request));
  return complete(&request, MPI_STATUS_IGNORE);
}

static int receive_message(unsigned char *message, int64_t bytes, int partner,
                           int tag, MPI_Comm comm, MPI_Status *status) {
  MPI_Request request;
  PARKIT_MPI_CALL(
      MPI_Irecv(message, (int)bytes, MPI_BYTE, partner, tag, comm, &request));
  return complete(&request, status);
}

/* Rank 0: message 0 (untimed warm-up), the timed ones, then a last
 * untimed one sent with LAST_TAG. Sets *round_trip (median seconds) and
 * *trips (round trips made). */
static int mpi_rank_0(pingpong_state *state, int64_t bytes, int64_t *trips,
                      double *round_trip) {
  MPI_Comm comm = state->context.comm;
  trip_timer timer = {0};
  bool stop = false;
  int64_t message = 0;
  for (;; ++message) {
    PARKIT_CALL(send_message(state->pattern, bytes, 1,
                             stop ? LAST_TAG : MESSAGE_TAG, comm));
    PARKIT_CALL(receive_message(state->echo, bytes, 1, MESSAGE_TAG, comm,
                                MPI_STATUS_IGNORE));
    if (stop)
      break;
    if (message == 0)
      trip_timer_start(&timer, bytes, state->samples);
    else
      stop = trip_timer_done(&timer, message);
  }
  *round_trip = trip_timer_median(&timer);
  *trips = message + 1;
  return 0;
}

/* Rank 1: hands every message back, until the one tagged LAST_TAG. */
static int mpi_rank_1(pingpong_state *state, int64_t bytes) {
  MPI_Comm comm = state->context.comm;
  MPI_Status status = {0};
  do {
    PARKIT_CALL(
        receive_message(state->inbox, bytes, 0, MPI_ANY_TAG, comm, &status));
    PARKIT_CALL(send_message(state->inbox, bytes, 0, MESSAGE_TAG, comm));
  } while (status.MPI_TAG != LAST_TAG);
  return 0;
}

/* Ranks 0 and 1 only. */
static int mpi_sweep(pingpong_state *state) {
  int rank = state->context.rank;
  for (int size = 0; size < state->sizes; ++size) {
    int64_t bytes = state->message_bytes[size];
    fill_pattern(state->pattern, bytes);
    unsigned char *arrived = rank == 0 ? state->echo : state->inbox;
    memset(arrived, 0, (size_t)bytes);
    if (rank == 0) {
      double round_trip = 0.0;
      int64_t trips = 0;
      PARKIT_CALL(mpi_rank_0(state, bytes, &trips, &round_trip));
      record_size(state, MPI_LATENCY, size, round_trip, trips);
    } else {
      PARKIT_CALL(mpi_rank_1(state, bytes));
    }
    state->corrupted += memcmp(arrived, state->pattern, (size_t)bytes) != 0;
  }
  return 0;
}

static int pingpong_run(void *opaque) {
  pingpong_state *state = opaque;
  const parkit_context *context = &state->context;
  state->corrupted = 0;
  state->messages = 0.0;
  if (state->shm && context->rank == 0)
    PARKIT_CALL(shm_sweep(state));
  /* Rank 1 waits asleep while rank 0's threads measure. */
  PARKIT_MPI_CALL(parkit_probe_quiet_barrier(context->comm));
  if (state->mpi && context->rank <= 1)
    PARKIT_CALL(mpi_sweep(state));
  PARKIT_MPI_CALL(parkit_probe_quiet_barrier(context->comm));
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &state->corrupted, 1, MPI_INT64_T,
                                MPI_SUM, context->comm));
  PARKIT_MPI_CALL(MPI_Bcast(state->results, RESULT_COUNT * state->sizes,
                            MPI_DOUBLE, 0, context->comm));
  PARKIT_MPI_CALL(MPI_Bcast(&state->messages, 1, MPI_DOUBLE, 0, context->comm));
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
  free(state->samples);
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
    PARKIT_ALLOCATE(state->samples, MAX_TRIPS);
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
         (context->rank == 0 ? MAX_TRIPS * sizeof(double) : 0.0) +
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
                                     state->message_bytes, sizes));
  if (state->shm) {
    PARKIT_CALL(parkit_output_reals(outputs, "shm_latency",
                                    result(state, SHM_LATENCY), sizes));
    PARKIT_CALL(parkit_output_reals(outputs, "shm_bandwidth",
                                    result(state, SHM_BANDWIDTH), sizes));
  }
  if (state->mpi) {
    PARKIT_CALL(parkit_output_reals(outputs, "mpi_latency",
                                    result(state, MPI_LATENCY), sizes));
    PARKIT_CALL(parkit_output_reals(outputs, "mpi_bandwidth",
                                    result(state, MPI_BANDWIDTH), sizes));
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

static const parkit_output_spec pingpong_outputs[] = {
    {.name = "message_bytes",
     .unit = "B",
     .description = "message size",
     .shape = "sizes"},
    {.name = "shm_latency",
     .unit = "us",
     .description = "half round trip between two threads (memcpy + atomic "
                    "flag)",
     .shape = "sizes",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .when = "threads>1",
     .headline = PARKIT_HEADLINE_FIRST},
    {.name = "shm_bandwidth",
     .unit = "GB/s",
     .description = "message bytes / shm_latency",
     .shape = "sizes",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .when = "threads>1",
     .headline = PARKIT_HEADLINE_LAST},
    {.name = "mpi_latency",
     .unit = "us",
     .description = "half round trip between ranks 0 and 1 (MPI_Isend / "
                    "MPI_Irecv)",
     .shape = "sizes",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .when = "ranks>1",
     .headline = PARKIT_HEADLINE_FIRST},
    {.name = "mpi_bandwidth",
     .unit = "GB/s",
     .description = "message bytes / mpi_latency",
     .shape = "sizes",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .when = "ranks>1",
     .headline = PARKIT_HEADLINE_LAST},
};

static const parkit_test_config pingpong_tests[] = {
    {.arguments = "--max_bytes 1048576"},
};

static const parkit_rate_unit_spec pingpong_rate_units[] = {
    {.unit = "Mmessages/s"}};

const parkit_kernel parkit_kernel_pingpong = {
    .name = "pingpong",
    .summary = "probe: message latency and bandwidth between two threads "
               "(shared memory) and two ranks (MPI)",
    .options = pingpong_options,
    .option_count = OPTION_COUNT,
    .kind = PARKIT_KERNEL_PROBE,
    .outputs = pingpong_outputs,
    .output_count = PARKIT_COUNT(pingpong_outputs),
    .rate_units = pingpong_rate_units,
    .rate_unit_count = PARKIT_COUNT(pingpong_rate_units),
    .tests = pingpong_tests,
    .test_count = PARKIT_COUNT(pingpong_tests),
    .memcheck_arguments = "--max_bytes 65536",
    .memory_bytes = pingpong_memory_bytes,
    .setup = pingpong_setup,
    .run = pingpong_run,
    .verify = pingpong_verify,
    .teardown = pingpong_teardown,
    .work = pingpong_work,
};
