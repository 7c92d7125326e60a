/*
 * Quoting for the POSIX shell: any word, pasted back into sh or bash, or
 * split by Python's shlex, is one token with the same bytes (quotes,
 * spaces, newlines, non-ASCII included).
 */
#ifndef PARKIT_QUOTE_H
#define PARKIT_QUOTE_H

#include <stdbool.h>
#include <stddef.h>

/* Writes `word` quoted into `out` (always NUL-terminated): as it is when it
 * is made of characters the shell leaves alone, else in single quotes with
 * each ' written as '\''. Returns false when `out` was too small (the text
 * is then cut and must not be used). */
bool parkit_shell_quote(const char *word, char *out, size_t size);

/* Appends `count` words, quoted and separated by spaces, to `text`, which
 * holds `*used` characters (a space first when *used > 0). Returns false
 * when `size` was too small. */
bool parkit_shell_join(const char *const *words, int count, char *text,
                       size_t size, size_t *used);

#endif
