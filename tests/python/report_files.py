"""Result trees for the report and analysis tests.

`make_campaign` copies real result files (the ones the CTest run matrix made
with build/parkit) into a fresh tree and adds what a real results directory
also holds: a truncated copy, a file that is not HDF5 at all, and the
.h5.tmp of an unfinished run. `write_run` writes a file in the documented
layout (results/README.md) with timings the test chooses."""
import glob
import os
import shutil

import h5py
import numpy as np

from conftest import RESULTS

BAD_FILES = ("broken/truncated.h5", "broken/not-hdf5.h5")
UNFINISHED = "broken/killed_run.h5.tmp"


def real_files(configs=("matmul", "montecarlo-ep")):
    files = []
    for config in configs:
        files += sorted(glob.glob(os.path.join(RESULTS, config, "*.h5")))
    assert len(files) >= 8, f"the run matrix left {len(files)} files"
    return files


def make_campaign(directory, configs=("matmul", "montecarlo-ep")):
    """Copies of the real files under directory/CONFIG/, plus the bad
    files. Returns the list of good copies."""
    good = []
    for path in real_files(configs):
        config = os.path.basename(os.path.dirname(path))
        target = os.path.join(directory, config, os.path.basename(path))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(path, target)
        good.append(target)
    os.makedirs(os.path.join(directory, "broken"), exist_ok=True)
    with open(good[0], "rb") as source:
        data = source.read()
    with open(os.path.join(directory, BAD_FILES[0]), "wb") as truncated:
        truncated.write(data[:len(data) // 2])
    with open(os.path.join(directory, BAD_FILES[1]), "w") as text:
        text.write("not an HDF5 file\n")
    shutil.copyfile(good[1], os.path.join(directory, UNFINISHED))
    return good


def _text(group, name, value):
    group.attrs.create(name, value, dtype=h5py.string_dtype("utf-8"))


def write_run(path, kernel, mode, timings, verified=1, parameters=None,
              outputs=None, threads=1, rate=1.0, rate_unit="GFLOP/s"):
    """A result file in the documented layout with the given timings
    [repetitions, ranks] (seconds), parameters {name: (value, unit)} and
    outputs {name: (array or scalar, units)}."""
    timings = np.asarray(timings, dtype=np.float64)
    repetitions, ranks = timings.shape
    slowest = timings.max(axis=1)
    totals = timings.sum(axis=0)
    with h5py.File(path, "w") as f:
        for name, value in (("layout_version", 1), ("ranks", ranks),
                            ("threads", threads), ("nodes", 1),
                            ("workers", ranks * threads),
                            ("repetitions", repetitions), ("warmup", 0),
                            ("seed", 42), ("verified", verified),
                            ("march_native", 0)):
            f.attrs.create(name, value, dtype=np.int64)
        for name, value in (("time_min", slowest.min()),
                            ("time_median", np.median(slowest)),
                            ("time_max", slowest.max()),
                            ("imbalance", totals.max() / totals.min()),
                            ("rate", rate), ("rate_best", rate),
                            ("work_flops", 0.0), ("work_bytes", 0.0),
                            ("work_items", 0.0)):
            f.attrs.create(name, value, dtype=np.float64)
        for name, value in (("parkit_version", "0.1.0"), ("kernel", kernel),
                            ("mode", mode), ("verification", "synthetic"),
                            ("time_unit", "s"), ("rate_unit", rate_unit),
                            ("work_item_name", ""),
                            ("started_utc", "2026-01-02T03:04:05Z"),
                            ("finished_utc", "2026-01-02T03:04:06Z")):
            _text(f, name, value)
        for name, (value, unit) in (parameters or {}).items():
            if isinstance(value, str):
                _text(f, name, value)
            else:
                f.attrs[name] = value
            _text(f, f"{name}_unit", unit)
        dataset = f.create_dataset("timings", data=timings)
        dataset.attrs["units"] = "s"
        f.create_dataset("ranks/host", data=np.array([b"synthetic"] * ranks))
        f.create_dataset("ranks/peak_resident_bytes",
                         data=np.full(ranks, 2**24, dtype=np.int64))
        provenance = f.create_group("provenance")
        _text(provenance, "cpu_model", "Synthetic CPU")
        group = f.create_group("outputs")
        for name, (value, units) in (outputs or {}).items():
            dataset = group.create_dataset(name, data=value)
            dataset.attrs["units"] = units
            dataset.attrs["description"] = name
    return path
