"""Checks of stencil, stream, transpose, io and wait beyond the split
matrix: the saved stencil field, read back with h5py, is one n x n dataset
equal to the analytic solution; io leaves no scratch file behind; no wait
repetition is shorter than its workers' waits allow; and the test-only
--perturb option of each kernel makes its verification fail (exit status 3,
verified = 0 in the file, which is still written)."""
import glob
import os
import re

import h5py
import numpy as np
import pytest

from conftest import RESULTS, mpirun, run_parkit


def launch(ranks):
    """(mode, launcher) for one process or `ranks` MPI ranks."""
    if ranks is None:
        return "threads", None
    return "ranks", mpirun(ranks, "--oversubscribe", "--bind-to", "none")


def test_saved_stencil_field_is_the_analytic_solution():
    files = sorted(glob.glob(os.path.join(RESULTS, "stencil", "*.h5")))
    assert len(files) == 8, files
    for path in files:
        with h5py.File(path, "r") as f:
            n = int(f.attrs["n"])
            outputs = f["outputs"]
            field = outputs["field"]
            assert field.shape == (n, n) and field.dtype == np.float64, path
            tolerance = float(outputs["tolerance"][()])
            x = np.arange(n) / (n - 1)
            sines = np.sin(np.pi * x)
            sines[0] = sines[-1] = 0.0
            exact = float(outputs["exact_decay"][()]) * np.outer(sines, sines)
            values = field[:]
        error = np.max(np.abs(values - exact))
        assert error <= tolerance, f"{path}: error {error} > {tolerance}"
        # What the kernel measured is what the file holds (numpy's sine may
        # differ from C's in the last bit).
        with h5py.File(path, "r") as f:
            recorded = float(f["outputs/max_error"][()])
        assert error == pytest.approx(recorded, rel=1e-6, abs=1e-15), path
        assert not values[0].any() and not values[-1].any(), "boundary rows"
        assert not values[:, 0].any() and not values[:, -1].any(), "columns"
        # Not trivially within tolerance: the field did move from u0.
        assert np.max(np.abs(values - np.outer(sines, sines))) > tolerance


def test_io_matrix_left_no_scratch_files():
    names = sorted(os.listdir(os.path.join(RESULTS, "io")))
    assert len(names) == 8, names
    for name in names:
        assert re.fullmatch(r"(threads|ranks|hybrid)_p\d_t\d\.h5", name), \
            f"left behind in {RESULTS}/io: {name}"


def test_wait_repetitions_last_at_least_their_waits():
    """A worker's items wait one after the other, each at least --latency
    (a timer never fires early), so a repetition lasts at least the
    busiest worker's items x the latency: a bound physics sets, whatever
    the machine. And every item was answered."""
    for config in ("wait", "wait-at-once"):
        files = sorted(glob.glob(os.path.join(RESULTS, config, "*.h5")))
        assert len(files) == 8, files
        for path in files:
            with h5py.File(path, "r") as f:
                a = f.attrs
                workers = int(a["ranks"]) * int(a["threads"])
                busiest = -(-int(a["items"]) // workers)
                least = busiest * float(a["latency"]) * 1e-6 * int(a["batch"])
                assert float(a["time_min"]) >= least, (path, least)
                assert f["outputs/answered"][()] == a["items"]
                assert f["outputs/wrong_answers"][()] == 0
                if a["latency"] > 0:
                    assert f["outputs/latency_bound_rate"][()] == \
                        pytest.approx(workers * 1e6 / a["latency"])
                else:
                    assert "latency_bound_rate" not in f["outputs"]


@pytest.mark.parametrize("ranks", [None, 2], ids=["threads", "ranks2"])
def test_io_scratch_directory_is_left_empty(tmp_path, ranks):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result_path = tmp_path / "run.h5"
    mode, launcher = launch(ranks)
    result = run_parkit([mode, "io", "--n", "5003", "--reps", "2", "--dir",
                         scratch, "--out", result_path, "--quiet"],
                        launcher=launcher)
    assert result.returncode == 0, result.stderr
    assert os.listdir(scratch) == []
    assert sorted(os.listdir(tmp_path)) == ["run.h5", "scratch"]
    with h5py.File(result_path, "r") as f:
        assert f.attrs["verified"] == 1
        assert f.attrs["dir"] == str(scratch)
        assert f["outputs/read_checksum"][()] == \
            f["outputs/written_checksum"][()]


PERTURBED = [
    ("stencil", ["--n", "33", "--steps", "5"], None),
    ("stencil", ["--n", "33", "--steps", "5", "--save"], 3),
    ("stream", ["--n", "10001"], None),
    ("stream", ["--n", "10001"], 2),
    ("transpose", ["--n", "21"], None),
    ("transpose", ["--n", "21"], 3),
    ("io", ["--n", "5003"], None),
    ("io", ["--n", "5003"], 2),
    ("wait", ["--items", "40", "--latency", "50"], None),
    ("wait", ["--items", "40", "--latency", "50"], 3),
]


@pytest.mark.parametrize(
    "kernel,arguments,ranks", PERTURBED,
    ids=[f"{k}-{'threads' if r is None else f'ranks{r}'}"
         for k, _, r in PERTURBED])
def test_perturbed_result_fails_verification(tmp_path, kernel, arguments,
                                             ranks):
    result_path = tmp_path / "run.h5"
    mode, launcher = launch(ranks)
    result = run_parkit([mode, kernel, *arguments, "--perturb", "--reps", "2",
                         "--out", result_path, "--quiet"], launcher=launcher)
    assert result.returncode == 3, (result.returncode, result.stderr)
    assert f"parkit: error: {kernel} verification failed" in result.stderr
    assert "verified=0" in result.stdout
    with h5py.File(result_path, "r") as f:
        assert f.attrs["verified"] == 0
        assert f.attrs["perturb"] == 1
    # io's scratch file lives beside the result file: gone as well.
    assert os.listdir(tmp_path) == ["run.h5"]
