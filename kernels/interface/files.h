/*
 * Files that kernels and the driver create: names that MPI-IO can take, and
 * temporaries created so that no other file (and no link) is ever
 * overwritten.
 *
 * Open MPI 4.1's MPI-IO (the ompio component, its default) makes files of
 * its own from the name of every file it opens (its shared-file-pointer
 * components):
 *   "<name>.locktest.<rank>" in a 256-byte buffer: a longer name overflows
 *     it and the process aborts ("buffer overflow detected");
 *   "<name>-<job id>-<number>.lock" beside the file, and
 *     "<session dir>/<last part of name>_cid-<number>-<number>.sm": a last
 *     part that makes these longer than NAME_MAX (255) fails the open on
 *     some ranks, and the others wait for them forever.
 * parkit checks every name it will hand to MPI-IO against these limits
 * before any work, whichever MPI-IO component is in use, so the same paths
 * work everywhere.
 */
#ifndef PARKIT_FILES_H
#define PARKIT_FILES_H

#include <stddef.h>

/* The longest file name, in bytes (the name as given, not made absolute),
 * that MPI-IO may open on a communicator of `ranks` ranks. Pure. */
size_t parkit_mpi_io_longest_name(int ranks);

/* The longest last part of such a name (after its last '/'), in bytes:
 * NAME_MAX less "_cid-<int>-<int>.sm" with two 11-character integers. */
#define PARKIT_MPI_IO_LONGEST_BASENAME 224

/* Scratch files a kernel makes in ctx->scratch_dir have names of at most
 * this many bytes after the directory (the '/' included) and end in
 * ".tmp", so readers never take one for a result. The driver checks that
 * such names fit parkit_mpi_io_longest_name. */
#define PARKIT_SCRATCH_NAME_MAX 40

/* Creates `path` as a new empty regular file, mode 0666 less the umask:
 * fails (EEXIST) when anything, a link included, has that name, so no
 * existing file is ever truncated. Returns an open descriptor (close-on-
 * exec, write-only) or -1 with errno set. Not collective. */
int parkit_create_exclusive(const char *path);

#endif
