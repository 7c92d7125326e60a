/*
 * Where a run's result file goes. --out names a directory (created if
 * missing) or, when it ends in ".h5", the file itself. Generated names say
 * kernel, mode, ranks and threads and end in a unique stamp:
 *   matmul_hybrid_p2_t2_20261123T204107Z_3fa9c1.h5
 * (with _j<SLURM_JOB_ID>[_a<array index>] before the stamp under SLURM).
 * The file is written as NAME.tmp and renamed to NAME when complete.
 */
#ifndef PARKIT_OUTPUT_PATH_H
#define PARKIT_OUTPUT_PATH_H

#include <stddef.h>

#define PARKIT_TEMPORARY_SUFFIX ".tmp"

/* Not collective; call on one rank. Checks that the target can be written
 * (creating directories as needed) and writes the final file path. Returns 0,
 * or -1 with a one-line message naming the path and the reason. */
int parkit_output_path_prepare(const char *out, const char *kernel,
                               const char *mode, int ranks, int threads,
                               char *path, size_t path_size, char *message,
                               size_t message_size);

/* The directory part of `path` ("." when it has none, "/" for "/x"). */
void parkit_path_directory(const char *path, char *directory, size_t size);

#endif
