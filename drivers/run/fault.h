/*
 * Test-only fault injection (--inject-fault PHASE:RANK:KIND): makes one rank
 * fail at the start of one phase, so the suite can prove that a failing rank
 * ends the whole job quickly, with a message naming the rank and the phase,
 * and that no rank is left waiting. Not for measurements.
 *
 *   PHASE  setup | warm-up | run | verify | write
 *   RANK   the rank of MPI_COMM_WORLD that fails
 *   KIND   error  (returns an error: the driver aborts the job)
 *          abort  (abort(): dies by SIGABRT)
 *          segv   (stores to a protected page: dies by SIGSEGV)
 *          hang   (sleeps forever: only --watchdog ends it)
 */
#ifndef PARKIT_FAULT_H
#define PARKIT_FAULT_H

#include <stddef.h>

typedef enum parkit_fault_kind {
  PARKIT_FAULT_NONE,
  PARKIT_FAULT_ERROR,
  PARKIT_FAULT_ABORT,
  PARKIT_FAULT_SEGV,
  PARKIT_FAULT_HANG,
} parkit_fault_kind;

typedef struct parkit_fault {
  parkit_fault_kind kind;
  char phase[16];
  long rank;
} parkit_fault;

/* Parses "none" or "PHASE:RANK:KIND". Pure. Returns 0, or -1 with a one-line
 * message naming the bad part and what is allowed. */
int parkit_fault_parse(const char *text, parkit_fault *fault, char *message,
                       size_t size);

/* Called by `rank` as it enters `phase`: when the fault is for this rank and
 * phase, it happens now. Returns 0, or -1 (error set) for kind "error";
 * the other kinds do not return. */
int parkit_fault_point(const parkit_fault *fault, const char *phase, int rank);

#endif
