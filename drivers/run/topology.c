#include "topology.h"

#include "check.h"

#include <hwloc.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The hwloc topology, and per Linux CPU number what the queries ask about
 * it, found once at load (NULL: the CPU is not in the topology). */
struct parkit_topology {
  hwloc_topology_t hwloc;
  hwloc_obj_t pu[CPU_SETSIZE];
  hwloc_obj_t core[CPU_SETSIZE]; /* its Core; the PU itself without one */
  hwloc_obj_t numa[CPU_SETSIZE]; /* lowest-numbered NUMA node holding it */
  /* Its data or unified cache of the highest level; without caches its
   * package, or the machine. */
  hwloc_obj_t last_level[CPU_SETSIZE];
  int64_t last_level_bytes[CPU_SETSIZE]; /* size of that cache, 0: unknown */
};

/* ---- loading ------------------------------------------------------------ */

/* A cache's size, or 0 when hwloc gives none or an implausible one (more
 * than PARKIT_CACHE_BYTES_PER_CORE_LIMIT for each core under it). */
static int64_t sane_cache_bytes(hwloc_topology_t hwloc, hwloc_obj_t cache) {
  int64_t bytes = (int64_t)cache->attr->cache.size;
  int cores = hwloc_get_nbobjs_inside_cpuset_by_type(hwloc, cache->cpuset,
                                                     HWLOC_OBJ_CORE);
  if (cores <= 0)
    cores = hwloc_bitmap_weight(cache->cpuset);
  if (cores <= 0)
    cores = 1;
  if (bytes <= 0 || bytes / cores > PARKIT_CACHE_BYTES_PER_CORE_LIMIT)
    return 0;
  return bytes;
}

static hwloc_obj_t lowest_numa_node_of(hwloc_topology_t hwloc, unsigned cpu) {
  hwloc_obj_t best = NULL;
  for (hwloc_obj_t node =
           hwloc_get_next_obj_by_type(hwloc, HWLOC_OBJ_NUMANODE, NULL);
       node != NULL;
       node = hwloc_get_next_obj_by_type(hwloc, HWLOC_OBJ_NUMANODE, node))
    if (hwloc_bitmap_isset(node->cpuset, cpu) &&
        (best == NULL || node->os_index < best->os_index))
      best = node;
  return best;
}

static void describe_cpu(parkit_topology *topology, hwloc_obj_t pu) {
  unsigned cpu = pu->os_index;
  hwloc_obj_t core = NULL, cache = NULL, package = NULL;
  for (hwloc_obj_t above = pu->parent; above != NULL; above = above->parent) {
    if (above->type == HWLOC_OBJ_CORE && core == NULL)
      core = above;
    if (above->type == HWLOC_OBJ_PACKAGE && package == NULL)
      package = above;
    if (hwloc_obj_type_is_dcache(above->type) &&
        (cache == NULL || above->attr->cache.depth > cache->attr->cache.depth))
      cache = above;
  }
  topology->pu[cpu] = pu;
  topology->core[cpu] = core ? core : pu;
  topology->numa[cpu] = lowest_numa_node_of(topology->hwloc, cpu);
  topology->last_level[cpu] = cache     ? cache
                              : package ? package
                                        : hwloc_get_root_obj(topology->hwloc);
  topology->last_level_bytes[cpu] =
      cache ? sane_cache_bytes(topology->hwloc, cache) : 0;
}

/* Loads the hwloc topology (synthetic when `description` is not NULL) and
 * fills the per-CPU tables. */
static int load(const char *description, parkit_topology *topology) {
  PARKIT_CHECK(hwloc_topology_init(&topology->hwloc) == 0,
               "hwloc_topology_init failed");
  /* Instruction caches and I/O devices say nothing parkit asks. */
  hwloc_topology_set_icache_types_filter(topology->hwloc,
                                         HWLOC_TYPE_FILTER_KEEP_NONE);
  hwloc_topology_set_io_types_filter(topology->hwloc,
                                     HWLOC_TYPE_FILTER_KEEP_NONE);
  if (description != NULL)
    PARKIT_CHECK(hwloc_topology_set_synthetic(topology->hwloc, description) ==
                     0,
                 "hwloc cannot read the synthetic topology '%s' (see hwloc's "
                 "\"Synthetic topologies\" documentation)",
                 description);
  PARKIT_CHECK(hwloc_topology_load(topology->hwloc) == 0,
               "hwloc cannot load the hardware topology (hwloc_topology_load)");
  for (hwloc_obj_t pu =
           hwloc_get_next_obj_by_type(topology->hwloc, HWLOC_OBJ_PU, NULL);
       pu != NULL;
       pu = hwloc_get_next_obj_by_type(topology->hwloc, HWLOC_OBJ_PU, pu))
    if (pu->os_index < CPU_SETSIZE)
      describe_cpu(topology, pu);
  return 0;
}

static int load_topology(const char *description, parkit_topology **result) {
  parkit_topology *topology = NULL;
  *result = NULL;
  PARKIT_ALLOCATE(topology, 1);
  memset(topology, 0, sizeof *topology);
  if (load(description, topology) != 0) {
    parkit_topology_free(topology);
    return -1;
  }
  *result = topology;
  return 0;
}

int parkit_topology_load(parkit_topology **topology) {
  return load_topology(NULL, topology);
}

int parkit_topology_load_synthetic(const char *description,
                                   parkit_topology **topology) {
  return load_topology(description, topology);
}

void parkit_topology_free(parkit_topology *topology) {
  if (topology == NULL)
    return;
  if (topology->hwloc != NULL)
    hwloc_topology_destroy(topology->hwloc);
  free(topology);
}

/* ---- queries -------------------------------------------------------------
 */

static void cpus_of(hwloc_const_bitmap_t set, cpu_set_t *cpus) {
  CPU_ZERO(cpus);
  for (int cpu = hwloc_bitmap_first(set); cpu >= 0 && cpu < CPU_SETSIZE;
       cpu = hwloc_bitmap_next(set, cpu))
    CPU_SET(cpu, cpus);
}

static bool shares_a_cpu(hwloc_const_bitmap_t set, const cpu_set_t *cpus) {
  for (int cpu = hwloc_bitmap_first(set); cpu >= 0 && cpu < CPU_SETSIZE;
       cpu = hwloc_bitmap_next(set, cpu))
    if (CPU_ISSET(cpu, cpus))
      return true;
  return false;
}

/* True when `cpu` is the lowest CPU of `cpus` that `table` maps to the
 * object it maps `cpu` to: counting those CPUs counts distinct objects. */
static bool first_with_object(const hwloc_obj_t *table, const cpu_set_t *cpus,
                              int cpu) {
  for (int before = 0; before < cpu; ++before)
    if (CPU_ISSET(before, cpus) && table[before] == table[cpu])
      return false;
  return true;
}

/* Distinct objects (not NULL) that `table` gives the CPUs of `cpus`. */
static int distinct_objects(const hwloc_obj_t *table, const cpu_set_t *cpus) {
  int count = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, cpus) && table[cpu] != NULL &&
        first_with_object(table, cpus, cpu))
      ++count;
  return count;
}

void parkit_topology_cpus(const parkit_topology *topology, cpu_set_t *cpus) {
  CPU_ZERO(cpus);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (topology->pu[cpu] != NULL)
      CPU_SET(cpu, cpus);
}

int parkit_topology_pus(const parkit_topology *topology,
                        const cpu_set_t *cpus) {
  return distinct_objects(topology->pu, cpus);
}

int parkit_topology_cores(const parkit_topology *topology,
                          const cpu_set_t *cpus) {
  int unknown = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, cpus) && topology->pu[cpu] == NULL)
      ++unknown;
  return distinct_objects(topology->core, cpus) + unknown;
}

int parkit_topology_numa_node(const parkit_topology *topology, int cpu) {
  if (cpu < 0 || cpu >= CPU_SETSIZE || topology->numa[cpu] == NULL)
    return -1;
  return (int)topology->numa[cpu]->os_index;
}

int parkit_topology_numa_nodes(const parkit_topology *topology,
                               const cpu_set_t *cpus) {
  return distinct_objects(topology->numa, cpus);
}

/* Calls `visit` for each cache of `level` that shares a CPU with `cpus`, in
 * topology order. */
static void for_each_cache(const parkit_topology *topology, int level,
                           const cpu_set_t *cpus,
                           void (*visit)(hwloc_obj_t cache, int64_t bytes,
                                         void *context),
                           void *context) {
  int depths = hwloc_topology_get_depth(topology->hwloc);
  for (int depth = 0; depth < depths; ++depth) {
    if (!hwloc_obj_type_is_dcache(hwloc_get_depth_type(topology->hwloc, depth)))
      continue;
    int count = hwloc_get_nbobjs_by_depth(topology->hwloc, depth);
    for (int i = 0; i < count; ++i) {
      hwloc_obj_t cache =
          hwloc_get_obj_by_depth(topology->hwloc, depth, (unsigned)i);
      if ((int)cache->attr->cache.depth == level &&
          shares_a_cpu(cache->cpuset, cpus))
        visit(cache, sane_cache_bytes(topology->hwloc, cache), context);
    }
  }
}

typedef struct cache_list {
  parkit_cache *caches;
  int capacity, count;
} cache_list;

static void add_to_list(hwloc_obj_t cache, int64_t bytes, void *context) {
  cache_list *list = context;
  if (list->count < list->capacity) {
    parkit_cache *entry = &list->caches[list->count];
    entry->level = (int)cache->attr->cache.depth;
    entry->bytes = bytes;
    entry->reported_bytes = (int64_t)cache->attr->cache.size;
    cpus_of(cache->cpuset, &entry->cpus);
  }
  list->count++;
}

int parkit_topology_caches(const parkit_topology *topology, int level,
                           const cpu_set_t *cpus, parkit_cache *caches,
                           int capacity) {
  cache_list list = {.caches = caches, .capacity = capacity};
  for_each_cache(topology, level, cpus, add_to_list, &list);
  return list.count;
}

parkit_last_level_caches
parkit_topology_last_level_caches(const parkit_topology *topology,
                                  const cpu_set_t *cpus) {
  parkit_last_level_caches caches = {0};
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    hwloc_obj_t domain = topology->last_level[cpu];
    if (!CPU_ISSET(cpu, cpus) || domain == NULL ||
        !first_with_object(topology->last_level, cpus, cpu))
      continue;
    if (hwloc_obj_type_is_dcache(domain->type) &&
        (int)domain->attr->cache.depth > caches.level)
      caches.level = (int)domain->attr->cache.depth;
    int64_t bytes = topology->last_level_bytes[cpu];
    caches.domains += 1;
    caches.fallback_domains += bytes > 0 ? 0 : 1;
    caches.bytes += bytes > 0 ? bytes : PARKIT_FALLBACK_CACHE_BYTES;
  }
  return caches;
}

/* Which domain of `kind` a CPU is in: NULL when none, or (last-level
 * caches) when its cache's size is unknown, as its sharing is then not to
 * be trusted either. */
static hwloc_obj_t domain_of(const parkit_topology *topology, int cpu,
                             parkit_domain_kind kind) {
  if (kind == PARKIT_DOMAIN_NUMA)
    return topology->numa[cpu];
  return topology->last_level_bytes[cpu] > 0 ? topology->last_level[cpu] : NULL;
}

parkit_domains parkit_topology_domains(const parkit_topology *topology,
                                       const cpu_set_t *cpus,
                                       parkit_domain_kind kind) {
  hwloc_obj_t table[CPU_SETSIZE];
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    table[cpu] = CPU_ISSET(cpu, cpus) ? domain_of(topology, cpu, kind) : NULL;
  parkit_domains domains = {0};
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (table[cpu] == NULL || !first_with_object(table, cpus, cpu))
      continue;
    cpu_set_t members;
    CPU_ZERO(&members);
    for (int other = cpu; other < CPU_SETSIZE; ++other)
      if (table[other] == table[cpu])
        CPU_SET(other, &members);
    int cores = parkit_topology_cores(topology, &members);
    if (domains.count == 0 || cores < domains.fewest_cores)
      domains.fewest_cores = cores;
    domains.count += 1;
  }
  return domains;
}

typedef struct largest_cache {
  int64_t bytes;
  int cpus;
} largest_cache;

static void keep_largest(hwloc_obj_t cache, int64_t bytes, void *context) {
  largest_cache *largest = context;
  int cpus = hwloc_bitmap_weight(cache->cpuset);
  if (bytes > largest->bytes || (largest->cpus == 0 && largest->bytes == 0)) {
    largest->bytes = bytes;
    largest->cpus = cpus;
  }
}

void parkit_topology_summarize(const parkit_topology *topology,
                               const cpu_set_t *cpus,
                               parkit_hardware_summary *summary) {
  memset(summary, 0, sizeof *summary);
  summary->numa_nodes = parkit_topology_numa_nodes(topology, cpus);
  for (int level = 1; level <= PARKIT_CACHE_LEVELS; ++level) {
    largest_cache largest = {0};
    for_each_cache(topology, level, cpus, keep_largest, &largest);
    summary->cache_bytes[level - 1] = largest.bytes;
    summary->cache_cpus[level - 1] = largest.cpus;
  }
  summary->last_level = parkit_topology_last_level_caches(topology, cpus);
}
