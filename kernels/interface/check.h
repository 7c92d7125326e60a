/*
 * Error handling: every fallible call is checked, failures travel up as
 * return codes (0 = success, -1 = failure), and only the driver decides how
 * the program ends.
 *
 * The first failure in a process records one line, "file:line: what failed:
 * why", which the driver prints with the rank and phase. Later failures on the
 * way up leave it untouched, so the message names the root cause.
 *
 * MPI calls only return errors if the communicator's error handler is
 * MPI_ERRORS_RETURN (the driver sets it on every communicator it makes);
 * HDF5's automatic stack printing is switched off by the driver and the
 * innermost HDF5 message is recorded instead.
 */
#ifndef PARKIT_CHECK_H
#define PARKIT_CHECK_H

#include <stddef.h>

/* Record a failure (printf-style). Keeps the first one per process. */
void parkit_error_set(const char *file, int line, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* Record a failed MPI call with the library's own error string. */
void parkit_error_mpi(const char *file, int line, const char *call, int code);
/* Record a failed HDF5 call with the innermost message of the HDF5 stack. */
void parkit_error_hdf5(const char *file, int line, const char *call);
/* The recorded message, or "" when none. */
const char *parkit_error_message(void);
/* Forget the recorded message (tests, and phases that recover). */
void parkit_error_clear(void);

/* Fail with a message when `condition` is false. */
#define PARKIT_CHECK(condition, ...)                                           \
  do {                                                                         \
    if (!(condition)) {                                                        \
      parkit_error_set(__FILE__, __LINE__, __VA_ARGS__);                       \
      return -1;                                                               \
    }                                                                          \
  } while (0)

/* Propagate the failure of a parkit function (returns non-zero on failure). */
#define PARKIT_CALL(call)                                                      \
  do {                                                                         \
    if ((call) != 0) {                                                         \
      parkit_error_set(__FILE__, __LINE__, "%s failed", #call);                \
      return -1;                                                               \
    }                                                                          \
  } while (0)

/* Check an MPI call; the message carries MPI_Error_string. */
#define PARKIT_MPI_CALL(call)                                                  \
  do {                                                                         \
    int parkit_mpi_code_ = (call);                                             \
    if (parkit_mpi_code_ != MPI_SUCCESS) {                                     \
      parkit_error_mpi(__FILE__, __LINE__, #call, parkit_mpi_code_);           \
      return -1;                                                               \
    }                                                                          \
  } while (0)

/* Check an HDF5 call that returns a negative herr_t or hid_t on failure.
 * Works on assignments: PARKIT_H5_CALL(file = H5Fcreate(...)). */
#define PARKIT_H5_CALL(call)                                                   \
  do {                                                                         \
    if ((call) < 0) {                                                          \
      parkit_error_hdf5(__FILE__, __LINE__, #call);                            \
      return -1;                                                               \
    }                                                                          \
  } while (0)

/* 64-byte aligned allocation (free() releases it) that records the size it
 * failed on. Returns NULL on failure. */
void *parkit_allocate(size_t bytes, const char *file, int line);
#define PARKIT_ALLOCATE(pointer, count)                                        \
  do {                                                                         \
    (pointer) = parkit_allocate(sizeof(*(pointer)) * (size_t)(count),          \
                                __FILE__, __LINE__);                           \
    if ((pointer) == NULL)                                                     \
      return -1;                                                               \
  } while (0)

#endif
