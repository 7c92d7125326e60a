/*
 * `parkit list --format json`: everything the descriptors declare, for the
 * tools around parkit (CMake's test matrix, pytest, the analysis, the
 * campaign, the layout tables, shell completion). Written with jansson.
 * Its layout is documented in results/README.md ("The catalogue").
 */
#ifndef PARKIT_CATALOGUE_H
#define PARKIT_CATALOGUE_H

#include <stdio.h>

/* Bumped whenever the catalogue's layout changes incompatibly. */
#define PARKIT_CATALOGUE_VERSION 1

/* Prints the catalogue as one JSON document. Returns 0, or -1 with the
 * error set (out of memory, a write error). */
int parkit_print_catalogue(FILE *stream);

#endif
