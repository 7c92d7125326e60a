"""The sbatch scripts of jobs/slurm/ (and one from jobs/make-sbatch.sh) on a
real SLURM cluster started for this module (munged, slurmctld, slurmd in a
temporary directory; tests/python/slurm_cluster.py): job state and exit
code, the STATUS marker, and the HDF5 files each job left. Skipped only when
the SLURM packages (or root) are missing. How long the jobs may take is
counted in a tiny job measured first, so it fits any machine's speed."""
import csv
import glob
import math
import os
import re
import subprocess
import time

import h5py
import pytest

from conftest import BINARY, SOURCE_DIR
from slurm_cluster import LocalSlurm, missing_packages

# The multi-node scripts need several nodes: test_multinode.py runs them on
# a simulated cluster.
SCRIPTS = sorted(os.path.basename(p) for p in
                 glob.glob(os.path.join(SOURCE_DIR, "jobs", "slurm", "*.sbatch"))
                 if not os.path.basename(p).startswith("multinode-"))

# A job that reaches its time limit: a short run finishes, a long one gets
# the USR1 that --signal=B:USR1@55 sends, a third is never started. SLURM
# may send that signal up to a minute early (sbatch(1)), so the job starts
# with a limit far away, and the test brings the limit near (scontrol
# update) only once the long run is in its repetitions (a progress line
# after every one): the signal then finds the short run finished, however
# long it took.
LONG_REPETITIONS = 1000000
TIME_LIMIT_JOB = f"""#!/bin/bash
#SBATCH --job-name=parkit-timelimit
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=1
#SBATCH --time=10
#SBATCH --signal=B:USR1@55
set -uo pipefail
source "$PARKIT/jobs/slurm/lib.sh"
parkit_job_start
PARKIT_STEP_OUT=$JOB_DIR/short.h5 parkit_launch threads montecarlo --estimate pi --samples 100000 --reps 2
PARKIT_STEP_OUT=$JOB_DIR/long.h5 parkit_launch threads montecarlo --estimate pi --samples 2000000 --reps {LONG_REPETITIONS} --warmup 0
PARKIT_STEP_OUT=$JOB_DIR/never.h5 parkit_launch threads matmul --n 64
"""
# One small run in a job, the unit the waits below are counted in.
TINY_JOB = """#!/bin/bash
#SBATCH --job-name=parkit-tiny
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=1
#SBATCH --time=10
set -uo pipefail
source "$PARKIT/jobs/slurm/lib.sh"
parkit_job_start
parkit_launch threads montecarlo --estimate pi --samples 100000 --reps 1
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = missing_packages()
    if reason:
        pytest.skip(f"SLURM tests skipped: {reason}")
    base = tmp_path_factory.mktemp("slurm")
    with LocalSlurm(base / "cluster") as running:
        yield running


def submit(cluster, work, arguments, **variables):
    env = {"PARKIT": SOURCE_DIR, "PARKIT_BINARY": BINARY,
           "PARKIT_RESULTS": str(work / "results"), "OMPI_MCA_pml": "ob1",
           "KERNEL": "", "ARGS": "", **variables}
    env = {k: v for k, v in env.items() if v != ""}
    for name in ("KERNEL", "ARGS"):  # not from the caller's environment
        if name not in env:
            env[name] = None
    environment = {k: v for k, v in dict(cluster.env, **env).items()
                   if v is not None}
    done = subprocess.run(["sbatch", "--parsable", *arguments], cwd=work,
                          env=environment, capture_output=True, text=True,
                          check=True)
    return done.stdout.strip().split(";")[0]


@pytest.fixture(scope="module")
def job_seconds(cluster, tmp_path_factory):
    """Seconds from sbatch to the end of a job of one small run, measured
    now on this machine (a job that takes 10 minutes is a hang)."""
    work = tmp_path_factory.mktemp("tiny")
    (work / "tiny.sbatch").write_text(TINY_JOB)
    started = time.monotonic()
    (record,) = cluster.wait(submit(cluster, work, ["tiny.sbatch"]),
                             timeout=600)
    assert record["JobState"] == "COMPLETED", output_of(work, record)
    return time.monotonic() - started


def seconds_of(duration):
    """Seconds in a SLURM duration, [D-]HH:MM:SS."""
    days, _, clock = duration.rpartition("-")
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    return ((int(days or 0) * 24 + hours) * 60 + minutes) * 60 + seconds


def bring_the_time_limit_near(cluster, work, job_id, within):
    """Waits (up to `within` s) until the time-limit job's long run reports
    a repetition, then sets the job's limit 45 to 105 s ahead; returns it
    in seconds. SLURM checks limits every 30 s and sends the --signal at
    the first check less than 55 + 30 s before the limit: here the next
    one, or one at least 55 s before the limit, always a check before the
    limit's own."""
    deadline = time.monotonic() + within
    log = work / f"slurm-{job_id}.out"
    marker = f" of {LONG_REPETITIONS}, "
    while not log.exists() or marker not in log.read_text():
        (record,) = cluster.job(job_id)
        assert record["JobState"] in ("PENDING", "RUNNING"), record
        assert time.monotonic() < deadline, \
            f"the long run did not start in {within:.0f} s: {record}"
        time.sleep(0.2)
    (record,) = cluster.job(job_id)
    minutes = math.ceil((seconds_of(record["RunTime"]) + 45) / 60)
    cluster.client(["scontrol", "update", f"JobId={job_id}",
                    f"TimeLimit={minutes}"])
    return 60 * minutes


@pytest.fixture(scope="module")
def jobs(cluster, tmp_path_factory, job_seconds):
    """Submits every job at once, waits for all; {name: (id, [records])}."""
    work = tmp_path_factory.mktemp("jobs")
    slurm_dir = os.path.join(SOURCE_DIR, "jobs", "slurm")
    submitted = {}
    for script in SCRIPTS:
        submitted[script] = submit(cluster, work, [f"{slurm_dir}/{script}"])
    submitted["failing"] = submit(cluster, work, [f"{slurm_dir}/threads.sbatch"],
                                  ARGS="--bogus 1")
    submitted["mpirun"] = submit(cluster, work, [f"{slurm_dir}/ranks.sbatch"],
                                 PARKIT_LAUNCHER="mpirun")
    generated = subprocess.run(
        [f"{SOURCE_DIR}/jobs/make-sbatch.sh", "--kernel", "matmul", "--mode",
         "hybrid", "--ranks-per-node", "2", "--threads", "1", "--time", "5",
         "--args", "--n 96 --reps 2"], capture_output=True, text=True, check=True)
    (work / "generated.sbatch").write_text(generated.stdout)
    submitted["generated"] = submit(cluster, work, ["generated.sbatch"])
    (work / "timelimit.sbatch").write_text(TIME_LIMIT_JOB)
    submitted["timelimit"] = submit(cluster, work, ["timelimit.sbatch"],
                                    PARKIT_PROGRESS_AFTER="0")
    # The jobs share the node's cores: each waits for those before it.
    # Twenty tiny jobs' time and a minute more is plenty for any of them;
    # the time-limit job ends at its new limit at the latest (SLURM checks
    # limits every 30 s; SIGKILL follows after KillWait, 5 s).
    wait = 60 + 20 * job_seconds
    limit = bring_the_time_limit_near(cluster, work, submitted["timelimit"],
                                      within=wait)
    finished = {}
    for name, job_id in submitted.items():
        bound = limit + 30 + 5 + wait if name == "timelimit" else wait
        finished[name] = (job_id, cluster.wait(job_id, timeout=bound))
    return work, finished


def job_directory(work, record):
    """The results directory lib.sh made for one job (or array task)."""
    name = f"{record['JobName']}_{record['JobId']}"
    if record.get("ArrayTaskId"):
        name = f"{record['JobName']}_{record['ArrayJobId']}_{record['ArrayTaskId']}"
    return work / "results" / name


def output_of(work, record):
    if record.get("ArrayTaskId"):
        path = work / f"slurm-{record['ArrayJobId']}_{record['ArrayTaskId']}.out"
    else:
        path = work / f"slurm-{record['JobId']}.out"
    return path.read_text()


def check_result(path, record, mode=None):
    with h5py.File(path, "r") as f:
        a = f.attrs
        assert a["verified"] == 1, path
        if mode:
            assert a["mode"] == mode
        assert a["slurm_job_id"] == record["JobId"]
        assert a["slurm_nodelist"] == "localnode"
        if record.get("ArrayTaskId"):
            assert a["slurm_array_job_id"] == record["ArrayJobId"]
            assert a["slurm_array_task_id"] == record["ArrayTaskId"]
        cpus = f["ranks/thread_cpu"][:]
        assert cpus.shape == (a["ranks"], a["threads"])
        if a["ranks"] * a["threads"] <= os.cpu_count():
            # Each thread on its own core: every (rank, thread) a distinct CPU.
            assert len(set(cpus.ravel())) == cpus.size, cpus
        return dict(a)


@pytest.mark.parametrize("script", [s for s in SCRIPTS if s != "sweep.sbatch"])
def test_mode_script_completes(jobs, script):
    work, finished = jobs
    job_id, (record,) = finished[script]
    assert (record["JobState"], record["ExitCode"]) == ("COMPLETED", "0:0"), \
        output_of(work, record)
    directory = job_directory(work, record)
    assert (directory / "STATUS").read_text() == "COMPLETED 0\n"
    files = glob.glob(str(directory / "*.h5"))
    assert len(files) == 1, files
    mode = script.split(".")[0]
    attrs = check_result(files[0], record, mode)
    assert str(attrs["ranks"]) == record["NumTasks"]
    cpus_per_task = re.search(r"cpus-per-task=(\d+)",
                              open(f"{SOURCE_DIR}/jobs/slurm/{script}").read())
    assert attrs["threads"] == int(cpus_per_task.group(1))
    assert attrs["slurm_cpus_per_task"] == cpus_per_task.group(1)
    assert "--cpu-bind=cores" in output_of(work, record)


def test_sweep_array_runs_every_split(jobs):
    work, finished = jobs
    job_id, records = finished["sweep.sbatch"]
    assert sorted(r["ArrayTaskId"] for r in records) == ["0", "1"]
    kernels = set()
    for record in records:
        assert (record["JobState"], record["ExitCode"]) == ("COMPLETED", "0:0")
        directory = job_directory(work, record)
        assert (directory / "STATUS").read_text() == "COMPLETED 0\n"
        with open(directory / "index.tsv") as text:
            rows = list(csv.DictReader(text, delimiter="\t"))
        assert [(r["ranks"], r["threads"]) for r in rows] == \
            [("1", "1"), ("1", "2"), ("2", "1")]
        for row in rows:
            assert row["exit_status"] == "0"
            attrs = check_result(directory / row["result_file"], record,
                                 row["mode"])
            kernels.add(attrs["kernel"])
    assert kernels == {"matmul", "montecarlo"}


def test_generated_script_runs(jobs):
    work, finished = jobs
    _, (record,) = finished["generated"]
    assert (record["JobState"], record["ExitCode"]) == ("COMPLETED", "0:0"), \
        output_of(work, record)
    (path,) = glob.glob(str(job_directory(work, record) / "*.h5"))
    attrs = check_result(path, record, "hybrid")
    assert (attrs["ranks"], attrs["threads"], attrs["n"]) == (2, 1, 96)


def test_mpirun_inside_the_allocation(jobs):
    """PARKIT_LAUNCHER=mpirun: the fallback where srun cannot start ranks."""
    work, finished = jobs
    _, (record,) = finished["mpirun"]
    assert (record["JobState"], record["ExitCode"]) == ("COMPLETED", "0:0"), \
        output_of(work, record)
    assert "mpirun -np 2 --map-by slot:PE=1 --bind-to core" in output_of(work, record)
    (path,) = glob.glob(str(job_directory(work, record) / "*.h5"))
    assert check_result(path, record, "ranks")["ranks"] == 2


def test_failing_job_ends_failed_with_the_message(jobs):
    work, finished = jobs
    _, (record,) = finished["failing"]
    assert (record["JobState"], record["ExitCode"]) == ("FAILED", "2:0")
    assert "parkit: error:" in output_of(work, record)
    assert "--bogus" in output_of(work, record)
    directory = job_directory(work, record)
    assert (directory / "STATUS").read_text() == "FAILED 2\n"
    assert not glob.glob(str(directory / "*.h5"))


def test_time_limit_stops_the_run_cleanly(jobs):
    work, finished = jobs
    _, (record,) = finished["timelimit"]
    output = output_of(work, record)
    directory = job_directory(work, record)
    status = (directory / "STATUS").read_text().split()
    assert status in (["INTERRUPTED", "4"], ["INTERRUPTED", "5"]), output
    assert record["JobState"] in ("FAILED", "TIMEOUT"), record
    # The run finished before the limit is complete and readable.
    short = check_result(directory / "short.h5", record, "threads")
    assert short["interrupted"] == 0 and short["repetitions_completed"] == 2
    # The interrupted one is complete (its repetitions so far) or absent.
    long_file = directory / "long.h5"
    if status[1] == "4":
        attrs = check_result(long_file, record, "threads")
        assert attrs["interrupted"] == 1
        assert 1 <= attrs["repetitions_completed"] < attrs["repetitions"]
    else:
        assert not long_file.exists()
    assert not glob.glob(str(directory / "*.tmp"))
    assert not (directory / "never.h5").exists()
    assert "stop signal received" in output
