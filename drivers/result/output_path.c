#include "output_path.h"

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

int parkit_output_path_prepare(const char *out, const char *kernel,
                               const char *mode, int ranks, int threads,
                               char *path, size_t path_size, char *message,
                               size_t message_size) {
  if (ends_with(out, ".h5")) {
    char directory[4096];
    parkit_path_directory(out, directory, sizeof directory);
    if (check_directory(out, directory, message, message_size) != 0)
      return -1;
    if (snprintf(path, path_size, "%s", out) >= (int)path_size) {
      snprintf(message, message_size, "--out '%.60s...': path too long", out);
      return -1;
    }
    return 0;
  }
  if (check_directory(out, out, message, message_size) != 0)
    return -1;
  char stamp[32], slurm[64];
  time_t now = time(NULL);
  struct tm utc;
  gmtime_r(&now, &utc);
  strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
  slurm_part(slurm, sizeof slurm);
  for (int attempt = 0; attempt < 16; ++attempt) {
    int written = snprintf(path, path_size, "%s%s%s_%s_p%d_t%d%s_%s_%06x.h5",
                           out, ends_with(out, "/") ? "" : "/", kernel, mode,
                           ranks, threads, slurm, stamp, unique_suffix());
    if (written < 0 || (size_t)written >= path_size) {
      snprintf(message, message_size, "--out '%.60s...': path too long", out);
      return -1;
    }
    if (access(path, F_OK) != 0)
      return 0;
  }
  snprintf(message, message_size, "--out '%s': cannot find an unused name",
           out);
  return -1;
}
