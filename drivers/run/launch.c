#include "launch.h"

#include "quote.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const alignment_names[] = {
    [PARKIT_ALIGN_NONE] = "none",
    [PARKIT_ALIGN_NUMA] = "numa",
    [PARKIT_ALIGN_L3CACHE] = "l3cache",
};

const char *parkit_alignment_name(parkit_alignment alignment) {
  return alignment_names[alignment];
}

bool parkit_alignment_parse(const char *word, parkit_alignment *alignment) {
  for (int a = 0; a < (int)(sizeof alignment_names / sizeof *alignment_names);
       ++a)
    if (strcmp(word, alignment_names[a]) == 0) {
      *alignment = (parkit_alignment)a;
      return true;
    }
  return false;
}

parkit_mode parkit_split_mode(int ranks, int threads, int nodes) {
  if (ranks == 1 && nodes == 1)
    return PARKIT_MODE_THREADS;
  return threads == 1 ? PARKIT_MODE_RANKS : PARKIT_MODE_HYBRID;
}

/* ---- building a command ------------------------------------------------- */

/* A text made for this command, kept in its storage; NULL when full. */
static const char *made(parkit_launch_command *command, const char *format,
                        ...) {
  size_t room = sizeof command->storage - command->storage_used;
  char *text = command->storage + command->storage_used;
  va_list arguments;
  va_start(arguments, format);
  int length = vsnprintf(text, room, format, arguments);
  va_end(arguments);
  if (length < 0 || (size_t)length >= room)
    return NULL;
  command->storage_used += (size_t)length + 1;
  return text;
}

static bool add_word(parkit_launch_command *command, const char *word) {
  if (word == NULL || command->word_count >= PARKIT_LAUNCH_MAX_WORDS)
    return false;
  command->words[command->word_count++] = word;
  command->words[command->word_count] = NULL;
  return true;
}

static bool add_variable(parkit_launch_command *command, const char *variable) {
  if (variable == NULL ||
      command->variable_count >= PARKIT_LAUNCH_MAX_VARIABLES)
    return false;
  command->variables[command->variable_count++] = variable;
  return true;
}

static bool add_words(parkit_launch_command *command, const char *const *words,
                      int count) {
  for (int i = 0; i < count; ++i)
    if (!add_word(command, words[i]))
      return false;
  return true;
}

/* The shape must fit the mode; ranks divide over the nodes; workers fit
 * the cores unless oversubscribing. */
static int check_request(const parkit_launch_request *request, char *message,
                         size_t size) {
  const char *mode = parkit_mode_name(request->mode);
  if (request->ranks < 1 || request->threads < 1 || request->nodes < 1 ||
      request->cores_per_node < 1) {
    snprintf(message, size,
             "ranks %d, threads %d, nodes %d, cores %d: allowed: positive "
             "integers",
             request->ranks, request->threads, request->nodes,
             request->cores_per_node);
    return -1;
  }
  if (request->mode == PARKIT_MODE_THREADS &&
      (request->ranks != 1 || request->nodes != 1)) {
    snprintf(message, size,
             "threads mode runs 1 rank on 1 node, not %d rank%s on %d node%s; "
             "use hybrid for %d x %d",
             request->ranks, request->ranks == 1 ? "" : "s", request->nodes,
             request->nodes == 1 ? "" : "s", request->ranks, request->threads);
    return -1;
  }
  if (request->mode == PARKIT_MODE_RANKS && request->threads != 1) {
    snprintf(message, size,
             "ranks mode runs 1 thread per rank, not %d; use hybrid for %d x "
             "%d",
             request->threads, request->ranks, request->threads);
    return -1;
  }
  if (request->ranks % request->nodes != 0) {
    snprintf(message, size,
             "%d ranks do not divide over %d nodes; allowed: a multiple of "
             "the node count",
             request->ranks, request->nodes);
    return -1;
  }
  int per_node = request->ranks / request->nodes * request->threads;
  if (per_node > request->cores_per_node && !request->oversubscribe) {
    snprintf(message, size,
             "%s %d x %d puts %d workers on a node of %d cores; pass "
             "--oversubscribe to run anyway (timings then include "
             "time-sharing)",
             mode, request->ranks, request->threads, per_node,
             request->cores_per_node);
    return -1;
  }
  if (request->alignment != PARKIT_ALIGN_NONE &&
      (request->launcher != PARKIT_LAUNCHER_MPIRUN ||
       request->mode == PARKIT_MODE_THREADS)) {
    snprintf(message, size,
             "--align %s: allowed only for ranks and hybrid through mpirun "
             "(srun places ranks on consecutive cores)",
             parkit_alignment_name(request->alignment));
    return -1;
  }
  return 0;
}

static bool oversubscribed(const parkit_launch_request *request) {
  return request->ranks / request->nodes * request->threads >
         request->cores_per_node;
}

static bool mpirun_words(const parkit_launch_request *request,
                         parkit_launch_command *command) {
  int per_node = request->ranks / request->nodes;
  const char *mapping;
  if (request->alignment != PARKIT_ALIGN_NONE)
    mapping = made(command, "ppr:1:%s:PE=%d",
                   parkit_alignment_name(request->alignment), request->threads);
  else if (request->nodes > 1)
    mapping = made(command, "ppr:%d:node:PE=%d", per_node, request->threads);
  else
    mapping = made(command, "slot:PE=%d", request->threads);
  bool fine = add_word(command, request->mpirun ? request->mpirun : "mpirun") &&
              add_word(command, "-np") &&
              add_word(command, made(command, "%d", request->ranks));
  if (oversubscribed(request)) {
    /* PE mapping needs ranks x threads cores: map by node, bind nothing. */
    const char *spread =
        request->nodes > 1 ? made(command, "ppr:%d:node", per_node) : "slot";
    const char *const words[] = {"--oversubscribe", "--map-by", spread,
                                 "--bind-to", "none"};
    fine = fine && add_words(command, words, 5);
  } else {
    const char *const words[] = {"--map-by", mapping, "--bind-to", "core"};
    fine = fine && add_words(command, words, 4);
  }
  const char *const forward[] = {"-x", "OMP_NUM_THREADS", "-x", "OMP_PLACES",
                                 "-x", "OMP_PROC_BIND"};
  fine = fine && add_words(command, forward, 6);
  if (request->nodes > 1) {
    /* A node whose network fails is noticed by mpirun only through TCP
     * keepalive on its daemons' connections: after 300 + 9 x 20 s by
     * default, about 20 s with these. */
    fine = fine &&
           add_variable(command, "OMPI_MCA_oob_tcp_keepalive_time=10") &&
           add_variable(command, "OMPI_MCA_oob_tcp_keepalive_intvl=3") &&
           add_variable(command, "OMPI_MCA_oob_tcp_keepalive_probes=3");
  }
  return fine;
}

static bool srun_words(const parkit_launch_request *request,
                       parkit_launch_command *command) {
  const char *fence = getenv("SLURM_PMIX_FENCE");
  bool fine =
      add_variable(command, made(command, "SLURM_PMIX_FENCE=%s",
                                 fence && *fence ? fence : "ring")) &&
      add_word(command, "srun") &&
      add_word(command, made(command, "--nodes=%d", request->nodes)) &&
      add_word(command, made(command, "--ntasks=%d", request->ranks)) &&
      add_word(command, made(command, "--cpus-per-task=%d", request->threads));
  if (oversubscribed(request))
    fine = fine && add_word(command, "--overcommit") &&
           add_word(command, "--cpu-bind=none");
  else
    fine = fine && add_word(command, "--cpu-bind=cores");
  return fine && add_word(command, "--kill-on-bad-exit=1");
}

int parkit_launch_build(const parkit_launch_request *request,
                        parkit_launch_command *command, char *message,
                        size_t size) {
  memset(command, 0, sizeof *command);
  if (check_request(request, message, size) != 0)
    return -1;
  command->words = calloc(PARKIT_LAUNCH_MAX_WORDS + 1, sizeof(char *));
  if (command->words == NULL) {
    snprintf(message, size, "out of memory building the launch command");
    return -1;
  }
  bool fine = add_variable(command, made(command, "OMP_NUM_THREADS=%d",
                                         request->threads)) &&
              add_variable(command, "OMP_PLACES=cores") &&
              add_variable(command, "OMP_PROC_BIND=close");
  bool uses_launcher = request->mode != PARKIT_MODE_THREADS ||
                       request->launcher == PARKIT_LAUNCHER_SRUN;
  if (fine && uses_launcher)
    fine = request->launcher == PARKIT_LAUNCHER_SRUN
               ? srun_words(request, command)
               : mpirun_words(request, command);
  fine = fine && add_word(command, request->program) &&
         add_word(command, parkit_mode_name(request->mode)) &&
         add_word(command, request->kernel);
  if (fine && request->mode != PARKIT_MODE_RANKS)
    fine = add_word(command, "--threads") &&
           add_word(command, made(command, "%d", request->threads));
  for (int i = 0; fine && i < request->argument_count; ++i)
    fine = add_word(command, request->arguments[i]);
  if (!fine) {
    snprintf(message, size,
             "the launch command has more than %d words or %d variables",
             PARKIT_LAUNCH_MAX_WORDS, PARKIT_LAUNCH_MAX_VARIABLES);
    parkit_launch_free(command);
    return -1;
  }
  return 0;
}

void parkit_launch_free(parkit_launch_command *command) {
  free(command->words);
  command->words = NULL;
  command->word_count = 0;
}

bool parkit_launch_format(const parkit_launch_command *command, char *text,
                          size_t size) {
  size_t used = 0;
  if (size == 0)
    return false;
  text[0] = '\0';
  return parkit_shell_join(command->variables, command->variable_count, text,
                           size, &used) &&
         parkit_shell_join(command->words, command->word_count, text, size,
                           &used);
}

bool parkit_launch_line(parkit_mode mode, int ranks, int threads, int nodes,
                        int cores_per_node, parkit_launcher launcher,
                        parkit_alignment alignment, int argc, char **argv,
                        char *text, size_t size) {
  if (argc < 3)
    return false;
  /* The user's options, without their --threads. */
  char **kept = calloc((size_t)argc, sizeof *kept);
  if (kept == NULL)
    return false;
  int count = 0;
  for (int i = 3; i < argc; ++i) {
    if (strcmp(argv[i], "--threads") == 0) {
      ++i; /* and its value */
      continue;
    }
    if (strncmp(argv[i], "--threads=", 10) != 0)
      kept[count++] = argv[i];
  }
  parkit_launch_request request = {
      .mode = mode,
      .kernel = argv[2],
      .ranks = ranks,
      .threads = threads,
      .nodes = nodes,
      .launcher = launcher,
      .alignment = alignment,
      .cores_per_node = cores_per_node,
      .program = "parkit",
      .mpirun = "mpirun",
      .argument_count = count,
      .arguments = kept,
  };
  request.oversubscribe = ranks / nodes * threads > cores_per_node;
  parkit_launch_command command;
  char message[256];
  bool built =
      parkit_launch_build(&request, &command, message, sizeof message) == 0;
  bool written = built && parkit_launch_format(&command, text, size);
  if (built)
    parkit_launch_free(&command);
  free(kept);
  return written;
}

/* ---- the splits of a machine --------------------------------------------- */

static void add_split(parkit_split *splits, int capacity, int *count,
                      parkit_split split) {
  if (*count < capacity)
    splits[*count] = split;
  ++*count;
}

int parkit_enumerate_splits(const parkit_node_shape *shape, int nodes,
                            bool baseline, parkit_split *splits, int capacity) {
  int count = 0;
  if (baseline)
    add_split(splits, capacity, &count,
              (parkit_split){.mode = PARKIT_MODE_THREADS,
                             .nodes = 1,
                             .ranks = 1,
                             .threads = 1,
                             .baseline = true});
  for (int per_node = 1; per_node <= shape->cores; ++per_node) {
    if (shape->cores % per_node != 0)
      continue;
    int threads = shape->cores / per_node, ranks = per_node * nodes;
    if (baseline && ranks == 1 && threads == 1)
      continue; /* a one-core machine: the baseline is the split */
    add_split(splits, capacity, &count,
              (parkit_split){.mode = parkit_split_mode(ranks, threads, nodes),
                             .nodes = nodes,
                             .ranks = ranks,
                             .threads = threads});
  }
  const struct {
    int domains;
    parkit_alignment alignment;
  } domains[] = {{shape->numa_domains, PARKIT_ALIGN_NUMA},
                 {shape->l3_domains, PARKIT_ALIGN_L3CACHE}};
  for (int d = 0; d < 2; ++d) {
    int per_node = domains[d].domains;
    if (per_node <= 1 || shape->cores % per_node != 0 ||
        (d == 1 && per_node == shape->numa_domains))
      continue; /* one domain, uneven domains, or the same as NUMA */
    int threads = shape->cores / per_node;
    add_split(splits, capacity, &count,
              (parkit_split){
                  .mode = parkit_split_mode(per_node * nodes, threads, nodes),
                  .nodes = nodes,
                  .ranks = per_node * nodes,
                  .threads = threads,
                  .alignment = domains[d].alignment});
  }
  return count;
}
