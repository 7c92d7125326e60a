/*
 * Where the ranks run: each rank's CPU mask, its cores, NUMA nodes and
 * caches (hwloc, topology.h), the node it shares with other ranks
 * (MPI_COMM_TYPE_SHARED), the thread count the launch implies, and the
 * checks and warnings about a launch that does not fit its mode, its cores
 * or its NUMA nodes and caches.
 */
#ifndef PARKIT_PLACEMENT_H
#define PARKIT_PLACEMENT_H

#include "cli.h"
#include "topology.h"

#include <mpi.h>
#include <sched.h>
#include <stdbool.h>

#define PARKIT_CPUSET_TEXT 256
#define PARKIT_HOST_TEXT 64

typedef struct parkit_placement {
  parkit_topology *topology; /* this node's hardware, loaded at init */
  cpu_set_t cpus;            /* this rank's mask at start-up */
  int cpu_count;             /* CPUs in the mask */
  int core_count;            /* distinct physical cores in it */
  int numa_nodes;            /* NUMA nodes of those CPUs */
  int cache_domains;         /* last-level caches of known size they use */
  char cpuset_text[PARKIT_CPUSET_TEXT]; /* e.g. "0-3,8" */
  char host[PARKIT_HOST_TEXT];
  MPI_Comm node_comm;  /* the ranks on this node */
  int node_rank;       /* this rank's index on its node */
  int node_size;       /* ranks on this node */
  int node_index;      /* 0 .. node_count-1, in order of lowest rank */
  int node_count;      /* nodes in the job */
  cpu_set_t node_cpus; /* the union of the node's rank masks */
  int node_cores;      /* cores in it */
  char node_cpuset_text[PARKIT_CPUSET_TEXT]; /* e.g. "0-15" */
  parkit_hardware_summary node_hardware;     /* its NUMA nodes and caches */
  parkit_domains node_numa_domains;          /* the NUMA nodes it spans */
  parkit_domains node_cache_domains; /* the last-level caches it spans */
  /* Over all nodes (the same on every rank): the sum of each node's
   * node_hardware.last_level.bytes, and of its fallback_domains. */
  int64_t job_last_level_cache_bytes;
  int64_t job_fallback_cache_domains;
  int max_ranks_on_node; /* over all nodes */
  /* Ranks on this node bound to the same cores (world ranks, -1 when none):
   * another rank whose mask partly overlaps this one's, or else the lowest
   * other rank whose mask equals it; `same_mask_ranks` counts the ranks with
   * exactly this mask, this one included. `bound`: the mask is narrower than
   * the node's union of masks. */
  int partly_overlapping_rank;
  int same_mask_rank;
  int same_mask_ranks;
  bool bound;
  /* The node leaders (node_rank 0) in world-rank order; MPI_COMM_NULL on
   * every other rank. World rank 0 is rank 0 here. */
  MPI_Comm leaders_comm;
} parkit_placement;

/* This machine's host name (truncated to `size`), or "unknown". */
void parkit_host_name(char *host, size_t size);

/* Loads the topology and finds every rank's place. Collective over
 * `world`. */
int parkit_placement_init(parkit_placement *placement, MPI_Comm world);
void parkit_placement_free(parkit_placement *placement);

/* Decides the thread count from the mode, --threads and OMP_NUM_THREADS and
 * checks that the mode fits the launch (e.g. threads mode is one process).
 * Not collective: every rank reaches the same answer. Returns 0, or -1 with a
 * one-line message that says what to run instead. */
int parkit_choose_threads(const parkit_command *command,
                          const parkit_placement *placement, int world_size,
                          int *threads, char *message, size_t size);

/* Collective. Rank 0 prints to stderr, before any work, the warnings that a
 * launch oversubscribes a node (ranks on the node x threads > its cores) or
 * binds a rank's threads to fewer cores than threads, each with the command
 * line that fixes it; the first rank bound to CPUs another rank on its node
 * is bound to says so too, and so does the first rank whose threads spread
 * over several NUMA nodes or last-level caches. */
int parkit_warn_about_placement(const parkit_placement *placement,
                                const parkit_command *command, int threads,
                                int argc, char **argv, MPI_Comm world);

/* Writes a CPU set as "0-3,8" (empty string for an empty set). */
void parkit_format_cpuset(const cpu_set_t *cpus, char *text, size_t size);

/* Bytes of memory this node can still give (MemAvailable, lowered to a
 * cgroup limit if one applies); a negative value when unknown. */
double parkit_memory_available(void);

#endif
