/*
 * libFuzzer target: the whole command-line parser (modes, kernels, common
 * and kernel options, --inject-fault) on arbitrary argv.
 *
 * Input: words separated by NUL bytes (at most 32), standing for
 * argv[1..]. Checked on every input, beyond "no crash, no leak, no
 * undefined behaviour" (the sanitizers): parsing is pure and repeatable
 * (same input, same answer), a refusal comes with exactly one non-empty
 * line, and an accepted run has every integer option inside its range.
 */
#include "cli.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_WORDS = 32 };

/* Splits `text` (NUL-terminated copy of the input) at NUL bytes. */
static int split_words(char *text, size_t size, char **argv) {
  int argc = 0;
  argv[argc++] = "parkit";
  for (size_t start = 0; start < size && argc < MAX_WORDS + 1;) {
    argv[argc++] = text + start;
    start += strlen(text + start) + 1;
  }
  return argc;
}

static void check_ranges(const parkit_option *options,
                         const parkit_value *values, int count) {
  for (int i = 0; i < count; ++i) {
    const parkit_option *option = &options[i];
    if (option->default_value == NULL && !values[i].is_set)
      continue; /* computed later by the driver (e.g. --threads) */
    if (option->type == PARKIT_OPTION_INT &&
        (values[i].integer < option->min || values[i].integer > option->max))
      abort();
    if (option->type == PARKIT_OPTION_TEXT &&
        (values[i].text == NULL || values[i].text[0] == '\0'))
      abort();
  }
}

static int parse_once(int argc, char **argv, parkit_command *command,
                      char *message, size_t size) {
  message[0] = '\0';
  return parkit_command_parse(argc, argv, command, message, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096)
    return 0;
  char *text = malloc(size + 1);
  if (text == NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  char *argv[MAX_WORDS + 2] = {0};
  int argc = split_words(text, size, argv);

  parkit_command first, second;
  char message[1024], again[1024];
  int status = parse_once(argc, argv, &first, message, sizeof message);
  int repeated = parse_once(argc, argv, &second, again, sizeof again);
  if (status != repeated || strcmp(message, again) != 0)
    abort(); /* parsing must be pure: every rank parses alike */
  if (status != 0) {
    if (message[0] == '\0' || strchr(message, '\n') != NULL)
      abort(); /* one line, never empty */
  } else if (first.kind == PARKIT_COMMAND_RUN) {
    check_ranges(parkit_common_options, first.common, PARKIT_COMMON_COUNT);
    check_ranges(first.kernel->options, first.options,
                 first.kernel->option_count);
  }
  parkit_command_free(&first);
  parkit_command_free(&second);
  free(text);
  return 0;
}
