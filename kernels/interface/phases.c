#include "phases.h"

#include "check.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int parkit_phase_clock_init(parkit_phase_clock *clock,
                            const parkit_kernel *kernel, int repetitions) {
  memset(clock, 0, sizeof *clock);
  clock->specs = kernel->phases;
  clock->count = kernel->phase_count;
  clock->repetitions = repetitions;
  if (clock->count == 0)
    return 0;
  PARKIT_ALLOCATE(clock->started, clock->count);
  PARKIT_ALLOCATE(clock->in_call, clock->count);
  PARKIT_ALLOCATE(clock->in_repetition, clock->count);
  PARKIT_ALLOCATE(clock->timed, (size_t)clock->count * (size_t)repetitions);
  memset(clock->timed, 0,
         sizeof(double) * (size_t)clock->count * (size_t)repetitions);
  parkit_phase_clock_start_call(clock);
  parkit_phase_clock_start_repetition(clock);
  return 0;
}

void parkit_phase_clock_free(parkit_phase_clock *clock) {
  free(clock->started);
  free(clock->in_call);
  free(clock->in_repetition);
  free(clock->timed);
  memset(clock, 0, sizeof *clock);
}

void parkit_phase_clock_start_repetition(parkit_phase_clock *clock) {
  for (int phase = 0; phase < clock->count; ++phase)
    clock->in_repetition[phase] = 0.0;
}

void parkit_phase_clock_start_call(parkit_phase_clock *clock) {
  for (int phase = 0; phase < clock->count; ++phase) {
    clock->started[phase] = -1.0;
    clock->in_call[phase] = 0.0;
  }
}

static void note_misuse(parkit_phase_clock *clock, const char *what,
                        const char *name) {
  if (clock->misuse[0] == '\0')
    snprintf(clock->misuse, sizeof clock->misuse, "phase '%s' %s", name, what);
}

/* The index of phase `name`, or -1 (noted as a misuse). */
static int find_phase(parkit_phase_clock *clock, const char *name) {
  for (int phase = 0; phase < clock->count; ++phase)
    if (strcmp(clock->specs[phase].name, name) == 0)
      return phase;
  note_misuse(clock, "is not declared in the kernel's phase table (.phases)",
              name);
  return -1;
}

int parkit_phase_clock_end_call(parkit_phase_clock *clock) {
  for (int phase = 0; phase < clock->count; ++phase) {
    if (clock->started[phase] >= 0)
      note_misuse(clock, "was begun but not ended in run()",
                  clock->specs[phase].name);
    clock->in_repetition[phase] += clock->in_call[phase];
  }
  PARKIT_CHECK(clock->misuse[0] == '\0', "%s", clock->misuse);
  return 0;
}

void parkit_phase_clock_end_repetition(parkit_phase_clock *clock,
                                       int repetition) {
  if (clock->count > 0 && repetition >= 0 && repetition < clock->repetitions)
    memcpy(clock->timed + (size_t)repetition * (size_t)clock->count,
           clock->in_repetition, sizeof(double) * (size_t)clock->count);
}

/* ---- the kernel's side (kernel.h) ---------------------------------------- */

void parkit_phase_begin(const parkit_context *ctx, const char *name) {
  parkit_phase_clock *clock = ctx->clock;
  int phase = clock ? find_phase(clock, name) : -1;
  if (phase < 0)
    return;
  if (clock->started[phase] >= 0)
    note_misuse(clock, "was begun again before it ended", name);
  clock->started[phase] = MPI_Wtime();
}

void parkit_phase_end(const parkit_context *ctx, const char *name) {
  parkit_phase_clock *clock = ctx->clock;
  int phase = clock ? find_phase(clock, name) : -1;
  if (phase < 0)
    return;
  if (clock->started[phase] < 0) {
    note_misuse(clock, "was ended without being begun", name);
    return;
  }
  clock->in_call[phase] += MPI_Wtime() - clock->started[phase];
  clock->started[phase] = -1.0;
}

double parkit_phase_seconds(const parkit_context *ctx, const char *name) {
  parkit_phase_clock *clock = ctx->clock;
  int phase = clock ? find_phase(clock, name) : -1;
  return phase < 0 ? 0.0 : clock->in_call[phase];
}
