/*
 * parkit launch [options] MODE KERNEL RANKS THREADS [--] [parkit options]
 *   prints (or with --exec runs) the command that starts parkit in MODE as
 *   RANKS x THREADS with the placement the mode needs (drivers/run/launch.h)
 * parkit splits [--cores N] [--nodes N] [--baseline]
 *               [--format text|lines|json]
 *   lists the ranks x threads splits that use every core of N nodes
 * No MPI: they run on a login node or inside a job script. Exit status 0,
 * or 2 with one line naming the bad word; --exec returns only on failure.
 */
#ifndef PARKIT_LAUNCH_COMMAND_H
#define PARKIT_LAUNCH_COMMAND_H

/* `argc`/`argv`: the words after "launch" / "splits". */
int parkit_launch_main(int argc, char **argv);
int parkit_splits_main(int argc, char **argv);

#endif
