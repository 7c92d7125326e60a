/*
 * matmul: dense matrix multiply C = A B of n x n doubles, distributed with
 * SUMMA over a 2D process grid; the threads of a rank share each block.
 *
 * Parameters
 *   --n        matrix order (elements)
 *   --block    SUMMA panel width (elements): how many columns of A and rows
 *              of B are broadcast and multiplied per step
 *   --variant  local block multiply: "blocked" (cache-blocked, vectorised
 *              i-k-j loop) or "reference" (plain triple loop, the yardstick
 *              the tests compare the fast one against)
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
 * column, and every rank adds A_panel * B_panel to its block of C.
 *
 * Split over threads: one `omp parallel for` over blocks of ROW_BLOCK rows of
 * C, with the same static schedule everywhere rows are touched (first touch
 * in setup; zeroing C, packing the A panel and the multiply in run), so each
 * thread works on rows of A, B and C that live in memory it touched first.
 * The local multiply is one function, multiply_panel, so faster micro-kernels
 * can replace it without touching the SUMMA loop.
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
 * communicators), run (MPI_Bcast on those), verify (MPI_Allreduce on
 * ctx->comm). validate, memory_bytes, teardown and work communicate with
 * no one (validate and memory_bytes only ask MPI_Dims_create for the grid
 * shape, a local computation).
 */
#include "check.h"
#include "kernel.h"
#include "partition.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- options ---------------------------------------------------------- */

enum { OPTION_N, OPTION_BLOCK, OPTION_VARIANT, OPTION_COUNT };

/* Indices into the "blocked|reference" choice list. */
enum { VARIANT_BLOCKED, VARIANT_REFERENCE };

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
                      .default_value = "128",
                      .unit = "elements",
                      .help = "SUMMA panel width: columns of A and rows of B "
                              "broadcast per step",
                      .min = 1,
                      .max = 65536},
    [OPTION_VARIANT] = {.name = "variant",
                        .type = PARKIT_OPTION_CHOICE,
                        .default_value = "blocked",
                        .unit = "1",
                        .help = "local multiply: cache-blocked vectorised "
                                "loop, or the plain triple loop it is tested "
                                "against",
                        .choices = "blocked|reference"},
};

/* ---- tuning of the local multiply ------------------------------------- */

enum {
  /* Rows of C per OpenMP work item: large enough that a thread reuses the B
   * panel from cache over many rows, small enough to balance small blocks. */
  ROW_BLOCK = 32,
  /* The blocked multiply works on a B sub-panel of INNER_BLOCK rows by
   * COLUMN_BLOCK columns (512 KiB) so it stays in a 1 MiB L2 while every
   * tile of the row block passes over it; a tile's 4 rows of C (16 KiB) stay
   * in L1. Measured on AVX-512 Zen: 256..1024 columns are within noise. */
  COLUMN_BLOCK = 512,
  INNER_BLOCK = 128,
};

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

typedef struct matmul_state {
  parkit_context context;
  int64_t n, block;
  int variant;
  process_grid grid;
  /* Global rows of A, B and C held here (also B's k range), and global
   * columns of A, B and C held here (also A's k range). */
  parkit_range rows, columns;
  int64_t row_count, column_count;
  MPI_Comm row_communicator;    /* this grid row; rank = grid column */
  MPI_Comm column_communicator; /* this grid column; rank = grid row */
  /* Local blocks, row-major, row_count x column_count each. */
  double *a, *b, *c;
  /* Received panels: A is row_count x width, B is width x column_count. */
  double *a_panel, *b_panel;
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
  return 0;
}

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
  double row_count = (double)(rows.end - rows.begin);
  double column_count = (double)(columns.end - columns.begin);
  double width = (double)panel_capacity(n, options[OPTION_BLOCK].integer);
  double blocks = 3.0 * row_count * column_count;
  double panels = width * (row_count + column_count);
  double vectors = 7.0 * (double)n; /* x, b_times_x, verify_result */
  return sizeof(double) * (blocks + panels + vectors);
}

/* ---- setup and teardown ------------------------------------------------ */

/* Fills this rank's blocks of A and B from the hash and zeroes C, inside the
 * same row-block split the multiply uses so pages land near their thread. */
static void initialise_blocks(matmul_state *state) {
  const int64_t columns = state->column_count;
  const int64_t panel_width = panel_capacity(state->n, state->block);
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
      memset(state->a_panel + i * panel_width, 0,
             sizeof(double) * (size_t)panel_width);
    }
  }
}

static void matmul_teardown(void *opaque_state) {
  matmul_state *state = opaque_state;
  if (state == NULL)
    return;
  /* Teardown is not collective: MPI_Comm_free only marks the communicator
   * for release, it does not wait for the other ranks. */
  if (state->row_communicator != MPI_COMM_NULL)
    MPI_Comm_free(&state->row_communicator);
  if (state->column_communicator != MPI_COMM_NULL)
    MPI_Comm_free(&state->column_communicator);
  free(state->a);
  free(state->b);
  free(state->c);
  free(state->a_panel);
  free(state->b_panel);
  free(state->x);
  free(state->b_times_x);
  free(state->verify_result);
  free(state);
}

/* Everything setup does; on failure the caller frees what was made. */
static int setup_state(matmul_state *state, const parkit_context *ctx,
                       const parkit_value *options) {
  state->context = *ctx;
  state->n = options[OPTION_N].integer;
  state->block = options[OPTION_BLOCK].integer;
  state->variant = options[OPTION_VARIANT].choice;
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

  /* Collective: ranks sharing a grid row (column) form one communicator,
   * ordered by grid column (row) so a panel's root is its owner's index. */
  PARKIT_MPI_CALL(MPI_Comm_split(ctx->comm, state->grid.row, state->grid.column,
                                 &state->row_communicator));
  PARKIT_MPI_CALL(MPI_Comm_split(ctx->comm, state->grid.column, state->grid.row,
                                 &state->column_communicator));

  size_t block_size = (size_t)state->row_count * (size_t)state->column_count;
  size_t width = (size_t)panel_capacity(state->n, state->block);
  size_t n = (size_t)state->n;
  PARKIT_ALLOCATE(state->a, block_size);
  PARKIT_ALLOCATE(state->b, block_size);
  PARKIT_ALLOCATE(state->c, block_size);
  PARKIT_ALLOCATE(state->a_panel, (size_t)state->row_count * width);
  PARKIT_ALLOCATE(state->b_panel, width * (size_t)state->column_count);
  PARKIT_ALLOCATE(state->x, n);
  PARKIT_ALLOCATE(state->b_times_x, 2 * n);
  PARKIT_ALLOCATE(state->verify_result, 4 * n);
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
  if (setup_state(state, ctx, options) != 0) {
    matmul_teardown(state);
    return -1;
  }
  *opaque_state = state;
  return 0;
}

/* ---- the local multiply ------------------------------------------------- */

/* C (rows x columns) += A panel (rows x width) * B panel (width x columns),
 * all row-major and contiguous. */
typedef struct panel_product {
  int64_t columns, width;
  const double *a_panel, *b_panel;
  double *c;
} panel_product;

/* Reference: the plain triple loop, one dot product per entry of C. */
static void multiply_rows_reference(const panel_product *product,
                                    parkit_range rows) {
  const int64_t columns = product->columns, width = product->width;
  for (int64_t i = rows.begin; i < rows.end; ++i)
    for (int64_t j = 0; j < columns; ++j) {
      double sum = product->c[i * columns + j];
      for (int64_t k = 0; k < width; ++k)
        sum +=
            product->a_panel[i * width + k] * product->b_panel[k * columns + j];
      product->c[i * columns + j] = sum;
    }
}

/* Rows [row, row + 4) of C, columns j_range, inner indices k_range. Four
 * steps of k at a time: each element of C is loaded and stored once per
 * sixteen multiply-adds, each B element loaded feeds four rows, and the j
 * loop is a unit-stride vector loop. Every C entry still accumulates its
 * products in increasing k, one rounding per multiply-add. */
static void update_four_rows(const panel_product *product, int64_t row,
                             parkit_range k_range, parkit_range j_range) {
  const int64_t columns = product->columns, width = product->width;
  const double *a0 = product->a_panel + row * width;
  const double *a1 = a0 + width, *a2 = a1 + width, *a3 = a2 + width;
  double *c0 = product->c + row * columns;
  double *c1 = c0 + columns, *c2 = c1 + columns, *c3 = c2 + columns;
  int64_t k = k_range.begin;
  for (; k + 4 <= k_range.end; k += 4) {
    const double *b0 = product->b_panel + k * columns;
    const double *b1 = b0 + columns, *b2 = b1 + columns, *b3 = b2 + columns;
    const double a00 = a0[k], a01 = a0[k + 1], a02 = a0[k + 2], a03 = a0[k + 3];
    const double a10 = a1[k], a11 = a1[k + 1], a12 = a1[k + 2], a13 = a1[k + 3];
    const double a20 = a2[k], a21 = a2[k + 1], a22 = a2[k + 2], a23 = a2[k + 3];
    const double a30 = a3[k], a31 = a3[k + 1], a32 = a3[k + 2], a33 = a3[k + 3];
#pragma omp simd
    for (int64_t j = j_range.begin; j < j_range.end; ++j) {
      const double b0j = b0[j], b1j = b1[j], b2j = b2[j], b3j = b3[j];
      double sum0 = c0[j], sum1 = c1[j], sum2 = c2[j], sum3 = c3[j];
      sum0 += a00 * b0j;
      sum1 += a10 * b0j;
      sum2 += a20 * b0j;
      sum3 += a30 * b0j;
      sum0 += a01 * b1j;
      sum1 += a11 * b1j;
      sum2 += a21 * b1j;
      sum3 += a31 * b1j;
      sum0 += a02 * b2j;
      sum1 += a12 * b2j;
      sum2 += a22 * b2j;
      sum3 += a32 * b2j;
      sum0 += a03 * b3j;
      sum1 += a13 * b3j;
      sum2 += a23 * b3j;
      sum3 += a33 * b3j;
      c0[j] = sum0;
      c1[j] = sum1;
      c2[j] = sum2;
      c3[j] = sum3;
    }
  }
  for (; k < k_range.end; ++k) {
    const double *b = product->b_panel + k * columns;
    const double a0k = a0[k], a1k = a1[k], a2k = a2[k], a3k = a3[k];
#pragma omp simd
    for (int64_t j = j_range.begin; j < j_range.end; ++j) {
      const double bj = b[j];
      c0[j] += a0k * bj;
      c1[j] += a1k * bj;
      c2[j] += a2k * bj;
      c3[j] += a3k * bj;
    }
  }
}

/* The same for the one to three rows left over at the end of a row block. */
static void update_one_row(const panel_product *product, int64_t row,
                           parkit_range k_range, parkit_range j_range) {
  const int64_t columns = product->columns, width = product->width;
  const double *a = product->a_panel + row * width;
  double *c = product->c + row * columns;
  for (int64_t k = k_range.begin; k < k_range.end; ++k) {
    const double *b = product->b_panel + k * columns;
    const double ak = a[k];
#pragma omp simd
    for (int64_t j = j_range.begin; j < j_range.end; ++j)
      c[j] += ak * b[j];
  }
}

/* Blocked: walk B in INNER_BLOCK x COLUMN_BLOCK sub-panels that stay in L2
 * and pass every 4-row tile of this row block over each. */
static void multiply_rows_blocked(const panel_product *product,
                                  parkit_range rows) {
  for (int64_t j0 = 0; j0 < product->columns; j0 += COLUMN_BLOCK) {
    parkit_range j_range = {j0, j0 + COLUMN_BLOCK};
    if (j_range.end > product->columns)
      j_range.end = product->columns;
    for (int64_t k0 = 0; k0 < product->width; k0 += INNER_BLOCK) {
      parkit_range k_range = {k0, k0 + INNER_BLOCK};
      if (k_range.end > product->width)
        k_range.end = product->width;
      int64_t row = rows.begin;
      for (; row + 4 <= rows.end; row += 4)
        update_four_rows(product, row, k_range, j_range);
      for (; row < rows.end; ++row)
        update_one_row(product, row, k_range, j_range);
    }
  }
}

/* C += A panel * B panel with the threads splitting C's rows: each thread
 * writes only its own rows of C and reads its rows of the A panel. */
static void multiply_panel(const matmul_state *state,
                           const panel_product *product) {
#pragma omp parallel for schedule(static)
  for (int64_t row_block = 0; row_block < row_block_count(state); ++row_block) {
    parkit_range rows = row_block_rows(state, row_block);
    if (state->variant == VARIANT_REFERENCE)
      multiply_rows_reference(product, rows);
    else
      multiply_rows_blocked(product, rows);
  }
}

/* ---- run: SUMMA --------------------------------------------------------- */

/* MPI_Bcast counts are int; panels of huge matrices can hold more. */
static int broadcast_doubles(double *buffer, size_t count, int root,
                             MPI_Comm communicator) {
  const size_t chunk = (size_t)1 << 30;
  for (size_t done = 0; done < count; done += chunk) {
    size_t part = count - done < chunk ? count - done : chunk;
    PARKIT_MPI_CALL(
        MPI_Bcast(buffer + done, (int)part, MPI_DOUBLE, root, communicator));
  }
  return 0;
}

/* Copies local columns [first_column, first_column + width) of A into the
 * contiguous row_count x width A panel. */
static void pack_a_panel(matmul_state *state, int64_t first_column,
                         int64_t width) {
  const int64_t columns = state->column_count;
#pragma omp parallel for schedule(static)
  for (int64_t row_block = 0; row_block < row_block_count(state); ++row_block) {
    parkit_range rows = row_block_rows(state, row_block);
    for (int64_t i = rows.begin; i < rows.end; ++i)
      memcpy(state->a_panel + i * width, state->a + i * columns + first_column,
             sizeof(double) * (size_t)width);
  }
}

static void zero_c(matmul_state *state) {
  const int64_t columns = state->column_count;
#pragma omp parallel for schedule(static)
  for (int64_t row_block = 0; row_block < row_block_count(state); ++row_block) {
    parkit_range rows = row_block_rows(state, row_block);
    memset(state->c + rows.begin * columns, 0,
           sizeof(double) * (size_t)((rows.end - rows.begin) * columns));
  }
}

/* The panel starting at global k0: as wide as --block allows without
 * crossing from one owner of A's columns or B's rows to the next. */
static int64_t panel_width(const matmul_state *state, int64_t k0) {
  int a_owner = parkit_balanced_owner(state->n, state->grid.columns, k0);
  int b_owner = parkit_balanced_owner(state->n, state->grid.rows, k0);
  int64_t end = k0 + state->block;
  int64_t a_end =
      parkit_balanced_part(state->n, state->grid.columns, a_owner).end;
  int64_t b_end = parkit_balanced_part(state->n, state->grid.rows, b_owner).end;
  if (a_end < end)
    end = a_end;
  if (b_end < end)
    end = b_end;
  if (state->n < end)
    end = state->n;
  return end - k0;
}

static int matmul_run(void *opaque_state) {
  matmul_state *state = opaque_state;
  zero_c(state);
  int64_t width = 0;
  for (int64_t k0 = 0; k0 < state->n; k0 += width) {
    width = panel_width(state, k0);
    int a_owner = parkit_balanced_owner(state->n, state->grid.columns, k0);
    int b_owner = parkit_balanced_owner(state->n, state->grid.rows, k0);

    if (state->grid.column == a_owner)
      pack_a_panel(state, k0 - state->columns.begin, width);
    PARKIT_CALL(broadcast_doubles(state->a_panel,
                                  (size_t)(state->row_count * width), a_owner,
                                  state->row_communicator));

    /* B's rows are already contiguous in the owner's block: it broadcasts
     * them in place instead of copying them into the panel first. */
    double *b_panel = state->b_panel;
    if (state->grid.row == b_owner)
      b_panel = state->b + (k0 - state->rows.begin) * state->column_count;
    PARKIT_CALL(broadcast_doubles(b_panel,
                                  (size_t)(width * state->column_count),
                                  b_owner, state->column_communicator));

    panel_product product = {.columns = state->column_count,
                             .width = width,
                             .a_panel = state->a_panel,
                             .b_panel = b_panel,
                             .c = state->c};
    multiply_panel(state, &product);
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

  PARKIT_CALL(parkit_output_real(outputs, "tolerance", tolerance, "1",
                                 "Freivalds tolerance 4 n eps, relative to "
                                 "|A||B||x|"));
  PARKIT_CALL(parkit_output_real(outputs, "max_scaled_residual", worst, "1",
                                 "max over i of |Cx - A(Bx)|_i / "
                                 "(|A||B||x|)_i"));
  PARKIT_CALL(parkit_output_reals(outputs, "cx", c_x, (size_t)n, "1",
                                  "C x for the hashed test vector x"));
  PARKIT_CALL(parkit_output_reals(outputs, "bound", bound, (size_t)n, "1",
                                  "|A| (|B| |x|), the scale of each entry "
                                  "of C x"));
  PARKIT_CALL(parkit_output_real(outputs, "c_sum", c_sum, "1",
                                 "sum of all entries of C"));
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

const parkit_kernel parkit_kernel_matmul = {
    .name = "matmul",
    .summary = "dense matrix multiply C = AB (SUMMA over a 2D process grid, "
               "threads share each block)",
    .options = matmul_options,
    .option_count = OPTION_COUNT,
    .validate = matmul_validate,
    .memory_bytes = matmul_memory_bytes,
    .setup = matmul_setup,
    .run = matmul_run,
    .verify = matmul_verify,
    .teardown = matmul_teardown,
    .work = matmul_work,
};
