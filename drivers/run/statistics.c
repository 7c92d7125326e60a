#include "statistics.h"

#include "check.h"

#include <stdlib.h>
#include <string.h>

static int compare_doubles(const void *left, const void *right) {
  double a = *(const double *)left, b = *(const double *)right;
  return (a > b) - (a < b);
}

double parkit_median(const double *values, int count, double *scratch) {
  memcpy(scratch, values, sizeof(double) * (size_t)count);
  qsort(scratch, (size_t)count, sizeof(double), compare_doubles);
  return count % 2 ? scratch[count / 2]
                   : 0.5 * (scratch[count / 2 - 1] + scratch[count / 2]);
}

int parkit_time_statistics_compute(const double *times, int repetitions,
                                   int ranks,
                                   parkit_time_statistics *statistics) {
  double *slowest = NULL, *scratch = NULL, *rank_total = NULL;
  PARKIT_ALLOCATE(slowest, repetitions);
  PARKIT_ALLOCATE(scratch, repetitions);
  PARKIT_ALLOCATE(rank_total, ranks);
  memset(rank_total, 0, sizeof(double) * (size_t)ranks);
  for (int repetition = 0; repetition < repetitions; ++repetition) {
    const double *row = times + (size_t)repetition * (size_t)ranks;
    slowest[repetition] = row[0];
    for (int rank = 0; rank < ranks; ++rank) {
      if (row[rank] > slowest[repetition])
        slowest[repetition] = row[rank];
      rank_total[rank] += row[rank];
    }
  }
  statistics->min = statistics->max = slowest[0];
  for (int repetition = 1; repetition < repetitions; ++repetition) {
    if (slowest[repetition] < statistics->min)
      statistics->min = slowest[repetition];
    if (slowest[repetition] > statistics->max)
      statistics->max = slowest[repetition];
  }
  statistics->median = parkit_median(slowest, repetitions, scratch);
  double least = rank_total[0], most = rank_total[0];
  for (int rank = 1; rank < ranks; ++rank) {
    if (rank_total[rank] < least)
      least = rank_total[rank];
    if (rank_total[rank] > most)
      most = rank_total[rank];
  }
  statistics->imbalance = least > 0 ? most / least : 1.0;
  free(slowest);
  free(scratch);
  free(rank_total);
  return 0;
}
