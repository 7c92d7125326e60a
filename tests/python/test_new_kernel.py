"""Adding a kernel is its file and its registry line, and nothing else: a
copy of the source tree gets a toy kernel with exactly those two edits, is
built, and the toy then appears everywhere the tree derives its lists from
the descriptors: `parkit list` (and its JSON), the CTest run matrix (every
split verified), the cross-split comparison, the layout check of its files,
valgrind, the main job and `parkit report`. Slow (a whole build); it runs in
the release pass of the test command only."""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import SOURCE_DIR

pytestmark = pytest.mark.skipif(
    os.environ.get("PARKIT_SANITIZED") == "1",
    reason="the release pass checks this; a sanitizer build of the copy "
           "would only repeat it slower")

TOY = r'''/*
 * toy: the sum of i^2 for i < n, split over ranks and threads; a test
 * kernel that exists only in tests/python/test_new_kernel.py.
 * Verification: the closed form n (n - 1) (2n - 1) / 6 (exact in 64 bits
 * for n <= 2^20). Collective: run (MPI_Allreduce).
 */
#include "check.h"
#include "kernel.h"
#include "partition.h"

#include <stdio.h>
#include <stdlib.h>

enum { OPTION_N, OPTION_COUNT };

static const parkit_option toy_options[OPTION_COUNT] = {
    [OPTION_N] = {.name = "n", .type = PARKIT_OPTION_INT,
                  .default_value = "100000", .unit = "terms",
                  .help = "terms summed", .min = 1, .max = 1 << 20},
};

typedef struct toy_state {
  parkit_context context;
  int64_t n, sum;
} toy_state;

static double toy_memory_bytes(const parkit_context *ctx,
                               const parkit_value *options) {
  (void)ctx;
  (void)options;
  return sizeof(toy_state);
}

static int toy_setup(const parkit_context *ctx, const parkit_value *options,
                     void **out) {
  toy_state *state = calloc(1, sizeof *state);
  PARKIT_CHECK(state != NULL, "cannot allocate the toy's state");
  state->context = *ctx;
  state->n = options[OPTION_N].integer;
  *out = state;
  return 0;
}

static int toy_run(void *opaque) {
  toy_state *state = opaque;
  parkit_range mine = parkit_balanced_part(state->n, state->context.size,
                                           state->context.rank);
  int64_t sum = 0;
  parkit_phase_begin(&state->context, "sum");
#pragma omp parallel for reduction(+ : sum)
  for (int64_t i = mine.begin; i < mine.end; ++i)
    sum += i * i;
  parkit_phase_end(&state->context, "sum");
  PARKIT_MPI_CALL(MPI_Allreduce(&sum, &state->sum, 1, MPI_INT64_T, MPI_SUM,
                                state->context.comm));
  return 0;
}

static int toy_verify(void *opaque, parkit_outputs *outputs,
                      parkit_verdict *verdict) {
  toy_state *state = opaque;
  int64_t n = state->n, expected = n * (n - 1) * (2 * n - 1) / 6;
  verdict->passed = state->sum == expected;
  snprintf(verdict->message, sizeof verdict->message,
           "sum %lld, closed form %lld", (long long)state->sum,
           (long long)expected);
  PARKIT_CALL(parkit_output_integer(outputs, "sum", state->sum));
  return parkit_output_real(outputs, "sum_seconds",
                            parkit_phase_seconds(&state->context, "sum"));
}

static void toy_teardown(void *opaque) { free(opaque); }

static parkit_work toy_work(const void *opaque) {
  const toy_state *state = opaque;
  return (parkit_work){.items = (double)state->n, .item_name = "terms",
                       .rate_basis = PARKIT_RATE_ITEMS};
}

static const parkit_output_spec toy_outputs[] = {
    {.name = "sum", .unit = "1", .description = "the sum of i^2"},
    {.name = "sum_seconds", .unit = "s", .description = "this rank's sum",
     .agreement = PARKIT_OUTPUT_MEASURED},
};
static const parkit_phase_spec toy_phases[] = {
    {.name = "sum", .description = "the local sum"}};
static const parkit_test_config toy_tests[] = {{.arguments = "--n 1001"}};
static const parkit_rate_unit_spec toy_rate_units[] = {{.unit = "Mterms/s"}};

const parkit_kernel parkit_kernel_toy = {
    .name = "toy", .summary = "sum of squares (a test kernel)",
    .kind = PARKIT_KERNEL_WORK, .options = toy_options,
    .option_count = OPTION_COUNT, .outputs = toy_outputs,
    .output_count = PARKIT_COUNT(toy_outputs), .rate_units = toy_rate_units,
    .rate_unit_count = PARKIT_COUNT(toy_rate_units), .phases = toy_phases,
    .phase_count = PARKIT_COUNT(toy_phases), .tests = toy_tests,
    .test_count = PARKIT_COUNT(toy_tests), .memcheck_arguments = "--n 100",
    .working_set = {.option = NULL}, .memory_bytes = toy_memory_bytes,
    .setup = toy_setup, .run = toy_run, .verify = toy_verify,
    .teardown = toy_teardown, .work = toy_work,
};
'''


def tracked_files():
    listed = subprocess.run(["git", "-C", SOURCE_DIR, "ls-files", "-z"],
                            capture_output=True, check=True)
    return [name for name in listed.stdout.decode().split("\0") if name]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A copy of the source with the toy added (two edits), built."""
    if shutil.which("git") is None or not os.path.exists(
            os.path.join(SOURCE_DIR, ".git")):
        pytest.skip("needs a git checkout to copy")
    # No "toy" in the path: pytest's -k below matches directory names too.
    root = tmp_path_factory.mktemp("with-new-kernel")
    source = root / "source"
    for name in tracked_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.path.exists(os.path.join(SOURCE_DIR, name)):
            shutil.copy2(os.path.join(SOURCE_DIR, name), target)
    # The two edits: the kernel's file and its line in the registry.
    (source / "kernels" / "work" / "toy.c").write_text(TOY)
    registry = source / "kernels" / "registry.h"
    text = registry.read_text()
    # After the list's last entry (the line that ends it: no backslash).
    last = re.search(r"^  X\(\w+\)$", text, re.MULTILINE)
    assert last, "no last X(NAME) line in registry.h"
    registry.write_text(text[:last.end()] + " \\\n  X(toy)" +
                        text[last.end():])
    build = root / "build"
    for command in (
            ["cmake", "-S", str(source), "-B", str(build),
             "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DPARKIT_NATIVE=OFF",
             "-DPARKIT_VALGRIND=ON"],
            ["cmake", "--build", str(build), "-j", "2"]):
        done = subprocess.run(command, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return source, build


def test_toy_is_listed(tree):
    _, build = tree
    listed = subprocess.run([str(build / "parkit"), "list"],
                            capture_output=True, text=True, check=True)
    assert "toy " in listed.stdout and "--n" in listed.stdout
    catalogue = json.loads(subprocess.run(
        [str(build / "parkit"), "list", "--format", "json"],
        capture_output=True, text=True, check=True).stdout)
    toy = [k for k in catalogue["kernels"] if k["name"] == "toy"]
    assert toy and toy[0]["outputs"][0]["name"] == "sum"


def ctest(build, *arguments):
    return subprocess.run(["ctest", "--test-dir", str(build),
                           "--output-on-failure", *arguments],
                          capture_output=True, text=True, timeout=1200)


def test_toy_runs_in_every_split_agrees_and_matches_the_layout(tree):
    _, build = tree
    names = ctest(build, "-N", "-R", r"^run\.toy\.").stdout
    assert names.count("run.toy.") == 8, names
    # The matrix's runs, then the cross-split comparison and the layout
    # check of the toy's files (the pytest modules select the toy).
    done = ctest(build, "-j", "2", "-R", r"^run\.toy\.")
    assert done.returncode == 0, done.stdout[-4000:]
    for module, selection in (("test_splits.py", "toy"),
                              ("test_result_layout.py",
                               "toy and test_file_matches_readme")):
        checked = subprocess.run(
            ["/usr/bin/python3", "-m", "pytest", "-q", "-p",
             "no:cacheprovider", "--rootdir", str(tree[0]), "-k", selection,
             str(tree[0] / "tests" / "python" / module)],
            capture_output=True, text=True, env=matrix_environment(build))
        assert checked.returncode == 0, checked.stdout[-4000:]
        assert " passed" in checked.stdout, checked.stdout


def matrix_environment(build):
    """The environment CTest gives the pytest modules (tests/CMakeLists)."""
    return dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
                OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                PARKIT_BINARY=str(build / "parkit"),
                PARKIT_MPIEXEC=shutil.which("mpirun") or "mpirun",
                PARKIT_TEST_RESULTS=str(build / "tests" / "results"),
                PARKIT_SOURCE_DIR=str(build.parent / "source"),
                PARKIT_MATRIX_JSON=str(build / "tests" / "run_matrix.json"))


@pytest.mark.skipif(shutil.which("valgrind") is None,
                    reason="valgrind is not installed")
def test_toy_is_checked_by_valgrind(tree):
    _, build = tree
    done = ctest(build, "-R", r"^valgrind\.toy$")
    assert done.returncode == 0 and "valgrind.toy" in done.stdout, \
        done.stdout[-3000:]


def test_toy_is_in_the_main_job_and_the_report(tree, tmp_path):
    source, build = tree
    out = tmp_path / "campaign"
    done = subprocess.run(
        ["bash", str(source / "jobs" / "compare_modes.sh"), "--parkit",
         str(build / "parkit"), "--out", str(out), "--quick", "--kernels",
         "toy", "--probes", ""], capture_output=True, text=True,
        timeout=600, env=matrix_environment(build))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "toy compute" in done.stdout, done.stdout
    report = subprocess.run([str(build / "parkit"), "report", str(out)],
                            capture_output=True, text=True)
    assert report.returncode == 0 and "toy" in report.stdout, report.stderr
