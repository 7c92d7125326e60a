/*
 * What the overhead probes share.
 *
 * The probes answer "threads are cheaper to create and to synchronise and
 * communicate faster through shared memory; processes pay for separate
 * memory and IPC" by measuring each cost directly. They are kernels like the
 * others (setup / run / verify / teardown, no printing, no exit), with one
 * exception to the kernel rules: they time inside run(), because what they
 * measure (microseconds per barrier, per message, per started worker) is the
 * result, far below what the runner's per-repetition timer can resolve. The
 * runner's times then say how long one measurement sweep took.
 *
 * Only the thread that called the kernel uses MPI (FUNNELED), and only on
 * ctx->comm or communicators split from it.
 */
#ifndef PARKIT_PROBE_H
#define PARKIT_PROBE_H

#include <mpi.h>
#include <stdlib.h>
#include <time.h>

/* parkit started as a helper process by the spawn probe: argv[1] is this
 * word and argv[2] says what to do (see parkit_probe_child_main). main()
 * checks for it first, before MPI_Init, and returns what the child returns.
 * Not meant for users, so `parkit help` does not list it. */
#define PARKIT_PROBE_CHILD_ARGUMENT "--parkit-probe-child"

/* The helper process's whole life, for argv[2] =
 *   "exit"          return 0 at once (fork_exec_wait's worker);
 *   "mpi"           MPI_Init, MPI_Comm_get_parent, MPI_Comm_disconnect,
 *                   MPI_Finalize (mpi_comm_spawn's worker);
 *   "first-region"  time this process's first OpenMP parallel region of
 *                   argv[3] threads and print its microseconds on stdout;
 *   "isolation"     a worker of the isolation probe (isolation.c:
 *                   parkit_isolation_child_main).
 * Returns the exit status: 0, or 2 for arguments it does not know.
 * Defined in spawn.c. */
int parkit_probe_child_main(int argc, char **argv);

/* The isolation probe's workers: argv as parkit_probe_child_main got it,
 * argv[2] = "isolation". Defined in isolation.c. */
int parkit_isolation_child_main(int argc, char **argv);

/* Monotonic wall-clock seconds, for intervals. */
static inline double parkit_probe_seconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

static inline int parkit_probe_compare_doubles(const void *left,
                                               const void *right) {
  double a = *(const double *)left, b = *(const double *)right;
  return (a > b) - (a < b);
}

/* Median of values[0 .. count-1] (count >= 1); sorts them in place. */
static inline double parkit_probe_median(double *values, int count) {
  qsort(values, (size_t)count, sizeof *values, parkit_probe_compare_doubles);
  return count % 2 ? values[count / 2]
                   : 0.5 * (values[count / 2 - 1] + values[count / 2]);
}

/* Collective over `comm`: a barrier whose waiting ranks sleep (50 us naps
 * between MPI_Test calls) instead of spinning, so ranks that measure nothing
 * leave the cores to the ones that do. Returns an MPI error code. */
static inline int parkit_probe_quiet_barrier(MPI_Comm comm) {
  MPI_Request request;
  int code = MPI_Ibarrier(comm, &request);
  int done = 0;
  const struct timespec nap = {0, 50000};
  while (code == MPI_SUCCESS) {
    code = MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done)
      break;
    nanosleep(&nap, NULL);
  }
  return code;
}

#endif
