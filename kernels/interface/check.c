#include "check.h"

#include <hdf5.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char first_error[1024];

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

void parkit_error_set(const char *file, int line, const char *format, ...) {
  if (first_error[0] != '\0')
    return;
  int used = snprintf(first_error, sizeof first_error,
                      "%s:%d: ", base_name(file), line);
  if (used < 0 || (size_t)used >= sizeof first_error)
    return;
  va_list arguments;
  va_start(arguments, format);
  vsnprintf(first_error + used, sizeof first_error - (size_t)used, format,
            arguments);
  va_end(arguments);
}

void parkit_error_mpi(const char *file, int line, const char *call, int code) {
  char text[MPI_MAX_ERROR_STRING] = "unknown MPI error";
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    snprintf(text, sizeof text, "MPI error code %d", code);
  parkit_error_set(file, line, "%s failed: %s", call, text);
}

/* H5Ewalk2 callback: remember the innermost (first) entry's description. */
static herr_t keep_innermost(unsigned position, const H5E_error2_t *entry,
                             void *data) {
  char *text = data;
  if (position == 0)
    snprintf(text, 512, "%s (in %s)", entry->desc ? entry->desc : "",
             entry->func_name ? entry->func_name : "?");
  return 0;
}

void parkit_error_hdf5(const char *file, int line, const char *call) {
  char text[512] = "no HDF5 error message";
  /* Reading the stack is best effort: the message then says so. */
  (void)H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keep_innermost, text);
  parkit_error_set(file, line, "%s failed: %s", call, text);
  (void)H5Eclear2(H5E_DEFAULT);
}

const char *parkit_error_message(void) {
  return first_error;
}

void parkit_error_clear(void) {
  first_error[0] = '\0';
}

void *parkit_allocate(size_t bytes, const char *file, int line) {
  /* 64-byte alignment: a cache line, and a full AVX-512 vector. */
  void *pointer = NULL;
  if (posix_memalign(&pointer, 64, bytes ? bytes : 1) != 0) {
    parkit_error_set(file, line, "cannot allocate %zu bytes", bytes);
    return NULL;
  }
  return pointer;
}
