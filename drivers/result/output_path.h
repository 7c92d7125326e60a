/*
 * Where a run's result file goes. --out names a directory (created if
 * missing) or, when it ends in ".h5", the file itself. Generated names say
 * kernel, mode, ranks and threads and end in a unique stamp:
 *   matmul_hybrid_p2_t2_20261123T204107Z_3fa9c1.h5
 * (with _j<SLURM_JOB_ID>[_a<array index>] before the stamp under SLURM).
 * An existing FILE.h5 is refused unless --replace is given.
 *
 * The file is written under a temporary name no other run can share,
 * NAME.<8 hex digits>.h5.tmp for NAME.h5, and given its final name only
 * when complete: a name ending in .h5 is a complete result, one ending in
 * .tmp is not (the readers list *.h5.tmp as unfinished runs).
 */
#ifndef PARKIT_OUTPUT_PATH_H
#define PARKIT_OUTPUT_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define PARKIT_TEMPORARY_SUFFIX ".h5.tmp"
/* Bytes the temporary name adds to the final one: ".<8 hex>" and ".tmp". */
#define PARKIT_TEMPORARY_NAME_EXTRA 13

typedef struct parkit_output_request {
  const char *out; /* --out */
  const char *kernel, *mode;
  int ranks, threads;
  bool replace; /* --replace */
} parkit_output_request;

/* Not collective; call on one rank. Checks that the target can be written
 * (creating directories as needed), that it is not an existing file (unless
 * `replace`), and that every name the run hands to MPI-IO fits
 * (files.h), and writes the final file path. Returns 0, or -1 with a
 * one-line message naming the path and the reason; nothing is created
 * then, except directories when the failure came after them. */
int parkit_output_path_prepare(const parkit_output_request *request, char *path,
                               size_t path_size, char *message,
                               size_t message_size);

/* The temporary name of result file `path` (ending in .h5) for the random
 * number `random`. Returns 0, or -1 when it does not fit `size`. Pure. */
int parkit_temporary_path(const char *path, unsigned random, char *temporary,
                          size_t size);

/* The directory part of `path` ("." when it has none, "/" for "/x"). */
void parkit_path_directory(const char *path, char *directory, size_t size);

#endif
