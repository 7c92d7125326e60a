#include "report_answer.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* A string member, or `fallback`. */
static const char *text_of(const json_t *object, const char *key,
                           const char *fallback) {
  const char *text = json_string_value(json_object_get(object, key));
  return text ? text : fallback;
}

static double number_of(const json_t *object, const char *key) {
  const json_t *value = json_object_get(object, key);
  return json_is_number(value) ? json_number_value(value) : -1.0;
}

/* "12.3 ms" for seconds; "-" when unknown. */
static void seconds_text(double seconds, char *text, size_t size) {
  if (!(seconds > 0))
    snprintf(text, size, "-");
  else if (seconds >= 1)
    snprintf(text, size, "%.3g s", seconds);
  else if (seconds >= 1e-3)
    snprintf(text, size, "%.3g ms", seconds * 1e3);
  else
    snprintf(text, size, "%.3g us", seconds * 1e6);
}

static void print_configurations(FILE *stream, const json_t *group) {
  size_t index;
  json_t *configuration;
  json_array_foreach(json_object_get(group, "configurations"), index,
                     configuration) {
    char median[32], low[32], high[32];
    seconds_text(number_of(configuration, "median"), median, sizeof median);
    seconds_text(number_of(configuration, "low"), low, sizeof low);
    seconds_text(number_of(configuration, "high"), high, sizeof high);
    double speedup = number_of(configuration, "speedup");
    fprintf(stream, "    %-8s %-12s %10s  95%% CI %s..%s",
            text_of(configuration, "mode", "?"),
            text_of(configuration, "split", "?"), median, low, high);
    if (speedup > 0)
      fprintf(stream, "  speedup %.2f", speedup);
    fprintf(stream, "  (%d rounds)\n", (int)number_of(configuration, "rounds"));
  }
}

static void print_text(FILE *stream, const json_t *answer) {
  const char *kind = text_of(answer, "kind", "campaign");
  fprintf(stream,
          "\nthe main job's answer (answer.json: %d rounds, stopped by %s; "
          "differences under %.0f%% count as equal):\n",
          (int)number_of(answer, "rounds"), text_of(answer, "stop_reason", "?"),
          100 * number_of(answer, "threshold"));
  if (strcmp(kind, "preview") == 0)
    fprintf(stream, "  PREVIEW: one round, no intervals; no winner is "
                    "claimed\n");
  size_t index;
  json_t *group;
  json_array_foreach(json_object_get(answer, "groups"), index, group) {
    fprintf(stream, "  %s %s: %s\n", text_of(group, "kernel", "?"),
            text_of(group, "regime", "?"),
            text_of(group, "verdict", "no verdict (see the medians)"));
    print_configurations(stream, group);
  }
  const json_t *disturbed = json_object_get(answer, "disturbed_runs");
  fprintf(stream,
          "  interference: %zu of %d runs disturbed (they decide "
          "nothing)\n",
          json_array_size(disturbed), (int)number_of(answer, "runs"));
}

static void print_markdown(FILE *stream, const json_t *answer) {
  fprintf(stream, "\n| kernel | regime | verdict (95%% CI) |\n|---|---|---|\n");
  size_t index;
  json_t *group;
  json_array_foreach(json_object_get(answer, "groups"), index, group) {
    fprintf(stream, "| %s | %s | ", text_of(group, "kernel", "?"),
            text_of(group, "regime", "?"));
    for (const char *c = text_of(group, "verdict", "no verdict"); *c; ++c) {
      if (*c == '|') /* a table cell: the bar is escaped */
        fputc('\\', stream);
      fputc(*c, stream);
    }
    fprintf(stream, " |\n");
  }
}

int parkit_report_print_answer(FILE *stream, const char *directory,
                               bool markdown) {
  char path[4200];
  struct stat status;
  int written = snprintf(path, sizeof path, "%s/answer.json", directory);
  if (written < 0 || (size_t)written >= sizeof path ||
      stat(path, &status) != 0 || !S_ISREG(status.st_mode))
    return 0;
  json_error_t error;
  json_t *answer = json_load_file(path, 0, &error);
  if (answer == NULL || !json_is_object(answer)) {
    fprintf(stderr, "parkit: warning: cannot read %s: %s (line %d)\n", path,
            answer ? "not a JSON object" : error.text, error.line);
    json_decref(answer);
    return -1;
  }
  if (markdown)
    print_markdown(stream, answer);
  else
    print_text(stream, answer);
  json_decref(answer);
  return 1;
}
