#include "signals.h"

#include "cli.h"

#include "check.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Atomic: any thread of the process (an OpenMP worker, an MPI progress
 * thread) may run the handler; lock-free atomics are async-signal-safe. */
static atomic_int signals_received = 0;

/* Where the result file stands, as the handler sees it. */
enum write_state {
  NOT_WRITING, /* no file yet: a second signal abandons */
  WRITING,     /* rank 0: abandon and remove; other ranks: ignore */
  PUBLISHING,  /* rank 0 renames it: ignore */
  ABANDONED,   /* a handler is removing the temporary and exiting */
  IGNORING,    /* the other ranks from the write on */
};
static atomic_int write_state = NOT_WRITING;
/* Written before write_state becomes WRITING, read only after. */
static char temporary_file[4096 + 32];

static void say(const char *text) {
  ssize_t ignored = write(STDERR_FILENO, text, strlen(text));
  (void)ignored;
}

/* Async-signal-safe: atomics, unlink, write and _exit only. */
static void on_stop_signal(int number) {
  (void)number;
  if (atomic_fetch_add(&signals_received, 1) == 0)
    return;
  int state = atomic_load(&write_state);
  if (state == WRITING &&
      atomic_compare_exchange_strong(&write_state, &state, ABANDONED)) {
    unlink(temporary_file);
    state = NOT_WRITING;
  }
  if (state != NOT_WRITING)
    return; /* the file is safe, or another rank or thread decides */
  say("parkit: error: second stop signal: run abandoned, no result file\n");
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
  return atomic_load(&signals_received) > 0;
}

int parkit_signals_agree(MPI_Comm comm, bool *stop) {
  int mine = parkit_signals_stop_requested(), any = 0;
  PARKIT_MPI_CALL(MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, comm));
  *stop = any != 0;
  return 0;
}

void parkit_signals_writing(const char *temporary, bool owner) {
  snprintf(temporary_file, sizeof temporary_file, "%s", temporary);
  atomic_store(&write_state, owner ? WRITING : IGNORING);
}

bool parkit_signals_publishing(void) {
  int expected = WRITING;
  return atomic_compare_exchange_strong(&write_state, &expected, PUBLISHING);
}

void parkit_signals_published(void) {
  atomic_store(&write_state, IGNORING);
}
