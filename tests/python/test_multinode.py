"""parkit across simulated cluster nodes (tests/python/simulated_cluster.py:
one network + UTS namespace per node, real Open MPI over TCP between them,
shared memory inside each, a real multi-node SLURM).

- Every kernel, in ranks and hybrid modes, on 3 nodes x 2 ranks and on
  2 nodes, verifies; its outputs equal the one-node run of the same problem
  (tests/CMakeLists.txt's run matrix, threads_p1_t1) bit for bit, matmul's
  within its recorded tolerance; the file follows results/README.md and
  names the nodes. Half the runs write with --writers node-leaders.
- The traffic between nodes really crossed the virtual wire.
- Killing every rank of one node (or the whole node, its Open MPI daemon
  included) ends the job everywhere within seconds, naming the node, under
  mpirun and under srun; so does a node whose link goes down (mpirun with
  TCP keepalive on its daemons' connections).
- The multi-node sbatch scripts run unchanged on a 3-node SLURM cluster.
The failure tests' bounds are counted in a tiny run across the nodes
measured first (launch_seconds), so they stretch on a slower or busier
machine and still catch a job that never ends. Needs root (namespaces);
skips with the reason otherwise."""
import contextlib
import glob
import math
import os
import re
import shlex
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from conftest import BINARY, SOURCE_DIR
from parkit_analysis import load_results, summary_table
from parkit_analysis.summary import split_label
from simulated_cluster import (SimulatedNodes, SimulatedSlurm,
                               missing_requirements)
from test_result_layout import check_file_against_readme
from conftest import MATRIX
from test_splits import assert_outputs_agree, result_files

REASON = missing_requirements()
pytestmark = pytest.mark.skipif(bool(REASON),
                                reason=f"simulated nodes skipped: {REASON}")

# Of the run matrix's configurations (from the descriptors), the first two
# of each kernel, to bound the time; the one-node threads_p1_t1 file of each
# is the reference.
def _first_two_per_kernel(configs):
    chosen, counts = [], {}
    for config in configs:
        counts[config["kernel"]] = counts.get(config["kernel"], 0) + 1
        if counts[config["kernel"]] <= 2:
            chosen.append(config["name"])
    return chosen


CONFIGS = _first_two_per_kernel(MATRIX["configs"])
# (nodes, mode, ranks per node, threads, writers)
SHAPES = [(3, "ranks", 2, 1, "all"), (3, "hybrid", 2, 2, "node-leaders"),
          (2, "ranks", 2, 1, "node-leaders"), (2, "hybrid", 1, 2, "all")]
# What a node that goes silent costs Open MPI to notice (s) with KEEPALIVE
# below: 5 s idle, then 3 probes 2 s apart; kernel timers, not CPU speed.
KEEPALIVE_SECONDS = 5 + 3 * 2


def reference_file(config):
    return result_files(config)["threads_p1_t1"]


def kernel_arguments(path):
    """The kernel and its options of the run that wrote `path`, from its
    command line, without the mode, --out and --threads."""
    with h5py.File(path, "r") as f:
        words = shlex.split(f["provenance"].attrs["command_line"])
    kept, words = [], words[2:]  # the program and the mode
    while words:
        word = words.pop(0)
        if word in ("--out", "--threads"):
            words.pop(0)
        else:
            kept.append(word)
    return kept


def run_across(nodes, mode, ranks_per_node, threads, arguments, out,
               extra=("--quiet",)):
    """parkit MODE ARGUMENTS on every node of `nodes`; CompletedProcess."""
    program = [BINARY, mode, *arguments, "--out", str(out), *extra]
    if mode == "hybrid":
        program += ["--threads", str(threads)]
    return nodes.mpirun(ranks_per_node, program, timeout=180,
                        env={"OMP_NUM_THREADS": str(threads)})


@pytest.fixture(scope="module")
def clusters(tmp_path_factory):
    """{3: three simulated nodes, 2: two others}, for the whole module."""
    base = tmp_path_factory.mktemp("nodes")
    with SimulatedNodes(3, base / "three") as three, \
            SimulatedNodes(2, base / "two") as two:
        yield {3: three, 2: two}
    assert three.leftovers() == [] and two.leftovers() == []


@pytest.fixture(scope="module")
def nodes(clusters):
    return clusters[3]


@pytest.fixture(scope="module")
def launch_seconds(nodes, tmp_path_factory):
    """Wall seconds of a tiny run of 2 ranks on each of 3 nodes, start-up
    and the result file included, measured now on this machine."""
    out = tmp_path_factory.mktemp("launch") / "tiny.h5"
    started = time.monotonic()
    result = run_across(nodes, "ranks", 2, 1, ["montecarlo", "--estimate",
                                               "pi", "--samples", "100000",
                                               "--reps", "1"], out)
    assert result.returncode == 0, result.stderr
    return time.monotonic() - started


def failure_bound(launch_seconds):
    """Seconds a job may take to end once a node is gone: Open MPI notices
    a dead rank or daemon at once, then SIGTERM and SIGKILL (1 s later) end
    the others; ten tiny launches' time and 10 s more are plenty."""
    return 10 + 10 * launch_seconds


def check_placement(path, nodes, count, ranks_per_node, threads, writers):
    check_file_against_readme(path)
    with h5py.File(path, "r") as f:
        a = f.attrs
        assert a["verified"] == 1, a["verification"]
        assert (a["nodes"], a["ranks_per_node"], a["threads"]) == \
            (count, ranks_per_node, threads)
        assert a["ranks"] == count * ranks_per_node
        assert a["writers"] == writers
        hosts = [h.decode() for h in f["ranks/host"][:]]
        assert sorted(set(hosts)) == sorted(nodes.names[:count])
        assert [h.decode() for h in f["nodes/host"][:]] == \
            list(dict.fromkeys(hosts))
        assert list(f["nodes/ranks"][:]) == [ranks_per_node] * count


def check_same_results(config, path):
    """Outputs agree with the one-node run as their descriptors say (the
    probes' measurements are not compared)."""
    assert_outputs_agree(reference_file(config), path, "the multi-node run")


@pytest.mark.parametrize("shape", SHAPES,
                         ids=lambda s: f"{s[0]}nodes-{s[1]}-{s[2]}x{s[3]}-{s[4]}")
@pytest.mark.parametrize("config", CONFIGS)
def test_kernel_verifies_across_nodes(clusters, tmp_path, config, shape):
    count, mode, ranks_per_node, threads, writers = shape
    nodes = clusters[count]
    arguments = kernel_arguments(reference_file(config))
    out = tmp_path / "run.h5"
    result = run_across(nodes, mode, ranks_per_node, threads, arguments, out,
                        extra=["--quiet", "--writers", writers])
    assert result.returncode == 0, result.stderr
    check_placement(out, nodes, count, ranks_per_node, threads, writers)
    check_same_results(config, out)


def test_traffic_between_nodes_crosses_the_wire(nodes, tmp_path):
    """matmul on 3 nodes x 2 ranks: every rank needs panels of A and B from
    ranks on other nodes, so every node's link carries at least a matrix
    row block (n/3 rows of n doubles) each way."""
    n = 211
    before = {name: nodes.interface_bytes(name) for name in nodes.names}
    result = run_across(nodes, "ranks", 2, 1,
                        ["matmul", "--n", str(n), "--block", "32", "--reps",
                         "2"], tmp_path / "matmul.h5", extra=())
    assert result.returncode == 0, result.stderr
    assert "matmul, ranks mode: 3 nodes x 2 ranks per node x 1 thread " \
        "(6 ranks)" in result.stdout, result.stdout
    assert " nodes=3 ranks_per_node=2 " in result.stdout
    block_bytes = 8 * n * (n // 3)
    for name in nodes.names:
        received, sent = (now - then for now, then in
                          zip(nodes.interface_bytes(name), before[name]))
        assert received >= block_bytes and sent >= block_bytes, \
            (name, received, sent, block_bytes)


def test_node_leader_writers_write_the_same_file(nodes, tmp_path):
    """stencil --save (a distributed output written by hyperslabs) and every
    per-rank table: the same with one writer per node as with all ranks."""
    arguments = ["stencil", "--n", "53", "--steps", "4", "--save",
                 "--reps", "1"]
    files = {}
    for writers in ("all", "node-leaders"):
        files[writers] = tmp_path / f"{writers}.h5"
        result = run_across(nodes, "hybrid", 2, 2, arguments,
                            files[writers],
                            extra=["--quiet", "--writers", writers])
        assert result.returncode == 0, result.stderr
        # Checked per node: 2 ranks x 2 threads on a node's 2 cores.
        assert "oversubscribed: 2 ranks x 2 threads = 4 workers on node " \
            f"{nodes.names[0]} (the most crowded) with 2 cores" \
            in result.stderr, result.stderr
    with h5py.File(files["all"], "r") as a, \
            h5py.File(files["node-leaders"], "r") as b:
        for name in ("outputs/field", "ranks/host", "ranks/node",
                     "ranks/cores", "ranks/cpuset", "nodes/host",
                     "nodes/ranks", "nodes/cores", "nodes/cpuset"):
            assert np.array_equal(a[name][()], b[name][()]), name
        assert a["outputs/field"].shape == (53, 53)
        assert np.count_nonzero(a["outputs/field"][()]) > 0


def test_report_shows_nodes_ranks_per_node_threads(nodes, tmp_path):
    out = tmp_path / "runs"
    for mode, threads in (("ranks", 1), ("hybrid", 2)):
        result = run_across(nodes, mode, 2, threads,
                            ["transpose", "--n", "48", "--reps", "2"], out)
        assert result.returncode == 0, result.stderr
    table = subprocess.run([BINARY, "report", str(out)], capture_output=True,
                           text=True)
    assert table.returncode == 0, table.stderr
    splits = {line.split()[0]: line.split()[1]
              for line in table.stdout.splitlines()
              if line.startswith("  ") and line.split()[0] in
              ("ranks", "hybrid")}
    assert splits == {"ranks": "3x2x1", "hybrid": "3x2x2"}, table.stdout
    csv = subprocess.run([BINARY, "report", "--format", "csv", str(out)],
                         capture_output=True, text=True)
    header, *rows = csv.stdout.splitlines()
    columns = header.split(",")
    for row in rows:
        cells = dict(zip(columns, row.split(",")))
        assert (cells["nodes"], cells["ranks_per_node"], cells["ranks"]) == \
            ("3", "2", "6"), row
    # The pandas side agrees, and labels the splits the same way.
    table = summary_table(load_results(str(out)))
    assert sorted(zip(table["nodes"], table["ranks_per_node"])) == \
        [(3, 2), (3, 2)]
    assert sorted(split_label(row, "x") for _, row in table.iterrows()) == \
        ["3x2x1", "3x2x2"]


def parkit_pids(nodes, name):
    """The parkit processes running on node `name`."""
    found = []
    for pid in nodes.pids(name):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as text:
                words = text.read().split(b"\0")
        except OSError:
            continue
        if words and os.path.basename(words[0]) == b"parkit":
            found.append(pid)
    return found


def assert_no_parkit_left(nodes, within):
    """Waits up to `within` seconds for every parkit process on every node
    to end."""
    deadline = time.monotonic() + within
    while any(parkit_pids(nodes, name) for name in nodes.names):
        assert time.monotonic() < deadline, \
            {name: parkit_pids(nodes, name) for name in nodes.names}
        time.sleep(0.1)


@contextlib.contextmanager
def long_run(nodes, tmp_path, launch_seconds, mpirun_options=(), extra=()):
    """A run of 2 ranks on each node under mpirun (on the first node) that
    outlasts any test (a million EP class S repetitions), given once it
    is in its timed repetitions (a progress line after every one):
    (the launcher's Popen, the path of its stderr). Ends the launcher if
    it still runs afterwards."""
    errors = tmp_path / "stderr.txt"
    program = [BINARY, "ranks", "montecarlo", "--estimate", "ep", "--class",
               "S", "--reps", "1000000", "--out",
               str(tmp_path / "results"), *extra]
    # Rank 0, the one that prints progress, runs beside mpirun and sees
    # its environment.
    env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", PARKIT_PROGRESS_AFTER="0")
    with open(errors, "w") as stderr:
        launcher = nodes.popen_on(
            nodes.names[0], nodes.mpirun_command(2, mpirun_options) + program,
            stdout=subprocess.DEVNULL, stderr=stderr, env=env)
    try:
        deadline = time.monotonic() + 30 + 10 * launch_seconds
        while "parkit: repetition" not in errors.read_text():
            assert launcher.poll() is None, errors.read_text()
            assert time.monotonic() < deadline, "the run never got going"
            time.sleep(0.1)
        yield launcher, errors
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()


@pytest.mark.parametrize("lost", ["ranks", "node"])
def test_losing_a_node_ends_the_job(nodes, tmp_path, launch_seconds, lost):
    """Every rank on the second node is killed (lost=ranks), or every
    process there, Open MPI's daemon included (lost=node, as when a node
    crashes): the other nodes' ranks end within seconds, the launcher names
    the node, and nothing keeps running or waiting anywhere."""
    victim = nodes.names[1]
    bound = failure_bound(launch_seconds)
    with long_run(nodes, tmp_path, launch_seconds) as (launcher, errors):
        victims = parkit_pids(nodes, victim) if lost == "ranks" \
            else nodes.pids(victim)
        assert len(parkit_pids(nodes, victim)) == 2
        killed = time.monotonic()
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        status = launcher.wait(timeout=bound)
        took = time.monotonic() - killed
    message = errors.read_text()
    print(f"lost {lost}: mpirun ended {took:.1f} s after the kill "
          f"(bound {bound:.0f} s)")
    assert status != 0, message
    assert victim in message, message
    assert took < bound
    assert_no_parkit_left(nodes, within=bound)
    assert not glob.glob(str(tmp_path / "results" / "*.h5"))


# Open MPI's launcher notices a node that went silent (no process died, the
# network did) only through TCP keepalive on its daemon connections: 300 s
# idle + 9 x 20 s by default. These settings (README.md, Several nodes; the
# mpirun launcher of jobs/slurm/lib.sh sets the same kind) make it seconds.
KEEPALIVE = ["--mca", "oob_tcp_keepalive_time", "5",
             "--mca", "oob_tcp_keepalive_intvl", "2",
             "--mca", "oob_tcp_keepalive_probes", "3"]


def test_a_silent_node_ends_the_job(tmp_path, launch_seconds):
    """The second node's link goes down mid-run (a switch port, a cable):
    nothing dies, so only silence tells. The launcher must give up on the
    node and end the job, naming it; the node's own ranks, cut off, end by
    --watchdog; nothing is left running anywhere."""
    # The launcher must notice first: the watchdog, which counts from the
    # start of the run, outlasts the first repetition (the link is cut
    # after it), the keepalive and the failure bound.
    bound = KEEPALIVE_SECONDS + failure_bound(launch_seconds)
    watchdog = math.ceil(bound + 5 + 2 * launch_seconds)
    with SimulatedNodes(3, tmp_path / "nodes") as nodes:
        victim = nodes.names[1]
        with long_run(nodes, tmp_path, launch_seconds, KEEPALIVE,
                      ["--watchdog", str(watchdog)]) as (launcher, errors):
            nodes.run_on(victim, ["ip", "link", "set", "veth0", "down"],
                         check=True)
            cut = time.monotonic()
            status = launcher.wait(timeout=bound)
            print(f"mpirun ended {time.monotonic() - cut:.1f} s after the "
                  "link went down")
        message = errors.read_text()
        assert status != 0, message
        assert "lost communication with a remote daemon" in message, message
        assert f"on node {victim}" in message, message
        # The cut-off ranks end at the latest by their watchdog.
        assert_no_parkit_left(nodes, within=watchdog + 10)
    assert nodes.leftovers() == []
    assert not glob.glob(str(tmp_path / "results" / "*.h5"))


# ---- SLURM across the simulated nodes -------------------------------------

@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A 3-node SLURM cluster on 3 simulated nodes of its own (the mpirun
    failure tests kill processes on theirs): (nodes, cluster)."""
    base = tmp_path_factory.mktemp("slurm")
    with SimulatedNodes(3, base / "nodes") as simulated, \
            SimulatedSlurm(simulated, base / "slurm") as cluster:
        yield simulated, cluster
    assert simulated.leftovers() == [] and cluster.leftovers() == []


SLURM_DIR = os.path.join(SOURCE_DIR, "jobs", "slurm")


def submit(cluster, work, arguments, **variables):
    """sbatch from `work`, parkit from this build, results under work."""
    env = {"PARKIT": SOURCE_DIR, "PARKIT_BINARY": BINARY,
           "PARKIT_RESULTS": str(work / "results"), "OMPI_MCA_pml": "ob1",
           **variables}
    return cluster.sbatch(arguments, cwd=work, env=env)


@pytest.fixture(scope="module")
def slurm_jobs(slurm, tmp_path_factory, launch_seconds):
    """Every multi-node job submitted at once, then waited for."""
    nodes, cluster = slurm
    work = tmp_path_factory.mktemp("jobs")
    generated = subprocess.run(
        [f"{SOURCE_DIR}/jobs/make-sbatch.sh", "--kernel", "transpose",
         "--mode", "ranks", "--nodes", "3", "--ranks-per-node", "2",
         "--time", "5", "--args", "--n 96 --reps 2"],
        capture_output=True, text=True, check=True)
    (work / "generated.sbatch").write_text(generated.stdout)
    submitted = {
        "multinode-ranks": submit(
            cluster, work, [f"{SLURM_DIR}/multinode-ranks.sbatch"]),
        "multinode-hybrid-3": submit(
            cluster, work, ["--nodes=3",
                            f"{SLURM_DIR}/multinode-hybrid.sbatch"]),
        "multinode-ranks-mpirun": submit(
            cluster, work, ["--nodes=3",
                            f"{SLURM_DIR}/multinode-ranks.sbatch"],
            PARKIT_LAUNCHER="mpirun"),
        "generated": submit(cluster, work, ["generated.sbatch"]),
    }
    # Small runs, 4 jobs on 2 cores: each a few launches' time.
    finished = {name: cluster.wait(job, timeout=60 + 40 * launch_seconds)[0]
                for name, job in submitted.items()}
    return work, finished, nodes.names


@pytest.mark.parametrize("job", ["multinode-ranks", "multinode-hybrid-3",
                                 "multinode-ranks-mpirun", "generated"])
def test_multinode_job_completes(slurm_jobs, job):
    work, finished, names = slurm_jobs
    record = finished[job]
    log = (work / f"slurm-{record['JobId']}.out")
    log = log.read_text() if log.exists() else "(no output file)"
    assert (record["JobState"], record["ExitCode"]) == ("COMPLETED", "0:0"), \
        log
    directory = work / "results" / f"{record['JobName']}_{record['JobId']}"
    assert (directory / "STATUS").read_text() == "COMPLETED 0\n"
    (path,) = glob.glob(str(directory / "*.h5"))
    check_file_against_readme(path)
    with h5py.File(path, "r") as f:
        a = f.attrs
        assert a["verified"] == 1, a["verification"]
        count = int(record["NumNodes"])
        assert a["nodes"] == count
        assert a["ranks"] == int(record["NumTasks"])
        assert a["slurm_job_id"] == record["JobId"]
        assert a["slurm_nodelist"] == record["NodeList"]
        hosts = sorted({h.decode() for h in f["ranks/host"][:]})
        assert hosts == sorted(names[:count])
        # Per node: each rank's cores as SLURM bound them, distinct
        # within the node.
        nodes = f["ranks/node"][:]
        cpusets = f["ranks/cpuset"][:]
        for node in range(count):
            mine = [c for c, n in zip(cpusets, nodes) if n == node]
            assert all(mine) and len(set(mine)) == len(mine), mine


def start_slurm_long_run(cluster, work, launch_seconds):
    """Submits a 3-node job that outlasts any test (a million EP class S
    repetitions) and waits until its ranks are in their timed repetitions
    (a progress line after every one): (job id, its output file), or
    (job id, None) when the job ended before that."""
    job = submit(cluster, work, ["--nodes=3",
                                 f"{SLURM_DIR}/multinode-ranks.sbatch"],
                 KERNEL="montecarlo",
                 ARGS="--estimate ep --class S --reps 1000000",
                 PARKIT_PROGRESS_AFTER="0")
    log = work / f"slurm-{job}.out"
    deadline = time.monotonic() + 60 + 10 * launch_seconds
    while not log.exists() or "parkit: repetition" not in log.read_text():
        output = log.read_text() if log.exists() else "(no output yet)"
        if re.search(r"^parkit job: (COMPLETED|INTERRUPTED|FAILED)", output,
                     re.MULTILINE):
            return job, None
        assert time.monotonic() < deadline, \
            f"the job did not get going: {cluster.job(job)}\n{output}"
        time.sleep(0.2)
    return job, log


def test_losing_a_node_ends_the_slurm_job(slurm, tmp_path, launch_seconds):
    """Every rank on the second node of a running 3-node job is killed:
    srun ends the step on the other nodes within seconds and names the node;
    the job ends FAILED with its STATUS marker saying so."""
    nodes, cluster = slurm
    victim = nodes.names[1]
    bound = failure_bound(launch_seconds)
    job, log = start_slurm_long_run(cluster, tmp_path, launch_seconds)
    assert log is not None, (tmp_path / f"slurm-{job}.out").read_text()
    victims = parkit_pids(nodes, victim)
    assert len(victims) == 2
    killed = time.monotonic()
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    try:
        (record,) = cluster.wait(job, timeout=bound)
    except TimeoutError as error:
        pytest.fail(f"{error}; {[(n, parkit_pids(nodes, n)) for n in nodes.names]};"
                    f" output: {log.read_text()}")
    took = time.monotonic() - killed
    print(f"srun ended the job {took:.1f} s after the kill (bound "
          f"{bound:.0f} s)")
    assert took < bound
    output = log.read_text()
    assert record["JobState"] == "FAILED", (record, output)
    assert victim in output, output
    directory = tmp_path / "results" / f"{record['JobName']}_{job}"
    assert (directory / "STATUS").read_text().startswith("FAILED "), output
    assert not glob.glob(str(directory / "*.h5"))
    assert_no_parkit_left(nodes, within=bound)
