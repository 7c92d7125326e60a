#include "isolated_reading.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What the child sends for each file. */
typedef struct read_record {
  uint64_t index;
  int32_t status;
  parkit_result_summary summary;
  char reason[1024];
} read_record;

static int write_all(int descriptor, const void *data, size_t size) {
  const char *bytes = data;
  while (size > 0) {
    ssize_t written = write(descriptor, bytes, size);
    if (written < 0 && errno == EINTR)
      continue;
    if (written <= 0)
      return -1;
    bytes += written;
    size -= (size_t)written;
  }
  return 0;
}

/* This process's private writable memory now, in bytes (what RLIMIT_DATA
 * counts, from /proc/self/statm; 0 when unknown). */
static unsigned long long data_bytes(void) {
  FILE *statm = fopen("/proc/self/statm", "r");
  unsigned long long pages[6] = {0};
  if (statm == NULL)
    return 0;
  int read = fscanf(statm, "%llu %llu %llu %llu %llu %llu", &pages[0],
                    &pages[1], &pages[2], &pages[3], &pages[4], &pages[5]);
  fclose(statm);
  return read == 6 ? pages[5] * (unsigned long long)sysconf(_SC_PAGESIZE) : 0;
}

/* The child: reads paths[first..count), one record each, then exits. The
 * memory limit is relative, so that it holds in sanitizer builds too
 * (AddressSanitizer's shadow memory counts as data). */
static _Noreturn void read_in_child(char *const *paths, size_t first,
                                    size_t count, int out) {
  unsigned long long limit =
      data_bytes() + (unsigned long long)PARKIT_READ_MEBIBYTES * 1048576ull;
  struct rlimit memory = {.rlim_cur = limit, .rlim_max = limit};
  setrlimit(RLIMIT_DATA, &memory); /* best effort: the time limit remains */
  static read_record record;
  for (size_t i = first; i < count; ++i) {
    memset(&record, 0, sizeof record);
    record.index = i;
    record.status = parkit_result_summary_read(
        paths[i], &record.summary, record.reason, sizeof record.reason);
    if (write_all(out, &record, sizeof record) != 0)
      _exit(1);
  }
  _exit(0);
}

static double now_seconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

/* Reads one record, or fails: 1 when the child ended (end of the pipe), 2
 * when the file took longer than the limit, -1 on a read error. */
static int receive(int in, read_record *record) {
  char *bytes = (char *)record;
  size_t got = 0;
  double deadline = now_seconds() + PARKIT_READ_SECONDS;
  while (got < sizeof *record) {
    double left = deadline - now_seconds();
    struct pollfd wait = {.fd = in, .events = POLLIN};
    int ready = left > 0 ? poll(&wait, 1, (int)(left * 1000) + 1) : 0;
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready < 0)
      return -1;
    if (ready == 0)
      return 2;
    ssize_t n = read(in, bytes + got, sizeof *record - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      return 1;
    got += (size_t)n;
  }
  return 0;
}

/* Why the child ended while reading a file. */
static void describe_end(int status, const struct rusage *use, char *reason,
                         size_t size) {
  double mebibytes = (double)use->ru_maxrss / 1024.0;
  if (mebibytes > 0.75 * PARKIT_READ_MEBIBYTES)
    snprintf(reason, size,
             "the reader needed more than %d MiB for it (ended: %s)",
             PARKIT_READ_MEBIBYTES,
             WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "no answer");
  else if (WIFSIGNALED(status))
    snprintf(reason, size, "the reader crashed on it (%s, signal %d)",
             strsignal(WTERMSIG(status)), WTERMSIG(status));
  else
    snprintf(reason, size, "the reader ended on it (exit status %d)",
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* One child from file `first` on; returns the index of the first file it
 * did not answer for (== count when done). */
static size_t run_child(char *const *paths, size_t first, size_t count,
                        parkit_read_callback each, void *data, char *error,
                        size_t error_size, bool *started) {
  int pipe_ends[2];
  *started = false;
  if (pipe(pipe_ends) != 0) {
    snprintf(error, error_size, "cannot make a pipe: %s", strerror(errno));
    return first;
  }
  fflush(NULL); /* nothing buffered twice */
  pid_t child = fork();
  if (child < 0) {
    snprintf(error, error_size, "cannot start a reader process: %s",
             strerror(errno));
    close(pipe_ends[0]);
    close(pipe_ends[1]);
    return first;
  }
  if (child == 0) {
    close(pipe_ends[0]);
    read_in_child(paths, first, count, pipe_ends[1]);
  }
  *started = true;
  close(pipe_ends[1]);
  static read_record record;
  size_t next = first;
  int outcome = 0;
  while (next < count && (outcome = receive(pipe_ends[0], &record)) == 0 &&
         record.index == next) {
    each(next, record.status, &record.summary, record.reason, data);
    ++next;
  }
  if (next < count && outcome == 2)
    kill(child, SIGKILL);
  close(pipe_ends[0]);
  int status = 0;
  struct rusage use;
  memset(&use, 0, sizeof use);
  while (wait4(child, &status, 0, &use) < 0 && errno == EINTR)
    ;
  if (next < count) { /* the child failed on paths[next] */
    static const parkit_result_summary none;
    char reason[256];
    if (outcome == 2)
      snprintf(reason, sizeof reason,
               "the reader took more than %d s on it (stopped)",
               PARKIT_READ_SECONDS);
    else
      describe_end(status, &use, reason, sizeof reason);
    each(next, -1, &none, reason, data);
    ++next;
  }
  return next;
}

int parkit_read_results_isolated(char *const *paths, size_t count,
                                 parkit_read_callback each, void *data,
                                 char *error, size_t error_size) {
  size_t next = 0;
  while (next < count) {
    bool started = false;
    next =
        run_child(paths, next, count, each, data, error, error_size, &started);
    if (!started)
      return -1;
  }
  return 0;
}
