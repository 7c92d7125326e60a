/*
 * What else used a run's CPUs while its timed repetitions ran: the runner
 * samples before the first timed repetition and after the last, and every
 * run records the result (results/README.md, "Interference").
 *
 * Three measures, each with its resolution:
 *  - waited: time this rank's threads were ready to run but had no CPU
 *    (run_delay of /proc/self/task/<tid>/schedstat, nanoseconds). Any
 *    competitor on the rank's CPUs shows here, foreign or not.
 *  - foreign CPU: per node, the busy time of the node's CPUs in /proc/stat
 *    (user, nice, system, irq, softirq; clock ticks, 10 ms) minus the CPU
 *    time of the node's ranks and their children (getrusage): the work of
 *    other processes on those CPUs. Tick sampling makes it uncertain by
 *    about two ticks per CPU over the window.
 *  - steal: per node, the time a hypervisor ran other guests on the node's
 *    CPUs (/proc/stat, ticks).
 * Where /proc does not say, the figure is negative (unknown).
 */
#ifndef PARKIT_INTERFERENCE_H
#define PARKIT_INTERFERENCE_H

#include <mpi.h>
#include <sched.h>
#include <stdbool.h>

typedef struct parkit_interference_sample {
  double wall;         /* MPI_Wtime, s */
  double own_cpu;      /* this process + reaped children, s */
  double waited;       /* this process's threads' run_delay, s; < 0 unknown */
  double node_busy;    /* node leader: busy time of the node's CPUs, s */
  double node_steal;   /* node leader: steal time of the node's CPUs, s */
  double load_average; /* 1-minute load average; < 0 unknown */
} parkit_interference_sample;

typedef struct parkit_interference {
  double seconds; /* the window: first timed repetition to last, s */
  /* This rank: seconds its threads waited for a CPU (< 0 unknown). */
  double waited_seconds;
  /* This rank's node, known on its leader (others: 0): CPU seconds other
   * processes used on the node's CPUs, and steal seconds (< 0 unknown). */
  double node_foreign_seconds;
  double node_steal_seconds;
  /* The whole job, the same on every rank: the largest over nodes of the
   * foreign CPU seconds per second of the window (cores), of the steal
   * fraction of the node's CPUs, and over ranks of the fraction of its
   * threads' time spent waiting for a CPU. Negative: unknown. */
  double foreign_load;
  double steal_fraction;
  double waited_fraction;
  /* Rank 0's node's 1-minute load average before and after. */
  double load_average_start, load_average_end;
} parkit_interference;

/* What the measures need to know of the launch. */
typedef struct parkit_interference_scope {
  MPI_Comm node_comm;         /* the ranks of this rank's node */
  bool node_leader;           /* rank 0 of node_comm */
  const cpu_set_t *node_cpus; /* the CPUs of the node's ranks */
  int threads;                /* per rank */
} parkit_interference_scope;

/* Not collective. */
void parkit_interference_sample_now(const parkit_interference_scope *scope,
                                    parkit_interference_sample *sample);

/* Collective over `world` (and the node communicators in it): the
 * interference between two samples. Returns 0, or -1 with the error set. */
int parkit_interference_measure(const parkit_interference_scope *scope,
                                const parkit_interference_sample *before,
                                const parkit_interference_sample *after,
                                MPI_Comm world, parkit_interference *result);

#endif
