"""The run matrix (tests/CMakeLists.txt) left one file per split for each
kernel configuration. Every split must have run and verified; the outputs of
montecarlo, stencil, stream, transpose and io must be identical bit for bit
across splits (except the measurements of the run itself: outputs in s, GB/s
or threads), and matmul's within the tolerance the kernel recorded."""
import glob
import os

import h5py
import numpy as np
import pytest

from conftest import CONFIGS, RESULTS

SPLITS = {"threads_p1_t1", "threads_p1_t2", "threads_p1_t3", "ranks_p1_t1",
          "ranks_p2_t1", "ranks_p3_t1", "ranks_p4_t1", "hybrid_p2_t2"}


def result_files(config):
    paths = glob.glob(os.path.join(RESULTS, config, "*.h5"))
    return {os.path.basename(p)[:-3]: p for p in sorted(paths)}


def outputs(path, measurements=True):
    """{name: value} of the file's outputs; measurements=False leaves out
    those in MEASUREMENT_UNITS."""
    with h5py.File(path, "r") as f:
        return {name: d[()] for name, d in f["outputs"].items()
                if measurements or d.attrs["units"] not in MEASUREMENT_UNITS}


# Kernels whose outputs do not depend on the split, bit for bit.
BITWISE_KERNELS = ("montecarlo", "stencil", "stream", "transpose", "io")
# Units of outputs that describe this run (its speed, its thread count)
# rather than what it computed.
MEASUREMENT_UNITS = {"s", "GB/s", "threads"}


def test_configurations_were_registered():
    assert {"matmul", "montecarlo-ep", "montecarlo-pi", "stencil", "stream",
            "transpose", "io"} <= set(CONFIGS)


@pytest.mark.parametrize("config", CONFIGS)
def test_every_split_ran_and_verified(config):
    files = result_files(config)
    assert set(files) == SPLITS, f"missing or extra runs in {config}"
    for split, path in files.items():
        mode, ranks, threads = split.split("_")
        with h5py.File(path, "r") as f:
            a = f.attrs
            assert a["verified"] == 1, (path, a["verification"])
            assert a["mode"] == mode
            assert a["ranks"] == int(ranks[1:])
            assert a["threads"] == int(threads[1:])
            assert f["timings"].shape == (a["repetitions"], a["ranks"])
    assert not glob.glob(os.path.join(RESULTS, config, "*.tmp"))


def assert_same_outputs_bitwise(reference_path, path, label):
    """Every output of `path` except the run's measurements equals the
    reference file's, bit for bit; `label` names the run in messages."""
    reference = outputs(reference_path, measurements=False)
    assert reference, f"{reference_path} recorded no outputs"
    got = outputs(path, measurements=False)
    assert got.keys() == reference.keys(), label
    for name, value in reference.items():
        assert np.asarray(got[name]).tobytes() == \
            np.asarray(value).tobytes(), \
            f"{name} differs between the reference and {label}: " \
            f"{value!r} vs {got[name]!r}"


def assert_matmul_within_tolerance(reference_path, path, label):
    """matmul's C x in `path` agrees with the reference file's within the
    tolerance the kernel recorded (the same in both), and so does its
    residual; `label` names the run in messages."""
    reference = outputs(reference_path)
    tolerance = float(reference["tolerance"])
    bound = reference["bound"]
    assert tolerance > 0 and np.all(bound > 0)
    got = outputs(path)
    assert float(got["tolerance"]) == tolerance, label
    assert float(got["max_scaled_residual"]) <= tolerance, label
    difference = np.abs(got["cx"] - reference["cx"])
    worst = float(np.max(difference / bound))
    assert worst <= tolerance, \
        f"{label}: C x differs from the reference by {worst:.3g} x bound, " \
        f"tolerance {tolerance:.3g}"
    # The bound is the same vector whatever the split (to rounding).
    assert np.allclose(got["bound"], bound, rtol=1e-12, atol=0), label


@pytest.mark.parametrize(
    "config", [c for c in CONFIGS if c.startswith(BITWISE_KERNELS)])
def test_outputs_are_bitwise_identical_across_splits(config):
    files = result_files(config)
    for split, path in files.items():
        assert_same_outputs_bitwise(files["threads_p1_t1"], path, split)


@pytest.mark.parametrize(
    "config", [c for c in CONFIGS if c.startswith("matmul")])
def test_matmul_agrees_across_splits_within_recorded_tolerance(config):
    files = result_files(config)
    for split, path in files.items():
        assert_matmul_within_tolerance(files["threads_p1_t1"], path, split)
