/*
 * The main job's answer in `parkit report`: where a path given is a
 * campaign directory of the main job (it holds answer.json, written by
 * parkit_analysis.verdict_command from the one statistics module), the
 * report prints that campaign's verdict per kernel and regime and the
 * medians with their 95% intervals after its table, as they are: the
 * numbers are computed once, in Python, and read here, never recomputed.
 */
#ifndef PARKIT_REPORT_ANSWER_H
#define PARKIT_REPORT_ANSWER_H

#include <stdbool.h>
#include <stdio.h>

/* Prints the answer of `directory`/answer.json as text (markdown: as a
 * table). Returns 1 when printed, 0 when the directory holds no answer,
 * -1 (with a warning on stderr) when the file cannot be read. */
int parkit_report_print_answer(FILE *stream, const char *directory,
                               bool markdown);

#endif
