/* Unit tests of the pieces under every run: option parsing, the kernel
 * registry's invariants, the balanced split kernels share, timing
 * statistics, CPU-set formatting and distributed block outputs. */
#include "check.h"
#include "cli.h"
#include "expect.h"
#include "options.h"
#include "outputs.h"
#include "partition.h"
#include "phases.h"
#include "placement.h"
#include "statistics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const parkit_option size_option = {.name = "n",
                                          .type = PARKIT_OPTION_INT,
                                          .default_value = "8",
                                          .unit = "elements",
                                          .help = "size",
                                          .min = 1,
                                          .max = 100};

static void test_integer_values(void) {
  parkit_value value = {0};
  char message[256] = "";
  EXPECT(parkit_option_parse(&size_option, "42", &value, message,
                             sizeof message) == 0 &&
             value.integer == 42,
         "42 parsed, got %lld (%s)", (long long)value.integer, message);
  const char *bad[] = {"0",   "-3",  "101",
                       "abc", "",    "4x",
                       " 5",  "1e3", "99999999999999999999999"};
  const char *why[] = {"too small",      "too small",      "too large",
                       "not an integer", "not an integer", "not an integer",
                       "not an integer", "not an integer", "too large for a"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    message[0] = '\0';
    int status = parkit_option_parse(&size_option, bad[i], &value, message,
                                     sizeof message);
    EXPECT(status != 0, "'%s' rejected", bad[i]);
    EXPECT(strstr(message, why[i]) != NULL, "'%s' gives '%s', got: %s", bad[i],
           why[i], message);
    EXPECT(strstr(message, "1..100") != NULL, "message names the range: %s",
           message);
  }
}

static void test_command_lines(void) {
  parkit_command command;
  char message[512];
  char *good[] = {"parkit",    "hybrid", "matmul", "--n=64",
                  "--threads", "3",      "--quiet"};
  EXPECT(parkit_command_parse(7, good, &command, message, sizeof message) == 0,
         "good line parses: %s", message);
  EXPECT(command.kind == PARKIT_COMMAND_RUN &&
             command.mode == PARKIT_MODE_HYBRID,
         "hybrid run");
  EXPECT(command.common[PARKIT_COMMON_THREADS].integer == 3 &&
             command.common[PARKIT_COMMON_THREADS].is_set,
         "--threads 3");
  EXPECT(command.common[PARKIT_COMMON_QUIET].flag, "--quiet");
  EXPECT(command.common[PARKIT_COMMON_REPS].integer == 5, "default reps");
  EXPECT(command.options[0].integer == 64, "--n=64");
  parkit_command_free(&command);

  struct {
    int argc;
    char *argv[6];
    const char *expected;
  } cases[] = {
      {1, {"parkit"}, "missing mode"},
      {2, {"parkit", "sideways"}, "unknown mode 'sideways'"},
      {2, {"parkit", "threads"}, "missing kernel"},
      {3, {"parkit", "threads", "fft"}, "unknown kernel 'fft'"},
      {4, {"parkit", "threads", "matmul", "--size"}, "unknown option '--size'"},
      {4, {"parkit", "threads", "matmul", "--n"}, "needs a value"},
      {5, {"parkit", "threads", "matmul", "--n", "0"}, "--n '0'"},
      {4, {"parkit", "threads", "matmul", "n"}, "unexpected argument 'n'"},
      {6,
       {"parkit", "ranks", "matmul", "--reps", "1", "--reps"},
       "more than once"},
      {4, {"parkit", "threads", "matmul", "--quiet=yes"}, "takes no value"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    message[0] = '\0';
    int status = parkit_command_parse(cases[i].argc, cases[i].argv, &command,
                                      message, sizeof message);
    EXPECT(status != 0, "case %zu rejected", i);
    EXPECT(strstr(message, cases[i].expected) != NULL,
           "case %zu says '%s', got: %s", i, cases[i].expected, message);
    EXPECT(strchr(message, '\n') == NULL, "one line: %s", message);
    parkit_command_free(&command);
  }
}

static void test_command_line_text(void) {
  char *argv[] = {"/opt/build/parkit", "hybrid", "matmul", "--out",
                  "my runs",           "--n=64"};
  char text[256];
  parkit_format_command_line(NULL, 6, argv, text, sizeof text);
  EXPECT(strcmp(text, "/opt/build/parkit hybrid matmul --out 'my runs' "
                      "--n=64") == 0,
         "as typed, quoted where needed; got %s", text);
  parkit_format_command_line("parkit", 3, argv, text, sizeof text);
  EXPECT(strcmp(text, "parkit hybrid matmul") == 0, "program replaced; got %s",
         text);
}

/* Every kernel: valid names, defaults that parse, no clash with the common
 * options (both end up as root attributes of the result file). */
static void test_registry(void) {
  EXPECT(parkit_kernel_count() >= 2, "kernels registered");
  for (int k = 0; k < parkit_kernel_count(); ++k) {
    const parkit_kernel *kernel = parkit_kernel_at(k);
    EXPECT(parkit_kernel_find(kernel->name) == kernel, "%s found",
           kernel->name);
    EXPECT(kernel->summary && *kernel->summary, "%s has a summary",
           kernel->name);
    EXPECT(kernel->setup && kernel->run && kernel->verify && kernel->teardown &&
               kernel->work && kernel->memory_bytes,
           "%s implements the interface", kernel->name);
    for (int i = 0; i < kernel->option_count; ++i) {
      const parkit_option *option = &kernel->options[i];
      EXPECT(parkit_option_find(parkit_common_options, PARKIT_COMMON_COUNT,
                                option->name) < 0,
             "%s --%s clashes with a common option", kernel->name,
             option->name);
      EXPECT(option->unit && option->help && *option->help,
             "%s --%s has unit and help", kernel->name, option->name);
      EXPECT(strspn(option->name, "abcdefghijklmnopqrstuvwxyz0123456789_") ==
                 strlen(option->name),
             "%s --%s is a plain name", kernel->name, option->name);
      parkit_value value = {0};
      char message[256] = "";
      /* NULL: the kernel computes the default (kernel.h), e.g. io --dir. */
      EXPECT(option->default_value == NULL ||
                 parkit_option_parse(option, option->default_value, &value,
                                     message, sizeof message) == 0,
             "%s --%s default parses: %s", kernel->name, option->name, message);
    }
  }
}

/* The parts tile [0, n) in order, differ in size by at most one, and the
 * owner of every index is the part whose range holds it. */
static void test_balanced_partition(void) {
  const int64_t sizes[] = {1, 2, 3, 7, 10, 97, 1000, 65536};
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; ++s) {
    int64_t n = sizes[s];
    for (int parts = 1; parts <= 9 && parts <= n; ++parts) {
      int64_t expected_begin = 0;
      for (int part = 0; part < parts; ++part) {
        parkit_range range = parkit_balanced_part(n, parts, part);
        int64_t length = range.end - range.begin;
        EXPECT(range.begin == expected_begin,
               "n=%lld parts=%d part=%d starts "
               "at %lld",
               (long long)n, parts, part, (long long)range.begin);
        EXPECT(length == n / parts || length == n / parts + 1,
               "n=%lld parts=%d part=%d has %lld", (long long)n, parts, part,
               (long long)length);
        for (int64_t index = range.begin; index < range.end; ++index)
          if (parkit_balanced_owner(n, parts, index) != part) {
            EXPECT(false, "n=%lld parts=%d: owner of %lld is not %d",
                   (long long)n, parts, (long long)index, part);
            break;
          }
        expected_begin = range.end;
      }
      EXPECT(expected_begin == n, "n=%lld parts=%d covers all", (long long)n,
             parts);
    }
  }
}

static void test_statistics(void) {
  /* 3 repetitions x 2 ranks; the repetition time is the slower rank's. */
  const double times[] = {1.0, 2.0, /**/ 4.0, 3.0, /**/ 3.0, 1.0};
  parkit_time_statistics statistics;
  EXPECT(parkit_time_statistics_compute(times, 3, 2, &statistics) == 0,
         "computed");
  EXPECT(statistics.min == 2.0 && statistics.max == 4.0 &&
             statistics.median == 3.0,
         "min/median/max of slowest ranks, got %g %g %g", statistics.min,
         statistics.median, statistics.max);
  EXPECT(fabs(statistics.imbalance - 8.0 / 6.0) < 1e-15,
         "imbalance 8/6, got %g", statistics.imbalance);
  double even[] = {4, 1, 3, 2}, scratch[4];
  EXPECT(parkit_median(even, 4, scratch) == 2.5, "even median");
}

static void test_cpuset_text(void) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  char text[64];
  parkit_format_cpuset(&cpus, text, sizeof text);
  EXPECT(strcmp(text, "") == 0, "empty set, got '%s'", text);
  int members[] = {0, 1, 2, 3, 8, 10, 11};
  for (size_t i = 0; i < sizeof members / sizeof members[0]; ++i)
    CPU_SET(members[i], &cpus);
  parkit_format_cpuset(&cpus, text, sizeof text);
  EXPECT(strcmp(text, "0-3,8,10-11") == 0, "ranges, got '%s'", text);
}

/* A toy kernel's tables: what the output and phase checks read. */
enum { TOY_SAVE, TOY_ESTIMATE, TOY_OPTION_COUNT };
static const parkit_option toy_options[TOY_OPTION_COUNT] = {
    [TOY_SAVE] = {.name = "save", .type = PARKIT_OPTION_FLAG, .unit = "1"},
    [TOY_ESTIMATE] = {.name = "estimate",
                      .type = PARKIT_OPTION_CHOICE,
                      .default_value = "pi",
                      .unit = "1",
                      .choices = "pi|ep"},
};
static const parkit_output_spec toy_outputs[] = {
    {.name = "field", .unit = "1", .description = "a block", .when = "save"},
    {.name = "late", .unit = "1", .description = "out of range"},
    {.name = "count", .unit = "items", .description = "always"},
    {.name = "pairs", .unit = "pairs", .when = "estimate=ep and threads>1"},
    {.name = "status", .unit = "1", .description = "an integer output"},
    {.name = "spawned", .unit = "us", .when = "status=0"},
    {.name = "rss", .unit = "B", .when = "optional"},
};
static const parkit_phase_spec toy_phases[] = {{.name = "halo"},
                                               {.name = "compute"}};
static const parkit_kernel toy = {.name = "toy",
                                  .options = toy_options,
                                  .option_count = TOY_OPTION_COUNT,
                                  .outputs = toy_outputs,
                                  .output_count = PARKIT_COUNT(toy_outputs),
                                  .phases = toy_phases,
                                  .phase_count = PARKIT_COUNT(toy_phases)};

/* A distributed block is copied with its place; one that does not fit in
 * the global shape is refused. */
static void test_block_outputs(void) {
  parkit_outputs outputs;
  parkit_outputs_init(&outputs, &toy);
  const double block[6] = {1, 2, 3, 4, 5, 6};
  const int64_t shape[2] = {4, 5}, offset[2] = {1, 2}, count[2] = {2, 3};
  EXPECT(parkit_output_real_block(&outputs, "field", block, shape, offset,
                                  count) == 0,
         "a fitting block is recorded");
  const parkit_output *entry = parkit_outputs_find(&outputs, "field");
  EXPECT(entry && entry->is_distributed && entry->count == 6 &&
             entry->reals[5] == 6.0 && entry->block_offset[1] == 2 &&
             entry->global_shape[0] == 4 && strcmp(entry->unit, "1") == 0 &&
             strcmp(entry->description, "a block") == 0,
         "the block, its offset, the global shape and the table's unit are "
         "kept");
  const int64_t too_far[2] = {3, 2};
  EXPECT(parkit_output_real_block(&outputs, "late", block, shape, too_far,
                                  count) != 0,
         "a block past the end of the array is refused");
  parkit_error_clear();
  parkit_outputs_free(&outputs);
}

/* Only declared outputs are recorded, once each; the conditions of the
 * table decide which outputs a run must have recorded. */
static void test_output_table(void) {
  parkit_outputs outputs;
  parkit_outputs_init(&outputs, &toy);
  EXPECT(parkit_output_integer(&outputs, "undeclared", 1) != 0,
         "an output missing from the table is refused");
  EXPECT(strstr(parkit_error_message(), "undeclared") != NULL,
         "the refusal names the output: %s", parkit_error_message());
  parkit_error_clear();
  EXPECT(parkit_output_integer(&outputs, "count", 3) == 0 &&
             parkit_output_integer(&outputs, "count", 3) != 0,
         "an output recorded twice is refused");
  parkit_error_clear();
  parkit_value options[TOY_OPTION_COUNT] = {
      [TOY_SAVE] = {.flag = false}, [TOY_ESTIMATE] = {.choice = 1}};
  parkit_output_condition_context at = {.kernel = &toy,
                                        .options = options,
                                        .ranks = 2,
                                        .threads = 1,
                                        .nodes = 1,
                                        .outputs = &outputs};
  EXPECT(parkit_output_condition_holds("estimate=ep", &at) == 1 &&
             parkit_output_condition_holds("estimate!=ep", &at) == 0 &&
             parkit_output_condition_holds("ranks>1 and !save", &at) == 1 &&
             parkit_output_condition_holds("ranks>1 and threads>1", &at) == 0 &&
             parkit_output_condition_holds("optional", &at) == 2 &&
             parkit_output_condition_holds(NULL, &at) == 1,
         "conditions on the launch and the options");
  EXPECT(parkit_output_condition_holds("nonsense>1", &at) < 0,
         "a condition naming nothing known is an error");
  parkit_error_clear();
  /* status is not recorded yet: "spawned" cannot be decided, and "late",
   * "status" must be there. */
  EXPECT(parkit_outputs_check_complete(&outputs, &at) != 0,
         "missing outputs are found");
  parkit_error_clear();
  EXPECT(parkit_output_real(&outputs, "late", 1.0) == 0 &&
             parkit_output_integer(&outputs, "status", -1) == 0,
         "late and status recorded");
  EXPECT(parkit_outputs_check_complete(&outputs, &at) == 0,
         "complete: save off, threads 1, status -1, rss optional: %s",
         parkit_error_message());
  parkit_error_clear();
  at.threads = 2; /* now "pairs" is due */
  EXPECT(parkit_outputs_check_complete(&outputs, &at) != 0 &&
             strstr(parkit_error_message(), "pairs") != NULL,
         "an output whose condition holds must be recorded: %s",
         parkit_error_message());
  parkit_error_clear();
  parkit_outputs_free(&outputs);
}

/* The phase clock adds up a phase's intervals within a repetition, and
 * keeps the first misuse for the runner. */
static void test_phase_clock(void) {
  parkit_phase_clock clock;
  EXPECT(parkit_phase_clock_init(&clock, &toy, 2) == 0, "clock made");
  parkit_context ctx = {.clock = &clock};
  parkit_phase_clock_start_repetition(&clock);
  for (int call = 0; call < 2; ++call) {
    parkit_phase_clock_start_call(&clock);
    parkit_phase_begin(&ctx, "halo");
    parkit_phase_end(&ctx, "halo");
    parkit_phase_begin(&ctx, "halo");
    parkit_phase_end(&ctx, "halo");
    EXPECT(parkit_phase_seconds(&ctx, "halo") >= 0 &&
               parkit_phase_seconds(&ctx, "compute") == 0,
           "seconds of the current call");
    EXPECT(parkit_phase_clock_end_call(&clock) == 0, "a clean call");
  }
  parkit_phase_clock_end_repetition(&clock, 1);
  EXPECT(parkit_phase_clock_timed(&clock, 1, 0) >= 0 &&
             parkit_phase_clock_timed(&clock, 1, 1) == 0 &&
             parkit_phase_clock_timed(&clock, 0, 0) == 0,
         "repetition 1 holds the halo time; compute and repetition 0 none");
  parkit_phase_clock_start_call(&clock);
  parkit_phase_begin(&ctx, "unknown");
  parkit_phase_end(&ctx, "compute");
  EXPECT(parkit_phase_clock_end_call(&clock) != 0 &&
             strstr(parkit_error_message(), "'unknown'") != NULL,
         "the first misuse is reported: %s", parkit_error_message());
  parkit_error_clear();
  parkit_phase_clock_free(&clock);
  EXPECT(parkit_phase_clock_init(&clock, &toy, 1) == 0, "clock made again");
  parkit_phase_clock_start_call(&clock);
  parkit_phase_begin(&ctx, "compute");
  EXPECT(parkit_phase_clock_end_call(&clock) != 0 &&
             strstr(parkit_error_message(), "not ended") != NULL,
         "a phase left open is reported: %s", parkit_error_message());
  parkit_error_clear();
  parkit_phase_clock_free(&clock);
}

int main(void) {
  test_integer_values();
  test_command_lines();
  test_command_line_text();
  test_registry();
  test_balanced_partition();
  test_statistics();
  test_cpuset_text();
  test_block_outputs();
  test_output_table();
  test_phase_clock();
  if (failures)
    fprintf(stderr, "%d check(s) failed\n", failures);
  else
    printf("all core unit checks passed\n");
  return failures ? 1 : 0;
}
