/*
 * parkit report PATH... [--format table|csv|markdown|json]
 *
 * Summarises result files without MPI (no mpirun, no MPI_Init): every file
 * ending in .h5 under the paths (directories are searched recursively; a
 * file named on the command line is read whatever its name), grouped by
 * kernel and problem (the kernel's parameters). For each run: the median
 * time over repetitions and its spread, the rate, the speedup over the
 * fastest one-core (1 rank x 1 thread) run of the same kernel and problem,
 * the parallel efficiency (speedup / cores), the max/min imbalance over
 * ranks and the verification. In each group the best split is marked: the
 * fastest verified run among the verified runs with the most cores. `.h5.tmp`
 * files (unfinished runs) are listed as unfinished on stderr, files that cannot
 * be read are listed there with the reason; both are skipped. Only regular
 * files are read, each once, in a child process (isolated_reading.h).
 */
#ifndef PARKIT_REPORT_H
#define PARKIT_REPORT_H

/* Exit statuses of `parkit report`. */
enum parkit_report_status {
  PARKIT_REPORT_OK = 0,        /* at least one result file was read */
  PARKIT_REPORT_NOTHING = 1,   /* no result file could be read */
  PARKIT_REPORT_BAD_INPUT = 2, /* bad arguments, or a path that is missing */
};

/* `argc`/`argv`: the words after "report". Prints the report on stdout and
 * the skipped files and errors on stderr; returns the exit status. */
int parkit_report_main(int argc, char **argv);

#endif
