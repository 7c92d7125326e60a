/*
 * Which ranks write the result file (--writers), and the rows each of them
 * holds. With `all`, every rank opens the file (collective MPI-IO) and
 * writes its own row of each per-rank dataset. With `node-leaders`, only
 * the first rank of each node opens it: the other ranks of the node send
 * their rows (and their blocks of distributed outputs) to it over the node's
 * shared-memory communicator first, so the file system sees one client per
 * node. The file's layout is the same either way.
 */
#ifndef PARKIT_WRITERS_H
#define PARKIT_WRITERS_H

#include "outputs.h"
#include "placement.h"

#include <hdf5.h>
#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct parkit_writers {
  bool opens_file;    /* this rank opens the result file */
  MPI_Comm file_comm; /* the ranks that open it (not owned); world rank 0 is
                         rank 0 here; MPI_COMM_NULL where !opens_file */
  int file_rank;
  bool gathers;       /* node leaders gather their node's rows */
  MPI_Comm node_comm; /* not owned */
  int row_count;      /* per-rank rows this rank writes: 1 (all), the node's
                         ranks (a node leader), 0 (any other rank) */
  int *row_ranks;     /* [row_count]: the world rank of each row, ascending */
} parkit_writers;

/* `node_leaders` chooses the second kind. Collective over `world`. */
int parkit_writers_init(parkit_writers *writers, bool node_leaders,
                        const parkit_placement *placement, MPI_Comm world);
void parkit_writers_free(parkit_writers *writers);

/* Gives each writing rank the rows it writes: this rank's row of `bytes`
 * bytes becomes *rows, row_count rows in row_ranks order (malloc'd; NULL
 * where row_count is 0). Collective over the node when gathering. */
int parkit_writers_collect_rows(const parkit_writers *writers, const void *row,
                                size_t bytes, void **rows);

/* Selects in `file_space` (rows x anything) the writer's rows: the union of
 * rows row_ranks[i], all columns; none when it has no rows. */
int parkit_writers_select_rows(const parkit_writers *writers, hid_t file_space);

/* A distributed 2-D output (parkit_output_real_block) as a writer holds it:
 * the blocks of its rows' ranks selected in `file_space` (global_shape),
 * and their values in the order HDF5 walks that selection (row-major over
 * the whole array), `*values` malloc'd (NULL when `*elements` is 0). Ranks
 * that do not open the file pass a negative `file_space` and only send.
 * Collective over the node when gathering. */
int parkit_writers_collect_blocks(const parkit_writers *writers,
                                  const parkit_output *output, hid_t file_space,
                                  double **values, hsize_t *elements);

#endif
