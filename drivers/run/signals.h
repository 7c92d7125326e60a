/*
 * Stopping a run early, cleanly: SIGUSR1 (what `sbatch --signal=B:USR1@N`
 * scripts forward before a time limit), SIGTERM (what SLURM sends at the
 * limit) and SIGINT only set a flag. The runner checks it after each
 * repetition, agreed on by all ranks, stops after the current repetition
 * and writes the result file with the repetitions completed.
 *
 * A second signal abandons the run at once: the handler removes the
 * temporary result file (if one is being written) and ends the process
 * with PARKIT_EXIT_ABANDONED. No final file is left behind then.
 */
#ifndef PARKIT_SIGNALS_H
#define PARKIT_SIGNALS_H

#include <mpi.h>
#include <stdbool.h>

/* Exit statuses of a stopped run (documented in README.md). */

/* Installs the handlers for SIGUSR1, SIGTERM and SIGINT. Call once per
 * process, after MPI_Init (so they replace any the MPI library set). */
int parkit_signals_install(void);

/* Not collective: true once this process got a stop signal. */
bool parkit_signals_stop_requested(void);

/* Collective over `comm`: true on every rank when any rank got a stop
 * signal (also when only some ranks got it). */
int parkit_signals_agree(MPI_Comm comm, bool *stop);

/* The temporary file the handler removes when it abandons the run; NULL
 * (or "") when none is being written. Async-signal-safe to read. */
void parkit_signals_set_temporary_file(const char *path);

#endif
