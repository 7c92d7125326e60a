/*
 * The launch layer: the one place that knows how each mode is started with
 * its placement. It turns (mode, nodes, ranks x threads, launcher) into the
 * command line and environment that run parkit that way, and enumerates the
 * ranks x threads splits of a machine. `parkit launch` and `parkit splits`
 * print them for the job scripts, the campaign and the test matrix; the
 * placement warnings' "fix:" lines are built here too.
 *
 * The recipes (one thread per core, threads kept beside their rank):
 *   environment  OMP_NUM_THREADS=T OMP_PLACES=cores OMP_PROC_BIND=close
 *   threads      parkit threads KERNEL --threads T          (no launcher)
 *   mpirun       mpirun -np P --map-by ppr:P/N:node:PE=T --bind-to core
 *                (one node: --map-by slot:PE=T; aligned to a domain:
 *                --map-by ppr:1:numa:PE=T or ppr:1:l3cache:PE=T), the
 *                OMP_* variables forwarded with -x; several nodes: TCP
 *                keepalive on the daemons' connections, so a silent node
 *                is noticed in ~20 s, not ~8 min
 *   srun         srun --nodes=N --ntasks=P --cpus-per-task=T
 *                --cpu-bind=cores --kill-on-bad-exit=1 (explicit
 *                --cpus-per-task: SLURM 22.05's srun no longer inherits
 *                it; a dead rank ends the step), SLURM_PMIX_FENCE=ring
 *                unless set (jobs/slurm/lib.sh explains why)
 *   more workers than cores (only when asked for): mpirun --oversubscribe
 *                --bind-to none, srun --overcommit --cpu-bind=none
 * Pure functions but for the environment read by the srun recipe.
 */
#ifndef PARKIT_LAUNCH_H
#define PARKIT_LAUNCH_H

#include "cli.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum parkit_launcher {
  PARKIT_LAUNCHER_MPIRUN,
  PARKIT_LAUNCHER_SRUN,
} parkit_launcher;

/* Where each rank's cores lie: anywhere (consecutive cores), or one rank
 * per NUMA node or per L3 cache domain. */
typedef enum parkit_alignment {
  PARKIT_ALIGN_NONE,
  PARKIT_ALIGN_NUMA,
  PARKIT_ALIGN_L3CACHE,
} parkit_alignment;

typedef struct parkit_launch_request {
  parkit_mode mode;
  const char *kernel;
  int ranks;   /* in all, >= 1; threads mode: 1 */
  int threads; /* per rank, >= 1; ranks mode: 1 */
  int nodes;   /* >= 1; ranks must divide over them */
  parkit_launcher launcher;
  parkit_alignment alignment;
  int cores_per_node;  /* the cores a node offers (> 0) */
  bool oversubscribe;  /* more workers on a node than its cores: allowed */
  const char *program; /* the parkit program */
  const char *mpirun;  /* the mpirun program (PARKIT_LAUNCHER_MPIRUN) */
  /* The run's further options (not the mode, the kernel or --threads). */
  int argument_count;
  char *const *arguments;
} parkit_launch_request;

#define PARKIT_LAUNCH_MAX_WORDS 64
#define PARKIT_LAUNCH_MAX_VARIABLES 8

/* A command: the environment variables to set and the words to exec. The
 * words point into the request, into string literals or into `storage`. */
typedef struct parkit_launch_command {
  const char *variables[PARKIT_LAUNCH_MAX_VARIABLES]; /* "NAME=value" */
  int variable_count;
  const char **words; /* argv: word_count words and a NULL; malloc'd */
  int word_count;
  char storage[1024]; /* texts made for this command (e.g. "slot:PE=4") */
  size_t storage_used;
} parkit_launch_command;

/* Builds the command for `request`. Returns 0, or -1 with a one-line message
 * naming the bad value and what is allowed (a mode that does not fit the
 * shape, ranks that do not divide over the nodes, more workers than cores
 * without `oversubscribe`). Free with parkit_launch_free. */
int parkit_launch_build(const parkit_launch_request *request,
                        parkit_launch_command *command, char *message,
                        size_t size);
void parkit_launch_free(parkit_launch_command *command);

/* The command as one line that pastes into a shell: "NAME=value ... argv",
 * every word quoted as needed (quote.h). Returns false when `size` was too
 * small. */
bool parkit_launch_format(const parkit_launch_command *command, char *text,
                          size_t size);

/* The launch line that runs the program of `argv` (argv[0] MODE KERNEL
 * options..., as typed) again as `mode` ranks x threads on `nodes` nodes of
 * `cores_per_node` cores, with `launcher`, the recipe's placement and
 * `alignment`: the
 * "fix:" of a placement warning. The program is written "parkit", the
 * user's --threads is replaced by `threads`; oversubscribing when the
 * shape needs it. Returns false when it cannot be built or `size` is too
 * small. */
bool parkit_launch_line(parkit_mode mode, int ranks, int threads, int nodes,
                        int cores_per_node, parkit_launcher launcher,
                        parkit_alignment alignment, int argc, char **argv,
                        char *text, size_t size);

/* The mode a ranks x threads split runs as: threads for one rank on one
 * node, ranks for one thread per rank, hybrid otherwise. */
parkit_mode parkit_split_mode(int ranks, int threads, int nodes);

/* What a node offers, for enumerating splits. */
typedef struct parkit_node_shape {
  int cores;
  int numa_domains; /* NUMA nodes among those cores (>= 1) */
  int l3_domains;   /* last-level caches of known size among them (>= 1) */
  /* The sum of the sizes of the distinct last-level caches of those
   * cores (bytes; 0 unknown), and how many of them were of unknown size
   * and counted as a stated default. */
  int64_t last_level_cache_bytes;
  int fallback_cache_domains;
} parkit_node_shape;

typedef struct parkit_split {
  parkit_mode mode;
  int nodes, ranks, threads; /* ranks in all */
  parkit_alignment alignment;
  bool baseline; /* the one-core base case (1 rank x 1 thread) */
} parkit_split;

/* The splits of `nodes` nodes of `shape` that use every core: per node
 * r ranks x (cores / r) threads for every divisor r of the cores, in order
 * of r; then, where a node has more than one NUMA node (or L3 domain), one
 * rank per domain with its threads inside it. `baseline` puts the one-core
 * 1 x 1 run first. Writes at most `capacity` splits; returns how many there
 * are (which may exceed capacity). */
int parkit_enumerate_splits(const parkit_node_shape *shape, int nodes,
                            bool baseline, parkit_split *splits, int capacity);

/* "none", "numa", "l3cache"; and back (false for an unknown word). */
const char *parkit_alignment_name(parkit_alignment alignment);
bool parkit_alignment_parse(const char *word, parkit_alignment *alignment);

#endif
