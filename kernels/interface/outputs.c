#include "outputs.h"

#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void parkit_outputs_init(parkit_outputs *outputs) {
  memset(outputs, 0, sizeof *outputs);
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
                             const char *unit, const char *description,
                             bool is_integer, bool is_array, size_t count) {
  if (name == NULL || *name == '\0' || strlen(name) >= 64 ||
      parkit_outputs_find(outputs, name) != NULL) {
    parkit_error_set(__FILE__, __LINE__,
                     "output name '%s' is empty, too long or recorded twice",
                     name ? name : "(null)");
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
  snprintf(entry->unit, sizeof entry->unit, "%s", unit ? unit : "1");
  snprintf(entry->description, sizeof entry->description, "%s",
           description ? description : "");
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

int parkit_output_real(parkit_outputs *out, const char *name, double value,
                       const char *unit, const char *description) {
  parkit_output *entry = append(out, name, unit, description, false, false, 1);
  if (entry == NULL)
    return -1;
  entry->reals[0] = value;
  return 0;
}

int parkit_output_integer(parkit_outputs *out, const char *name, int64_t value,
                          const char *unit, const char *description) {
  parkit_output *entry = append(out, name, unit, description, true, false, 1);
  if (entry == NULL)
    return -1;
  entry->integers[0] = value;
  return 0;
}

int parkit_output_reals(parkit_outputs *out, const char *name,
                        const double *values, size_t count, const char *unit,
                        const char *description) {
  parkit_output *entry =
      append(out, name, unit, description, false, true, count);
  if (entry == NULL)
    return -1;
  memcpy(entry->reals, values, sizeof(double) * count);
  return 0;
}

int parkit_output_integers(parkit_outputs *out, const char *name,
                           const int64_t *values, size_t count,
                           const char *unit, const char *description) {
  parkit_output *entry =
      append(out, name, unit, description, true, true, count);
  if (entry == NULL)
    return -1;
  memcpy(entry->integers, values, sizeof(int64_t) * count);
  return 0;
}

int parkit_output_real_block(parkit_outputs *out, const char *name,
                             const double *block, const int64_t global_shape[2],
                             const int64_t offset[2], const int64_t count[2],
                             const char *unit, const char *description) {
  for (int d = 0; d < 2; ++d)
    PARKIT_CHECK(global_shape[d] >= 0 && offset[d] >= 0 && count[d] >= 0 &&
                     offset[d] + count[d] <= global_shape[d],
                 "output '%s': block of %lld at %lld does not fit in %lld "
                 "(dimension %d)",
                 name ? name : "(null)", (long long)count[d],
                 (long long)offset[d], (long long)global_shape[d], d);
  size_t values = (size_t)count[0] * (size_t)count[1];
  parkit_output *entry =
      append(out, name, unit, description, false, true, values);
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
