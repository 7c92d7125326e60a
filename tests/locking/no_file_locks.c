/*
 * LD_PRELOAD shim for the locking tests: a file system without working
 * locks (NFS without lockd, some Lustre mounts), where flock() and fcntl
 * locks fail with ENOLCK. Everything else is untouched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/file.h>

int flock(int descriptor, int operation) {
  (void)descriptor;
  (void)operation;
  errno = ENOLCK;
  return -1;
}
