/*
 * Reading result files so that no file can harm the reader. A damaged
 * file can make the HDF5 library crash (a flipped byte in a heap: SIGSEGV),
 * loop forever, or ask for gigabytes. So the files are read by a child
 * process (fork, one for a whole batch), limited in memory, which sends one
 * record per file back through a pipe; the parent never opens a file with
 * HDF5. A file that crashes the child, or keeps it busy longer than the time
 * limit, is reported unreadable with that reason, and a new child goes on
 * with the next file; a file that crashed a child after other files is
 * read again alone first, so that its verdict is its own. The child resets
 * the crash signals to their default actions, so that handlers of the
 * parent (a fuzzer's) do not act in it. Not collective; no MPI.
 */
#ifndef PARKIT_ISOLATED_READING_H
#define PARKIT_ISOLATED_READING_H

#include "result_reader.h"

#include <stddef.h>

/* What a child may take: memory beyond the parent's, and time per file. */
typedef struct parkit_read_limits {
  int mebibytes;
  double seconds;
} parkit_read_limits;

/* parkit report's limits. */
#define PARKIT_READ_LIMITS                                                     \
  ((parkit_read_limits){.mebibytes = 1024, .seconds = 10})

/* Called once per file, in order: status 0 with its summary, or -1 with a
 * one-line reason (summary zeroed). */
typedef void (*parkit_read_callback)(size_t index, int status,
                                     const parkit_result_summary *summary,
                                     const char *reason, void *data);

/* Reads paths[0..count). Returns 0 when every file was answered for, or -1
 * with a one-line reason in `error` when no child process could be started
 * (the files from the failed one on were not answered for). The caller must
 * have switched HDF5's automatic error printing off. */
int parkit_read_results_isolated(char *const *paths, size_t count,
                                 parkit_read_limits limits,
                                 parkit_read_callback each, void *data,
                                 char *error, size_t error_size);

#endif
