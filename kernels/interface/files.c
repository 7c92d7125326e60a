#include "files.h"

#include <fcntl.h>
#include <stdio.h>

/* Open MPI's lockedfile component: char name[256] holding
 * "<file>.locktest.<rank>" and its NUL. */
enum { OMPIO_NAME_BUFFER = 256 };
#define LOCK_TEST_SUFFIX ".locktest."

size_t parkit_mpi_io_longest_name(int ranks) {
  char highest_rank[16];
  int digits = snprintf(highest_rank, sizeof highest_rank, "%d",
                        ranks > 1 ? ranks - 1 : 0);
  return OMPIO_NAME_BUFFER - 1 - (sizeof LOCK_TEST_SUFFIX - 1) - (size_t)digits;
}

int parkit_create_exclusive(const char *path) {
  return open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
}
