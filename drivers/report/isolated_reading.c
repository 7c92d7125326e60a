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
                                    size_t count, int mebibytes, int out) {
  static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
  for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; ++i)
    signal(crash_signals[i], SIG_DFL);
  unsigned long long limit =
      data_bytes() + (unsigned long long)mebibytes * 1048576ull;
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
static int receive(int in, double seconds, read_record *record) {
  char *bytes = (char *)record;
  size_t got = 0;
  double deadline = now_seconds() + seconds;
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

/* What the child said on its stderr (`errors`, a file) as it died: the
 * first line of a sanitizer's report ("==N==ERROR: ..."), else the last
 * line; up to `size` - 1 bytes, control characters replaced; "" when it
 * said nothing. */
static void error_line(FILE *errors, char *line, size_t size) {
  line[0] = '\0';
  if (errors == NULL || fseek(errors, 0, SEEK_END) != 0)
    return;
  long end = ftell(errors);
  char text[4097];
  if (end <= 0 || fseek(errors, end > 4096 ? end - 4096 : 0, SEEK_SET) != 0)
    return;
  size_t got = fread(text, 1, sizeof text - 1, errors);
  while (got > 0 && (text[got - 1] == '\n' || text[got - 1] == ' '))
    --got;
  text[got] = '\0';
  char *last = strstr(text, "ERROR: ");
  if (last != NULL) {
    text[last - text + strcspn(last, "\n")] = '\0';
  } else {
    last = strrchr(text, '\n');
    last = last ? last + 1 : text;
  }
  size_t length = strlen(last) < size - 1 ? strlen(last) : size - 1;
  memcpy(line, last, length);
  line[length] = '\0';
  for (char *c = line; *c; ++c)
    if ((unsigned char)*c < 0x20 || *c == 0x7f)
      *c = '?';
}

/* Why the child ended while reading a file. */
static void describe_end(int status, const struct rusage *use, int limit,
                         char *reason, size_t size) {
  double mebibytes = (double)use->ru_maxrss / 1024.0;
  if (mebibytes > 0.75 * limit)
    snprintf(reason, size,
             "the reader needed more than %d MiB for it (ended: %s)", limit,
             WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "no answer");
  else if (WIFSIGNALED(status))
    snprintf(reason, size, "the reader crashed on it (%s, signal %d)",
             strsignal(WTERMSIG(status)), WTERMSIG(status));
  else
    snprintf(reason, size, "the reader ended on it (exit status %d)",
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* What one child did. */
typedef struct child_outcome {
  bool started;   /* false: no child (error set) */
  size_t next;    /* the first file it did not answer for */
  bool failed;    /* it crashed or stalled on paths[next] */
  bool timed_out; /* it stalled */
  char reason[512];
} child_outcome;

/* The child's end, once its pipe is done: waited for (killed first when
 * it stalled), and why it failed, with its last words on stderr. */
static void finish_child(pid_t child, FILE *errors, parkit_read_limits limits,
                         child_outcome *outcome) {
  if (outcome->timed_out)
    kill(child, SIGKILL);
  int status = 0;
  struct rusage use;
  memset(&use, 0, sizeof use);
  while (wait4(child, &status, 0, &use) < 0 && errno == EINTR)
    ;
  if (!outcome->failed)
    return;
  if (outcome->timed_out)
    snprintf(outcome->reason, sizeof outcome->reason,
             "the reader took more than %g s on it (stopped)", limits.seconds);
  else
    describe_end(status, &use, limits.mebibytes, outcome->reason,
                 sizeof outcome->reason);
  char said[200];
  error_line(errors, said, sizeof said);
  size_t used = strlen(outcome->reason);
  if (said[0] != '\0')
    snprintf(outcome->reason + used, sizeof outcome->reason - used, ": %s",
             said);
}

/* One child for paths[first..end): answers for the files it reads, and
 * says where it failed, if it did. */
static child_outcome run_child(char *const *paths, size_t first, size_t end,
                               parkit_read_limits limits,
                               parkit_read_callback each, void *data,
                               char *error, size_t error_size) {
  child_outcome outcome = {.next = first};
  int pipe_ends[2];
  if (pipe(pipe_ends) != 0) {
    snprintf(error, error_size, "cannot make a pipe: %s", strerror(errno));
    return outcome;
  }
  /* The child's stderr (what glibc or a sanitizer says as it dies) goes
   * to a file, its last line into the reason. */
  FILE *errors = tmpfile();
  fflush(NULL); /* nothing buffered twice */
  pid_t child = fork();
  if (child == 0) {
    close(pipe_ends[0]);
    if (errors)
      dup2(fileno(errors), STDERR_FILENO);
    read_in_child(paths, first, end, limits.mebibytes, pipe_ends[1]);
  }
  close(pipe_ends[1]);
  if (child < 0) {
    snprintf(error, error_size, "cannot start a reader process: %s",
             strerror(errno));
  } else {
    outcome.started = true;
    static read_record record;
    int received = 0;
    while (outcome.next < end &&
           (received = receive(pipe_ends[0], limits.seconds, &record)) == 0 &&
           record.index == outcome.next) {
      each(outcome.next, record.status, &record.summary, record.reason, data);
      ++outcome.next;
    }
    outcome.failed = outcome.next < end;
    outcome.timed_out = outcome.failed && received == 2;
  }
  close(pipe_ends[0]);
  if (child > 0)
    finish_child(child, errors, limits, &outcome);
  if (errors)
    fclose(errors);
  return outcome;
}

int parkit_read_results_isolated(char *const *paths, size_t count,
                                 parkit_read_limits limits,
                                 parkit_read_callback each, void *data,
                                 char *error, size_t error_size) {
  static const parkit_result_summary none;
  size_t next = 0;
  while (next < count) {
    size_t first = next;
    child_outcome batch =
        run_child(paths, first, count, limits, each, data, error, error_size);
    if (!batch.started)
      return -1;
    next = batch.next;
    if (!batch.failed)
      continue;
    /* A crash after other files in the same child may owe something to
     * them: the file is read again alone, so that its verdict is its own
     * (a stalled one is not waited for twice). */
    if (next > first && !batch.timed_out) {
      child_outcome alone = run_child(paths, next, next + 1, limits, each, data,
                                      error, error_size);
      if (!alone.started)
        return -1;
      if (!alone.failed) {
        next = alone.next;
        continue;
      }
      batch = alone;
    }
    each(next, -1, &none, batch.reason, data);
    ++next;
  }
  return 0;
}
