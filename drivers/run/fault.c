#include "fault.h"

#include "check.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *const phases[] = {"setup", "warm-up", "run", "verify",
                                     "write"};
static const char *const kinds[] = {[PARKIT_FAULT_ERROR] = "error",
                                    [PARKIT_FAULT_ABORT] = "abort",
                                    [PARKIT_FAULT_SEGV] = "segv",
                                    [PARKIT_FAULT_HANG] = "hang"};

static int refuse(const char *text, const char *why, char *message,
                  size_t size) {
  snprintf(message, size,
           "--inject-fault '%s': %s; allowed: none, or PHASE:RANK:KIND with "
           "PHASE setup|warm-up|run|verify|write, RANK >= 0, KIND "
           "error|abort|segv|hang",
           text, why);
  return -1;
}

static bool is_phase(const char *word) {
  for (size_t i = 0; i < sizeof phases / sizeof phases[0]; ++i)
    if (strcmp(word, phases[i]) == 0)
      return true;
  return false;
}

static parkit_fault_kind kind_of(const char *word) {
  for (int kind = PARKIT_FAULT_ERROR; kind <= PARKIT_FAULT_HANG; ++kind)
    if (strcmp(word, kinds[kind]) == 0)
      return (parkit_fault_kind)kind;
  return PARKIT_FAULT_NONE;
}

int parkit_fault_parse(const char *text, parkit_fault *fault, char *message,
                       size_t size) {
  memset(fault, 0, sizeof *fault);
  if (strcmp(text, "none") == 0)
    return 0;
  char copy[64];
  if (strlen(text) >= sizeof copy)
    return refuse(text, "too long", message, size);
  strcpy(copy, text);
  char *rank_text = strchr(copy, ':');
  char *kind_text = rank_text ? strchr(rank_text + 1, ':') : NULL;
  if (kind_text == NULL)
    return refuse(text, "not three parts", message, size);
  *rank_text++ = '\0';
  *kind_text++ = '\0';
  if (!is_phase(copy))
    return refuse(text, "unknown phase", message, size);
  char *end = NULL;
  errno = 0;
  long rank = strtol(rank_text, &end, 10);
  if (*rank_text == '\0' || *end != '\0' || errno != 0 || rank < 0)
    return refuse(text, "the rank is not a number >= 0", message, size);
  parkit_fault_kind kind = kind_of(kind_text);
  if (kind == PARKIT_FAULT_NONE)
    return refuse(text, "unknown kind", message, size);
  *fault = (parkit_fault){.kind = kind, .rank = rank};
  snprintf(fault->phase, sizeof fault->phase, "%s", copy);
  return 0;
}

int parkit_fault_point(const parkit_fault *fault, const char *phase, int rank) {
  if (fault == NULL || fault->kind == PARKIT_FAULT_NONE ||
      fault->rank != rank || strcmp(fault->phase, phase) != 0)
    return 0;
  switch (fault->kind) {
  case PARKIT_FAULT_ERROR:
    PARKIT_CHECK(false, "injected fault (--inject-fault %s:%ld:error)", phase,
                 fault->rank);
  case PARKIT_FAULT_ABORT:
    abort();
  case PARKIT_FAULT_SEGV: {
    /* A real invalid access: a store to a page that forbids it (a store
     * through NULL is undefined behaviour the compiler may delete). */
    volatile char *page =
        mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page != MAP_FAILED)
      page[0] = 1;
    raise(SIGSEGV);
    abort(); /* not reached */
  }
  case PARKIT_FAULT_HANG:
    for (;;)
      pause();
  case PARKIT_FAULT_NONE:
    break;
  }
  return 0;
}
