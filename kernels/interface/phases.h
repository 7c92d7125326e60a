/*
 * The runner's side of the phase clock (kernels see only
 * parkit_phase_begin/end/seconds in kernel.h): per phase of the kernel's
 * phase table, the open interval's start, the seconds of the current call
 * of run(), and the seconds of each timed repetition on this rank.
 *
 * A kernel marks phases from the thread that called run(); the clock is
 * private to its rank, so nothing here is collective or locked. A misuse (an
 * undeclared name, a phase ended that was not begun, begun twice) cannot be
 * returned from the void marking calls: the clock keeps the first one and
 * the runner fails the run with it after run() returns.
 */
#ifndef PARKIT_PHASES_H
#define PARKIT_PHASES_H

#include "kernel.h"

#include <stdbool.h>

struct parkit_phase_clock {
  const parkit_phase_spec *specs; /* the kernel's phase table */
  int count;
  double *started;       /* [count]: start of the open interval, < 0: closed */
  double *in_call;       /* [count]: seconds in the current call of run() */
  double *in_repetition; /* [count]: in the current timed repetition */
  double *timed; /* [repetitions][count]: seconds of each timed repetition */
  int repetitions;
  char misuse[160]; /* the first misuse, "" when none */
};

typedef struct parkit_phase_clock parkit_phase_clock;

/* Room for `repetitions` timed calls of `kernel`'s phases. Returns 0, or -1
 * with the error set. */
int parkit_phase_clock_init(parkit_phase_clock *clock,
                            const parkit_kernel *kernel, int repetitions);
void parkit_phase_clock_free(parkit_phase_clock *clock);

/* A timed repetition (one or more calls of run()) starts. */
void parkit_phase_clock_start_repetition(parkit_phase_clock *clock);

/* A call of run() starts: every phase's seconds in the call go back to 0. */
void parkit_phase_clock_start_call(parkit_phase_clock *clock);

/* A call of run() has returned: its phase seconds count towards the current
 * repetition. Returns 0, or -1 with the error set when the kernel misused
 * the clock (or left a phase open). */
int parkit_phase_clock_end_call(parkit_phase_clock *clock);

/* Timed repetition `repetition` has ended: its phase seconds are kept. */
void parkit_phase_clock_end_repetition(parkit_phase_clock *clock,
                                       int repetition);

/* Seconds of phase `phase` in timed repetition `repetition`. */
static inline double parkit_phase_clock_timed(const parkit_phase_clock *clock,
                                              int repetition, int phase) {
  return clock
      ->timed[(size_t)repetition * (size_t)clock->count + (size_t)phase];
}

#endif
