#include "signals.h"

#include "cli.h"

#include "check.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Atomic: any thread of the process (an OpenMP worker too) may run the
 * handler; lock-free atomics are async-signal-safe. */
static atomic_int signals_received = 0;
/* Written outside the handler only while the handler cannot need it twice;
 * the handler reads it after checking temporary_set. */
static char temporary_file[4096 + 16];
static volatile sig_atomic_t temporary_set = 0;

/* Async-signal-safe: a counter, unlink, write and _exit only. */
static void on_stop_signal(int number) {
  (void)number;
  if (atomic_fetch_add(&signals_received, 1) == 0)
    return;
  if (temporary_set)
    unlink(temporary_file);
  static const char message[] =
      "parkit: error: second stop signal: run abandoned, no result file\n";
  ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
  (void)ignored;
  _exit(PARKIT_EXIT_ABANDONED);
}

int parkit_signals_install(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  static const int stop_signals[] = {SIGUSR1, SIGTERM, SIGINT};
  for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; ++i)
    PARKIT_CHECK(sigaction(stop_signals[i], &action, NULL) == 0,
                 "cannot install the handler for signal %d", stop_signals[i]);
  return 0;
}

bool parkit_signals_stop_requested(void) {
  return signals_received > 0;
}

int parkit_signals_agree(MPI_Comm comm, bool *stop) {
  int mine = parkit_signals_stop_requested(), any = 0;
  PARKIT_MPI_CALL(MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, comm));
  *stop = any != 0;
  return 0;
}

void parkit_signals_set_temporary_file(const char *path) {
  temporary_set = 0;
  if (path && path[0]) {
    snprintf(temporary_file, sizeof temporary_file, "%s", path);
    temporary_set = 1;
  }
}
