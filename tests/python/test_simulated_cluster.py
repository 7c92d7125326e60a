"""The simulated cluster nodes of simulated_cluster.py, with real processes:
hostnames and name resolution inside the nodes, parkit over mpirun across
3 nodes (shared memory inside a node, TCP between nodes, traffic on the
veths), the environment remote ranks see, tree spawn, killing a node's
processes, a SLURM cluster on the nodes (srun, sbatch, srun --mpi=pmix),
and that nothing is left behind: after each context, after a start that
fails half-way. Skipped (the whole module) without root, iproute2,
util-linux, mpirun or permission for network namespaces."""
import json
import os
import re
import signal
import subprocess
import time

import h5py
import pytest

from conftest import BINARY, SOURCE_DIR
import simulated_cluster
from simulated_cluster import (SimulatedNodes, SimulatedSlurm,
                               missing_requirements)
from slurm_cluster import missing_packages, process_alive

REASON = missing_requirements()
pytestmark = pytest.mark.skipif(bool(REASON),
                                reason=f"simulated nodes skipped: {REASON}")

FENCE_PROBE = os.environ.get("PARKIT_PMIX_FENCE_PROBE", "")

PI_RUN = ["ranks", "montecarlo", "--estimate", "pi", "--samples", "200000",
          "--reps", "1", "--warmup", "0", "--quiet"]


def assert_clean(nodes):
    assert nodes.leftovers() == []
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True,
                            text=True).stdout
    assert nodes.prefix + "n" not in listed and nodes.switch not in listed


def hosts_of_ranks(path):
    with h5py.File(path, "r") as f:
        assert f.attrs["verified"] == 1
        return [h.decode() if isinstance(h, bytes) else str(h)
                for h in f["ranks/host"][:]]


def srun_environment():
    """The variables `parkit launch --launcher srun` (the launch layer that
    jobs/slurm/lib.sh uses) sets for srun launches, with none of them set
    beforehand."""
    shown = subprocess.run(
        [BINARY, "launch", "--launcher", "srun", "--format", "json",
         "--nodes", "3", "--cores", "2", "ranks", "montecarlo", "6", "1"],
        capture_output=True, text=True, check=True,
        env={"PATH": os.environ["PATH"]})
    environment = json.loads(shown.stdout)["environment"]
    return {k: v for k, v in environment.items() if not k.startswith("OMP_")}


def fence_probe(cluster, late_rank, environment, prefix=()):
    """3 nodes x 2 ranks of tests/pmix/fence_probe.c, rank `late_rank` 200 ms
    late into the second fence. Returns, per fence, how long before the last
    rank entered it the first rank left (> 0: it was no barrier)."""
    done = cluster.client(
        [*prefix, "srun", "--nodes=3", "--ntasks-per-node=2", "--mpi=pmix",
         FENCE_PROBE, "--delay-rank", str(late_rank), "--delay-ms", "200"],
        env=environment, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split() for line in done.stdout.splitlines()
            if line.startswith("rank ")]
    assert len(rows) == 6, done.stdout
    times = [{row[i]: float(row[i + 1]) for i in range(2, 10, 2)}
             for row in rows]
    assert all(row[-2:] == ["0", "0"] for row in rows), done.stdout
    return [max(t[f"enter{k}"] for t in times) -
            min(t[f"leave{k}"] for t in times) for k in (1, 2)]


def test_each_node_has_its_name_address_and_resolves_the_others(tmp_path):
    with SimulatedNodes(3, tmp_path) as nodes:
        assert len(set(nodes.names)) == 3
        assert nodes.subnet == "198.18.0.0/24"
        for name in nodes.names:
            shown = nodes.run_on(name, ["hostname"], capture_output=True,
                                 text=True, check=True)
            assert shown.stdout.strip() == name
            address = nodes.run_on(name, ["ip", "-4", "-o", "addr", "show",
                                          "veth0"], capture_output=True,
                                   text=True, check=True).stdout
            assert f" {nodes.addresses[name]}/24 " in address
        last = nodes.names[-1]
        resolved = nodes.run_on(nodes.names[0], ["getent", "hosts", last],
                                capture_output=True, text=True, check=True)
        assert resolved.stdout.split() == [nodes.addresses[last], last]
        # The host keeps its own hostname and sees none of the nodes' links.
        assert os.uname().nodename not in nodes.names
    assert_clean(nodes)


def test_parkit_across_three_nodes_uses_shared_memory_inside_tcp_between(
        tmp_path):
    out = tmp_path / "pi.h5"
    with SimulatedNodes(3, tmp_path / "nodes") as nodes:
        before = {name: nodes.interface_bytes(name) for name in nodes.names}
        done = nodes.mpirun(2, [BINARY, *PI_RUN, "--out", out],
                            env={"OMPI_MCA_pml": "ob1"},
                            mpirun_options=["--mca", "btl_base_verbose", "30"])
        assert done.returncode == 0, done.stdout + done.stderr
        after = {name: nodes.interface_bytes(name) for name in nodes.names}
    assert_clean(nodes)
    hosts = hosts_of_ranks(out)
    assert sorted(hosts) == sorted(nodes.names * 2)
    for name in nodes.names:  # wire-up, the reduction, MPI-IO: some KB
        assert after[name][0] - before[name][0] > 8192, (before, after)
        assert after[name][1] - before[name][1] > 8192, (before, after)
    # "[NODE:pid] mca: bml: Using BTL btl for send to [[job,1],rank] on
    # node PEER": every pair of ranks of one node shares memory, every pair
    # on two nodes goes over TCP.
    used = re.findall(r"\[([^:\]]+):\d+\] mca: bml: Using (\w+) btl for send "
                      r"to \[\[\d+,\d+\],\d+\] on node (\S+)",
                      done.stdout + done.stderr)
    # Open MPI connects lazily: not every pair need show up.
    assert {btl for _, btl, _ in used} == {"self", "vader", "tcp"}, used
    for node, btl, peer in used:
        if node != peer:
            assert btl == "tcp", (node, peer)
        else:
            assert btl in ("self", "vader"), (node, peer)


def test_remote_ranks_see_what_mpirun_exports_and_tree_spawn_works(
        tmp_path, monkeypatch):
    """The rsh agent starts remote daemons in a fresh environment, as sshd
    does: a variable only in mpirun's environment reaches the ranks on the
    first node, not those on the others; -x (env=) reaches all. With a
    routing radix of 1 the second node's daemon launches the third's."""
    monkeypatch.setenv("PARKIT_ONLY_HERE", "local")
    with SimulatedNodes(3, tmp_path) as nodes:
        done = nodes.mpirun(
            1, ["/bin/sh", "-c", "echo $(hostname) ${PARKIT_ONLY_HERE-unset} "
                "${PARKIT_EXPORTED-unset} $OMP_NUM_THREADS"],
            env={"PARKIT_EXPORTED": "everywhere"},
            mpirun_options=["--mca", "routed_radix", "1",
                            "--mca", "plm_base_verbose", "5"])
        assert done.returncode == 0, done.stdout + done.stderr
        seen = sorted(line.split() for line in done.stdout.splitlines())
        first, second, third = nodes.names
        assert seen == [[first, "local", "everywhere", "1"],
                        [second, "unset", "everywhere", "1"],
                        [third, "unset", "everywhere", "1"]]
        parent = nodes.addresses[second]
        assert re.search(r"orte_parent_uri \"[\d.]+;tcp://" +
                         re.escape(parent), done.stderr), done.stderr
    assert_clean(nodes)


def test_killing_a_node_and_teardown_end_only_the_nodes_processes(tmp_path):
    outside = subprocess.Popen(["sleep", "300"])
    try:
        with SimulatedNodes(2, tmp_path) as nodes:
            first, second = nodes.names
            on_first = nodes.popen_on(first, ["sleep", "300"])
            on_second = nodes.popen_on(second, ["sleep", "300"])
            deadline = time.monotonic() + 60  # moments, on a busy machine
            while on_second.pid not in nodes.pids(second):
                assert time.monotonic() < deadline, nodes.pids(second)
                time.sleep(0.05)
            assert on_second.pid not in nodes.pids(first)
            assert outside.pid not in nodes.pids(first) + nodes.pids(second)
            killed = nodes.kill_node_processes(second, signal.SIGKILL)
            assert on_second.pid in killed
            assert on_second.wait(timeout=60) == -signal.SIGKILL
            assert on_first.poll() is None
        assert on_first.wait(timeout=60) == -signal.SIGTERM
        assert outside.poll() is None
        assert_clean(nodes)
    finally:
        outside.kill()
        outside.wait()


def test_a_start_that_fails_half_way_leaves_nothing(tmp_path, monkeypatch):
    made = []
    make_node = SimulatedNodes._make_node

    def failing_on_the_second(self, name):
        made.append(name)
        if len(made) == 2:
            raise RuntimeError("simulated failure")
        make_node(self, name)

    monkeypatch.setattr(SimulatedNodes, "_make_node", failing_on_the_second)
    nodes = SimulatedNodes(3, tmp_path)
    with pytest.raises(RuntimeError, match="simulated failure"):
        with nodes:
            pass
    assert made == nodes.names[:2]
    assert_clean(nodes)


def test_two_instances_at_once_do_not_collide(tmp_path):
    with SimulatedNodes(2, tmp_path / "a") as a, \
            SimulatedNodes(2, tmp_path / "b") as b:
        assert not set(a.names) & set(b.names)
        for nodes in (a, b):
            done = nodes.mpirun(1, ["hostname"])
            assert sorted(done.stdout.split()) == nodes.names, done.stderr
    assert_clean(a)
    assert_clean(b)


def slurm_skip():
    reason = missing_packages()
    if reason:
        pytest.skip(f"SLURM part skipped: {reason}")


TINY_JOB = """#!/bin/bash
#SBATCH --nodes=3
#SBATCH --ntasks-per-node=1
srun hostname | sort
"""


def test_slurm_across_three_nodes(tmp_path):
    slurm_skip()
    out = tmp_path / "pi.h5"
    with SimulatedNodes(3, tmp_path / "nodes") as nodes:
        with SimulatedSlurm(nodes, tmp_path / "slurm") as cluster:
            started = dict(cluster.pids)
            done = cluster.client(["srun", "--nodes=3",
                                   "--ntasks-per-node=1", "hostname"])
            assert sorted(done.stdout.split()) == nodes.names
            # task/affinity: each node binds its own tasks, one core each.
            done = cluster.client(
                ["srun", "--nodes=3", "--ntasks-per-node=2",
                 "--cpu-bind=cores", "sh", "-c",
                 "echo $(hostname) $(grep Cpus_allowed_list /proc/self/status)"])
            bound = sorted(line.split() for line in done.stdout.splitlines())
            assert [b[0] for b in bound] == sorted(nodes.names * 2)
            if os.cpu_count() >= 2:
                for first, second in zip(bound[::2], bound[1::2]):
                    assert first[-1].isdigit() and second[-1].isdigit()
                    assert first[-1] != second[-1], bound
            (tmp_path / "tiny.sbatch").write_text(TINY_JOB)
            job = cluster.sbatch(["tiny.sbatch"], cwd=tmp_path)
            (record,) = cluster.wait(job, timeout=60)
            assert (record["JobState"], record["ExitCode"]) == \
                ("COMPLETED", "0:0")
            assert record["NodeList"] == f"{nodes.prefix}n[1-3]"
            output = (tmp_path / f"slurm-{job}.out").read_text()
            assert output.split() == nodes.names
            done = cluster.client(
                ["srun", "--nodes=3", "--ntasks-per-node=2", "--mpi=pmix",
                 BINARY, *PI_RUN, "--out", out], timeout=120,
                # As jobs/slurm/lib.sh launches (see srun_environment).
                env={"OMPI_MCA_pml": "ob1", **srun_environment()},
                check=False)
            assert done.returncode == 0, done.stdout + done.stderr
        assert not [n for n, pid in started.items() if process_alive(pid)]
        assert all(nodes.pids(name) == [] for name in nodes.names)
        assert cluster.leftovers() == []
    assert_clean(nodes)
    assert sorted(hosts_of_ranks(out)) == sorted(nodes.names * 2)


def test_srun_fences_are_barriers_with_the_launchers_environment(tmp_path):
    """Open MPI's MPI_Init ends with a PMIx fence that collects no data; a
    rank leaving it may send to any other. With what jobs/slurm/lib.sh sets
    for srun, no rank leaves either fence before the last one entered it,
    whether the late rank is on the first node (the tree's root) or on
    another. SLURM's default fence for this case is printed for the record:
    on Debian 12 (SLURM 22.05, PMIx 4.2) it lets the other nodes go on."""
    slurm_skip()
    if not FENCE_PROBE:
        pytest.skip("PMIx fence probe not built (libpmix-dev missing)")
    launcher = srun_environment()
    assert "SLURM_PMIX_FENCE" in launcher, launcher
    with SimulatedNodes(3, tmp_path / "nodes") as nodes:
        with SimulatedSlurm(nodes, tmp_path / "slurm") as cluster:
            for late_rank in (1, 4):
                early = fence_probe(cluster, late_rank, launcher)
                assert max(early) <= 0, \
                    f"rank {late_rank} late: a rank left the fences " \
                    f"{early[0]:.4f} s, {early[1]:.4f} s before the last " \
                    f"entered ({launcher})"
            default = fence_probe(cluster, 1, {},
                                  prefix=("env", "-u", "SLURM_PMIX_FENCE"))
            print(f"SLURM's default fence types: a rank left the second "
                  f"fence {default[1]:.3f} s before the last rank entered "
                  f"it" if default[1] > 0 else
                  "SLURM's default fence types held as barriers")
    assert_clean(nodes)


def test_slurm_start_that_fails_half_way_ends_its_daemons(tmp_path,
                                                          monkeypatch):
    slurm_skip()
    started = {}
    start_daemon = simulated_cluster.start_daemon

    def failing_on_the_last_slurmd(command, env, pid_file, name):
        if name.startswith("slurmd") and name.endswith("n3"):
            raise RuntimeError("simulated failure")
        started[name] = start_daemon(command, env, pid_file, name)
        return started[name]

    monkeypatch.setattr(simulated_cluster, "start_daemon",
                        failing_on_the_last_slurmd)
    with SimulatedNodes(3, tmp_path / "nodes") as nodes:
        cluster = SimulatedSlurm(nodes, tmp_path / "slurm")
        with pytest.raises(RuntimeError, match="simulated failure"):
            with cluster:
                pass
        assert cluster.leftovers() == []
        assert sorted(started) == ["munged", "slurmctld",
                                   f"slurmd {nodes.names[0]}",
                                   f"slurmd {nodes.names[1]}"]
        assert not [n for n, pid in started.items() if process_alive(pid)]
        assert all(nodes.pids(name) == [] for name in nodes.names)
    assert_clean(nodes)
