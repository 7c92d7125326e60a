/*
 * Progress lines on stderr while a run goes on, printed by rank 0 after a
 * repetition: "parkit: repetition k of N, X s elapsed" (and "warm-up
 * repetition k of N" during the warm-up). The first comes once the run has
 * lasted the progress delay, then at most one every min(delay, 1 s); so by
 * default (3 s) short runs print none and long ones one a second, and a
 * delay of 0 prints a line after every repetition.
 *
 * The delay is PARKIT_PROGRESS_AFTER (seconds) in the environment, default
 * 3. Not collective; no MPI but MPI_Wtime.
 */
#ifndef PARKIT_PROGRESS_H
#define PARKIT_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#define PARKIT_PROGRESS_AFTER_DEFAULT 3.0 /* s */
#define PARKIT_PROGRESS_AFTER_MAX 86400.0 /* s */

typedef struct parkit_progress {
  bool enabled;
  double after;    /* s of run before the first line */
  double interval; /* s, least time between two lines: min(after, 1) */
  double started, last_report; /* MPI_Wtime() */
} parkit_progress;

/* The delay from PARKIT_PROGRESS_AFTER, or the default when it is unset.
 * Returns 0, or -1 with a one-line message naming the bad value and what
 * is allowed (a number of seconds, 0 to PARKIT_PROGRESS_AFTER_MAX). */
int parkit_progress_after_from_environment(double *seconds, char *message,
                                           size_t size);

/* Starts the clock now; a tracker that is not enabled prints nothing. */
parkit_progress parkit_progress_start(bool enabled, double after);

/* Called after repetition `done` of `total`: prints a line when due. */
void parkit_progress_report(parkit_progress *progress, const char *what,
                            int done, int total);

#endif
