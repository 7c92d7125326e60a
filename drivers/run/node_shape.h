/* What this node offers the process that asks: its cores (those its CPU
 * mask allows) and the NUMA nodes and L3 cache domains among them. */
#ifndef PARKIT_NODE_SHAPE_H
#define PARKIT_NODE_SHAPE_H

#include "launch.h"

/* Not collective; reads the affinity mask and the hardware topology. */
parkit_node_shape parkit_local_node_shape(void);

#endif
