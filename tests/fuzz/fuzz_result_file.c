/*
 * libFuzzer target: any bytes as a result file, through both readers.
 *
 * The input is the file itself. Seeded with real result files and one-byte
 * corruptions of them that crashed, hung or exhausted the readers before
 * they read in isolation (corpus/result_file/), the fuzzer mutates bytes
 * as a damaged disk or a bad copy would. Each input is read by the C
 * reader as `parkit report` reads it (isolated_reading.h: a child process
 * with limits), and, when PARKIT_FUZZ_PYTHON names a Python with h5py, by
 * the analysis loader (tests/fuzz/read_with_python.py, the same isolation
 * in Python). Then:
 *   - the reading itself must succeed and answer for the file: accepted,
 *     or refused with a one-line reason (a crash or a stall of the child is
 *     such a reason);
 *   - both readers must accept or refuse it alike, and agree on the
 *     kernel and its parameters when they accept it;
 *   - an accepted summary must be usable by the report.
 * Coverage guides the fuzzer only through the parent's code: the HDF5
 * calls run in the child, so this target finds what the readers do with
 * damaged files, not new paths inside HDF5 (fuzz_result_reader.c drives the
 * reader's own checks).
 *
 * Every 100 inputs, and at the end, it prints what happened so far:
 * accepted, refused, and how many of the refusals were crashes or stalls
 * of the C reader's child.
 */
#include "isolated_reading.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <poll.h>
#include <sanitizer/common_interface_defs.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Short limits: the fuzzer must get through many inputs (a good file
 * takes a few milliseconds in either reader). */
#define FUZZ_SECONDS 0.5
static const parkit_read_limits fuzz_limits = {.mebibytes = 512,
                                               .seconds = FUZZ_SECONDS};

typedef struct verdict {
  int status;
  parkit_result_summary summary;
  char reason[1024];
} verdict;

static void keep_verdict(size_t index, int status,
                         const parkit_result_summary *summary,
                         const char *reason, void *data) {
  (void)index;
  verdict *kept = data;
  kept->status = status;
  kept->summary = *summary;
  snprintf(kept->reason, sizeof kept->reason, "%s", reason);
}

/* The Python reader, a process answering one line per path. */
static FILE *to_python, *from_python;

static void start_python(void) {
  const char *python = getenv("PARKIT_FUZZ_PYTHON");
  const char *source = getenv("PARKIT_SOURCE_DIR");
  if (python == NULL || source == NULL)
    return;
  int requests[2], answers[2];
  if (pipe(requests) != 0 || pipe(answers) != 0)
    abort();
  pid_t child = fork();
  if (child == 0) {
    dup2(requests[0], STDIN_FILENO);
    dup2(answers[1], STDOUT_FILENO);
    close(requests[1]);
    close(answers[0]);
    char helper[4096], seconds[32];
    snprintf(helper, sizeof helper, "%s/tests/fuzz/read_with_python.py",
             source);
    snprintf(seconds, sizeof seconds, "%g", FUZZ_SECONDS);
    execl(python, python, helper, source, seconds, (char *)NULL);
    _exit(127);
  }
  close(requests[0]);
  close(answers[1]);
  to_python = fdopen(requests[1], "w");
  from_python = fdopen(answers[0], "r");
}

/* The Python reader's answer for `path`: "accept ..." or "refuse ...". */
static void ask_python(const char *path, char *answer, size_t size) {
  fprintf(to_python, "%s\n", path);
  fflush(to_python);
  struct pollfd wait = {.fd = fileno(from_python), .events = POLLIN};
  int ready;
  do /* libFuzzer's timer interrupts the wait every second */
    ready = poll(&wait, 1, 30 * 1000);
  while (ready < 0 && errno == EINTR);
  if (ready != 1 || fgets(answer, (int)size, from_python) == NULL) {
    fprintf(stderr, "fuzz: the Python reader gave no answer for %s\n", path);
    abort();
  }
  answer[strcspn(answer, "\n")] = '\0';
}

static struct tally { long inputs, accepted, refused, crashed, stalled; } tally;

static void print_tally(void) {
  fprintf(stderr,
          "fuzz_result_file: %ld files: %ld accepted, %ld refused (the "
          "reader's child crashed on %ld, stalled on %ld)\n",
          tally.inputs, tally.accepted, tally.refused, tally.crashed,
          tally.stalled);
}

static void count(const verdict *c_verdict) {
  ++tally.inputs;
  if (c_verdict->status == 0)
    ++tally.accepted;
  else
    ++tally.refused;
  tally.crashed += strstr(c_verdict->reason, "reader crashed") != NULL ||
                   strstr(c_verdict->reason, "reader ended") != NULL ||
                   strstr(c_verdict->reason, "reader needed") != NULL;
  tally.stalled += strstr(c_verdict->reason, "reader took more") != NULL;
  if (tally.inputs % 100 == 0)
    print_tally();
}

/* An accepted summary must be usable by the report. */
static void check_usable(const parkit_result_summary *summary) {
  if (summary->repetitions < 1 || summary->ranks < 1 || summary->nodes < 1 ||
      summary->threads < 1 || summary->workers < 1 ||
      summary->nodes > summary->ranks || summary->ranks_per_node < 1 ||
      summary->ranks_per_node > summary->ranks ||
      !isfinite(summary->times.median) || summary->times.median < 0 ||
      summary->kernel[0] == '\0' || summary->mode[0] == '\0')
    abort();
}

/* Both readers must decide alike; Python's answer names the kernel and
 * the problem it read. */
static void compare(const char *path, const verdict *c_verdict) {
  if (to_python == NULL)
    return;
  char answer[4096], expected[2048];
  ask_python(path, answer, sizeof answer);
  bool python_accepts = strncmp(answer, "accept ", 7) == 0;
  snprintf(expected, sizeof expected, "accept %s %s", c_verdict->summary.kernel,
           c_verdict->summary.problem);
  if (python_accepts != (c_verdict->status == 0) ||
      (python_accepts && strcmp(answer, expected) != 0)) {
    fprintf(stderr,
            "fuzz: the readers disagree on %s:\n  C:      %s\n  Python: "
            "%s\n",
            path, c_verdict->status == 0 ? expected : c_verdict->reason,
            answer);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char path[64];
  if (path[0] == '\0') {
    /* A sanitizer's report in a reader's child (a bug of HDF5's, say) is
     * that child's end, which the reader reports; libFuzzer's death
     * callback must not take it for this process's and save the input
     * as a crash. (Errors in this process still abort it.) */
    __sanitizer_set_death_callback(NULL);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    signal(SIGPIPE, SIG_IGN);
    snprintf(path, sizeof path, "/tmp/parkit-fuzz-file-%ld.h5", (long)getpid());
    start_python();
    atexit(print_tally);
  }
  FILE *file = fopen(path, "wb");
  if (file == NULL || fwrite(data, 1, size, file) != size || fclose(file))
    abort();
  verdict c_verdict = {.status = 99};
  char error[256];
  char *paths[] = {path};
  if (parkit_read_results_isolated(paths, 1, fuzz_limits, keep_verdict,
                                   &c_verdict, error, sizeof error) != 0) {
    fprintf(stderr, "fuzz: %s\n", error);
    abort();
  }
  if (c_verdict.status != 0 && c_verdict.status != -1)
    abort(); /* no answer */
  if (c_verdict.status == -1 &&
      (c_verdict.reason[0] == '\0' || strchr(c_verdict.reason, '\n')))
    abort(); /* a refusal is one non-empty line */
  if (c_verdict.status == 0)
    check_usable(&c_verdict.summary);
  if (getenv("PARKIT_FUZZ_VERBOSE")) /* replaying one input */
    fprintf(stderr, "C reader: %s\n",
            c_verdict.status == 0 ? "accepted" : c_verdict.reason);
  count(&c_verdict);
  compare(path, &c_verdict);
  unlink(path);
  return 0;
}
