/*
 * libFuzzer target: the result-file reader behind `parkit report`
 * (drivers/result/result_reader.c), structure-aware.
 *
 * The input does not become the file's bytes: fuzzing HDF5's own binary
 * parser would mostly find bugs in the HDF5 library. Instead the input
 * decides how a result file written through the HDF5 API departs from
 * results/README.md: each root attribute the reader needs is present or
 * missing, of the right type or of another (text, integer, float), with an
 * ordinary or an extreme value (0, -1, INT64_MAX, NaN, infinities); the
 * `timings` dataset has any rank and shape, and any values; kernel
 * parameters with `_unit` siblings come and go. Then the reader must
 * return 0 or -1 with a one-line reason, never crash, leak or read out of
 * bounds (the sanitizers), and a summary it accepts must be usable.
 */
#include "result_reader.h"

#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct input {
  const uint8_t *data;
  size_t size, used;
} input;

static uint8_t next_byte(input *in) {
  return in->used < in->size ? in->data[in->used++] : 0;
}

static const double special_reals[] = {0.0, -1.0,     1.5,       1e300,
                                       NAN, INFINITY, -INFINITY, 5e-324};
static const int64_t special_integers[] = {0, 1,         2,         -1,
                                           7, INT64_MAX, INT64_MIN, 1 << 24};

static void attribute_text(hid_t file, const char *name, const char *value) {
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8); /* as parkit and h5py write text */
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t attribute =
      H5Acreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attribute, type, &value);
  H5Aclose(attribute);
  H5Sclose(space);
  H5Tclose(type);
}

static void attribute_scalar(hid_t file, const char *name, hid_t type,
                             const void *value) {
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t attribute =
      H5Acreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attribute, type, value);
  H5Aclose(attribute);
  H5Sclose(space);
}

/* One attribute, as the input says: missing, text, integer or real, with
 * `usual` (a text or a number) or an extreme value. */
static void fuzzed_attribute(hid_t file, input *in, const char *name,
                             const char *usual_text, int64_t usual_number) {
  uint8_t how = next_byte(in), which = next_byte(in);
  switch (how % 8) {
  case 0: /* missing */
    return;
  case 1: /* text, unusual */
    attribute_text(file, name, which % 2 ? "" : "not a number");
    return;
  case 2: { /* integer, extreme */
    int64_t value = special_integers[which % 8];
    attribute_scalar(file, name, H5T_NATIVE_INT64, &value);
    return;
  }
  case 3: { /* real, extreme */
    double value = special_reals[which % 8];
    attribute_scalar(file, name, H5T_NATIVE_DOUBLE, &value);
    return;
  }
  default: /* as written by parkit */
    if (usual_text) {
      attribute_text(file, name, usual_text);
    } else {
      int64_t value = usual_number;
      attribute_scalar(file, name, H5T_NATIVE_INT64, &value);
    }
  }
}

static void fuzzed_timings(hid_t file, input *in) {
  uint8_t shape = next_byte(in);
  if (shape % 9 == 0)
    return;                 /* missing */
  int rank = 1 + shape % 3; /* 1-D, 2-D (the right one) or 3-D */
  hsize_t dims[3] = {next_byte(in) % 6, next_byte(in) % 6, next_byte(in) % 3};
  hsize_t count = 1;
  for (int d = 0; d < rank; ++d)
    count *= dims[d];
  double *values = calloc(count ? count : 1, sizeof *values);
  for (hsize_t i = 0; i < count; ++i) {
    uint8_t kind = next_byte(in);
    values[i] = kind < 200 ? kind * 1e-3 : special_reals[kind % 8];
  }
  hid_t space = H5Screate_simple(rank, dims, NULL);
  hid_t type = next_byte(in) % 5 == 0 ? H5T_NATIVE_INT : H5T_NATIVE_DOUBLE;
  hid_t dataset = H5Dcreate2(file, "timings", type, space, H5P_DEFAULT,
                             H5P_DEFAULT, H5P_DEFAULT);
  if (count > 0)
    H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
  H5Dclose(dataset);
  H5Sclose(space);
  free(values);
}

static void write_file(const char *path, input *in) {
  hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  fuzzed_attribute(file, in, "kernel", "matmul", 0);
  fuzzed_attribute(file, in, "mode", "ranks", 0);
  fuzzed_attribute(file, in, "rate_unit", "GFLOP/s", 0);
  fuzzed_attribute(file, in, "ranks", NULL, 2);
  fuzzed_attribute(file, in, "threads", NULL, 1);
  fuzzed_attribute(file, in, "workers", NULL, 2);
  fuzzed_attribute(file, in, "nodes", NULL, 1);
  fuzzed_attribute(file, in, "ranks_per_node", NULL, 2);
  fuzzed_attribute(file, in, "repetitions", NULL, 3);
  fuzzed_attribute(file, in, "repetitions_completed", NULL, 3);
  fuzzed_attribute(file, in, "verified", NULL, 1);
  fuzzed_attribute(file, in, "rate", NULL, 50);
  fuzzed_attribute(file, in, "rate_best", NULL, 51);
  fuzzed_attribute(file, in, "n", NULL, 211);
  fuzzed_attribute(file, in, "n_unit", "elements", 0);
  fuzzed_attribute(file, in, "variant", "blocked", 0);
  fuzzed_attribute(file, in, "variant_unit", "1", 0);
  fuzzed_timings(file, in);
  H5Fclose(file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char path[64];
  if (path[0] == '\0') {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    snprintf(path, sizeof path, "/tmp/parkit-fuzz-reader-%ld.h5",
             (long)getpid());
  }
  input in = {.data = data, .size = size};
  write_file(path, &in);
  parkit_result_summary summary;
  char reason[1024];
  int status =
      parkit_result_summary_read(path, &summary, reason, sizeof reason);
  if (getenv("PARKIT_FUZZ_VERBOSE")) /* replaying one input: what happened */
    fprintf(stderr, "reader: %d %s\n", status, status ? reason : "accepted");
  if (status != 0 && (reason[0] == '\0' || strchr(reason, '\n')))
    abort(); /* a refusal is one non-empty line */
  if (status == 0 &&
      (summary.repetitions < 1 || summary.ranks < 1 || summary.nodes < 1 ||
       summary.nodes > summary.ranks || summary.ranks_per_node < 1 ||
       summary.ranks_per_node > summary.ranks ||
       summary.ranks_per_node * summary.nodes < summary.ranks ||
       !isfinite(summary.times.median) || summary.times.median < 0 ||
       summary.kernel[0] == '\0'))
    abort(); /* an accepted summary must be usable by the report */
  if (status != 0 && status != -1)
    abort();
  unlink(path);
  return 0;
}
