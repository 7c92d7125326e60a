/* Everything known about one finished run: what the result file and the
 * summary are written from. Every field is the same on all ranks except the
 * placement and the per-rank parts of the result. */
#ifndef PARKIT_RUN_RECORD_H
#define PARKIT_RUN_RECORD_H

#include "cli.h"
#include "placement.h"
#include "provenance.h"
#include "runner.h"

typedef struct parkit_run_record {
  const parkit_command *command;
  const parkit_context *context;
  const parkit_placement *placement;
  const parkit_run_result *result;
  const parkit_provenance *provenance;
  char finished_utc[32];
  char path[4096]; /* the final result file */
} parkit_run_record;

#endif
