/*
 * What keeps a failing job from hanging or dying silently:
 *  - the phase this rank is in ("setup", "run", ...), named by every message;
 *  - crash handlers (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) that print one
 *    line naming the rank, host, signal and phase before the process dies by
 *    the same signal (mpirun and srun then end the other ranks);
 *  - a watchdog (--watchdog SECONDS) that ends a rank whose run has not
 *    finished in time, so a hang in one rank cannot hold the job forever.
 * None of it communicates: it must work while other ranks are stuck.
 */
#ifndef PARKIT_GUARD_H
#define PARKIT_GUARD_H

/* Installs the crash handlers; `rank`, `size` and `host` name this rank in
 * the messages. Call once, after MPI_Init. Returns 0 or -1 (error set). */
int parkit_guard_install(int rank, int size, const char *host);

/* Records the phase this rank enters. `phase` must be a string literal (or
 * live as long as the process). Async-signal-safe to read. */
void parkit_guard_phase(const char *phase);
const char *parkit_guard_current_phase(void);

/* Starts the watchdog: after `seconds` (> 0) it prints its message and ends
 * the process with `exit_status`. Returns 0 or -1 (error set). */
int parkit_watchdog_start(long seconds, int exit_status);
/* Stops the watchdog from firing (the run is over). */
void parkit_watchdog_disarm(void);

/* For the driver's code that cannot return an error (agreeing between
 * ranks, broadcasting what every rank needs): a failed MPI call prints the
 * call and MPI's message with the rank, and ends the whole job
 * (MPI_Abort). */
#define PARKIT_MPI_REQUIRE(call)                                               \
  do {                                                                         \
    int parkit_required_code_ = (call);                                        \
    if (parkit_required_code_ != MPI_SUCCESS)                                  \
      parkit_abort_on_mpi_failure(__FILE__, __LINE__, #call,                   \
                                  parkit_required_code_);                      \
  } while (0)
_Noreturn void parkit_abort_on_mpi_failure(const char *file, int line,
                                           const char *call, int code);

#endif
