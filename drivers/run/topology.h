/*
 * The hardware under the ranks, from hwloc (the library Open MPI itself uses
 * for binding): cores and hardware threads (PUs), the data and unified
 * caches of every level with the CPUs that share each, and NUMA nodes. A
 * driver concern: kernels never call hwloc; what they need of it reaches them
 * through parkit_context (last_level_cache_bytes).
 *
 * CPUs are Linux CPU numbers, as in sched_getaffinity (hwloc's physical PU
 * indexes), given as cpu_set_t. The real topology holds only the CPUs this
 * process is allowed to use (its cgroup), as hwloc loads it by default.
 *
 * Caches are not always known, nor sane: some virtual machines give no
 * cache information at all, others make hwloc report a 508 MB L3 per core.
 * A cache whose size hwloc gives as 0, or as more than
 * PARKIT_CACHE_BYTES_PER_CORE_LIMIT for each core under it, has an unknown
 * size (0 below). Where a CPU has no cache at all, its package stands for
 * its last-level cache. Sums of last-level caches count each unknown one as
 * PARKIT_FALLBACK_CACHE_BYTES, and say how many they counted so.
 *
 * Nothing here is collective. A loaded topology is only read.
 */
#ifndef PARKIT_TOPOLOGY_H
#define PARKIT_TOPOLOGY_H

#include <sched.h>
#include <stdint.h>

/* The stated size of a last-level cache hwloc does not know: 32 MiB. */
#define PARKIT_FALLBACK_CACHE_BYTES (INT64_C(32) << 20)
/* No CPU has shipped with more than about 48 MiB of cache per core (AMD's
 * stacked-cache EPYC); a cache claiming more than this per core it serves is
 * taken as unknown. */
#define PARKIT_CACHE_BYTES_PER_CORE_LIMIT (INT64_C(256) << 20)
/* Cache levels the result file records per node: L1 (data), L2, L3. */
#define PARKIT_CACHE_LEVELS 3

typedef struct parkit_topology parkit_topology;

/* One data or unified cache. */
typedef struct parkit_cache {
  int level;              /* 1, 2, 3, ... */
  int64_t bytes;          /* size; 0 when unknown (see above) */
  int64_t reported_bytes; /* what hwloc says, sane or not */
  cpu_set_t cpus;         /* the CPUs that share it */
} parkit_cache;

/* The last-level caches of a set of CPUs: for each CPU, its data or unified
 * cache of the highest level (where it has none: its package). */
typedef struct parkit_last_level_caches {
  int level;            /* cache level of the highest one (3: L3); 0 when
                           none of the CPUs has a cache */
  int domains;          /* distinct last-level caches the CPUs use */
  int fallback_domains; /* of those, the ones of unknown size */
  int64_t bytes; /* sum of their sizes, PARKIT_FALLBACK_CACHE_BYTES for each
                    of unknown size */
} parkit_last_level_caches;

/* NUMA nodes, or last-level caches of known size: the domains inside which
 * threads share data cheaply. */
typedef enum parkit_domain_kind {
  PARKIT_DOMAIN_NUMA,
  PARKIT_DOMAIN_LAST_LEVEL_CACHE,
} parkit_domain_kind;

typedef struct parkit_domains {
  int count;        /* domains the CPUs are in */
  int fewest_cores; /* cores of the CPUs in the domain that has fewest; 0
                       when count is 0 */
} parkit_domains;

/* What the result file records about the hardware of a set of CPUs. */
typedef struct parkit_hardware_summary {
  int numa_nodes; /* NUMA nodes the CPUs are in */
  /* Per level (L1 data, L2, L3): the largest cache of that level among those
   * the CPUs use, its size (0: none, or unknown) and its CPUs. */
  int64_t cache_bytes[PARKIT_CACHE_LEVELS];
  int cache_cpus[PARKIT_CACHE_LEVELS];
  parkit_last_level_caches last_level;
} parkit_hardware_summary;

/* Loads this machine's topology. Returns 0, or -1 with the error set. */
int parkit_topology_load(parkit_topology **topology);
/* Builds a topology from an hwloc synthetic description, e.g.
 * "Package:2 NUMANode:1 L3Cache:4(size=33554432) Core:4 PU:2" (hwloc's
 * "Synthetic topologies" documentation). For tests. Returns 0, or -1 with
 * the error set (a description hwloc cannot read). */
int parkit_topology_load_synthetic(const char *description,
                                   parkit_topology **topology);
/* Accepts NULL. */
void parkit_topology_free(parkit_topology *topology);

/* Every CPU of the topology. */
void parkit_topology_cpus(const parkit_topology *topology, cpu_set_t *cpus);
/* CPUs of `cpus` that the topology has. */
int parkit_topology_pus(const parkit_topology *topology, const cpu_set_t *cpus);
/* Distinct cores among `cpus`: hardware threads of one core count once; a
 * CPU the topology does not have counts as a core of its own. */
int parkit_topology_cores(const parkit_topology *topology,
                          const cpu_set_t *cpus);
/* The NUMA node (its number, as Linux and hwloc-calc --physical give it) of
 * `cpu`: the lowest-numbered node whose CPUs include it; -1 when unknown. */
int parkit_topology_numa_node(const parkit_topology *topology, int cpu);
/* Distinct NUMA nodes (parkit_topology_numa_node) of `cpus`. */
int parkit_topology_numa_nodes(const parkit_topology *topology,
                               const cpu_set_t *cpus);
/* The caches of `level` (data or unified) that share a CPU with `cpus`, in
 * topology order: the first `capacity` go to `caches`; returns how many
 * there are. */
int parkit_topology_caches(const parkit_topology *topology, int level,
                           const cpu_set_t *cpus, parkit_cache *caches,
                           int capacity);
/* The last-level caches `cpus` use, and the sum of their sizes. */
parkit_last_level_caches
parkit_topology_last_level_caches(const parkit_topology *topology,
                                  const cpu_set_t *cpus);
/* The domains of `kind` that `cpus` span. */
parkit_domains parkit_topology_domains(const parkit_topology *topology,
                                       const cpu_set_t *cpus,
                                       parkit_domain_kind kind);
/* NUMA nodes, caches per level and last-level caches of `cpus`, as the
 * result file records them per node. */
void parkit_topology_summarize(const parkit_topology *topology,
                               const cpu_set_t *cpus,
                               parkit_hardware_summary *summary);

#endif
