/*
 * The "PARKIT key=value ..." line a run prints for harnesses (ReFrame,
 * JUBE, shell scripts), always exactly one line:
 *
 *   line   = "PARKIT" 1*(" " pair) LF
 *   pair   = key "=" value
 *   key    = [a-z][a-z0-9_-]*          (fixed names, option names,
 * out_<output>) value  = bare / quoted bare   = 1*(a byte 0x21-0x7E other than
 * '"', '\' and '=') quoted = '"' *(escape / any other character) '"' escape =
 * "\\" / "\"" / "\n" / "\t" / "\r" / "\x" 2HEXDIG
 *
 * A value is bare when it can be (numbers, names, most paths); otherwise it
 * is quoted: an empty value, a space, '=', a quote, a backslash, a control
 * character or a non-ASCII one. Inside quotes, valid UTF-8 is kept as it
 * is; every other byte that is no printable ASCII (control characters,
 * bytes of invalid UTF-8) is written as \xHH, so the line is valid UTF-8
 * and a newline in a value never starts a second line. The Python parser
 * is analysis/parkit_analysis/key_values.py; README.md documents the
 * grammar.
 */
#include "summary.h"

#include "options.h"
#include "outputs.h"
#include "utf8.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

static bool is_bare(const char *value) {
  if (*value == '\0')
    return false;
  for (const unsigned char *c = (const unsigned char *)value; *c; ++c)
    if (*c <= 0x20 || *c >= 0x7f || *c == '"' || *c == '\\' || *c == '=')
      return false;
  return true;
}

static void write_quoted(FILE *stream, const char *value) {
  fputc('"', stream);
  const unsigned char *text = (const unsigned char *)value;
  for (size_t i = 0; text[i]; ++i) {
    unsigned char c = text[i];
    const char *escape = c == '"'    ? "\\\""
                         : c == '\\' ? "\\\\"
                         : c == '\n' ? "\\n"
                         : c == '\t' ? "\\t"
                         : c == '\r' ? "\\r"
                                     : NULL;
    int sequence = c >= 0x80 ? parkit_utf8_sequence_length(text + i) : 0;
    if (escape) {
      fputs(escape, stream);
    } else if (c >= 0x20 && c < 0x7f) {
      fputc(c, stream);
    } else if (sequence > 0) {
      fwrite(text + i, 1, (size_t)sequence, stream);
      i += (size_t)sequence - 1;
    } else {
      fprintf(stream, "\\x%02x", c);
    }
  }
  fputc('"', stream);
}

/* " key=value", the value bare or quoted as the grammar above says. */
static void write_pair(FILE *stream, const char *key, const char *value) {
  fprintf(stream, " %s=", key);
  if (is_bare(value))
    fputs(value, stream);
  else
    write_quoted(stream, value);
}

static void write_option(FILE *stream, const parkit_option *option,
                         const parkit_value *value) {
  if (option->type == PARKIT_OPTION_TEXT) { /* any length, quoted */
    write_pair(stream, option->name, value->text ? value->text : "");
    return;
  }
  char word[128];
  parkit_option_value_text(option, value, word, sizeof word);
  write_pair(stream, option->name, word);
}

/* out_<name>=VALUE for every headline output the run recorded: a scalar's
 * value, or an array's first or last element (kernel.h). Reals with 17
 * significant digits, so the value is the file's to the last bit. */
static void write_headlines(FILE *stream, const parkit_kernel *kernel,
                            const parkit_outputs *outputs) {
  for (int i = 0; i < kernel->output_count; ++i) {
    const parkit_output_spec *spec = &kernel->outputs[i];
    const parkit_output *output =
        spec->headline == PARKIT_HEADLINE_NONE
            ? NULL
            : parkit_outputs_find(outputs, spec->name);
    if (output == NULL || output->count == 0 || output->is_distributed)
      continue;
    size_t index =
        spec->headline == PARKIT_HEADLINE_LAST ? output->count - 1 : 0;
    if (output->is_integer)
      fprintf(stream, " out_%s=%" PRId64, spec->name, output->integers[index]);
    else
      fprintf(stream, " out_%s=%.17g", spec->name, output->reals[index]);
  }
}

void parkit_print_key_values(FILE *stream, const parkit_run_record *record) {
  const parkit_command *command = record->command;
  const parkit_run_result *result = record->result;
  const parkit_time_statistics *time = &result->statistics;
  fputs("PARKIT", stream);
  write_pair(stream, "kernel", command->kernel->name);
  write_pair(stream, "mode", parkit_mode_name(command->mode));
  fprintf(stream, " ranks=%d threads=%d nodes=%d ranks_per_node=%d",
          record->context->size, record->context->threads,
          record->placement->node_count, record->placement->max_ranks_on_node);
  for (int i = 0; i < command->kernel->option_count; ++i)
    write_option(stream, &command->kernel->options[i], &command->options[i]);
  fprintf(stream,
          " reps=%d interrupted=%d time_min=%.6e time_median=%.6e "
          "time_max=%.6e rate=%.6e",
          result->repetitions_completed, result->interrupted ? 1 : 0, time->min,
          time->median, time->max, result->rate);
  write_pair(stream, "rate_unit", result->rate_unit);
  fprintf(stream, " imbalance=%.4f verified=%d", time->imbalance,
          result->verdict.passed ? 1 : 0);
  write_headlines(stream, command->kernel, &result->outputs);
  write_pair(stream, "file", record->path);
  fputc('\n', stream);
}
