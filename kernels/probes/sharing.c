/*
 * sharing: what it costs workers to update memory they share, per update,
 * in nanoseconds, and what unsynchronised updates lose. Each of W workers
 * adds 1 to a counter --updates times, five ways:
 *
 *   shared_atomic  one counter for all, atomic fetch-and-add: true sharing,
 *                  the cache line goes from core to core on every update;
 *   false_sharing  a counter per worker, adjacent 8-byte words of one
 *                  64-byte line (8 workers per line), atomic fetch-and-add:
 *                  no value is shared, the line still is;
 *   padded_atomic  a counter per worker, each on its own 128-byte block
 *                  (two lines, against the adjacent-line prefetcher),
 *                  atomic fetch-and-add: the atomic without the sharing;
 *   private        a counter in a register per worker, one atomic add of
 *                  its total at the end (the reduction);
 *   racy           one counter for all, updated without synchronisation:
 *                  an atomic load and a separate atomic store (so the race
 *                  is on the value, not undefined behaviour): updates that
 *                  overlap are lost; lost_updates counts them
 *                  (W x updates - the final value).
 * The updates go in bursts of BURST_UPDATES. Every burst starts at a gate
 * where the workers spin until all have arrived (yielding the core after
 * SPINS_BEFORE_YIELD spins, for oversubscribed launches), so a burst's
 * workers are all running when it starts, and a burst (about 0.25 ms
 * contended) seldom loses a worker to the scheduler midway. Each worker
 * times each of its bursts; a burst's cost is its slowest worker's time /
 * its updates, and the way's cost the median over its bursts: a burst
 * that a foreign load or a time slice spoilt does not shift it.
 *
 * Two kinds of worker, where the launch has them:
 *   thread_*  the T threads of rank 0 (T > 1), memory from malloc;
 *   rank_*    the ranks on rank 0's node (node_ranks > 1, from
 *             MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)), memory from
 *             MPI_Win_allocate_shared (one region, allocated by the node's
 *             first rank, mapped by every rank of the node), updated with
 *             the same C11 atomics inside one MPI_Win_lock_all epoch, with
 *             MPI_Win_sync and a barrier between ways.
 *
 * Who measures: rank 0's threads, then the ranks of rank 0's node; every
 * other rank waits in a sleeping barrier. Rank 0's results are broadcast,
 * so every rank records the same outputs. Values are those of the last
 * sweep (run()).
 *
 * Work per sweep: the updates made ("updates").
 * Verifies: every atomic counter holds exactly what was added to it (W x
 * updates for the shared one, updates for each worker's own, W x updates
 * for the private totals), the racy counter lies in [1, W x updates], and
 * every time is finite and positive.
 *
 * Collective calls on ctx->comm: setup (MPI_Comm_split_type, then on
 * rank 0's node MPI_Win_allocate_shared, MPI_Win_shared_query,
 * MPI_Win_lock_all), run (the sleeping barrier; on rank 0's node
 * MPI_Barrier, MPI_Win_sync, MPI_Allreduce; MPI_Bcast of the results),
 * teardown (MPI_Win_unlock_all, MPI_Win_free, MPI_Comm_free).
 */
#include "check.h"
#include "kernel.h"
#include "probe.h"

#include <math.h>
#include <omp.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPTION_UPDATES, OPTION_COUNT };

static const parkit_option sharing_options[OPTION_COUNT] = {
    [OPTION_UPDATES] = {.name = "updates",
                        .type = PARKIT_OPTION_INT,
                        .default_value = "262144",
                        .unit = "updates",
                        .help = "updates per worker and way, in bursts of "
                                "4096",
                        .min = 1,
                        .max = INT64_C(1) << 32},
};

enum {
  BURST_UPDATES = 4096,
  SPINS_BEFORE_YIELD = 1 << 12,
  WORD_BYTES = 8,
  BLOCK_BYTES = 128, /* one padded counter: two 64-byte lines */
  BLOCK_WORDS = BLOCK_BYTES / WORD_BYTES,
};

/* The ways, in the order of the outputs. */
enum {
  WAY_SHARED,
  WAY_FALSE_SHARING,
  WAY_PADDED,
  WAY_PRIVATE,
  WAY_RACY,
  WAY_COUNT
};
static const char *const way_names[WAY_COUNT] = {
    "shared_atomic", "false_sharing", "padded_atomic", "private", "racy"};

/* Kinds of worker. */
enum { KIND_THREAD, KIND_RANK, KIND_COUNT };

/* The counters and the gate, in one region of memory (words of 8 bytes):
 *   block 0        the shared counter;
 *   block 1        the racy counter;
 *   block 2        the private totals;
 *   block 3        the gate's arrivals; block 4 its opened count;
 *   blocks 5..     the adjacent words, W of them (W / 8 lines, rounded up
 *                  to whole blocks);
 *   then           W padded counters, a block each. */
typedef struct region {
  _Atomic uint64_t *shared, *racy, *totals, *arrived, *opened, *adjacent,
      *padded;
} region;

enum { FIXED_BLOCKS = 5 };

static size_t adjacent_blocks(int workers) {
  return ((size_t)workers * WORD_BYTES + BLOCK_BYTES - 1) / BLOCK_BYTES;
}

static size_t region_bytes(int workers) {
  return BLOCK_BYTES *
         (FIXED_BLOCKS + adjacent_blocks(workers) + (size_t)workers);
}

static region lay_out(void *base, int workers) {
  _Atomic uint64_t *words = base;
  region r = {.shared = words,
              .racy = words + BLOCK_WORDS,
              .totals = words + 2 * BLOCK_WORDS,
              .arrived = words + 3 * BLOCK_WORDS,
              .opened = words + 4 * BLOCK_WORDS,
              .adjacent = words + FIXED_BLOCKS * BLOCK_WORDS};
  r.padded = r.adjacent + adjacent_blocks(workers) * BLOCK_WORDS;
  return r;
}

/* The spinning gate: a worker's `passed`-th arrival (counted from 0) waits
 * until all `workers` have made theirs. The last to arrive opens it. */
static void pass_gate(const region *r, int workers, uint64_t passed) {
  uint64_t arrival =
      atomic_fetch_add_explicit(r->arrived, 1, memory_order_acq_rel);
  if (arrival + 1 == (passed + 1) * (uint64_t)workers) {
    atomic_store_explicit(r->opened, passed + 1, memory_order_release);
    return;
  }
  long spins = 0;
  while (atomic_load_explicit(r->opened, memory_order_acquire) <= passed)
    if (++spins > SPINS_BEFORE_YIELD)
      sched_yield();
}

static int64_t burst_count(int64_t updates) {
  return (updates + BURST_UPDATES - 1) / BURST_UPDATES;
}

static int64_t burst_updates(int64_t updates, int64_t burst) {
  int64_t left = updates - burst * BURST_UPDATES;
  return left < BURST_UPDATES ? left : BURST_UPDATES;
}

/* Before a way, with no worker inside the region. */
static void reset(const region *r, int workers) {
  atomic_store_explicit(r->arrived, 0, memory_order_relaxed);
  atomic_store_explicit(r->opened, 0, memory_order_relaxed);
  atomic_store_explicit(r->shared, 0, memory_order_relaxed);
  atomic_store_explicit(r->racy, 0, memory_order_relaxed);
  atomic_store_explicit(r->totals, 0, memory_order_relaxed);
  for (int w = 0; w < workers; ++w) {
    atomic_store_explicit(&r->adjacent[w], 0, memory_order_relaxed);
    atomic_store_explicit(&r->padded[(size_t)w * BLOCK_WORDS], 0,
                          memory_order_relaxed);
  }
}

/* `count` updates of one way by worker `worker`. */
static void update(const region *r, int way, int worker, int64_t count,
                   uint64_t *private_count) {
  switch (way) {
  case WAY_SHARED:
    for (int64_t i = 0; i < count; ++i)
      atomic_fetch_add_explicit(r->shared, 1, memory_order_relaxed);
    break;
  case WAY_FALSE_SHARING:
    for (int64_t i = 0; i < count; ++i)
      atomic_fetch_add_explicit(&r->adjacent[worker], 1, memory_order_relaxed);
    break;
  case WAY_PADDED:
    for (int64_t i = 0; i < count; ++i)
      atomic_fetch_add_explicit(&r->padded[(size_t)worker * BLOCK_WORDS], 1,
                                memory_order_relaxed);
    break;
  case WAY_PRIVATE: {
    uint64_t value = *private_count;
    for (int64_t i = 0; i < count; ++i) {
      ++value;
      __asm__ volatile("" : "+r"(value)); /* one add per update, kept */
    }
    *private_count = value;
    break;
  }
  default:
    for (int64_t i = 0; i < count; ++i) {
      uint64_t value = atomic_load_explicit(r->racy, memory_order_relaxed);
      atomic_store_explicit(r->racy, value + 1, memory_order_relaxed);
    }
  }
}

/* Worker `worker`'s part of one way: its bursts, each after the gate;
 * seconds[b] gets burst b's time. */
static void update_bursts(const region *r, int way, int worker, int workers,
                          int64_t updates, double *seconds) {
  uint64_t private_count = 0;
  for (int64_t burst = 0; burst < burst_count(updates); ++burst) {
    pass_gate(r, workers, (uint64_t)burst);
    double started = parkit_probe_seconds();
    update(r, way, worker, burst_updates(updates, burst), &private_count);
    seconds[burst] = parkit_probe_seconds() - started;
  }
  if (way == WAY_PRIVATE) /* the reduction */
    atomic_fetch_add_explicit(r->totals, private_count, memory_order_relaxed);
}

/* Nanoseconds per update of a way: the median over the bursts of the
 * slowest worker's time (slowest[b], seconds) / the burst's updates. */
static double burst_cost(double *slowest, int64_t updates) {
  int64_t bursts = burst_count(updates);
  for (int64_t burst = 0; burst < bursts; ++burst)
    slowest[burst] *= 1e9 / (double)burst_updates(updates, burst);
  return parkit_probe_median(slowest, (int)bursts);
}

/* Counters that do not hold what was added: a count of wrong counters;
 * the racy counter's loss goes to *lost. */
static int64_t wrong_counters(const region *r, int way, int workers,
                              int64_t updates, int64_t *lost) {
  uint64_t all = (uint64_t)workers * (uint64_t)updates;
  int64_t wrong = 0;
  switch (way) {
  case WAY_SHARED:
    return atomic_load(r->shared) != all;
  case WAY_FALSE_SHARING:
  case WAY_PADDED:
    for (int w = 0; w < workers; ++w) {
      _Atomic uint64_t *own = way == WAY_PADDED
                                  ? &r->padded[(size_t)w * BLOCK_WORDS]
                                  : &r->adjacent[w];
      wrong += atomic_load(own) != (uint64_t)updates;
    }
    return wrong;
  case WAY_PRIVATE:
    return atomic_load(r->totals) != all;
  default: {
    uint64_t value = atomic_load(r->racy);
    *lost = (int64_t)(all - value);
    return value < 1 || value > all;
  }
  }
}

typedef struct sharing_state {
  parkit_context context;
  int64_t updates;
  MPI_Comm node;  /* rank 0's node: its ranks; MPI_COMM_NULL elsewhere */
  int node_ranks; /* ranks on rank 0's node */
  MPI_Win window; /* the node's shared region; MPI_WIN_NULL when none */
  bool locked;
  void *thread_memory;
  region threads_region, ranks_region;
  double *burst_seconds; /* [threads][bursts] on rank 0, [bursts] elsewhere */
  double *slowest;       /* [bursts] */
  /* [KIND_COUNT][WAY_COUNT] nanoseconds per update; lost updates. */
  double costs[KIND_COUNT][WAY_COUNT];
  int64_t lost[KIND_COUNT];
  int64_t wrong; /* counters wrong in the last sweep */
  double updates_made;
} sharing_state;

static bool measures_threads(const sharing_state *state) {
  return state->context.threads > 1;
}

static bool measures_ranks(const sharing_state *state) {
  return state->node_ranks > 1;
}

/* ---- threads: rank 0's team ------------------------------------------------
 */

static int thread_ways(sharing_state *state) {
  const int workers = state->context.threads;
  const region *r = &state->threads_region;
  const int64_t bursts = burst_count(state->updates);
  int team = 0;
  for (int way = 0; way < WAY_COUNT; ++way) {
    reset(r, workers);
#pragma omp parallel num_threads(workers)
    {
#pragma omp master
      team = omp_get_num_threads();
      int worker = omp_get_thread_num();
      if (omp_get_num_threads() == workers)
        update_bursts(r, way, worker, workers, state->updates,
                      state->burst_seconds + (size_t)worker * bursts);
    }
    PARKIT_CHECK(team == workers, "OpenMP gave %d threads, not %d", team,
                 workers);
    for (int64_t burst = 0; burst < bursts; ++burst) {
      state->slowest[burst] = 0;
      for (int worker = 0; worker < workers; ++worker) {
        double seconds = state->burst_seconds[worker * bursts + burst];
        if (seconds > state->slowest[burst])
          state->slowest[burst] = seconds;
      }
    }
    state->wrong += wrong_counters(r, way, workers, state->updates,
                                   &state->lost[KIND_THREAD]);
    state->costs[KIND_THREAD][way] = burst_cost(state->slowest, state->updates);
  }
  state->updates_made += (double)WAY_COUNT * workers * state->updates;
  return 0;
}

/* ---- ranks: the ranks of rank 0's node, in one shared window ------------- */

static int rank_ways(sharing_state *state) {
  MPI_Comm node = state->node;
  int node_rank = 0;
  PARKIT_MPI_CALL(MPI_Comm_rank(node, &node_rank));
  const region *r = &state->ranks_region;
  const int64_t bursts = burst_count(state->updates);
  for (int way = 0; way < WAY_COUNT; ++way) {
    if (node_rank == 0)
      reset(r, state->node_ranks);
    PARKIT_MPI_CALL(MPI_Win_sync(state->window));
    PARKIT_MPI_CALL(MPI_Barrier(node));
    PARKIT_MPI_CALL(MPI_Win_sync(state->window));
    update_bursts(r, way, node_rank, state->node_ranks, state->updates,
                  state->burst_seconds);
    PARKIT_MPI_CALL(MPI_Win_sync(state->window));
    PARKIT_MPI_CALL(MPI_Barrier(node));
    PARKIT_MPI_CALL(MPI_Win_sync(state->window));
    PARKIT_MPI_CALL(MPI_Allreduce(state->burst_seconds, state->slowest,
                                  (int)bursts, MPI_DOUBLE, MPI_MAX, node));
    if (node_rank == 0)
      state->wrong += wrong_counters(r, way, state->node_ranks, state->updates,
                                     &state->lost[KIND_RANK]);
    state->costs[KIND_RANK][way] = burst_cost(state->slowest, state->updates);
  }
  state->updates_made += (double)WAY_COUNT * state->node_ranks * state->updates;
  return 0;
}

static int sharing_run(void *opaque) {
  sharing_state *state = opaque;
  const parkit_context *context = &state->context;
  state->wrong = 0;
  state->updates_made = 0;
  if (context->rank == 0 && measures_threads(state))
    PARKIT_CALL(thread_ways(state));
  PARKIT_MPI_CALL(parkit_probe_quiet_barrier(context->comm));
  if (state->node != MPI_COMM_NULL && measures_ranks(state))
    PARKIT_CALL(rank_ways(state));
  PARKIT_MPI_CALL(parkit_probe_quiet_barrier(context->comm));
  PARKIT_MPI_CALL(MPI_Bcast(state->costs, KIND_COUNT * WAY_COUNT, MPI_DOUBLE, 0,
                            context->comm));
  PARKIT_MPI_CALL(
      MPI_Bcast(state->lost, KIND_COUNT, MPI_INT64_T, 0, context->comm));
  PARKIT_MPI_CALL(
      MPI_Bcast(&state->updates_made, 1, MPI_DOUBLE, 0, context->comm));
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &state->wrong, 1, MPI_INT64_T,
                                MPI_SUM, context->comm));
  return 0;
}

/* ---- setup and teardown ----------------------------------------------------
 */

static void sharing_teardown(void *opaque) {
  sharing_state *state = opaque;
  if (state == NULL)
    return;
  /* Clean-up: a failure here changes nothing the run reports. */
  if (state->locked)
    (void)MPI_Win_unlock_all(state->window);
  if (state->window != MPI_WIN_NULL)
    (void)MPI_Win_free(&state->window);
  if (state->node != MPI_COMM_NULL)
    (void)MPI_Comm_free(&state->node);
  free(state->thread_memory);
  free(state->burst_seconds);
  free(state->slowest);
  free(state);
}

/* The ranks of rank 0's node, and their shared region. Collective. */
static int setup_node(sharing_state *state) {
  const parkit_context *context = &state->context;
  MPI_Comm shared = MPI_COMM_NULL;
  PARKIT_MPI_CALL(MPI_Comm_split_type(context->comm, MPI_COMM_TYPE_SHARED,
                                      context->rank, MPI_INFO_NULL, &shared));
  /* Rank 0's node: the shared communicator that holds rank 0. */
  int holds_rank_0 = context->rank == 0;
  PARKIT_MPI_CALL(
      MPI_Allreduce(MPI_IN_PLACE, &holds_rank_0, 1, MPI_INT, MPI_MAX, shared));
  PARKIT_MPI_CALL(MPI_Comm_split(context->comm,
                                 holds_rank_0 ? 0 : MPI_UNDEFINED,
                                 context->rank, &state->node));
  PARKIT_MPI_CALL(MPI_Comm_free(&shared));
  if (context->rank == 0)
    PARKIT_MPI_CALL(MPI_Comm_size(state->node, &state->node_ranks));
  PARKIT_MPI_CALL(MPI_Bcast(&state->node_ranks, 1, MPI_INT, 0, context->comm));
  if (state->node == MPI_COMM_NULL || state->node_ranks < 2)
    return 0;
  int node_rank = 0;
  PARKIT_MPI_CALL(MPI_Comm_rank(state->node, &node_rank));
  MPI_Aint bytes =
      node_rank == 0 ? (MPI_Aint)region_bytes(state->node_ranks) : 0;
  void *mine = NULL, *base = NULL;
  PARKIT_MPI_CALL(MPI_Win_allocate_shared(bytes, 1, MPI_INFO_NULL, state->node,
                                          &mine, &state->window));
  MPI_Aint size = 0;
  int unit = 0;
  PARKIT_MPI_CALL(MPI_Win_shared_query(state->window, 0, &size, &unit, &base));
  PARKIT_CHECK(base != NULL &&
                   size >= (MPI_Aint)region_bytes(state->node_ranks),
               "the shared window holds %lld bytes, not %zu", (long long)size,
               region_bytes(state->node_ranks));
  state->ranks_region = lay_out(base, state->node_ranks);
  PARKIT_MPI_CALL(MPI_Win_lock_all(MPI_MODE_NOCHECK, state->window));
  state->locked = true;
  return 0;
}

static int setup_state(sharing_state *state, const parkit_context *context,
                       const parkit_value *options) {
  state->context = *context;
  state->updates = options[OPTION_UPDATES].integer;
  int64_t bursts = burst_count(state->updates);
  int64_t timed_workers = context->rank == 0 ? context->threads : 1;
  PARKIT_ALLOCATE(state->burst_seconds, timed_workers * bursts);
  PARKIT_ALLOCATE(state->slowest, bursts);
  if (context->rank == 0 && measures_threads(state)) {
    size_t bytes = region_bytes(context->threads);
    state->thread_memory = aligned_alloc(BLOCK_BYTES, bytes);
    PARKIT_CHECK(state->thread_memory != NULL, "cannot allocate %zu bytes",
                 bytes);
    state->threads_region = lay_out(state->thread_memory, context->threads);
  }
  return setup_node(state);
}

static int sharing_setup(const parkit_context *context,
                         const parkit_value *options, void **opaque) {
  *opaque = NULL;
  sharing_state *state = NULL;
  PARKIT_ALLOCATE(state, 1);
  memset(state, 0, sizeof *state);
  state->node = MPI_COMM_NULL;
  state->window = MPI_WIN_NULL;
  if (setup_state(state, context, options) != 0) {
    sharing_teardown(state);
    return -1;
  }
  *opaque = state;
  return 0;
}

static double sharing_memory_bytes(const parkit_context *context,
                                   const parkit_value *options) {
  int workers =
      context->threads > context->size ? context->threads : context->size;
  double bursts = (double)burst_count(options[OPTION_UPDATES].integer);
  return sizeof(sharing_state) + 2.0 * (double)region_bytes(workers) +
         (context->threads + 1.0) * bursts * sizeof(double);
}

/* ---- verify -------------------------------------------------------------- */

static int record_kind(const sharing_state *state, parkit_outputs *outputs,
                       int kind, const char *prefix) {
  char name[64];
  for (int way = 0; way < WAY_COUNT; ++way) {
    snprintf(name, sizeof name, "%s_%s", prefix, way_names[way]);
    PARKIT_CALL(parkit_output_real(outputs, name, state->costs[kind][way]));
  }
  snprintf(name, sizeof name, "%s_lost_updates", prefix);
  return parkit_output_integer(outputs, name, state->lost[kind]);
}

static bool kind_measured(const sharing_state *state, int kind) {
  return kind == KIND_THREAD ? measures_threads(state) : measures_ranks(state);
}

static int sharing_verify(void *opaque, parkit_outputs *outputs,
                          parkit_verdict *verdict) {
  const sharing_state *state = opaque;
  bool positive = true;
  for (int kind = 0; kind < KIND_COUNT; ++kind)
    for (int way = 0; way < WAY_COUNT && kind_measured(state, kind); ++way)
      positive = positive && isfinite(state->costs[kind][way]) &&
                 state->costs[kind][way] > 0;
  verdict->passed = positive && state->wrong == 0;
  char text[2][96] = {"", ""};
  const char *prefixes[KIND_COUNT] = {"threads", "ranks"};
  for (int kind = 0; kind < KIND_COUNT; ++kind)
    if (kind_measured(state, kind))
      snprintf(text[kind], sizeof text[kind],
               "; %s: shared %.3g ns, padded %.3g ns, %lld lost racing",
               prefixes[kind], state->costs[kind][WAY_SHARED],
               state->costs[kind][WAY_PADDED], (long long)state->lost[kind]);
  if (state->wrong != 0)
    snprintf(verdict->message, sizeof verdict->message,
             "%lld counter(s) do not hold what was added to them",
             (long long)state->wrong);
  else if (!positive)
    snprintf(verdict->message, sizeof verdict->message,
             "a measured cost is not finite and positive");
  else
    snprintf(verdict->message, sizeof verdict->message,
             "every synchronised counter exact%s%s", text[0], text[1]);
  if (measures_threads(state))
    PARKIT_CALL(record_kind(state, outputs, KIND_THREAD, "thread"));
  PARKIT_CALL(parkit_output_integer(outputs, "node_ranks", state->node_ranks));
  if (measures_ranks(state))
    PARKIT_CALL(record_kind(state, outputs, KIND_RANK, "rank"));
  return 0;
}

static parkit_work sharing_work(const void *opaque) {
  const sharing_state *state = opaque;
  return (parkit_work){.items = state->updates_made,
                       .item_name = "updates",
                       .rate_basis = PARKIT_RATE_ITEMS};
}

/* One output of a kind of worker: its name KIND_WAY, what it measures
 * and among which workers, recorded when CONDITION holds; HEADLINE: on the
 * key=value line or not. */
#define SHARING_OUTPUT(kind, way, unit_text, what, workers, condition,         \
                       headline_how)                                           \
  {                                                                            \
    .name = kind "_" way, .unit = unit_text, .description = what ", " workers, \
    .agreement = PARKIT_OUTPUT_MEASURED, .when = condition,                    \
    .headline = headline_how                                                   \
  }

/* The six outputs of a kind of worker, in the order of the ways. */
#define SHARING_OUTPUTS(kind, workers, condition)                              \
  SHARING_OUTPUT(kind, "shared_atomic", "ns",                                  \
                 "atomic add to one counter shared by all", workers,           \
                 condition, PARKIT_HEADLINE_NONE),                             \
      SHARING_OUTPUT(kind, "false_sharing", "ns",                              \
                     "atomic add to one's own counter, adjacent words of "     \
                     "one cache line",                                         \
                     workers, condition, PARKIT_HEADLINE_VALUE),               \
      SHARING_OUTPUT(kind, "padded_atomic", "ns",                              \
                     "atomic add to one's own counter on its own 128 B",       \
                     workers, condition, PARKIT_HEADLINE_VALUE),               \
      SHARING_OUTPUT(kind, "private", "ns",                                    \
                     "add to a counter in a register, one atomic add of the "  \
                     "total at the end",                                       \
                     workers, condition, PARKIT_HEADLINE_NONE),                \
      SHARING_OUTPUT(kind, "racy", "ns",                                       \
                     "load and store of one shared counter, no "               \
                     "synchronisation",                                        \
                     workers, condition, PARKIT_HEADLINE_NONE),                \
      SHARING_OUTPUT(kind, "lost_updates", "updates",                          \
                     "updates the racy way lost: workers x updates - the "     \
                     "final value",                                            \
                     workers, condition, PARKIT_HEADLINE_VALUE)

static const parkit_output_spec sharing_outputs[] = {
    SHARING_OUTPUTS("thread", "threads of rank 0", "threads>1"),
    {.name = "node_ranks",
     .unit = "1",
     .description = "ranks on rank 0's node, the processes that share a "
                    "window",
     .agreement = PARKIT_OUTPUT_DIFFERS},
    SHARING_OUTPUTS("rank", "ranks of rank 0's node", "node_ranks>1"),
};

static const parkit_test_config sharing_tests[] = {
    {.arguments = "--updates 20000"},
};

static const parkit_rate_unit_spec sharing_rate_units[] = {
    {.unit = "Mupdates/s"}};

const parkit_kernel parkit_kernel_sharing = {
    .name = "sharing",
    .summary = "probe: cost per update of shared, falsely shared, padded "
               "and private counters, threads and ranks (shared window), "
               "and the updates a race loses",
    .kind = PARKIT_KERNEL_PROBE,
    .options = sharing_options,
    .option_count = OPTION_COUNT,
    .outputs = sharing_outputs,
    .output_count = PARKIT_COUNT(sharing_outputs),
    .rate_units = sharing_rate_units,
    .rate_unit_count = PARKIT_COUNT(sharing_rate_units),
    .tests = sharing_tests,
    .test_count = PARKIT_COUNT(sharing_tests),
    .memcheck_arguments = "--updates 5000",
    .memory_bytes = sharing_memory_bytes,
    .setup = sharing_setup,
    .run = sharing_run,
    .verify = sharing_verify,
    .teardown = sharing_teardown,
    .work = sharing_work,
};
