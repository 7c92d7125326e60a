#include "node_shape.h"

#include <sched.h>

parkit_node_shape parkit_local_node_shape(void) {
  cpu_set_t cpus;
  int count = 1;
  if (sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) > 0)
    count = CPU_COUNT(&cpus);
  return (parkit_node_shape){
      .cores = count, .numa_domains = 1, .l3_domains = 1};
}
