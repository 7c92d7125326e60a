/*
 * io: write a distributed array of doubles to one HDF5 file and read it
 * back, through parallel HDF5 (MPI-IO) on ctx->comm.
 *
 * Parameters
 *   --n        doubles in the array, over all ranks (8 n bytes)
 *   --dir      directory for the scratch file; default: the directory of the
 *              run's result file (ctx->scratch_dir, from --out)
 *   --sync     yes: H5Fflush after the write, which in HDF5's MPI-IO driver
 *              is MPI_File_sync (fsync on a local file system), so the write
 *              time includes reaching the disk; no: the write may end in the
 *              page cache and the rate says how fast that absorbs it
 *   --perturb  test only: corrupts one value read back so verification fails
 *
 * One repetition: create the scratch file (collective, H5Pset_fapl_mpio on
 * ctx->comm), write one 1-D dataset of n doubles in which every rank writes
 * its balanced part (parkit_balanced_part) as a hyperslab with a collective
 * transfer, optionally sync, close; reopen, read every rank's part back
 * collectively, close; remove the file. The read usually comes from the
 * page cache: it measures HDF5 and MPI-IO overheads more than the disk.
 * Work per repetition: 16 n bytes (written once, read once); the rate is in
 * GB/s. The write and the read are phases the runner times on every rank
 * (parkit_phase_begin/end); the slowest rank's rates of the last
 * repetition are also recorded as write_rate and read_rate.
 *
 * Threads: the parallel HDF5 library is not thread-safe, so each rank has
 * ONE thread calling HDF5 (the calling thread) while all its threads fill
 * the write buffer and check the read buffer (static schedule). The outputs
 * record this as hdf5_threads_per_rank = 1 and packing_threads. In threads
 * mode this is one writer with T packers; in ranks mode P writers through
 * collective MPI-IO.
 *
 * Values: element i holds a hash of (--seed, i) scaled to [0, 1) in 53 bits,
 * so a value in the wrong place is caught. Verification: every value read
 * back must equal its closed form (mismatches counted over all ranks), and
 * the order-free checksum of what was read must equal that of what was
 * written (sum mod 2^64 of a hash of each value's bits and index). Both are
 * the same bits for every split.
 *
 * Scratch file: <dir>/parkit-io-scratch-<hex>.tmp, name chosen by rank 0 in
 * setup (ending in .tmp, so no reader takes a left-over one for a result);
 * with ranks on several nodes <dir> must be on a file system they all see
 * (as MPI-IO requires). Rank 0 creates it exclusively (never through a link,
 * never over an existing file) before each repetition's HDF5 create. It is
 * removed at the end of every repetition; on a failure inside run() the
 * failing rank removes it before returning. A rank killed by another rank's
 * MPI_Abort (or by SIGKILL) cannot clean up, so it can be left behind.
 *
 * Collective calls on ctx->comm: setup (MPI_Bcast of the name), run (HDF5
 * file create, open, dataset write and read, close; MPI_Barrier), verify
 * (MPI_Allreduce). validate (a stat of --dir) communicates nothing.
 */
#include "check.h"
#include "files.h"
#include "kernel.h"
#include "partition.h"

#include <errno.h>
#include <hdf5.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { OPTION_N, OPTION_DIR, OPTION_SYNC, OPTION_PERTURB, OPTION_COUNT };

/* Indices of the words of the "yes|no" choice list. */
enum { SYNC_YES, SYNC_NO };

static const parkit_option io_options[OPTION_COUNT] = {
    [OPTION_N] = {.name = "n",
                  .type = PARKIT_OPTION_INT,
                  .default_value = "4194304",
                  .unit = "elements",
                  .help = "doubles in the distributed array (8 n bytes)",
                  .min = 1,
                  .max = INT64_C(1) << 40},
    [OPTION_DIR] = {.name = "dir",
                    .type = PARKIT_OPTION_TEXT,
                    .unit = "1",
                    .help = "directory for the scratch file (default: the "
                            "result file's directory)"},
    [OPTION_SYNC] = {.name = "sync",
                     .type = PARKIT_OPTION_CHOICE,
                     .default_value = "yes",
                     .unit = "1",
                     .help = "yes: H5Fflush (MPI_File_sync) inside the timed "
                             "write; no: the write may end in the page cache",
                     .choices = "yes|no"},
    [OPTION_PERTURB] = {.name = "perturb",
                        .type = PARKIT_OPTION_FLAG,
                        .unit = "1",
                        .help = "test only: corrupt one value read back so "
                                "that verification must fail"},
};

#define DATASET_NAME "array"

typedef struct io_state {
  parkit_context context;
  int64_t n;
  parkit_range mine;
  bool sync, perturb;
  char path[4096];
  bool created; /* rank 0: the scratch file of this repetition exists */
  double *written, *read;
  /* HDF5 objects of the repetition in progress (-1: none open). */
  hid_t access, file, dataset, file_space, memory_space, transfer;
  /* The last repetition, this rank. */
  double write_seconds, read_seconds;
  int64_t mismatches;
  uint64_t written_checksum, read_checksum;
} io_state;

static int64_t local_count(const io_state *state) {
  return state->mine.end - state->mine.begin;
}

/* ---- values and checksums ------------------------------------------------ */

static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static double element_value(uint64_t seed, int64_t index) {
  uint64_t bits = mix64(mix64(seed) + 0x9e3779b97f4a7c15u * (uint64_t)index);
  return (double)(bits >> 11) * 0x1p-53;
}

static uint64_t checksum_term(double value, int64_t index) {
  uint64_t bits;
  memcpy(&bits, &value, sizeof bits);
  return mix64(bits ^ mix64((uint64_t)index));
}

/* ---- validate and memory_bytes --------------------------------------------
 */

static int io_validate(const parkit_context *ctx, const parkit_value *options,
                       char *message, size_t message_size) {
  const char *dir = options[OPTION_DIR].text;
  if (dir == NULL)
    return 0; /* the driver checks ctx->scratch_dir's length */
  size_t longest = parkit_mpi_io_longest_name(ctx->size);
  if (strlen(dir) + PARKIT_SCRATCH_NAME_MAX > longest) {
    snprintf(message, message_size,
             "--dir '%.60s%s': %zu bytes, too long for the scratch file's "
             "name there (MPI-IO takes names of at most %zu bytes at %d "
             "rank%s); allowed: a directory of at most %zu bytes",
             dir, strlen(dir) > 60 ? "..." : "", strlen(dir), longest,
             ctx->size, ctx->size == 1 ? "" : "s",
             longest - PARKIT_SCRATCH_NAME_MAX);
    return -1;
  }
  struct stat status;
  int error = 0;
  if (stat(dir, &status) != 0)
    error = errno;
  else if (!S_ISDIR(status.st_mode))
    error = ENOTDIR;
  else if (access(dir, W_OK | X_OK) != 0)
    error = errno;
  if (error == 0)
    return 0;
  snprintf(message, message_size,
           "--dir '%s': cannot write scratch files there: %s; allowed: an "
           "existing writable directory",
           dir, strerror(error));
  return -1;
}

static double io_memory_bytes(const parkit_context *ctx,
                              const parkit_value *options) {
  double n = (double)options[OPTION_N].integer;
  return 2.0 * sizeof(double) * (n / ctx->size + 1);
}

/* ---- HDF5 objects ----------------------------------------------------------
 */

static void forget_handles(io_state *state) {
  state->access = state->file = state->dataset = -1;
  state->file_space = state->memory_space = state->transfer = -1;
}

/* Closes what is open, in dependency order. Collective when a file is open:
 * only for the success path. */
static int close_handles(io_state *state) {
  if (state->dataset >= 0)
    PARKIT_H5_CALL(H5Dclose(state->dataset));
  if (state->file_space >= 0)
    PARKIT_H5_CALL(H5Sclose(state->file_space));
  if (state->memory_space >= 0)
    PARKIT_H5_CALL(H5Sclose(state->memory_space));
  if (state->file >= 0)
    PARKIT_H5_CALL(H5Fclose(state->file));
  if (state->transfer >= 0)
    PARKIT_H5_CALL(H5Pclose(state->transfer));
  if (state->access >= 0)
    PARKIT_H5_CALL(H5Pclose(state->access));
  forget_handles(state);
  return 0;
}

/* File access through MPI-IO on ctx->comm, collective transfers, and this
 * rank's part of the dataset as the file and memory selections. */
static int open_properties_and_spaces(io_state *state) {
  PARKIT_H5_CALL(state->access = H5Pcreate(H5P_FILE_ACCESS));
  PARKIT_H5_CALL(
      H5Pset_fapl_mpio(state->access, state->context.comm, MPI_INFO_NULL));
  PARKIT_H5_CALL(state->transfer = H5Pcreate(H5P_DATASET_XFER));
  PARKIT_H5_CALL(H5Pset_dxpl_mpio(state->transfer, H5FD_MPIO_COLLECTIVE));
  hsize_t extent = (hsize_t)state->n;
  hsize_t start = (hsize_t)state->mine.begin;
  hsize_t count = (hsize_t)local_count(state);
  PARKIT_H5_CALL(state->file_space = H5Screate_simple(1, &extent, NULL));
  hsize_t memory_extent = count ? count : 1;
  PARKIT_H5_CALL(state->memory_space =
                     H5Screate_simple(1, &memory_extent, NULL));
  if (count == 0) {
    PARKIT_H5_CALL(H5Sselect_none(state->file_space));
    PARKIT_H5_CALL(H5Sselect_none(state->memory_space));
  } else {
    PARKIT_H5_CALL(H5Sselect_hyperslab(state->file_space, H5S_SELECT_SET,
                                       &start, NULL, &count, NULL));
  }
  return 0;
}

/* ---- setup and teardown ----------------------------------------------------
 */

static void io_teardown(void *opaque_state) {
  io_state *state = opaque_state;
  if (state == NULL)
    return;
  /* run() removes the file; this catches a run that never finished. */
  if (state->created)
    unlink(state->path);
  free(state->written);
  free(state->read);
  free(state);
}

/* Rank 0 names the scratch file; everyone gets the name. */
static int choose_scratch_path(io_state *state, const char *dir) {
  if (state->context.rank == 0) {
    /* A name no other run picks: random bits, else the process id and
     * the address of this run's state (distinct within the process). */
    uint64_t unique = 0;
    if (getrandom(&unique, sizeof unique, GRND_NONBLOCK) !=
        (ssize_t)sizeof unique)
      unique = mix64(((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)state);
    int written = snprintf(state->path, sizeof state->path,
                           "%s/parkit-io-scratch-%012" PRIx64 ".tmp", dir,
                           unique & UINT64_C(0xffffffffffff));
    PARKIT_CHECK(written > 0 && (size_t)written < sizeof state->path,
                 "scratch path in '%s' is too long", dir);
  }
  PARKIT_MPI_CALL(MPI_Bcast(state->path, sizeof state->path, MPI_CHAR, 0,
                            state->context.comm));
  return 0;
}

static int setup_state(io_state *state, const parkit_context *ctx,
                       const parkit_value *options) {
  state->context = *ctx;
  state->n = options[OPTION_N].integer;
  state->mine = parkit_balanced_part(state->n, ctx->size, ctx->rank);
  state->sync = options[OPTION_SYNC].choice == SYNC_YES;
  state->perturb = options[OPTION_PERTURB].flag;
  const char *dir = options[OPTION_DIR].text;
  if (dir == NULL)
    dir = ctx->scratch_dir;
  PARKIT_CHECK(dir != NULL, "no directory for the scratch file");
  PARKIT_CALL(choose_scratch_path(state, dir));
  size_t count = (size_t)local_count(state);
  PARKIT_ALLOCATE(state->written, count ? count : 1);
  PARKIT_ALLOCATE(state->read, count ? count : 1);
  /* First touch by the threads that pack and check the same elements. */
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < (int64_t)count; ++i) {
    state->written[i] = 0.0;
    state->read[i] = 0.0;
  }
  return 0;
}

static int io_setup(const parkit_context *ctx, const parkit_value *options,
                    void **opaque_state) {
  io_state *state = NULL;
  PARKIT_ALLOCATE(state, 1);
  memset(state, 0, sizeof *state);
  forget_handles(state);
  if (setup_state(state, ctx, options) != 0) {
    io_teardown(state);
    return -1;
  }
  *opaque_state = state;
  return 0;
}

/* ---- run
 * --------------------------------------------------------------------- */

/* Threads fill the write buffer with the closed-form values. */
static void pack_values(io_state *state) {
  const int64_t count = local_count(state), first = state->mine.begin;
  const uint64_t seed = state->context.seed;
  uint64_t checksum = 0;
#pragma omp parallel for schedule(static) reduction(+ : checksum)
  for (int64_t i = 0; i < count; ++i) {
    double value = element_value(seed, first + i);
    state->written[i] = value;
    checksum += checksum_term(value, first + i);
  }
  state->written_checksum = checksum;
}

/* Threads check what was read against the closed form. */
static void check_values(io_state *state) {
  const int64_t count = local_count(state), first = state->mine.begin;
  const uint64_t seed = state->context.seed;
  uint64_t checksum = 0;
  int64_t mismatches = 0;
#pragma omp parallel for schedule(static) reduction(+ : checksum, mismatches)
  for (int64_t i = 0; i < count; ++i) {
    double value = state->read[i];
    mismatches += value != element_value(seed, first + i);
    checksum += checksum_term(value, first + i);
  }
  state->read_checksum = checksum;
  state->mismatches = mismatches;
}

/* Rank 0 creates the scratch file, empty and exclusively; HDF5 then opens
 * it on every rank (after a barrier), so no existing file or link of that
 * name is ever written through. */
static int create_scratch_file(io_state *state) {
  if (state->context.rank != 0)
    return 0;
  int descriptor = parkit_create_exclusive(state->path);
  PARKIT_CHECK(descriptor >= 0, "cannot create the scratch file %s: %s",
               state->path, strerror(errno));
  close(descriptor);
  state->created = true;
  return 0;
}

static int write_file(io_state *state) {
  PARKIT_CALL(open_properties_and_spaces(state));
  PARKIT_H5_CALL(state->file = H5Fcreate(state->path, H5F_ACC_TRUNC,
                                         H5P_DEFAULT, state->access));
  hid_t whole;
  hsize_t extent = (hsize_t)state->n;
  PARKIT_H5_CALL(whole = H5Screate_simple(1, &extent, NULL));
  state->dataset = H5Dcreate2(state->file, DATASET_NAME, H5T_IEEE_F64LE, whole,
                              H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  (void)H5Sclose(whole); /* a failed close changes nothing here */
  PARKIT_H5_CALL(state->dataset);
  PARKIT_H5_CALL(H5Dwrite(state->dataset, H5T_NATIVE_DOUBLE,
                          state->memory_space, state->file_space,
                          state->transfer, state->written));
  if (state->sync)
    PARKIT_H5_CALL(H5Fflush(state->file, H5F_SCOPE_GLOBAL));
  return close_handles(state);
}

static int read_file(io_state *state) {
  PARKIT_CALL(open_properties_and_spaces(state));
  PARKIT_H5_CALL(state->file =
                     H5Fopen(state->path, H5F_ACC_RDONLY, state->access));
  PARKIT_H5_CALL(state->dataset =
                     H5Dopen2(state->file, DATASET_NAME, H5P_DEFAULT));
  PARKIT_H5_CALL(H5Dread(state->dataset, H5T_NATIVE_DOUBLE, state->memory_space,
                         state->file_space, state->transfer, state->read));
  return close_handles(state);
}

/* Write, read back, check: everything but the clean-up. */
static int write_and_read(io_state *state) {
  pack_values(state);
  const parkit_context *ctx = &state->context;
  PARKIT_CALL(create_scratch_file(state)); /* before the barrier */
  PARKIT_MPI_CALL(MPI_Barrier(ctx->comm));
  parkit_phase_begin(ctx, "write");
  PARKIT_CALL(write_file(state));
  parkit_phase_end(ctx, "write");
  PARKIT_MPI_CALL(MPI_Barrier(ctx->comm));
  parkit_phase_begin(ctx, "read");
  PARKIT_CALL(read_file(state));
  parkit_phase_end(ctx, "read");
  state->write_seconds = parkit_phase_seconds(ctx, "write");
  state->read_seconds = parkit_phase_seconds(ctx, "read");
  /* --perturb: the owner of the middle element spoils what it read. */
  int64_t middle = state->n / 2;
  if (state->perturb && middle >= state->mine.begin && middle < state->mine.end)
    state->read[middle - state->mine.begin] += 1.0;
  check_values(state);
  return 0;
}

static int io_run(void *opaque_state) {
  io_state *state = opaque_state;
  if (write_and_read(state) != 0) {
    /* Leave the HDF5 objects alone (closing a file is collective and the
     * other ranks may be elsewhere); just take the file away. */
    forget_handles(state);
    if (state->created || state->context.rank != 0)
      unlink(state->path);
    state->created = false;
    return -1;
  }
  /* Every rank has closed the file (H5Fclose is collective). */
  if (state->context.rank == 0) {
    state->created = false;
    PARKIT_CHECK(unlink(state->path) == 0 || errno == ENOENT,
                 "cannot remove the scratch file %s: %s", state->path,
                 strerror(errno));
  }
  return 0;
}

/* ---- verify
 * ------------------------------------------------------------------- */

static int io_verify(void *opaque_state, parkit_outputs *outputs,
                     parkit_verdict *verdict) {
  io_state *state = opaque_state;
  MPI_Comm comm = state->context.comm;
  uint64_t checksums[2] = {state->written_checksum, state->read_checksum};
  PARKIT_MPI_CALL(
      MPI_Allreduce(MPI_IN_PLACE, checksums, 2, MPI_UINT64_T, MPI_SUM, comm));
  int64_t mismatches = state->mismatches;
  PARKIT_MPI_CALL(
      MPI_Allreduce(MPI_IN_PLACE, &mismatches, 1, MPI_INT64_T, MPI_SUM, comm));
  double seconds[2] = {state->write_seconds, state->read_seconds};
  PARKIT_MPI_CALL(
      MPI_Allreduce(MPI_IN_PLACE, seconds, 2, MPI_DOUBLE, MPI_MAX, comm));
  double bytes = sizeof(double) * (double)state->n;

  verdict->passed = mismatches == 0 && checksums[0] == checksums[1];
  snprintf(verdict->message, sizeof verdict->message,
           "read back %" PRId64 " doubles: %" PRId64
           " differ from the closed form; checksum %s (one HDF5 thread per "
           "rank, %d packing)",
           state->n, mismatches,
           checksums[0] == checksums[1] ? "matches" : "DIFFERS",
           state->context.threads);

  PARKIT_CALL(parkit_output_integer(outputs, "mismatches", mismatches));
  PARKIT_CALL(parkit_output_integer(outputs, "written_checksum",
                                    (int64_t)checksums[0]));
  PARKIT_CALL(
      parkit_output_integer(outputs, "read_checksum", (int64_t)checksums[1]));
  PARKIT_CALL(parkit_output_integer(outputs, "hdf5_threads_per_rank", 1));
  PARKIT_CALL(parkit_output_integer(outputs, "packing_threads",
                                    state->context.threads));
  PARKIT_CALL(parkit_output_real(
      outputs, "write_rate", seconds[0] > 0 ? bytes / seconds[0] * 1e-9 : 0.0));
  PARKIT_CALL(parkit_output_real(
      outputs, "read_rate", seconds[1] > 0 ? bytes / seconds[1] * 1e-9 : 0.0));
  return 0;
}

static parkit_work io_work(const void *opaque_state) {
  const io_state *state = opaque_state;
  return (parkit_work){.bytes = 2.0 * sizeof(double) * (double)state->n,
                       .rate_basis = PARKIT_RATE_BYTES};
}

static const parkit_output_spec io_outputs[] = {
    {.name = "mismatches",
     .unit = "elements",
     .description = "values read back that differ from their closed form"},
    {.name = "written_checksum",
     .unit = "1",
     .description = "sum mod 2^64 of a hash of each written value's bits and "
                    "index"},
    {.name = "read_checksum",
     .unit = "1",
     .description = "the same over the values read back"},
    {.name = "hdf5_threads_per_rank",
     .unit = "threads",
     .description = "threads of a rank that call HDF5 (the parallel library "
                    "is not thread-safe)"},
    {.name = "packing_threads",
     .unit = "threads",
     .description = "threads of a rank that fill and check the buffers",
     .agreement = PARKIT_OUTPUT_DIFFERS},
    {.name = "write_rate",
     .unit = "GB/s",
     .description = "last repetition: create, collective write, sync if "
                    "--sync yes, close (slowest rank)",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .headline = PARKIT_HEADLINE_VALUE},
    {.name = "read_rate",
     .unit = "GB/s",
     .description = "last repetition: open, collective read, close (slowest "
                    "rank)",
     .agreement = PARKIT_OUTPUT_MEASURED,
     .headline = PARKIT_HEADLINE_VALUE},
};

static const parkit_phase_spec io_phases[] = {
    {.name = "write",
     .description = "create, collective write, sync if --sync yes, close"},
    {.name = "read", .description = "open, collective read, close"},
};

/* n = 10007 (prime) does not divide over 2, 3 or 4 ranks. */
static const parkit_test_config io_tests[] = {{.arguments = "--n 10007"}};

static const parkit_rate_unit_spec io_rate_units[] = {{.unit = "GB/s"}};

const parkit_kernel parkit_kernel_io = {
    .name = "io",
    .summary = "write and read back a distributed array with parallel HDF5 "
               "(collective MPI-IO; one HDF5 thread per rank)",
    .options = io_options,
    .option_count = OPTION_COUNT,
    .kind = PARKIT_KERNEL_WORK,
    .outputs = io_outputs,
    .output_count = PARKIT_COUNT(io_outputs),
    .rate_units = io_rate_units,
    .rate_unit_count = PARKIT_COUNT(io_rate_units),
    .phases = io_phases,
    .phase_count = PARKIT_COUNT(io_phases),
    .tests = io_tests,
    .test_count = PARKIT_COUNT(io_tests),
    .memcheck_arguments = "--n 10000",
    .working_set = {.option = "n", .bytes_per_unit = 16, .exponent = 1},
    .validate = io_validate,
    .memory_bytes = io_memory_bytes,
    .setup = io_setup,
    .run = io_run,
    .verify = io_verify,
    .teardown = io_teardown,
    .work = io_work,
};
