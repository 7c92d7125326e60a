/*
 * The kernel interface: the only thing a kernel sees of parkit.
 *
 * A kernel is one .c file that defines one `parkit_kernel` descriptor with
 * designated initializers and lists its name once in registry.h. It is written
 * once against a `parkit_context`: a communicator plus a thread count. It never
 * learns whether it runs as threads, ranks or a hybrid: threads mode is one
 * rank on a private communicator with T threads, ranks mode is P ranks with one
 * thread each, hybrid is P ranks with T threads each.
 *
 * Contracts every kernel keeps:
 *  - MPI only on `ctx->comm` (never MPI_COMM_WORLD), and only from the thread
 *    that called the kernel (the MPI library is initialised FUNNELED).
 *  - OpenMP work-sharing inside `#pragma omp parallel` regions; the runner has
 *    already set the team size to `ctx->threads`.
 *  - No timing, no printing, no exit(): the runner times, the driver reports,
 *    errors are returned (see kernels/interface/check.h).
 *  - setup, run and verify are collective over ctx->comm: every rank calls
 *    them in the same order.
 *
 * See kernels/README.md for a documented template.
 */
#ifndef PARKIT_KERNEL_H
#define PARKIT_KERNEL_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The parallel context a kernel runs in. Built by the driver; read-only. */
typedef struct parkit_context {
  MPI_Comm comm; /* the kernel's communicator: a duplicate, private to it */
  int rank;      /* this rank in comm */
  int size;      /* number of ranks in comm */
  int threads;   /* OpenMP threads per rank (>= 1) */
  uint64_t seed; /* the run's --seed: keys every random stream */
  /* Directory for the kernel's scratch files: the directory of the run's
   * result file (from --out), the same text on every rank. Set before
   * setup(); NULL in validate() and memory_bytes(), which run before the
   * output location is checked. A kernel removes what it writes there;
   * its names there follow files.h (end in .tmp, at most
   * PARKIT_SCRATCH_NAME_MAX bytes, created exclusively). */
  const char *scratch_dir;
} parkit_context;

/* ---- options --------------------------------------------------------- */

typedef enum parkit_option_type {
  PARKIT_OPTION_INT,    /* 64-bit signed integer within [min, max] */
  PARKIT_OPTION_DOUBLE, /* finite double within [min_real, max_real] */
  PARKIT_OPTION_CHOICE, /* one word out of `choices` ("pi|ep") */
  PARKIT_OPTION_TEXT,   /* free text, e.g. a path; must not be empty */
  PARKIT_OPTION_FLAG,   /* takes no value: present means on */
} parkit_option_type;

/* One entry of a kernel's option table: `--name value` on the command line.
 * The table drives parsing, range checks, `parkit list`, `parkit help` and
 * the parameter attributes of the result file. */
typedef struct parkit_option {
  const char *name;          /* lower case, digits and '-'; no leading "--" */
  parkit_option_type type;   /* how `value` is parsed */
  const char *default_value; /* text, parsed like a command-line value;
                                NULL: the driver computes it (see help) */
  const char *unit;          /* unit of the value ("1" when dimensionless) */
  const char *help;          /* one line */
  int64_t min, max;          /* PARKIT_OPTION_INT: allowed closed range */
  double min_real, max_real; /* PARKIT_OPTION_DOUBLE: allowed closed range */
  const char *choices;       /* PARKIT_OPTION_CHOICE: "a|b|c" */
} parkit_option;

/* A parsed option value; kernels index the array given to them with the same
 * enum they used to lay out their option table. */
typedef struct parkit_value {
  int64_t integer;  /* PARKIT_OPTION_INT */
  double real;      /* PARKIT_OPTION_DOUBLE */
  int choice;       /* PARKIT_OPTION_CHOICE: index into `choices` */
  const char *text; /* PARKIT_OPTION_TEXT (points into argv or the table) */
  bool flag;        /* PARKIT_OPTION_FLAG */
  bool is_set;      /* given on the command line (not the default) */
} parkit_value;

/* ---- work counts and rates ------------------------------------------- */

typedef enum parkit_rate_basis {
  PARKIT_RATE_FLOPS, /* rate in GFLOP/s from `flops` */
  PARKIT_RATE_BYTES, /* rate in GB/s from `bytes` */
  PARKIT_RATE_ITEMS, /* rate in M<item_name>/s from `items` */
} parkit_rate_basis;

/* What one repetition does, summed over all ranks and threads. Counts that do
 * not apply are 0; `bytes` is the minimum memory traffic the algorithm needs.
 */
typedef struct parkit_work {
  double flops;
  double bytes;
  double items;
  const char *item_name; /* plural noun: "samples", "pairs" */
  parkit_rate_basis rate_basis;
} parkit_work;

/* ---- results a kernel reports ---------------------------------------- */

/* Collects a kernel's named outputs for the result file. Owned by the runner.
 * Every rank records the same names with the same values, in the same order
 * (reduce first): the values are written once, from rank 0's record. The
 * one exception is parkit_output_real_block below (same name and shape,
 * each rank its own block). */
typedef struct parkit_outputs parkit_outputs;

int parkit_output_real(parkit_outputs *out, const char *name, double value,
                       const char *unit, const char *description);
int parkit_output_integer(parkit_outputs *out, const char *name, int64_t value,
                          const char *unit, const char *description);
int parkit_output_reals(parkit_outputs *out, const char *name,
                        const double *values, size_t count, const char *unit,
                        const char *description);
int parkit_output_integers(parkit_outputs *out, const char *name,
                           const int64_t *values, size_t count,
                           const char *unit, const char *description);

/* A distributed 2-D real array, e.g. a field on a process grid, written as
 * ONE dataset of global_shape[0] x global_shape[1] (rows x columns). The one
 * exception to "every rank records the same values": every rank calls this,
 * at the same place among its outputs, with the same name and global shape,
 * and gives its own block: `block` holds count[0] x count[1] values,
 * row-major, that belong at rows offset[0].. and columns offset[1].. of the
 * global array. The blocks must tile the array without overlap; a rank with
 * no part passes count {0, 0}. The values are copied. The result file writes
 * the blocks collectively (a hyperslab per rank, collective MPI-IO). */
int parkit_output_real_block(parkit_outputs *out, const char *name,
                             const double *block, const int64_t global_shape[2],
                             const int64_t offset[2], const int64_t count[2],
                             const char *unit, const char *description);

/* The verdict of verify(). `passed` decides the exit status of the run. */
typedef struct parkit_verdict {
  bool passed;
  char message[256]; /* one line: what was checked and by how much it held */
} parkit_verdict;

/* ---- the descriptor --------------------------------------------------- */

typedef struct parkit_kernel {
  const char *name;    /* command-line name, e.g. "matmul" */
  const char *summary; /* one line for `parkit list` */
  const parkit_option *options;
  int option_count;

  /* Optional. Checks option combinations and launch shapes that a per-option
   * range cannot express. Not collective, no communication (local MPI queries
   * such as MPI_Dims_create are fine): every rank computes the
   * same answer. Returns 0, or -1 with a one-line message naming the bad
   * value and what is allowed. */
  int (*validate)(const parkit_context *ctx, const parkit_value *options,
                  char *message, size_t message_size);

  /* Bytes this rank will allocate in setup(), computed from the options
   * without allocating: the driver refuses runs that do not fit in the
   * node's memory. Not collective. */
  double (*memory_bytes)(const parkit_context *ctx,
                         const parkit_value *options);

  /* Collective. Allocates and initialises the kernel's state. */
  int (*setup)(const parkit_context *ctx, const parkit_value *options,
               void **state);
  /* Collective. One repetition; timed by the runner. May be called many
   * times; each call must leave the state ready for the next. */
  int (*run)(void *state);
  /* Collective. Checks the last repetition's result, records outputs. */
  int (*verify)(void *state, parkit_outputs *outputs, parkit_verdict *verdict);
  /* Not collective. Frees everything setup() allocated; accepts NULL. */
  void (*teardown)(void *state);
  /* Not collective. What one repetition does, for rates. */
  parkit_work (*work)(const void *state);
} parkit_kernel;

#endif
