/*
 * The micro-kernels of the GEMM engine (private to gemm.c and
 * gemm_microkernels.c).
 *
 * Contract of every micro-kernel, for its own MR x NR:
 *   a: packed A micro-panel, kc x MR: a[p * MR + i] = A(i, p), 64-byte aligned
 *   b: packed B micro-panel, kc x NR: b[p * NR + j] = B(p, j), 64-byte aligned
 *   c: the MR x NR tile of C, row-major with leading dimension ldc (any
 *      alignment); every one of its MR x NR entries is written
 *   accumulate: false: C = A B; true: C += A B
 * kc >= 0. Packed panels are zero-padded, so the kernel always computes the
 * full tile; the caller routes partial tiles through a temporary.
 */
#ifndef PARKIT_GEMM_MICROKERNELS_H
#define PARKIT_GEMM_MICROKERNELS_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*parkit_gemm_kernel_function)(int64_t kc, const double *a,
                                            const double *b, double *c,
                                            int64_t ldc, bool accumulate);

/* Micro-tile shapes. AVX-512: 6 rows x 4 zmm = 24 accumulators, enough
 * independent FMA chains for 2 pipes x 4 cycles latency (8) three times over,
 * leaving 8 of the 32 zmm registers for B and the A broadcast. Per step of k
 * it loads 4 zmm of B and broadcasts 6 entries of A for 24 FMAs; 12 x 16 (12
 * broadcasts, 2 loads) ran at 0.88-0.92 of OpenBLAS on Zen 4, 8 x 24 at 0.93,
 * 6 x 32 at 0.955-0.99 (bench/gemm.sh, quiet machine). AVX2: 6 rows x
 * 2 ymm = 12 accumulators of the 16 ymm registers. Portable: 4 x 8, small
 * enough that a compiler keeps it in registers on any 64-bit target. */
enum {
  PARKIT_GEMM_AVX512_MR = 6,
  PARKIT_GEMM_AVX512_NR = 32,
  PARKIT_GEMM_AVX2_MR = 6,
  PARKIT_GEMM_AVX2_NR = 8,
  PARKIT_GEMM_PORTABLE_MR = 4,
  PARKIT_GEMM_PORTABLE_NR = 8,
};

void parkit_gemm_kernel_avx512(int64_t kc, const double *a, const double *b,
                               double *c, int64_t ldc, bool accumulate);
void parkit_gemm_kernel_avx2(int64_t kc, const double *a, const double *b,
                             double *c, int64_t ldc, bool accumulate);
void parkit_gemm_kernel_portable(int64_t kc, const double *a, const double *b,
                                 double *c, int64_t ldc, bool accumulate);

#endif
