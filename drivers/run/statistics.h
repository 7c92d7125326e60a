/* Timing statistics over repetitions and ranks. Pure functions. */
#ifndef PARKIT_STATISTICS_H
#define PARKIT_STATISTICS_H

typedef struct parkit_time_statistics {
  double min, median, max; /* over repetitions of the slowest rank's time */
  double imbalance;        /* max / min over ranks of each rank's total time */
} parkit_time_statistics;

/* times[repetition * ranks + rank], seconds. repetitions, ranks >= 1.
 * Returns 0, or -1 when out of memory. */
int parkit_time_statistics_compute(const double *times, int repetitions,
                                   int ranks,
                                   parkit_time_statistics *statistics);

/* Median of `count` values (the mean of the two middle ones when even). */
double parkit_median(const double *values, int count, double *scratch);

#endif
