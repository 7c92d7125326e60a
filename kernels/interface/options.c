#include "options.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool parkit_parse_int64(const char *text, int64_t *result) {
  if (text == NULL || *text == '\0')
    return false;
  char *end = NULL;
  errno = 0;
  long long parsed = strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0' || end == text)
    return false;
  /* strtoll skips leading white space; a value must not have any. */
  if (text[0] == ' ' || text[0] == '\t')
    return false;
  *result = (int64_t)parsed;
  return true;
}

static bool parse_double(const char *text, double *result) {
  if (text == NULL || *text == '\0' || text[0] == ' ' || text[0] == '\t')
    return false;
  char *end = NULL;
  errno = 0;
  double parsed = strtod(text, &end);
  if (errno != 0 || *end != '\0' || end == text || !isfinite(parsed))
    return false;
  *result = parsed;
  return true;
}

void parkit_choice_word(const char *choices, int index, char *word,
                        size_t size) {
  const char *start = choices;
  for (int i = 0; i < index && start; ++i) {
    start = strchr(start, '|');
    if (start)
      ++start;
  }
  if (start == NULL) {
    snprintf(word, size, "?");
    return;
  }
  size_t length = strcspn(start, "|");
  snprintf(word, size, "%.*s", (int)length, start);
}

static int choice_index(const char *choices, const char *text) {
  size_t text_length = strlen(text);
  int index = 0;
  for (const char *start = choices; start; ++index) {
    size_t length = strcspn(start, "|");
    if (length == text_length && strncmp(start, text, length) == 0)
      return index;
    start = strchr(start, '|');
    if (start)
      ++start;
  }
  return -1;
}

static const char *unit_suffix(const parkit_option *option) {
  return (option->unit && strcmp(option->unit, "1") != 0) ? option->unit : "";
}

void parkit_option_describe(const parkit_option *option, char *text,
                            size_t size) {
  const char *unit = unit_suffix(option);
  const char *open = *unit ? " (" : "", *close = *unit ? ")" : "";
  switch (option->type) {
  case PARKIT_OPTION_INT:
    snprintf(text, size, "an integer in %" PRId64 "..%" PRId64 "%s%s%s",
             option->min, option->max, open, unit, close);
    break;
  case PARKIT_OPTION_DOUBLE:
    snprintf(text, size, "a number in %g..%g%s%s%s", option->min_real,
             option->max_real, open, unit, close);
    break;
  case PARKIT_OPTION_CHOICE:
    snprintf(text, size, "one of %s", option->choices);
    break;
  case PARKIT_OPTION_TEXT:
    snprintf(text, size, "a non-empty text");
    break;
  case PARKIT_OPTION_FLAG:
    snprintf(text, size, "no value");
    break;
  }
}

static int reject(const parkit_option *option, const char *text,
                  const char *why, char *message, size_t size) {
  char allowed[160];
  parkit_option_describe(option, allowed, sizeof allowed);
  snprintf(message, size, "--%s '%s': %s; allowed: %s", option->name, text, why,
           allowed);
  return -1;
}

int parkit_option_parse(const parkit_option *option, const char *text,
                        parkit_value *value, char *message, size_t size) {
  switch (option->type) {
  case PARKIT_OPTION_INT: {
    int64_t parsed = 0;
    if (!parkit_parse_int64(text, &parsed)) {
      char *end = NULL;
      errno = 0;
      (void)strtoll(text, &end, 10);
      bool overflow = errno == ERANGE && end != text && *end == '\0';
      return reject(option, text,
                    overflow ? "too large for a 64-bit integer"
                             : "not an integer",
                    message, size);
    }
    if (parsed < option->min || parsed > option->max)
      return reject(option, text,
                    parsed < option->min ? "too small" : "too large", message,
                    size);
    value->integer = parsed;
    return 0;
  }
  case PARKIT_OPTION_DOUBLE: {
    double parsed = 0;
    if (!parse_double(text, &parsed))
      return reject(option, text, "not a finite number", message, size);
    if (parsed < option->min_real || parsed > option->max_real)
      return reject(option, text, "out of range", message, size);
    value->real = parsed;
    return 0;
  }
  case PARKIT_OPTION_CHOICE: {
    int index = choice_index(option->choices, text);
    if (index < 0)
      return reject(option, text, "not a known choice", message, size);
    value->choice = index;
    return 0;
  }
  case PARKIT_OPTION_TEXT:
    if (text == NULL || *text == '\0')
      return reject(option, text ? text : "", "empty", message, size);
    value->text = text;
    return 0;
  case PARKIT_OPTION_FLAG:
    value->flag = true;
    return 0;
  }
  return reject(option, text, "unknown option type", message, size);
}

int parkit_option_find(const parkit_option *options, int count,
                       const char *name) {
  for (int i = 0; i < count; ++i)
    if (strcmp(options[i].name, name) == 0)
      return i;
  return -1;
}

/* Finds `name` in the sets; returns the set index and option index. */
static bool find_in_sets(const parkit_option_set *sets, int set_count,
                         const char *name, int *set, int *option) {
  for (int s = 0; s < set_count; ++s) {
    int index = parkit_option_find(sets[s].options, sets[s].count, name);
    if (index >= 0) {
      *set = s;
      *option = index;
      return true;
    }
  }
  return false;
}

static int apply_defaults(parkit_option_set *sets, int set_count, char *message,
                          size_t size) {
  for (int s = 0; s < set_count; ++s)
    for (int i = 0; i < sets[s].count; ++i) {
      const parkit_option *option = &sets[s].options[i];
      parkit_value *value = &sets[s].values[i];
      if (value->is_set || option->default_value == NULL)
        continue;
      if (option->type == PARKIT_OPTION_FLAG)
        continue;
      if (parkit_option_parse(option, option->default_value, value, message,
                              size) != 0)
        return -1;
    }
  return 0;
}

int parkit_options_parse(int argc, char **argv, parkit_option_set *sets,
                         int set_count, char *message, size_t size) {
  for (int s = 0; s < set_count; ++s)
    memset(sets[s].values, 0, sizeof(parkit_value) * (size_t)sets[s].count);
  for (int i = 0; i < argc; ++i) {
    const char *word = argv[i];
    if (strncmp(word, "--", 2) != 0 || word[2] == '\0') {
      snprintf(message, size,
               "unexpected argument '%s': options are written --name value",
               word);
      return -1;
    }
    char name[64];
    const char *equals = strchr(word + 2, '=');
    size_t name_length =
        equals ? (size_t)(equals - word - 2) : strlen(word + 2);
    if (name_length >= sizeof name) {
      snprintf(message, size, "unknown option '%.40s...'", word);
      return -1;
    }
    memcpy(name, word + 2, name_length);
    name[name_length] = '\0';
    int set = 0, index = 0;
    if (!find_in_sets(sets, set_count, name, &set, &index)) {
      snprintf(message, size, "unknown option '--%s'", name);
      return -1;
    }
    const parkit_option *option = &sets[set].options[index];
    parkit_value *value = &sets[set].values[index];
    if (value->is_set) {
      snprintf(message, size, "option '--%s' is given more than once", name);
      return -1;
    }
    const char *text = NULL;
    if (option->type == PARKIT_OPTION_FLAG) {
      if (equals) {
        snprintf(message, size, "option '--%s' takes no value (got '%s')", name,
                 equals + 1);
        return -1;
      }
    } else if (equals) {
      text = equals + 1;
    } else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
      text = argv[++i]; /* "--out --quiet" lacks a value: write --out=--x */
    } else {
      char allowed[160];
      parkit_option_describe(option, allowed, sizeof allowed);
      snprintf(message, size, "option '--%s' needs a value: %s", name, allowed);
      return -1;
    }
    if (parkit_option_parse(option, text, value, message, size) != 0)
      return -1;
    value->is_set = true;
  }
  return apply_defaults(sets, set_count, message, size);
}

void parkit_option_value_text(const parkit_option *option,
                              const parkit_value *value, char *text,
                              size_t size) {
  switch (option->type) {
  case PARKIT_OPTION_INT:
    snprintf(text, size, "%lld", (long long)value->integer);
    return;
  case PARKIT_OPTION_DOUBLE:
    snprintf(text, size, "%.17g", value->real);
    return;
  case PARKIT_OPTION_CHOICE:
    parkit_choice_word(option->choices, value->choice, text, size);
    return;
  case PARKIT_OPTION_TEXT:
    snprintf(text, size, "%s", value->text ? value->text : "");
    return;
  case PARKIT_OPTION_FLAG:
    snprintf(text, size, "%d", value->flag ? 1 : 0);
    return;
  }
  snprintf(text, size, "?");
}

const char *parkit_option_type_name(parkit_option_type type) {
  switch (type) {
  case PARKIT_OPTION_INT:
    return "integer";
  case PARKIT_OPTION_DOUBLE:
    return "number";
  case PARKIT_OPTION_CHOICE:
    return "choice";
  case PARKIT_OPTION_TEXT:
    return "text";
  case PARKIT_OPTION_FLAG:
    return "flag";
  }
  return "unknown";
}
