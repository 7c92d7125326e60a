#include "writers.h"

#include "check.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

int parkit_writers_init(parkit_writers *writers, bool node_leaders,
                        const parkit_placement *placement, MPI_Comm world) {
  memset(writers, 0, sizeof *writers);
  writers->file_comm = MPI_COMM_NULL;
  writers->node_comm = placement->node_comm;
  writers->gathers = node_leaders && placement->node_size > 1;
  bool leader = placement->node_rank == 0;
  writers->opens_file = !node_leaders || leader;
  if (writers->opens_file)
    writers->file_comm = node_leaders ? placement->leaders_comm : world;
  if (writers->opens_file)
    PARKIT_MPI_CALL(MPI_Comm_rank(writers->file_comm, &writers->file_rank));
  int world_rank = 0;
  PARKIT_MPI_CALL(MPI_Comm_rank(world, &world_rank));
  writers->row_count = !writers->opens_file ? 0
                       : writers->gathers   ? placement->node_size
                                            : 1;
  PARKIT_ALLOCATE(writers->row_ranks,
                  writers->row_count ? writers->row_count : 1);
  /* The node's ranks in node-rank order, which is world-rank order: the
   * node communicator was split with the world rank as key. */
  if (writers->gathers)
    PARKIT_MPI_CALL(MPI_Gather(&world_rank, 1, MPI_INT, writers->row_ranks, 1,
                               MPI_INT, 0, writers->node_comm));
  else
    writers->row_ranks[0] = world_rank;
  return 0;
}

void parkit_writers_free(parkit_writers *writers) {
  free(writers->row_ranks);
  writers->row_ranks = NULL;
}

int parkit_writers_collect_rows(const parkit_writers *writers, const void *row,
                                size_t bytes, void **rows) {
  *rows = NULL;
  PARKIT_CHECK(bytes <= INT_MAX, "a per-rank row of %zu bytes is too long",
               bytes);
  char *buffer = NULL;
  if (writers->row_count > 0)
    PARKIT_ALLOCATE(buffer, (size_t)writers->row_count * (bytes ? bytes : 1));
  if (writers->gathers) {
    int gathered = MPI_Gather(row, (int)bytes, MPI_BYTE, buffer, (int)bytes,
                              MPI_BYTE, 0, writers->node_comm);
    if (gathered != MPI_SUCCESS)
      free(buffer);
    PARKIT_MPI_CALL(gathered);
  } else if (buffer != NULL) {
    memcpy(buffer, row, bytes);
  }
  *rows = buffer;
  return 0;
}

int parkit_writers_select_rows(const parkit_writers *writers,
                               hid_t file_space) {
  hsize_t dims[2] = {0, 1};
  int rank = H5Sget_simple_extent_ndims(file_space);
  PARKIT_CHECK(rank == 1 || rank == 2, "a per-rank dataset of rank %d", rank);
  PARKIT_H5_CALL(H5Sget_simple_extent_dims(file_space, dims, NULL));
  if (writers->row_count == 0)
    return H5Sselect_none(file_space) < 0 ? -1 : 0;
  for (int i = 0; i < writers->row_count; ++i) {
    hsize_t start[2] = {(hsize_t)writers->row_ranks[i], 0};
    hsize_t count[2] = {1, rank == 2 ? dims[1] : 1};
    PARKIT_H5_CALL(H5Sselect_hyperslab(file_space,
                                       i ? H5S_SELECT_OR : H5S_SELECT_SET,
                                       start, NULL, count, NULL));
  }
  return 0;
}

/* One rank's block: rows [offset[0], +count[0]), columns likewise. */
typedef struct rank_block {
  int64_t offset[2], count[2];
  const double *values; /* count[0] x count[1], row-major */
} rank_block;

static int by_first_column(const void *a, const void *b) {
  const rank_block *left = a, *right = b;
  return (left->offset[1] > right->offset[1]) -
         (left->offset[1] < right->offset[1]);
}

/* The blocks' values in row-major order of the whole array, which is the
 * order HDF5 walks a union of hyperslabs in: row by row, and within a row
 * the blocks from left to right. The blocks are disjoint. */
static void pack_in_file_order(rank_block *blocks, int count, double *packed) {
  qsort(blocks, (size_t)count, sizeof *blocks, by_first_column);
  int64_t first_row = INT64_MAX, end_row = 0;
  for (int b = 0; b < count; ++b) {
    if (blocks[b].count[0] * blocks[b].count[1] == 0)
      continue;
    if (blocks[b].offset[0] < first_row)
      first_row = blocks[b].offset[0];
    if (blocks[b].offset[0] + blocks[b].count[0] > end_row)
      end_row = blocks[b].offset[0] + blocks[b].count[0];
  }
  size_t used = 0;
  for (int64_t row = first_row; row < end_row; ++row)
    for (int b = 0; b < count; ++b) {
      const rank_block *here = &blocks[b];
      int64_t local = row - here->offset[0];
      if (local < 0 || local >= here->count[0] || here->count[1] == 0)
        continue;
      memcpy(packed + used, here->values + local * here->count[1],
             (size_t)here->count[1] * sizeof *packed);
      used += (size_t)here->count[1];
    }
}

static int select_blocks(const rank_block *blocks, int count,
                         hid_t file_space) {
  PARKIT_H5_CALL(H5Sselect_none(file_space));
  for (int b = 0; b < count; ++b) {
    if (blocks[b].count[0] * blocks[b].count[1] == 0)
      continue;
    hsize_t start[2] = {(hsize_t)blocks[b].offset[0],
                        (hsize_t)blocks[b].offset[1]};
    hsize_t extent[2] = {(hsize_t)blocks[b].count[0],
                         (hsize_t)blocks[b].count[1]};
    PARKIT_H5_CALL(H5Sselect_hyperslab(file_space, H5S_SELECT_OR, start, NULL,
                                       extent, NULL));
  }
  return 0;
}

/* The node's blocks on its leader: shapes by MPI_Gather, values by
 * MPI_Gatherv into `all` (malloc'd), blocks[] pointing into it. */
static int gather_blocks(const parkit_writers *writers,
                         const parkit_output *output, rank_block *blocks,
                         double **all) {
  int64_t shape[4] = {output->block_offset[0], output->block_offset[1],
                      output->block_count[0], output->block_count[1]};
  int ranks = writers->row_count;
  int64_t *shapes = NULL;
  int *counts = NULL, *displacements = NULL;
  if (ranks > 0) {
    PARKIT_ALLOCATE(shapes, 4 * (size_t)ranks);
    PARKIT_ALLOCATE(counts, (size_t)ranks);
    PARKIT_ALLOCATE(displacements, (size_t)ranks);
  }
  PARKIT_MPI_CALL(MPI_Gather(shape, 4, MPI_INT64_T, shapes, 4, MPI_INT64_T, 0,
                             writers->node_comm));
  int64_t total = 0;
  for (int r = 0; r < ranks; ++r) {
    int64_t elements = shapes[4 * r + 2] * shapes[4 * r + 3];
    PARKIT_CHECK(elements <= INT_MAX && total <= INT_MAX,
                 "output %s: a node's blocks exceed %d values; use --writers "
                 "all",
                 output->name, INT_MAX);
    counts[r] = (int)elements;
    displacements[r] = (int)total;
    total += elements;
  }
  if (ranks > 0)
    PARKIT_ALLOCATE(*all, total ? (size_t)total : 1);
  int mine = (int)(output->block_count[0] * output->block_count[1]);
  PARKIT_MPI_CALL(MPI_Gatherv(output->reals, mine, MPI_DOUBLE, *all, counts,
                              displacements, MPI_DOUBLE, 0,
                              writers->node_comm));
  for (int r = 0; r < ranks; ++r)
    blocks[r] = (rank_block){{shapes[4 * r], shapes[4 * r + 1]},
                             {shapes[4 * r + 2], shapes[4 * r + 3]},
                             *all + displacements[r]};
  free(shapes);
  free(counts);
  free(displacements);
  return 0;
}

int parkit_writers_collect_blocks(const parkit_writers *writers,
                                  const parkit_output *output, hid_t file_space,
                                  double **values, hsize_t *elements) {
  *values = NULL;
  *elements = 0;
  int count = writers->row_count;
  rank_block *blocks = NULL;
  double *gathered = NULL;
  PARKIT_ALLOCATE(blocks, count ? (size_t)count : 1);
  if (writers->gathers) {
    if (gather_blocks(writers, output, blocks, &gathered) != 0) {
      free(blocks);
      free(gathered);
      return -1;
    }
  } else if (count == 1) {
    blocks[0] = (rank_block){{output->block_offset[0], output->block_offset[1]},
                             {output->block_count[0], output->block_count[1]},
                             output->reals};
  }
  for (int b = 0; b < count; ++b)
    *elements += (hsize_t)(blocks[b].count[0] * blocks[b].count[1]);
  int status = file_space < 0 ? 0 : select_blocks(blocks, count, file_space);
  if (status == 0 && *elements > 0) {
    *values = malloc(*elements * sizeof **values);
    if (*values == NULL)
      status = -1;
    else
      pack_in_file_order(blocks, count, *values);
  }
  free(blocks);
  free(gathered);
  PARKIT_CHECK(status == 0, "cannot select or pack the blocks of output %s",
               output->name);
  return 0;
}
