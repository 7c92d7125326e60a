/*
 * transpose: B = A^T for an n x n matrix of doubles distributed over the
 * ranks by blocks of columns; the communication-bound case (every rank
 * exchanges a block with every other rank each repetition).
 *
 * Parameters
 *   --n        matrix order (elements)
 *   --tile     side of the square tiles of the local transpose (elements):
 *              a tile of A's columns and a tile of B's rows stay in cache
 *   --perturb  test only: corrupts one entry of B so verification fails
 *
 * Work per repetition: 16 n^2 bytes (read A once, write B once), no flops;
 * the rate is in GB/s.
 *
 * Layout: columns of A and of B are split over ranks with
 * parkit_balanced_part; rank p holds columns [c0, c1) of each, column-major
 * (each column contiguous): A_p[j][i] = A(i, c0 + j). Column j of B is row
 * j of A, so rank q needs from rank p the block A(q's columns, p's
 * columns). Rank p packs that block already transposed, as the rows of the
 * part of B that q receives (a local transpose over tiles x tiles, the
 * threads sharing the tile rows statically), the block for itself straight
 * into B; one MPI_Alltoallv on ctx->comm exchanges the rest (the self block
 * moves no message); each rank then copies what it received into its columns
 * of B (contiguous runs, threads sharing B's columns).
 *
 * Verification (closed form): A(i, j) = i n + j, exact in doubles for the
 * allowed n, so B(i, j) must be exactly j n + i; every entry is checked and
 * the mismatches are counted over all ranks. The count and checksums (sums
 * of integers, exact) are the same for every split.
 *
 * Collective calls: run (MPI_Alltoallv on ctx->comm), verify
 * (MPI_Allreduce). setup and validate communicate nothing.
 */
#include "check.h"
#include "kernel.h"
#include "partition.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OPTION_N, OPTION_TILE, OPTION_PERTURB, OPTION_COUNT };

/* n^2 < 2^31: MPI counts are int, and i n + j stays an exact double. */
#define MAX_ORDER 46340

static const parkit_option transpose_options[OPTION_COUNT] = {
    [OPTION_N] = {.name = "n",
                  .type = PARKIT_OPTION_INT,
                  .default_value = "4096",
                  .unit = "elements",
                  .help = "matrix order: A and B are n x n",
                  .min = 1,
                  .max = MAX_ORDER},
    [OPTION_TILE] = {.name = "tile",
                     .type = PARKIT_OPTION_INT,
                     .default_value = "32",
                     .unit = "elements",
                     .help = "side of the cache tiles of the local transpose",
                     .min = 1,
                     .max = 4096},
    [OPTION_PERTURB] = {.name = "perturb",
                        .type = PARKIT_OPTION_FLAG,
                        .unit = "1",
                        .help = "test only: corrupt one entry of B so that "
                                "verification must fail"},
};

typedef struct transpose_state {
  parkit_context context;
  int64_t n, tile;
  bool perturb;
  parkit_range columns; /* this rank's columns of A and of B */
  int64_t width;        /* columns.end - columns.begin */
  double *a, *b;        /* n x width, column-major */
  double *send, *receive;
  int *counts, *displacements; /* per rank, the same for send and receive */
} transpose_state;

static int64_t rank_width(const transpose_state *state, int rank) {
  parkit_range range =
      parkit_balanced_part(state->n, state->context.size, rank);
  return range.end - range.begin;
}

/* ---- validate and memory_bytes --------------------------------------- */

static int transpose_validate(const parkit_context *ctx,
                              const parkit_value *options, char *message,
                              size_t message_size) {
  int64_t n = options[OPTION_N].integer;
  if (n < ctx->size) {
    snprintf(message, message_size,
             "--n %" PRId64 " is smaller than the %d ranks: every rank needs "
             "at least one column (n >= %d)",
             n, ctx->size, ctx->size);
    return -1;
  }
  return 0;
}

static double transpose_memory_bytes(const parkit_context *ctx,
                                     const parkit_value *options) {
  double n = (double)options[OPTION_N].integer;
  double width = n / ctx->size + 1;
  return sizeof(double) * 4.0 * n * width; /* a, b, send, receive */
}

/* ---- setup and teardown ----------------------------------------------- */

static void transpose_teardown(void *opaque_state) {
  transpose_state *state = opaque_state;
  if (state == NULL)
    return;
  free(state->a);
  free(state->b);
  free(state->send);
  free(state->receive);
  free(state->counts);
  free(state->displacements);
  free(state);
}

/* A(i, j) = i n + j, and B zero, touched first by the threads that will
 * read and write the same columns. */
static void initialise(transpose_state *state) {
  const int64_t n = state->n;
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < state->width; ++j) {
    int64_t global_column = state->columns.begin + j;
    for (int64_t i = 0; i < n; ++i) {
      state->a[j * n + i] = (double)(i * n + global_column);
      state->b[j * n + i] = 0.0;
    }
  }
}

static int setup_state(transpose_state *state, const parkit_context *ctx,
                       const parkit_value *options) {
  state->context = *ctx;
  state->n = options[OPTION_N].integer;
  state->tile = options[OPTION_TILE].integer;
  state->perturb = options[OPTION_PERTURB].flag;
  state->columns = parkit_balanced_part(state->n, ctx->size, ctx->rank);
  state->width = state->columns.end - state->columns.begin;
  size_t block = (size_t)state->n * (size_t)state->width;
  PARKIT_ALLOCATE(state->a, block);
  PARKIT_ALLOCATE(state->b, block);
  PARKIT_ALLOCATE(state->send, block);
  PARKIT_ALLOCATE(state->receive, block);
  PARKIT_ALLOCATE(state->counts, ctx->size);
  PARKIT_ALLOCATE(state->displacements, ctx->size);
  /* The block exchanged with rank q is width x width_q both ways; the one
   * for this rank itself is written straight into B and moves no message. */
  int64_t offset = 0;
  for (int q = 0; q < ctx->size; ++q) {
    int64_t count = q == ctx->rank ? 0 : state->width * rank_width(state, q);
    state->counts[q] = (int)count;
    state->displacements[q] = (int)offset;
    offset += state->width * rank_width(state, q);
  }
  initialise(state);
  return 0;
}

static int transpose_setup(const parkit_context *ctx,
                           const parkit_value *options, void **opaque_state) {
  transpose_state *state = NULL;
  PARKIT_ALLOCATE(state, 1);
  memset(state, 0, sizeof *state);
  if (setup_state(state, ctx, options) != 0) {
    transpose_teardown(state);
    return -1;
  }
  *opaque_state = state;
  return 0;
}

/* ---- run ------------------------------------------------------------------
 */

/* Where row `row` of A (restricted to this rank's columns) goes: B's local
 * column row - c0 when this rank owns it, else the matching row of the
 * block packed for its owner, laid out [B column][A column]. */
static double *packed_row(const transpose_state *state, int64_t row) {
  int owner = parkit_balanced_owner(state->n, state->context.size, row);
  parkit_range owned =
      parkit_balanced_part(state->n, state->context.size, owner);
  int64_t local_row = row - owned.begin;
  if (owner == state->context.rank)
    return state->b + local_row * state->n + state->columns.begin;
  return state->send + state->displacements[owner] + local_row * state->width;
}

/* The local transpose: tiles of `tile` rows of A by `tile` of its columns,
 * threads sharing the tile rows. */
static void pack_transposed(transpose_state *state) {
  const int64_t n = state->n, tile = state->tile, width = state->width;
  const int64_t tile_rows = (n + tile - 1) / tile;
#pragma omp parallel for schedule(static)
  for (int64_t tile_row = 0; tile_row < tile_rows; ++tile_row) {
    int64_t row_end = (tile_row + 1) * tile < n ? (tile_row + 1) * tile : n;
    for (int64_t j0 = 0; j0 < width; j0 += tile) {
      int64_t j_end = j0 + tile < width ? j0 + tile : width;
      for (int64_t row = tile_row * tile; row < row_end; ++row) {
        double *target = packed_row(state, row);
        for (int64_t j = j0; j < j_end; ++j)
          target[j] = state->a[j * n + row];
      }
    }
  }
}

/* Received block from rank p: width rows (B's local columns) of width_p
 * values (B rows p's columns), copied into place. */
static void unpack_received(transpose_state *state) {
  const int64_t n = state->n, width = state->width;
  const int size = state->context.size, me = state->context.rank;
#pragma omp parallel for schedule(static)
  for (int64_t j = 0; j < width; ++j)
    for (int p = 0; p < size; ++p) {
      if (p == me)
        continue;
      parkit_range from = parkit_balanced_part(n, size, p);
      int64_t from_width = from.end - from.begin;
      memcpy(state->b + j * n + from.begin,
             state->receive + state->displacements[p] + j * from_width,
             sizeof(double) * (size_t)from_width);
    }
}

static int transpose_run(void *opaque_state) {
  transpose_state *state = opaque_state;
  pack_transposed(state);
  PARKIT_MPI_CALL(
      MPI_Alltoallv(state->send, state->counts, state->displacements,
                    MPI_DOUBLE, state->receive, state->counts,
                    state->displacements, MPI_DOUBLE, state->context.comm));
  unpack_received(state);
  if (state->perturb && state->context.rank == 0)
    state->b[0] += 1.0;
  return 0;
}

/* ---- verify -----------------------------------------------------------------
 */

static int transpose_verify(void *opaque_state, parkit_outputs *outputs,
                            parkit_verdict *verdict) {
  transpose_state *state = opaque_state;
  const int64_t n = state->n;
  int64_t mismatches = 0;
  int64_t sum = 0; /* entries are integers below n^2; the sum below 2^63 */
#pragma omp parallel for schedule(static) reduction(+ : mismatches, sum)
  for (int64_t j = 0; j < state->width; ++j) {
    int64_t global_column = state->columns.begin + j;
    for (int64_t i = 0; i < n; ++i) {
      double value = state->b[j * n + i];
      mismatches += value != (double)(global_column * n + i);
      sum += (int64_t)value;
    }
  }
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &mismatches, 1, MPI_INT64_T,
                                MPI_SUM, state->context.comm));
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_INT64_T, MPI_SUM,
                                state->context.comm));
  /* Sum over all entries of i n + j: n^2 (n^2 - 1) / 2. */
  int64_t expected_sum = n * n * (n * n - 1) / 2;
  verdict->passed = mismatches == 0;
  snprintf(verdict->message, sizeof verdict->message,
           "B(i, j) == A(j, i) == j n + i exactly: %" PRId64 " of %" PRId64
           " entries differ",
           mismatches, n * n);
  PARKIT_CALL(parkit_output_integer(outputs, "mismatches", mismatches));
  PARKIT_CALL(parkit_output_integer(outputs, "b_sum", sum));
  PARKIT_CALL(parkit_output_integer(outputs, "expected_sum", expected_sum));
  return 0;
}

static parkit_work transpose_work(const void *opaque_state) {
  const transpose_state *state = opaque_state;
  double n = (double)state->n;
  return (parkit_work){.bytes = 2.0 * sizeof(double) * n * n,
                       .rate_basis = PARKIT_RATE_BYTES};
}

static const parkit_output_spec transpose_outputs[] = {
    {.name = "mismatches",
     .unit = "elements",
     .description = "entries of B that differ from j n + i",
     .headline = PARKIT_HEADLINE_VALUE},
    {.name = "b_sum", .unit = "1", .description = "sum of all entries of B"},
    {.name = "expected_sum",
     .unit = "1",
     .description = "n^2 (n^2 - 1) / 2, the sum of A"},
};

/* n = 37 does not divide over 2, 3 or 4 ranks. */
static const parkit_test_config transpose_tests[] = {
    {.arguments = "--n 37 --tile 8"},
};

static const parkit_rate_unit_spec transpose_rate_units[] = {{.unit = "GB/s"}};

const parkit_kernel parkit_kernel_transpose = {
    .name = "transpose",
    .summary = "distributed transpose B = A^T of an n x n matrix (column "
               "blocks, MPI_Alltoallv, cache-tiled local transpose)",
    .options = transpose_options,
    .option_count = OPTION_COUNT,
    .kind = PARKIT_KERNEL_WORK,
    .outputs = transpose_outputs,
    .output_count = PARKIT_COUNT(transpose_outputs),
    .rate_units = transpose_rate_units,
    .rate_unit_count = PARKIT_COUNT(transpose_rate_units),
    .tests = transpose_tests,
    .test_count = PARKIT_COUNT(transpose_tests),
    .memcheck_arguments = "--n 67 --tile 8",
    .working_set = {.option = "n", .bytes_per_unit = 32, .exponent = 2},
    .validate = transpose_validate,
    .memory_bytes = transpose_memory_bytes,
    .setup = transpose_setup,
    .run = transpose_run,
    .verify = transpose_verify,
    .teardown = transpose_teardown,
    .work = transpose_work,
};
