#include "report.h"

#include "isolated_reading.h"
#include "report_answer.h"
#include "report_json.h"
#include "result_reader.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <hdf5.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef enum report_format {
  FORMAT_TABLE,
  FORMAT_CSV,
  FORMAT_MARKDOWN,
  FORMAT_JSON,
} report_format;

static const char *const format_names[] = {
    [FORMAT_TABLE] = "table",
    [FORMAT_CSV] = "csv",
    [FORMAT_MARKDOWN] = "markdown",
    [FORMAT_JSON] = "json",
};

/* A growing list of owned strings. */
typedef struct text_list {
  char **items;
  size_t count, capacity;
} text_list;

static int text_list_add(text_list *list, const char *text) {
  if (list->count == list->capacity) {
    size_t capacity = list->capacity ? 2 * list->capacity : 64;
    char **items = realloc(list->items, capacity * sizeof *items);
    if (items == NULL)
      return -1;
    list->items = items;
    list->capacity = capacity;
  }
  list->items[list->count] = strdup(text);
  if (list->items[list->count] == NULL)
    return -1;
  list->count++;
  return 0;
}

static void text_list_free(text_list *list) {
  for (size_t i = 0; i < list->count; ++i)
    free(list->items[i]);
  free(list->items);
  *list = (text_list){0};
}

static int compare_texts(const void *left, const void *right) {
  return strcmp(*(char *const *)left, *(char *const *)right);
}

static void text_list_sort(text_list *list) {
  if (list->count > 1) /* an empty list has no array to hand to qsort */
    qsort(list->items, list->count, sizeof *list->items, compare_texts);
}

/* One run in the report: what the file says, and what the group adds. */
typedef struct report_run {
  parkit_result_summary summary;
  const char *file;
  double spread;     /* (slowest - fastest) / median repetition */
  double speedup;    /* NAN when the group has no one-core run */
  double efficiency; /* speedup / workers */
  bool best;
} report_run;

typedef struct report_settings {
  report_format format;
  char **paths;
  int path_count;
} report_settings;

static void print_report_usage(FILE *stream) {
  fprintf(stream,
          "usage: parkit report PATH... [--format table|csv|markdown|json]\n\n"
          "Summarises every result file (*.h5) under the paths, grouped by "
          "kernel and problem:\n"
          "time (median over repetitions, each timed by its slowest rank), "
          "spread ((slowest -\n"
          "fastest) / median), rate, speedup and efficiency against the "
          "fastest 1 rank x 1 thread\n"
          "run of the same kernel and problem, max/min imbalance over ranks, "
          "verified; '*' marks\n"
          "the best split (fastest verified run at the most cores). Needs no "
          "mpirun. Unfinished runs "
          "(*.h5.tmp) and files that\n"
          "cannot be read are listed on stderr and skipped; files are read "
          "in a child process, so\n"
          "one that crashes or stalls it (10 s) costs only itself.\n\n"
          "exit status: 0 at least one result file read, 1 none could be "
          "read, 2 bad arguments\n");
}

static int parse_format(const char *word, report_format *format) {
  for (int f = 0; f <= FORMAT_JSON; ++f)
    if (strcmp(word, format_names[f]) == 0) {
      *format = (report_format)f;
      return 0;
    }
  fprintf(stderr,
          "parkit: error: unknown --format '%s'; allowed: table, csv, "
          "markdown, json\n",
          word);
  return -1;
}

/* Returns 0 to go on, 1 when help was printed, -1 on bad arguments (the
 * message printed). Keeps pointers into argv. */
static int parse_arguments(int argc, char **argv, report_settings *settings) {
  *settings = (report_settings){.format = FORMAT_TABLE};
  settings->paths = calloc((size_t)argc + 1, sizeof *settings->paths);
  if (settings->paths == NULL) {
    fprintf(stderr, "parkit: error: out of memory\n");
    return -1;
  }
  for (int i = 0; i < argc; ++i) {
    const char *word = argv[i];
    if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0) {
      print_report_usage(stdout);
      return 1;
    }
    if (strncmp(word, "--format=", 9) == 0) {
      if (parse_format(word + 9, &settings->format) != 0)
        return -1;
    } else if (strcmp(word, "--format") == 0) {
      if (i + 1 == argc) {
        fprintf(stderr, "parkit: error: --format needs a value; allowed: "
                        "table, csv, markdown, json\n");
        return -1;
      }
      if (parse_format(argv[++i], &settings->format) != 0)
        return -1;
    } else if (word[0] == '-' && word[1] != '\0') {
      fprintf(stderr,
              "parkit: error: unknown report option '%s'; allowed: --format "
              "table|csv|markdown|json, --help\n",
              word);
      return -1;
    } else {
      settings->paths[settings->path_count++] = argv[i];
    }
  }
  if (settings->path_count == 0) {
    fprintf(stderr, "parkit: error: 'parkit report' needs at least one result "
                    "file or directory; usage: parkit report PATH... "
                    "[--format table|csv|markdown|json]\n");
    return -1;
  }
  return 0;
}

static bool ends_with(const char *text, const char *suffix) {
  size_t length = strlen(text), tail = strlen(suffix);
  return length >= tail && strcmp(text + length - tail, suffix) == 0;
}

/* What the paths hold: result files (*.h5) and unfinished runs (*.h5.tmp),
 * each file once (by device and inode, however many paths reach it), and
 * what could not be looked at, with the reason. */
typedef struct found_files {
  text_list results, unfinished, problems; /* problems: "path: reason" */
  struct identity {
    dev_t device;
    ino_t inode;
  } * seen;
  size_t seen_count, seen_capacity;
  bool failed; /* out of memory */
} found_files;

static bool first_sight(found_files *files, const struct stat *status);

/* Each entry once, however many paths reach it (its own identity, not a
 * link's target). */
static void add_problem(found_files *files, const char *path,
                        const char *reason) {
  struct stat entry;
  if (lstat(path, &entry) == 0 && !first_sight(files, &entry))
    return;
  char *line = NULL;
  if (asprintf(&line, "%s: %s", path, reason) < 0 ||
      text_list_add(&files->problems, line) != 0)
    files->failed = true;
  free(line);
}

/* False when the file was found before, by another path. */
static bool first_sight(found_files *files, const struct stat *status) {
  for (size_t i = 0; i < files->seen_count; ++i)
    if (files->seen[i].device == status->st_dev &&
        files->seen[i].inode == status->st_ino)
      return false;
  if (files->seen_count == files->seen_capacity) {
    size_t capacity = files->seen_capacity ? 2 * files->seen_capacity : 256;
    struct identity *seen = realloc(files->seen, capacity * sizeof *seen);
    if (seen == NULL) {
      files->failed = true;
      return false;
    }
    files->seen = seen;
    files->seen_capacity = capacity;
  }
  files->seen[files->seen_count++] =
      (struct identity){status->st_dev, status->st_ino};
  return true;
}

static const char *file_kind(mode_t mode) {
  return S_ISFIFO(mode)   ? "a FIFO"
         : S_ISCHR(mode)  ? "a character device"
         : S_ISBLK(mode)  ? "a block device"
         : S_ISSOCK(mode) ? "a socket"
         : S_ISDIR(mode)  ? "a directory"
                          : "not a regular file";
}

/* One name that ends in .h5 or .h5.tmp (or was named on the command
 * line): `target` is what it leads to (links followed). Only regular
 * files are read: a FIFO would block the reader, a device feed it forever. */
static void add_found(found_files *files, const char *path,
                      const struct stat *target, bool named) {
  bool unfinished = ends_with(path, ".h5.tmp");
  if (!named && !unfinished && !ends_with(path, ".h5"))
    return;
  if (!S_ISREG(target->st_mode)) {
    char reason[96];
    snprintf(reason, sizeof reason, "%s, not a result file (not read)",
             file_kind(target->st_mode));
    add_problem(files, path, reason);
    return;
  }
  if (first_sight(files, target) &&
      text_list_add(unfinished ? &files->unfinished : &files->results, path) !=
          0)
    files->failed = true;
}

/* Why directory `path` cannot be read; false when it now can. */
static bool opendir_error(const char *path, char *reason, size_t size) {
  DIR *directory = opendir(path);
  if (directory != NULL) {
    closedir(directory);
    return false;
  }
  snprintf(reason, size, "a directory that cannot be read (%s)",
           strerror(errno));
  return true;
}

/* Where nftw's callback puts what it finds (nftw passes no user data). */
static found_files *found;

static int visit(const char *path, const struct stat *status, int type,
                 struct FTW *where) {
  (void)where;
  char reason[160];
  struct stat target;
  switch (type) {
  case FTW_D:
    return 0;
  case FTW_DNR: /* nftw keeps no errno: ask again */
    if (opendir_error(path, reason, sizeof reason))
      add_problem(found, path, reason);
    break;
  case FTW_NS:
    add_problem(found, path, "cannot be looked at (stat failed)");
    break;
  case FTW_SL: /* FTW_PHYS: links are not followed by the walk */
    if (stat(path, &target) != 0) {
      if (ends_with(path, ".h5") || ends_with(path, ".h5.tmp")) {
        snprintf(reason, sizeof reason, "a link that leads nowhere (%s)",
                 strerror(errno));
        add_problem(found, path, reason);
      }
    } else if (S_ISDIR(target.st_mode)) {
      add_problem(found, path,
                  "a link to a directory, not followed (name the directory "
                  "itself to include it)");
    } else {
      add_found(found, path, &target, false);
    }
    break;
  default: /* FTW_F: any other kind of file */
    add_found(found, path, status, false);
  }
  return found->failed ? 1 : 0;
}

/* Every .h5 (and .h5.tmp) file under the paths; a file named directly is a
 * result unless it ends in .h5.tmp. A missing path is bad input. */
static int find_files(const report_settings *settings, found_files *files) {
  for (int i = 0; i < settings->path_count; ++i) {
    const char *path = settings->paths[i];
    struct stat status;
    if (stat(path, &status) != 0) {
      fprintf(stderr,
              "parkit: error: report path '%s' does not exist; give result "
              "files or directories\n",
              path);
      return -1;
    }
    found = files;
    int walked = 0;
    if (S_ISDIR(status.st_mode))
      walked = nftw(path, visit, 32, FTW_PHYS);
    else
      add_found(files, path, &status, true);
    found = NULL;
    if (walked != 0 || files->failed) {
      fprintf(stderr, "parkit: error: cannot list the files under '%s'\n",
              path);
      return -1;
    }
  }
  text_list_sort(&files->results);
  text_list_sort(&files->unfinished);
  return 0;
}

static void found_files_free(found_files *files) {
  text_list_free(&files->results);
  text_list_free(&files->unfinished);
  text_list_free(&files->problems);
  free(files->seen);
}

/* Where read_runs' callback puts what it reads. */
typedef struct run_collection {
  const text_list *files;
  report_run *runs;
  long count;
} run_collection;

static void collect_run(size_t index, int status,
                        const parkit_result_summary *summary,
                        const char *reason, void *data) {
  run_collection *collection = data;
  const char *path = collection->files->items[index];
  if (status != 0) {
    fprintf(stderr, "parkit: warning: skipped %s: %s\n", path, reason);
    return;
  }
  report_run *run = &collection->runs[collection->count++];
  run->summary = *summary;
  run->file = path;
}

/* Reads every file (isolated_reading.h); the unreadable ones are named on
 * stderr. Returns the number of runs read into `runs` (allocated), or -1
 * with a message printed. */
static long read_runs(const text_list *files, report_run **runs) {
  *runs = calloc(files->count ? files->count : 1, sizeof **runs);
  if (*runs == NULL) {
    fprintf(stderr, "parkit: error: out of memory reading %zu files\n",
            files->count);
    return -1;
  }
  run_collection collection = {.files = files, .runs = *runs};
  char error[256];
  if (parkit_read_results_isolated(files->items, files->count,
                                   PARKIT_READ_LIMITS, collect_run, &collection,
                                   error, sizeof error) != 0) {
    fprintf(stderr, "parkit: error: %s\n", error);
    return -1;
  }
  return collection.count;
}

static int mode_order(const char *mode) {
  static const char *const order[] = {"threads", "ranks", "hybrid"};
  for (int m = 0; m < 3; ++m)
    if (strcmp(mode, order[m]) == 0)
      return m;
  return 3;
}

static bool same_group(const report_run *a, const report_run *b) {
  return strcmp(a->summary.kernel, b->summary.kernel) == 0 &&
         strcmp(a->summary.problem, b->summary.problem) == 0;
}

/* Group (kernel, problem), then mode, cores, ranks, file. */
static int compare_runs(const void *left, const void *right) {
  const report_run *a = left, *b = right;
  int order = strcmp(a->summary.kernel, b->summary.kernel);
  if (order == 0)
    order = strcmp(a->summary.problem, b->summary.problem);
  if (order == 0)
    order = mode_order(a->summary.mode) - mode_order(b->summary.mode);
  if (order == 0)
    order = strcmp(a->summary.mode, b->summary.mode);
  if (order == 0)
    order = (a->summary.workers > b->summary.workers) -
            (a->summary.workers < b->summary.workers);
  if (order == 0)
    order = (a->summary.ranks > b->summary.ranks) -
            (a->summary.ranks < b->summary.ranks);
  return order ? order : strcmp(a->file, b->file);
}

/* The best split of runs[first, end): the fastest verified run among the
 * verified runs with the most cores (the best way to use the machine), or
 * -1 when none verified. */
static long best_split(const report_run *runs, long first, long end) {
  long best = -1;
  for (long i = first; i < end; ++i) {
    const parkit_result_summary *summary = &runs[i].summary;
    if (summary->verified != 1)
      continue;
    const parkit_result_summary *chosen = best < 0 ? NULL : &runs[best].summary;
    if (chosen == NULL || summary->workers > chosen->workers ||
        (summary->workers == chosen->workers &&
         summary->times.median < chosen->times.median))
      best = i;
  }
  return best;
}

/* Speedup, efficiency and the best mark within runs[first, end). */
static void compare_group(report_run *runs, long first, long end) {
  double one_core = NAN;
  for (long i = first; i < end; ++i) {
    const parkit_result_summary *summary = &runs[i].summary;
    if (summary->workers == 1 &&
        (isnan(one_core) || summary->times.median < one_core))
      one_core = summary->times.median;
  }
  long best = best_split(runs, first, end);
  for (long i = first; i < end; ++i) {
    report_run *run = &runs[i];
    const parkit_time_statistics *times = &run->summary.times;
    run->spread =
        times->median > 0 ? (times->max - times->min) / times->median : NAN;
    run->speedup = times->median > 0 ? one_core / times->median : NAN;
    run->efficiency = run->summary.workers > 0
                          ? run->speedup / (double)run->summary.workers
                          : NAN;
    run->best = i == best;
  }
}

static void compare_groups(report_run *runs, long count) {
  qsort(runs, (size_t)count, sizeof *runs, compare_runs);
  for (long first = 0, end = 0; first < count; first = end) {
    for (end = first + 1; end < count && same_group(&runs[first], &runs[end]);)
      ++end;
    compare_group(runs, first, end);
  }
}

/* ---- output ------------------------------------------------------------ */

typedef struct run_texts {
  char split[48], time[32], spread[16], rate[96], speedup[16], efficiency[16],
      imbalance[16];
} run_texts;

static void format_run(const report_run *run, run_texts *texts) {
  const parkit_result_summary *summary = &run->summary;
  snprintf(texts->split, sizeof texts->split, "%lldx%lldx%lld",
           (long long)summary->nodes, (long long)summary->ranks_per_node,
           (long long)summary->threads);
  snprintf(texts->time, sizeof texts->time, "%.6g", summary->times.median);
  if (isnan(run->spread))
    snprintf(texts->spread, sizeof texts->spread, "-");
  else
    snprintf(texts->spread, sizeof texts->spread, "%.1f%%", 100 * run->spread);
  if (summary->rate > 0)
    snprintf(texts->rate, sizeof texts->rate, "%.4g %s", summary->rate,
             summary->rate_unit);
  else
    snprintf(texts->rate, sizeof texts->rate, "-");
  if (isnan(run->speedup)) {
    snprintf(texts->speedup, sizeof texts->speedup, "-");
    snprintf(texts->efficiency, sizeof texts->efficiency, "-");
  } else {
    snprintf(texts->speedup, sizeof texts->speedup, "%.2fx", run->speedup);
    snprintf(texts->efficiency, sizeof texts->efficiency, "%.0f%%",
             100 * run->efficiency);
  }
  snprintf(texts->imbalance, sizeof texts->imbalance, "%.3f",
           summary->times.imbalance);
}

static void print_legend(FILE *stream, const char *prefix) {
  fprintf(stream,
          "%stime: median over repetitions, each timed by its slowest rank; "
          "spread: (slowest - fastest) / median\n"
          "%sspeedup, efficiency: against the fastest 1 rank x 1 thread run of "
          "the same kernel and problem; efficiency = speedup / cores\n"
          "%simbalance: max / min over ranks of each rank's total time; "
          "split: nodes x ranks per node x threads; * best split: the fastest "
          "verified run at the most cores\n",
          prefix, prefix, prefix);
}

static void print_table(FILE *stream, const report_run *runs, long count) {
  print_legend(stream, "");
  for (long i = 0; i < count; ++i) {
    const report_run *run = &runs[i];
    if (i == 0 || !same_group(&runs[i - 1], run)) {
      fprintf(stream, "\n%s  %s\n", run->summary.kernel,
              run->summary.problem[0] ? run->summary.problem
                                      : "(no parameters)");
      fprintf(stream, "  %-8s %-9s %11s %7s %22s %8s %5s %9s  %s\n", "mode",
              "split", "time (s)", "spread", "rate", "speedup", "eff.",
              "imbalance", "verified");
    }
    run_texts texts;
    format_run(run, &texts);
    fprintf(stream, "  %-8s %-9s %11s %7s %22s %8s %5s %9s  %-8s%s\n",
            run->summary.mode, texts.split, texts.time, texts.spread,
            texts.rate, texts.speedup, texts.efficiency, texts.imbalance,
            run->summary.verified == 1 ? "yes" : "NO", run->best ? " *" : "");
  }
}

/* A markdown cell: '|' would end the cell, so it is escaped. */
static void print_markdown_cell(FILE *stream, const char *text) {
  fputs("| ", stream);
  for (const char *c = text; *c; ++c) {
    if (*c == '|')
      fputc('\\', stream);
    fputc(*c == '\n' ? ' ' : *c, stream);
  }
  fputc(' ', stream);
}

static void print_markdown(FILE *stream, const report_run *runs, long count) {
  print_legend(stream, "");
  fprintf(stream, "\n| kernel | problem | mode | split | time (s) | spread | "
                  "rate | speedup | efficiency | imbalance | verified | "
                  "best |\n");
  fprintf(stream, "|---|---|---|---|--:|--:|--:|--:|--:|--:|---|---|\n");
  for (long i = 0; i < count; ++i) {
    const report_run *run = &runs[i];
    run_texts texts;
    format_run(run, &texts);
    const char *cells[] = {run->summary.kernel,
                           run->summary.problem,
                           run->summary.mode,
                           texts.split,
                           texts.time,
                           texts.spread,
                           texts.rate,
                           texts.speedup,
                           texts.efficiency,
                           texts.imbalance,
                           run->summary.verified == 1 ? "yes" : "NO",
                           run->best ? "*" : ""};
    for (size_t c = 0; c < sizeof cells / sizeof cells[0]; ++c)
      print_markdown_cell(stream, cells[c]);
    fputs("|\n", stream);
  }
}

/* RFC 4180: quoted when it holds a comma, a quote or a line break. */
static void print_csv_text(FILE *stream, const char *text) {
  if (strpbrk(text, ",\"\r\n") == NULL) {
    fputs(text, stream);
    return;
  }
  fputc('"', stream);
  for (const char *c = text; *c; ++c) {
    if (*c == '"')
      fputc('"', stream);
    fputc(*c, stream);
  }
  fputc('"', stream);
}

/* Full precision, so that the numbers can be compared with other tools;
 * an empty field where there is no value. */
static void print_csv_number(FILE *stream, double value) {
  if (isfinite(value))
    fprintf(stream, ",%.17g", value);
  else
    fputs(",", stream);
}

static void print_csv(FILE *stream, const report_run *runs, long count) {
  fputs("kernel,problem,mode,nodes,ranks_per_node,ranks,threads,workers,"
        "repetitions,time_median_s,"
        "time_min_s,time_max_s,spread,rate,rate_unit,speedup,efficiency,"
        "imbalance,verified,best,file\n",
        stream);
  for (long i = 0; i < count; ++i) {
    const report_run *run = &runs[i];
    const parkit_result_summary *summary = &run->summary;
    print_csv_text(stream, summary->kernel);
    fputc(',', stream);
    print_csv_text(stream, summary->problem);
    fputc(',', stream);
    print_csv_text(stream, summary->mode);
    fprintf(stream, ",%lld,%lld,%lld,%lld,%lld,%lld", (long long)summary->nodes,
            (long long)summary->ranks_per_node, (long long)summary->ranks,
            (long long)summary->threads, (long long)summary->workers,
            (long long)summary->repetitions);
    print_csv_number(stream, summary->times.median);
    print_csv_number(stream, summary->times.min);
    print_csv_number(stream, summary->times.max);
    print_csv_number(stream, run->spread);
    print_csv_number(stream, summary->rate);
    fputc(',', stream);
    print_csv_text(stream, summary->rate_unit);
    print_csv_number(stream, run->speedup);
    print_csv_number(stream, run->efficiency);
    print_csv_number(stream, summary->times.imbalance);
    fprintf(stream, ",%lld,%d,", (long long)summary->verified,
            run->best ? 1 : 0);
    print_csv_text(stream, run->file);
    fputc('\n', stream);
  }
}

/* report_json.c writes the document (schema/report.schema.json). */
static void print_json(FILE *stream, const report_run *runs, long count) {
  parkit_report_json *document = parkit_report_json_new();
  for (long i = 0; document && i < count; ++i) {
    parkit_report_figures figures = {runs[i].spread, runs[i].speedup,
                                     runs[i].efficiency, runs[i].best};
    parkit_report_json_add(document, &runs[i].summary, runs[i].file, &figures);
  }
  parkit_report_json_finish(document, stream);
}

static void print_report(report_format format, const report_run *runs,
                         long count) {
  switch (format) {
  case FORMAT_TABLE:
    print_table(stdout, runs, count);
    break;
  case FORMAT_CSV:
    print_csv(stdout, runs, count);
    break;
  case FORMAT_MARKDOWN:
    print_markdown(stdout, runs, count);
    break;
  case FORMAT_JSON:
    print_json(stdout, runs, count);
    break;
  }
}

static int report(const report_settings *settings) {
  found_files files = {0};
  if (find_files(settings, &files) != 0) {
    found_files_free(&files);
    return PARKIT_REPORT_BAD_INPUT;
  }
  for (size_t i = 0; i < files.unfinished.count; ++i)
    fprintf(stderr, "parkit: note: unfinished run, not a result: %s\n",
            files.unfinished.items[i]);
  for (size_t i = 0; i < files.problems.count; ++i)
    fprintf(stderr, "parkit: warning: skipped %s\n", files.problems.items[i]);
  report_run *runs = NULL;
  long count = read_runs(&files.results, &runs);
  int status = PARKIT_REPORT_OK;
  if (count < 0) {
    status = PARKIT_REPORT_NOTHING;
  } else if (count == 0) {
    fprintf(stderr,
            "parkit: error: no readable result file (*.h5) among %zu found "
            "under the paths given\n",
            files.results.count);
    status = PARKIT_REPORT_NOTHING;
  } else {
    compare_groups(runs, count);
    print_report(settings->format, runs, count);
    if (settings->format == FORMAT_TABLE)
      printf("\n%ld result files read, %zu skipped, %zu unfinished\n", count,
             files.results.count - (size_t)count + files.problems.count,
             files.unfinished.count);
    /* A campaign directory of the main job: its verdict, as computed. */
    if (settings->format == FORMAT_TABLE || settings->format == FORMAT_MARKDOWN)
      for (int p = 0; p < settings->path_count; ++p)
        (void)parkit_report_print_answer(stdout, settings->paths[p],
                                         settings->format == FORMAT_MARKDOWN);
  }
  free(runs);
  found_files_free(&files);
  return status;
}

int parkit_report_main(int argc, char **argv) {
  report_settings settings;
  int parsed = parse_arguments(argc, argv, &settings);
  int status = parsed < 0    ? PARKIT_REPORT_BAD_INPUT
               : parsed == 1 ? PARKIT_REPORT_OK
                             : -1;
  if (status < 0) {
    /* Damaged files are reported by reason, not by HDF5's error stack;
     * should switching it off fail, the stack is printed besides. */
    (void)H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    status = report(&settings);
  }
  free(settings.paths);
  return status;
}
