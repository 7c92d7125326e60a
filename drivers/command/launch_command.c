#include "launch_command.h"

#include "check.h"
#include "cli.h"
#include "launch.h"
#include "node_shape.h"
#include "options.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_BAD = 2 };

static int bad(const char *command, const char *message) {
  fprintf(stderr, "parkit %s: error: %s\n", command, message);
  return EXIT_BAD;
}

/* A positive integer, or -1. */
static int positive(const char *text) {
  int64_t value = 0;
  if (!parkit_parse_int64(text, &value) || value < 1 || value > 1 << 20)
    return -1;
  return (int)value;
}

/* This program's path, for the command to run it again. */
static const char *this_program(char *path, size_t size, const char *argv0) {
  ssize_t length = readlink("/proc/self/exe", path, size - 1);
  if (length <= 0)
    return argv0;
  path[length] = '\0';
  return path;
}

typedef struct launch_options {
  parkit_launch_request request;
  bool exec, json;
} launch_options;

/* One option word (and its value) of `parkit launch`. Returns the words
 * used, or -1 with `message` set. */
static int launch_option(int argc, char **argv, launch_options *options,
                         char *message, size_t size) {
  parkit_launch_request *request = &options->request;
  const char *word = argv[0];
  if (strcmp(word, "--exec") == 0)
    return options->exec = true, 1;
  if (strcmp(word, "--oversubscribe") == 0)
    return request->oversubscribe = true, 1;
  if (argc < 2) {
    snprintf(message, size,
             "unknown option or missing value '%s'; see "
             "'parkit launch --help'",
             word);
    return -1;
  }
  const char *value = argv[1];
  bool fine = true;
  if (strcmp(word, "--launcher") == 0) {
    fine = strcmp(value, "mpirun") == 0 || strcmp(value, "srun") == 0;
    request->launcher =
        value[0] == 's' ? PARKIT_LAUNCHER_SRUN : PARKIT_LAUNCHER_MPIRUN;
    if (!fine)
      snprintf(message, size, "--launcher '%s': allowed: mpirun or srun",
               value);
  } else if (strcmp(word, "--nodes") == 0 || strcmp(word, "--cores") == 0) {
    int number = positive(value);
    fine = number > 0;
    *(word[2] == 'n' ? &request->nodes : &request->cores_per_node) = number;
    if (!fine)
      snprintf(message, size, "%s '%s': allowed: a positive integer", word,
               value);
  } else if (strcmp(word, "--align") == 0) {
    fine = parkit_alignment_parse(value, &request->alignment);
    if (!fine)
      snprintf(message, size, "--align '%s': allowed: none, numa or l3cache",
               value);
  } else if (strcmp(word, "--mpirun") == 0) {
    request->mpirun = value;
  } else if (strcmp(word, "--program") == 0) {
    request->program = value;
  } else if (strcmp(word, "--format") == 0) {
    fine = strcmp(value, "shell") == 0 || strcmp(value, "json") == 0;
    options->json = value[0] == 'j';
    if (!fine)
      snprintf(message, size, "--format '%s': allowed: shell or json", value);
  } else {
    snprintf(message, size,
             "unknown option '%s'; allowed: --launcher, --nodes, --cores, "
             "--align, --oversubscribe, --mpirun, --program, --format, --exec",
             word);
    return -1;
  }
  return fine ? 2 : -1;
}

/* MODE KERNEL RANKS THREADS: the positional words. */
static int launch_shape(char **words, parkit_launch_request *request,
                        char *message, size_t size) {
  if (!parkit_mode_parse(words[0], &request->mode)) {
    snprintf(message, size, "MODE '%s': allowed: threads, ranks or hybrid",
             words[0]);
    return -1;
  }
  if (parkit_kernel_find(words[1]) == NULL) {
    snprintf(message, size, "unknown kernel '%s'; see 'parkit list'", words[1]);
    return -1;
  }
  request->kernel = words[1];
  request->ranks = positive(words[2]);
  request->threads = positive(words[3]);
  if (request->ranks < 1 || request->threads < 1) {
    snprintf(message, size,
             "RANKS '%s', THREADS '%s': allowed: positive integers", words[2],
             words[3]);
    return -1;
  }
  return 0;
}

static int print_json(const parkit_launch_command *command,
                      const parkit_launch_request *request) {
  json_t *root = json_object(), *environment = json_object(),
         *words = json_array();
  int status = root && environment && words ? 0 : -1;
  for (int i = 0; status == 0 && i < command->variable_count; ++i) {
    const char *variable = command->variables[i];
    size_t name = strcspn(variable, "=");
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)name, variable);
    status =
        json_object_set_new(environment, key, json_string(variable + name + 1));
  }
  for (int i = 0; status == 0 && i < command->word_count; ++i)
    status = json_array_append_new(words, json_string(command->words[i]));
  if (status == 0)
    status =
        json_object_set_new(root, "mode",
                            json_string(parkit_mode_name(request->mode))) ||
        json_object_set_new(root, "ranks", json_integer(request->ranks)) ||
        json_object_set_new(root, "threads", json_integer(request->threads)) ||
        json_object_set_new(root, "nodes", json_integer(request->nodes)) ||
        json_object_set(root, "environment", environment) ||
        json_object_set(root, "argv", words) ||
        json_dumpf(root, stdout, JSON_PRESERVE_ORDER | JSON_COMPACT);
  json_decref(environment);
  json_decref(words);
  json_decref(root);
  if (status != 0)
    return fprintf(stderr, "parkit launch: error: cannot write the JSON\n"),
           EXIT_FAILED;
  putchar('\n');
  return EXIT_OK;
}

static int execute(const parkit_launch_command *command) {
  for (int i = 0; i < command->variable_count; ++i)
    if (putenv((char *)command->variables[i]) != 0)
      return fprintf(stderr, "parkit launch: error: cannot set %s\n",
                     command->variables[i]),
             EXIT_FAILED;
  fflush(stdout);
  execvp(command->words[0], (char *const *)command->words);
  fprintf(stderr, "parkit launch: error: cannot run %s: %s\n",
          command->words[0], strerror(errno));
  return 127;
}

static void launch_usage(void) {
  printf("usage: parkit launch [--launcher mpirun|srun] [--nodes N] "
         "[--cores N]\n"
         "                     [--align none|numa|l3cache] "
         "[--oversubscribe]\n"
         "                     [--mpirun PATH] [--program PATH] "
         "[--format shell|json] [--exec]\n"
         "                     MODE KERNEL RANKS THREADS [--] [parkit "
         "options]\n"
         "Prints the command that runs parkit in MODE as RANKS x THREADS "
         "(RANKS in all,\n"
         "over N nodes of N cores each) with the placement the mode needs; "
         "--exec runs it.\n");
}

int parkit_launch_main(int argc, char **argv) {
  char program[4096], message[512];
  launch_options options = {
      .request = {.nodes = 1,
                  .launcher = PARKIT_LAUNCHER_MPIRUN,
                  .cores_per_node = parkit_local_node_shape().cores,
                  .mpirun = "mpirun",
                  .program = this_program(program, sizeof program, "parkit")}};
  int at = 0;
  if (argc > 0 &&
      (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0))
    return launch_usage(), EXIT_OK;
  while (at < argc && strncmp(argv[at], "--", 2) == 0 && argv[at][2] != '\0') {
    int used =
        launch_option(argc - at, argv + at, &options, message, sizeof message);
    if (used < 0)
      return bad("launch", message);
    at += used;
  }
  if (argc - at < 4)
    return bad("launch", "expected MODE KERNEL RANKS THREADS; see 'parkit "
                         "launch --help'");
  if (launch_shape(argv + at, &options.request, message, sizeof message) != 0)
    return bad("launch", message);
  at += 4;
  if (at < argc && strcmp(argv[at], "--") == 0)
    ++at;
  options.request.argument_count = argc - at;
  options.request.arguments = argv + at;
  for (int i = at; i < argc; ++i)
    if (strcmp(argv[i], "--threads") == 0 ||
        strncmp(argv[i], "--threads=", 10) == 0)
      return bad("launch", "give the threads as THREADS, not --threads");
  parkit_launch_command command;
  if (parkit_launch_build(&options.request, &command, message,
                          sizeof message) != 0)
    return bad("launch", message);
  int status = EXIT_OK;
  if (options.exec) {
    status = execute(&command);
  } else if (options.json) {
    status = print_json(&command, &options.request);
  } else {
    char text[16384];
    if (!parkit_launch_format(&command, text, sizeof text))
      status = bad("launch", "the command is longer than 16 KiB");
    else
      printf("%s\n", text);
  }
  parkit_launch_free(&command);
  return status;
}

/* ---- parkit splits --------------------------------------------------------
 */

enum splits_format { SPLITS_TEXT, SPLITS_LINES, SPLITS_JSON };

static int print_splits(const parkit_split *splits, int count,
                        const parkit_node_shape *shape, int nodes,
                        enum splits_format format) {
  if (format == SPLITS_LINES) { /* for shell scripts: read -r mode ranks ... */
    for (int i = 0; i < count; ++i)
      printf("%s %d %d %d %s %d\n", parkit_mode_name(splits[i].mode),
             splits[i].ranks, splits[i].threads, splits[i].nodes,
             parkit_alignment_name(splits[i].alignment), splits[i].baseline);
    return EXIT_OK;
  }
  if (format == SPLITS_TEXT) {
    for (int i = 0; i < count; ++i)
      printf("%-8s %3d x %-3d nodes %d align %s%s\n",
             parkit_mode_name(splits[i].mode), splits[i].ranks,
             splits[i].threads, splits[i].nodes,
             parkit_alignment_name(splits[i].alignment),
             splits[i].baseline ? " (baseline)" : "");
    return EXIT_OK;
  }
  json_t *root = json_object(), *list = json_array();
  int status = root && list ? 0 : -1;
  status =
      status ||
      json_object_set_new(root, "cores_per_node", json_integer(shape->cores)) ||
      json_object_set_new(root, "numa_domains_per_node",
                          json_integer(shape->numa_domains)) ||
      json_object_set_new(root, "l3_domains_per_node",
                          json_integer(shape->l3_domains)) ||
      json_object_set_new(
          root, "last_level_cache_bytes",
          json_integer(shape->last_level_cache_bytes * nodes)) ||
      json_object_set_new(
          root, "fallback_cache_domains",
          json_integer(shape->fallback_cache_domains * nodes)) ||
      json_object_set_new(root, "nodes", json_integer(nodes)) ||
      json_object_set(root, "splits", list);
  for (int i = 0; status == 0 && i < count; ++i) {
    json_t *entry =
        json_pack("{s:s, s:i, s:i, s:i, s:s, s:b}", "mode",
                  parkit_mode_name(splits[i].mode), "nodes", splits[i].nodes,
                  "ranks", splits[i].ranks, "threads", splits[i].threads,
                  "align", parkit_alignment_name(splits[i].alignment),
                  "baseline", splits[i].baseline);
    status = json_array_append_new(list, entry);
  }
  status =
      status || json_dumpf(root, stdout, JSON_PRESERVE_ORDER | JSON_INDENT(1));
  json_decref(list);
  json_decref(root);
  if (status != 0)
    return fprintf(stderr, "parkit splits: error: cannot write the JSON\n"),
           EXIT_FAILED;
  putchar('\n');
  return EXIT_OK;
}

/* The node's shape for `cores` cores instead of its own: the caches in
 * proportion, one domain of each kind unless the cores are the node's. */
static parkit_node_shape scaled_shape(const parkit_node_shape *shape,
                                      int cores) {
  if (cores == shape->cores)
    return *shape;
  parkit_node_shape scaled = {.cores = cores,
                              .numa_domains = 1,
                              .l3_domains = 1,
                              .fallback_cache_domains =
                                  shape->fallback_cache_domains};
  scaled.last_level_cache_bytes =
      shape->cores > 0 ? shape->last_level_cache_bytes * cores / shape->cores
                       : 0;
  return scaled;
}

int parkit_splits_main(int argc, char **argv) {
  parkit_node_shape shape = parkit_local_node_shape();
  int nodes = 1;
  bool baseline = false;
  enum splits_format format = SPLITS_TEXT;
  char message[256];
  for (int at = 0; at < argc; ++at) {
    const char *word = argv[at];
    if (strcmp(word, "--baseline") == 0) {
      baseline = true;
      continue;
    }
    if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
      printf("usage: parkit splits [--cores N] [--nodes N] [--baseline] "
             "[--format text|lines|json]\n"
             "The ranks x threads splits of N nodes that use every core (of "
             "this node, or\n--cores N each). --format lines: one split a "
             "line, 'MODE RANKS THREADS NODES\nALIGN BASELINE', for shell "
             "scripts.\n");
      return EXIT_OK;
    }
    const char *value = at + 1 < argc ? argv[at + 1] : NULL;
    if (value == NULL) {
      snprintf(message, sizeof message,
               "unknown option or missing value '%s'; allowed: --cores N, "
               "--nodes N, --baseline, --format text|lines|json",
               word);
      return bad("splits", message);
    }
    ++at;
    if (strcmp(word, "--format") == 0 &&
        (strcmp(value, "json") == 0 || strcmp(value, "text") == 0 ||
         strcmp(value, "lines") == 0)) {
      format = value[0] == 'j'   ? SPLITS_JSON
               : value[0] == 'l' ? SPLITS_LINES
                                 : SPLITS_TEXT;
    } else if ((strcmp(word, "--cores") == 0 || strcmp(word, "--nodes") == 0) &&
               positive(value) > 0) {
      if (word[2] == 'c')
        shape = scaled_shape(&shape, positive(value));
      else
        nodes = positive(value);
    } else {
      snprintf(message, sizeof message,
               "%s '%s': allowed: --cores N, --nodes N (positive integers), "
               "--format text|lines|json",
               word, value);
      return bad("splits", message);
    }
  }
  parkit_split splits[256];
  int count = parkit_enumerate_splits(&shape, nodes, baseline, splits, 256);
  if (count > 256)
    count = 256;
  return print_splits(splits, count, &shape, nodes, format);
}
