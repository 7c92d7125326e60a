"""Shared helpers: where the parkit binary, mpirun and the run results are.

CTest passes them in the environment (see tests/CMakeLists.txt)."""
import json
import os
import subprocess
import sys

import pytest

BINARY = os.environ.get("PARKIT_BINARY", "")
MPIEXEC = os.environ.get("PARKIT_MPIEXEC", "mpirun")
RESULTS = os.environ.get("PARKIT_TEST_RESULTS", "")
SOURCE_DIR = os.environ.get("PARKIT_SOURCE_DIR", "")
# The run matrix CTest registered from the kernels' descriptors
# (cmake/parkit_run_matrix.cmake): its configurations and splits.
MATRIX_JSON = os.environ.get("PARKIT_MATRIX_JSON", "")
MATRIX = {"splits": [], "configs": []}
if MATRIX_JSON and os.path.exists(MATRIX_JSON):
    with open(MATRIX_JSON) as matrix_file:
        MATRIX = json.load(matrix_file)
CONFIGS = [config["name"] for config in MATRIX["configs"]]
CONFIG_KERNEL = {config["name"]: config["kernel"] for config in MATRIX["configs"]}
CONFIG_KIND = {config["name"]: config["kind"] for config in MATRIX["configs"]}
# "threads_p1_t2": the file name (without .h5) each split's run writes.
SPLITS = ["{}_p{}_t{}".format(*split.split()) for split in MATRIX["splits"]]
# analysis/parkit_analysis, for the tests that read results as users do.
sys.path.insert(0, os.path.join(SOURCE_DIR, "analysis"))


def run_parkit(arguments, launcher=None, env=None, timeout=120, cwd=None):
    """Runs parkit (under `launcher`, e.g. ['mpirun', '-np', '2']) and
    returns the CompletedProcess with text stdout and stderr."""
    environment = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:  # None unsets the variable
            environment.pop(name, None)
        else:
            environment[name] = value
    command = list(launcher or []) + [BINARY] + [str(a) for a in arguments]
    return subprocess.run(command, capture_output=True, text=True,
                          env=environment, timeout=timeout, cwd=cwd)


def processes_naming(pattern):
    """PIDs of the processes whose command line matches `pattern` (a
    regular expression, as `pgrep -f` takes it)."""
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True,
                           text=True)
    return [int(p) for p in found.stdout.split() if int(p) != os.getpid()]


def catalogue():
    """`parkit list --format json`: what the kernels' descriptors declare."""
    listed = subprocess.run([BINARY, "list", "--format", "json"],
                            capture_output=True, text=True, check=True)
    return json.loads(listed.stdout)


def mpirun(ranks, *extra):
    return [MPIEXEC, "-np", str(ranks), *extra]


def key_values(stdout):
    """The fields of the one 'PARKIT key=value ...' line, read with the
    analysis package's parser (its grammar: README.md)."""
    from parkit_analysis.key_values import find_line
    lines = [l for l in stdout.splitlines() if l.startswith("PARKIT ")]
    assert len(lines) == 1, stdout
    return find_line(stdout)


@pytest.fixture(scope="session", autouse=True)
def needs_binary():
    if not BINARY or not os.path.exists(BINARY):
        pytest.fail("PARKIT_BINARY is not set to the parkit program; "
                    "run these tests through ctest")
