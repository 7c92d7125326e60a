#include "node_shape.h"

#include "topology.h"

#include <sched.h>

parkit_node_shape parkit_local_node_shape(void) {
  cpu_set_t cpus;
  int count = 1;
  if (sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) > 0)
    count = CPU_COUNT(&cpus);
  parkit_node_shape shape = {
      .cores = count, .numa_domains = 1, .l3_domains = 1};
  parkit_topology *topology = NULL;
  if (parkit_topology_load(&topology) != 0)
    return shape;
  shape.cores = parkit_topology_cores(topology, &cpus);
  parkit_domains numa =
      parkit_topology_domains(topology, &cpus, PARKIT_DOMAIN_NUMA);
  parkit_domains caches =
      parkit_topology_domains(topology, &cpus, PARKIT_DOMAIN_LAST_LEVEL_CACHE);
  shape.numa_domains = numa.count > 0 ? numa.count : 1;
  shape.l3_domains = caches.count > 0 ? caches.count : 1;
  parkit_last_level_caches last =
      parkit_topology_last_level_caches(topology, &cpus);
  shape.last_level_cache_bytes = last.bytes;
  shape.fallback_cache_domains = last.fallback_domains;
  parkit_topology_free(topology);
  return shape;
}
