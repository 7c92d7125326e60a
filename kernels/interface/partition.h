/*
 * Balanced contiguous splits, the one rule every kernel uses to share
 * indices (rows, batches, samples) over ranks: n indices in `parts` parts of
 * n / parts each, the first n % parts parts one index more. Because every
 * kernel and every rank uses this same rule, rank r can compute where any
 * other rank's share starts without communicating. Pure, no MPI.
 */
#ifndef PARKIT_PARTITION_H
#define PARKIT_PARTITION_H

#include <stdint.h>

/* Half-open range [begin, end) of global indices. */
typedef struct parkit_range {
  int64_t begin, end;
} parkit_range;

/* Part `part` (0 .. parts-1) of n indices split into `parts` parts. */
static inline parkit_range parkit_balanced_part(int64_t n, int parts,
                                                int part) {
  int64_t base = n / parts, larger = n % parts;
  parkit_range range;
  range.begin = part * base + (part < larger ? part : larger);
  range.end = range.begin + base + (part < larger ? 1 : 0);
  return range;
}

/* The part that holds global index `index` (0 .. n-1); needs parts <= n. */
static inline int parkit_balanced_owner(int64_t n, int parts, int64_t index) {
  int64_t base = n / parts, larger = n % parts;
  int64_t in_larger_parts = larger * (base + 1);
  if (index < in_larger_parts)
    return (int)(index / (base + 1));
  return (int)(larger + (index - in_larger_parts) / base);
}

#endif
