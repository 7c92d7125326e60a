"""The main job (jobs/compare_modes.sh, README command 1) as a campaign:
a preview that claims no winner; interleaved rounds in orders the recorded
seed reproduces, with calibrated batches; a verdict line per kernel and
regime; a foreign load named and kept from deciding; bad arguments refused;
the oversubscribed runs and the claims table, every figure of which is read
back from the result files it names. No assertion depends on which mode is
faster or on the machine's speed."""
import ctypes
import html
import json
import math
import multiprocessing
import os
import subprocess
import sys

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


def strict_json(path):
    """A JSON file read as jansson (parkit report) and jq read it: NaN and
    Infinity are no JSON."""
    def refuse(constant):
        raise ValueError(f"{path}: {constant} is no JSON")
    with open(path) as text:
        return json.load(text, parse_constant=refuse)


def record(out):
    return strict_json(out / "campaign.json")


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
    answer = strict_json(out / "answer.json")
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
    answer = strict_json(out / "answer.json")
    measured = [r for r in record(out)["runs"] if r["status"] == 0]
    assert len(answer["disturbed_runs"]) == len(measured) > 0
    assert "foreign-load" in result.stdout, result.stdout
    for group in answer["groups"]:
        assert group["verdict"] is None, group
    assert " faster than " not in result.stdout


def test_a_given_problem_replaces_the_regimes(tmp_path):
    """--set KERNEL OPTIONS: a problem of the user's choice (any size), one
    regime, "given"."""
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


CLAIM_OUTCOMES = {"held", "did not hold", "depends", "undecided"}


def recomputed(out, source):
    """A claim figure's value, recomputed from the files its source names
    (parkit_analysis/claims.py, module docstring)."""
    paths = [out / f for f in source["files"]]
    assert paths, source
    if "probe" in source:
        values = []
        for path in paths:
            with h5py.File(path, "r") as f:
                assert f.attrs["kernel"] == source["probe"]
                if source.get("mode"):
                    assert f.attrs["mode"] == source["mode"]
                value = np.asarray(f["outputs"][source["output"]][()],
                                   dtype=float)
                if source["at"]:
                    axis = f["outputs"][source["at"]["output"]][()]
                    value = value[int(np.argmin(np.abs(
                        axis - source["at"]["value"])))]
                values.append(float(value))
        return float(np.median(values))
    if "output" in source:
        with h5py.File(paths[0], "r") as f:
            return float(f["outputs"][source["output"]][()])
    times, items = [], set()
    for path in paths:
        with h5py.File(path, "r") as f:
            assert f.attrs["verified"] == 1
            times.append(float(f.attrs["time_median"]))
            items.add(float(f.attrs["work_items"]))
    median = float(np.median(times))
    if source["statistic"] == "median_time":
        return median
    assert source["statistic"] == "throughput" and len(items) == 1
    return items.pop() / median


def test_claims_table_from_the_result_files_and_oversubscribed_runs(
        tmp_path):
    out = tmp_path / "claims"
    result = main_job(out, "--kernels", "montecarlo wait", "--probes",
                      "spawn pingpong footprint context_switch isolation "
                      "sharing", "--budget", "10", "--seed", "7")
    assert result.returncode == 0, result.stderr
    campaign = record(out)
    cores = campaign["machine"]["cores_per_node"]
    # 1, 2, 4 and 8 workers per core, as threads and as ranks, for the
    # computing kernel and the waiting one (which runs only so): 1 and 8 in
    # the rounds, 2 and 4 once after them.
    def oversubscribed(configurations, kernel):
        return {(c["mode"], c["ranks"], c["threads"], c["workers_per_core"],
                 c["oversubscribe"]) for c in configurations
                if c["group"] == f"{kernel} oversubscribed"}

    def expected(factors):
        return {(mode, ranks, threads, k, k > 1) for k in factors
                for mode, ranks, threads in (("threads", 1, k * cores),
                                             ("ranks", k * cores, 1))}
    for kernel in ("montecarlo", "wait"):
        assert oversubscribed(campaign["configurations"], kernel) == \
            expected((1, 8))
        assert oversubscribed(campaign["point_configurations"], kernel) == \
            expected((2, 4))
    assert not any(c["kernel"] == "wait" and c["regime"] != "oversubscribed"
                   for c in campaign["configurations"])
    assert len(campaign["points"]) == len(campaign["point_configurations"])
    for run in campaign["runs"] + campaign["points"]:
        assert run["status"] == 0, run
        with h5py.File(out / run["file"], "r") as f:
            assert f.attrs["verified"] == 1
            assert f.attrs["ranks"] * f.attrs["threads"] == f.attrs["workers"]
    answer = strict_json(out / "answer.json")
    # parkit report prints the answer after its table (jansson reads it).
    reported = subprocess.run([BINARY, "report", str(out)],
                              capture_output=True, text=True, timeout=300)
    assert reported.returncode == 0, reported.stderr
    assert "answer.json" not in reported.stderr, reported.stderr
    assert "montecarlo compute: " in reported.stdout, reported.stdout[-3000:]
    claims = answer["claims"]
    assert [c["number"] for c in claims] == list(range(1, 10))
    for claim in claims:
        # Every kernel and probe behind the claims ran: each row has its
        # figures and an outcome (undecided where the rounds do not
        # decide yet: one round here, and a busy machine disturbs runs).
        assert claim["outcome"] in CLAIM_OUTCOMES, claim
        assert claim["figures"] and claim["because"], claim
        for figure in claim["figures"]:
            assert figure["value"] == pytest.approx(
                recomputed(out, figure["source"]), rel=1e-9), figure
        assert f"{claim['number']}. {claim['claim']}: " \
            f"{claim['outcome'].upper()}" in result.stdout, claim
    # One round gives no CI: no claim rests on the rounds yet.
    for number in (4, 6, 7):
        assert claims[number - 1]["outcome"] == "undecided", \
            claims[number - 1]
    # What POSIX guarantees, read from the isolation figures.
    isolation = {f["source"]["output"]: f["value"]
                 for f in claims[7]["figures"]}
    assert isolation["thread_finished"] == 0
    assert isolation["process_finished"] == 4 - 1  # --team 4, the default
    assert claims[7]["outcome"] in ("held", "depends")
    # The HTML report's answer shows the same table.
    report = subprocess.run(
        [sys.executable, os.path.join(SOURCE_DIR, "analysis", "report.py"),
         str(out)], capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr
    page = (out / "report.html").read_text()
    for claim in claims:
        assert f"<td>{html.escape(claim['claim'])}</td>" in page, claim
        assert f"<b>{claim['outcome']}</b>" in page, claim
