#include "placement.h"

#include "check.h"
#include "launch.h"
#include "options.h"

#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void parkit_format_cpuset(const cpu_set_t *cpus, char *text, size_t size) {
  size_t used = 0;
  text[0] = '\0';
  for (int cpu = 0; cpu < CPU_SETSIZE && used < size; ++cpu) {
    if (!CPU_ISSET(cpu, cpus))
      continue;
    int last = cpu;
    while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, cpus))
      ++last;
    int written = last > cpu ? snprintf(text + used, size - used, "%s%d-%d",
                                        used ? "," : "", cpu, last)
                             : snprintf(text + used, size - used, "%s%d",
                                        used ? "," : "", cpu);
    if (written < 0)
      break;
    used += (size_t)written;
    cpu = last;
  }
}

/* Reads one integer from a sysfs file; -1 when unreadable. */
static long read_sysfs_integer(const char *path) {
  FILE *file = fopen(path, "r");
  if (file == NULL)
    return -1;
  long value = -1;
  if (fscanf(file, "%ld", &value) != 1)
    value = -1;
  fclose(file);
  return value;
}

/* Physical cores among the CPUs of `cpus`: hyperthreads of one core count
 * once. Falls back to the CPU count where the topology cannot be read. */
static int count_cores(const cpu_set_t *cpus) {
  long seen[CPU_SETSIZE];
  int cores = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, cpus))
      continue;
    char path[128];
    snprintf(path, sizeof path,
             "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
    long core = read_sysfs_integer(path);
    snprintf(path, sizeof path,
             "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
    long package = read_sysfs_integer(path);
    long key = (core < 0 || package < 0) ? -1 - cpu : package * 65536 + core;
    bool known = false;
    for (int i = 0; i < cores && !known; ++i)
      known = seen[i] == key;
    if (!known)
      seen[cores++] = key;
  }
  return cores;
}

/* Compares this rank's mask with those of the other ranks on its node:
 * sets `bound`, `partly_overlapping_rank`, `same_mask_rank` and
 * `same_mask_ranks` (placement.h). Collective over the node. */
static int compare_node_masks(parkit_placement *placement,
                              const cpu_set_t *node_cpus, int world_rank) {
  int ranks = placement->node_size;
  cpu_set_t *masks = NULL;
  int *world_ranks = NULL;
  PARKIT_ALLOCATE(masks, ranks);
  PARKIT_ALLOCATE(world_ranks, ranks);
  int gathered = MPI_Allgather(&placement->cpus, (int)sizeof(cpu_set_t),
                               MPI_BYTE, masks, (int)sizeof(cpu_set_t),
                               MPI_BYTE, placement->node_comm) == MPI_SUCCESS &&
                 MPI_Allgather(&world_rank, 1, MPI_INT, world_ranks, 1, MPI_INT,
                               placement->node_comm) == MPI_SUCCESS;
  placement->bound = !CPU_EQUAL(&placement->cpus, node_cpus);
  placement->partly_overlapping_rank = -1;
  placement->same_mask_rank = -1;
  placement->same_mask_ranks = 1;
  for (int r = 0; gathered && r < ranks; ++r) {
    if (r == placement->node_rank)
      continue;
    cpu_set_t common;
    CPU_AND(&common, &masks[r], &placement->cpus);
    if (CPU_EQUAL(&masks[r], &placement->cpus)) {
      placement->same_mask_ranks += 1;
      if (placement->same_mask_rank < 0)
        placement->same_mask_rank = world_ranks[r];
    } else if (CPU_COUNT(&common) > 0 &&
               placement->partly_overlapping_rank < 0) {
      placement->partly_overlapping_rank = world_ranks[r];
    }
  }
  free(masks);
  free(world_ranks);
  PARKIT_CHECK(gathered, "cannot gather the CPU masks of node %s's ranks",
               placement->host);
  return 0;
}

static int find_node(parkit_placement *placement, MPI_Comm world) {
  int world_rank = 0;
  PARKIT_MPI_CALL(MPI_Comm_rank(world, &world_rank));
  PARKIT_MPI_CALL(MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, world_rank,
                                      MPI_INFO_NULL, &placement->node_comm));
  PARKIT_MPI_CALL(MPI_Comm_rank(placement->node_comm, &placement->node_rank));
  PARKIT_MPI_CALL(MPI_Comm_size(placement->node_comm, &placement->node_size));
  /* Node leaders number the nodes; everyone learns the count and maximum. */
  bool leader = placement->node_rank == 0;
  PARKIT_MPI_CALL(MPI_Comm_split(world, leader ? 0 : MPI_UNDEFINED, world_rank,
                                 &placement->leaders_comm));
  if (leader)
    PARKIT_MPI_CALL(
        MPI_Comm_rank(placement->leaders_comm, &placement->node_index));
  PARKIT_MPI_CALL(
      MPI_Bcast(&placement->node_index, 1, MPI_INT, 0, placement->node_comm));
  int is_leader = leader ? 1 : 0;
  PARKIT_MPI_CALL(MPI_Allreduce(&is_leader, &placement->node_count, 1, MPI_INT,
                                MPI_SUM, world));
  PARKIT_MPI_CALL(MPI_Allreduce(&placement->node_size,
                                &placement->max_ranks_on_node, 1, MPI_INT,
                                MPI_MAX, world));
  /* The node's cores: the union of its ranks' masks. */
  PARKIT_MPI_CALL(MPI_Allreduce(&placement->cpus, &placement->node_cpus,
                                (int)sizeof(cpu_set_t), MPI_BYTE, MPI_BOR,
                                placement->node_comm));
  placement->node_cores = count_cores(&placement->node_cpus);
  parkit_format_cpuset(&placement->node_cpus, placement->node_cpuset_text,
                       sizeof placement->node_cpuset_text);
  return compare_node_masks(placement, &placement->node_cpus, world_rank);
}

/* The CPUs this rank's threads may use. With OMP_PROC_BIND set, libgomp
 * binds the initial thread to the first place at start-up, so the calling
 * thread's mask shows one place only; the union of the OpenMP places is the
 * mask the process had. Without places, the process mask is the answer. */
static int rank_cpus(cpu_set_t *cpus) {
  PARKIT_CHECK(sched_getaffinity(0, sizeof *cpus, cpus) == 0,
               "sched_getaffinity failed");
  int places = omp_get_num_places();
  if (places <= 0)
    return 0;
  CPU_ZERO(cpus);
  for (int place = 0; place < places; ++place) {
    int count = omp_get_place_num_procs(place);
    int ids[CPU_SETSIZE];
    if (count <= 0 || count > CPU_SETSIZE)
      continue;
    omp_get_place_proc_ids(place, ids);
    for (int i = 0; i < count; ++i)
      if (ids[i] >= 0 && ids[i] < CPU_SETSIZE)
        CPU_SET(ids[i], cpus);
  }
  return 0;
}

void parkit_host_name(char *host, size_t size) {
  if (gethostname(host, size) != 0)
    snprintf(host, size, "unknown");
  host[size - 1] = '\0';
}

int parkit_placement_init(parkit_placement *placement, MPI_Comm world) {
  memset(placement, 0, sizeof *placement);
  placement->node_comm = MPI_COMM_NULL;
  placement->leaders_comm = MPI_COMM_NULL;
  PARKIT_CALL(rank_cpus(&placement->cpus));
  placement->cpu_count = CPU_COUNT(&placement->cpus);
  placement->core_count = count_cores(&placement->cpus);
  parkit_format_cpuset(&placement->cpus, placement->cpuset_text,
                       sizeof placement->cpuset_text);
  parkit_host_name(placement->host, sizeof placement->host);
  PARKIT_CALL(find_node(placement, world));
  PARKIT_MPI_CALL(
      MPI_Comm_set_errhandler(placement->node_comm, MPI_ERRORS_RETURN));
  return 0;
}

void parkit_placement_free(parkit_placement *placement) {
  if (placement->node_comm != MPI_COMM_NULL)
    MPI_Comm_free(&placement->node_comm);
  if (placement->leaders_comm != MPI_COMM_NULL)
    MPI_Comm_free(&placement->leaders_comm);
}

/* OMP_NUM_THREADS: "4", or a nested list "4,2" whose first entry counts. */
static int threads_from_environment(int *threads, char *message, size_t size) {
  const char *text = getenv("OMP_NUM_THREADS");
  if (text == NULL)
    return 1; /* not set */
  char first[32];
  size_t length = strcspn(text, ",");
  snprintf(first, sizeof first, "%.*s", (int)(length < 31 ? length : 31), text);
  int64_t value = 0;
  if (length >= 31 || !parkit_parse_int64(first, &value) || value < 1 ||
      value > 4096) {
    snprintf(message, size,
             "OMP_NUM_THREADS='%s' is not a thread count; allowed: an integer "
             "in 1..4096 (or unset it)",
             text);
    return -1;
  }
  *threads = (int)value;
  return 0;
}

int parkit_choose_threads(const parkit_command *command,
                          const parkit_placement *placement, int world_size,
                          int *threads, char *message, size_t size) {
  const parkit_value *option = &command->common[PARKIT_COMMON_THREADS];
  const char *kernel = command->kernel->name;
  switch (command->mode) {
  case PARKIT_MODE_THREADS:
    if (world_size > 1) {
      snprintf(message, size,
               "threads mode runs one process, but this launch has %d MPI "
               "ranks; run 'parkit threads %s' without mpirun, or "
               "'mpirun -np %d parkit ranks %s' (or hybrid --threads T)",
               world_size, kernel, world_size, kernel);
      return -1;
    }
    break;
  case PARKIT_MODE_RANKS:
    if (option->is_set && option->integer > 1) {
      snprintf(message, size,
               "ranks mode runs one thread per rank, but --threads %lld was "
               "given; run 'mpirun -np %d parkit hybrid %s --threads %lld' "
               "for threads inside ranks",
               (long long)option->integer, world_size, kernel,
               (long long)option->integer);
      return -1;
    }
    *threads = 1;
    return 0;
  case PARKIT_MODE_HYBRID:
    break;
  }
  if (option->is_set) {
    *threads = (int)option->integer;
    return 0;
  }
  int from_environment = 0;
  int found = threads_from_environment(&from_environment, message, size);
  if (found < 0)
    return -1;
  *threads = found == 0
                 ? from_environment
                 : (placement->core_count > 0 ? placement->core_count : 1);
  return 0;
}

static bool under_slurm(void) {
  return getenv("SLURM_JOB_ID") != NULL;
}

/* What a "fix:" line needs to know of the run: its command line and the
 * machine it ran on. */
typedef struct fix_context {
  int argc;
  char **argv;
  int nodes;
  int cores_per_node;
} fix_context;

/* "parkit:   fix: <the launch line for this shape>" (launch.h builds it:
 * the one recipe per mode). */
static void print_fix(const char *label, const fix_context *fix,
                      parkit_mode mode, int ranks, int threads) {
  char line[4096];
  parkit_launcher launcher =
      under_slurm() ? PARKIT_LAUNCHER_SRUN : PARKIT_LAUNCHER_MPIRUN;
  if (parkit_launch_line(mode, ranks, threads, fix->nodes, fix->cores_per_node,
                         launcher, fix->argc, fix->argv, line, sizeof line))
    fprintf(stderr, "parkit:   %s %s\n", label, line);
}

static void warn_thin_binding(const parkit_command *command, int threads,
                              int thin_ranks, int fewest_cores, int ranks,
                              const fix_context *fix) {
  bool threads_mode = command->mode == PARKIT_MODE_THREADS;
  fprintf(stderr,
          "parkit: warning: %d of %d ranks may run on only %d core%s but "
          "start %d threads each: the threads will share %s%s.\n",
          thin_ranks, ranks, fewest_cores, fewest_cores == 1 ? "" : "s",
          threads, fewest_cores == 1 ? "it" : "them",
          threads_mode ? " (give the process more cores: no narrower "
                         "taskset or cgroup; or run as many threads as cores)"
                       : "");
  if (threads_mode)
    print_fix("fix:", fix, PARKIT_MODE_THREADS, 1, fewest_cores);
  else
    print_fix("fix:", fix, command->mode, ranks, threads);
}

static void warn_oversubscribed(const parkit_command *command, int threads,
                                int ranks_on_node, int cores, const char *host,
                                const fix_context *fix) {
  int nodes = fix->nodes;
  fprintf(stderr,
          "parkit: warning: oversubscribed: %d rank%s x %d thread%s = %d "
          "workers on %s%s%s with %d core%s available; timings will include "
          "time-sharing.\n",
          ranks_on_node, ranks_on_node == 1 ? "" : "s", threads,
          threads == 1 ? "" : "s", ranks_on_node * threads,
          nodes > 1 ? "node " : "a node", nodes > 1 ? host : "",
          nodes > 1 ? " (the most crowded)" : "", cores, cores == 1 ? "" : "s");
  switch (command->mode) {
  case PARKIT_MODE_THREADS:
    print_fix("fix:", fix, PARKIT_MODE_THREADS, 1, cores);
    break;
  case PARKIT_MODE_RANKS:
    print_fix("fix:", fix, PARKIT_MODE_RANKS, cores * nodes, 1);
    break;
  case PARKIT_MODE_HYBRID:
    if (cores >= ranks_on_node)
      print_fix("fix:", fix, PARKIT_MODE_HYBRID, ranks_on_node * nodes,
                cores / ranks_on_node);
    else
      print_fix("fix:", fix, PARKIT_MODE_HYBRID, cores * nodes, 1);
    break;
  }
}

/* Ranks stacked on the same cores of a node: masks that partly overlap,
 * or one mask, narrower than the node, given to more workers than it has
 * cores (a mask as wide as the node is the oversubscription warning's
 * case). The lowest such rank says so itself: it knows its host and CPUs.
 * Collective over `world`. */
static int warn_stacked_binding(const parkit_placement *placement,
                                const parkit_command *command, int threads,
                                int rank, const fix_context *fix,
                                MPI_Comm world) {
  bool partly = placement->partly_overlapping_rank >= 0;
  bool crowded = placement->bound &&
                 placement->same_mask_ranks * threads > placement->core_count;
  int mine = partly || crowded ? rank : INT_MAX, first = 0;
  PARKIT_MPI_CALL(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, world));
  if (first != rank)
    return 0;
  if (partly)
    fprintf(stderr,
            "parkit: warning: on node %s rank %d (CPUs %s) and rank %d are "
            "bound to some of the same CPUs: they will time-share them.\n",
            placement->host, rank, placement->cpuset_text,
            placement->partly_overlapping_rank);
  else
    fprintf(stderr,
            "parkit: warning: on node %s %d ranks (%d and %d%s) are bound to "
            "the same CPUs %s: %d workers on %d core%s will time-share "
            "them.\n",
            placement->host, placement->same_mask_ranks, rank,
            placement->same_mask_rank,
            placement->same_mask_ranks > 2 ? ", ..." : "",
            placement->cpuset_text, placement->same_mask_ranks * threads,
            placement->core_count, placement->core_count == 1 ? "" : "s");
  fprintf(stderr, "parkit:   another job on the node, or a binding that "
                  "stacks ranks.\n");
  int ranks = 1;
  PARKIT_MPI_CALL(MPI_Comm_size(world, &ranks));
  print_fix("fix:", fix, command->mode, ranks, threads);
  return 0;
}

int parkit_warn_about_placement(const parkit_placement *placement,
                                const parkit_command *command, int threads,
                                int argc, char **argv, MPI_Comm world) {
  int rank = 0, ranks = 1;
  PARKIT_MPI_CALL(MPI_Comm_rank(world, &rank));
  PARKIT_MPI_CALL(MPI_Comm_size(world, &ranks));
  fix_context fix = {.argc = argc,
                     .argv = argv,
                     .nodes = placement->node_count,
                     .cores_per_node = placement->node_cores};
  PARKIT_CALL(
      warn_stacked_binding(placement, command, threads, rank, &fix, world));
  int thin = placement->core_count < threads ? 1 : 0;
  int thin_ranks = 0, fewest_cores = 0;
  PARKIT_MPI_CALL(
      MPI_Allreduce(&thin, &thin_ranks, 1, MPI_INT, MPI_SUM, world));
  PARKIT_MPI_CALL(MPI_Allreduce(&placement->core_count, &fewest_cores, 1,
                                MPI_INT, MPI_MIN, world));
  /* Rank 0 finds the most crowded node: workers minus cores. */
  int mine[2] = {placement->node_size, placement->node_cores};
  int *all = NULL;
  char(*hosts)[PARKIT_HOST_TEXT] = NULL;
  if (rank == 0) {
    PARKIT_ALLOCATE(all, 2 * ranks);
    PARKIT_ALLOCATE(hosts, ranks);
  }
  PARKIT_MPI_CALL(MPI_Gather(mine, 2, MPI_INT, all, 2, MPI_INT, 0, world));
  PARKIT_MPI_CALL(MPI_Gather(placement->host, PARKIT_HOST_TEXT, MPI_CHAR, hosts,
                             PARKIT_HOST_TEXT, MPI_CHAR, 0, world));
  if (rank != 0)
    return 0;
  int worst = 0;
  for (int r = 1; r < ranks; ++r)
    if (all[2 * r] * threads - all[2 * r + 1] >
        all[2 * worst] * threads - all[2 * worst + 1])
      worst = r;
  int ranks_on_node = all[2 * worst], node_cores = all[2 * worst + 1];
  fix.cores_per_node = node_cores;
  if (ranks_on_node * threads > node_cores)
    warn_oversubscribed(command, threads, ranks_on_node, node_cores,
                        hosts[worst], &fix);
  free(all);
  free(hosts);
  if (thin_ranks > 0)
    warn_thin_binding(command, threads, thin_ranks, fewest_cores, ranks, &fix);
  return 0;
}

/* A cgroup v2 or v1 memory limit minus current usage; negative if none. */
static double cgroup_memory_left(void) {
  static const char *const limits[][2] = {
      {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"},
      {"/sys/fs/cgroup/memory/memory.limit_in_bytes",
       "/sys/fs/cgroup/memory/memory.usage_in_bytes"},
  };
  for (size_t i = 0; i < sizeof limits / sizeof limits[0]; ++i) {
    FILE *file = fopen(limits[i][0], "r");
    if (file == NULL)
      continue;
    double limit = -1;
    char text[64] = "";
    if (fscanf(file, "%63s", text) == 1 && strcmp(text, "max") != 0)
      limit = strtod(text, NULL);
    fclose(file);
    if (limit <= 0 || limit > 1e18)
      continue;
    file = fopen(limits[i][1], "r");
    double used = 0;
    if (file) {
      if (fscanf(file, "%lf", &used) != 1)
        used = 0;
      fclose(file);
    }
    return limit - used;
  }
  return -1;
}

double parkit_memory_available(void) {
  FILE *file = fopen("/proc/meminfo", "r");
  double available = -1;
  if (file) {
    char line[256];
    while (fgets(line, sizeof line, file))
      if (sscanf(line, "MemAvailable: %lf kB", &available) == 1) {
        available *= 1024.0;
        break;
      }
    fclose(file);
  }
  double cgroup = cgroup_memory_left();
  if (cgroup >= 0 && (available < 0 || cgroup < available))
    available = cgroup;
  return available;
}
