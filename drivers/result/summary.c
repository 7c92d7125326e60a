#include "summary.h"

#include "options.h"

#include <inttypes.h>
#include <string.h>

/* "n=1024 elements" for one kernel option (the unit unless it is "1"). */
static void format_parameter(const parkit_option *option,
                             const parkit_value *value, char *text,
                             size_t size) {
  char word[128];
  parkit_option_value_text(option, value, word, sizeof word);
  bool unit = option->unit && strcmp(option->unit, "1") != 0;
  snprintf(text, size, "%s=%s%s%s", option->name, word, unit ? " " : "",
           unit ? option->unit : "");
}

void parkit_print_summary(FILE *stream, const parkit_run_record *record) {
  const parkit_command *command = record->command;
  const parkit_run_result *result = record->result;
  const parkit_time_statistics *time = &result->statistics;
  int ranks = record->context->size, threads = record->context->threads;
  int nodes = record->placement->node_count;
  int per_node = record->placement->max_ranks_on_node;
  bool uneven = (int64_t)nodes * per_node != ranks;
  fprintf(stream,
          "%s, %s mode: %d node%s x %s%d rank%s per node x %d thread%s (%d "
          "rank%s)\n",
          command->kernel->name, parkit_mode_name(command->mode), nodes,
          nodes == 1 ? "" : "s", uneven ? "up to " : "", per_node,
          per_node == 1 ? "" : "s", threads, threads == 1 ? "" : "s", ranks,
          ranks == 1 ? "" : "s");
  fprintf(stream, "  problem    ");
  for (int i = 0; i < command->kernel->option_count; ++i) {
    char text[256];
    format_parameter(&command->kernel->options[i], &command->options[i], text,
                     sizeof text);
    fprintf(stream, "%s%s", i ? ", " : "", text);
  }
  fprintf(stream, "\n");
  fprintf(stream,
          "  time       min %.6g s, median %.6g s, max %.6g s over %d "
          "repetitions (%" PRId64 " warm-up)%s\n",
          time->min, time->median, time->max, result->repetitions_completed,
          command->common[PARKIT_COMMON_WARMUP].integer,
          result->interrupted ? ", interrupted by a signal" : "");
  fprintf(stream, "  rate       %.4g %s at the median time (best %.4g)\n",
          result->rate, result->rate_unit, result->rate_best);
  fprintf(stream, "  imbalance  %.3f (max/min total time over ranks)\n",
          time->imbalance);
  fprintf(stream, "  verified   %s: %s\n",
          result->verdict.passed ? "yes" : "NO", result->verdict.message);
  fprintf(stream, "  output     %s\n", record->path);
}
