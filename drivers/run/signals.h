/*
 * Stopping a run early, cleanly: SIGUSR1 (what `sbatch --signal=B:USR1@N`
 * scripts forward before a time limit), SIGTERM (what SLURM sends at the
 * limit) and SIGINT only set a flag. The runner checks it after each
 * repetition, agreed on by all ranks, stops after the current repetition
 * and writes the result file with the repetitions completed.
 *
 * The handlers are installed before MPI_Init, so a signal during start-up
 * is a stop request like any other (the run then ends with
 * PARKIT_EXIT_ABANDONED, having finished no repetition).
 *
 * A second signal abandons the run at once, unless the result file is
 * already safe; the exit status always says whether a file was left:
 *   before the result file is written: exit PARKIT_EXIT_ABANDONED, no file;
 *   while it is written: rank 0 removes the temporary and exits with
 *     PARKIT_EXIT_ABANDONED, no file; the other ranks ignore the signal
 *     (rank 0 decides: they cannot finish the write without it);
 *   once rank 0 has begun giving the file its final name: ignored, the run
 *     ends as it would have (a complete file, exit 4 or the verdict's).
 */
#ifndef PARKIT_SIGNALS_H
#define PARKIT_SIGNALS_H

#include <mpi.h>
#include <stdbool.h>

/* Exit statuses of a stopped run (documented in README.md). */

/* Installs the handlers for SIGUSR1, SIGTERM and SIGINT. Call before
 * MPI_Init and again after it (in case the MPI library set its own); a
 * signal counted before is kept. */
int parkit_signals_install(void);

/* Not collective: true once this process got a stop signal. */
bool parkit_signals_stop_requested(void);

/* Collective over `comm`: true on every rank when any rank got a stop
 * signal (also when only some ranks got it). */
int parkit_signals_agree(MPI_Comm comm, bool *stop);

/* The result file is being written under `temporary`; `owner` (rank 0)
 * removes it when a second signal abandons the run. */
void parkit_signals_writing(const char *temporary, bool owner);

/* Rank 0, the file complete and synced, before renaming it: returns false
 * when a second signal is abandoning the run at this moment (the process
 * is exiting: do not rename), else true, and from then on a second signal
 * is ignored. */
bool parkit_signals_publishing(void);

/* Rank 0, the file renamed (or the rename failed). */
void parkit_signals_published(void);

#endif
