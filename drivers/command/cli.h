/*
 * The parkit command line, the same in every mode:
 *
 *   parkit threads|ranks|hybrid KERNEL [common options] [kernel options]
 *   parkit list [--format text|json] | help [KERNEL] | --help | --version
 *
 * Parsing is pure (no MPI, no I/O): every rank parses the same argv to the
 * same result, so bad input is found by all ranks alike.
 */
#ifndef PARKIT_CLI_H
#define PARKIT_CLI_H

#include "fault.h"
#include "kernel.h"

#include <stdbool.h>
#include <stdio.h>

typedef enum parkit_mode {
  PARKIT_MODE_THREADS, /* one process, T OpenMP threads */
  PARKIT_MODE_RANKS,   /* P MPI ranks, one thread each */
  PARKIT_MODE_HYBRID,  /* P MPI ranks, T threads each */
} parkit_mode;
#define PARKIT_MODE_COUNT 3

/* The exit statuses of a run, in one table for --help, the catalogue and
 * main(). */
enum parkit_exit_status {
  PARKIT_EXIT_VERIFIED = 0,
  PARKIT_EXIT_RUN_FAILED = 1,
  PARKIT_EXIT_BAD_INPUT = 2,
  PARKIT_EXIT_NOT_VERIFIED = 3,
  PARKIT_EXIT_INTERRUPTED = 4, /* stopped early, result file written */
  PARKIT_EXIT_ABANDONED = 5,   /* stopped, no result file */
};
typedef struct parkit_exit_status_entry {
  int status;
  const char *meaning;
} parkit_exit_status_entry;
extern const parkit_exit_status_entry parkit_exit_statuses[];
extern const int parkit_exit_status_count;

typedef enum parkit_command_kind {
  PARKIT_COMMAND_RUN,
  PARKIT_COMMAND_LIST,
  PARKIT_COMMAND_HELP,
  PARKIT_COMMAND_VERSION,
} parkit_command_kind;

/* --writers: which ranks open the result file (choice indices). */
enum parkit_writers_choice { PARKIT_WRITERS_ALL, PARKIT_WRITERS_NODE_LEADERS };

/* Options every kernel takes, in this order (indices into command.common). */
enum parkit_common_option {
  PARKIT_COMMON_THREADS,
  PARKIT_COMMON_REPS,
  PARKIT_COMMON_WARMUP,
  PARKIT_COMMON_BATCH,
  PARKIT_COMMON_SEED,
  PARKIT_COMMON_OUT,
  PARKIT_COMMON_REPLACE,
  PARKIT_COMMON_QUIET,
  PARKIT_COMMON_WATCHDOG,
  PARKIT_COMMON_WRITERS,
  PARKIT_COMMON_INJECT_FAULT,
  PARKIT_COMMON_COUNT
};

/* `parkit list --format`. */
typedef enum parkit_list_format {
  PARKIT_LIST_TEXT,
  PARKIT_LIST_JSON
} parkit_list_format;

typedef struct parkit_command {
  parkit_command_kind kind;
  parkit_list_format list_format; /* LIST */
  parkit_mode mode;
  const parkit_kernel *kernel; /* RUN; HELP when a kernel was named */
  parkit_value common[PARKIT_COMMON_COUNT];
  parkit_value *options; /* kernel->option_count values; free with
                            parkit_command_free */
  parkit_fault fault;    /* --inject-fault, parsed (test only) */
} parkit_command;

extern const parkit_option parkit_common_options[PARKIT_COMMON_COUNT];

const char *parkit_mode_name(parkit_mode mode);
/* One line: what the mode runs ("P MPI ranks, one thread each"). */
const char *parkit_mode_description(parkit_mode mode);
/* True, with *mode set, when `word` names a mode ("threads", ...). */
bool parkit_mode_parse(const char *word, parkit_mode *mode);

/* Returns 0, or -1 with a one-line message naming the bad word and what is
 * allowed. Never prints. */
int parkit_command_parse(int argc, char **argv, parkit_command *command,
                         char *message, size_t size);
void parkit_command_free(parkit_command *command);

/* argv as one line that can be pasted back into a shell: words with shell
 * metacharacters are single-quoted. `program`, when not NULL, replaces
 * argv[0] (the fix lines say "parkit", not the build path). */
void parkit_format_command_line(const char *program, int argc, char **argv,
                                char *text, size_t size);

void parkit_print_usage(FILE *stream);
void parkit_print_list(FILE *stream);
void parkit_print_kernel_help(FILE *stream, const parkit_kernel *kernel);

/* The kernel registry (registry.c, expanded from kernels/registry.h). */
int parkit_kernel_count(void);
const parkit_kernel *parkit_kernel_at(int index);
const parkit_kernel *parkit_kernel_find(const char *name);

#endif
