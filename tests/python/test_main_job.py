"""The main job (jobs/compare_modes.sh, README command 1) as a campaign:
a preview that claims no winner; interleaved rounds in orders the recorded
seed reproduces, with calibrated batches; a verdict line per kernel and
regime; a foreign load named and kept from deciding; bad arguments refused.
No assertion depends on which mode is faster or on the machine's speed."""
import ctypes
import json
import math
import multiprocessing
import os
import subprocess

import h5py
import numpy as np
import pytest

from conftest import BINARY, SOURCE_DIR

SCRIPT = os.path.join(SOURCE_DIR, "jobs", "compare_modes.sh")


def main_job(out, *arguments, timeout=900):
    return subprocess.run(
        ["bash", SCRIPT, "--parkit", BINARY, "--out", str(out), *arguments],
        capture_output=True, text=True, timeout=timeout,
        env=dict(os.environ, OMPI_MCA_pml="ob1"))


def record(out):
    with open(out / "campaign.json") as text:
        return json.load(text)


def test_preview_shows_medians_and_claims_no_winner(tmp_path):
    out = tmp_path / "preview"
    result = main_job(out, "--quick", "--kernels", "matmul stream",
                      "--probes", "sync pingpong")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "PREVIEW" in text and "no winner is claimed" in text, text
    assert " faster than " not in text and " within 3%" not in text
    campaign = record(out)
    assert campaign["kind"] == "preview" and campaign["rounds"] == 1
    # 2 kernels x the cache regime x (1x1 + the full-machine splits).
    splits = len(campaign["splits"])
    assert len(campaign["runs"]) == 2 * splits
    assert len(list((out / "runs").glob("*.h5"))) == 2 * splits
    assert all(r["status"] == 0 for r in campaign["runs"])
    assert len(campaign["probes"]) == 2 * (splits - 1)
    assert (out / "answer.json").exists() and (out / "report.txt").exists()
    assert "matmul cache" in text and "stream cache" in text
    assert "barrier:" in text and "message 8 B, latency:" in text


def test_rounds_are_interleaved_from_the_seed_and_calibrated(tmp_path):
    out = tmp_path / "campaign"
    result = main_job(out, "--kernels", "stream", "--probes", "",
                      "--budget", "25", "--seed", "1234")
    assert result.returncode == 0, result.stderr
    campaign = record(out)
    assert campaign["seed"] == 1234 and campaign["rounds"] >= 1
    names = [c["name"] for c in campaign["configurations"]]
    groups = {c["group"] for c in campaign["configurations"]}
    assert groups == {"stream cache", "stream memory"}
    # Each round ran its configurations once, in the order the seed gives
    # (numpy's permutation of the configurations still running).
    for number in range(1, campaign["rounds"] + 1):
        runs = sorted((r for r in campaign["runs"] if r["round"] == number),
                      key=lambda r: r["position"])
        ran = [r["configuration"] for r in runs]
        assert len(set(ran)) == len(ran)
        active = [n for n in names if n in ran]
        order = np.random.default_rng([1234, number]).permutation(len(active))
        assert ran == [active[i] for i in order]
    # Sizes from the working sets: memory 16x cache; batches from the
    # calibration, recorded in every file.
    by_group = {}
    for configuration in campaign["configurations"]:
        by_group.setdefault(configuration["group"], configuration)
    cache, memory = by_group["stream cache"], by_group["stream memory"]
    assert memory["working_set_bytes"] == pytest.approx(
        16 * cache["working_set_bytes"], rel=1e-3)
    for group, calibration in campaign["calibration"].items():
        assert calibration["batch"] == max(1, math.ceil(
            campaign["min_repetition_seconds"]
            / calibration["seconds_per_call"]))
    for run in campaign["runs"]:
        configuration = campaign["configurations"][names.index(
            run["configuration"])]
        with h5py.File(out / run["file"], "r") as f:
            assert f.attrs["batch"] == configuration["batch"]
            assert f.attrs["verified"] == 1
            assert "foreign_load" in f.attrs
    # A verdict (or why there is none) for each kernel and regime.
    for group in groups:
        kernel, regime = group.split()
        assert any(line.split()[:2] == [kernel, regime]
                   for line in result.stdout.splitlines()), result.stdout
    answer = json.loads((out / "answer.json").read_text())
    assert {g["group"] for g in answer["groups"]} == groups


def _busy(name):
    """A busy loop whose process name says what it is (prctl PR_SET_NAME)."""
    ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)
    while True:
        pass


def test_a_foreign_load_is_named_and_decides_nothing(tmp_path):
    loads = [multiprocessing.Process(target=_busy, args=("foreign-load",),
                                     daemon=True)
             for _ in os.sched_getaffinity(0)]
    for load in loads:
        load.start()
    try:
        out = tmp_path / "busy"
        result = main_job(out, "--kernels", "stream", "--probes", "",
                          "--budget", "15")
    finally:
        for load in loads:
            load.terminate()
    assert result.returncode == 0, result.stderr
    answer = json.loads((out / "answer.json").read_text())
    measured = [r for r in record(out)["runs"] if r["status"] == 0]
    assert len(answer["disturbed_runs"]) == len(measured) > 0
    assert "foreign-load" in result.stdout, result.stdout
    for group in answer["groups"]:
        assert group["verdict"] is None, group
    assert " faster than " not in result.stdout


def test_a_given_problem_replaces_the_regimes(tmp_path):
    """--set KERNEL OPTIONS: the problem of bench/modes.sh's old table (any
    size), one regime, "given"."""
    out = tmp_path / "given"
    result = main_job(out, "--quick", "--kernels", "matmul montecarlo",
                      "--set", "matmul --n 96", "--set",
                      "montecarlo --estimate ep --class S", "--probes", "")
    assert result.returncode == 0, result.stderr
    campaign = record(out)
    assert {c["group"] for c in campaign["configurations"]} == \
        {"matmul given", "montecarlo given"}
    for run in campaign["runs"]:
        with h5py.File(out / run["file"], "r") as f:
            if f.attrs["kernel"] == "matmul":
                assert f.attrs["n"] == 96
            else:
                assert f.attrs["estimate"] == "ep" and f.attrs["class"] == "S"


@pytest.mark.parametrize("arguments, complaint", [
    (["--set", "nosuch --n 3"], "--set 'nosuch --n 3'"),
    (["--budget", "-1"], "--budget -1"),
    (["--target", "2"], "--target 2"),
    (["--kernels", "nosuch"], "'nosuch' is no work kernel"),
    (["--probes", "matmul"], "'matmul' is no probe"),
    (["--settled-rounds", "2"], "--settled-rounds 2"),
])
def test_bad_arguments_are_refused(tmp_path, arguments, complaint):
    out = tmp_path / "refused"
    result = main_job(out, *arguments)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and complaint in lines[0], result.stderr
    assert not out.exists()
