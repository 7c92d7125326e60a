/*
 * The GEMM engine's loops, packing and run-time micro-kernel choice; the
 * structure is described in gemm.h, the micro-kernels in
 * gemm_microkernels.c.
 */
#include "gemm.h"

#include "check.h"
#include "gemm_microkernels.h"
#include "partition.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ---- the micro-kernel table -------------------------------------------- */

typedef struct microkernel_entry {
  const char *name;
  parkit_gemm_kernel_function function;
  parkit_gemm_blocking blocking;
} microkernel_entry;

/* Cache blocks per micro-kernel (elements), for a core with 32..48 KiB L1d,
 * 1 MiB L2 and a share of a 32 MiB L3 (AMD EPYC Zen 4/5; also fits Intel
 * cores since Skylake-SP):
 *  - kc: 256, the depth of one micro-panel pass; a larger kc also means
 *    fewer read-modify-write passes over C (one per slice). The AVX-512
 *    kc x nr B micro-panel (256 x 32 x 8 B = 64 KiB) is larger than L1:
 *    measured, the 6 x 32 tile still beat 12 x 16 (32 KiB, fits L1) by
 *    4-7% on Zen 4, where the load slots, not L1 hits, were the limit.
 *  - mc: the mc x kc A block stays in L2 while the jr loop streams over it:
 *    AVX-512 192 x 256 x 8 B = 384 KiB, well inside 1 MiB with room for the
 *    B micro-panels and C tiles passing through.
 *  - nc: the kc x nc B panel lives in the shared L3: 4096 x 256 x 8 B =
 *    8 MiB, a quarter of it, so one panel covers n up to 4096 and each A
 *    block is packed once per kc slice. Wider products are cut into equal
 *    panels (see column_panel), never a full one plus a sliver.
 * On the 2-core EPYC here (Zen 4) kc in 128..512 and mc in 96..576 were
 * within 3% of each other (bench/gemm.sh; README.md has the figures). */
static const microkernel_entry microkernels[] = {
    [PARKIT_GEMM_PORTABLE] = {"portable",
                              parkit_gemm_kernel_portable,
                              {PARKIT_GEMM_PORTABLE_MR, PARKIT_GEMM_PORTABLE_NR,
                               128, 256, 4096}},
    [PARKIT_GEMM_AVX2] = {"avx2",
                          parkit_gemm_kernel_avx2,
                          {PARKIT_GEMM_AVX2_MR, PARKIT_GEMM_AVX2_NR, 192, 256,
                           4096}},
    [PARKIT_GEMM_AVX512] = {"avx512",
                            parkit_gemm_kernel_avx512,
                            {PARKIT_GEMM_AVX512_MR, PARKIT_GEMM_AVX512_NR, 192,
                             256, 4096}},
};

/* The largest micro-tile of any kernel: the edge temporary's size. */
enum { LARGEST_TILE = PARKIT_GEMM_AVX512_MR * PARKIT_GEMM_AVX512_NR };

bool parkit_gemm_supported(parkit_gemm_microkernel microkernel) {
  __builtin_cpu_init();
  switch (microkernel) {
  case PARKIT_GEMM_AVX512:
    return __builtin_cpu_supports("avx512f");
  case PARKIT_GEMM_AVX2:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  case PARKIT_GEMM_PORTABLE:
  case PARKIT_GEMM_AUTO:
    return true;
  }
  return false;
}

parkit_gemm_microkernel parkit_gemm_resolve(parkit_gemm_microkernel request) {
  if (request != PARKIT_GEMM_AUTO)
    return request;
  if (parkit_gemm_supported(PARKIT_GEMM_AVX512))
    return PARKIT_GEMM_AVX512;
  if (parkit_gemm_supported(PARKIT_GEMM_AVX2))
    return PARKIT_GEMM_AVX2;
  return PARKIT_GEMM_PORTABLE;
}

const char *parkit_gemm_name(parkit_gemm_microkernel microkernel) {
  if (microkernel == PARKIT_GEMM_AUTO)
    return "auto";
  return microkernels[microkernel].name;
}

parkit_gemm_blocking parkit_gemm_blocking_of(parkit_gemm_microkernel kernel) {
  return microkernels[parkit_gemm_resolve(kernel)].blocking;
}

/* ---- workspace ---------------------------------------------------------- */

static int64_t round_up(int64_t value, int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

static int64_t smaller(int64_t x, int64_t y) {
  return x < y ? x : y;
}

/* Doubles of the shared B panel and of one thread's A block (rounded up to
 * whole 64-byte lines so the threads' blocks never share a line). Packing
 * pads a panel to whole micro-panels, so the widths are rounded up to nr
 * (mr) after capping at nc (mc): nc need not be a multiple of nr. */
static size_t b_pack_doubles(parkit_gemm_blocking blocking, int64_t max_n,
                             int64_t max_k) {
  int64_t width =
      round_up(smaller(blocking.nc, round_up(max_n, blocking.nr)), blocking.nr);
  return (size_t)(smaller(blocking.kc, max_k) * width);
}

static size_t a_pack_doubles(parkit_gemm_blocking blocking, int64_t max_m,
                             int64_t max_k) {
  int64_t mc =
      round_up(smaller(blocking.mc, round_up(max_m, blocking.mr)), blocking.mr);
  return (size_t)round_up(mc * smaller(blocking.kc, max_k), 8);
}

double parkit_gemm_workspace_bytes(parkit_gemm_microkernel microkernel,
                                   int threads, int64_t max_m, int64_t max_n,
                                   int64_t max_k) {
  parkit_gemm_blocking blocking = parkit_gemm_blocking_of(microkernel);
  return sizeof(double) *
         ((double)b_pack_doubles(blocking, max_n, max_k) +
          (double)threads * (double)a_pack_doubles(blocking, max_m, max_k));
}

int parkit_gemm_init(parkit_gemm *gemm, parkit_gemm_microkernel microkernel,
                     int threads, int64_t max_m, int64_t max_n, int64_t max_k) {
  memset(gemm, 0, sizeof *gemm);
  PARKIT_CHECK(parkit_gemm_supported(microkernel),
               "this CPU cannot run the %s GEMM micro-kernel",
               parkit_gemm_name(microkernel));
  PARKIT_CHECK(threads >= 1 && max_m >= 1 && max_n >= 1 && max_k >= 1,
               "GEMM bounds must be positive");
  gemm->microkernel = parkit_gemm_resolve(microkernel);
  gemm->blocking = microkernels[gemm->microkernel].blocking;
  gemm->threads = threads;
  gemm->a_pack_stride = a_pack_doubles(gemm->blocking, max_m, max_k);
  PARKIT_ALLOCATE(gemm->b_pack, b_pack_doubles(gemm->blocking, max_n, max_k));
  PARKIT_ALLOCATE(gemm->a_pack, (size_t)threads * gemm->a_pack_stride);
  return 0;
}

void parkit_gemm_free(parkit_gemm *gemm) {
  free(gemm->b_pack);
  free(gemm->a_pack);
  gemm->b_pack = gemm->a_pack = NULL;
}

/* ---- packing ------------------------------------------------------------ */

/* Rows [0, rows) x columns [0, depth) of A (leading dimension lda) into
 * mr-row micro-panels: panel r holds a[p * mr + i] = A(r mr + i, p), rows
 * past the end zero. */
static void pack_a_block(const double *a, int64_t lda, int64_t rows,
                         int64_t depth, int mr, double *packed) {
  for (int64_t first = 0; first < rows; first += mr) {
    int64_t height = smaller(mr, rows - first);
    for (int64_t i = 0; i < height; ++i) {
      const double *source = a + (first + i) * lda;
      for (int64_t p = 0; p < depth; ++p)
        packed[p * mr + i] = source[p];
    }
    for (int64_t i = height; i < mr; ++i)
      for (int64_t p = 0; p < depth; ++p)
        packed[p * mr + i] = 0.0;
    packed += mr * depth;
  }
}

/* Columns [first, first + nr) of rows [0, depth) of B into one micro-panel
 * b[p * nr + j], columns past `columns` zero. */
static void pack_b_micropanel(const double *b, int64_t ldb, int64_t columns,
                              int64_t depth, int64_t first, int nr,
                              double *packed) {
  int64_t width = smaller(nr, columns - first);
  for (int64_t p = 0; p < depth; ++p) {
    const double *source = b + p * ldb + first;
    double *target = packed + p * nr;
    for (int64_t j = 0; j < width; ++j)
      target[j] = source[j];
    for (int64_t j = width; j < nr; ++j)
      target[j] = 0.0;
  }
}

/* ---- the macro-kernel --------------------------------------------------- */

/* One packed A block (rows x depth) times the packed B panel (depth x
 * columns) into C: the jr and ir loops around the micro-kernel. */
typedef struct block_product {
  const microkernel_entry *kernel;
  int64_t rows, columns, depth;
  const double *a_pack, *b_pack;
  double *c;
  int64_t ldc;
  bool accumulate;
} block_product;

static void add_edge_tile(const double *tile, int nr, int64_t rows,
                          int64_t columns, double *c, int64_t ldc,
                          bool accumulate) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < columns; ++j)
      c[i * ldc + j] =
          accumulate ? c[i * ldc + j] + tile[i * nr + j] : tile[i * nr + j];
}

static void multiply_block(const block_product *product) {
  const int mr = product->kernel->blocking.mr;
  const int nr = product->kernel->blocking.nr;
  const int64_t depth = product->depth;
  _Alignas(64) double tile[LARGEST_TILE];
  for (int64_t jr = 0; jr < product->columns; jr += nr) {
    const double *b_panel = product->b_pack + jr * depth;
    int64_t width = smaller(nr, product->columns - jr);
    for (int64_t ir = 0; ir < product->rows; ir += mr) {
      const double *a_panel = product->a_pack + ir * depth;
      int64_t height = smaller(mr, product->rows - ir);
      double *c = product->c + ir * product->ldc + jr;
      if (height == mr && width == nr) {
        product->kernel->function(depth, a_panel, b_panel, c, product->ldc,
                                  product->accumulate);
      } else {
        product->kernel->function(depth, a_panel, b_panel, tile, nr, false);
        add_edge_tile(tile, nr, height, width, c, product->ldc,
                      product->accumulate);
      }
    }
  }
}

/* ---- the loops ------------------------------------------------------------
 */

typedef struct gemm_call {
  const parkit_gemm *gemm;
  int64_t m, n, k;
  const double *a;
  int64_t lda;
  const double *b;
  int64_t ldb;
  double *c;
  int64_t ldc;
  bool accumulate;
  parkit_gemm_progress progress;
  void *progress_argument;
} gemm_call;

/* Packs the depth x columns slice of B at (pc, jc) into the shared panel,
 * the micro-panels split over the team; ends with the team's barrier. */
static void pack_b_panel_together(const gemm_call *call, int64_t pc, int64_t jc,
                                  int64_t depth, int64_t columns) {
  const int nr = call->gemm->blocking.nr;
  const double *b = call->b + pc * call->ldb + jc;
  int64_t panels = (columns + nr - 1) / nr;
#pragma omp for schedule(static)
  for (int64_t panel = 0; panel < panels; ++panel)
    pack_b_micropanel(b, call->ldb, columns, depth, panel * nr, nr,
                      call->gemm->b_pack + panel * nr * depth);
}

/* This thread's share of C's rows: a balanced split of the mr-row tiles. */
static parkit_range thread_rows(const gemm_call *call) {
  const int mr = call->gemm->blocking.mr;
  int64_t tiles = (call->m + mr - 1) / mr;
  parkit_range share =
      parkit_balanced_part(tiles, omp_get_num_threads(), omp_get_thread_num());
  share.begin *= mr;
  share.end = smaller(share.end * mr, call->m);
  return share;
}

/* The width of the column panels: n cut into as few panels of at most nc
 * columns as possible, all equally wide (rounded up to whole nr). */
static int64_t column_panel(int64_t n, parkit_gemm_blocking blocking) {
  int64_t panels = (n + blocking.nc - 1) / blocking.nc;
  return smaller(blocking.nc, round_up((n + panels - 1) / panels, blocking.nr));
}

static void multiply_team(const gemm_call *call) {
  const parkit_gemm *gemm = call->gemm;
  const parkit_gemm_blocking blocking = gemm->blocking;
  const microkernel_entry *kernel = &microkernels[gemm->microkernel];
  double *a_pack =
      gemm->a_pack + (size_t)omp_get_thread_num() * gemm->a_pack_stride;
  const bool calls_mpi = omp_get_thread_num() == 0 && call->progress != NULL;
  parkit_range rows = thread_rows(call);
  const int64_t panel_width = column_panel(call->n, blocking);
  for (int64_t jc = 0; jc < call->n; jc += panel_width) {
    int64_t columns = smaller(panel_width, call->n - jc);
    for (int64_t pc = 0; pc < call->k; pc += blocking.kc) {
      int64_t depth = smaller(blocking.kc, call->k - pc);
      pack_b_panel_together(call, pc, jc, depth, columns);
      for (int64_t ic = rows.begin; ic < rows.end; ic += blocking.mc) {
        int64_t height = smaller(blocking.mc, rows.end - ic);
        pack_a_block(call->a + ic * call->lda + pc, call->lda, height, depth,
                     blocking.mr, a_pack);
        block_product product = {
            .kernel = kernel,
            .rows = height,
            .columns = columns,
            .depth = depth,
            .a_pack = a_pack,
            .b_pack = gemm->b_pack,
            .c = call->c + ic * call->ldc + jc,
            .ldc = call->ldc,
            .accumulate = call->accumulate || pc > 0,
        };
        multiply_block(&product);
        if (calls_mpi)
          call->progress(call->progress_argument);
      }
      /* Nobody repacks the shared B panel while another thread reads it. */
#pragma omp barrier
    }
  }
}

static void zero_matrix(int64_t m, int64_t n, double *c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i)
    memset(c + i * ldc, 0, sizeof(double) * (size_t)n);
}

void parkit_gemm_multiply(const parkit_gemm *gemm, int64_t m, int64_t n,
                          int64_t k, const double *a, int64_t lda,
                          const double *b, int64_t ldb, double *c, int64_t ldc,
                          bool accumulate, parkit_gemm_progress progress,
                          void *progress_argument) {
  if (m <= 0 || n <= 0)
    return;
  if (k <= 0) {
    if (!accumulate)
      zero_matrix(m, n, c, ldc);
    return;
  }
  gemm_call call = {.gemm = gemm,
                    .m = m,
                    .n = n,
                    .k = k,
                    .a = a,
                    .lda = lda,
                    .b = b,
                    .ldb = ldb,
                    .c = c,
                    .ldc = ldc,
                    .accumulate = accumulate,
                    .progress = progress,
                    .progress_argument = progress_argument};
#pragma omp parallel num_threads(gemm->threads)
  multiply_team(&call);
}
