/*
 * Every rank must run the same command. mpirun's MPMD syntax
 * (`mpirun -np 1 parkit ranks ... : -np 1 parkit ranks ... --seed 7`)
 * launches ranks with different command lines; they would then compute
 * different problems (a wrong result recorded as verified) or wait for
 * each other forever (different --reps, --warmup, sizes or kernels). All
 * ranks compare a hash of their parsed command before any collective work.
 */
#ifndef PARKIT_AGREEMENT_H
#define PARKIT_AGREEMENT_H

#include "cli.h"

#include <mpi.h>

/* Collective over `world`; every rank has parsed its command. Returns 0
 * when all ranks hold the same command (mode, kernel, and the value of
 * every option, defaults included), else -1 on every rank with, on rank 0,
 * a one-line message naming the first option that differs and the values
 * of rank 0 and of the lowest rank that differs. */
int parkit_command_agree(const parkit_command *command, MPI_Comm world,
                         char *message, size_t size);

#endif
