/*
 * Checks that the launcher's PMIx fences are barriers across nodes, the way
 * Open MPI's MPI_Init relies on them: a fence that collects data (the
 * modex), then one that does not (MPI_Init's closing barrier, after which a
 * rank may send to any other). One rank, --delay-rank, waits --delay-ms
 * between the two, as a rank still finishing MPI_Init does.
 *
 * Prints one line per process:
 *   rank R enter1 T leave1 T enter2 T leave2 T status S S
 * with wall-clock seconds (CLOCK_REALTIME: every simulated node shares this
 * machine's clock) and the two fences' PMIx status codes. The fences held
 * as barriers when no rank left a fence before the last rank entered it.
 *
 * Usage (under srun --mpi=pmix): fence_probe [--delay-rank R --delay-ms M]
 */
#define _POSIX_C_SOURCE 200809L
#include <pmix.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double wall_seconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}

static void sleep_ms(long milliseconds) {
  struct timespec pause = {milliseconds / 1000,
                           (milliseconds % 1000) * 1000000};
  while (nanosleep(&pause, &pause) != 0) {
  }
}

/* --delay-rank R --delay-ms M; exits 2 with a message on anything else. */
static void parse(int argc, char **argv, long *delay_rank, long *delay_ms) {
  for (int i = 1; i < argc; i += 2) {
    char *end = NULL;
    long value = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : -1;
    bool number = end != NULL && *end == '\0' && value >= 0;
    if (number && strcmp(argv[i], "--delay-rank") == 0) {
      *delay_rank = value;
    } else if (number && strcmp(argv[i], "--delay-ms") == 0) {
      *delay_ms = value;
    } else {
      fprintf(stderr,
              "fence_probe: error: bad argument '%s'; allowed: "
              "--delay-rank R --delay-ms M (integers >= 0)\n",
              argv[i]);
      exit(2);
    }
  }
}

int main(int argc, char **argv) {
  long delay_rank = -1, delay_ms = 0;
  parse(argc, argv, &delay_rank, &delay_ms);
  pmix_proc_t self;
  pmix_status_t status = PMIx_Init(&self, NULL, 0);
  if (status != PMIX_SUCCESS) {
    fprintf(stderr, "fence_probe: error: PMIx_Init: %s\n",
            PMIx_Error_string(status));
    return 1;
  }
  pmix_proc_t everyone;
  PMIX_LOAD_PROCID(&everyone, self.nspace, PMIX_RANK_WILDCARD);
  pmix_info_t collect;
  bool yes = true;
  PMIX_INFO_LOAD(&collect, PMIX_COLLECT_DATA, &yes, PMIX_BOOL);

  double enter1 = wall_seconds();
  pmix_status_t status1 = PMIx_Fence(&everyone, 1, &collect, 1);
  double leave1 = wall_seconds();
  if ((long)self.rank == delay_rank)
    sleep_ms(delay_ms);
  double enter2 = wall_seconds();
  pmix_status_t status2 = PMIx_Fence(&everyone, 1, NULL, 0);
  double leave2 = wall_seconds();

  printf("rank %u enter1 %.6f leave1 %.6f enter2 %.6f leave2 %.6f "
         "status %d %d\n",
         self.rank, enter1, leave1, enter2, leave2, (int)status1, (int)status2);
  PMIX_INFO_DESTRUCT(&collect);
  PMIx_Finalize(NULL, 0);
  return status1 == PMIX_SUCCESS && status2 == PMIX_SUCCESS ? 0 : 1;
}
