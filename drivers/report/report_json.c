#include "report_json.h"

#include "build_info.h"
#include "utf8.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct parkit_report_json {
  json_t *root, *runs;
  bool failed; /* a value could not be built: the document is incomplete */
};

parkit_report_json *parkit_report_json_new(void) {
  parkit_report_json *document = calloc(1, sizeof *document);
  if (document == NULL)
    return NULL;
  document->root = json_object();
  document->runs = json_array();
  if (document->root == NULL || document->runs == NULL ||
      json_object_set_new(document->root, "report_version",
                          json_integer(PARKIT_REPORT_JSON_VERSION)) != 0 ||
      json_object_set_new(document->root, "parkit_version",
                          json_string(PARKIT_VERSION)) != 0 ||
      json_object_set(document->root, "runs", document->runs) != 0)
    document->failed = true;
  return document;
}

/* A number, or null where it is not finite (JSON has no NaN). */
static json_t *number_or_null(double value) {
  return isfinite(value) ? json_real(value) : json_null();
}

/* A JSON string of `text`; bytes that are no valid UTF-8 (a path is
 * bytes) become U+FFFD, since JSON text must be Unicode. */
static json_t *text_value(const char *text) {
  json_t *value = json_string(text);
  if (value != NULL)
    return value;
  size_t length = strlen(text);
  char *valid = malloc(3 * length + 1); /* U+FFFD is 3 bytes */
  if (valid == NULL)
    return NULL;
  size_t out = 0;
  for (const unsigned char *c = (const unsigned char *)text; *c;) {
    int sequence = parkit_utf8_sequence_length(c);
    if (sequence == 0) {
      memcpy(valid + out, "\xef\xbf\xbd", 3);
      out += 3, c += 1;
    } else {
      memcpy(valid + out, c, (size_t)sequence);
      out += (size_t)sequence, c += sequence;
    }
  }
  valid[out] = '\0';
  value = json_string(valid);
  free(valid);
  return value;
}

/* jansson's setters accept a NULL value (out of memory) and then fail. */
static void set(parkit_report_json *document, json_t *row, const char *key,
                json_t *value) {
  if (json_object_set_new(row, key, value) != 0)
    document->failed = true;
}

int parkit_report_json_add(parkit_report_json *document,
                           const parkit_result_summary *summary,
                           const char *file,
                           const parkit_report_figures *figures) {
  json_t *row = json_object();
  if (row == NULL || json_array_append_new(document->runs, row) != 0) {
    document->failed = true;
    return -1;
  }
  const parkit_time_statistics *times = &summary->times;
  set(document, row, "kernel", text_value(summary->kernel));
  set(document, row, "problem", text_value(summary->problem));
  set(document, row, "mode", text_value(summary->mode));
  set(document, row, "nodes", json_integer(summary->nodes));
  set(document, row, "ranks_per_node", json_integer(summary->ranks_per_node));
  set(document, row, "ranks", json_integer(summary->ranks));
  set(document, row, "threads", json_integer(summary->threads));
  set(document, row, "workers", json_integer(summary->workers));
  set(document, row, "repetitions", json_integer(summary->repetitions));
  set(document, row, "time_median_s", number_or_null(times->median));
  set(document, row, "time_min_s", number_or_null(times->min));
  set(document, row, "time_max_s", number_or_null(times->max));
  set(document, row, "spread", number_or_null(figures->spread));
  set(document, row, "rate", number_or_null(summary->rate));
  set(document, row, "rate_unit", text_value(summary->rate_unit));
  set(document, row, "speedup", number_or_null(figures->speedup));
  set(document, row, "efficiency", number_or_null(figures->efficiency));
  set(document, row, "imbalance", number_or_null(times->imbalance));
  set(document, row, "verified", json_integer(summary->verified));
  set(document, row, "best", json_integer(figures->best ? 1 : 0));
  set(document, row, "file", text_value(file));
  return document->failed ? -1 : 0;
}

int parkit_report_json_finish(parkit_report_json *document, FILE *stream) {
  int status = -1;
  if (document == NULL || document->failed) {
    fprintf(stderr, "parkit: error: out of memory building the JSON report\n");
  } else if (json_dumpf(document->root, stream,
                        JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0 ||
             fputc('\n', stream) == EOF) {
    fprintf(stderr, "parkit: error: cannot write the JSON report\n");
  } else {
    status = 0;
  }
  if (document) {
    json_decref(document->runs);
    json_decref(document->root);
    free(document);
  }
  return status;
}
