/*
 * gemm_bench: parkit's GEMM engine (kernels/numerics/gemm.h) against OpenBLAS
 * cblas_dgemm, side by side in one process.
 *
 * For every size n and thread count T: C = A B with n x n row-major doubles
 * (leading dimension n, as a user would call it), one untimed warm-up each,
 * then `reps` timed repetitions alternating the two libraries (which goes
 * first alternates too). Prints the median and best GFLOP/s (2 n^3 flops)
 * of each and the ratio of the medians, parkit / OpenBLAS. Each C is checked
 * against the other: |C_parkit - C_openblas| <= 4 n eps (|A| |B|) entrywise,
 * the sum of both rounding bounds; a failure makes the exit status 1.
 *
 * Usage: gemm_bench [--sizes 1024,2048,4096] [--threads 1,2] [--reps 5]
 *                   [--microkernel auto|avx512|avx2|portable]
 * Run it through bench/gemm.sh, which unsets OPENBLAS_CORETYPE and
 * OPENBLAS_L2_SIZE so OpenBLAS picks its kernel for this CPU.
 */
#include "gemm.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_LIST = 16 };

typedef struct bench_options {
  long sizes[MAX_LIST];
  int size_count;
  long threads[MAX_LIST];
  int thread_count;
  int reps;
  parkit_gemm_microkernel microkernel;
} bench_options;

/* "a,b,c" of positive integers into list; returns the count or -1. */
static int parse_list(const char *text, long *list) {
  int count = 0;
  const char *cursor = text;
  while (*cursor != '\0' && count < MAX_LIST) {
    char *end = NULL;
    long value = strtol(cursor, &end, 10);
    if (end == cursor || value <= 0 || (*end != ',' && *end != '\0'))
      return -1;
    list[count++] = value;
    cursor = *end == ',' ? end + 1 : end;
  }
  return *cursor == '\0' && count > 0 ? count : -1;
}

static int parse_microkernel(const char *text, parkit_gemm_microkernel *kind) {
  const parkit_gemm_microkernel all[] = {PARKIT_GEMM_AUTO, PARKIT_GEMM_AVX512,
                                         PARKIT_GEMM_AVX2,
                                         PARKIT_GEMM_PORTABLE};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
    if (strcmp(text, parkit_gemm_name(all[i])) == 0) {
      *kind = all[i];
      return 0;
    }
  return -1;
}

static int parse_options(int argc, char **argv, bench_options *options) {
  *options = (bench_options){.sizes = {1024, 2048, 4096},
                             .size_count = 3,
                             .threads = {1, 2},
                             .thread_count = 2,
                             .reps = 5,
                             .microkernel = PARKIT_GEMM_AUTO};
  for (int i = 1; i < argc; i += 2) {
    const char *name = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = value == NULL;
    if (!bad && strcmp(name, "--sizes") == 0)
      bad = (options->size_count = parse_list(value, options->sizes)) < 0;
    else if (!bad && strcmp(name, "--threads") == 0)
      bad = (options->thread_count = parse_list(value, options->threads)) < 0;
    else if (!bad && strcmp(name, "--reps") == 0)
      bad = (options->reps = atoi(value)) < 1;
    else if (!bad && strcmp(name, "--microkernel") == 0)
      bad = parse_microkernel(value, &options->microkernel) != 0 ||
            !parkit_gemm_supported(options->microkernel);
    else
      bad = 1;
    if (bad) {
      fprintf(stderr,
              "gemm_bench: error: bad option '%s %s'; usage: gemm_bench "
              "[--sizes N,N..] [--threads T,T..] [--reps R>=1] "
              "[--microkernel auto|avx512|avx2|portable (supported here)]\n",
              name, value != NULL ? value : "");
      return -1;
    }
  }
  return 0;
}

/* ---- matrices ----------------------------------------------------------- */

/* Uniform in [-1, 1) from a fixed linear congruential stream. */
static void fill_random(double *matrix, size_t count, uint64_t seed) {
  uint64_t state = seed * 0x9e3779b97f4a7c15u + 1;
  for (size_t i = 0; i < count; ++i) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    matrix[i] = (double)(state >> 11) * 0x1p-52 - 1.0;
  }
}

typedef struct problem {
  long n;
  double *a, *b, *c_parkit, *c_openblas;
} problem;

static int make_problem(long n, problem *p) {
  size_t count = (size_t)n * (size_t)n;
  /* aligned_alloc wants a whole number of alignments. */
  size_t bytes = (sizeof(double) * count + 63) / 64 * 64;
  p->n = n;
  p->a = aligned_alloc(64, bytes);
  p->b = aligned_alloc(64, bytes);
  p->c_parkit = aligned_alloc(64, bytes);
  p->c_openblas = aligned_alloc(64, bytes);
  if (!p->a || !p->b || !p->c_parkit || !p->c_openblas)
    return -1;
  fill_random(p->a, count, 1);
  fill_random(p->b, count, 2);
  memset(p->c_parkit, 0, bytes);
  memset(p->c_openblas, 0, bytes);
  return 0;
}

static void free_problem(problem *p) {
  free(p->a);
  free(p->b);
  free(p->c_parkit);
  free(p->c_openblas);
}

/* ---- timing ---------------------------------------------------------------
 */

static void run_openblas(const problem *p) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->n, (int)p->n,
              (int)p->n, 1.0, p->a, (int)p->n, p->b, (int)p->n, 0.0,
              p->c_openblas, (int)p->n);
}

static void run_parkit(const parkit_gemm *gemm, const problem *p) {
  parkit_gemm_multiply(gemm, p->n, p->n, p->n, p->a, p->n, p->b, p->n,
                       p->c_parkit, p->n, false, NULL, NULL);
}

/* OpenBLAS's pthread workers spin a while after a call, and OpenMP's do
 * too: let both go idle so neither library pays for the other. */
static void settle(void) {
  struct timespec pause = {0, 100 * 1000 * 1000};
  nanosleep(&pause, NULL);
}

static int compare_doubles(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* ---- verification ---------------------------------------------------------
 */

/* Max over entries of |C_parkit - C_openblas| / (|A||B|), and whether every
 * entry is within 4 n eps of it. |A||B| comes from OpenBLAS too. */
static int verify(const problem *p, double *worst) {
  size_t count = (size_t)p->n * (size_t)p->n;
  double *abs_a = malloc(sizeof(double) * count);
  double *abs_b = malloc(sizeof(double) * count);
  double *bound = malloc(sizeof(double) * count);
  if (!abs_a || !abs_b || !bound) {
    free(abs_a);
    free(abs_b);
    free(bound);
    return -1;
  }
  for (size_t i = 0; i < count; ++i) {
    abs_a[i] = fabs(p->a[i]);
    abs_b[i] = fabs(p->b[i]);
  }
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)p->n, (int)p->n,
              (int)p->n, 1.0, abs_a, (int)p->n, abs_b, (int)p->n, 0.0, bound,
              (int)p->n);
  const double tolerance = 4.0 * (double)p->n * DBL_EPSILON;
  int passed = 1;
  *worst = 0.0;
  for (size_t i = 0; i < count; ++i) {
    double difference = fabs(p->c_parkit[i] - p->c_openblas[i]);
    if (!(difference <= tolerance * bound[i]))
      passed = 0;
    double scaled = difference == 0.0 ? 0.0 : difference / bound[i];
    if (!(scaled <= *worst))
      *worst = scaled;
  }
  free(abs_a);
  free(abs_b);
  free(bound);
  return passed ? 0 : 1;
}

/* ---- one size x threads ------------------------------------------------- */

typedef struct measurement {
  double parkit_median, parkit_best, openblas_median, openblas_best;
  double worst;
  int verified;
} measurement;

static int measure(const bench_options *options, long n, int threads,
                   measurement *result) {
  problem p;
  parkit_gemm gemm;
  if (make_problem(n, &p) != 0 ||
      parkit_gemm_init(&gemm, options->microkernel, threads, n, n, n) != 0) {
    fprintf(stderr, "gemm_bench: error: cannot allocate n = %ld\n", n);
    return -1;
  }
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
  double *parkit_times = malloc(sizeof(double) * (size_t)options->reps);
  double *openblas_times = malloc(sizeof(double) * (size_t)options->reps);
  run_openblas(&p);
  settle();
  run_parkit(&gemm, &p);
  for (int rep = 0; rep < options->reps; ++rep) {
    for (int turn = 0; turn < 2; ++turn) {
      bool parkit_turn = (turn == 0) == (rep % 2 == 0);
      settle();
      double start = omp_get_wtime();
      if (parkit_turn)
        run_parkit(&gemm, &p);
      else
        run_openblas(&p);
      double seconds = omp_get_wtime() - start;
      (parkit_turn ? parkit_times : openblas_times)[rep] = seconds;
    }
  }
  qsort(parkit_times, (size_t)options->reps, sizeof(double), compare_doubles);
  qsort(openblas_times, (size_t)options->reps, sizeof(double), compare_doubles);
  double flops = 2.0 * (double)n * (double)n * (double)n * 1e-9;
  int middle = options->reps / 2;
  result->parkit_median = flops / parkit_times[middle];
  result->parkit_best = flops / parkit_times[0];
  result->openblas_median = flops / openblas_times[middle];
  result->openblas_best = flops / openblas_times[0];
  result->verified = verify(&p, &result->worst) == 0;
  free(parkit_times);
  free(openblas_times);
  parkit_gemm_free(&gemm);
  free_problem(&p);
  return 0;
}

int main(int argc, char **argv) {
  bench_options options;
  if (parse_options(argc, argv, &options) != 0)
    return 2;
  parkit_gemm_microkernel microkernel =
      parkit_gemm_resolve(options.microkernel);
  parkit_gemm_blocking blocking = parkit_gemm_blocking_of(microkernel);
  printf("OpenBLAS core: %s\nOpenBLAS config: %s\n", openblas_get_corename(),
         openblas_get_config());
  printf("parkit micro-kernel: %s (mr %d, nr %d, mc %lld, kc %lld, nc %lld)\n",
         parkit_gemm_name(microkernel), blocking.mr, blocking.nr,
         (long long)blocking.mc, (long long)blocking.kc,
         (long long)blocking.nc);
  printf("GFLOP/s, median (best) of %d alternating repetitions; ratio of "
         "medians\n",
         options.reps);
  printf("%6s %7s %16s %16s %8s %9s %s\n", "n", "threads", "parkit", "openblas",
         "ratio", "max_diff", "verified");
  int failures = 0;
  for (int s = 0; s < options.size_count; ++s)
    for (int t = 0; t < options.thread_count; ++t) {
      measurement result = {0};
      if (measure(&options, options.sizes[s], (int)options.threads[t],
                  &result) != 0)
        return 1;
      printf("%6ld %7ld %7.1f (%6.1f) %7.1f (%6.1f) %8.3f %9.2g %s\n",
             options.sizes[s], options.threads[t], result.parkit_median,
             result.parkit_best, result.openblas_median, result.openblas_best,
             result.parkit_median / result.openblas_median, result.worst,
             result.verified ? "yes" : "NO");
      fflush(stdout);
      failures += !result.verified;
    }
  return failures == 0 ? 0 : 1;
}
