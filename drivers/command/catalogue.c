#include "catalogue.h"

#include "build_info.h"
#include "check.h"
#include "cli.h"
#include "options.h"

#include <jansson.h>
#include <string.h>

/* jansson's constructors return NULL when out of memory, and the setters
 * that steal a reference accept NULL and then fail: one check at the end
 * (json_dumpf of an incomplete tree) would hide which part failed, so every
 * set goes through here. */
static int set(json_t *object, const char *key, json_t *value) {
  PARKIT_CHECK(value != NULL && json_object_set_new(object, key, value) == 0,
               "cannot build the catalogue entry '%s'", key);
  return 0;
}

static int append(json_t *array, json_t *value) {
  PARKIT_CHECK(value != NULL && json_array_append_new(array, value) == 0,
               "cannot build the catalogue");
  return 0;
}

/* NULL text as JSON null. */
static json_t *text_or_null(const char *text) {
  return text ? json_string(text) : json_null();
}

/* "a b  c" as ["a", "b", "c"]; NULL as []. */
static json_t *words(const char *text) {
  json_t *array = json_array();
  for (const char *word = text; array && word && *word;) {
    word += strspn(word, " ");
    size_t length = strcspn(word, " ");
    if (length == 0)
      break;
    if (json_array_append_new(array, json_stringn(word, length)) != 0) {
      json_decref(array);
      return NULL;
    }
    word += length;
  }
  return array;
}

static int option_entry(const parkit_option *option, json_t *entry) {
  PARKIT_CALL(set(entry, "name", json_string(option->name)));
  PARKIT_CALL(
      set(entry, "type", json_string(parkit_option_type_name(option->type))));
  PARKIT_CALL(set(entry, "default", text_or_null(option->default_value)));
  PARKIT_CALL(set(entry, "unit", json_string(option->unit)));
  PARKIT_CALL(set(entry, "help", text_or_null(option->help)));
  char allowed[160];
  parkit_option_describe(option, allowed, sizeof allowed);
  PARKIT_CALL(set(entry, "allowed", json_string(allowed)));
  switch (option->type) {
  case PARKIT_OPTION_INT:
    PARKIT_CALL(set(entry, "min", json_integer(option->min)));
    PARKIT_CALL(set(entry, "max", json_integer(option->max)));
    break;
  case PARKIT_OPTION_DOUBLE:
    PARKIT_CALL(set(entry, "min", json_real(option->min_real)));
    PARKIT_CALL(set(entry, "max", json_real(option->max_real)));
    break;
  case PARKIT_OPTION_CHOICE: {
    char choices[256];
    snprintf(choices, sizeof choices, "%s", option->choices);
    for (char *bar = strchr(choices, '|'); bar; bar = strchr(bar, '|'))
      *bar = ' ';
    PARKIT_CALL(set(entry, "choices", words(choices)));
    break;
  }
  case PARKIT_OPTION_TEXT:
  case PARKIT_OPTION_FLAG:
    break;
  }
  return 0;
}

static json_t *option_array(const parkit_option *options, int count) {
  json_t *array = json_array();
  for (int i = 0; array && i < count; ++i) {
    json_t *entry = json_object();
    if (entry == NULL || option_entry(&options[i], entry) != 0 ||
        json_array_append_new(array, entry) != 0) {
      json_decref(array);
      return NULL;
    }
  }
  return array;
}

static const char *agreement_name(parkit_output_agreement agreement) {
  switch (agreement) {
  case PARKIT_OUTPUT_BITWISE:
    return "bitwise";
  case PARKIT_OUTPUT_TOLERANCE:
    return "tolerance";
  case PARKIT_OUTPUT_DIFFERS:
    return "differs";
  case PARKIT_OUTPUT_MEASURED:
    return "measured";
  }
  return "unknown";
}

/* NULL (not a headline), "value", "first" or "last" (kernel.h). */
static json_t *headline_or_null(parkit_output_headline headline) {
  switch (headline) {
  case PARKIT_HEADLINE_NONE:
    break;
  case PARKIT_HEADLINE_VALUE:
    return json_string("value");
  case PARKIT_HEADLINE_FIRST:
    return json_string("first");
  case PARKIT_HEADLINE_LAST:
    return json_string("last");
  }
  return json_null();
}

static int output_entry(const parkit_output_spec *spec, json_t *entry) {
  PARKIT_CALL(set(entry, "name", json_string(spec->name)));
  PARKIT_CALL(set(entry, "unit", json_string(spec->unit)));
  PARKIT_CALL(set(entry, "description", text_or_null(spec->description)));
  PARKIT_CALL(set(entry, "shape", text_or_null(spec->shape)));
  PARKIT_CALL(
      set(entry, "agreement", json_string(agreement_name(spec->agreement))));
  PARKIT_CALL(set(entry, "tolerance", text_or_null(spec->tolerance)));
  PARKIT_CALL(set(entry, "scale", text_or_null(spec->scale)));
  PARKIT_CALL(set(entry, "when", text_or_null(spec->when)));
  PARKIT_CALL(set(entry, "headline", headline_or_null(spec->headline)));
  return 0;
}

static int rate_unit_entries(const parkit_kernel *kernel, json_t *entry) {
  json_t *units = json_array();
  PARKIT_CALL(set(entry, "rate_units", units));
  for (int i = 0; i < kernel->rate_unit_count; ++i) {
    json_t *unit = json_object();
    PARKIT_CALL(append(units, unit));
    PARKIT_CALL(set(unit, "unit", json_string(kernel->rate_units[i].unit)));
    PARKIT_CALL(set(unit, "when", text_or_null(kernel->rate_units[i].when)));
  }
  return 0;
}

static int kernel_tables(const parkit_kernel *kernel, json_t *entry) {
  json_t *outputs = json_array(), *phases = json_array(), *tests = json_array();
  PARKIT_CALL(set(entry, "outputs", outputs));
  PARKIT_CALL(set(entry, "phases", phases));
  PARKIT_CALL(set(entry, "tests", tests));
  for (int i = 0; i < kernel->output_count; ++i) {
    json_t *output = json_object();
    PARKIT_CALL(append(outputs, output));
    PARKIT_CALL(output_entry(&kernel->outputs[i], output));
  }
  for (int i = 0; i < kernel->phase_count; ++i) {
    json_t *phase = json_object();
    PARKIT_CALL(append(phases, phase));
    PARKIT_CALL(set(phase, "name", json_string(kernel->phases[i].name)));
    PARKIT_CALL(
        set(phase, "description", text_or_null(kernel->phases[i].description)));
  }
  for (int i = 0; i < kernel->test_count; ++i) {
    const parkit_test_config *config = &kernel->tests[i];
    json_t *test = json_object();
    PARKIT_CALL(append(tests, test));
    PARKIT_CALL(set(test, "name",
                    json_string(config->name ? config->name : kernel->name)));
    PARKIT_CALL(set(test, "arguments", words(config->arguments)));
    PARKIT_CALL(set(test, "requires", words(config->requires)));
  }
  return 0;
}

static int kernel_entry(const parkit_kernel *kernel, json_t *entry) {
  PARKIT_CALL(set(entry, "name", json_string(kernel->name)));
  PARKIT_CALL(set(entry, "summary", json_string(kernel->summary)));
  PARKIT_CALL(
      set(entry, "kind",
          json_string(kernel->kind == PARKIT_KERNEL_PROBE ? "probe" : "work")));
  PARKIT_CALL(set(entry, "options",
                  option_array(kernel->options, kernel->option_count)));
  PARKIT_CALL(rate_unit_entries(kernel, entry));
  PARKIT_CALL(kernel_tables(kernel, entry));
  PARKIT_CALL(
      set(entry, "memcheck_arguments", words(kernel->memcheck_arguments)));
  const parkit_working_set *working_set = &kernel->working_set;
  if (working_set->option == NULL)
    return set(entry, "working_set", json_null());
  json_t *growth = json_object();
  PARKIT_CALL(set(entry, "working_set", growth));
  PARKIT_CALL(set(growth, "option", json_string(working_set->option)));
  PARKIT_CALL(
      set(growth, "bytes_per_unit", json_real(working_set->bytes_per_unit)));
  return set(growth, "exponent", json_integer(working_set->exponent));
}

static int launch_entries(json_t *catalogue) {
  json_t *modes = json_array(), *statuses = json_array();
  PARKIT_CALL(set(catalogue, "modes", modes));
  PARKIT_CALL(set(catalogue, "exit_statuses", statuses));
  for (int m = 0; m < PARKIT_MODE_COUNT; ++m) {
    json_t *mode = json_object();
    PARKIT_CALL(append(modes, mode));
    PARKIT_CALL(set(mode, "name", json_string(parkit_mode_name(m))));
    PARKIT_CALL(
        set(mode, "description", json_string(parkit_mode_description(m))));
  }
  for (int i = 0; i < parkit_exit_status_count; ++i) {
    json_t *status = json_object();
    PARKIT_CALL(append(statuses, status));
    PARKIT_CALL(
        set(status, "status", json_integer(parkit_exit_statuses[i].status)));
    PARKIT_CALL(
        set(status, "meaning", json_string(parkit_exit_statuses[i].meaning)));
  }
  return 0;
}

static int build(json_t *catalogue) {
  PARKIT_CALL(set(catalogue, "catalogue_version",
                  json_integer(PARKIT_CATALOGUE_VERSION)));
  PARKIT_CALL(set(catalogue, "parkit_version", json_string(PARKIT_VERSION)));
  PARKIT_CALL(launch_entries(catalogue));
  PARKIT_CALL(set(catalogue, "common_options",
                  option_array(parkit_common_options, PARKIT_COMMON_COUNT)));
  json_t *kernels = json_array();
  PARKIT_CALL(set(catalogue, "kernels", kernels));
  for (int i = 0; i < parkit_kernel_count(); ++i) {
    json_t *entry = json_object();
    PARKIT_CALL(append(kernels, entry));
    PARKIT_CALL(kernel_entry(parkit_kernel_at(i), entry));
  }
  return 0;
}

int parkit_print_catalogue(FILE *stream) {
  json_t *catalogue = json_object();
  PARKIT_CHECK(catalogue != NULL, "out of memory building the catalogue");
  int status = build(catalogue);
  if (status == 0 && json_dumpf(catalogue, stream,
                                JSON_INDENT(1) | JSON_PRESERVE_ORDER) != 0) {
    parkit_error_set(__FILE__, __LINE__, "cannot write the catalogue");
    status = -1;
  }
  if (status == 0)
    fputc('\n', stream);
  json_decref(catalogue);
  return status;
}
