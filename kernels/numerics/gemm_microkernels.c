/*
 * Register-blocked micro-kernels; the contract is in gemm_microkernels.h.
 *
 * The SIMD kernels use intrinsics inside functions compiled with a target
 * attribute, so this file builds without -march=native and the engine picks
 * a kernel at run time (gemm.c, __builtin_cpu_supports). Each keeps its
 * MR x NR tile of C in registers for the whole kc loop: per step p it loads
 * one row of the B micro-panel (NR doubles) and broadcasts the MR entries of
 * the A micro-panel's column p, one FMA per accumulator vector.
 */
#include "gemm_microkernels.h"

#include <immintrin.h>

/* ---- AVX-512 ------------------------------------------------------------ */

enum { AVX512_VECTORS = PARKIT_GEMM_AVX512_NR / 8 };

__attribute__((target("avx512f"))) void
parkit_gemm_kernel_avx512(int64_t kc, const double *restrict a,
                          const double *restrict b, double *restrict c,
                          int64_t ldc, bool accumulate) {
  enum { MR = PARKIT_GEMM_AVX512_MR, NR = PARKIT_GEMM_AVX512_NR };
  __m512d sum[MR][AVX512_VECTORS];
  /* The tile of C is read (or overwritten) only after the kc loop: ask for
   * its lines now so they arrive while the loop runs. */
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch((const char *)(c + i * ldc + NR - 1), _MM_HINT_T0);
#pragma GCC unroll 4
    for (int v = 0; v < AVX512_VECTORS; ++v)
      sum[i][v] = _mm512_setzero_pd();
  }
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    __m512d row[AVX512_VECTORS];
#pragma GCC unroll 4
    for (int v = 0; v < AVX512_VECTORS; ++v)
      row[v] = _mm512_load_pd(b + 8 * v);
      /* No software prefetch of A or B: on Zen 4 the two prefetches per step
       * cost more load slots than they saved (0.88 -> 0.92 of OpenBLAS
       * without them); the hardware prefetchers follow the packed panels. */
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      __m512d a_entry = _mm512_set1_pd(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < AVX512_VECTORS; ++v)
        sum[i][v] = _mm512_fmadd_pd(a_entry, row[v], sum[i][v]);
    }
    a += MR;
    b += NR;
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < AVX512_VECTORS; ++v) {
      double *target = c + i * ldc + 8 * v;
      __m512d value = sum[i][v];
      if (accumulate)
        value = _mm512_add_pd(value, _mm512_loadu_pd(target));
      _mm512_storeu_pd(target, value);
    }
  }
}

/* ---- AVX2 + FMA --------------------------------------------------------- */

enum { AVX2_VECTORS = PARKIT_GEMM_AVX2_NR / 4 };

__attribute__((target("avx2,fma"))) void
parkit_gemm_kernel_avx2(int64_t kc, const double *restrict a,
                        const double *restrict b, double *restrict c,
                        int64_t ldc, bool accumulate) {
  enum { MR = PARKIT_GEMM_AVX2_MR, NR = PARKIT_GEMM_AVX2_NR };
  __m256d sum[MR][AVX2_VECTORS];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch((const char *)(c + i * ldc + NR - 1), _MM_HINT_T0);
#pragma GCC unroll 4
    for (int v = 0; v < AVX2_VECTORS; ++v)
      sum[i][v] = _mm256_setzero_pd();
  }
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p) {
    __m256d row[AVX2_VECTORS];
#pragma GCC unroll 4
    for (int v = 0; v < AVX2_VECTORS; ++v)
      row[v] = _mm256_load_pd(b + 4 * v);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      __m256d a_entry = _mm256_broadcast_sd(a + i);
#pragma GCC unroll 4
      for (int v = 0; v < AVX2_VECTORS; ++v)
        sum[i][v] = _mm256_fmadd_pd(a_entry, row[v], sum[i][v]);
    }
    a += MR;
    b += NR;
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < AVX2_VECTORS; ++v) {
      double *target = c + i * ldc + 4 * v;
      __m256d value = sum[i][v];
      if (accumulate)
        value = _mm256_add_pd(value, _mm256_loadu_pd(target));
      _mm256_storeu_pd(target, value);
    }
  }
}

/* ---- portable ----------------------------------------------------------- */

void parkit_gemm_kernel_portable(int64_t kc, const double *restrict a,
                                 const double *restrict b, double *restrict c,
                                 int64_t ldc, bool accumulate) {
  enum { MR = PARKIT_GEMM_PORTABLE_MR, NR = PARKIT_GEMM_PORTABLE_NR };
  double sum[MR][NR] = {{0.0}};
  for (int64_t p = 0; p < kc; ++p) {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j)
        sum[i][j] += a[i] * b[j];
    a += MR;
    b += NR;
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j)
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum[i][j] : sum[i][j];
}
