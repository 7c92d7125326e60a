#include "progress.h"

#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int parkit_progress_after_from_environment(double *seconds, char *message,
                                           size_t size) {
  const char *text = getenv("PARKIT_PROGRESS_AFTER");
  if (text == NULL) {
    *seconds = PARKIT_PROGRESS_AFTER_DEFAULT;
    return 0;
  }
  char *end = NULL;
  errno = 0;
  double value = strtod(text, &end);
  /* The whole text, no leading space, a finite number in range. */
  if (text[0] == '\0' || text[0] == ' ' || text[0] == '\t' || *end != '\0' ||
      errno != 0 || !isfinite(value) || value < 0 ||
      value > PARKIT_PROGRESS_AFTER_MAX) {
    snprintf(
        message, size,
        "PARKIT_PROGRESS_AFTER='%.64s' is not a progress delay; allowed: a "
        "number of seconds from 0 (a line after every repetition) to "
        "%.0f (or unset it for %.0f)",
        text, PARKIT_PROGRESS_AFTER_MAX, PARKIT_PROGRESS_AFTER_DEFAULT);
    /* One line, whatever the variable holds. */
    for (unsigned char *c = (unsigned char *)message; *c; ++c)
      if (*c < 0x20 || *c == 0x7f)
        *c = '?';
    return -1;
  }
  *seconds = value;
  return 0;
}

parkit_progress parkit_progress_start(bool enabled, double after) {
  return (parkit_progress){.enabled = enabled,
                           .after = after,
                           .interval = after < 1.0 ? after : 1.0,
                           .started = MPI_Wtime(),
                           .last_report = -INFINITY};
}

void parkit_progress_report(parkit_progress *progress, const char *what,
                            int done, int total) {
  if (!progress->enabled)
    return;
  double now = MPI_Wtime();
  if (now - progress->started < progress->after ||
      now - progress->last_report < progress->interval)
    return;
  fprintf(stderr, "parkit: %s %d of %d, %.1f s elapsed\n", what, done, total,
          now - progress->started);
  progress->last_report = now;
}
