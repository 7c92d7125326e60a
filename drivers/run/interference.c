#include "interference.h"

#include "check.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static double timeval_seconds(struct timeval value) {
  return (double)value.tv_sec + 1e-6 * (double)value.tv_usec;
}

/* User + system time of this process (all threads) and its reaped
 * children (the spawn probe's workers). */
static double own_cpu_seconds(void) {
  struct rusage self, children;
  if (getrusage(RUSAGE_SELF, &self) != 0 ||
      getrusage(RUSAGE_CHILDREN, &children) != 0)
    return 0.0;
  return timeval_seconds(self.ru_utime) + timeval_seconds(self.ru_stime) +
         timeval_seconds(children.ru_utime) +
         timeval_seconds(children.ru_stime);
}

/* Sum over this process's threads of the time they waited on a run queue
 * (the second field of schedstat, ns); negative when unreadable. */
static double waited_seconds(void) {
  DIR *tasks = opendir("/proc/self/task");
  if (tasks == NULL)
    return -1.0;
  double total = 0.0;
  bool any = false;
  struct dirent *entry;
  while ((entry = readdir(tasks)) != NULL) {
    if (entry->d_name[0] == '.')
      continue;
    char path[320];
    snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", entry->d_name);
    FILE *file = fopen(path, "r");
    if (file == NULL)
      continue;
    unsigned long long running = 0, waiting = 0;
    if (fscanf(file, "%llu %llu", &running, &waiting) == 2) {
      total += 1e-9 * (double)waiting;
      any = true;
    }
    fclose(file);
  }
  closedir(tasks);
  return any ? total : -1.0;
}

/* Busy and steal seconds of the CPUs in `cpus`, from /proc/stat; false
 * when unreadable. */
static bool node_cpu_seconds(const cpu_set_t *cpus, double *busy,
                             double *steal) {
  FILE *file = fopen("/proc/stat", "r");
  if (file == NULL)
    return false;
  long ticks_per_second = sysconf(_SC_CLK_TCK);
  if (ticks_per_second <= 0)
    ticks_per_second = 100;
  char line[512];
  unsigned long long busy_ticks = 0, steal_ticks = 0;
  bool found = false;
  while (fgets(line, sizeof line, file)) {
    int cpu = -1;
    unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0,
                       irq = 0, softirq = 0, stolen = 0;
    if (sscanf(line, "cpu%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu,
               &user, &nice, &system, &idle, &iowait, &irq, &softirq,
               &stolen) != 9 ||
        cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, cpus))
      continue;
    busy_ticks += user + nice + system + irq + softirq;
    steal_ticks += stolen;
    found = true;
  }
  fclose(file);
  *busy = (double)busy_ticks / (double)ticks_per_second;
  *steal = (double)steal_ticks / (double)ticks_per_second;
  return found;
}

static double load_average(void) {
  FILE *file = fopen("/proc/loadavg", "r");
  double value = -1.0;
  if (file) {
    if (fscanf(file, "%lf", &value) != 1)
      value = -1.0;
    fclose(file);
  }
  return value;
}

void parkit_interference_sample_now(const parkit_interference_scope *scope,
                                    parkit_interference_sample *sample) {
  sample->wall = MPI_Wtime();
  sample->own_cpu = own_cpu_seconds();
  sample->waited = waited_seconds();
  sample->node_busy = sample->node_steal = -1.0;
  if (scope->node_leader &&
      !node_cpu_seconds(scope->node_cpus, &sample->node_busy,
                        &sample->node_steal))
    sample->node_busy = sample->node_steal = -1.0;
  sample->load_average = load_average();
}

int parkit_interference_measure(const parkit_interference_scope *scope,
                                const parkit_interference_sample *before,
                                const parkit_interference_sample *after,
                                MPI_Comm world, parkit_interference *result) {
  memset(result, 0, sizeof *result);
  double window = after->wall - before->wall;
  /* The slowest rank's window is the run's. */
  PARKIT_MPI_CALL(
      MPI_Allreduce(&window, &result->seconds, 1, MPI_DOUBLE, MPI_MAX, world));
  bool waited_known = before->waited >= 0 && after->waited >= 0;
  result->waited_seconds = waited_known ? after->waited - before->waited : -1;
  /* The node's own CPU time, summed on its leader. */
  double own = after->own_cpu - before->own_cpu, node_own = 0.0;
  PARKIT_MPI_CALL(
      MPI_Reduce(&own, &node_own, 1, MPI_DOUBLE, MPI_SUM, 0, scope->node_comm));
  bool node_known =
      scope->node_leader && before->node_busy >= 0 && after->node_busy >= 0;
  if (scope->node_leader) {
    result->node_foreign_seconds = -1.0;
    result->node_steal_seconds = -1.0;
  }
  if (node_known) {
    double foreign = after->node_busy - before->node_busy - node_own;
    result->node_foreign_seconds = foreign > 0 ? foreign : 0.0;
    result->node_steal_seconds = after->node_steal - before->node_steal;
  }
  /* Job-wide maxima; an unknown figure anywhere makes the maximum unknown
   * only when no node knows it (min of "known" flags via a negative). */
  int cpus = CPU_COUNT(scope->node_cpus);
  double mine[3] = {node_known && result->seconds > 0
                        ? result->node_foreign_seconds / result->seconds
                        : -1.0,
                    node_known && result->seconds > 0 && cpus > 0
                        ? result->node_steal_seconds / (result->seconds * cpus)
                        : -1.0,
                    waited_known && result->seconds > 0
                        ? result->waited_seconds /
                              (result->seconds * scope->threads)
                        : -1.0};
  if (!scope->node_leader)
    mine[0] = mine[1] = -1.0; /* only leaders measure nodes */
  double largest[3];
  PARKIT_MPI_CALL(MPI_Allreduce(mine, largest, 3, MPI_DOUBLE, MPI_MAX, world));
  result->foreign_load = largest[0];
  result->steal_fraction = largest[1];
  result->waited_fraction = largest[2];
  double averages[2] = {before->load_average, after->load_average};
  PARKIT_MPI_CALL(MPI_Bcast(averages, 2, MPI_DOUBLE, 0, world));
  result->load_average_start = averages[0];
  result->load_average_end = averages[1];
  return 0;
}
