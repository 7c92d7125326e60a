"""The decisions of the claims table (analysis/parkit_analysis/claims.py)
on campaigns whose rounds are made up, so that each outcome is known: the
figures are read from small result files written here, the comparisons are
statistics.ratio_ci over the made-up rounds. What a real main job gives is
tested in test_main_job.py."""
import math
import os

import h5py
import numpy as np
import pytest

from parkit_analysis.claims import campaign_claims, claims_lines

ROUNDS = 10
CORES = 2


def configuration(kernel, regime, mode, ranks, threads, k=1, baseline=False):
    return {"name": f"{kernel} {regime} {mode} {ranks}x{threads}",
            "kernel": kernel, "regime": regime, "mode": mode, "ranks": ranks,
            "threads": threads, "baseline": baseline, "workers_per_core": k,
            "oversubscribe": k > 1}


def write_run(path, seconds, items, outputs=None):
    with h5py.File(path, "w") as f:
        f.attrs["verified"] = 1
        f.attrs["time_median"] = seconds
        f.attrs["work_items"] = items
        group = f.create_group("outputs")
        for name, value in (outputs or {}).items():
            group[name] = value


def campaign(tmp_path, times, rounds=ROUNDS):
    """A campaign record whose configuration c took times[c] x a round's
    jitter (+-1%, alternating) in each of `rounds` rounds, with a file per
    run."""
    configurations, samples, runs = [], {}, []
    for (kernel, regime, mode, ranks, threads, k, baseline), seconds in \
            times.items():
        c = configuration(kernel, regime, mode, ranks, threads, k, baseline)
        configurations.append(c)
        samples[c["name"]] = []
        for number in range(1, rounds + 1):
            value = seconds * (1 + 0.01 * (-1) ** number)
            name = f"{c['name'].replace(' ', '_')}_{number}.h5"
            outputs = {"latency_bound_rate": ranks * threads * 1000.0} \
                if kernel == "wait" else None
            write_run(tmp_path / name, value, 256.0, outputs)
            samples[c["name"]].append(value)
            runs.append({"configuration": c["name"], "round": number,
                         "status": 0, "file": name})
    record = {"_directory": str(tmp_path), "kind": "campaign",
              "configurations": configurations, "runs": runs,
              "machine": {"cores_per_node": CORES}}
    return record, samples


def oversubscribed(kernel, threads_times, ranks_times):
    times = {}
    for k, t, r in zip((1, 2, 4, 8), threads_times, ranks_times):
        times[(kernel, "oversubscribed", "threads", 1, k * CORES, k,
               False)] = t
        times[(kernel, "oversubscribed", "ranks", k * CORES, 1, k,
               False)] = r
    return times


def compute(base, threads, ranks):
    return {("montecarlo", "compute", "threads", 1, 1, 1, True): base,
            ("montecarlo", "compute", "threads", 1, CORES, 1, False): threads,
            ("montecarlo", "compute", "ranks", CORES, 1, 1, False): ranks}


def claims_of(tmp_path, times, rounds=ROUNDS):
    record, samples = campaign(tmp_path, times, rounds)
    return {c["number"]: c for c in
            campaign_claims(record, samples, None, threshold=0.03)}


def test_waiting_helps_both_modes_and_computing_suffers(tmp_path):
    times = compute(0.2, 0.1, 0.1)
    times.update(oversubscribed("wait", (0.28, 0.14, 0.07, 0.036),
                                (0.28, 0.14, 0.07, 0.037)))
    times.update(oversubscribed("montecarlo", (0.1, 0.104, 0.108, 0.12),
                                (0.1, 0.11, 0.12, 0.13)))
    claims = claims_of(tmp_path, times)
    # Threads and ranks both run in parallel: the claim's "threads do
    # not" fails.
    assert claims[4]["outcome"] == "did not hold", claims[4]
    assert "both run in parallel" in claims[4]["because"]
    # More waiting workers help threads and ranks alike.
    assert claims[6]["outcome"] == "depends", claims[6]
    assert "on workers per core" in claims[6]["because"]
    # 8 per core: computing slows, waiting speeds up.
    assert claims[7]["outcome"] == "depends", claims[7]
    assert "compute or wait" in claims[7]["because"]
    # Each row's figures are the files' medians.
    for number in (4, 6, 7):
        for figure in claims[number]["figures"]:
            assert not figure["source"].get("disturbed")
            files = figure["source"]["files"]
            assert len(files) in (1, ROUNDS)
    throughput = [f for f in claims[6]["figures"] if f["unit"] == "items/s"
                  and f["source"].get("statistic") == "throughput"]
    assert throughput and all(
        f["value"] == pytest.approx(256.0 / np.median(
            [h5py.File(tmp_path / p, "r").attrs["time_median"]
             for p in f["source"]["files"]])) for f in throughput)
    # The probes did not run: their rows say so, and nothing else.
    for number in (1, 2, 3, 5, 8, 9):
        assert claims[number]["outcome"] == "not measured", claims[number]
        assert not claims[number]["figures"]


def test_only_threads_gain_from_waiting_and_nothing_suffers(tmp_path):
    times = compute(0.2, 0.1, 0.2)
    times.update(oversubscribed("wait", (0.28, 0.14, 0.07, 0.036),
                                (0.28, 0.28, 0.28, 0.28)))
    times.update(oversubscribed("montecarlo", (0.1, 0.1, 0.1, 0.1),
                                (0.1, 0.1, 0.1, 0.1)))
    claims = claims_of(tmp_path, times)
    assert claims[4]["outcome"] == "did not hold", claims[4]
    assert "ranks did not speed up" in claims[4]["because"]
    assert claims[6]["outcome"] == "held", claims[6]
    assert claims[7]["outcome"] == "did not hold", claims[7]


def test_too_few_rounds_decide_nothing(tmp_path):
    times = compute(0.2, 0.1, 0.1)
    times.update(oversubscribed("wait", (0.28, 0.14, 0.07, 0.036),
                                (0.28, 0.14, 0.07, 0.037)))
    times.update(oversubscribed("montecarlo", (0.1, 0.104, 0.108, 0.12),
                                (0.1, 0.11, 0.12, 0.13)))
    claims = claims_of(tmp_path, times, rounds=3)
    for number in (4, 6, 7):
        assert claims[number]["outcome"] == "undecided", claims[number]
        assert "rounds" in claims[number]["because"], claims[number]
        assert claims[number]["figures"], claims[number]
    text = "\n".join(claims_lines(list(claims.values())))
    assert "4. processes give true parallelism" in text and \
        "UNDECIDED" in text


def test_disturbed_rounds_show_their_figures_labelled(tmp_path):
    times = compute(0.2, 0.1, 0.1)
    record, samples = campaign(tmp_path, times)
    for name in samples:  # every run disturbed: no sample decides
        samples[name] = [math.nan] * ROUNDS
    claims = {c["number"]: c for c in
              campaign_claims(record, samples, None, threshold=0.03)}
    row = claims[4]
    assert row["outcome"] == "undecided"
    assert "without disturbance" in row["because"]
    assert row["figures"] and all(f["source"]["disturbed"] and
                                  "(disturbed runs)" in f["label"]
                                  for f in row["figures"])
    assert os.path.isabs(record["_directory"])
