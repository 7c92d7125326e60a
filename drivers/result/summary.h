/* What a run prints on stdout (rank 0 only): a short human summary
 * (summary.c), and one "PARKIT key=value ..." line for harnesses (ReFrame,
 * JUBE) to read, its grammar in key_values.c. */
#ifndef PARKIT_SUMMARY_H
#define PARKIT_SUMMARY_H

#include "run_record.h"

#include <stdio.h>

void parkit_print_summary(FILE *stream, const parkit_run_record *record);
void parkit_print_key_values(FILE *stream, const parkit_run_record *record);

#endif
