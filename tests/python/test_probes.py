"""The overhead probes (spawn, sync, pingpong, footprint, context_switch,
isolation, sharing) ran in every split
of the run matrix (tests/CMakeLists.txt). Their outputs are measured times
and sizes, so they cannot agree across splits: instead each file must hold
exactly the outputs that apply to its launch, with the units that
results/README.md ("Probe outputs") documents, finite and positive, and
ordered where physics orders them. No timing thresholds."""
import glob
import os
import subprocess

import h5py
import numpy as np
import pytest

from conftest import BINARY, RESULTS, SPLITS, catalogue
from parkit_analysis.catalogue import condition_holds

CATALOGUE = catalogue() if BINARY and os.path.exists(BINARY) else None
PROBES = tuple(k["name"] for k in CATALOGUE["kernels"]
               if k["kind"] == "probe") if CATALOGUE else ()
DECLARED = {k["name"]: {o["name"]: o for o in k["outputs"]}
            for k in CATALOGUE["kernels"]} if CATALOGUE else {}


def probe_files():
    files = []
    for probe in PROBES:
        found = sorted(glob.glob(os.path.join(RESULTS, probe, "*.h5")))
        assert len(found) == len(SPLITS), \
            f"{probe}: expected {len(SPLITS)} splits, got {found}"
        files += found
    return files


FILES = probe_files() if RESULTS else []


def read(path):
    with h5py.File(path, "r") as f:
        attrs = dict(f.attrs)
        outputs = {name: d[()] for name, d in f["outputs"].items()}
        units = {name: d.attrs["units"] for name, d in f["outputs"].items()}
    return attrs, outputs, units


def test_there_are_probes():
    assert {"spawn", "sync", "pingpong", "footprint", "context_switch",
            "isolation", "sharing"} <= set(PROBES)


@pytest.mark.parametrize("path", FILES,
                         ids=lambda p: os.path.relpath(p, RESULTS))
def test_outputs_present_exactly_when_they_apply(path):
    """The descriptor's conditions, evaluated here independently of the
    runner's own check."""
    attrs, outputs, units = read(path)
    declared = DECLARED[attrs["kernel"]]
    for name, output in declared.items():
        holds = condition_holds(output["when"], attrs, outputs)
        if holds is not None:
            assert (name in outputs) == holds, (name, output["when"])
    for name in outputs:
        assert units[name] == declared[name]["unit"], name


# Measured times, sizes and rates must be > 0; counts and statuses
# (workers, lost updates, exit statuses) and set sizes may be 0 or -1.
POSITIVE_UNITS = {"s", "us", "ns", "B", "GB/s"}


@pytest.mark.parametrize("path", FILES,
                         ids=lambda p: os.path.relpath(p, RESULTS))
def test_measurements_are_finite_and_positive(path):
    attrs, outputs, units = read(path)
    assert attrs["verified"] == 1, attrs["verification"]
    for name, value in outputs.items():
        value = np.asarray(value, dtype=float)
        assert value.size > 0 and np.all(np.isfinite(value)), name
        declared = DECLARED[attrs["kernel"]][name]
        if declared["agreement"] == "measured" and \
                units[name] in POSITIVE_UNITS:
            assert np.all(value > 0), (name, value)


def outputs_of(probe):
    return [read(p) for p in FILES if os.path.basename(
        os.path.dirname(p)) == probe]


def test_spawn_curves_run_over_the_worker_counts():
    for attrs, outputs, _ in outputs_of("spawn"):
        workers = attrs["max_workers"]
        assert list(outputs["workers"]) == list(range(1, workers + 1))
        for name in ("openmp_start_join", "pthread_start_join",
                     "fork_exec_wait"):
            assert outputs[name].shape == (workers,), name
        # The tests run with the default --mpi_spawn no.
        assert outputs["mpi_comm_spawn_error"] == -1


def test_pingpong_sizes_and_bigger_messages_take_longer():
    for attrs, outputs, _ in outputs_of("pingpong"):
        sizes = outputs["message_bytes"]
        assert sizes[0] == 8 and sizes[-1] == attrs["max_bytes"]
        assert np.all(np.diff(sizes) > 0)
        for way in ("shm", "mpi"):
            if f"{way}_latency" not in outputs:
                continue
            latency = outputs[f"{way}_latency"]
            bandwidth = outputs[f"{way}_bandwidth"]
            assert latency.shape == bandwidth.shape == sizes.shape
            # The largest message takes longer than the quickest smaller
            # one. Not than 8 B: on a busy machine a foreign process's
            # time slice can stretch any one size's median (8 B in 1.3 ms,
            # 1 MiB in 0.13 ms, with a busy loop on one of 2 cores).
            assert latency[-1] > latency[:-1].min(), (way, latency)
            assert np.allclose(bandwidth, sizes / latency * 1e-3), way


def test_footprint_holds_the_problem():
    for attrs, outputs, _ in outputs_of("footprint"):
        ranks, problem = attrs["ranks"], outputs["problem_bytes"]
        assert problem == attrs["bytes"]
        rank_rss = outputs["rank_rss"]
        assert rank_rss.shape == (ranks,)
        assert rank_rss.sum() == outputs["job_rss"]
        # Every rank touched its share of the problem, on top of its
        # baseline, so each holds at least its share and the job the whole.
        for rank in range(ranks):
            share = problem // ranks + (rank < problem % ranks)
            assert rank_rss[rank] >= share, (rank, rank_rss)
        assert outputs["job_rss"] >= problem + outputs["baseline_rss"] * 0.5
        assert outputs["overhead_ratio"] == pytest.approx(
            outputs["job_rss"] / problem)
        if "job_pss" in outputs:  # a share of RSS, read moments later
            assert outputs["job_pss"] <= 1.05 * outputs["job_rss"]


def test_sync_hybrid_needs_threads_and_ranks():
    splits = {(a["ranks"], a["threads"]): set(o)
              for a, o, _ in outputs_of("sync")}
    assert splits[(1, 1)] == set()
    assert splits[(2, 2)] == {"thread_barrier", "thread_reduction",
                              "rank_barrier", "rank_allreduce",
                              "hybrid_barrier"}


def child(*arguments):
    return subprocess.run([BINARY, "--parkit-probe-child", *arguments],
                          capture_output=True, text=True, timeout=60)


def test_hidden_child_exits_at_once_and_times_its_first_region():
    done = child("exit")
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""
    first = child("first-region", "2")
    assert first.returncode == 0, first.stderr
    assert float(first.stdout) > 0
    assert child("first-region", "0").returncode == 2
    assert child("no-such-thing").returncode == 2


def test_context_switch_sizes_and_a_working_set_costs_more_to_read():
    cpus = os.cpu_count()
    for attrs, outputs, _ in outputs_of("context_switch"):
        sizes = outputs["working_set_bytes"]
        assert sizes[0] == 0 and sizes[-1] == attrs["max_bytes"]
        assert np.all(np.diff(sizes) > 0)
        for name in ("handoff_overhead", "thread_switch", "process_switch"):
            assert outputs[name].shape == sizes.shape, name
        assert 0 <= outputs["cpu"] < cpus
        # Reading 1024 cache lines between hand-offs is more work than
        # reading none, on any machine.
        overhead = outputs["handoff_overhead"]
        assert overhead[-1] > overhead[0], overhead


SIGSEGV_STATUS = 128 + 11


def test_isolation_a_crashing_thread_takes_its_process_down():
    for attrs, outputs, _ in outputs_of("isolation"):
        team = attrs["team"]
        assert outputs["thread_started"] == team
        assert outputs["thread_finished"] == 0
        assert outputs["thread_exit_status"] == SIGSEGV_STATUS


def test_isolation_other_processes_finish():
    for attrs, outputs, _ in outputs_of("isolation"):
        team = attrs["team"]
        assert outputs["process_started"] == team
        assert outputs["process_crash_status"] == SIGSEGV_STATUS
        assert outputs["process_finished"] == team - 1
        assert outputs["process_clean_exits"] == team - 1


def test_isolation_records_what_the_mpi_job_did():
    """What the MPI does after a rank dies is recorded, not required; the
    job ran here (mpirun is on PATH in the tests), every rank started, no
    more than the others finished, and mpirun reported the failure."""
    for attrs, outputs, _ in outputs_of("isolation"):
        team = attrs["team"]
        assert outputs["rank_status"] == 0
        assert outputs["rank_started"] == team
        assert 0 <= outputs["rank_finished"] <= team - 1
        assert outputs["rank_exit_status"] != 0


def test_isolation_leaves_no_signs_behind():
    names = os.listdir(os.path.join(RESULTS, "isolation"))
    assert names and all(name.endswith(".h5") for name in names), names


def test_sharing_counts_and_an_atomic_costs_more_than_a_register_add():
    for attrs, outputs, _ in outputs_of("sharing"):
        updates = attrs["updates"]
        for kind, workers in (("thread", attrs["threads"]),
                              ("rank", outputs["node_ranks"])):
            if workers < 2:
                assert f"{kind}_racy" not in outputs
                continue
            assert 0 <= outputs[f"{kind}_lost_updates"] < workers * updates
            assert outputs[f"{kind}_private"] < \
                outputs[f"{kind}_padded_atomic"], (kind, outputs)
        # One node in the matrix: every rank shares rank 0's window.
        assert outputs["node_ranks"] == attrs["ranks"]


def test_isolation_child_refuses_what_it_does_not_know():
    assert child("isolation", "sideways").returncode == 2
    assert child("isolation", "threads", "1", "/nonexistent",
                 "10").returncode == 2
