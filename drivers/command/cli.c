#include "cli.h"

#include "options.h"
#include "quote.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const parkit_option parkit_common_options[PARKIT_COMMON_COUNT] = {
    [PARKIT_COMMON_THREADS] = {.name = "threads",
                               .type = PARKIT_OPTION_INT,
                               .default_value = NULL,
                               .unit = "threads",
                               .help = "OpenMP threads per rank (default: "
                                       "OMP_NUM_THREADS, else the cores this "
                                       "rank may run on; ranks mode: 1)",
                               .min = 1,
                               .max = 4096},
    [PARKIT_COMMON_REPS] = {.name = "reps",
                            .type = PARKIT_OPTION_INT,
                            .default_value = "5",
                            .unit = "repetitions",
                            .help = "timed repetitions",
                            .min = 1,
                            .max = 1000000},
    [PARKIT_COMMON_WARMUP] = {.name = "warmup",
                              .type = PARKIT_OPTION_INT,
                              .default_value = "1",
                              .unit = "repetitions",
                              .help = "untimed repetitions before timing",
                              .min = 0,
                              .max = 1000000},
    [PARKIT_COMMON_BATCH] = {.name = "batch",
                             .type = PARKIT_OPTION_INT,
                             .default_value = "1",
                             .unit = "calls",
                             .help = "calls of the kernel per timed "
                                     "repetition (timed together; work and "
                                     "rate count them all)",
                             .min = 1,
                             .max = 1000000},
    [PARKIT_COMMON_SEED] = {.name = "seed",
                            .type = PARKIT_OPTION_INT,
                            .default_value = "42",
                            .unit = "1",
                            .help = "key of every random stream",
                            .min = 0,
                            .max = INT64_MAX},
    [PARKIT_COMMON_OUT] = {.name = "out",
                           .type = PARKIT_OPTION_TEXT,
                           .default_value = "results",
                           .unit = "path",
                           .help = "result directory (created if missing), "
                                   "or a file path ending in .h5"},
    [PARKIT_COMMON_REPLACE] = {.name = "replace",
                               .type = PARKIT_OPTION_FLAG,
                               .unit = "1",
                               .help = "with --out FILE.h5: replace an "
                                       "existing FILE.h5 (without it, the "
                                       "run refuses to start)"},
    [PARKIT_COMMON_QUIET] = {.name = "quiet",
                             .type = PARKIT_OPTION_FLAG,
                             .unit = "1",
                             .help = "print only the key=value line on "
                                     "stdout (warnings stay on stderr)"},
    [PARKIT_COMMON_WATCHDOG] = {.name = "watchdog",
                                .type = PARKIT_OPTION_INT,
                                .default_value = "0",
                                .unit = "s",
                                .help = "end the job when the run has not "
                                        "finished after this many seconds "
                                        "(0: never)",
                                .min = 0,
                                .max = 31L * 24 * 3600},
    [PARKIT_COMMON_WRITERS] = {.name = "writers",
                               .type = PARKIT_OPTION_CHOICE,
                               .default_value = "all",
                               .choices = "all|node-leaders",
                               .unit = "1",
                               .help = "ranks that write the result file: "
                                       "all (collective MPI-IO), or one per "
                                       "node after gathering its ranks' rows"},
    [PARKIT_COMMON_INJECT_FAULT] =
        {.name = "inject-fault",
         .type = PARKIT_OPTION_TEXT,
         .default_value = "none",
         .unit = "1",
         .help = "test only: PHASE:RANK:KIND makes "
                 "a rank fail (see drivers/run/fault.h)"},
};

static const char *const mode_names[PARKIT_MODE_COUNT] = {
    [PARKIT_MODE_THREADS] = "threads",
    [PARKIT_MODE_RANKS] = "ranks",
    [PARKIT_MODE_HYBRID] = "hybrid",
};

static const char *const mode_descriptions[PARKIT_MODE_COUNT] = {
    [PARKIT_MODE_THREADS] = "one process, T OpenMP threads",
    [PARKIT_MODE_RANKS] = "P MPI ranks (processes), one thread each",
    [PARKIT_MODE_HYBRID] = "P MPI ranks, T OpenMP threads each",
};

const parkit_exit_status_entry parkit_exit_statuses[] = {
    {PARKIT_EXIT_VERIFIED, "verified"},
    {PARKIT_EXIT_RUN_FAILED, "run-time failure (the message names the rank "
                             "and the phase)"},
    {PARKIT_EXIT_BAD_INPUT, "bad input (one line names the bad value)"},
    {PARKIT_EXIT_NOT_VERIFIED, "verification failed (the file is written)"},
    {PARKIT_EXIT_INTERRUPTED, "stopped early by a signal; the file holds the "
                              "repetitions done"},
    {PARKIT_EXIT_ABANDONED, "stopped by a signal before any repetition "
                            "finished; no file"},
};
const int parkit_exit_status_count =
    (int)(sizeof parkit_exit_statuses / sizeof parkit_exit_statuses[0]);

const char *parkit_mode_name(parkit_mode mode) {
  return mode_names[mode];
}

const char *parkit_mode_description(parkit_mode mode) {
  return mode_descriptions[mode];
}

bool parkit_mode_parse(const char *word, parkit_mode *mode) {
  for (int m = 0; m < PARKIT_MODE_COUNT; ++m)
    if (strcmp(word, mode_names[m]) == 0) {
      *mode = (parkit_mode)m;
      return true;
    }
  return false;
}

/* "matmul, montecarlo" */
static void kernel_names(char *text, size_t size) {
  size_t used = 0;
  text[0] = '\0';
  for (int i = 0; i < parkit_kernel_count() && used < size; ++i)
    used += (size_t)snprintf(text + used, size - used, "%s%s", i ? ", " : "",
                             parkit_kernel_at(i)->name);
}

static int find_kernel(const char *name, const parkit_command *command,
                       const parkit_kernel **kernel, char *message,
                       size_t size) {
  *kernel = name ? parkit_kernel_find(name) : NULL;
  if (*kernel)
    return 0;
  char names[256];
  kernel_names(names, sizeof names);
  if (name == NULL)
    snprintf(message, size, "missing kernel after '%s'; allowed: %s",
             parkit_mode_name(command->mode), names);
  else
    snprintf(message, size, "unknown kernel '%s'; allowed: %s", name, names);
  return -1;
}

static bool asks_for_help(int argc, char **argv) {
  for (int i = 0; i < argc; ++i)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
      return true;
  return false;
}

static int parse_run(int argc, char **argv, parkit_command *command,
                     char *message, size_t size) {
  if (find_kernel(argc > 0 ? argv[0] : NULL, command, &command->kernel, message,
                  size) != 0)
    return -1;
  if (asks_for_help(argc - 1, argv + 1)) {
    command->kind = PARKIT_COMMAND_HELP;
    return 0;
  }
  const parkit_kernel *kernel = command->kernel;
  command->options =
      calloc((size_t)(kernel->option_count ? kernel->option_count : 1),
             sizeof(parkit_value));
  if (command->options == NULL) {
    snprintf(message, size, "out of memory while parsing options");
    return -1;
  }
  parkit_option_set sets[] = {
      {parkit_common_options, PARKIT_COMMON_COUNT, command->common},
      {kernel->options, kernel->option_count, command->options},
  };
  if (parkit_options_parse(argc - 1, argv + 1, sets, 2, message, size) != 0) {
    size_t used = strlen(message);
    if (strncmp(message, "unknown option", 14) == 0 && used < size)
      snprintf(message + used, size - used, "; see 'parkit help %s'",
               kernel->name);
    return -1;
  }
  return parkit_fault_parse(command->common[PARKIT_COMMON_INJECT_FAULT].text,
                            &command->fault, message, size);
}

/* Messages quote what the user typed; control characters in it (a newline
 * in an argument, found by fuzzing) would break the one-line promise. */
static void make_one_line(char *message) {
  for (unsigned char *c = (unsigned char *)message; *c; ++c)
    if (*c < 0x20 || *c == 0x7f)
      *c = '?';
}

static int parse_command(int argc, char **argv, parkit_command *command,
                         char *message, size_t size);

/* list [--format text|json] */
static int parse_list(int argc, char **argv, parkit_command *command,
                      char *message, size_t size) {
  command->kind = PARKIT_COMMAND_LIST;
  command->list_format = PARKIT_LIST_TEXT;
  if (argc == 0)
    return 0;
  const char *format = NULL;
  if (argc == 2 && strcmp(argv[0], "--format") == 0)
    format = argv[1];
  else if (argc == 1 && strncmp(argv[0], "--format=", 9) == 0)
    format = argv[0] + 9;
  if (format && strcmp(format, "text") == 0)
    return 0;
  if (format && strcmp(format, "json") == 0) {
    command->list_format = PARKIT_LIST_JSON;
    return 0;
  }
  if (format)
    snprintf(message, size, "--format '%s': allowed: text or json", format);
  else
    snprintf(message, size,
             "'parkit list' takes only --format text|json, got '%s'", argv[0]);
  return -1;
}

int parkit_command_parse(int argc, char **argv, parkit_command *command,
                         char *message, size_t size) {
  int status = parse_command(argc, argv, command, message, size);
  if (status != 0)
    make_one_line(message);
  return status;
}

static int parse_command(int argc, char **argv, parkit_command *command,
                         char *message, size_t size) {
  memset(command, 0, sizeof *command);
  if (argc < 2) {
    snprintf(message, size,
             "missing mode; usage: parkit threads|ranks|hybrid KERNEL "
             "[options], or parkit list|help|report");
    return -1;
  }
  const char *first = argv[1];
  if (strcmp(first, "list") == 0)
    return parse_list(argc - 2, argv + 2, command, message, size);
  if (strcmp(first, "--version") == 0) {
    if (argc > 2) {
      snprintf(message, size, "'parkit %s' takes no arguments, got '%s'", first,
               argv[2]);
      return -1;
    }
    command->kind = PARKIT_COMMAND_VERSION;
    return 0;
  }
  if (strcmp(first, "help") == 0 || strcmp(first, "--help") == 0 ||
      strcmp(first, "-h") == 0) {
    command->kind = PARKIT_COMMAND_HELP;
    if (argc == 2)
      return 0;
    if (argc > 3) {
      snprintf(message, size, "'parkit help' takes one kernel name, got %d",
               argc - 2);
      return -1;
    }
    return find_kernel(argv[2], command, &command->kernel, message, size);
  }
  if (!parkit_mode_parse(first, &command->mode)) {
    snprintf(message, size,
             "unknown mode '%s'; allowed: threads, ranks, hybrid (or list, "
             "help, report, --version)",
             first);
    return -1;
  }
  command->kind = PARKIT_COMMAND_RUN;
  return parse_run(argc - 2, argv + 2, command, message, size);
}

void parkit_command_free(parkit_command *command) {
  free(command->options);
  command->options = NULL;
}

void parkit_format_command_line(const char *program, int argc, char **argv,
                                char *text, size_t size) {
  size_t used = 0;
  text[0] = '\0';
  for (int i = 0; i < argc; ++i) {
    const char *word = i == 0 && program ? program : argv[i];
    if (!parkit_shell_join(&word, 1, text, size, &used)) {
      /* Cut at the last whole word rather than leave half a quote. */
      char *last_space = strrchr(text, ' ');
      if (last_space)
        *last_space = '\0';
      break;
    }
  }
}

static void print_option_table(FILE *stream, const parkit_option *options,
                               int count) {
  for (int i = 0; i < count; ++i) {
    const parkit_option *option = &options[i];
    char allowed[160];
    parkit_option_describe(option, allowed, sizeof allowed);
    fprintf(stream, "  --%-13s %-8s default %-11s %s\n", option->name,
            parkit_option_type_name(option->type),
            option->default_value                ? option->default_value
            : option->type == PARKIT_OPTION_FLAG ? "off"
                                                 : "(see text)",
            option->help);
    fprintf(stream, "  %-24s allowed: %s\n", "", allowed);
  }
}

void parkit_print_usage(FILE *stream) {
  fprintf(stream,
          "parkit: threads or processes? The same kernels, measured both "
          "ways.\n\n"
          "usage:\n"
          "  parkit threads KERNEL [options]        one process, T OpenMP "
          "threads\n"
          "  mpirun -np P parkit ranks KERNEL ...   P processes, one thread "
          "each\n"
          "  mpirun -np P parkit hybrid KERNEL --threads T ...\n"
          "                                         P processes, T threads "
          "each\n"
          "  parkit list [--format text|json]       kernels, their options "
          "and outputs\n"
          "  parkit help KERNEL                     one kernel's options\n"
          "  parkit report PATH... [--format table|csv|markdown|json]\n"
          "                                         tables from result "
          "files (no mpirun)\n"
          "  parkit --version\n\n"
          "options of every kernel:\n");
  print_option_table(stream, parkit_common_options, PARKIT_COMMON_COUNT);
  fprintf(stream, "\nkernels:\n");
  for (int i = 0; i < parkit_kernel_count(); ++i)
    fprintf(stream, "  %-12s %s\n", parkit_kernel_at(i)->name,
            parkit_kernel_at(i)->summary);
  fprintf(stream, "\nexit status of a run:\n");
  for (int i = 0; i < parkit_exit_status_count; ++i)
    fprintf(stream, "  %d  %s\n", parkit_exit_statuses[i].status,
            parkit_exit_statuses[i].meaning);
}

void parkit_print_kernel_help(FILE *stream, const parkit_kernel *kernel) {
  fprintf(stream, "%s: %s\n\nkernel options:\n", kernel->name, kernel->summary);
  print_option_table(stream, kernel->options, kernel->option_count);
  fprintf(stream, "\noptions of every kernel:\n");
  print_option_table(stream, parkit_common_options, PARKIT_COMMON_COUNT);
}

void parkit_print_list(FILE *stream) {
  for (int i = 0; i < parkit_kernel_count(); ++i) {
    const parkit_kernel *kernel = parkit_kernel_at(i);
    fprintf(stream, "%s%-12s %s\n", i ? "\n" : "", kernel->name,
            kernel->summary);
    print_option_table(stream, kernel->options, kernel->option_count);
  }
  fprintf(stream, "\nEvery kernel also takes:\n");
  print_option_table(stream, parkit_common_options, PARKIT_COMMON_COUNT);
}
