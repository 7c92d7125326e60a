#include "guard.h"

#include "check.h"

#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static _Atomic(const char *) current_phase = "start";
static char who[192] =
    "parkit: error: a rank"; /* "parkit: error: rank R ..." */
static long watchdog_seconds;
static int watchdog_exit_status;
static atomic_bool watchdog_armed;

void parkit_guard_phase(const char *phase) {
  atomic_store(&current_phase, phase);
}

const char *parkit_guard_current_phase(void) {
  return atomic_load(&current_phase);
}

/* write(2) of a NUL-terminated text: async-signal-safe. */
static void say(const char *text) {
  size_t length = strlen(text);
  while (length > 0) {
    ssize_t written = write(STDERR_FILENO, text, length);
    if (written <= 0)
      return;
    text += written;
    length -= (size_t)written;
  }
}

static const char *signal_name(int signal_number) {
  switch (signal_number) {
  case SIGSEGV:
    return "SIGSEGV (invalid memory access)";
  case SIGBUS:
    return "SIGBUS (bus error)";
  case SIGFPE:
    return "SIGFPE (arithmetic exception)";
  case SIGILL:
    return "SIGILL (illegal instruction: built for another CPU?)";
  case SIGABRT:
    return "SIGABRT (aborted)";
  }
  return "a fatal signal";
}

/* Prints one line, then dies by the same signal (SA_RESETHAND restored the
 * default action), so the exit status still says how the rank died. */
static void on_crash(int signal_number) {
  say(who);
  say(" crashed with ");
  say(signal_name(signal_number));
  say(" in ");
  say(parkit_guard_current_phase());
  say("\n");
  raise(signal_number);
}

int parkit_guard_install(int rank, int size, const char *host) {
  snprintf(who, sizeof who, "parkit: error: rank %d of %d (host %s)", rank,
           size, host);
  /* An alternate stack, so a stack overflow can still be reported. */
  static char alternate_stack[64 * 1024];
  stack_t stack = {.ss_sp = alternate_stack, .ss_size = sizeof alternate_stack};
  PARKIT_CHECK(sigaltstack(&stack, NULL) == 0, "sigaltstack failed");
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_crash;
  action.sa_flags = SA_RESETHAND | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&action.sa_mask);
  const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
  for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; ++i)
    PARKIT_CHECK(sigaction(fatal[i], &action, NULL) == 0,
                 "cannot install the handler for signal %d", fatal[i]);
  return 0;
}

static void *watch(void *unused) {
  (void)unused;
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += watchdog_seconds;
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) != 0)
    ; /* interrupted by a signal: sleep on to the same deadline */
  if (!atomic_load(&watchdog_armed))
    return NULL;
  char line[512];
  snprintf(line, sizeof line,
           "%s: watchdog: the run did not finish within --watchdog %ld s "
           "(in %s); ending the job\n",
           who, watchdog_seconds, parkit_guard_current_phase());
  say(line);
  /* No MPI from this thread (FUNNELED) and no atexit handlers that could
   * wait on the stuck thread: the launcher ends the other ranks. */
  _exit(watchdog_exit_status);
}

int parkit_watchdog_start(long seconds, int exit_status) {
  watchdog_seconds = seconds;
  watchdog_exit_status = exit_status;
  atomic_store(&watchdog_armed, true);
  pthread_t thread;
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  int status = pthread_create(&thread, &attributes, watch, NULL);
  pthread_attr_destroy(&attributes);
  PARKIT_CHECK(status == 0, "cannot start the watchdog thread: %s",
               strerror(status));
  return 0;
}

void parkit_watchdog_disarm(void) {
  atomic_store(&watchdog_armed, false);
}

_Noreturn void parkit_abort_on_mpi_failure(const char *file, int line,
                                           const char *call, int code) {
  parkit_error_mpi(file, line, call, code);
  int rank = -1;
  if (MPI_Comm_rank(MPI_COMM_WORLD, &rank) != MPI_SUCCESS)
    rank = -1;
  fprintf(stderr, "parkit: error: rank %d: %s\n", rank, parkit_error_message());
  fflush(stderr);
  (void)MPI_Abort(MPI_COMM_WORLD, 1);
  _exit(1); /* MPI_Abort does not return; if it did, end this rank */
}
