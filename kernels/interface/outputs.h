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
  const parkit_output_spec *spec; /* its entry in the kernel's table */
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
  const parkit_output_spec *specs; /* the kernel's output table */
  int spec_count;
};

/* An empty list that accepts the outputs of `kernel`'s table. */
void parkit_outputs_init(parkit_outputs *outputs, const parkit_kernel *kernel);
void parkit_outputs_free(parkit_outputs *outputs);
/* The entry called `name`, or NULL. */
const parkit_output *parkit_outputs_find(const parkit_outputs *outputs,
                                         const char *name);

/* The entry of `kernel`'s output table called `name`, or NULL. */
const parkit_output_spec *parkit_output_spec_find(const parkit_kernel *kernel,
                                                  const char *name);

/* What a `when` condition of an output spec (kernel.h) is evaluated
 * against: the launch, the kernel's parsed options and the outputs
 * recorded so far. */
typedef struct parkit_output_condition_context {
  const parkit_kernel *kernel;
  const parkit_value *options;
  int64_t ranks, threads, nodes;
  const parkit_outputs *outputs;
} parkit_output_condition_context;

/* Whether `when` holds: 1 yes, 0 no, 2 "optional" (recorded or not, both
 * are right). -1 with the error set when the condition cannot be read (an
 * unknown name, a malformed term). NULL holds. */
int parkit_output_condition_holds(const char *when,
                                  const parkit_output_condition_context *at);

/* Checks a verified kernel's outputs against its table: every output whose
 * condition holds was recorded and none whose condition fails. Returns 0,
 * or -1 with the error set naming the output and its condition. */
int parkit_outputs_check_complete(const parkit_outputs *outputs,
                                  const parkit_output_condition_context *at);

#endif
