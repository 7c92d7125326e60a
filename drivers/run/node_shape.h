/* What this node offers the process that asks: its cores (those its CPU
 * mask allows), the NUMA nodes and last-level cache domains among them and
 * the sum of those caches (from hwloc: drivers/run/topology.h). */
#ifndef PARKIT_NODE_SHAPE_H
#define PARKIT_NODE_SHAPE_H

#include "launch.h"

/* Not collective. Where the topology cannot be read: the CPUs of the mask
 * as cores, one domain each kind, caches unknown (0). */
parkit_node_shape parkit_local_node_shape(void);

#endif
