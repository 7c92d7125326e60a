/*
 * The runner's side of parkit_outputs (kernels see only the opaque type and
 * the parkit_output_* functions in kernel.h): an ordered list of named real
 * or integer scalars and arrays, each with a unit and a description.
 */
#ifndef PARKIT_OUTPUTS_H
#define PARKIT_OUTPUTS_H

#include "kernel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct parkit_output {
  char name[64];
  char unit[32];
  char description[192];
  bool is_integer;
  bool is_array; /* recorded with parkit_output_reals/integers */
  size_t count;  /* 1 for scalars; this rank's values for a block */
  /* parkit_output_real_block: this rank's block of a 2-D global array. */
  bool is_distributed;
  int64_t global_shape[2], block_offset[2], block_count[2];
  double *reals; /* when !is_integer */
  int64_t *integers;
} parkit_output;

struct parkit_outputs {
  parkit_output *entries;
  int count;
  int capacity;
};

void parkit_outputs_init(parkit_outputs *outputs);
void parkit_outputs_free(parkit_outputs *outputs);
/* The entry called `name`, or NULL. */
const parkit_output *parkit_outputs_find(const parkit_outputs *outputs,
                                         const char *name);

#endif
