/*
 * Typed option tables: parsing `--name value` / `--name=value` command lines
 * against one or more tables, strict value parsing with range checks, and
 * the one-line messages that name the bad value and what is allowed.
 * Pure functions: no MPI, no I/O.
 */
#ifndef PARKIT_OPTIONS_H
#define PARKIT_OPTIONS_H

#include "kernel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One table and the values parsed for it (values[i] belongs to options[i]). */
typedef struct parkit_option_set {
  const parkit_option *options;
  int count;
  parkit_value *values;
} parkit_option_set;

/* Strict base-10 integer: the whole text, optional sign, no overflow. */
bool parkit_parse_int64(const char *text, int64_t *result);

/* Parses `text` as a value of `option` into `value` (is_set stays as it is).
 * On failure returns -1 and writes "--name text: <why>; allowed: <what>". */
int parkit_option_parse(const parkit_option *option, const char *text,
                        parkit_value *value, char *message, size_t size);

/* Writes what `option` accepts, e.g. "an integer in 1..65536 (elements)". */
void parkit_option_describe(const parkit_option *option, char *text,
                            size_t size);

/* Index of `name` in the table, or -1. */
int parkit_option_find(const parkit_option *options, int count,
                       const char *name);

/* Parses argv[0..argc) against the sets: each word must be an option of one
 * of the sets, given at most once. Then fills every unset value from its
 * table's default (options whose default is NULL are left zero).
 * Returns 0, or -1 with a one-line message. */
int parkit_options_parse(int argc, char **argv, parkit_option_set *sets,
                         int set_count, char *message, size_t size);

/* A parsed value as text, the one way parkit writes a value: integers in
 * decimal, numbers with 17 significant digits (they read back to the same
 * bits), a choice as its word, text as it is, a flag as 0 or 1. */
void parkit_option_value_text(const parkit_option *option,
                              const parkit_value *value, char *text,
                              size_t size);

/* "integer", "number", "choice", "text" or "flag". */
const char *parkit_option_type_name(parkit_option_type type);

/* The word at `index` in a "a|b|c" choice list, copied into `word`. */
void parkit_choice_word(const char *choices, int index, char *word,
                        size_t size);

#endif
