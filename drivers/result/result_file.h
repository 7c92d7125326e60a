/*
 * The HDF5 result file (layout: results/README.md). Written by all ranks
 * through parallel HDF5 (MPI-IO): attributes and small datasets with
 * identical values everywhere, per-rank rows collectively by hyperslab.
 * Rank 0 creates the file exclusively under a temporary name no other run
 * can share (output_path.h); it is renamed to PATH only after it has been
 * closed and synced, and never over an existing file unless --replace was
 * given: a killed run never leaves a file under a final name that is
 * incomplete, and two runs never write into one file.
 */
#ifndef PARKIT_RESULT_FILE_H
#define PARKIT_RESULT_FILE_H

#include "run_record.h"

#include <mpi.h>

/* Collective over `world` (the same ranks as the kernel's context).
 * Returns 0, or -1 with the error set: then no file has the final name
 * because of this run (a file of that name that appeared meanwhile, from
 * another run, is left as it is). */
int parkit_result_file_write(const parkit_run_record *record, MPI_Comm world);

/* Removes the temporary of a write that failed, if any. Not collective;
 * any rank may call it. */
void parkit_result_file_discard(void);

/* Bumped whenever results/README.md changes incompatibly. */
#define PARKIT_LAYOUT_VERSION 1

#endif
