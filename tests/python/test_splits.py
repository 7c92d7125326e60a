"""The run matrix (generated from the kernels' descriptors by
cmake/parkit_run_matrix.cmake) left one file per split for each test
configuration. Every split must have run and verified, and every output
must agree with the one-thread run as its descriptor says, read from the
file itself (the `agreement` attribute of each output): bit for bit,
within the tolerance the run recorded, or not compared (figures of the
launch, measurements)."""
import glob
import os

import h5py
import numpy as np
import pytest

from conftest import CONFIG_KIND, CONFIGS, RESULTS, SPLITS, catalogue


def result_files(config):
    paths = glob.glob(os.path.join(RESULTS, config, "*.h5"))
    return {os.path.basename(p)[:-3]: p for p in sorted(paths)}


def outputs(path):
    """{name: (value, attributes)} of the file's outputs."""
    with h5py.File(path, "r") as f:
        return {name: (d[()], dict(d.attrs)) for name, d in f["outputs"].items()}


def test_every_kernel_has_configurations_in_the_matrix():
    kernels = {kernel["name"] for kernel in catalogue()["kernels"]}
    from conftest import CONFIG_KERNEL
    assert kernels == set(CONFIG_KERNEL.values()), \
        "a kernel without a test configuration in the run matrix"
    assert len(SPLITS) >= 8 and "threads_p1_t1" in SPLITS


@pytest.mark.parametrize("config", CONFIGS)
def test_every_split_ran_and_verified(config):
    files = result_files(config)
    assert set(files) == set(SPLITS), f"missing or extra runs in {config}"
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


def assert_outputs_agree(reference_path, path, label):
    """Every output of `path` agrees with the reference file's as its
    `agreement` attribute says; `label` names the run in messages. Returns
    the number of outputs compared."""
    reference, got = outputs(reference_path), outputs(path)
    compared = 0
    for name, (value, attributes) in reference.items():
        agreement = attributes["agreement"]
        if agreement in ("differs", "measured"):
            continue
        assert name in got, f"{label} lacks output {name}"
        mine = got[name][0]
        if agreement == "bitwise":
            assert np.asarray(mine).tobytes() == np.asarray(value).tobytes(), \
                f"{name} differs between the reference and {label}: " \
                f"{value!r} vs {mine!r}"
        else:
            assert agreement == "tolerance", (name, agreement)
            tolerance = float(reference[attributes["tolerance_output"]][0])
            assert float(got[attributes["tolerance_output"]][0]) == tolerance
            scale_name = attributes["scale_output"]
            scale = reference[scale_name][0] if scale_name else np.abs(value)
            worst = float(np.max(np.abs(np.asarray(mine) - value) / scale))
            assert worst <= tolerance, \
                f"{label}: {name} differs from the reference by " \
                f"{worst:.3g} x {scale_name or '|reference|'}, tolerance " \
                f"{tolerance:.3g}"
        compared += 1
    return compared


@pytest.mark.parametrize("config", CONFIGS)
def test_outputs_agree_across_splits_as_declared(config):
    files = result_files(config)
    compared = 0
    for split, path in files.items():
        compared += assert_outputs_agree(files["threads_p1_t1"], path, split)
    if CONFIG_KIND[config] == "work":
        assert compared > 0, f"{config}: a work kernel with nothing compared"
