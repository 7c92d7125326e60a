/*
 * matmul: dense matrix multiply C = A B of n x n doubles, distributed with
 * SUMMA over a 2D process grid; the threads of a rank share each block.
 *
 * Parameters
 *   --n            matrix order (elements)
 *   --block        SUMMA panel width (elements): how many columns of A and
 *                  rows of B are broadcast and multiplied per step
 *   --variant      local block multiply: "blocked" (the packed, cache-blocked
 *                  GEMM engine of kernels/numerics/gemm.h) or "reference"
 * (plain triple loop, the yardstick the tests compare against)
 *   --microkernel  the engine's micro-kernel: auto (the best this CPU runs),
 *                  avx512, avx2 or portable; one the CPU lacks is refused
 *   --broadcast    how panels travel: "ibcast-test" (non-blocking, the next
 *                  step's panels in flight during this step's multiply, with
 *                  MPI_Testall between the engine's A blocks so Open MPI
 *                  progresses them), "ibcast" (the same without the tests)
 *                  or "bcast" (blocking, no overlap): for measuring overlap
 *
 * Work per repetition: 2 n^3 flops; 3 * 8 n^2 bytes, the minimum traffic of
 * reading A and B and writing C once. The rate is reported in GFLOP/s.
 *
 * Split over ranks: the P ranks form a grid_rows x grid_columns grid from
 * MPI_Dims_create; rank r sits at (r / grid_columns, r % grid_columns). Rows
 * of A and C are split over grid rows and columns of B and C over grid
 * columns; the inner index k follows the same splits (A's columns over grid
 * columns, B's rows over grid rows), so every rank holds three blocks of the
 * same shape. All splits are balanced (n / parts each, the first n % parts
 * parts one more), so any n >= the larger grid dimension works.
 * SUMMA walks k in panels that never straddle two owners: the grid column
 * owning A's columns [k0, k0 + w) broadcasts them along its grid row, the
 * grid row owning B's rows [k0, k0 + w) broadcasts them along its grid
 * column, and every rank adds A_panel * B_panel to its block of C. Panels
 * are double-buffered: step s + 1's broadcasts (MPI_Ibcast) are posted
 * before step s multiplies. A panel that only one rank would broadcast to
 * itself (a grid dimension of 1) is not copied at all: the engine reads it
 * in place from the block, so threads mode moves no data.
 *
 * Split over threads: the GEMM engine's own (kernels/numerics/gemm.h): the
 * threads pack each shared B panel together and split C's rows. Only the thread
 * that called the kernel calls MPI (FUNNELED): the engine's progress callback
 * runs on OpenMP thread 0.
 *
 * Memory per rank (bytes; m_l x n_l the local block, w = min(block, n)):
 *   8 * (3 m_l n_l                          blocks of A, B, C
 *        + 2 m_l w   when grid_columns > 1  two A panel buffers
 *        + 2 w n_l   when grid_rows > 1     two B panel buffers
 *        + 7 n)                             verification vectors
 *   + the engine's packing buffers (blocked variant; gemm.h states them):
 *     8 * (kc' nc' + threads mc' kc')
 * matmul_memory_bytes returns exactly this; the output memory_bytes records
 * its largest value over ranks, to hold against ranks/peak_resident_bytes.
 *
 * Inputs: A(i, j) and B(i, j) come from a counter-based hash of (seed,
 * matrix, global i, global j), so the matrices are the same bits for every
 * split, and no rank ever holds a whole matrix.
 *
 * Verification (Freivalds, no serial product): for a fixed random vector x,
 * C x must equal A (B x) up to rounding. With |.| taken entrywise, every
 * component must satisfy |(Cx)_i - (A(Bx))_i| <= 4 n eps (|A| (|B| |x|))_i:
 * forming C and each of the two matrix-vector products round by at most
 * gamma_n |A| |B| |x|, about 4 n eps in total. All vectors are full length n,
 * assembled with MPI_Allreduce.
 *
 * Collective calls: setup (MPI_Comm_split of ctx->comm into row and column
 * communicators, MPI_Allreduce to agree on the micro-kernel), run
 * (MPI_Ibcast or MPI_Bcast on those, MPI_Testall, MPI_Waitall), verify
 * (MPI_Allreduce on ctx->comm). validate, memory_bytes, teardown and work
 * communicate with no one (validate and memory_bytes only ask MPI_Dims_create
 * for the grid shape, a local computation).
 */
#include "check.h"
#include "gemm.h"
#include "kernel.h"
#include "partition.h"

#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- options ---------------------------------------------------------- */

enum {
  OPTION_N,
  OPTION_BLOCK,
  OPTION_VARIANT,
  OPTION_MICROKERNEL,
  OPTION_BROADCAST,
  OPTION_COUNT
};

/* Indices into the "blocked|reference" choice list. */
enum { VARIANT_BLOCKED, VARIANT_REFERENCE };

/* Indices into the "auto|avx512|avx2|portable" choice list, and the
 * engine's micro-kernel each names. */
static const parkit_gemm_microkernel microkernel_choices[] = {
    PARKIT_GEMM_AUTO, PARKIT_GEMM_AVX512, PARKIT_GEMM_AVX2,
    PARKIT_GEMM_PORTABLE};

/* Indices into the "ibcast-test|ibcast|bcast" choice list. */
enum { BROADCAST_IBCAST_TEST, BROADCAST_IBCAST, BROADCAST_BCAST };

static const parkit_option matmul_options[OPTION_COUNT] = {
    [OPTION_N] = {.name = "n",
                  .type = PARKIT_OPTION_INT,
                  .default_value = "1024",
                  .unit = "elements",
                  .help = "matrix order: A, B and C are n x n",
                  .min = 1,
                  .max = 1048576},
    [OPTION_BLOCK] = {.name = "block",
                      .type = PARKIT_OPTION_INT,
                      .default_value = "256",
                      .unit = "elements",
                      .help = "SUMMA panel width: columns of A and rows of B "
                              "broadcast per step",
                      .min = 1,
                      .max = 65536},
    [OPTION_VARIANT] = {.name = "variant",
                        .type = PARKIT_OPTION_CHOICE,
                        .default_value = "blocked",
                        .unit = "1",
                        .help = "local multiply: the packed, cache-blocked "
                                "GEMM engine, or the plain triple loop it is "
                                "tested against",
                        .choices = "blocked|reference"},
    [OPTION_MICROKERNEL] = {.name = "microkernel",
                            .type = PARKIT_OPTION_CHOICE,
                            .default_value = "auto",
                            .unit = "1",
                            .help = "GEMM micro-kernel: the best this CPU "
                                    "runs, or one forced",
                            .choices = "auto|avx512|avx2|portable"},
    [OPTION_BROADCAST] = {.name = "broadcast",
                          .type = PARKIT_OPTION_CHOICE,
                          .default_value = "ibcast-test",
                          .unit = "1",
                          .help = "panel broadcasts: overlapped with the "
                                  "multiply (MPI_Ibcast, tested between "
                                  "blocks or not) or blocking",
                          .choices = "ibcast-test|ibcast|bcast"},
};

/* Rows of C per OpenMP work item of first touch and of the reference loop:
 * large enough that a thread reuses the B panel from cache over many rows,
 * small enough to balance small blocks. */
enum { ROW_BLOCK = 32 };

/* ---- deterministic inputs --------------------------------------------- */

/* Which stream of the hash an input is drawn from. */
enum { STREAM_A = 1, STREAM_B = 2, STREAM_X = 3 };

static const uint64_t golden_gamma = 0x9e3779b97f4a7c15u;

/* The splitmix64 finaliser: a bijection on 64 bits that scrambles well. */
static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

/* A key for row `row` of stream `stream`; entries hash (key, column). */
static uint64_t row_key(uint64_t seed, int stream, int64_t row) {
  uint64_t stream_key = mix64(seed + golden_gamma * (uint64_t)stream);
  return mix64(stream_key + golden_gamma * (uint64_t)row);
}

/* Entry `column` of the row keyed by `key`, uniform in [-1, 1): the top 53
 * bits scaled to [0, 2), so every value is exact. */
static double uniform_entry(uint64_t key, int64_t column) {
  uint64_t bits = mix64(key + golden_gamma * (uint64_t)column) >> 11;
  return (double)bits * 0x1p-52 - 1.0;
}

/* ---- the process grid --------------------------------------------------- */

typedef struct process_grid {
  int rows, columns; /* grid shape */
  int row, column;   /* this rank's place in it */
} process_grid;

static int make_process_grid(const parkit_context *ctx, process_grid *grid) {
  int dims[2] = {0, 0};
  PARKIT_MPI_CALL(MPI_Dims_create(ctx->size, 2, dims));
  grid->rows = dims[0];
  grid->columns = dims[1];
  grid->row = ctx->rank / grid->columns;
  grid->column = ctx->rank % grid->columns;
  return 0;
}

/* Widest panel SUMMA forms: never more than --block or n. */
static int64_t panel_capacity(int64_t n, int64_t block) {
  return block < n ? block : n;
}

/* ---- the kernel's state ------------------------------------------------ */

/* One SUMMA step's operands: where its A and B panels are read from. */
typedef struct summa_step {
  int64_t k0, width;
  int a_owner, b_owner; /* grid column owning A's panel, grid row B's */
  const double *a;      /* row_count x width, leading dimension lda */
  int64_t lda;
  const double *b; /* width x column_count, leading dimension ldb */
  int64_t ldb;
} summa_step;

typedef struct matmul_state {
  parkit_context context;
  int64_t n, block;
  int variant, broadcast;
  parkit_gemm_microkernel microkernel; /* resolved, agreed by all ranks */
  process_grid grid;
  /* Global rows of A, B and C held here (also B's k range), and global
   * columns of A, B and C held here (also A's k range). */
  parkit_range rows, columns;
  int64_t row_count, column_count;
  MPI_Comm row_communicator;    /* this grid row; rank = grid column */
  MPI_Comm column_communicator; /* this grid column; rank = grid row */
  /* Local blocks, row-major, row_count x column_count each. */
  double *a, *b, *c;
  /* Double-buffered received panels (only when the grid dimension they
   * travel along is > 1): A is row_count x width, B width x column_count. */
  double *a_panels[2], *b_panels[2];
  /* The panel broadcasts in flight: [buffer][A, B]. */
  MPI_Request requests[2][2];
  int progress_error;  /* first MPI error code seen by the progress callback */
  parkit_gemm gemm;    /* blocked variant: the engine and its buffers */
  double memory_bytes; /* matmul_memory_bytes for this rank */
  /* Verification vectors, each of length n. */
  double *x;
  double *b_times_x;     /* [B x | |B| |x|] */
  double *verify_result; /* [A (B x) | |A| (|B| |x|) | C x | row sums of C] */
} matmul_state;

static int64_t row_block_count(const matmul_state *state) {
  return (state->row_count + ROW_BLOCK - 1) / ROW_BLOCK;
}

/* Local rows [begin, end) of row block `row_block`. */
static parkit_range row_block_rows(const matmul_state *state,
                                   int64_t row_block) {
  parkit_range range;
  range.begin = row_block * ROW_BLOCK;
  range.end = range.begin + ROW_BLOCK;
  if (range.end > state->row_count)
    range.end = state->row_count;
  return range;
}

/* ---- validate and memory_bytes ----------------------------------------- */

/* "auto|avx2|portable": the --microkernel choices this CPU can run. */
static void supported_microkernels(char *text, size_t size) {
  text[0] = '\0';
  for (size_t i = 0; i < sizeof microkernel_choices / sizeof(int); ++i)
    if (parkit_gemm_supported(microkernel_choices[i]))
      snprintf(text + strlen(text), size - strlen(text), "%s%s",
               text[0] != '\0' ? "|" : "",
               parkit_gemm_name(microkernel_choices[i]));
}

static int matmul_validate(const parkit_context *ctx,
                           const parkit_value *options, char *message,
                           size_t message_size) {
  process_grid grid;
  if (make_process_grid(ctx, &grid) != 0) {
    snprintf(message, message_size,
             "cannot form a 2D process grid for %d ranks", ctx->size);
    return -1;
  }
  int64_t n = options[OPTION_N].integer;
  int largest = grid.rows > grid.columns ? grid.rows : grid.columns;
  if (n < largest) {
    snprintf(message, message_size,
             "--n %" PRId64 " is too small for %d ranks: the %dx%d process "
             "grid needs n >= %d",
             n, ctx->size, grid.rows, grid.columns, largest);
    return -1;
  }
  parkit_gemm_microkernel microkernel =
      microkernel_choices[options[OPTION_MICROKERNEL].choice];
  if (!parkit_gemm_supported(microkernel)) {
    char allowed[64];
    supported_microkernels(allowed, sizeof allowed);
    snprintf(message, message_size,
             "--microkernel %s: this CPU lacks the instructions it needs; "
             "allowed here: %s",
             parkit_gemm_name(microkernel), allowed);
    return -1;
  }
  /* MPI counts are int: a panel must hold at most INT_MAX doubles. */
  int64_t width = panel_capacity(n, options[OPTION_BLOCK].integer);
  int64_t widest_block = parkit_balanced_part(n, grid.rows, 0).end;
  if (width * widest_block > INT_MAX) {
    snprintf(message, message_size,
             "--block %" PRId64 " is too wide for --n %" PRId64
             ": a panel would exceed %d doubles; use --block <= %" PRId64,
             options[OPTION_BLOCK].integer, n, INT_MAX,
             (int64_t)INT_MAX / widest_block);
    return -1;
  }
  return 0;
}

/* The micro-kernel this rank would use (setup agrees on one over ranks). */
static parkit_gemm_microkernel
requested_microkernel(const parkit_value *options) {
  return parkit_gemm_resolve(
      microkernel_choices[options[OPTION_MICROKERNEL].choice]);
}

/* Bytes of everything setup allocates; the formula is in the header. */
static double matmul_memory_bytes(const parkit_context *ctx,
                                  const parkit_value *options) {
  int64_t n = options[OPTION_N].integer;
  process_grid grid = {1, 1, 0, 0};
  /* A grid that cannot be formed is refused by validate; assume the
   * largest blocks (a 1x1 grid) meanwhile. */
  if (make_process_grid(ctx, &grid) != 0)
    grid = (process_grid){1, 1, 0, 0};
  parkit_range rows = parkit_balanced_part(n, grid.rows, grid.row);
  parkit_range columns = parkit_balanced_part(n, grid.columns, grid.column);
  int64_t row_count = rows.end - rows.begin;
  int64_t column_count = columns.end - columns.begin;
  int64_t width = panel_capacity(n, options[OPTION_BLOCK].integer);
  double blocks = 3.0 * (double)row_count * (double)column_count;
  double a_panels =
      grid.columns > 1 ? 2.0 * (double)row_count * (double)width : 0.0;
  double b_panels =
      grid.rows > 1 ? 2.0 * (double)width * (double)column_count : 0.0;
  double vectors = 7.0 * (double)n; /* x, b_times_x, verify_result */
  double engine = 0.0;
  if (options[OPTION_VARIANT].choice == VARIANT_BLOCKED)
    engine = parkit_gemm_workspace_bytes(requested_microkernel(options),
                                         ctx->threads, row_count, column_count,
                                         width);
  return sizeof(double) * (blocks + a_panels + b_panels + vectors) + engine;
}

/* ---- setup and teardown ------------------------------------------------ */

/* Fills this rank's blocks of A and B from the hash and zeroes C, inside
 * row blocks so pages land near the threads that touch them first. */
static void initialise_blocks(matmul_state *state) {
  const int64_t columns = state->column_count;
#pragma omp parallel for schedule(static)
  for (int64_t row_block = 0; row_block < row_block_count(state); ++row_block) {
    parkit_range local = row_block_rows(state, row_block);
    for (int64_t i = local.begin; i < local.end; ++i) {
      int64_t global_row = state->rows.begin + i;
      uint64_t a_key = row_key(state->context.seed, STREAM_A, global_row);
      uint64_t b_key = row_key(state->context.seed, STREAM_B, global_row);
      for (int64_t j = 0; j < columns; ++j) {
        int64_t global_column = state->columns.begin + j;
        state->a[i * columns + j] = uniform_entry(a_key, global_column);
        state->b[i * columns + j] = uniform_entry(b_key, global_column);
        state->c[i * columns + j] = 0.0;
      }
    }
  }
}

static void matmul_teardown(void *opaque_state) {
  matmul_state *state = opaque_state;
  if (state == NULL)
    return;
  /* Teardown is not collective: MPI_Comm_free only marks the communicator
   * for release, it does not wait for the other ranks. A failure to release
   * changes nothing the run reports. */
  if (state->row_communicator != MPI_COMM_NULL)
    (void)MPI_Comm_free(&state->row_communicator);
  if (state->column_communicator != MPI_COMM_NULL)
    (void)MPI_Comm_free(&state->column_communicator);
  free(state->a);
  free(state->b);
  free(state->c);
  for (int buffer = 0; buffer < 2; ++buffer) {
    free(state->a_panels[buffer]);
    free(state->b_panels[buffer]);
  }
  parkit_gemm_free(&state->gemm);
  free(state->x);
  free(state->b_times_x);
  free(state->verify_result);
  free(state);
}

static int allocate_buffers(matmul_state *state) {
  size_t block_size = (size_t)state->row_count * (size_t)state->column_count;
  int64_t width = panel_capacity(state->n, state->block);
  size_t n = (size_t)state->n;
  PARKIT_ALLOCATE(state->a, block_size);
  PARKIT_ALLOCATE(state->b, block_size);
  PARKIT_ALLOCATE(state->c, block_size);
  for (int buffer = 0; buffer < 2; ++buffer) {
    if (state->grid.columns > 1)
      PARKIT_ALLOCATE(state->a_panels[buffer],
                      (size_t)(state->row_count * width));
    if (state->grid.rows > 1)
      PARKIT_ALLOCATE(state->b_panels[buffer],
                      (size_t)(width * state->column_count));
  }
  if (state->variant == VARIANT_BLOCKED)
    PARKIT_CALL(parkit_gemm_init(&state->gemm, state->microkernel,
                                 state->context.threads, state->row_count,
                                 state->column_count, width));
  PARKIT_ALLOCATE(state->x, n);
  PARKIT_ALLOCATE(state->b_times_x, 2 * n);
  PARKIT_ALLOCATE(state->verify_result, 4 * n);
  return 0;
}

/* Everything setup does; on failure the caller frees what was made. */
static int setup_state(matmul_state *state, const parkit_context *ctx,
                       const parkit_value *options) {
  state->context = *ctx;
  state->n = options[OPTION_N].integer;
  state->block = options[OPTION_BLOCK].integer;
  state->variant = options[OPTION_VARIANT].choice;
  state->broadcast = options[OPTION_BROADCAST].choice;
  state->memory_bytes = matmul_memory_bytes(ctx, options);
  PARKIT_CALL(make_process_grid(ctx, &state->grid));
  PARKIT_CHECK(state->n >= state->grid.rows && state->n >= state->grid.columns,
               "--n %" PRId64 " is smaller than the %dx%d process grid",
               state->n, state->grid.rows, state->grid.columns);
  state->rows =
      parkit_balanced_part(state->n, state->grid.rows, state->grid.row);
  state->columns =
      parkit_balanced_part(state->n, state->grid.columns, state->grid.column);
  state->row_count = state->rows.end - state->rows.begin;
  state->column_count = state->columns.end - state->columns.begin;

  /* Collective: under auto, every rank runs the best micro-kernel all of
   * them support (the codes grow with capability), so the recorded
   * micro-kernel is the one that ran everywhere. */
  int microkernel = (int)requested_microkernel(options);
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &microkernel, 1, MPI_INT, MPI_MIN,
                                ctx->comm));
  state->microkernel = (parkit_gemm_microkernel)microkernel;

  /* Collective: ranks sharing a grid row (column) form one communicator,
   * ordered by grid column (row) so a panel's root is its owner's index. */
  PARKIT_MPI_CALL(MPI_Comm_split(ctx->comm, state->grid.row, state->grid.column,
                                 &state->row_communicator));
  PARKIT_MPI_CALL(MPI_Comm_split(ctx->comm, state->grid.column, state->grid.row,
                                 &state->column_communicator));
  PARKIT_CALL(allocate_buffers(state));
  initialise_blocks(state);
  return 0;
}

static int matmul_setup(const parkit_context *ctx, const parkit_value *options,
                        void **opaque_state) {
  matmul_state *state = NULL;
  PARKIT_ALLOCATE(state, 1);
  memset(state, 0, sizeof *state);
  state->row_communicator = MPI_COMM_NULL;
  state->column_communicator = MPI_COMM_NULL;
  for (int buffer = 0; buffer < 2; ++buffer)
    for (int operand = 0; operand < 2; ++operand)
      state->requests[buffer][operand] = MPI_REQUEST_NULL;
  if (setup_state(state, ctx, options) != 0) {
    matmul_teardown(state);
    return -1;
  }
  *opaque_state = state;
  return 0;
}

/* ---- the local multiply ------------------------------------------------- */

/* Reference: C += A panel B panel with the plain triple loop, one dot
 * product per entry of C; the threads split C's rows. */
static void multiply_reference(const matmul_state *state,
                               const summa_step *step) {
  const int64_t columns = state->column_count, width = step->width;
  double *c = state->c;
#pragma omp parallel for schedule(static)
  for (int64_t row_block = 0; row_block < row_block_count(state); ++row_block) {
    parkit_range rows = row_block_rows(state, row_block);
    for (int64_t i = rows.begin; i < rows.end; ++i)
      for (int64_t j = 0; j < columns; ++j) {
        double sum = c[i * columns + j];
        for (int64_t k = 0; k < width; ++k)
          sum += step->a[i * step->lda + k] * step->b[k * step->ldb + j];
        c[i * columns + j] = sum;
      }
  }
}

/* The engine's progress callback (OpenMP thread 0 only, FUNNELED): lets
 * Open MPI move the next panels, which it does only inside MPI calls. */
static void test_broadcasts(void *opaque_state) {
  matmul_state *state = opaque_state;
  int done = 0;
  int code = MPI_Testall(4, &state->requests[0][0], &done, MPI_STATUSES_IGNORE);
  if (code != MPI_SUCCESS && state->progress_error == MPI_SUCCESS)
    state->progress_error = code;
}

/* C (+)= the step's A panel times its B panel; the first step overwrites C,
 * so no pass zeroes it. */
static int multiply_step(matmul_state *state, const summa_step *step,
                         bool first) {
  if (state->variant == VARIANT_REFERENCE) {
    if (first)
      memset(state->c, 0,
             sizeof(double) * (size_t)(state->row_count * state->column_count));
    multiply_reference(state, step);
    return 0;
  }
  /* One rank has no broadcasts to progress. */
  bool test =
      state->broadcast == BROADCAST_IBCAST_TEST && state->context.size > 1;
  parkit_gemm_multiply(&state->gemm, state->row_count, state->column_count,
                       step->width, step->a, step->lda, step->b, step->ldb,
                       state->c, state->column_count, !first,
                       test ? test_broadcasts : NULL, state);
  if (state->progress_error != MPI_SUCCESS) {
    parkit_error_mpi(__FILE__, __LINE__, "MPI_Testall", state->progress_error);
    return -1;
  }
  return 0;
}

/* ---- run: SUMMA --------------------------------------------------------- */

/* The panel starting at global k0: as wide as --block allows without
 * crossing from one owner of A's columns or B's rows to the next. */
static summa_step plan_step(const matmul_state *state, int64_t k0) {
  summa_step step = {.k0 = k0};
  step.a_owner = parkit_balanced_owner(state->n, state->grid.columns, k0);
  step.b_owner = parkit_balanced_owner(state->n, state->grid.rows, k0);
  int64_t end = k0 + state->block;
  int64_t a_end =
      parkit_balanced_part(state->n, state->grid.columns, step.a_owner).end;
  int64_t b_end =
      parkit_balanced_part(state->n, state->grid.rows, step.b_owner).end;
  if (a_end < end)
    end = a_end;
  if (b_end < end)
    end = b_end;
  if (state->n < end)
    end = state->n;
  step.width = end - k0;
  return step;
}

/* Copies local columns [first_column, first_column + width) of A into the
 * contiguous row_count x width panel. */
static void pack_a_panel(const matmul_state *state, int64_t first_column,
                         int64_t width, double *panel) {
  const int64_t columns = state->column_count;
#pragma omp parallel for schedule(static)
  for (int64_t row_block = 0; row_block < row_block_count(state); ++row_block) {
    parkit_range rows = row_block_rows(state, row_block);
    for (int64_t i = rows.begin; i < rows.end; ++i)
      memcpy(panel + i * width, state->a + i * columns + first_column,
             sizeof(double) * (size_t)width);
  }
}

/* Sets where the step's panels are read from and starts their broadcasts
 * into buffer `buffer` (blocking under --broadcast bcast). Panels owned here
 * are read in place from the blocks; a grid dimension of 1 broadcasts
 * nothing. Collective over the row and column communicators. */
static int start_step(matmul_state *state, summa_step *step, int buffer) {
  MPI_Request *requests = state->requests[buffer];
  const bool blocking = state->broadcast == BROADCAST_BCAST;
  int64_t a_count = state->row_count * step->width;
  int64_t b_count = step->width * state->column_count;
  bool owns_a = state->grid.column == step->a_owner;
  bool owns_b = state->grid.row == step->b_owner;
  const double *a_block = state->a + (step->k0 - state->columns.begin);
  const double *b_block =
      state->b + (step->k0 - state->rows.begin) * state->column_count;

  step->a = a_block;
  step->lda = state->column_count;
  if (state->grid.columns > 1) {
    double *panel = state->a_panels[buffer];
    if (owns_a)
      pack_a_panel(state, step->k0 - state->columns.begin, step->width, panel);
    step->a = panel;
    step->lda = step->width;
    if (blocking)
      PARKIT_MPI_CALL(MPI_Bcast(panel, (int)a_count, MPI_DOUBLE, step->a_owner,
                                state->row_communicator));
    else
      PARKIT_MPI_CALL(MPI_Ibcast(panel, (int)a_count, MPI_DOUBLE, step->a_owner,
                                 state->row_communicator, &requests[0]));
  }

  step->b = b_block;
  step->ldb = state->column_count;
  if (state->grid.rows > 1) {
    /* B's rows are contiguous in the owner's block: it sends in place. */
    double *panel = owns_b ? (double *)b_block : state->b_panels[buffer];
    step->b = panel;
    if (blocking)
      PARKIT_MPI_CALL(MPI_Bcast(panel, (int)b_count, MPI_DOUBLE, step->b_owner,
                                state->column_communicator));
    else
      PARKIT_MPI_CALL(MPI_Ibcast(panel, (int)b_count, MPI_DOUBLE, step->b_owner,
                                 state->column_communicator, &requests[1]));
  }
  return 0;
}

static int finish_step(matmul_state *state, int buffer) {
  PARKIT_MPI_CALL(MPI_Waitall(2, state->requests[buffer], MPI_STATUSES_IGNORE));
  return 0;
}

/* SUMMA with double buffering: step s + 1's panels are in flight while
 * step s multiplies. */
static int matmul_run(void *opaque_state) {
  matmul_state *state = opaque_state;
  state->progress_error = MPI_SUCCESS;
  summa_step steps[2];
  steps[0] = plan_step(state, 0);
  PARKIT_CALL(start_step(state, &steps[0], 0));
  for (int64_t s = 0;; ++s) {
    int buffer = (int)(s % 2);
    summa_step *current = &steps[buffer];
    PARKIT_CALL(finish_step(state, buffer));
    int64_t next_k0 = current->k0 + current->width;
    if (next_k0 < state->n) {
      steps[1 - buffer] = plan_step(state, next_k0);
      PARKIT_CALL(start_step(state, &steps[1 - buffer], 1 - buffer));
    }
    PARKIT_CALL(multiply_step(state, current, s == 0));
    if (next_k0 >= state->n)
      break;
  }
  return 0;
}

/* ---- verify: Freivalds -------------------------------------------------- */

/* Adds this rank's share of M v (or of |M| |v| when `absolute`) into the
 * full-length `product`: local row i of `block` feeds entry rows.begin + i
 * and reads v from entry columns.begin on. */
static void add_block_times_vector(const matmul_state *state,
                                   const double *block, const double *vector,
                                   bool absolute, double *product) {
  const int64_t columns = state->column_count;
  const double *v = vector + state->columns.begin;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < state->row_count; ++i) {
    const double *row = block + i * columns;
    double sum = 0.0;
    if (absolute)
      for (int64_t j = 0; j < columns; ++j)
        sum += fabs(row[j]) * fabs(v[j]);
    else
      for (int64_t j = 0; j < columns; ++j)
        sum += row[j] * v[j];
    product[state->rows.begin + i] += sum;
  }
}

/* Sums of each local row of C into entries rows.begin.. of `sums`. */
static void add_row_sums(const matmul_state *state, double *sums) {
  const int64_t columns = state->column_count;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < state->row_count; ++i) {
    double sum = 0.0;
    for (int64_t j = 0; j < columns; ++j)
      sum += state->c[i * columns + j];
    sums[state->rows.begin + i] += sum;
  }
}

/* Collective: x, then B x and |B||x|, then A (B x), |A| (|B||x|), C x and
 * the row sums of C, each assembled over all ranks. */
static int compute_verification_vectors(matmul_state *state) {
  const int64_t n = state->n;
  uint64_t x_key = row_key(state->context.seed, STREAM_X, 0);
  for (int64_t j = 0; j < n; ++j)
    state->x[j] = uniform_entry(x_key, j);

  double *b_x = state->b_times_x, *absolute_b_x = state->b_times_x + n;
  memset(state->b_times_x, 0, sizeof(double) * 2 * (size_t)n);
  add_block_times_vector(state, state->b, state->x, false, b_x);
  add_block_times_vector(state, state->b, state->x, true, absolute_b_x);
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, state->b_times_x, (int)(2 * n),
                                MPI_DOUBLE, MPI_SUM, state->context.comm));

  /* A's local columns are the k range [columns.begin, columns.end), so the
   * same helper reads (B x) from there. */
  double *a_b_x = state->verify_result, *bound = state->verify_result + n;
  double *c_x = state->verify_result + 2 * n;
  double *row_sums = state->verify_result + 3 * n;
  memset(state->verify_result, 0, sizeof(double) * 4 * (size_t)n);
  add_block_times_vector(state, state->a, b_x, false, a_b_x);
  add_block_times_vector(state, state->a, absolute_b_x, true, bound);
  add_block_times_vector(state, state->c, state->x, false, c_x);
  add_row_sums(state, row_sums);
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, state->verify_result,
                                (int)(4 * n), MPI_DOUBLE, MPI_SUM,
                                state->context.comm));
  return 0;
}

static int matmul_verify(void *opaque_state, parkit_outputs *outputs,
                         parkit_verdict *verdict) {
  matmul_state *state = opaque_state;
  const int64_t n = state->n;
  PARKIT_CALL(compute_verification_vectors(state));
  const double *a_b_x = state->verify_result;
  const double *bound = state->verify_result + n;
  const double *c_x = state->verify_result + 2 * n;
  const double *row_sums = state->verify_result + 3 * n;

  /* Every rank holds the same assembled vectors, so every rank reaches the
   * same verdict and records the same outputs. */
  const double tolerance = 4.0 * (double)n * DBL_EPSILON;
  double worst = 0.0;
  int64_t failures = 0, first_failure = -1;
  for (int64_t i = 0; i < n; ++i) {
    double residual = fabs(c_x[i] - a_b_x[i]);
    /* Written so that a NaN anywhere fails. */
    if (!(residual <= tolerance * bound[i])) {
      if (failures++ == 0)
        first_failure = i;
    }
    double scaled = residual == 0.0 ? 0.0 : residual / bound[i];
    if (isnan(scaled) || scaled > worst)
      worst = scaled;
  }
  double c_sum = 0.0;
  for (int64_t i = 0; i < n; ++i)
    c_sum += row_sums[i];

  verdict->passed = failures == 0;
  if (verdict->passed)
    snprintf(verdict->message, sizeof verdict->message,
             "Freivalds: max |Cx - A(Bx)| / (|A||B||x|) = %.2g <= tolerance "
             "%.2g (4 n eps)",
             worst, tolerance);
  else
    snprintf(verdict->message, sizeof verdict->message,
             "Freivalds: |Cx - A(Bx)| > %.2g |A||B||x| (4 n eps) in %" PRId64
             " of %" PRId64 " rows, first row %" PRId64
             "; max scaled residual %.2g",
             tolerance, failures, n, first_failure, worst);

  PARKIT_CALL(parkit_output_real(outputs, "tolerance", tolerance));
  PARKIT_CALL(parkit_output_real(outputs, "max_scaled_residual", worst));
  PARKIT_CALL(parkit_output_reals(outputs, "cx", c_x, (size_t)n));
  PARKIT_CALL(parkit_output_reals(outputs, "bound", bound, (size_t)n));
  PARKIT_CALL(parkit_output_real(outputs, "c_sum", c_sum));
  /* Collective: the largest rank's allocation, for comparing with the
   * largest peak resident size in the result file. */
  double memory_bytes = state->memory_bytes;
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &memory_bytes, 1, MPI_DOUBLE,
                                MPI_MAX, state->context.comm));
  PARKIT_CALL(
      parkit_output_integer(outputs, "memory_bytes", (int64_t)memory_bytes));
  int64_t microkernel =
      state->variant == VARIANT_REFERENCE ? -1 : (int64_t)state->microkernel;
  PARKIT_CALL(parkit_output_integer(outputs, "microkernel", microkernel));
  return 0;
}

/* ---- work --------------------------------------------------------------- */

static parkit_work matmul_work(const void *opaque_state) {
  const matmul_state *state = opaque_state;
  double n = (double)state->n;
  return (parkit_work){.flops = 2.0 * n * n * n,
                       .bytes = 3.0 * sizeof(double) * n * n,
                       .items = 0.0,
                       .rate_basis = PARKIT_RATE_FLOPS};
}

static const parkit_output_spec matmul_outputs[] = {
    {.name = "tolerance",
     .unit = "1",
     .description = "Freivalds tolerance 4 n eps, relative to |A||B||x|",
     .agreement = PARKIT_OUTPUT_BITWISE},
    {.name = "max_scaled_residual",
     .unit = "1",
     .description = "max over i of |Cx - A(Bx)|_i / (|A||B||x|)_i",
     .agreement = PARKIT_OUTPUT_DIFFERS,
     .headline = PARKIT_HEADLINE_VALUE},
    {.name = "cx",
     .unit = "1",
     .description = "C x for the hashed test vector x",
     .shape = "n",
     .agreement = PARKIT_OUTPUT_TOLERANCE,
     .tolerance = "tolerance",
     .scale = "bound"},
    {.name = "bound",
     .unit = "1",
     .description = "|A| (|B| |x|), the scale of each entry of C x",
     .shape = "n",
     .agreement = PARKIT_OUTPUT_TOLERANCE,
     .tolerance = "tolerance",
     .scale = "bound"},
    {.name = "c_sum",
     .unit = "1",
     .description = "sum of all entries of C",
     .agreement = PARKIT_OUTPUT_DIFFERS},
    {.name = "memory_bytes",
     .unit = "bytes",
     .description = "largest allocation of any rank (blocks, panel buffers, "
                    "GEMM packing buffers, verification vectors)",
     .agreement = PARKIT_OUTPUT_DIFFERS},
    {.name = "microkernel",
     .unit = "1",
     .description = "GEMM micro-kernel that ran on every rank: 0 portable, 1 "
                    "avx2, 2 avx512, -1 none (--variant reference)",
     .agreement = PARKIT_OUTPUT_DIFFERS},
};

/* n = 211: edge tiles in every blocking; each configuration also takes
 * another way of broadcasting panels; every micro-kernel the CPU has. */
static const parkit_test_config matmul_tests[] = {
    {.name = "matmul", .arguments = "--n 211 --block 32"},
    {.name = "matmul-reference",
     .arguments = "--n 211 --block 16 --variant reference"},
    {.name = "matmul-avx512",
     .arguments = "--n 211 --block 40 --microkernel avx512 --broadcast ibcast",
     .requires = "avx512f"},
    {.name = "matmul-avx2",
     .arguments = "--n 211 --block 48 --microkernel avx2 --broadcast bcast",
     .requires = "avx2 fma"},
    {.name = "matmul-portable",
     .arguments = "--n 211 --block 211 --microkernel portable"},
};

static const parkit_rate_unit_spec matmul_rate_units[] = {{.unit = "GFLOP/s"}};

const parkit_kernel parkit_kernel_matmul = {
    .name = "matmul",
    .summary = "dense matrix multiply C = AB (SUMMA over a 2D process grid, "
               "threads share each block)",
    .options = matmul_options,
    .option_count = OPTION_COUNT,
    .kind = PARKIT_KERNEL_WORK,
    .outputs = matmul_outputs,
    .output_count = PARKIT_COUNT(matmul_outputs),
    .rate_units = matmul_rate_units,
    .rate_unit_count = PARKIT_COUNT(matmul_rate_units),
    .tests = matmul_tests,
    .test_count = PARKIT_COUNT(matmul_tests),
    .memcheck_arguments = "--n 64 --block 16",
    .working_set = {.option = "n", .bytes_per_unit = 24, .exponent = 2},
    .validate = matmul_validate,
    .memory_bytes = matmul_memory_bytes,
    .setup = matmul_setup,
    .run = matmul_run,
    .verify = matmul_verify,
    .teardown = matmul_teardown,
    .work = matmul_work,
};
