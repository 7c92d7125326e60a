#include "result_reader.h"

#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One file being read. The file is opened with H5F_CLOSE_STRONG, so closing
 * it also closes any attribute or dataset a failed step left open. */
typedef struct file_reader {
  hid_t file;
  char *reason;
  size_t size;
} file_reader;

/* H5Ewalk2 callback, walking upward: position 0 is the innermost (most
 * specific) entry, e.g. "file signature not found". */
static herr_t keep_innermost(unsigned position, const H5E_error2_t *entry,
                             void *data) {
  char *text = data;
  if (position == 0 && entry->desc)
    snprintf(text, 256, "%s", entry->desc);
  return 0;
}

/* Records the reason (the first one wins), adding HDF5's own innermost
 * message when the HDF5 error stack holds one. Returns -1. */
static int fail(file_reader *reader, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(file_reader *reader, const char *format, ...) {
  char hdf5_message[256] = "";
  /* HDF5's message is a courtesy: without one the reason stands alone. */
  (void)H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, hdf5_message);
  (void)H5Eclear2(H5E_DEFAULT);
  if (reader->reason[0] != '\0')
    return -1;
  va_list arguments;
  va_start(arguments, format);
  vsnprintf(reader->reason, reader->size, format, arguments);
  va_end(arguments);
  size_t used = strlen(reader->reason);
  if (hdf5_message[0] && used < reader->size)
    snprintf(reader->reason + used, reader->size - used, " (HDF5: %s)",
             hdf5_message);
  return -1;
}

/* Releasing what a read opened cannot change what was read: the closes
 * below are cast to (void) (a close that fails leaks at worst, and the
 * reader is a short-lived child process, isolated_reading.h). */
static int open_file(file_reader *reader, const char *path) {
  /* No lock: a file under its final name is complete and never written
   * again, and file systems without working locks (NFS without lockd) would
   * otherwise refuse to open it. HDF5_USE_FILE_LOCKING still overrides. */
  hid_t access = H5Pcreate(H5P_FILE_ACCESS);
  if (access < 0 || H5Pset_fclose_degree(access, H5F_CLOSE_STRONG) < 0 ||
      H5Pset_file_locking(access, false, true) < 0)
    return fail(reader, "cannot create a file access property list");
  reader->file = H5Fopen(path, H5F_ACC_RDONLY, access);
  if (reader->file < 0)
    fail(reader, "not a readable HDF5 file");
  (void)H5Pclose(access);
  return reader->file < 0 ? -1 : 0;
}

/* Strict UTF-8 (as Python decodes it): no overlong forms, no surrogates,
 * nothing above U+10FFFF; and no control characters (a newline or an
 * escape sequence in a kernel's name would garble every table). */
static bool valid_utf8(const unsigned char *text) {
  while (*text) {
    unsigned char lead = *text;
    if (lead < 0x20 || lead == 0x7f)
      return false;
    int more = lead < 0x80                    ? 0
               : lead >= 0xc2 && lead <= 0xdf ? 1
               : lead >= 0xe0 && lead <= 0xef ? 2
               : lead >= 0xf0 && lead <= 0xf4 ? 3
                                              : -1;
    if (more < 0)
      return false;
    unsigned char second = text[1];
    if (more > 0 &&
        ((second & 0xc0) != 0x80 || (lead == 0xe0 && second < 0xa0) ||
         (lead == 0xed && second > 0x9f) || (lead == 0xf0 && second < 0x90) ||
         (lead == 0xf4 && second > 0x8f)))
      return false;
    for (int i = 2; i <= more; ++i)
      if ((text[i] & 0xc0) != 0x80)
        return false;
    text += 1 + more;
  }
  return true;
}

/* An open attribute holds exactly one value (a scalar, or one element):
 * reading more into one value's buffer would overrun it. */
static bool holds_one_value(hid_t attribute) {
  hid_t space = H5Aget_space(attribute);
  hssize_t points = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
  if (space >= 0)
    (void)H5Sclose(space);
  return points == 1;
}

/* Reads the variable-length string attribute `name` of `object`: one
 * value, valid UTF-8, shorter than `size` bytes. */
static int read_text(file_reader *reader, hid_t object, const char *name,
                     char *value, size_t size) {
  hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
  if (attribute < 0)
    return fail(reader, "attribute '%s' is missing", name);
  hid_t stored = H5Aget_type(attribute);
  bool text = stored >= 0 && H5Tget_class(stored) == H5T_STRING &&
              H5Tis_variable_str(stored) > 0 && holds_one_value(attribute);
  /* Read in the stored character set: HDF5 does not convert between ASCII
   * (other writers) and UTF-8 (parkit, h5py). */
  H5T_cset_t set = text ? H5Tget_cset(stored) : H5T_CSET_ERROR;
  if (stored >= 0)
    (void)H5Tclose(stored);
  if (!text || set == H5T_CSET_ERROR) {
    (void)H5Aclose(attribute);
    return fail(reader, "attribute '%s' is not one variable-length string",
                name);
  }
  hid_t memory = H5Tcopy(H5T_C_S1);
  char *read = NULL;
  herr_t status = memory < 0 || H5Tset_size(memory, H5T_VARIABLE) < 0 ||
                          H5Tset_cset(memory, set) < 0
                      ? -1
                      : H5Aread(attribute, memory, &read);
  if (status < 0)
    fail(reader, "cannot read attribute '%s'", name);
  if (memory >= 0)
    (void)H5Tclose(memory);
  (void)H5Aclose(attribute);
  if (status < 0)
    return -1;
  size_t length = read ? strlen(read) : 0;
  if (length >= size ||
      !valid_utf8((const unsigned char *)(read ? read : ""))) {
    (void)H5free_memory(read);
    return length >= size
               ? fail(reader,
                      "attribute '%s' is %zu bytes long; allowed: at most %zu",
                      name, length, size - 1)
               : fail(reader,
                      "attribute '%s' is not UTF-8 text without control "
                      "characters",
                      name);
  }
  snprintf(value, size, "%s", read ? read : "");
  (void)H5free_memory(read);
  return 0;
}

/* The stored type class of an open attribute (H5T_NO_CLASS if unknown). */
static H5T_class_t attribute_class(hid_t attribute) {
  hid_t stored = H5Aget_type(attribute);
  H5T_class_t kind = stored >= 0 ? H5Tget_class(stored) : H5T_NO_CLASS;
  if (stored >= 0)
    (void)H5Tclose(stored);
  return kind;
}

/* Reads the attribute `name`, one value: an integer attribute into
 * H5T_NATIVE_INT64, or (`real`) an integer or floating-point one into
 * H5T_NATIVE_DOUBLE. */
static int read_number(file_reader *reader, hid_t object, const char *name,
                       bool real, void *value) {
  hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
  if (attribute < 0)
    return fail(reader, "attribute '%s' is missing", name);
  H5T_class_t kind = attribute_class(attribute);
  bool allowed = kind == H5T_INTEGER || (real && kind == H5T_FLOAT);
  herr_t status =
      allowed && holds_one_value(attribute)
          ? H5Aread(attribute, real ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64,
                    value)
          : -1;
  if (status < 0)
    fail(reader, "attribute '%s' is not one readable %s", name,
         real ? "number" : "integer");
  (void)H5Aclose(attribute);
  return status < 0 ? -1 : 0;
}

static int read_integer(file_reader *reader, const char *name, int64_t *value) {
  return read_number(reader, reader->file, name, false, value);
}

/* One parameter's value as text: text as is, integers as integers,
 * other numbers with %g (finite only: "nan" prints differently in C and
 * Python). */
static int format_value(file_reader *reader, const char *name, char *text,
                        size_t size) {
  hid_t attribute = H5Aopen(reader->file, name, H5P_DEFAULT);
  if (attribute < 0)
    return fail(reader, "attribute '%s' is missing", name);
  H5T_class_t kind = attribute_class(attribute);
  (void)H5Aclose(attribute);
  if (kind == H5T_STRING)
    return read_text(reader, reader->file, name, text, size);
  if (kind == H5T_INTEGER) {
    int64_t value = 0;
    if (read_integer(reader, name, &value) != 0)
      return -1;
    snprintf(text, size, "%lld", (long long)value);
    return 0;
  }
  if (kind != H5T_FLOAT)
    return fail(reader, "parameter '%s' is neither text nor a number", name);
  double value = 0;
  if (read_number(reader, reader->file, name, true, &value) != 0)
    return -1;
  if (!isfinite(value))
    return fail(reader, "parameter '%s' is %g, not a finite number", name,
                value);
  snprintf(text, size, "%g", value);
  return 0;
}

typedef struct parameter_walk {
  file_reader *reader;
  char *problem;
  size_t size;
} parameter_walk;

static bool ends_with(const char *text, const char *suffix) {
  size_t length = strlen(text), tail = strlen(suffix);
  return length >= tail && strcmp(text + length - tail, suffix) == 0;
}

/* H5Aiterate2 callback, attributes in name order: appends "name=value" for
 * every kernel parameter (an attribute X with a sibling X_unit; `rate`
 * has `rate_unit` but is a result, not a parameter). */
static herr_t append_parameter(hid_t location, const char *name,
                               const H5A_info_t *info, void *data) {
  (void)info;
  parameter_walk *walk = data;
  char unit_name[256];
  if (ends_with(name, "_unit") || strcmp(name, "rate") == 0 ||
      snprintf(unit_name, sizeof unit_name, "%s_unit", name) >=
          (int)sizeof unit_name ||
      H5Aexists(location, unit_name) <= 0)
    return 0;
  if (!valid_utf8((const unsigned char *)name))
    return fail(walk->reader, "a parameter's name is not UTF-8 text without "
                              "control characters");
  char value[512];
  if (format_value(walk->reader, name, value, sizeof value) != 0)
    return -1;
  size_t used = strlen(walk->problem);
  int written = snprintf(walk->problem + used, walk->size - used, "%s%s=%s",
                         used ? " " : "", name, value);
  if (written < 0 || (size_t)written >= walk->size - used)
    return fail(walk->reader,
                "the kernel's parameters take more than %zu bytes",
                walk->size - 1);
  return 0;
}

static int read_parameters(file_reader *reader, char *problem, size_t size) {
  problem[0] = '\0';
  parameter_walk walk = {.reader = reader, .problem = problem, .size = size};
  if (H5Aiterate2(reader->file, H5_INDEX_NAME, H5_ITER_INC, NULL,
                  append_parameter, &walk) < 0)
    return fail(reader, "cannot list the root attributes");
  return 0;
}

/* Timings [repetitions, ranks] must match the attributes: at most this many
 * values, so a damaged attribute cannot ask for gigabytes. */
enum { MOST_TIMINGS = 1 << 24 };

static int check_timings_shape(file_reader *reader, hid_t dataset,
                               const parkit_result_summary *summary) {
  hid_t stored = H5Dget_type(dataset);
  H5T_class_t kind = stored >= 0 ? H5Tget_class(stored) : H5T_NO_CLASS;
  if (stored >= 0)
    (void)H5Tclose(stored);
  if (kind != H5T_FLOAT && kind != H5T_INTEGER)
    return fail(reader, "dataset 'timings' does not hold numbers");
  hid_t space = H5Dget_space(dataset);
  hsize_t dims[2] = {0, 0};
  int dimensions = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
  if (dimensions == 2 && H5Sget_simple_extent_dims(space, dims, NULL) < 0)
    dimensions = -1;
  if (space >= 0)
    (void)H5Sclose(space);
  if (dimensions != 2 || dims[0] != (hsize_t)summary->repetitions ||
      dims[1] != (hsize_t)summary->ranks)
    return fail(reader,
                "dataset 'timings' has %d dimensions (%llu x %llu), expected "
                "repetitions x ranks = %lld x %lld",
                dimensions, (unsigned long long)dims[0],
                (unsigned long long)dims[1], (long long)summary->repetitions,
                (long long)summary->ranks);
  return 0;
}

static int check_timings(file_reader *reader, const double *timings,
                         size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (!isfinite(timings[i]) || timings[i] < 0)
      return fail(reader, "timings value %zu is %g, not a time in seconds", i,
                  timings[i]);
  return 0;
}

static int read_timings(file_reader *reader, parkit_result_summary *summary) {
  /* Each factor bounded first: a damaged attribute (INT64_MAX) must not
   * overflow the product (found by fuzzing). */
  if (summary->repetitions < 1 || summary->ranks < 1 ||
      summary->repetitions > MOST_TIMINGS || summary->ranks > MOST_TIMINGS ||
      summary->repetitions * summary->ranks > MOST_TIMINGS)
    return fail(reader, "repetitions = %lld and ranks = %lld: not a run",
                (long long)summary->repetitions, (long long)summary->ranks);
  hid_t dataset = H5Dopen2(reader->file, "timings", H5P_DEFAULT);
  if (dataset < 0)
    return fail(reader, "dataset 'timings' is missing");
  if (check_timings_shape(reader, dataset, summary) != 0) {
    (void)H5Dclose(dataset);
    return -1;
  }
  size_t count = (size_t)(summary->repetitions * summary->ranks);
  double *timings = malloc(sizeof(double) * count);
  herr_t status = timings ? H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL,
                                    H5S_ALL, H5P_DEFAULT, timings)
                          : -1;
  if (status < 0)
    fail(reader, "cannot read dataset 'timings'");
  (void)H5Dclose(dataset);
  int result = status < 0 ? -1 : check_timings(reader, timings, count);
  free(timings);
  return result;
}

/* The run's timing statistics as the runner computed them (the one place
 * they are computed; results/README.md): finite, ordered, imbalance >= 1. */
static int read_statistics(file_reader *reader, parkit_time_statistics *times) {
  static const char *const names[] = {"time_min", "time_median", "time_max",
                                      "imbalance"};
  double *values[] = {&times->min, &times->median, &times->max,
                      &times->imbalance};
  for (int i = 0; i < 4; ++i) {
    if (read_number(reader, reader->file, names[i], true, values[i]) != 0)
      return -1;
    if (!isfinite(*values[i]) || *values[i] < 0)
      return fail(reader, "attribute '%s' is %g, not a time in seconds",
                  names[i], *values[i]);
  }
  if (!(times->min <= times->median && times->median <= times->max))
    return fail(reader,
                "time_min %g, time_median %g, time_max %g are not "
                "in order",
                times->min, times->median, times->max);
  if (!(times->imbalance >= 1))
    return fail(reader, "attribute 'imbalance' is %g; allowed: 1 or more",
                times->imbalance);
  return 0;
}

/* A run stopped by a signal (interrupted = 1) holds only the repetitions it
 * completed; files from before that attribute existed hold them all. */
static int read_completed_repetitions(file_reader *reader,
                                      int64_t *repetitions) {
  if (H5Aexists(reader->file, "repetitions_completed") <= 0)
    return 0;
  return read_integer(reader, "repetitions_completed", repetitions);
}

/* Nodes and the most ranks on one node; files from before
 * `ranks_per_node` existed: ranks spread evenly, rounded up. */
static int read_nodes(file_reader *reader, parkit_result_summary *summary) {
  if (read_integer(reader, "nodes", &summary->nodes) != 0)
    return -1;
  if (summary->nodes < 1 || summary->nodes > summary->ranks)
    return fail(reader, "attribute 'nodes' is %lld; allowed: 1 to ranks (%lld)",
                (long long)summary->nodes, (long long)summary->ranks);
  int64_t evenly = (summary->ranks - 1) / summary->nodes + 1; /* rounded up */
  if (H5Aexists(reader->file, "ranks_per_node") <= 0) {
    summary->ranks_per_node = evenly;
    return 0;
  }
  if (read_integer(reader, "ranks_per_node", &summary->ranks_per_node) != 0)
    return -1;
  if (summary->ranks_per_node < evenly ||
      summary->ranks_per_node > summary->ranks)
    return fail(reader,
                "attribute 'ranks_per_node' is %lld; allowed: ranks / nodes "
                "(%lld / %lld, rounded up) to ranks",
                (long long)summary->ranks_per_node, (long long)summary->ranks,
                (long long)summary->nodes);
  return 0;
}

static int read_summary(file_reader *reader, parkit_result_summary *summary) {
  if (read_text(reader, reader->file, "kernel", summary->kernel,
                sizeof summary->kernel) != 0 ||
      read_text(reader, reader->file, "mode", summary->mode,
                sizeof summary->mode) != 0 ||
      read_text(reader, reader->file, "rate_unit", summary->rate_unit,
                sizeof summary->rate_unit) != 0 ||
      read_integer(reader, "ranks", &summary->ranks) != 0 ||
      read_integer(reader, "threads", &summary->threads) != 0 ||
      read_nodes(reader, summary) != 0 ||
      read_integer(reader, "workers", &summary->workers) != 0 ||
      read_integer(reader, "repetitions", &summary->repetitions) != 0 ||
      read_completed_repetitions(reader, &summary->repetitions) != 0 ||
      read_integer(reader, "verified", &summary->verified) != 0 ||
      read_number(reader, reader->file, "rate", true, &summary->rate) != 0 ||
      read_parameters(reader, summary->problem, sizeof summary->problem) != 0)
    return -1;
  if (summary->kernel[0] == '\0' || summary->mode[0] == '\0')
    return fail(reader, "attribute '%s' is empty",
                summary->kernel[0] ? "mode" : "kernel");
  if (summary->threads < 1 || summary->workers < 1)
    return fail(reader, "attribute '%s' is %lld; allowed: 1 or more",
                summary->threads < 1 ? "threads" : "workers",
                (long long)(summary->threads < 1 ? summary->threads
                                                 : summary->workers));
  if (read_timings(reader, summary) != 0)
    return -1;
  return read_statistics(reader, &summary->times);
}

int parkit_result_summary_read(const char *path, parkit_result_summary *summary,
                               char *reason, size_t size) {
  memset(summary, 0, sizeof *summary);
  reason[0] = '\0';
  file_reader reader = {.file = -1, .reason = reason, .size = size};
  int status = open_file(&reader, path);
  if (status == 0)
    status = read_summary(&reader, summary);
  if (reader.file >= 0 && H5Fclose(reader.file) < 0 && status == 0)
    status = fail(&reader, "cannot close the file");
  return status;
}
