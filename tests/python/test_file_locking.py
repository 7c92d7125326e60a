"""HDF5 on shared file systems: parkit writes where file locks do not work
(an LD_PRELOAD shim makes flock() fail with ENOLCK, as on NFS without
lockd), records the locking mode asked for, honours HDF5_USE_FILE_LOCKING,
and runs under either MPI-IO component of Open MPI."""
import os
import subprocess

import h5py
import pytest

from conftest import mpirun, run_parkit

SHIM = os.environ.get("PARKIT_NO_FILE_LOCKS", "")

# An ASan build must accept a preload library that comes before its runtime.
PRELOAD = {"LD_PRELOAD": SHIM, "ASAN_OPTIONS": "detect_leaks=0:"
           "verify_asan_link_order=0"}


def only_result(directory):
    files = list(directory.glob("*.h5"))
    assert len(files) == 1, files
    return files[0]


def provenance(path, name):
    # Reading needs no lock: a file under its final name is complete.
    with h5py.File(path, "r", locking=False) as f:
        return f["provenance"].attrs[name]


@pytest.fixture(autouse=True)
def needs_shim():
    if not SHIM or not os.path.exists(SHIM):
        pytest.fail("PARKIT_NO_FILE_LOCKS is not set; run through ctest")


@pytest.mark.parametrize("ranks", [None, 2])
def test_runs_where_file_locks_fail(tmp_path, ranks):
    arguments = ["threads" if ranks is None else "ranks", "montecarlo",
                 "--class", "S", "--reps", "1", "--out", tmp_path]
    launcher = mpirun(ranks, "--oversubscribe", "-x", "LD_PRELOAD",
                      "-x", "ASAN_OPTIONS") if ranks else None
    result = run_parkit(arguments, launcher=launcher, env=PRELOAD)
    assert result.returncode == 0, result.stderr
    path = only_result(tmp_path)
    assert provenance(path, "file_locking") == "best-effort"


def test_the_shim_really_breaks_locking(tmp_path):
    """Guards the test above: a reader that insists on locks fails here."""
    result = run_parkit(["threads", "montecarlo", "--class", "S", "--reps",
                         "1", "--out", tmp_path])
    assert result.returncode == 0, result.stderr
    path = only_result(tmp_path)
    check = subprocess.run(
        ["h5dump", "-A", "-g", "/provenance", str(path)], capture_output=True,
        text=True, env={**os.environ, **PRELOAD,
                        "HDF5_USE_FILE_LOCKING": "TRUE"})
    assert check.returncode != 0, "flock() still works under the shim"


@pytest.mark.parametrize("setting,recorded", [("FALSE", "off"),
                                              ("TRUE", "on"),
                                              ("BEST_EFFORT", "best-effort")])
def test_hdf5_use_file_locking_is_honoured_and_recorded(tmp_path, setting,
                                                        recorded):
    result = run_parkit(["threads", "montecarlo", "--class", "S", "--reps",
                         "1", "--out", tmp_path],
                        env={"HDF5_USE_FILE_LOCKING": setting})
    assert result.returncode == 0, result.stderr
    path = only_result(tmp_path)
    assert provenance(path, "file_locking") == recorded
    with h5py.File(path, "r", locking=False) as f:
        environment = [v.decode() for v in f["provenance/environment"][()]]
    assert f"HDF5_USE_FILE_LOCKING={setting}" in environment


@pytest.mark.parametrize("component", ["ompio", "romio321"])
def test_either_mpi_io_component_writes_the_file(tmp_path, component):
    result = run_parkit(["ranks", "montecarlo", "--class", "S", "--reps", "1",
                         "--out", tmp_path],
                        launcher=mpirun(2, "--oversubscribe"),
                        env={"OMPI_MCA_io": component})
    assert result.returncode == 0, result.stderr
    with h5py.File(only_result(tmp_path), "r", locking=False) as f:
        assert f.attrs["verified"] == 1 and f.attrs["ranks"] == 2
