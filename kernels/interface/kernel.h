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
 *  - No timing, no printing, no exit(): the runner times (a kernel marks
 *    the phases of run() it wants timed apart: parkit_phase_begin/end),
 *    the driver reports, errors are returned (see
 *    kernels/interface/check.h).
 *  - The descriptor declares everything the rest of the tree needs to know
 *    about the kernel: its options, its outputs (unit, meaning, how splits
 *    must agree), its phases, small test configurations and how its working
 *    set grows. Nothing else in the tree repeats them.
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
  /* Bytes of last-level cache the whole job's CPUs use: the sum of the
   * sizes of the distinct last-level caches that the CPUs of every rank on
   * every node touch (from hwloc; a cache of unknown size counts 32 MiB,
   * results/README.md). The same on every rank; set before validate(). 0
   * where no driver computed it. */
  int64_t last_level_cache_bytes;
  /* The runner's phase clock (parkit_phase_begin/end); kernels pass the
   * context on and never look inside. */
  struct parkit_phase_clock *clock;
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

/* How an output must compare between two runs of the same problem split
 * differently over ranks and threads (the test matrix compares every split
 * against one thread on one rank, and the analysis reads this from the
 * file). */
typedef enum parkit_output_agreement {
  PARKIT_OUTPUT_BITWISE,   /* computed: the same bits for every split */
  PARKIT_OUTPUT_TOLERANCE, /* computed: |x - x_reference| <= tolerance x scale,
                              element by element (see parkit_output_spec) */
  PARKIT_OUTPUT_DIFFERS,   /* computed, but differs between splits: a figure
                              of the launch itself (a thread count, a code
                              path, a size per rank) or a sum whose rounding
                              follows the split with no recorded bound; not
                              compared */
  PARKIT_OUTPUT_MEASURED,  /* a measurement of the run (a time, a rate, a
                              memory size): not compared */
} parkit_output_agreement;

/* Whether an output is one of the kernel's headline figures: the few
 * numbers a harness (ReFrame, JUBE) tracks besides the rate, printed on the
 * run's "PARKIT key=value" line as out_<name>=VALUE (unit in the
 * catalogue). An array gives one element: its first or its last. */
typedef enum parkit_output_headline {
  PARKIT_HEADLINE_NONE = 0, /* not printed on the key=value line */
  PARKIT_HEADLINE_VALUE,    /* a scalar output: its value */
  PARKIT_HEADLINE_FIRST,    /* a 1-D array: its first element */
  PARKIT_HEADLINE_LAST,     /* a 1-D array: its last element */
} parkit_output_headline;

/* One output a kernel may record: its entry in the descriptor's output
 * table. The table is the one place an output's unit and meaning are
 * written; the result file, `parkit list --format json`, the layout tables
 * of results/README.md and the cross-split tests read them from here. A
 * kernel can record only the outputs its table declares, and must record
 * exactly those whose condition holds (the runner checks both). */
typedef struct parkit_output_spec {
  const char *name;        /* lower case, digits and '_'; at most 63 chars */
  const char *unit;        /* "1" when dimensionless */
  const char *description; /* one line */
  const char *shape;       /* NULL: a scalar; else the length of a 1-D array
                              or "rows, columns" of a 2-D one, in words of
                              the options ("n", "10", "n, n") */
  parkit_output_agreement agreement;
  /* PARKIT_OUTPUT_TOLERANCE: the output holding the relative tolerance (a
   * scalar of the same run) and the output holding the scale each element
   * is measured against (same shape; NULL: |x_reference|). */
  const char *tolerance;
  const char *scale;
  /* When the output is recorded. NULL: always. Otherwise terms joined by
   * " and ", each "NAME", "!NAME", "NAME=VALUE", "NAME!=VALUE" or
   * "NAME>NUMBER", where NAME is `ranks`, `threads`, `nodes`, one of the
   * kernel's options (a flag is true when given) or an integer output
   * recorded before this one; the term "optional" makes the output
   * optional (it depends on what the system offers, e.g. a /proc file). */
  const char *when;
  parkit_output_headline headline;
} parkit_output_spec;

/* The unit of the kernel's rate, as the runner computes it from work():
 * "GFLOP/s" (PARKIT_RATE_FLOPS), "GB/s" (PARKIT_RATE_BYTES) or
 * "M<item_name>/s" (PARKIT_RATE_ITEMS). A kernel whose unit depends on its
 * options declares one entry per case. `when` is a condition as an
 * output's (parkit_output_spec.when) over the launch and the options; NULL:
 * always. Exactly one entry must hold for any run: the runner checks that
 * the unit it computed is that entry's, and `parkit list --format json`
 * gives the table to tools that need the unit before a run. */
typedef struct parkit_rate_unit_spec {
  const char *unit;
  const char *when;
} parkit_rate_unit_spec;

/* Collects a kernel's named outputs for the result file. Owned by the runner.
 * Every rank records the same names with the same values, in the same order
 * (reduce first): the values are written once, from rank 0's record. The
 * one exception is parkit_output_real_block below (same name and shape,
 * each rank its own block). `name` must be declared in the kernel's output
 * table (its unit and description come from there); recording an undeclared
 * name, or one name twice, fails with the error set. */
typedef struct parkit_outputs parkit_outputs;

int parkit_output_real(parkit_outputs *out, const char *name, double value);
int parkit_output_integer(parkit_outputs *out, const char *name, int64_t value);
int parkit_output_reals(parkit_outputs *out, const char *name,
                        const double *values, size_t count);
int parkit_output_integers(parkit_outputs *out, const char *name,
                           const int64_t *values, size_t count);

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
                             const int64_t offset[2], const int64_t count[2]);

/* ---- phases the runner times ------------------------------------------ */

/* A named part of run() (a halo exchange, one STREAM operation) whose time
 * the runner measures on every rank and stores per repetition, beside the
 * repetition's own time. Declared in the descriptor's phase table. */
typedef struct parkit_phase_spec {
  const char *name;        /* lower case, digits and '_' */
  const char *description; /* one line: what the phase does */
} parkit_phase_spec;

/* Called by the thread that called run(), outside parallel regions: the
 * phase `name` (declared in the kernel's phase table) starts or ends on
 * this rank. A phase may start and end many times within one call of run();
 * the runner adds the intervals up. Not collective, no communication. */
void parkit_phase_begin(const parkit_context *ctx, const char *name);
void parkit_phase_end(const parkit_context *ctx, const char *name);

/* Seconds this rank has spent in phase `name` since the current call of
 * run() began (between calls: during the last call, warm-up calls
 * included), on the runner's clock. For kernels whose outputs are rates of
 * single phases (STREAM's rule). */
double parkit_phase_seconds(const parkit_context *ctx, const char *name);

/* The verdict of verify(). `passed` decides the exit status of the run. */
typedef struct parkit_verdict {
  bool passed;
  char message[256]; /* one line: what was checked and by how much it held */
} parkit_verdict;

/* ---- the descriptor --------------------------------------------------- */

typedef enum parkit_kernel_kind {
  PARKIT_KERNEL_WORK,  /* computes something; its time and rate answer the
                          question (matmul, stencil, ...) */
  PARKIT_KERNEL_PROBE, /* measures an overhead inside run() (a barrier, a
                          message, a started worker); its outputs answer */
} parkit_kernel_kind;

/* A small problem the test suite runs the kernel on, in every split of the
 * test matrix (tests/CMakeLists.txt); the outputs of all splits are then
 * compared as the output table says. */
typedef struct parkit_test_config {
  const char *name;      /* the configuration's name, unique in the tree
                            (e.g. "montecarlo-ep"); NULL: the kernel's */
  const char *arguments; /* the kernel's options, words separated by
                            spaces: "--estimate ep --class S" */
  const char *requires;  /* NULL, or CPU features the configuration needs,
                            as /proc/cpuinfo names them: "avx2 fma" */
} parkit_test_config;

/* How the kernel's working set grows with one option, for sizing runs to a
 * cache or memory regime: working set (bytes, whole job) = bytes_per_unit x
 * value^exponent. exponent 0: the working set does not grow with a size
 * (compute bound); option NULL: no such option. */
typedef struct parkit_working_set {
  const char *option;
  double bytes_per_unit;
  int exponent;
} parkit_working_set;

typedef struct parkit_kernel {
  const char *name;    /* command-line name, e.g. "matmul" */
  const char *summary; /* one line for `parkit list` */
  parkit_kernel_kind kind;
  const parkit_option *options;
  int option_count;
  const parkit_output_spec *outputs; /* every output it may record */
  int output_count;
  const parkit_rate_unit_spec *rate_units; /* the unit of its rate */
  int rate_unit_count;
  const parkit_phase_spec *phases; /* the phases of run() it marks */
  int phase_count;
  const parkit_test_config *tests; /* at least one */
  int test_count;
  /* Options for one small run under valgrind (20-50x slower). */
  const char *memcheck_arguments;
  parkit_working_set working_set;

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

/* The number of entries of a descriptor's table: .outputs = x,
 * .output_count = PARKIT_COUNT(x). */
#define PARKIT_COUNT(table) ((int)(sizeof(table) / sizeof((table)[0])))

#endif
