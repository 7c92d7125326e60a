#include "output_path.h"

#include "files.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static bool ends_with(const char *text, const char *suffix) {
  size_t length = strlen(text), suffix_length = strlen(suffix);
  return length >= suffix_length &&
         strcmp(text + length - suffix_length, suffix) == 0;
}

/* mkdir -p; returns 0 or an errno value. */
static int make_directories(const char *path) {
  char partial[4096];
  if (snprintf(partial, sizeof partial, "%s", path) >= (int)sizeof partial)
    return ENAMETOOLONG;
  for (char *slash = partial + 1;; ++slash) {
    bool at_end = *slash == '\0';
    if (*slash == '/' || at_end) {
      *slash = '\0';
      if (mkdir(partial, 0777) != 0 && errno != EEXIST)
        return errno;
      struct stat status;
      if (stat(partial, &status) != 0)
        return errno;
      if (!S_ISDIR(status.st_mode))
        return ENOTDIR;
      if (at_end)
        return 0;
      *slash = '/';
    }
  }
}

/* EROFS or ENOSPC when the file system that `directory` is (or will be
 * made) on is read-only or has less than 1 MiB free, else 0: a full disk is
 * found before the run, not after it, and before anything is made there. */
static int file_system_refuses(const char *directory) {
  char existing[4096];
  if (snprintf(existing, sizeof existing, "%s", directory) >=
      (int)sizeof existing)
    return 0; /* too long: make_directories reports it */
  struct statvfs space;
  while (statvfs(existing, &space) != 0) {
    char *slash = strrchr(existing, '/');
    if (slash == existing || slash == NULL) {
      if (statvfs(slash ? "/" : ".", &space) != 0)
        return 0;
      break;
    }
    *slash = '\0';
  }
  if (space.f_flag & ST_RDONLY)
    return EROFS;
  if ((double)space.f_bavail * (double)space.f_frsize < 1048576.0)
    return ENOSPC;
  return 0;
}

/* Makes `directory` (for the value `out` of --out) and checks that result
 * files can be written there. */
static int check_directory(const char *out, const char *directory,
                           char *message, size_t size) {
  int error = file_system_refuses(directory);
  if (error == 0)
    error = make_directories(directory);
  if (error == 0 && access(directory, W_OK | X_OK) != 0)
    error = errno;
  if (error == 0)
    return 0;
  if (strcmp(out, directory) == 0)
    snprintf(message, size,
             "--out '%s': cannot write result files there: %s; allowed: a "
             "writable directory, or a path ending in .h5 inside one",
             out, strerror(error));
  else
    snprintf(message, size,
             "--out '%s': cannot write result files there (in '%s': %s); "
             "allowed: a writable directory, or a path ending in .h5 inside "
             "one",
             out, directory, strerror(error));
  return -1;
}

/* Six hex digits that differ between runs started in the same second. */
static unsigned unique_suffix(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  uint64_t mix =
      (uint64_t)now.tv_nsec ^ ((uint64_t)getpid() << 32) ^ (uint64_t)now.tv_sec;
  mix ^= mix >> 33;
  mix *= 0xff51afd7ed558ccdULL;
  mix ^= mix >> 33;
  return (unsigned)(mix & 0xffffff);
}

static void slurm_part(char *text, size_t size) {
  const char *job = getenv("SLURM_JOB_ID");
  const char *array_job = getenv("SLURM_ARRAY_JOB_ID");
  const char *array_task = getenv("SLURM_ARRAY_TASK_ID");
  if (array_job && array_task)
    snprintf(text, size, "_j%s_a%s", array_job, array_task);
  else if (job)
    snprintf(text, size, "_j%s", job);
  else
    text[0] = '\0';
}

void parkit_path_directory(const char *path, char *directory, size_t size) {
  snprintf(directory, size, "%s", path);
  char *slash = strrchr(directory, '/');
  if (slash == directory)
    slash[1] = '\0';
  else if (slash)
    *slash = '\0';
  else
    snprintf(directory, size, ".");
}

/* `text` for a message: whole when short, else its first 60 bytes and
 * "...". */
static const char *shown(const char *text, char *buffer, size_t size) {
  if (strlen(text) <= 80)
    return text;
  snprintf(buffer, size, "%.60s...", text);
  return buffer;
}

int parkit_temporary_path(const char *path, unsigned random, char *temporary,
                          size_t size) {
  size_t stem = strlen(path);
  if (ends_with(path, ".h5"))
    stem -= 3;
  int written = snprintf(temporary, size, "%.*s.%08x%s", (int)stem, path,
                         random, PARKIT_TEMPORARY_SUFFIX);
  return written >= 0 && (size_t)written < size ? 0 : -1;
}

static size_t last_part_length(const char *path) {
  const char *slash = strrchr(path, '/');
  return strlen(slash ? slash + 1 : path);
}

/* Every name the run hands to MPI-IO must fit (files.h): the result file's
 * temporary name, and the kernels' scratch files in its directory. */
static int check_name_lengths(const char *out, const char *path,
                              const char *directory, int ranks, char *message,
                              size_t size) {
  size_t longest = parkit_mpi_io_longest_name(ranks);
  size_t temporary = strlen(path) + PARKIT_TEMPORARY_NAME_EXTRA;
  size_t last_part = last_part_length(path) + PARKIT_TEMPORARY_NAME_EXTRA;
  size_t scratch = strlen(directory) + PARKIT_SCRATCH_NAME_MAX;
  char buffer[96];
  const char *shown_out = shown(out, buffer, sizeof buffer);
  const char *plural = ranks == 1 ? "" : "s";
  size_t added = strlen(path) - strlen(out); /* a generated name's part */
  if (temporary > longest)
    snprintf(message, size,
             "--out '%s': the result file %s%zu bytes long is written under "
             "a temporary name of %zu bytes, and MPI-IO takes names of at "
             "most %zu bytes at %d rank%s; allowed: %s of at most %zu bytes",
             shown_out, added ? "named there " : "", strlen(path), temporary,
             longest, ranks, plural, added ? "a directory path" : "a file path",
             longest - PARKIT_TEMPORARY_NAME_EXTRA - added);
  else if (last_part > PARKIT_MPI_IO_LONGEST_BASENAME)
    snprintf(message, size,
             "--out '%s': the file name after the last '/' is %zu bytes, and "
             "its temporary name (%zu bytes) would be too long for MPI-IO, "
             "which takes at most %d there; allowed: a file name of at most "
             "%d bytes",
             shown_out, last_part_length(path), last_part,
             PARKIT_MPI_IO_LONGEST_BASENAME,
             PARKIT_MPI_IO_LONGEST_BASENAME - PARKIT_TEMPORARY_NAME_EXTRA);
  else if (scratch > longest)
    snprintf(message, size,
             "--out '%s': its directory is %zu bytes, too long for the "
             "kernels' scratch files there (MPI-IO takes names of at most "
             "%zu bytes at %d rank%s); allowed: a directory of at most %zu "
             "bytes",
             shown_out, strlen(directory), longest, ranks, plural,
             longest - PARKIT_SCRATCH_NAME_MAX);
  else
    return 0;
  return -1;
}

/* --out FILE.h5 that exists already: a directory is refused, a file only
 * replaced when asked. */
static int check_existing(const char *out, bool replace, char *message,
                          size_t size) {
  struct stat status;
  if (lstat(out, &status) != 0)
    return 0; /* not there (or its directory is not: check_directory) */
  char buffer[96];
  if (S_ISDIR(status.st_mode)) {
    snprintf(message, size,
             "--out '%s': is a directory; allowed: a file path ending in .h5, "
             "or the directory written with a trailing '/'",
             shown(out, buffer, sizeof buffer));
    return -1;
  }
  if (replace)
    return 0;
  snprintf(message, size,
           "--out '%s': a file of that name exists, and a result is never "
           "replaced silently; allowed: a new name, or --replace to replace it",
           shown(out, buffer, sizeof buffer));
  return -1;
}

/* A generated name in directory `out`: kernel, mode, split, SLURM job and
 * a stamp. Returns 0, or -1 when it does not fit `size`. */
static int generated_path(const char *out, const char *kernel, const char *mode,
                          int ranks, int threads, const char *stamp,
                          const char *slurm, char *path, size_t size) {
  int written = snprintf(path, size, "%s%s%s_%s_p%d_t%d%s_%s_%06x.h5", out,
                         ends_with(out, "/") ? "" : "/", kernel, mode, ranks,
                         threads, slurm, stamp, unique_suffix());
  return written >= 0 && (size_t)written < size ? 0 : -1;
}

int parkit_output_path_prepare(const parkit_output_request *request, char *path,
                               size_t path_size, char *message,
                               size_t message_size) {
  const char *out = request->out;
  bool file = ends_with(out, ".h5");
  char directory[4096], stamp[32], slurm[64], buffer[96];
  time_t now = time(NULL);
  struct tm utc;
  gmtime_r(&now, &utc);
  strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  slurm_part(slurm, sizeof slurm);
  int fits =
      file ? (snprintf(path, path_size, "%s", out) < (int)path_size ? 0 : -1)
           : generated_path(out, request->kernel, request->mode, request->ranks,
                            request->threads, stamp, slurm, path, path_size);
  if (fits != 0 || strlen(out) >= sizeof directory) {
    snprintf(message, message_size,
             "--out '%s': the path is %zu bytes; allowed: a result file path "
             "of at most %zu bytes (what MPI-IO takes at %d rank%s)",
             shown(out, buffer, sizeof buffer), strlen(out),
             parkit_mpi_io_longest_name(request->ranks) -
                 PARKIT_TEMPORARY_NAME_EXTRA,
             request->ranks, request->ranks == 1 ? "" : "s");
    return -1;
  }
  if (file)
    parkit_path_directory(out, directory, sizeof directory);
  else
    snprintf(directory, sizeof directory, "%s", out);
  if (check_name_lengths(out, path, directory, request->ranks, message,
                         message_size) != 0 ||
      (file &&
       check_existing(out, request->replace, message, message_size) != 0) ||
      check_directory(out, directory, message, message_size) != 0)
    return -1;
  if (file)
    return 0;
  /* Each try has the same length as the first, checked above. */
  for (int attempt = 0; attempt < 16; ++attempt) {
    if (access(path, F_OK) != 0)
      return 0;
    generated_path(out, request->kernel, request->mode, request->ranks,
                   request->threads, stamp, slurm, path, path_size);
  }
  snprintf(message, message_size, "--out '%s': cannot find an unused name",
           shown(out, buffer, sizeof buffer));
  return -1;
}
