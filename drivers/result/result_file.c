#include "result_file.h"

#include "check.h"
#include "files.h"
#include "options.h"
#include "output_path.h"
#include "signals.h"
#include "writers.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Every helper below closes the HDF5 objects it opens on success. On failure
 * it returns at once: the run is then aborted, and the driver removes the
 * temporary (parkit_result_file_discard). */

/* How HDF5 may lock result files: HDF5_USE_FILE_LOCKING when set (HDF5
 * reads it itself and it overrides the file access property), else parkit's
 * default, best effort: lock where the file system can, go on where it
 * cannot. The MPI-IO driver parkit writes with takes no flock() locks at
 * all, so writing works on file systems without locking (NFS without lockd,
 * some Lustre mounts); readers there need locking off (results/README.md). */
static const char *file_locking_mode(void) {
  const char *setting = getenv("HDF5_USE_FILE_LOCKING");
  if (setting == NULL || strcmp(setting, "BEST_EFFORT") == 0)
    return "best-effort";
  if (strcmp(setting, "FALSE") == 0 || strcmp(setting, "0") == 0)
    return "off";
  if (strcmp(setting, "TRUE") == 0 || strcmp(setting, "1") == 0)
    return "on";
  return "best-effort"; /* HDF5 ignores other values */
}

static int attribute_string(hid_t object, const char *name, const char *value) {
  hid_t type, space, attribute;
  PARKIT_H5_CALL(type = H5Tcopy(H5T_C_S1));
  PARKIT_H5_CALL(H5Tset_size(type, H5T_VARIABLE));
  PARKIT_H5_CALL(H5Tset_cset(type, H5T_CSET_UTF8));
  PARKIT_H5_CALL(space = H5Screate(H5S_SCALAR));
  PARKIT_H5_CALL(attribute = H5Acreate2(object, name, type, space, H5P_DEFAULT,
                                        H5P_DEFAULT));
  PARKIT_H5_CALL(H5Awrite(attribute, type, &value));
  PARKIT_H5_CALL(H5Aclose(attribute));
  PARKIT_H5_CALL(H5Sclose(space));
  PARKIT_H5_CALL(H5Tclose(type));
  return 0;
}

static int attribute_number(hid_t object, const char *name, hid_t file_type,
                            hid_t memory_type, const void *value) {
  hid_t space, attribute;
  PARKIT_H5_CALL(space = H5Screate(H5S_SCALAR));
  PARKIT_H5_CALL(attribute = H5Acreate2(object, name, file_type, space,
                                        H5P_DEFAULT, H5P_DEFAULT));
  PARKIT_H5_CALL(H5Awrite(attribute, memory_type, value));
  PARKIT_H5_CALL(H5Aclose(attribute));
  PARKIT_H5_CALL(H5Sclose(space));
  return 0;
}

static int attribute_integer(hid_t object, const char *name, int64_t value) {
  return attribute_number(object, name, H5T_STD_I64LE, H5T_NATIVE_INT64,
                          &value);
}

static int attribute_real(hid_t object, const char *name, double value) {
  return attribute_number(object, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                          &value);
}

/* A fixed-length string type of `width` bytes (NUL-padded, UTF-8). */
static hid_t fixed_string_type(size_t width) {
  hid_t type = H5Tcopy(H5T_C_S1);
  if (type < 0 || H5Tset_size(type, width) < 0 ||
      H5Tset_strpad(type, H5T_STR_NULLPAD) < 0 ||
      H5Tset_cset(type, H5T_CSET_UTF8) < 0)
    return -1;
  return type;
}

/* Creates dataset `name` with the extent of `file_space` and writes it
 * collectively over the file's ranks: `elements` values from `data` into
 * the part `file_space` selects (none: this rank takes part with an empty
 * selection, as collective transfers require). */
static int write_selection(hid_t parent, const char *name, hid_t file_type,
                           hid_t memory_type, hid_t file_space,
                           hsize_t elements, const void *data,
                           const char *units, const char *description) {
  hid_t memory_space, dataset, transfer;
  PARKIT_H5_CALL(dataset = H5Dcreate2(parent, name, file_type, file_space,
                                      H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  hsize_t memory_extent = elements ? elements : 1;
  PARKIT_H5_CALL(memory_space = H5Screate_simple(1, &memory_extent, NULL));
  if (elements == 0) {
    PARKIT_H5_CALL(H5Sselect_none(memory_space));
    PARKIT_H5_CALL(H5Sselect_none(file_space));
  }
  PARKIT_H5_CALL(transfer = H5Pcreate(H5P_DATASET_XFER));
  PARKIT_H5_CALL(H5Pset_dxpl_mpio(transfer, H5FD_MPIO_COLLECTIVE));
  PARKIT_H5_CALL(
      H5Dwrite(dataset, memory_type, memory_space, file_space, transfer, data));
  if (units)
    PARKIT_CALL(attribute_string(dataset, "units", units));
  if (description)
    PARKIT_CALL(attribute_string(dataset, "description", description));
  PARKIT_H5_CALL(H5Pclose(transfer));
  PARKIT_H5_CALL(H5Sclose(memory_space));
  PARKIT_H5_CALL(H5Dclose(dataset));
  return 0;
}

/* A dataset with `dimensions` dimensions of extent `dims` (0: a scalar),
 * written collectively: a rank with `writes` set writes the block at
 * `start` of extent `count` (a scalar: the value), the others nothing. */
static int write_block(hid_t parent, const char *name, hid_t file_type,
                       hid_t memory_type, int dimensions, const hsize_t *dims,
                       bool writes, const hsize_t *start, const hsize_t *count,
                       const void *data, const char *units,
                       const char *description) {
  hid_t file_space;
  PARKIT_H5_CALL(file_space = dimensions
                                  ? H5Screate_simple(dimensions, dims, NULL)
                                  : H5Screate(H5S_SCALAR));
  hsize_t elements = writes ? 1 : 0;
  for (int d = 0; d < dimensions && writes; ++d)
    elements *= count[d];
  if (elements > 0 && dimensions > 0)
    PARKIT_H5_CALL(H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, NULL,
                                       count, NULL));
  PARKIT_CALL(write_selection(parent, name, file_type, memory_type, file_space,
                              elements, data, units, description));
  PARKIT_H5_CALL(H5Sclose(file_space));
  return 0;
}

/* A dataset [ranks, row_length] (row_length 0: [ranks]) of one row per
 * rank: each writer writes the rows it holds (writers.h). */
static int write_rank_rows(hid_t parent, const char *name, hid_t file_type,
                           hid_t memory_type, int ranks,
                           const parkit_writers *writers, hsize_t row_length,
                           const void *rows, const char *units,
                           const char *description) {
  hsize_t dims[2] = {(hsize_t)ranks, row_length};
  hid_t file_space;
  PARKIT_H5_CALL(file_space = H5Screate_simple(row_length ? 2 : 1, dims, NULL));
  PARKIT_CALL(parkit_writers_select_rows(writers, file_space));
  hsize_t elements =
      (hsize_t)writers->row_count * (row_length ? row_length : 1);
  PARKIT_CALL(write_selection(parent, name, file_type, memory_type, file_space,
                              elements, rows, units, description));
  PARKIT_H5_CALL(H5Sclose(file_space));
  return 0;
}

/* A dataset that holds the same values on every rank: rank 0 writes it. */
static int write_shared(hid_t parent, const char *name, hid_t file_type,
                        hid_t memory_type, bool is_array, hsize_t length,
                        const void *data, int rank, const char *units,
                        const char *description) {
  hsize_t start = 0;
  return write_block(parent, name, file_type, memory_type, is_array ? 1 : 0,
                     &length, rank == 0, &start, &length, data, units,
                     description);
}

static int write_parameters(hid_t file, const parkit_command *command) {
  const parkit_kernel *kernel = command->kernel;
  for (int i = 0; i < kernel->option_count; ++i) {
    const parkit_option *option = &kernel->options[i];
    const parkit_value *value = &command->options[i];
    char word[128], unit_name[96];
    switch (option->type) {
    case PARKIT_OPTION_INT:
      PARKIT_CALL(attribute_integer(file, option->name, value->integer));
      break;
    case PARKIT_OPTION_DOUBLE:
      PARKIT_CALL(attribute_real(file, option->name, value->real));
      break;
    case PARKIT_OPTION_CHOICE:
      parkit_choice_word(option->choices, value->choice, word, sizeof word);
      PARKIT_CALL(attribute_string(file, option->name, word));
      break;
    case PARKIT_OPTION_TEXT:
      PARKIT_CALL(
          attribute_string(file, option->name, value->text ? value->text : ""));
      break;
    case PARKIT_OPTION_FLAG:
      PARKIT_CALL(attribute_integer(file, option->name, value->flag));
      break;
    }
    snprintf(unit_name, sizeof unit_name, "%s_unit", option->name);
    PARKIT_CALL(attribute_string(file, unit_name, option->unit));
  }
  return 0;
}

static int write_slurm_attributes(hid_t file,
                                  const parkit_provenance *provenance) {
  PARKIT_CALL(attribute_string(file, "slurm_job_id", provenance->slurm_job_id));
  PARKIT_CALL(attribute_string(file, "slurm_array_job_id",
                               provenance->slurm_array_job_id));
  PARKIT_CALL(attribute_string(file, "slurm_array_task_id",
                               provenance->slurm_array_task_id));
  PARKIT_CALL(
      attribute_string(file, "slurm_nodelist", provenance->slurm_nodelist));
  PARKIT_CALL(attribute_string(file, "slurm_ntasks", provenance->slurm_ntasks));
  PARKIT_CALL(attribute_string(file, "slurm_cpus_per_task",
                               provenance->slurm_cpus_per_task));
  return 0;
}

/* The job-wide interference figures (interference.h); -1: unknown. */
static int write_interference_attributes(hid_t file,
                                         const parkit_interference *seen) {
  PARKIT_CALL(attribute_real(file, "interference_seconds", seen->seconds));
  PARKIT_CALL(attribute_real(file, "foreign_load", seen->foreign_load));
  PARKIT_CALL(attribute_real(file, "steal_fraction", seen->steal_fraction));
  PARKIT_CALL(attribute_real(file, "waited_fraction", seen->waited_fraction));
  PARKIT_CALL(
      attribute_real(file, "load_average_start", seen->load_average_start));
  return attribute_real(file, "load_average_end", seen->load_average_end);
}

static int write_summary_attributes(hid_t file,
                                    const parkit_run_record *record) {
  const parkit_run_result *result = record->result;
  const parkit_command *command = record->command;
  const parkit_provenance *provenance = record->provenance;
  PARKIT_CALL(attribute_integer(file, "layout_version", PARKIT_LAYOUT_VERSION));
  PARKIT_CALL(
      attribute_string(file, "parkit_version", provenance->parkit_version));
  PARKIT_CALL(attribute_string(file, "kernel", command->kernel->name));
  PARKIT_CALL(attribute_string(
      file, "kernel_kind",
      command->kernel->kind == PARKIT_KERNEL_PROBE ? "probe" : "work"));
  PARKIT_CALL(attribute_string(file, "mode", parkit_mode_name(command->mode)));
  PARKIT_CALL(attribute_integer(file, "ranks", record->context->size));
  PARKIT_CALL(attribute_integer(file, "threads", record->context->threads));
  PARKIT_CALL(attribute_integer(file, "nodes", record->placement->node_count));
  PARKIT_CALL(attribute_integer(file, "ranks_per_node",
                                record->placement->max_ranks_on_node));
  PARKIT_CALL(attribute_integer(file, "last_level_cache_bytes",
                                record->placement->job_last_level_cache_bytes));
  PARKIT_CALL(attribute_integer(file, "last_level_cache_fallback_domains",
                                record->placement->job_fallback_cache_domains));
  PARKIT_CALL(attribute_integer(file, "workers",
                                (int64_t)record->context->size *
                                    record->context->threads));
  PARKIT_CALL(attribute_integer(file, "repetitions", result->repetitions));
  PARKIT_CALL(attribute_integer(file, "repetitions_completed",
                                result->repetitions_completed));
  PARKIT_CALL(attribute_integer(file, "interrupted", result->interrupted));
  PARKIT_CALL(attribute_integer(file, "warmup",
                                command->common[PARKIT_COMMON_WARMUP].integer));
  PARKIT_CALL(attribute_integer(file, "batch", result->batch));
  PARKIT_CALL(attribute_integer(file, "seed", (int64_t)record->context->seed));
  char writers[32];
  parkit_choice_word(parkit_common_options[PARKIT_COMMON_WRITERS].choices,
                     command->common[PARKIT_COMMON_WRITERS].choice, writers,
                     sizeof writers);
  PARKIT_CALL(attribute_string(file, "writers", writers));
  PARKIT_CALL(write_parameters(file, command));
  PARKIT_CALL(attribute_integer(file, "verified", result->verdict.passed));
  PARKIT_CALL(attribute_string(file, "verification", result->verdict.message));
  PARKIT_CALL(attribute_real(file, "time_min", result->statistics.min));
  PARKIT_CALL(attribute_real(file, "time_median", result->statistics.median));
  PARKIT_CALL(attribute_real(file, "time_max", result->statistics.max));
  PARKIT_CALL(attribute_string(file, "time_unit", "s"));
  PARKIT_CALL(attribute_real(file, "imbalance", result->statistics.imbalance));
  PARKIT_CALL(attribute_real(file, "rate", result->rate));
  PARKIT_CALL(attribute_real(file, "rate_best", result->rate_best));
  PARKIT_CALL(attribute_string(file, "rate_unit", result->rate_unit));
  PARKIT_CALL(attribute_real(file, "work_flops", result->work.flops));
  PARKIT_CALL(attribute_real(file, "work_bytes", result->work.bytes));
  PARKIT_CALL(attribute_real(file, "work_items", result->work.items));
  PARKIT_CALL(
      attribute_string(file, "work_item_name",
                       result->work.item_name ? result->work.item_name : ""));
  PARKIT_CALL(write_interference_attributes(file, &result->interference));
  PARKIT_CALL(attribute_string(file, "started_utc", provenance->started_utc));
  PARKIT_CALL(attribute_string(file, "finished_utc", record->finished_utc));
  PARKIT_CALL(
      attribute_integer(file, "march_native", provenance->march_native));
  return write_slurm_attributes(file, provenance);
}

static int write_timings(hid_t file, const parkit_run_record *record,
                         int rank) {
  const parkit_run_result *result = record->result;
  hsize_t dims[2] = {(hsize_t)result->repetitions_completed,
                     (hsize_t)result->ranks};
  hsize_t start[2] = {0, 0};
  /* Every rank holds all timings (the runner gathered them): rank 0 writes. */
  return write_block(file, "timings", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2,
                     dims, rank == 0, start, dims, result->times, "s",
                     "time of each completed timed repetition on each "
                     "rank, [repetition, rank], after a barrier");
}

/* phases/<name>: each phase's seconds [repetition, rank], with the
 * statistics of the repetitions' (slowest rank each) as attributes. */
static int write_phases(hid_t file, const parkit_run_result *result, int rank) {
  if (result->phase_count == 0)
    return 0;
  hid_t group;
  PARKIT_H5_CALL(group = H5Gcreate2(file, "phases", H5P_DEFAULT, H5P_DEFAULT,
                                    H5P_DEFAULT));
  hsize_t dims[2] = {(hsize_t)result->repetitions_completed,
                     (hsize_t)result->ranks};
  hsize_t start[2] = {0, 0};
  size_t cells = (size_t)dims[0] * (size_t)dims[1];
  for (int phase = 0; phase < result->phase_count; ++phase) {
    const parkit_phase_spec *spec = &result->phase_specs[phase];
    PARKIT_CALL(write_block(group, spec->name, H5T_IEEE_F64LE,
                            H5T_NATIVE_DOUBLE, 2, dims, rank == 0, start, dims,
                            result->phase_times + cells * (size_t)phase, "s",
                            spec->description));
    hid_t dataset;
    PARKIT_H5_CALL(dataset = H5Dopen2(group, spec->name, H5P_DEFAULT));
    const parkit_time_statistics *statistics = &result->phase_statistics[phase];
    PARKIT_CALL(attribute_real(dataset, "time_min", statistics->min));
    PARKIT_CALL(attribute_real(dataset, "time_median", statistics->median));
    PARKIT_CALL(attribute_real(dataset, "time_max", statistics->max));
    PARKIT_CALL(attribute_real(dataset, "imbalance", statistics->imbalance));
    PARKIT_H5_CALL(H5Dclose(dataset));
  }
  PARKIT_H5_CALL(H5Gclose(group));
  return 0;
}

/* One per-rank dataset: this rank's row (row_length values of
 * element_bytes each; 0: one value) goes to its writer, which writes the
 * rows it holds. Every rank calls it; `group` matters only where the file
 * is open. */
static int write_per_rank(hid_t group, const char *name, hid_t file_type,
                          hid_t memory_type, size_t element_bytes, int ranks,
                          const parkit_writers *writers, hsize_t row_length,
                          const void *row, const char *units,
                          const char *description) {
  void *rows = NULL;
  size_t row_bytes = element_bytes * (row_length ? (size_t)row_length : 1);
  PARKIT_CALL(parkit_writers_collect_rows(writers, row, row_bytes, &rows));
  int status = 0;
  if (writers->opens_file)
    status = write_rank_rows(group, name, file_type, memory_type, ranks,
                             writers, row_length, rows, units, description);
  free(rows);
  return status;
}

static int write_string_rows(hid_t group, const char *name, int ranks,
                             const parkit_writers *writers, hsize_t row_length,
                             size_t width, const void *row,
                             const char *description) {
  hid_t type;
  PARKIT_H5_CALL(type = fixed_string_type(width));
  int status = write_per_rank(group, name, type, type, width, ranks, writers,
                              row_length, row, NULL, description);
  PARKIT_H5_CALL(H5Tclose(type));
  return status;
}

static int write_integer_rows(hid_t group, const char *name, int ranks,
                              const parkit_writers *writers, int64_t value,
                              const char *units, const char *description) {
  return write_per_rank(group, name, H5T_STD_I64LE, H5T_NATIVE_INT64,
                        sizeof value, ranks, writers, 0, &value, units,
                        description);
}

static int write_rank_table(hid_t file, const parkit_run_record *record,
                            const parkit_writers *writers) {
  const parkit_placement *placement = record->placement;
  const parkit_run_result *result = record->result;
  int ranks = record->context->size, threads = record->context->threads;
  hid_t group = H5I_INVALID_HID;
  if (writers->opens_file)
    PARKIT_H5_CALL(group = H5Gcreate2(file, "ranks", H5P_DEFAULT, H5P_DEFAULT,
                                      H5P_DEFAULT));
  PARKIT_CALL(write_string_rows(group, "host", ranks, writers, 0,
                                PARKIT_HOST_TEXT, placement->host,
                                "host name of each rank"));
  PARKIT_CALL(write_string_rows(group, "cpuset", ranks, writers, 0,
                                PARKIT_CPUSET_TEXT, placement->cpuset_text,
                                "CPUs each rank may run on, e.g. 0-3,8"));
  PARKIT_CALL(write_integer_rows(group, "node", ranks, writers,
                                 placement->node_index, NULL,
                                 "index of the node each rank ran on"));
  PARKIT_CALL(write_integer_rows(group, "cores", ranks, writers,
                                 placement->core_count, "cores",
                                 "physical cores in each rank's CPU set"));
  PARKIT_CALL(write_integer_rows(group, "peak_resident_bytes", ranks, writers,
                                 (int64_t)result->peak_resident_bytes, "bytes",
                                 "peak resident memory of each rank"));
  PARKIT_CALL(write_per_rank(
      group, "waited_seconds", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
      sizeof(double), ranks, writers, 0, &result->interference.waited_seconds,
      "s",
      "time the rank's threads were ready to run but had no CPU during the "
      "timed repetitions (schedstat run_delay; -1 unknown)"));
  PARKIT_CALL(write_per_rank(group, "thread_cpu", H5T_STD_I32LE, H5T_NATIVE_INT,
                             sizeof(int), ranks, writers, (hsize_t)threads,
                             result->thread_cpus, NULL,
                             "CPU each OpenMP thread was on, [rank, thread]"));
  PARKIT_CALL(write_per_rank(
      group, "thread_numa", H5T_STD_I32LE, H5T_NATIVE_INT, sizeof(int), ranks,
      writers, (hsize_t)threads, result->thread_numa_nodes, NULL,
      "NUMA node of the CPU each OpenMP thread was on (-1: unknown), "
      "[rank, thread]"));
  PARKIT_CALL(write_string_rows(
      group, "thread_cpuset", ranks, writers, (hsize_t)threads,
      PARKIT_CPUSET_TEXT, result->thread_cpusets,
      "CPUs each OpenMP thread may run on, [rank, thread]"));
  if (writers->opens_file)
    PARKIT_H5_CALL(H5Gclose(group));
  return 0;
}

/* One int64 per node, written by the node's first rank: dataset `name` of
 * the group, [nodes] (columns 0) or [nodes, columns]. */
static int write_node_integers(hid_t group, const char *name,
                               const parkit_placement *placement,
                               hsize_t columns, const int64_t *values,
                               const char *units, const char *description) {
  hsize_t dims[2] = {(hsize_t)placement->node_count, columns};
  hsize_t start[2] = {(hsize_t)placement->node_index, 0};
  hsize_t count[2] = {1, columns};
  return write_block(group, name, H5T_STD_I64LE, H5T_NATIVE_INT64,
                     columns ? 2 : 1, dims, placement->node_rank == 0, start,
                     count, values, units, description);
}

/* What hwloc says of the node's CPUs (topology.h): NUMA nodes and caches. */
static int write_node_hardware(hid_t group, const parkit_placement *placement) {
  const parkit_hardware_summary *hardware = &placement->node_hardware;
  const parkit_last_level_caches *caches = &hardware->last_level;
  int64_t numa = hardware->numa_nodes, level = caches->level;
  int64_t domains = caches->domains, fallback = caches->fallback_domains;
  int64_t sizes[PARKIT_CACHE_LEVELS], cpus[PARKIT_CACHE_LEVELS];
  for (int i = 0; i < PARKIT_CACHE_LEVELS; ++i) {
    sizes[i] = hardware->cache_bytes[i];
    cpus[i] = hardware->cache_cpus[i];
  }
  PARKIT_CALL(write_node_integers(group, "numa_nodes", placement, 0, &numa,
                                  "NUMA nodes",
                                  "NUMA nodes of the node's CPUs"));
  PARKIT_CALL(write_node_integers(
      group, "cache_bytes", placement, PARKIT_CACHE_LEVELS, sizes, "bytes",
      "size of one L1 data, L2 and L3 cache of the node's CPUs (the largest "
      "of that level), 0: none or unknown, [node, level]"));
  PARKIT_CALL(write_node_integers(group, "cache_cpus", placement,
                                  PARKIT_CACHE_LEVELS, cpus, "CPUs",
                                  "CPUs sharing that cache, [node, level]"));
  PARKIT_CALL(write_node_integers(
      group, "llc_level", placement, 0, &level, NULL,
      "level of the last-level cache (3: L3), 0: no cache known"));
  PARKIT_CALL(write_node_integers(
      group, "llc_domains", placement, 0, &domains, "caches",
      "distinct last-level caches of the node's CPUs (no cache known: "
      "packages)"));
  PARKIT_CALL(write_node_integers(
      group, "llc_bytes", placement, 0, &caches->bytes, "bytes",
      "sum of their sizes, 32 MiB for each of unknown size"));
  return write_node_integers(group, "llc_fallback_domains", placement, 0,
                             &fallback, "caches",
                             "last-level caches of unknown size, counted as "
                             "32 MiB in llc_bytes");
}

/* One row per node, written by the node's first rank (world rank order). */
static int write_node_table(hid_t file, const parkit_run_record *record) {
  const parkit_placement *placement = record->placement;
  hid_t group, text;
  PARKIT_H5_CALL(
      group = H5Gcreate2(file, "nodes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  bool leader = placement->node_rank == 0;
  hsize_t nodes = (hsize_t)placement->node_count, one = 1;
  hsize_t row = (hsize_t)placement->node_index;
  int64_t ranks = placement->node_size, cores = placement->node_cores;
  PARKIT_H5_CALL(text = fixed_string_type(PARKIT_HOST_TEXT));
  PARKIT_CALL(write_block(group, "host", text, text, 1, &nodes, leader, &row,
                          &one, placement->host, NULL,
                          "host name of each node"));
  PARKIT_H5_CALL(H5Tclose(text));
  PARKIT_CALL(write_node_integers(group, "ranks", placement, 0, &ranks, "ranks",
                                  "ranks on each node"));
  PARKIT_CALL(
      write_node_integers(group, "cores", placement, 0, &cores, "cores",
                          "physical cores the node's ranks may run on"));
  const parkit_interference *seen = &record->result->interference;
  PARKIT_CALL(write_block(group, "foreign_cpu_seconds", H5T_IEEE_F64LE,
                          H5T_NATIVE_DOUBLE, 1, &nodes, leader, &row, &one,
                          &seen->node_foreign_seconds, "s",
                          "CPU time other processes used on the node's CPUs "
                          "during the timed repetitions (/proc/stat minus "
                          "the ranks' own; -1 unknown)"));
  PARKIT_CALL(write_block(group, "steal_seconds", H5T_IEEE_F64LE,
                          H5T_NATIVE_DOUBLE, 1, &nodes, leader, &row, &one,
                          &seen->node_steal_seconds, "s",
                          "time a hypervisor gave the node's CPUs to other "
                          "guests during the timed repetitions (-1 unknown)"));
  PARKIT_H5_CALL(text = fixed_string_type(PARKIT_CPUSET_TEXT));
  PARKIT_CALL(write_block(group, "cpuset", text, text, 1, &nodes, leader, &row,
                          &one, placement->node_cpuset_text, NULL,
                          "CPUs the node's ranks may run on (union of their "
                          "masks)"));
  PARKIT_H5_CALL(H5Tclose(text));
  PARKIT_CALL(write_node_hardware(group, placement));
  PARKIT_H5_CALL(H5Gclose(group));
  return 0;
}

/* A 2-D real output distributed over the ranks: each writer writes the
 * blocks it holds. Every rank calls it (`group` only where the file is
 * open). */
static int write_distributed(hid_t group, const parkit_output *output,
                             const parkit_writers *writers) {
  hid_t file_space = H5I_INVALID_HID;
  hsize_t dims[2] = {(hsize_t)output->global_shape[0],
                     (hsize_t)output->global_shape[1]};
  if (writers->opens_file)
    PARKIT_H5_CALL(file_space = H5Screate_simple(2, dims, NULL));
  double *values = NULL;
  hsize_t elements = 0;
  PARKIT_CALL(parkit_writers_collect_blocks(writers, output, file_space,
                                            &values, &elements));
  int status = 0;
  if (writers->opens_file) {
    status = write_selection(group, output->name, H5T_IEEE_F64LE,
                             H5T_NATIVE_DOUBLE, file_space, elements, values,
                             output->unit, output->description);
    (void)H5Sclose(file_space); /* the write's status is what counts */
  }
  free(values);
  return status;
}

/* What the kernel's output table says of how the output agrees between
 * splits: attributes `agreement` and, for a tolerance, `tolerance_output`
 * and `scale_output` (results/README.md). */
static int write_agreement(hid_t group, const parkit_output *output) {
  static const char *const words[] = {
      [PARKIT_OUTPUT_BITWISE] = "bitwise",
      [PARKIT_OUTPUT_TOLERANCE] = "tolerance",
      [PARKIT_OUTPUT_DIFFERS] = "differs",
      [PARKIT_OUTPUT_MEASURED] = "measured",
  };
  const parkit_output_spec *spec = output->spec;
  hid_t dataset;
  PARKIT_H5_CALL(dataset = H5Dopen2(group, output->name, H5P_DEFAULT));
  int status = attribute_string(dataset, "agreement", words[spec->agreement]);
  if (status == 0 && spec->agreement == PARKIT_OUTPUT_TOLERANCE)
    status = attribute_string(dataset, "tolerance_output", spec->tolerance);
  if (status == 0 && spec->agreement == PARKIT_OUTPUT_TOLERANCE)
    status = attribute_string(dataset, "scale_output",
                              spec->scale ? spec->scale : "");
  PARKIT_H5_CALL(H5Dclose(dataset));
  return status;
}

/* Every rank calls it: the ranks that do not open the file only send their
 * blocks of distributed outputs. */
static int write_outputs(hid_t file, const parkit_outputs *outputs,
                         const parkit_writers *writers) {
  hid_t group = H5I_INVALID_HID;
  if (writers->opens_file)
    PARKIT_H5_CALL(group = H5Gcreate2(file, "outputs", H5P_DEFAULT, H5P_DEFAULT,
                                      H5P_DEFAULT));
  for (int i = 0; i < outputs->count; ++i) {
    const parkit_output *output = &outputs->entries[i];
    hid_t file_type = output->is_integer ? H5T_STD_I64LE : H5T_IEEE_F64LE;
    hid_t memory_type =
        output->is_integer ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
    const void *data = output->is_integer ? (const void *)output->integers
                                          : (const void *)output->reals;
    if (output->is_distributed)
      PARKIT_CALL(write_distributed(group, output, writers));
    else if (writers->opens_file)
      PARKIT_CALL(write_shared(group, output->name, file_type, memory_type,
                               output->is_array, (hsize_t)output->count, data,
                               writers->file_rank, output->unit,
                               output->description));
    if (writers->opens_file)
      PARKIT_CALL(write_agreement(group, output));
  }
  if (writers->opens_file)
    PARKIT_H5_CALL(H5Gclose(group));
  return 0;
}

/* Splits the '\n'-separated environment into fixed-width rows. */
static int write_environment(hid_t group, const char *environment, int rank) {
  size_t lines = 0, width = 1;
  for (const char *line = environment; *line;) {
    size_t length = strcspn(line, "\n");
    width = length + 1 > width ? length + 1 : width;
    ++lines;
    line += length + (line[length] == '\n');
  }
  char *rows = calloc(lines ? lines : 1, width);
  PARKIT_CHECK(rows != NULL, "cannot allocate the environment table");
  size_t row = 0;
  for (const char *line = environment; *line; ++row) {
    size_t length = strcspn(line, "\n");
    memcpy(rows + row * width, line, length);
    line += length + (line[length] == '\n');
  }
  hid_t type;
  PARKIT_H5_CALL(type = fixed_string_type(width));
  PARKIT_CALL(write_shared(group, "environment", type, type, true,
                           (hsize_t)lines, rows, rank, NULL,
                           "SLURM_*, OMP_*, GOMP_*, KMP_*, OMPI_MCA_*, HDF5_*, "
                           "PARKIT_* and OPENBLAS_* variables of rank 0"));
  PARKIT_H5_CALL(H5Tclose(type));
  free(rows);
  return 0;
}

static int write_provenance(hid_t file, const parkit_provenance *provenance,
                            int rank) {
  hid_t group;
  PARKIT_H5_CALL(group = H5Gcreate2(file, "provenance", H5P_DEFAULT,
                                    H5P_DEFAULT, H5P_DEFAULT));
  PARKIT_CALL(
      attribute_string(group, "command_line", provenance->command_line));
  PARKIT_CALL(attribute_string(group, "compiler", provenance->compiler));
  PARKIT_CALL(
      attribute_string(group, "compile_flags", provenance->compile_flags));
  PARKIT_CALL(attribute_string(group, "build_type", provenance->build_type));
  PARKIT_CALL(
      attribute_integer(group, "march_native", provenance->march_native));
  PARKIT_CALL(attribute_string(group, "git_commit", provenance->git_commit));
  PARKIT_CALL(attribute_string(group, "file_locking", file_locking_mode()));
  PARKIT_CALL(attribute_string(group, "mpi_library_version",
                               provenance->mpi_library_version));
  PARKIT_CALL(attribute_string(group, "mpi_version", provenance->mpi_version));
  PARKIT_CALL(attribute_string(group, "mpi_thread_level",
                               provenance->mpi_thread_level));
  PARKIT_CALL(
      attribute_string(group, "hdf5_version", provenance->hdf5_version));
  PARKIT_CALL(
      attribute_string(group, "openmp_version", provenance->openmp_version));
  PARKIT_CALL(attribute_string(group, "cpu_model", provenance->cpu_model));
  PARKIT_CALL(write_environment(group, provenance->environment, rank));
  PARKIT_H5_CALL(H5Gclose(group));
  return 0;
}

/* The temporary being written, for parkit_result_file_discard; "" when
 * none. */
static char current_temporary[4096 + 32];

void parkit_result_file_discard(void) {
  if (current_temporary[0] != '\0')
    unlink(current_temporary); /* absent already: nothing to do */
}

static unsigned random_number(void) {
  unsigned value = 0;
  if (getrandom(&value, sizeof value, GRND_NONBLOCK) == (ssize_t)sizeof value)
    return value;
  struct timespec now; /* no entropy yet (early boot): time and pid */
  clock_gettime(CLOCK_REALTIME, &now);
  return (unsigned)now.tv_nsec ^ ((unsigned)getpid() << 16);
}

/* Rank 0: creates the temporary under a fresh random name, exclusively
 * (never an existing file, never through a link). */
static int create_temporary(const char *path, char *temporary, size_t size,
                            int *descriptor) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    PARKIT_CHECK(
        parkit_temporary_path(path, random_number(), temporary, size) == 0,
        "the temporary name of %s is too long", path);
    *descriptor = parkit_create_exclusive(temporary);
    if (*descriptor >= 0)
      return 0;
    PARKIT_CHECK(errno == EEXIST, "cannot create %s: %s", temporary,
                 strerror(errno));
  }
  PARKIT_CHECK(false, "cannot find an unused temporary name for %s", path);
  return -1;
}

/* Rank 0 creates the temporary; every rank learns its name. Collective:
 * rank 0 creates nothing before every rank has come to the write (a rank
 * that failed before it aborts the job while rank 0 waits here). */
static int share_temporary(const char *path, int rank, MPI_Comm world,
                           char *temporary, size_t size, int *descriptor) {
  PARKIT_MPI_CALL(MPI_Barrier(world));
  int created =
      rank == 0 ? create_temporary(path, temporary, size, descriptor) : 0;
  PARKIT_MPI_CALL(MPI_Bcast(&created, 1, MPI_INT, 0, world));
  PARKIT_CHECK(created == 0 || rank == 0,
               "rank 0 could not create the result file's temporary");
  if (created != 0)
    return -1; /* rank 0's own message stays the error */
  PARKIT_MPI_CALL(MPI_Bcast(temporary, (int)size, MPI_CHAR, 0, world));
  snprintf(current_temporary, sizeof current_temporary, "%s", temporary);
  /* A second stop signal from here on: see signals.h. */
  parkit_signals_writing(temporary, rank == 0);
  return 0;
}

/* The temporary must still be the file rank 0 created: a name swapped
 * for another file (or a link) while the run wrote is not published. */
static int check_still_ours(int descriptor, const char *temporary) {
  struct stat created, named;
  PARKIT_CHECK(fstat(descriptor, &created) == 0 &&
                   lstat(temporary, &named) == 0 && S_ISREG(named.st_mode) &&
                   created.st_dev == named.st_dev &&
                   created.st_ino == named.st_ino,
               "%s was replaced or removed while this run wrote it; the "
               "result is not published",
               temporary);
  return 0;
}

/* Gives the temporary its final name without replacing anything: the
 * kernel's rename(RENAME_NOREPLACE), or link() and unlink() on file
 * systems without it. Returns 0, or -1 with errno (EEXIST: lost a race). */
static int rename_without_replacing(const char *temporary,
                                    const char *final_path) {
  if (renameat2(AT_FDCWD, temporary, AT_FDCWD, final_path, RENAME_NOREPLACE) ==
      0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    return -1;
  if (link(temporary, final_path) != 0)
    return -1;
  unlink(temporary);
  return 0;
}

/* The final name's directory, synced so that the new name is durable. */
static void sync_directory(const char *final_path) {
  char directory[4096];
  parkit_path_directory(final_path, directory, sizeof directory);
  int descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (descriptor >= 0) {
    fsync(descriptor); /* best effort: the file itself is synced */
    close(descriptor);
  }
}

/* Rank 0: makes the finished file durable, then gives it its final name;
 * with `replace`, an existing file of that name is replaced. */
static int publish(int descriptor, const char *temporary,
                   const char *final_path, bool replace) {
  PARKIT_CHECK(fsync(descriptor) == 0, "fsync of %s failed: %s", temporary,
               strerror(errno));
  PARKIT_CALL(check_still_ours(descriptor, temporary));
  if (!parkit_signals_publishing()) /* a second signal is abandoning it */
    for (;;)
      pause();
  int renamed = replace ? rename(temporary, final_path)
                        : rename_without_replacing(temporary, final_path);
  if (renamed != 0 && errno == EEXIST) {
    unlink(temporary);
    PARKIT_CHECK(false,
                 "%s appeared while this run was writing (another run with "
                 "the same --out?); it is left as it is, and this run's "
                 "result is not kept",
                 final_path);
  }
  PARKIT_CHECK(renamed == 0, "cannot rename %s to %s: %s", temporary,
               final_path, strerror(errno));
  parkit_signals_published();
  sync_directory(final_path);
  return 0;
}

/* Creates the file on the ranks that open it (collective over them). */
static int create_file(const char *temporary, MPI_Comm file_comm, hid_t *file) {
  hid_t access;
  PARKIT_H5_CALL(access = H5Pcreate(H5P_FILE_ACCESS));
  PARKIT_H5_CALL(H5Pset_fapl_mpio(access, file_comm, MPI_INFO_NULL));
  /* Metadata read and written collectively: one writer, no small-I/O storm
   * from every rank on parallel file systems. */
  PARKIT_H5_CALL(H5Pset_all_coll_metadata_ops(access, true));
  PARKIT_H5_CALL(H5Pset_coll_metadata_write(access, true));
  PARKIT_H5_CALL(H5Pset_file_locking(access, true, true));
  /* The file exists (rank 0 created it, empty): truncating it is
   * creating it. */
  PARKIT_H5_CALL(*file =
                     H5Fcreate(temporary, H5F_ACC_TRUNC, H5P_DEFAULT, access));
  PARKIT_H5_CALL(H5Pclose(access));
  return 0;
}

/* The file's contents, in the same order on every rank: the ranks that do
 * not open it only send their rows to their node's leader. */
static int write_contents(hid_t file, const parkit_run_record *record,
                          const parkit_writers *writers) {
  int rank = writers->file_rank;
  if (writers->opens_file) {
    PARKIT_CALL(write_summary_attributes(file, record));
    PARKIT_CALL(write_timings(file, record, rank));
    PARKIT_CALL(write_phases(file, record->result, rank));
    PARKIT_CALL(write_node_table(file, record));
  }
  PARKIT_CALL(write_rank_table(file, record, writers));
  PARKIT_CALL(write_outputs(file, &record->result->outputs, writers));
  if (writers->opens_file)
    PARKIT_CALL(write_provenance(file, record->provenance, rank));
  return 0;
}

int parkit_result_file_write(const parkit_run_record *record, MPI_Comm world) {
  int rank = 0;
  PARKIT_MPI_CALL(MPI_Comm_rank(world, &rank));
  const parkit_value *common = record->command->common;
  bool node_leaders =
      common[PARKIT_COMMON_WRITERS].choice == PARKIT_WRITERS_NODE_LEADERS;
  char temporary[4096 + 32] = "";
  int descriptor = -1;
  PARKIT_CALL(share_temporary(record->path, rank, world, temporary,
                              sizeof temporary, &descriptor));
  parkit_writers writers;
  hid_t file = H5I_INVALID_HID;
  int status =
      parkit_writers_init(&writers, node_leaders, record->placement, world);
  if (status == 0) {
    status = writers.opens_file
                 ? create_file(temporary, writers.file_comm, &file)
                 : 0;
    if (status == 0)
      status = write_contents(file, record, &writers);
    if (status == 0 && writers.opens_file && H5Fclose(file) < 0) {
      parkit_error_hdf5(__FILE__, __LINE__, "H5Fclose(file)");
      status = -1;
    }
    parkit_writers_free(&writers);
  }
  if (status == 0 && rank == 0)
    status = publish(descriptor, temporary, record->path,
                     common[PARKIT_COMMON_REPLACE].flag);
  if (descriptor >= 0)
    close(descriptor);
  if (status == 0)
    current_temporary[0] = '\0';
  return status; /* on failure the failed call's message is the error */
}
