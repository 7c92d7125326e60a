/*
 * stencil: explicit time steps of the 2-D heat equation u_t = u_xx + u_yy
 * (diffusivity 1, dimensionless) on the unit square, u = 0 on the boundary,
 * starting from the sine mode u0 = sin(pi x) sin(pi y), whose exact solution
 * is exp(-2 pi^2 t) u0.
 *
 * Parameters
 *   --n           grid points per side, boundary included: x_i = i h,
 *                 h = 1 / (n - 1); the n - 2 interior points per side are
 *                 updated, the boundary stays 0
 *   --steps       forward-Euler time steps per repetition, dt = h^2 / 8
 *                 (stable for every radius below)
 *   --radius      r: the star stencil of radius r, the central difference of
 *                 order 2r for each second derivative (r = 1: 5 points)
 *   --save        record the final n x n field (output `field`), written
 *                 collectively by all ranks as one dataset
 *   --perturb     test only: corrupts the final field so verification fails
 *
 * Each point's update is u' = w0 u + sum_k w_k ((N_k + S_k) + (W_k + E_k)),
 * k = 1..r, w_k = dt c_k / h^2 (c_k the difference weights), w0 = 1 +
 * 2 dt c_0 / h^2: 5r + 1 flops. Work per repetition: steps (n - 2)^2
 * updates ("updates") and 5r + 1 flops each; the rate is in GFLOP/s, and
 * updates per second are work_items / time. A repetition starts from u0 (run()
 * rewrites the field first, n^2 stores), so every repetition computes the same.
 *
 * Split over ranks: MPI_Dims_create + MPI_Cart_create (no reordering) on
 * ctx->comm make a grid_rows x grid_columns process grid; rows and columns of
 * the field are split over it with parkit_balanced_part. Each rank keeps its
 * block with a halo r deep. Per step, the halos are exchanged with the four
 * neighbours by non-blocking MPI (derived vector types, no packing); while
 * the messages travel the rank updates the points that need no halo, then
 * waits and updates the strips along its block's edges. A star stencil needs
 * no corners. Beyond the physical boundary the halo holds the odd reflection
 * u(-x) = -u(x), which the sine mode (and the exact solution) satisfies, so
 * wide stencils see consistent values there. Threads share every update
 * region by rows (static schedule, the same rows first-touched in setup).
 *
 * Split independence: every point is updated by the same expression in the
 * same order whichever rank or region holds it, and the file is compiled
 * with -ffp-contract=off (kernels/CMakeLists.txt) so that no code path fuses
 * a multiply-add another does not. The field, its error and its checksum are
 * the same bits for every ranks x threads split.
 *
 * Verification: the sine mode is an eigenvector of the discrete operator, so
 * the computed field is g^steps u0 with g = 1 + dt lambda_h, lambda_h the
 * stencil's eigenvalue. Its distance from the exact exp(-2 pi^2 T) u0 at
 * T = steps dt is, in the max norm, at most the scheme's truncation error
 *   T |lambda_h - lambda| + T lambda^2 dt / 2,  lambda = -2 pi^2,
 * with |lambda_h - lambda| ~ 2 C_r pi^(2r+2) h^(2r) (C_r = 2 (r!)^2 /
 * (2r+2)!, the leading error constant of the difference: 1/12, 1/90, ...).
 * The check allows twice that estimate plus rounding, (4 (5r+1) steps + 16)
 * eps, and fails on any non-finite value. A kernel that did nothing would
 * miss by about 2 pi^2 T, far above the tolerance.
 *
 * run() marks two phases, which the runner times on every rank and stores
 * per repetition: compute (updates and boundary reflections) and halo
 * (posting the messages and waiting for them).
 *
 * Collective calls (ctx->comm and its Cartesian copy): setup
 * (MPI_Cart_create), run (Isend/Irecv/Waitall with the neighbours), verify
 * (MPI_Allreduce). validate and memory_bytes only call MPI_Dims_create.
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

enum {
  OPTION_N,
  OPTION_STEPS,
  OPTION_RADIUS,
  OPTION_SAVE,
  OPTION_PERTURB,
  OPTION_COUNT
};

#define MAX_RADIUS 4

static const parkit_option stencil_options[OPTION_COUNT] = {
    [OPTION_N] = {.name = "n",
                  .type = PARKIT_OPTION_INT,
                  .default_value = "1536",
                  .unit = "points",
                  .help = "grid points per side (boundary included): the "
                          "field is n x n",
                  .min = 3,
                  .max = 1048576},
    [OPTION_STEPS] = {.name = "steps",
                      .type = PARKIT_OPTION_INT,
                      .default_value = "20",
                      .unit = "steps",
                      .help = "explicit time steps per repetition, each "
                              "dt = h^2 / 8",
                      .min = 1,
                      .max = 100000000},
    [OPTION_RADIUS] = {.name = "radius",
                       .type = PARKIT_OPTION_INT,
                       .default_value = "1",
                       .unit = "points",
                       .help = "star stencil radius r: order-2r differences "
                               "(1: the 5-point stencil)",
                       .min = 1,
                       .max = MAX_RADIUS},
    [OPTION_SAVE] = {.name = "save",
                     .type = PARKIT_OPTION_FLAG,
                     .unit = "1",
                     .help = "record the final n x n field as output "
                             "`field`, written by all ranks"},
    [OPTION_PERTURB] = {.name = "perturb",
                        .type = PARKIT_OPTION_FLAG,
                        .unit = "1",
                        .help = "test only: corrupt the final field so that "
                                "verification must fail"},
};

/* Central second-difference weights c_0..c_r of order 2r (c_{-k} = c_k). */
static const double difference_weights[MAX_RADIUS + 1][MAX_RADIUS + 1] = {
    [1] = {-2.0, 1.0},
    [2] = {-5.0 / 2.0, 4.0 / 3.0, -1.0 / 12.0},
    [3] = {-49.0 / 18.0, 3.0 / 2.0, -3.0 / 20.0, 1.0 / 90.0},
    [4] = {-205.0 / 72.0, 8.0 / 5.0, -1.0 / 5.0, 8.0 / 315.0, -1.0 / 560.0},
};

/* dt = h^2 / TIME_STEP_DIVISOR; 8 keeps forward Euler stable up to r = 4
 * (the most negative eigenvalue is 13.0 / h^2 there, stability needs 2). */
#define TIME_STEP_DIVISOR 8.0

static const double pi = 3.14159265358979323846;

/* ---- process grid and state --------------------------------------------- */

typedef struct stencil_state {
  parkit_context context;
  int64_t n, steps;
  int radius;
  bool save_field, perturb;
  int grid_dims[2];     /* process grid rows, columns */
  int grid_coords[2];   /* this rank's place */
  MPI_Comm cartesian;   /* ctx->comm with the grid attached */
  int neighbour[4];     /* NORTH, SOUTH, WEST, EAST or MPI_PROC_NULL */
  parkit_range rows;    /* global rows held here */
  parkit_range columns; /* global columns held here */
  int64_t row_count, column_count, stride; /* stride = columns + 2r */
  MPI_Datatype row_halo, column_halo;      /* r rows; r columns */
  double weights[MAX_RADIUS + 1];          /* w0, w1..wr */
  double *field[2]; /* (rows + 2r) x (columns + 2r), halo included */
  int current;      /* which field holds the latest step */
  double *sines;    /* sin(pi x_i) for every global i */
} stencil_state;

enum { NORTH, SOUTH, WEST, EAST };

static int make_grid_dims(int ranks, int dims[2]) {
  dims[0] = dims[1] = 0;
  PARKIT_MPI_CALL(MPI_Dims_create(ranks, 2, dims));
  return 0;
}

/* Pointer to local point (i, j); i, j may reach r into the halo. */
static inline double *point(const stencil_state *state, double *field,
                            int64_t i, int64_t j) {
  return field + (i + state->radius) * state->stride + (j + state->radius);
}

/* ---- validate and memory_bytes ------------------------------------------ */

static int stencil_validate(const parkit_context *ctx,
                            const parkit_value *options, char *message,
                            size_t message_size) {
  int dims[2];
  if (make_grid_dims(ctx->size, dims) != 0) {
    snprintf(message, message_size,
             "cannot form a 2D process grid for %d ranks", ctx->size);
    return -1;
  }
  int64_t n = options[OPTION_N].integer;
  int64_t radius = options[OPTION_RADIUS].integer;
  int largest = dims[0] > dims[1] ? dims[0] : dims[1];
  /* Halos come from direct neighbours only, and the boundary reflection
   * reads r points inside the block: every block side needs r + 1. */
  if (n / largest < radius + 1) {
    snprintf(message, message_size,
             "--n %" PRId64 " is too small for --radius %" PRId64
             " on %d ranks: the %dx%d process grid needs n >= %" PRId64
             " (radius + 1 points per block side)",
             n, radius, ctx->size, dims[0], dims[1], largest * (radius + 1));
    return -1;
  }
  return 0;
}

static double stencil_memory_bytes(const parkit_context *ctx,
                                   const parkit_value *options) {
  int dims[2] = {1, 1};
  if (make_grid_dims(ctx->size, dims) != 0)
    dims[0] = dims[1] = 1;
  double n = (double)options[OPTION_N].integer;
  double halo = 2.0 * (double)options[OPTION_RADIUS].integer;
  double block = (n / dims[0] + 1 + halo) * (n / dims[1] + 1 + halo);
  double saved = options[OPTION_SAVE].flag ? block : 0.0;
  return sizeof(double) * (2.0 * block + saved + n);
}

/* ---- setup and teardown ------------------------------------------------- */

static void stencil_teardown(void *opaque_state) {
  stencil_state *state = opaque_state;
  if (state == NULL)
    return;
  /* Clean-up: a failure to release changes nothing the run reports. */
  if (state->row_halo != MPI_DATATYPE_NULL)
    (void)MPI_Type_free(&state->row_halo);
  if (state->column_halo != MPI_DATATYPE_NULL)
    (void)MPI_Type_free(&state->column_halo);
  if (state->cartesian != MPI_COMM_NULL)
    (void)MPI_Comm_free(&state->cartesian);
  free(state->field[0]);
  free(state->field[1]);
  free(state->sines);
  free(state);
}

static int make_halo_types(stencil_state *state) {
  int r = state->radius;
  PARKIT_MPI_CALL(MPI_Type_vector(r, (int)state->column_count,
                                  (int)state->stride, MPI_DOUBLE,
                                  &state->row_halo));
  PARKIT_MPI_CALL(MPI_Type_commit(&state->row_halo));
  PARKIT_MPI_CALL(MPI_Type_vector((int)state->row_count, r, (int)state->stride,
                                  MPI_DOUBLE, &state->column_halo));
  PARKIT_MPI_CALL(MPI_Type_commit(&state->column_halo));
  return 0;
}

/* Both fields zero (boundary included: it is never written again), touched
 * first by the threads that update the same rows. */
static void first_touch(stencil_state *state) {
  int64_t halo_rows = state->row_count + 2 * state->radius;
  for (int f = 0; f < 2; ++f) {
    double *field = state->field[f];
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < halo_rows; ++i)
      memset(field + i * state->stride, 0,
             sizeof(double) * (size_t)state->stride);
  }
}

static int setup_state(stencil_state *state, const parkit_context *ctx,
                       const parkit_value *options) {
  state->context = *ctx;
  state->n = options[OPTION_N].integer;
  state->steps = options[OPTION_STEPS].integer;
  state->radius = (int)options[OPTION_RADIUS].integer;
  state->save_field = options[OPTION_SAVE].flag;
  state->perturb = options[OPTION_PERTURB].flag;
  PARKIT_CALL(make_grid_dims(ctx->size, state->grid_dims));
  int periodic[2] = {0, 0};
  PARKIT_MPI_CALL(MPI_Cart_create(ctx->comm, 2, state->grid_dims, periodic, 0,
                                  &state->cartesian));
  PARKIT_MPI_CALL(
      MPI_Cart_coords(state->cartesian, ctx->rank, 2, state->grid_coords));
  PARKIT_MPI_CALL(MPI_Cart_shift(state->cartesian, 0, 1,
                                 &state->neighbour[NORTH],
                                 &state->neighbour[SOUTH]));
  PARKIT_MPI_CALL(MPI_Cart_shift(state->cartesian, 1, 1,
                                 &state->neighbour[WEST],
                                 &state->neighbour[EAST]));
  state->rows = parkit_balanced_part(state->n, state->grid_dims[0],
                                     state->grid_coords[0]);
  state->columns = parkit_balanced_part(state->n, state->grid_dims[1],
                                        state->grid_coords[1]);
  state->row_count = state->rows.end - state->rows.begin;
  state->column_count = state->columns.end - state->columns.begin;
  PARKIT_CHECK(state->row_count > state->radius &&
                   state->column_count > state->radius,
               "block %" PRId64 " x %" PRId64 " is too small for radius %d",
               state->row_count, state->column_count, state->radius);
  state->stride = state->column_count + 2 * state->radius;
  PARKIT_CALL(make_halo_types(state));

  /* dt c_k / h^2 = c_k / TIME_STEP_DIVISOR: the weights do not depend on h. */
  const double *c = difference_weights[state->radius];
  state->weights[0] = 1.0 + 2.0 * c[0] / TIME_STEP_DIVISOR;
  for (int k = 1; k <= state->radius; ++k)
    state->weights[k] = c[k] / TIME_STEP_DIVISOR;

  size_t halo_points =
      (size_t)(state->row_count + 2 * state->radius) * (size_t)state->stride;
  PARKIT_ALLOCATE(state->field[0], halo_points);
  PARKIT_ALLOCATE(state->field[1], halo_points);
  PARKIT_ALLOCATE(state->sines, state->n);
  for (int64_t i = 0; i < state->n; ++i)
    state->sines[i] = (i == 0 || i == state->n - 1)
                          ? 0.0
                          : sin(pi * (double)i / (double)(state->n - 1));
  first_touch(state);
  return 0;
}

static int stencil_setup(const parkit_context *ctx, const parkit_value *options,
                         void **opaque_state) {
  stencil_state *state = NULL;
  PARKIT_ALLOCATE(state, 1);
  memset(state, 0, sizeof *state);
  state->cartesian = MPI_COMM_NULL;
  state->row_halo = state->column_halo = MPI_DATATYPE_NULL;
  if (setup_state(state, ctx, options) != 0) {
    stencil_teardown(state);
    return -1;
  }
  *opaque_state = state;
  return 0;
}

/* ---- one time step ------------------------------------------------------- */

/* Local rows [begin, end) x columns [column_begin, column_end). */
typedef struct region {
  parkit_range rows, columns;
} region;

/* The one update expression, for columns [begin, end) of one row. Inlined
 * with a constant radius (see update_region) so that the k loop unrolls and
 * the j loop vectorises; the order of operations is the same for every r. */
static inline void update_row(const double *centre, double *target,
                              int64_t stride, int64_t begin, int64_t end,
                              const double *w, const int radius) {
#pragma omp simd
  for (int64_t j = begin; j < end; ++j) {
    double sum = w[0] * centre[j];
    for (int k = 1; k <= radius; ++k)
      sum += w[k] * ((centre[j - k * stride] + centre[j + k * stride]) +
                     (centre[j - k] + centre[j + k]));
    target[j] = sum;
  }
}

/* Every point of `area`, threads sharing its rows. */
static void update_region(const stencil_state *state, const double *in,
                          double *out, region area) {
  const int64_t stride = state->stride;
  const int64_t begin = area.columns.begin, end = area.columns.end;
  const double *w = state->weights;
  const int radius = state->radius;
#pragma omp parallel for schedule(static)
  for (int64_t i = area.rows.begin; i < area.rows.end; ++i) {
    const double *centre = point(state, (double *)in, i, 0);
    double *target = point(state, out, i, 0);
    switch (radius) {
    case 1:
      update_row(centre, target, stride, begin, end, w, 1);
      break;
    case 2:
      update_row(centre, target, stride, begin, end, w, 2);
      break;
    case 3:
      update_row(centre, target, stride, begin, end, w, 3);
      break;
    default:
      update_row(centre, target, stride, begin, end, w, MAX_RADIUS);
      break;
    }
  }
}

static bool region_is_empty(region area) {
  return area.rows.begin >= area.rows.end ||
         area.columns.begin >= area.columns.end;
}

static int64_t clamp(int64_t value, int64_t low, int64_t high) {
  return value < low ? low : value > high ? high : value;
}

/* The points this rank updates (its block less the physical boundary), and
 * within them the inner part, whose stencil reaches no halo. */
static void update_regions(const stencil_state *state, region *updated,
                           region *inner) {
  const int64_t r = state->radius;
  updated->rows =
      (parkit_range){state->rows.begin == 0 ? 1 : 0,
                     state->row_count - (state->rows.end == state->n ? 1 : 0)};
  updated->columns = (parkit_range){
      state->columns.begin == 0 ? 1 : 0,
      state->column_count - (state->columns.end == state->n ? 1 : 0)};
  parkit_range *ranges[2] = {&inner->rows, &inner->columns};
  const parkit_range *outer[2] = {&updated->rows, &updated->columns};
  const int64_t extent[2] = {state->row_count, state->column_count};
  for (int d = 0; d < 2; ++d) {
    int64_t begin = clamp(r, outer[d]->begin, outer[d]->end);
    int64_t end = clamp(extent[d] - r, begin, outer[d]->end);
    *ranges[d] = (parkit_range){begin, end};
  }
}

/* Starts the four halo transfers of `field`. Data moving south carries tag
 * SOUTH, and so on, so each receive matches its neighbour's send. */
static int post_halo_exchange(stencil_state *state, double *field,
                              MPI_Request requests[8]) {
  const int64_t rows = state->row_count, columns = state->column_count;
  const int r = state->radius;
  struct transfer {
    int neighbour, tag_out, tag_in;
    MPI_Datatype type;
    int64_t send_i, send_j, receive_i, receive_j;
  } transfers[4] = {
      {state->neighbour[NORTH], NORTH, SOUTH, state->row_halo, 0, 0, -r, 0},
      {state->neighbour[SOUTH], SOUTH, NORTH, state->row_halo, rows - r, 0,
       rows, 0},
      {state->neighbour[WEST], WEST, EAST, state->column_halo, 0, 0, 0, -r},
      {state->neighbour[EAST], EAST, WEST, state->column_halo, 0, columns - r,
       0, columns},
  };
  for (int t = 0; t < 4; ++t) {
    const struct transfer *x = &transfers[t];
    PARKIT_MPI_CALL(MPI_Irecv(point(state, field, x->receive_i, x->receive_j),
                              1, x->type, x->neighbour, x->tag_in,
                              state->cartesian, &requests[t]));
  }
  for (int t = 0; t < 4; ++t) {
    const struct transfer *x = &transfers[t];
    PARKIT_MPI_CALL(MPI_Isend(point(state, field, x->send_i, x->send_j), 1,
                              x->type, x->neighbour, x->tag_out,
                              state->cartesian, &requests[4 + t]));
  }
  return 0;
}

/* Halo beyond the physical boundary: the odd reflection about the boundary
 * point, u(b - k) = -u(b + k). Reads only points this rank owns. */
static void reflect_boundaries(const stencil_state *state, double *field) {
  const int r = state->radius;
  const int64_t rows = state->row_count, columns = state->column_count;
  if (state->rows.begin == 0)
    for (int k = 1; k <= r; ++k)
      for (int64_t j = 0; j < columns; ++j)
        *point(state, field, -k, j) = -*point(state, field, k, j);
  if (state->rows.end == state->n)
    for (int k = 1; k <= r; ++k)
      for (int64_t j = 0; j < columns; ++j)
        *point(state, field, rows - 1 + k, j) =
            -*point(state, field, rows - 1 - k, j);
  if (state->columns.begin == 0)
    for (int64_t i = 0; i < rows; ++i)
      for (int k = 1; k <= r; ++k)
        *point(state, field, i, -k) = -*point(state, field, i, k);
  if (state->columns.end == state->n)
    for (int64_t i = 0; i < rows; ++i)
      for (int k = 1; k <= r; ++k)
        *point(state, field, i, columns - 1 + k) =
            -*point(state, field, i, columns - 1 - k);
}

static int time_step(stencil_state *state) {
  double *in = state->field[state->current];
  double *out = state->field[1 - state->current];
  region updated, inner;
  update_regions(state, &updated, &inner);
  MPI_Request requests[8];

  const parkit_context *ctx = &state->context;
  parkit_phase_begin(ctx, "halo");
  PARKIT_CALL(post_halo_exchange(state, in, requests));
  parkit_phase_end(ctx, "halo");
  parkit_phase_begin(ctx, "compute");
  reflect_boundaries(state, in);
  if (!region_is_empty(inner))
    update_region(state, in, out, inner);
  parkit_phase_end(ctx, "compute");
  parkit_phase_begin(ctx, "halo");
  PARKIT_MPI_CALL(MPI_Waitall(8, requests, MPI_STATUSES_IGNORE));
  parkit_phase_end(ctx, "halo");
  parkit_phase_begin(ctx, "compute");
  /* The edge strips around the inner part: above, below, left, right. */
  region strips[4] = {
      {{updated.rows.begin, inner.rows.begin}, updated.columns},
      {{inner.rows.end, updated.rows.end}, updated.columns},
      {inner.rows, {updated.columns.begin, inner.columns.begin}},
      {inner.rows, {inner.columns.end, updated.columns.end}},
  };
  for (int s = 0; s < 4; ++s)
    if (!region_is_empty(strips[s]))
      update_region(state, in, out, strips[s]);
  parkit_phase_end(ctx, "compute");
  state->current = 1 - state->current;
  return 0;
}

/* The field at time 0: u0 = sin(pi x) sin(pi y) on this block. */
static void set_initial_condition(stencil_state *state) {
  double *field = state->field[state->current];
  const double *sines = state->sines;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < state->row_count; ++i) {
    double row_sine = sines[state->rows.begin + i];
    double *row = point(state, field, i, 0);
    for (int64_t j = 0; j < state->column_count; ++j)
      row[j] = row_sine * sines[state->columns.begin + j];
  }
}

/* --perturb: the owner of the centre point adds more than the tolerance. */
static void perturb_centre(stencil_state *state, double amount) {
  int64_t centre = state->n / 2;
  if (centre >= state->rows.begin && centre < state->rows.end &&
      centre >= state->columns.begin && centre < state->columns.end)
    *point(state, state->field[state->current], centre - state->rows.begin,
           centre - state->columns.begin) += amount;
}

/* ---- verification ------------------------------------------------------- */

typedef struct error_bound {
  double time;       /* T = steps dt */
  double decay;      /* exp(-2 pi^2 T) */
  double tolerance;  /* max-norm bound on |u - exact| */
  double truncation; /* the truncation estimate inside it */
} error_bound;

static error_bound compute_error_bound(const stencil_state *state) {
  const int r = state->radius;
  const double h = 1.0 / (double)(state->n - 1);
  const double dt = h * h / TIME_STEP_DIVISOR;
  const double lambda = -2.0 * pi * pi;
  error_bound bound;
  bound.time = (double)state->steps * dt;
  bound.decay = exp(lambda * bound.time);
  double factorial = 1.0, factorial_2r2 = 1.0;
  for (int k = 2; k <= r; ++k)
    factorial *= k;
  for (int k = 2; k <= 2 * r + 2; ++k)
    factorial_2r2 *= k;
  double error_constant = 2.0 * factorial * factorial / factorial_2r2;
  double spatial =
      2.0 * error_constant * pow(pi, 2 * r + 2) * pow(h, 2 * r); /* 2 dims */
  double temporal = lambda * lambda * dt / 2.0;
  bound.truncation = bound.time * (spatial + temporal);
  double rounding =
      (4.0 * (5.0 * r + 1.0) * (double)state->steps + 16.0) * DBL_EPSILON;
  bound.tolerance = 2.0 * bound.truncation + rounding;
  return bound;
}

static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

/* Order-free checksum term of the value at a global index: a sum of these
 * (mod 2^64) changes when any bit of any value does. */
static uint64_t checksum_term(double value, int64_t global_index) {
  uint64_t bits;
  memcpy(&bits, &value, sizeof bits);
  return mix64(bits ^ mix64((uint64_t)global_index));
}

typedef struct field_error {
  double max_error;
  int64_t non_finite;
  uint64_t checksum;
} field_error;

static void measure_error(const stencil_state *state, double decay,
                          field_error *result) {
  const double *field = state->field[state->current];
  const double *sines = state->sines;
  double max_error = 0.0;
  int64_t non_finite = 0;
  uint64_t checksum = 0;
#pragma omp parallel for schedule(static)                                      \
    reduction(max : max_error) reduction(+ : non_finite, checksum)
  for (int64_t i = 0; i < state->row_count; ++i) {
    int64_t global_row = state->rows.begin + i;
    double exact_row = decay * sines[global_row];
    const double *row = point(state, (double *)field, i, 0);
    for (int64_t j = 0; j < state->column_count; ++j) {
      int64_t global_column = state->columns.begin + j;
      double error = fabs(row[j] - exact_row * sines[global_column]);
      if (!isfinite(row[j]))
        ++non_finite;
      else if (error > max_error)
        max_error = error;
      checksum += checksum_term(row[j], global_row * state->n + global_column);
    }
  }
  result->max_error = max_error;
  result->non_finite = non_finite;
  result->checksum = checksum;
}

static int record_field(const stencil_state *state, parkit_outputs *outputs) {
  double *block = NULL;
  size_t count = (size_t)state->row_count * (size_t)state->column_count;
  PARKIT_ALLOCATE(block, count ? count : 1);
  for (int64_t i = 0; i < state->row_count; ++i)
    memcpy(block + i * state->column_count,
           point(state, state->field[state->current], i, 0),
           sizeof(double) * (size_t)state->column_count);
  const int64_t shape[2] = {state->n, state->n};
  const int64_t offset[2] = {state->rows.begin, state->columns.begin};
  const int64_t extent[2] = {state->row_count, state->column_count};
  int status =
      parkit_output_real_block(outputs, "field", block, shape, offset, extent);
  free(block);
  return status;
}

static int stencil_verify(void *opaque_state, parkit_outputs *outputs,
                          parkit_verdict *verdict) {
  stencil_state *state = opaque_state;
  error_bound bound = compute_error_bound(state);
  field_error error;
  measure_error(state, bound.decay, &error);
  MPI_Comm comm = state->context.comm;
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &error.max_error, 1, MPI_DOUBLE,
                                MPI_MAX, comm));
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &error.non_finite, 1, MPI_INT64_T,
                                MPI_SUM, comm));
  PARKIT_MPI_CALL(MPI_Allreduce(MPI_IN_PLACE, &error.checksum, 1, MPI_UINT64_T,
                                MPI_SUM, comm));

  verdict->passed = error.non_finite == 0 && error.max_error <= bound.tolerance;
  if (error.non_finite)
    snprintf(verdict->message, sizeof verdict->message,
             "%" PRId64 " non-finite values in the final field",
             error.non_finite);
  else
    snprintf(verdict->message, sizeof verdict->message,
             "max |u - exp(-2 pi^2 t) u0| at t = %.3g: %.3g %s tolerance %.3g "
             "(2 x truncation %.3g + rounding)",
             bound.time, error.max_error, verdict->passed ? "<=" : "EXCEEDS",
             bound.tolerance, bound.truncation);

  PARKIT_CALL(parkit_output_real(outputs, "max_error", error.max_error));
  PARKIT_CALL(parkit_output_real(outputs, "tolerance", bound.tolerance));
  PARKIT_CALL(
      parkit_output_real(outputs, "truncation_error", bound.truncation));
  PARKIT_CALL(parkit_output_real(outputs, "final_time", bound.time));
  PARKIT_CALL(parkit_output_real(outputs, "exact_decay", bound.decay));
  PARKIT_CALL(parkit_output_integer(outputs, "field_checksum",
                                    (int64_t)error.checksum));
  if (state->save_field)
    PARKIT_CALL(record_field(state, outputs));
  return 0;
}

/* ---- run and work ----------------------------------------------------------
 */

static int stencil_run(void *opaque_state) {
  stencil_state *state = opaque_state;
  state->current = 0;
  set_initial_condition(state);
  for (int64_t step = 0; step < state->steps; ++step)
    PARKIT_CALL(time_step(state));
  if (state->perturb) {
    error_bound bound = compute_error_bound(state);
    perturb_centre(state, 10.0 * bound.tolerance + 1e-3);
  }
  return 0;
}

static parkit_work stencil_work(const void *opaque_state) {
  const stencil_state *state = opaque_state;
  double interior = (double)(state->n - 2) * (double)(state->n - 2);
  double updates = (double)state->steps * interior;
  return (parkit_work){.flops = (5.0 * state->radius + 1.0) * updates,
                       .bytes = 2.0 * sizeof(double) * updates,
                       .items = updates,
                       .item_name = "updates",
                       .rate_basis = PARKIT_RATE_FLOPS};
}

static const parkit_output_spec stencil_outputs[] = {
    {.name = "max_error",
     .unit = "1",
     .description = "max over the grid of |u - exact|",
     .headline = PARKIT_HEADLINE_VALUE},
    {.name = "tolerance",
     .unit = "1",
     .description = "bound on max_error: 2 x truncation estimate + rounding "
                    "allowance"},
    {.name = "truncation_error",
     .unit = "1",
     .description = "T (|lambda_h - lambda| + lambda^2 dt / 2), leading-order "
                    "estimate"},
    {.name = "final_time",
     .unit = "1",
     .description = "T = steps dt, dimensionless"},
    {.name = "exact_decay",
     .unit = "1",
     .description = "exp(-2 pi^2 T): the exact amplitude"},
    {.name = "field_checksum",
     .unit = "1",
     .description = "sum mod 2^64 of a hash of every value's bits and index"},
    {.name = "field",
     .unit = "1",
     .description = "final field u(x_i, y_j), [row i, column j], x_i = i / (n "
                    "- 1)",
     .shape = "n, n",
     .when = "save"},
};

static const parkit_phase_spec stencil_phases[] = {
    {.name = "compute", .description = "updates and boundary reflections"},
    {.name = "halo",
     .description = "posting the halo messages and waiting for them"},
};

/* n = 41 does not divide over 3 ranks or a 2 x 2 grid. */
static const parkit_test_config stencil_tests[] = {
    {.arguments = "--n 41 --steps 10 --radius 2 --save"},
};

static const parkit_rate_unit_spec stencil_rate_units[] = {{.unit = "GFLOP/s"}};

const parkit_kernel parkit_kernel_stencil = {
    .name = "stencil",
    .summary = "2-D heat equation, star stencil of radius r (2-D block "
               "decomposition, halo exchange overlapped with the update)",
    .options = stencil_options,
    .option_count = OPTION_COUNT,
    .kind = PARKIT_KERNEL_WORK,
    .outputs = stencil_outputs,
    .output_count = PARKIT_COUNT(stencil_outputs),
    .rate_units = stencil_rate_units,
    .rate_unit_count = PARKIT_COUNT(stencil_rate_units),
    .phases = stencil_phases,
    .phase_count = PARKIT_COUNT(stencil_phases),
    .tests = stencil_tests,
    .test_count = PARKIT_COUNT(stencil_tests),
    .memcheck_arguments = "--n 48 --steps 3 --radius 2 --save",
    .working_set = {.option = "n", .bytes_per_unit = 16, .exponent = 2},
    .validate = stencil_validate,
    .memory_bytes = stencil_memory_bytes,
    .setup = stencil_setup,
    .run = stencil_run,
    .verify = stencil_verify,
    .teardown = stencil_teardown,
    .work = stencil_work,
};
