#include "provenance.h"

#include "build_info.h"
#include "check.h"
#include "cli.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern char **environ;

void parkit_utc_now(char *text, size_t size) {
  time_t now = time(NULL);
  struct tm utc;
  gmtime_r(&now, &utc);
  strftime(text, size, "%Y-%m-%dT%H:%M:%SZ", &utc);
}

static bool recorded_variable(const char *entry) {
  static const char *const prefixes[] = {"SLURM_",  "OMP_",      "GOMP_",
                                         "KMP_",    "OMPI_MCA_", "HDF5_",
                                         "PARKIT_", "OPENBLAS_"};
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; ++i)
    if (strncmp(entry, prefixes[i], strlen(prefixes[i])) == 0)
      return true;
  return false;
}

static void collect_environment(char *text, size_t size) {
  size_t used = 0;
  text[0] = '\0';
  for (char **entry = environ; *entry && used + 1 < size; ++entry) {
    if (!recorded_variable(*entry))
      continue;
    size_t start = used;
    int written = snprintf(text + used, size - used, "%s\n", *entry);
    if (written < 0 || (size_t)written >= size - used) {
      text[start] = '\0';
      break;
    }
    /* One variable per line: a newline inside a value becomes a space. */
    for (size_t i = start; i + 1 < start + (size_t)written; ++i)
      if (text[i] == '\n')
        text[i] = ' ';
    used += (size_t)written;
  }
}

/* The value of `name` in `text` ("" when unset), truncated to fit. */
static void copy_variable(const char *name, char *text, size_t size) {
  const char *value = getenv(name);
  snprintf(text, size, "%s", value ? value : "");
}

static void collect_slurm(parkit_provenance *provenance) {
  copy_variable("SLURM_JOB_ID", provenance->slurm_job_id,
                sizeof provenance->slurm_job_id);
  copy_variable("SLURM_ARRAY_JOB_ID", provenance->slurm_array_job_id,
                sizeof provenance->slurm_array_job_id);
  copy_variable("SLURM_ARRAY_TASK_ID", provenance->slurm_array_task_id,
                sizeof provenance->slurm_array_task_id);
  copy_variable("SLURM_JOB_NODELIST", provenance->slurm_nodelist,
                sizeof provenance->slurm_nodelist);
  copy_variable("SLURM_NTASKS", provenance->slurm_ntasks,
                sizeof provenance->slurm_ntasks);
  copy_variable("SLURM_CPUS_PER_TASK", provenance->slurm_cpus_per_task,
                sizeof provenance->slurm_cpus_per_task);
}

/* The first "model name" line of /proc/cpuinfo (x86; other systems name
 * their CPUs differently and get "unknown"). */
static void read_cpu_model(char *text, size_t size) {
  snprintf(text, size, "unknown");
  FILE *cpuinfo = fopen("/proc/cpuinfo", "r");
  if (cpuinfo == NULL)
    return;
  char line[512];
  while (fgets(line, sizeof line, cpuinfo)) {
    const char *colon = strchr(line, ':');
    if (strncmp(line, "model name", 10) != 0 || colon == NULL)
      continue;
    colon += strspn(colon + 1, " \t") + 1;
    snprintf(text, size, "%.*s", (int)strcspn(colon, "\n"), colon);
    break;
  }
  fclose(cpuinfo);
}

static const char *thread_level_name(int level) {
  switch (level) {
  case MPI_THREAD_SINGLE:
    return "MPI_THREAD_SINGLE";
  case MPI_THREAD_FUNNELED:
    return "MPI_THREAD_FUNNELED";
  case MPI_THREAD_SERIALIZED:
    return "MPI_THREAD_SERIALIZED";
  case MPI_THREAD_MULTIPLE:
    return "MPI_THREAD_MULTIPLE";
  }
  return "unknown";
}

static void collect_on_root(parkit_provenance *provenance, int argc,
                            char **argv, int thread_level) {
  parkit_format_command_line(NULL, argc, argv, provenance->command_line,
                             sizeof provenance->command_line);
  snprintf(provenance->compiler, sizeof provenance->compiler, "%s",
           PARKIT_COMPILER);
  snprintf(provenance->compile_flags, sizeof provenance->compile_flags, "%s",
           PARKIT_COMPILE_FLAGS);
  snprintf(provenance->build_type, sizeof provenance->build_type, "%s",
           PARKIT_BUILD_TYPE);
  provenance->march_native = PARKIT_MARCH_NATIVE;
  snprintf(provenance->git_commit, sizeof provenance->git_commit, "%s",
           PARKIT_GIT_COMMIT);
  snprintf(provenance->parkit_version, sizeof provenance->parkit_version, "%s",
           PARKIT_VERSION);
  int length = 0;
  if (MPI_Get_library_version(provenance->mpi_library_version, &length) !=
      MPI_SUCCESS)
    snprintf(provenance->mpi_library_version,
             sizeof provenance->mpi_library_version, "unknown");
  /* Open MPI ends the string with a newline; keep the attribute one line. */
  char *newline = strchr(provenance->mpi_library_version, '\n');
  if (newline)
    *newline = '\0';
  int version = 0, subversion = 0;
  if (MPI_Get_version(&version, &subversion) != MPI_SUCCESS)
    version = subversion = 0; /* recorded as "0.0": unknown */
  snprintf(provenance->mpi_version, sizeof provenance->mpi_version, "%d.%d",
           version, subversion);
  snprintf(provenance->mpi_thread_level, sizeof provenance->mpi_thread_level,
           "%s", thread_level_name(thread_level));
  unsigned major = 0, minor = 0, release = 0;
  if (H5get_libversion(&major, &minor, &release) < 0)
    major = minor = release = 0; /* recorded as "0.0.0": unknown */
  snprintf(provenance->hdf5_version, sizeof provenance->hdf5_version,
           "%u.%u.%u", major, minor, release);
  snprintf(provenance->openmp_version, sizeof provenance->openmp_version,
           "%d (_OPENMP)", _OPENMP);
  read_cpu_model(provenance->cpu_model, sizeof provenance->cpu_model);
  parkit_utc_now(provenance->started_utc, sizeof provenance->started_utc);
  collect_environment(provenance->environment, sizeof provenance->environment);
  collect_slurm(provenance);
}

int parkit_provenance_collect(parkit_provenance *provenance, int argc,
                              char **argv, int thread_level, MPI_Comm world) {
  int rank = 0;
  PARKIT_MPI_CALL(MPI_Comm_rank(world, &rank));
  memset(provenance, 0, sizeof *provenance);
  if (rank == 0)
    collect_on_root(provenance, argc, argv, thread_level);
  PARKIT_MPI_CALL(
      MPI_Bcast(provenance, (int)sizeof *provenance, MPI_BYTE, 0, world));
  return 0;
}
