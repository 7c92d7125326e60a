/*
 * The GEMM engine: C = A B or C += A B for row-major doubles, in the
 * BLIS/Goto structure (the loops written once in portable C around a small
 * register-blocked micro-kernel chosen at run time).
 *
 * Loops, outermost first, for C (m x n) and A (m x k), B (k x n):
 *   jc: n in nc-column panels
 *    pc: k in kc-deep slices; the kc x nc panel of B is packed once into
 *        nr-column micro-panels, shared by all threads (they pack it
 *        together, then meet at a barrier)
 *     ic: m in mc-row blocks, split over the threads (each thread gets a
 *         balanced, mr-aligned share of the rows); each thread packs its
 *         mc x kc block of A into mr-row micro-panels in its own buffer
 *      jr: the B panel in nr-column micro-panels
 *       ir: the A block in mr-row micro-panels: one micro-kernel call
 *           updates an mr x nr tile of C over kc steps
 *
 * Cache fit (Zen 5: 48 KiB L1d, 1 MiB L2 per core, 32 MiB shared L3; the
 * virtual machine reports 32 KiB L1d, so the sizes below fit that too):
 *   kc x nr B micro-panel in L1, reused by every ir step;
 *   mc x kc A block in L2, streamed once per jr step;
 *   kc x nc B panel in L3, shared by the threads.
 * The values for each micro-kernel are in gemm.c with their arithmetic.
 *
 * Edges: packed micro-panels are zero-padded to full mr / nr, and a partial
 * tile of C is computed into a small mr x nr temporary and then added.
 *
 * Threads: parkit_gemm_multiply opens one OpenMP parallel region of
 * `threads` threads and must be called outside any parallel region. It does
 * no MPI; the optional `progress` callback is called only by the calling
 * thread (OpenMP thread 0), between A blocks, so an MPI caller initialised
 * FUNNELED may call MPI_Test there.
 */
#ifndef PARKIT_GEMM_H
#define PARKIT_GEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Micro-kernels. The values are the codes recorded in result files (the
 * `microkernel` output of matmul); PARKIT_GEMM_AUTO is only a request. */
typedef enum parkit_gemm_microkernel {
  PARKIT_GEMM_PORTABLE = 0, /* plain C, any CPU */
  PARKIT_GEMM_AVX2 = 1,     /* AVX2 + FMA intrinsics, 256-bit */
  PARKIT_GEMM_AVX512 = 2,   /* AVX-512F intrinsics, 512-bit */
  PARKIT_GEMM_AUTO = 3,     /* request: the best this CPU supports */
} parkit_gemm_microkernel;

/* True when this CPU (and OS) can run `microkernel`; AUTO always can. */
bool parkit_gemm_supported(parkit_gemm_microkernel microkernel);
/* AUTO becomes the best supported micro-kernel; others are returned as is. */
parkit_gemm_microkernel parkit_gemm_resolve(parkit_gemm_microkernel request);
/* "portable", "avx2", "avx512" or "auto". */
const char *parkit_gemm_name(parkit_gemm_microkernel microkernel);

/* The blocking of one micro-kernel, in elements. */
typedef struct parkit_gemm_blocking {
  int mr, nr;         /* micro-tile of C */
  int64_t mc, kc, nc; /* cache blocks: multiples of mr, -, nr */
} parkit_gemm_blocking;

parkit_gemm_blocking parkit_gemm_blocking_of(parkit_gemm_microkernel kernel);

/* An engine: a resolved micro-kernel, a thread count, and packing buffers
 * sized for products up to max_m x max_n x max_k. */
typedef struct parkit_gemm {
  parkit_gemm_microkernel microkernel; /* never AUTO */
  parkit_gemm_blocking blocking;
  int threads;
  double *b_pack;       /* shared kc x nc panel of B */
  double *a_pack;       /* `threads` private mc x kc blocks of A */
  size_t a_pack_stride; /* doubles from one thread's A block to the next */
} parkit_gemm;

/* Bytes parkit_gemm_init allocates for these bounds (exact):
 *   8 * (kc' * nc' + threads * mc' * kc')
 * with kc' = min(kc, max_k), nc' = min(nc, max_n rounded up to nr),
 * mc' = min(mc, max_m rounded up to mr). Not collective. */
double parkit_gemm_workspace_bytes(parkit_gemm_microkernel microkernel,
                                   int threads, int64_t max_m, int64_t max_n,
                                   int64_t max_k);

/* Resolves `microkernel` (AUTO: the best supported), checks the CPU supports
 * it, allocates the packing buffers. Returns 0, or -1 with the error recorded
 * (kernels/interface/check.h); parkit_gemm_free accepts the half-made engine.
 */
int parkit_gemm_init(parkit_gemm *gemm, parkit_gemm_microkernel microkernel,
                     int threads, int64_t max_m, int64_t max_n, int64_t max_k);
void parkit_gemm_free(parkit_gemm *gemm);

/* One product of row-major operands with leading dimensions (elements):
 * C (m x n) = A (m x k) B (k x n) when !accumulate, C += A B otherwise.
 * m, n, k must not exceed the bounds given to parkit_gemm_init (k == 0 is
 * allowed: C is zeroed or left alone). `progress(progress_argument)`, when
 * not NULL, is called by the calling thread between A blocks. Not
 * collective. */
typedef void (*parkit_gemm_progress)(void *argument);
void parkit_gemm_multiply(const parkit_gemm *gemm, int64_t m, int64_t n,
                          int64_t k, const double *a, int64_t lda,
                          const double *b, int64_t ldb, double *c, int64_t ldc,
                          bool accumulate, parkit_gemm_progress progress,
                          void *progress_argument);

#endif
