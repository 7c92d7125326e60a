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
  /* The node's CPUs: the union of its ranks' masks. */
  PARKIT_MPI_CALL(MPI_Allreduce(&placement->cpus, &placement->node_cpus,
                                (int)sizeof(cpu_set_t), MPI_BYTE, MPI_BOR,
                                placement->node_comm));
  parkit_format_cpuset(&placement->node_cpus, placement->node_cpuset_text,
                       sizeof placement->node_cpuset_text);
  return compare_node_masks(placement, &placement->node_cpus, world_rank);
}

/* The node's hardware from its union of masks, and the job's sums of
 * last-level caches over the nodes (each node's leader adds its node's).
 * Collective over `world`. */
static int describe_hardware(parkit_placement *placement, MPI_Comm world) {
  const parkit_topology *topology = placement->topology;
  const cpu_set_t *node_cpus = &placement->node_cpus;
  placement->node_cores = parkit_topology_cores(topology, node_cpus);
  parkit_topology_summarize(topology, node_cpus, &placement->node_hardware);
  placement->node_numa_domains =
      parkit_topology_domains(topology, node_cpus, PARKIT_DOMAIN_NUMA);
  placement->node_cache_domains = parkit_topology_domains(
      topology, node_cpus, PARKIT_DOMAIN_LAST_LEVEL_CACHE);
  const parkit_last_level_caches *caches = &placement->node_hardware.last_level;
  bool leader = placement->node_rank == 0;
  int64_t mine[2] = {leader ? caches->bytes : 0,
                     leader ? caches->fallback_domains : 0};
  int64_t job[2] = {0, 0};
  PARKIT_MPI_CALL(MPI_Allreduce(mine, job, 2, MPI_INT64_T, MPI_SUM, world));
  placement->job_last_level_cache_bytes = job[0];
  placement->job_fallback_cache_domains = job[1];
  return 0;
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
  PARKIT_CALL(parkit_topology_load(&placement->topology));
  const parkit_topology *topology = placement->topology;
  PARKIT_CALL(rank_cpus(&placement->cpus));
  placement->cpu_count = CPU_COUNT(&placement->cpus);
  placement->core_count = parkit_topology_cores(topology, &placement->cpus);
  placement->numa_nodes =
      parkit_topology_numa_nodes(topology, &placement->cpus);
  placement->cache_domains =
      parkit_topology_domains(topology, &placement->cpus,
                              PARKIT_DOMAIN_LAST_LEVEL_CACHE)
          .count;
  parkit_format_cpuset(&placement->cpus, placement->cpuset_text,
                       sizeof placement->cpuset_text);
  parkit_host_name(placement->host, sizeof placement->host);
  PARKIT_CALL(find_node(placement, world));
  PARKIT_CALL(describe_hardware(placement, world));
  PARKIT_MPI_CALL(
      MPI_Comm_set_errhandler(placement->node_comm, MPI_ERRORS_RETURN));
  return 0;
}

void parkit_placement_free(parkit_placement *placement) {
  parkit_topology_free(placement->topology);
  placement->topology = NULL;
  /* At the end of a run: a failure to release changes nothing. */
  if (placement->node_comm != MPI_COMM_NULL)
    (void)MPI_Comm_free(&placement->node_comm);
  if (placement->leaders_comm != MPI_COMM_NULL)
    (void)MPI_Comm_free(&placement->leaders_comm);
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
static void print_fix(const fix_context *fix, parkit_mode mode, int ranks,
                      int threads, parkit_alignment alignment) {
  char line[4096];
  parkit_launcher launcher = under_slurm() && alignment == PARKIT_ALIGN_NONE
                                 ? PARKIT_LAUNCHER_SRUN
                                 : PARKIT_LAUNCHER_MPIRUN;
  if (parkit_launch_line(mode, ranks, threads, fix->nodes, fix->cores_per_node,
                         launcher, alignment, fix->argc, fix->argv, line,
                         sizeof line))
    fprintf(stderr, "parkit:   fix: %s\n", line);
}

/* "0", "0 and 1", "0, 1 and 2", or "0, 1, 2, ..." when there are more. */
static void format_rank_list(const int *listed, int count, char *text,
                             size_t size) {
  int shown = count <= 3 ? count : 3;
  size_t used = 0;
  text[0] = '\0';
  for (int i = 0; i < shown && used < size; ++i) {
    const char *separator = i == 0                             ? ""
                            : i == count - 1 && count == shown ? " and "
                                                               : ", ";
    int written =
        snprintf(text + used, size - used, "%s%d", separator, listed[i]);
    used += written > 0 ? (size_t)written : 0;
  }
  if (count > shown && used < size)
    snprintf(text + used, size - used, ", ...");
}

static void warn_thin_binding(const parkit_command *command, int threads,
                              const int *thin_ranks, int thin_count,
                              int fewest_cores, int ranks,
                              const fix_context *fix) {
  char listed[64];
  format_rank_list(thin_ranks, thin_count, listed, sizeof listed);
  bool threads_mode = command->mode == PARKIT_MODE_THREADS;
  fprintf(stderr,
          "parkit: warning: %d of %d ranks (%s) may run on only %d core%s but "
          "start %d threads each: the threads will share %s%s.\n",
          thin_count, ranks, listed, fewest_cores, fewest_cores == 1 ? "" : "s",
          threads, fewest_cores == 1 ? "it" : "them",
          threads_mode ? " (give the process more cores: no narrower "
                         "taskset or cgroup; or run as many threads as cores)"
                       : "");
  if (threads_mode)
    print_fix(fix, PARKIT_MODE_THREADS, 1, fewest_cores, PARKIT_ALIGN_NONE);
  else
    print_fix(fix, command->mode, ranks, threads, PARKIT_ALIGN_NONE);
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
    print_fix(fix, PARKIT_MODE_THREADS, 1, cores, PARKIT_ALIGN_NONE);
    break;
  case PARKIT_MODE_RANKS:
    print_fix(fix, PARKIT_MODE_RANKS, cores * nodes, 1, PARKIT_ALIGN_NONE);
    break;
  case PARKIT_MODE_HYBRID:
    if (cores >= ranks_on_node)
      print_fix(fix, PARKIT_MODE_HYBRID, ranks_on_node * nodes,
                cores / ranks_on_node, PARKIT_ALIGN_NONE);
    else
      print_fix(fix, PARKIT_MODE_HYBRID, cores * nodes, 1, PARKIT_ALIGN_NONE);
    break;
  }
}

/* Ranks stacked on the same cores of a node: masks that partly overlap,
 * or one mask, narrower than the node, shared by several ranks whose
 * workers outnumber its cores (a mask as wide as the node is the
 * oversubscription warning's case; a rank alone on too few cores for its
 * threads, the thin-binding warning's). The lowest such rank says so
 * itself: it knows its host and CPUs. Collective over `world`. */
static int warn_stacked_binding(const parkit_placement *placement,
                                const parkit_command *command, int threads,
                                int rank, const fix_context *fix,
                                MPI_Comm world) {
  bool partly = placement->partly_overlapping_rank >= 0;
  bool crowded = placement->bound && placement->same_mask_ranks > 1 &&
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
  print_fix(fix, command->mode, ranks, threads, PARKIT_ALIGN_NONE);
  return 0;
}

/* Fixes a rank whose threads span domains: one rank per last-level cache
 * where those are at least as many as the NUMA nodes and hold the threads,
 * else one per NUMA node, with at most the cores of one domain each. */
static void fix_straddled_domains(const parkit_placement *placement,
                                  int threads, const fix_context *fix) {
  const parkit_domains *caches = &placement->node_cache_domains;
  const parkit_domains *numa = &placement->node_numa_domains;
  bool by_cache = caches->count > 1 && caches->count >= numa->count &&
                  threads <= caches->fewest_cores;
  if (!by_cache && numa->count > 1)
    print_fix(fix, PARKIT_MODE_HYBRID, numa->count * placement->node_count,
              threads < numa->fewest_cores ? threads : numa->fewest_cores,
              PARKIT_ALIGN_NUMA);
  else
    print_fix(fix, PARKIT_MODE_HYBRID, caches->count * placement->node_count,
              threads < caches->fewest_cores ? threads : caches->fewest_cores,
              PARKIT_ALIGN_L3CACHE);
}

/* Ranks whose threads may run in several NUMA nodes or last-level caches
 * (of known size): the lowest such rank says so, with its CPUs, and names
 * the mapping that keeps each rank in one domain. A rank of one thread
 * shares no data among threads and is left alone. Collective over
 * `world`. */
static int warn_straddled_domains(const parkit_placement *placement,
                                  int threads, int rank, const fix_context *fix,
                                  MPI_Comm world) {
  bool numa = placement->numa_nodes > 1, caches = placement->cache_domains > 1;
  bool spread = threads > 1 && (numa || caches);
  int mine = spread ? 1 : 0, spreading = 0;
  int candidate = spread ? rank : INT_MAX, first = 0;
  PARKIT_MPI_CALL(MPI_Allreduce(&mine, &spreading, 1, MPI_INT, MPI_SUM, world));
  PARKIT_MPI_CALL(
      MPI_Allreduce(&candidate, &first, 1, MPI_INT, MPI_MIN, world));
  if (spreading == 0 || first != rank)
    return 0;
  int level = placement->node_hardware.last_level.level;
  char spans[96] = "", across[64] = "", others[48] = "";
  if (numa)
    snprintf(spans, sizeof spans, "%d NUMA nodes%s", placement->numa_nodes,
             caches ? " and " : "");
  if (caches)
    snprintf(spans + strlen(spans), sizeof spans - strlen(spans),
             "%d L%d caches", placement->cache_domains, level);
  snprintf(across, sizeof across, "%s%s", numa ? "NUMA nodes" : "",
           numa && caches ? " and caches"
           : caches       ? "caches"
                          : "");
  if (spreading > 1)
    snprintf(others, sizeof others, " (so do those of %d other rank%s)",
             spreading - 1, spreading == 2 ? "" : "s");
  fprintf(stderr,
          "parkit: warning: the %d threads of rank %d may run on CPUs %s of "
          "node %s, which span %s%s: threads of one rank then share data "
          "across %s, which is slower than within one; one rank per domain "
          "keeps them together.\n",
          threads, rank, placement->cpuset_text, placement->host, spans, others,
          across);
  fix_straddled_domains(placement, threads, fix);
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
  PARKIT_CALL(warn_straddled_domains(placement, threads, rank, &fix, world));
  int fewest_cores = 0;
  PARKIT_MPI_CALL(MPI_Allreduce(&placement->core_count, &fewest_cores, 1,
                                MPI_INT, MPI_MIN, world));
  /* Rank 0 finds the most crowded node (workers minus cores) and the ranks
   * with fewer cores than threads. */
  int mine[3] = {placement->node_size, placement->node_cores,
                 placement->core_count < threads ? 1 : 0};
  int *all = NULL, *thin_ranks = NULL;
  char(*hosts)[PARKIT_HOST_TEXT] = NULL;
  if (rank == 0) {
    PARKIT_ALLOCATE(all, 3 * ranks);
    PARKIT_ALLOCATE(thin_ranks, ranks);
    PARKIT_ALLOCATE(hosts, ranks);
  }
  PARKIT_MPI_CALL(MPI_Gather(mine, 3, MPI_INT, all, 3, MPI_INT, 0, world));
  PARKIT_MPI_CALL(MPI_Gather(placement->host, PARKIT_HOST_TEXT, MPI_CHAR, hosts,
                             PARKIT_HOST_TEXT, MPI_CHAR, 0, world));
  if (rank != 0)
    return 0;
  int worst = 0, thin_count = 0;
  for (int r = 0; r < ranks; ++r) {
    if (all[3 * r] * threads - all[3 * r + 1] >
        all[3 * worst] * threads - all[3 * worst + 1])
      worst = r;
    if (all[3 * r + 2])
      thin_ranks[thin_count++] = r;
  }
  int ranks_on_node = all[3 * worst], node_cores = all[3 * worst + 1];
  fix.cores_per_node = node_cores;
  if (ranks_on_node * threads > node_cores)
    warn_oversubscribed(command, threads, ranks_on_node, node_cores,
                        hosts[worst], &fix);
  if (thin_count > 0)
    warn_thin_binding(command, threads, thin_ranks, thin_count, fewest_cores,
                      ranks, &fix);
  free(all);
  free(thin_ranks);
  free(hosts);
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
