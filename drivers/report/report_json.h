/*
 * `parkit report --format json`: the report's rows as one JSON document,
 * written with jansson. The row fields are the columns of `--format csv`
 * (so pandas reads either into the same table); its schema is
 * schema/report.schema.json, its layout results/README.md ("The report as
 * JSON").
 */
#ifndef PARKIT_REPORT_JSON_H
#define PARKIT_REPORT_JSON_H

#include "result_reader.h"

#include <stdbool.h>
#include <stdio.h>

/* Bumped whenever the document's layout changes incompatibly. */
#define PARKIT_REPORT_JSON_VERSION 1

/* What the report adds to a file's summary (report.h): NAN where there is
 * no value (written as null). */
typedef struct parkit_report_figures {
  double spread, speedup, efficiency;
  bool best;
} parkit_report_figures;

typedef struct parkit_report_json parkit_report_json;

/* An empty document; NULL when out of memory. */
parkit_report_json *parkit_report_json_new(void);
/* Appends one run. Returns 0, or -1 when out of memory (the document is
 * then incomplete, and parkit_report_json_finish fails). */
int parkit_report_json_add(parkit_report_json *document,
                           const parkit_result_summary *summary,
                           const char *file,
                           const parkit_report_figures *figures);
/* Writes the document (and a newline) to `stream` and frees it; accepts
 * NULL. Returns 0, or -1 with a message on stderr. */
int parkit_report_json_finish(parkit_report_json *document, FILE *stream);

#endif
