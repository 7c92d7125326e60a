#include "agreement.h"

#include "check.h"
#include "options.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A growing text of one line per part of the command. */
typedef struct canonical_text {
  char *text;
  size_t length, capacity;
  bool failed;
} canonical_text;

static void append_line(canonical_text *canonical, const char *name,
                        const char *value) {
  size_t needed = strlen(name) + strlen(value) + 3;
  if (canonical->failed)
    return;
  if (canonical->length + needed > canonical->capacity) {
    size_t capacity = 2 * (canonical->length + needed) + 256;
    char *text = realloc(canonical->text, capacity);
    if (text == NULL) {
      canonical->failed = true;
      return;
    }
    canonical->text = text;
    canonical->capacity = capacity;
  }
  canonical->length += (size_t)snprintf(canonical->text + canonical->length,
                                        canonical->capacity - canonical->length,
                                        "%s %s\n", name, value);
}

/* One option as a user would type it: "--seed" and "42". */
static void append_option(canonical_text *canonical,
                          const parkit_option *option,
                          const parkit_value *value) {
  char name[80], text[64];
  const char *shown = text;
  snprintf(name, sizeof name, "--%s", option->name);
  if (!value->is_set && option->default_value == NULL)
    shown = "(not given)";
  else if (option->type == PARKIT_OPTION_FLAG)
    shown = value->flag ? "(given)" : "(not given)";
  else if (option->type == PARKIT_OPTION_TEXT) /* any length */
    shown = value->text ? value->text : "";
  else
    parkit_option_value_text(option, value, text, sizeof text);
  append_line(canonical, name, shown);
}

/* The command as lines "mode ranks", "kernel matmul", "--n 211", ...:
 * every option of the common table and the kernel's, in table order.
 * Values may hold any byte but '\0'; a newline inside one only shifts the
 * lines of both ranks alike. */
static canonical_text canonical_command(const parkit_command *command) {
  canonical_text canonical = {0};
  append_line(&canonical, "mode", parkit_mode_name(command->mode));
  append_line(&canonical, "kernel", command->kernel->name);
  for (int i = 0; i < PARKIT_COMMON_COUNT; ++i)
    append_option(&canonical, &parkit_common_options[i], &command->common[i]);
  for (int i = 0; i < command->kernel->option_count; ++i)
    append_option(&canonical, &command->kernel->options[i],
                  &command->options[i]);
  return canonical;
}

/* FNV-1a, 64 bits. */
static uint64_t hash_text(const char *text, size_t length) {
  uint64_t hash = 0xcbf29ce484222325u;
  for (size_t i = 0; i < length; ++i) {
    hash ^= (unsigned char)text[i];
    hash *= 0x100000001b3u;
  }
  return hash;
}

/* Control characters of user input would break the one-line message. */
static void make_printable(char *text) {
  for (unsigned char *c = (unsigned char *)text; *c; ++c)
    if (*c < 0x20 || *c == 0x7f)
      *c = '?';
}

/* Names the first line where `mine` (rank 0's) and `theirs` differ. */
static void describe_difference(const char *mine, const char *theirs,
                                int other_rank, char *message, size_t size) {
  while (*mine && *theirs) {
    size_t mine_length = strcspn(mine, "\n"),
           their_length = strcspn(theirs, "\n");
    if (mine_length != their_length || memcmp(mine, theirs, mine_length) != 0) {
      snprintf(message, size,
               "the ranks were launched with different commands: rank 0 has "
               "%.*s, rank %d has %.*s; every rank must run the same parkit "
               "command (check the parts of an mpirun ':' command line)",
               (int)(mine_length < 300 ? mine_length : 300), mine, other_rank,
               (int)(their_length < 300 ? their_length : 300), theirs);
      make_printable(message);
      return;
    }
    mine += mine_length + (mine[mine_length] == '\n');
    theirs += their_length + (theirs[their_length] == '\n');
  }
  snprintf(message, size,
           "the ranks were launched with different commands: rank 0 and "
           "rank %d differ; every rank must run the same parkit command",
           other_rank);
}

/* Rank `first` sends its canonical text to rank 0 (allocated there, in
 * *theirs). Collective over the two. */
static int fetch_text(const canonical_text *canonical, int first, int rank,
                      MPI_Comm world, char **theirs) {
  long length = (long)canonical->length;
  PARKIT_MPI_CALL(MPI_Bcast(&length, 1, MPI_LONG, first, world));
  if (rank == first)
    PARKIT_MPI_CALL(
        MPI_Send(canonical->text, (int)length, MPI_CHAR, 0, 0, world));
  if (rank == 0) {
    PARKIT_ALLOCATE(*theirs, (size_t)length + 1);
    (*theirs)[length] = '\0';
    PARKIT_MPI_CALL(MPI_Recv(*theirs, (int)length, MPI_CHAR, first, 0, world,
                             MPI_STATUS_IGNORE));
  }
  return 0;
}

/* The lowest rank whose command differs from rank 0's sends it to rank 0,
 * which writes the message. Collective. */
static int explain(const canonical_text *canonical, uint64_t hash,
                   MPI_Comm world, char *message, size_t size) {
  int rank = 0, ranks = 1;
  PARKIT_MPI_CALL(MPI_Comm_rank(world, &rank));
  PARKIT_MPI_CALL(MPI_Comm_size(world, &ranks));
  uint64_t root_hash = hash;
  PARKIT_MPI_CALL(MPI_Bcast(&root_hash, 1, MPI_UINT64_T, 0, world));
  int candidate = hash != root_hash || canonical->failed ? rank : ranks;
  int first = ranks;
  PARKIT_MPI_CALL(
      MPI_Allreduce(&candidate, &first, 1, MPI_INT, MPI_MIN, world));
  char *theirs = NULL;
  bool comparable = first > 0 && first < ranks;
  if (comparable && !canonical->failed &&
      fetch_text(canonical, first, rank, world, &theirs) != 0) {
    free(theirs);
    return -1;
  }
  if (rank == 0 && theirs != NULL)
    describe_difference(canonical->text, theirs, first, message, size);
  else if (rank == 0)
    snprintf(message, size, "out of memory comparing the ranks' commands");
  free(theirs);
  return 0;
}

int parkit_command_agree(const parkit_command *command, MPI_Comm world,
                         char *message, size_t size) {
  canonical_text canonical = canonical_command(command);
  uint64_t hash =
      canonical.failed ? 0 : hash_text(canonical.text, canonical.length);
  /* The largest hash, the smallest (as the largest complement), and
   * whether any rank ran out of memory. */
  uint64_t mine[3] = {hash, ~hash, canonical.failed}, most[3] = {0, 0, 0};
  int status = 0;
  if (MPI_Allreduce(mine, most, 3, MPI_UINT64_T, MPI_MAX, world) !=
      MPI_SUCCESS) {
    snprintf(message, size, "cannot compare the ranks' commands (MPI error)");
    status = -1;
  } else if (most[0] != ~most[1] || most[2] != 0) {
    if (explain(&canonical, hash, world, message, size) != 0)
      snprintf(message, size, "%s", parkit_error_message());
    status = -1;
  }
  free(canonical.text);
  return status;
}
