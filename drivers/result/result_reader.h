/*
 * Reading one result file back (layout: results/README.md) for
 * `parkit report`: the root attributes a summary table needs, the kernel's
 * parameters, and the per-repetition timings. Serial HDF5 calls on one
 * process, no MPI: the file is opened once, read-only, and only attributes
 * and the small `timings` dataset are read.
 */
#ifndef PARKIT_RESULT_READER_H
#define PARKIT_RESULT_READER_H

#include "statistics.h"

#include <stddef.h>
#include <stdint.h>

typedef struct parkit_result_summary {
  char kernel[64];
  char mode[16];
  /* The kernel's parameters (root attributes X with a sibling X_unit, other
   * than `rate`), as "name=value" sorted by name and joined by spaces:
   * "block=32 n=211 variant=blocked". Integers print as integers, numbers
   * with %g, text as is. */
  char problem[1024];
  char rate_unit[64];
  int64_t ranks, threads, workers, repetitions, verified;
  int64_t nodes, ranks_per_node; /* most ranks on one node */
  double rate; /* rate_unit per second, the `rate` attribute */
  /* From `timings`: each repetition timed by its slowest rank; seconds.
   * imbalance: max / min over ranks of each rank's total. */
  parkit_time_statistics times;
} parkit_result_summary;

/* Reads `path`. Returns 0, or -1 with a one-line reason (what is missing or
 * damaged, with HDF5's own message) in `reason`. Every HDF5 object it opens
 * is closed before it returns, on success and on failure. The caller must
 * have switched HDF5's automatic error printing off. */
int parkit_result_summary_read(const char *path, parkit_result_summary *summary,
                               char *reason, size_t size);

#endif
