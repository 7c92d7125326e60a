#include "outputs.h"

#include "check.h"
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void parkit_outputs_init(parkit_outputs *outputs, const parkit_kernel *kernel) {
  memset(outputs, 0, sizeof *outputs);
  outputs->specs = kernel->outputs;
  outputs->spec_count = kernel->output_count;
}

const parkit_output_spec *parkit_output_spec_find(const parkit_kernel *kernel,
                                                  const char *name) {
  for (int i = 0; i < kernel->output_count; ++i)
    if (strcmp(kernel->outputs[i].name, name) == 0)
      return &kernel->outputs[i];
  return NULL;
}

static const parkit_output_spec *declared(const parkit_outputs *outputs,
                                          const char *name) {
  for (int i = 0; i < outputs->spec_count; ++i)
    if (strcmp(outputs->specs[i].name, name) == 0)
      return &outputs->specs[i];
  return NULL;
}

void parkit_outputs_free(parkit_outputs *outputs) {
  for (int i = 0; i < outputs->count; ++i) {
    free(outputs->entries[i].reals);
    free(outputs->entries[i].integers);
  }
  free(outputs->entries);
  memset(outputs, 0, sizeof *outputs);
}

const parkit_output *parkit_outputs_find(const parkit_outputs *outputs,
                                         const char *name) {
  for (int i = 0; i < outputs->count; ++i)
    if (strcmp(outputs->entries[i].name, name) == 0)
      return &outputs->entries[i];
  return NULL;
}

/* Appends an entry with room for `count` values; NULL on failure. */
static parkit_output *append(parkit_outputs *outputs, const char *name,
                             bool is_integer, bool is_array, size_t count) {
  const parkit_output_spec *spec = name ? declared(outputs, name) : NULL;
  if (spec == NULL) {
    parkit_error_set(__FILE__, __LINE__,
                     "output '%s' is not declared in the kernel's output "
                     "table (.outputs of its descriptor)",
                     name ? name : "(null)");
    return NULL;
  }
  if (strlen(name) >= 64 || parkit_outputs_find(outputs, name) != NULL) {
    parkit_error_set(__FILE__, __LINE__,
                     "output name '%s' is too long or recorded twice", name);
    return NULL;
  }
  if (outputs->count == outputs->capacity) {
    int capacity = outputs->capacity ? 2 * outputs->capacity : 8;
    parkit_output *grown =
        realloc(outputs->entries, sizeof(parkit_output) * (size_t)capacity);
    if (grown == NULL) {
      parkit_error_set(__FILE__, __LINE__, "cannot grow the output list");
      return NULL;
    }
    outputs->entries = grown;
    outputs->capacity = capacity;
  }
  parkit_output *entry = &outputs->entries[outputs->count];
  memset(entry, 0, sizeof *entry);
  snprintf(entry->name, sizeof entry->name, "%s", name);
  entry->spec = spec;
  snprintf(entry->unit, sizeof entry->unit, "%s", spec->unit);
  snprintf(entry->description, sizeof entry->description, "%s",
           spec->description);
  entry->is_integer = is_integer;
  entry->is_array = is_array;
  entry->count = count;
  size_t bytes =
      (count ? count : 1) * (is_integer ? sizeof(int64_t) : sizeof(double));
  void *values = parkit_allocate(bytes, __FILE__, __LINE__);
  if (values == NULL)
    return NULL;
  if (is_integer)
    entry->integers = values;
  else
    entry->reals = values;
  outputs->count++;
  return entry;
}

int parkit_output_real(parkit_outputs *out, const char *name, double value) {
  parkit_output *entry = append(out, name, false, false, 1);
  if (entry == NULL)
    return -1;
  entry->reals[0] = value;
  return 0;
}

int parkit_output_integer(parkit_outputs *out, const char *name,
                          int64_t value) {
  parkit_output *entry = append(out, name, true, false, 1);
  if (entry == NULL)
    return -1;
  entry->integers[0] = value;
  return 0;
}

int parkit_output_reals(parkit_outputs *out, const char *name,
                        const double *values, size_t count) {
  parkit_output *entry = append(out, name, false, true, count);
  if (entry == NULL)
    return -1;
  memcpy(entry->reals, values, sizeof(double) * count);
  return 0;
}

int parkit_output_integers(parkit_outputs *out, const char *name,
                           const int64_t *values, size_t count) {
  parkit_output *entry = append(out, name, true, true, count);
  if (entry == NULL)
    return -1;
  memcpy(entry->integers, values, sizeof(int64_t) * count);
  return 0;
}

int parkit_output_real_block(parkit_outputs *out, const char *name,
                             const double *block, const int64_t global_shape[2],
                             const int64_t offset[2], const int64_t count[2]) {
  for (int d = 0; d < 2; ++d)
    PARKIT_CHECK(global_shape[d] >= 0 && offset[d] >= 0 && count[d] >= 0 &&
                     offset[d] + count[d] <= global_shape[d],
                 "output '%s': block of %lld at %lld does not fit in %lld "
                 "(dimension %d)",
                 name ? name : "(null)", (long long)count[d],
                 (long long)offset[d], (long long)global_shape[d], d);
  size_t values = (size_t)count[0] * (size_t)count[1];
  parkit_output *entry = append(out, name, false, true, values);
  if (entry == NULL)
    return -1;
  entry->is_distributed = true;
  for (int d = 0; d < 2; ++d) {
    entry->global_shape[d] = global_shape[d];
    entry->block_offset[d] = offset[d];
    entry->block_count[d] = count[d];
  }
  if (values)
    memcpy(entry->reals, block, sizeof(double) * values);
  return 0;
}

/* ---- conditions of the output table ------------------------------------ */

/* The value NAME stands for in a condition: a launch figure, an option, or
 * an integer output recorded so far. Returns 0 with the value as text
 * (options of type text or choice) or as a number, or -1 when unknown. */
static int condition_value(const char *name,
                           const parkit_output_condition_context *at,
                           char *text, size_t size, double *number) {
  const struct {
    const char *name;
    int64_t value;
  } launch[] = {
      {"ranks", at->ranks}, {"threads", at->threads}, {"nodes", at->nodes}};
  text[0] = '\0';
  for (size_t i = 0; i < sizeof launch / sizeof launch[0]; ++i)
    if (strcmp(name, launch[i].name) == 0) {
      *number = (double)launch[i].value;
      snprintf(text, size, "%lld", (long long)launch[i].value);
      return 0;
    }
  const parkit_kernel *kernel = at->kernel;
  for (int i = 0; i < kernel->option_count; ++i) {
    const parkit_option *option = &kernel->options[i];
    if (strcmp(name, option->name) != 0)
      continue;
    const parkit_value *value = &at->options[i];
    parkit_option_value_text(option, value, text, size);
    *number = option->type == PARKIT_OPTION_INT      ? (double)value->integer
              : option->type == PARKIT_OPTION_DOUBLE ? value->real
              : option->type == PARKIT_OPTION_FLAG   ? (value->flag ? 1 : 0)
              : option->type == PARKIT_OPTION_CHOICE ? (double)value->choice
                                                     : 0;
    return 0;
  }
  const parkit_output *output =
      at->outputs ? parkit_outputs_find(at->outputs, name) : NULL;
  if (output && output->is_integer && !output->is_array) {
    *number = (double)output->integers[0];
    snprintf(text, size, "%lld", (long long)output->integers[0]);
    return 0;
  }
  return -1;
}

/* One term: "NAME", "!NAME", "NAME=V", "NAME!=V", "NAME>N". */
static int term_holds(const char *term, size_t length,
                      const parkit_output_condition_context *at) {
  char copy[128];
  PARKIT_CHECK(length > 0 && length < sizeof copy,
               "output condition term '%.*s' is empty or too long", (int)length,
               term);
  memcpy(copy, term, length);
  copy[length] = '\0';
  if (strcmp(copy, "optional") == 0)
    return 2;
  bool negated = copy[0] == '!';
  char *name = negated ? copy + 1 : copy;
  size_t name_length = strcspn(name, "=!>");
  char relation = name[name_length];
  const char *operand = "";
  if (relation == '!') {
    PARKIT_CHECK(name[name_length + 1] == '=',
                 "output condition term '%s' is malformed", copy);
    operand = name + name_length + 2;
  } else if (relation != '\0') {
    operand = name + name_length + 1;
  }
  name[name_length] = '\0';
  char text[128];
  double number = 0;
  PARKIT_CHECK(condition_value(name, at, text, sizeof text, &number) == 0,
               "output condition '%s' names '%s', which is no launch figure, "
               "option or integer output recorded before it",
               copy, name);
  bool holds;
  switch (relation) {
  case '=':
    holds = strcmp(text, operand) == 0;
    break;
  case '!':
    holds = strcmp(text, operand) != 0;
    break;
  case '>': {
    char *end = NULL;
    double limit = strtod(operand, &end);
    PARKIT_CHECK(end != operand && *end == '\0',
                 "output condition '%s': '%s' is not a number", copy, operand);
    holds = number > limit;
    break;
  }
  default:
    holds = number != 0;
  }
  return negated && relation == '\0' ? !holds : holds;
}

int parkit_output_condition_holds(const char *when,
                                  const parkit_output_condition_context *at) {
  if (when == NULL)
    return 1;
  static const char separator[] = " and ";
  int result = 1;
  const char *term = when;
  while (true) {
    const char *end = strstr(term, separator);
    size_t length = end ? (size_t)(end - term) : strlen(term);
    int holds = term_holds(term, length, at);
    if (holds < 0)
      return -1;
    if (holds == 0)
      result = 0;
    else if (holds == 2 && result == 1)
      result = 2;
    if (end == NULL)
      break;
    term = end + sizeof separator - 1;
  }
  return result;
}

int parkit_outputs_check_complete(const parkit_outputs *outputs,
                                  const parkit_output_condition_context *at) {
  for (int i = 0; i < outputs->spec_count; ++i) {
    const parkit_output_spec *spec = &outputs->specs[i];
    int holds = parkit_output_condition_holds(spec->when, at);
    if (holds < 0)
      return -1;
    bool recorded = parkit_outputs_find(outputs, spec->name) != NULL;
    PARKIT_CHECK(holds == 2 || (holds == 1) == recorded,
                 "%s output '%s' was %s, but its condition '%s' %s",
                 at->kernel->name, spec->name,
                 recorded ? "recorded" : "not recorded",
                 spec->when ? spec->when : "(always)",
                 holds ? "holds" : "does not hold");
  }
  return 0;
}
