/*
 * Provenance: how, where, with what and from which source a run was made.
 * Collected on rank 0 and broadcast, so every rank holds the same text (the
 * result file's attributes must be written with identical values).
 */
#ifndef PARKIT_PROVENANCE_H
#define PARKIT_PROVENANCE_H

#include <mpi.h>

typedef struct parkit_provenance {
  char command_line[4096];
  char compiler[256];
  char compile_flags[1024];
  char build_type[32];
  int march_native; /* built with -march=native */
  char git_commit[64];
  char parkit_version[32];
  char mpi_library_version[MPI_MAX_LIBRARY_VERSION_STRING];
  char mpi_version[32];
  char mpi_thread_level[32];
  char hdf5_version[32];
  char openmp_version[64];
  /* CPU model of rank 0's node ("model name" in /proc/cpuinfo), or
   * "unknown" where the system does not say. */
  char cpu_model[256];
  char started_utc[32];
  /* The SLURM job rank 0 ran in ("" outside SLURM): SLURM_JOB_ID,
   * SLURM_ARRAY_JOB_ID, SLURM_ARRAY_TASK_ID, SLURM_JOB_NODELIST,
   * SLURM_NTASKS, SLURM_CPUS_PER_TASK. */
  char slurm_job_id[32];
  char slurm_array_job_id[32];
  char slurm_array_task_id[32];
  char slurm_nodelist[1024];
  char slurm_ntasks[32];
  char slurm_cpus_per_task[32];
  /* SLURM_*, OMP_*, GOMP_*, KMP_*, OMPI_MCA_*, HDF5_*, PARKIT_* and
   * OPENBLAS_* variables of rank 0, "NAME=value" lines separated by '\n'. */
  char environment[16384];
} parkit_provenance;

/* Collective over `world`. thread_level is MPI_Init_thread's `provided`. */
int parkit_provenance_collect(parkit_provenance *provenance, int argc,
                              char **argv, int thread_level, MPI_Comm world);

/* The current time in UTC as "2026-11-23T20:41:07Z". */
void parkit_utc_now(char *text, size_t size);

#endif
