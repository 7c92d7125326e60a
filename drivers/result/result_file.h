/*
 * The HDF5 result file (layout: results/README.md). Written by all ranks
 * through parallel HDF5 (MPI-IO): attributes and small datasets with
 * identical values everywhere, per-rank rows collectively by hyperslab.
 * The file is created as PATH.tmp and renamed to PATH only after it has
 * been closed and synced, so a killed run never leaves a file under a final
 * name that is incomplete.
 */
#ifndef PARKIT_RESULT_FILE_H
#define PARKIT_RESULT_FILE_H

#include "run_record.h"

#include <mpi.h>

/* Collective over `world` (the same ranks as the kernel's context). */
int parkit_result_file_write(const parkit_run_record *record, MPI_Comm world);

/* Removes PATH.tmp, the unfinished file of a run that failed while writing.
 * Not collective; any rank may call it. */
void parkit_result_file_discard(const char *path);

/* Bumped whenever results/README.md changes incompatibly. */
#define PARKIT_LAYOUT_VERSION 1

#endif
