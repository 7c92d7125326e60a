"""Several cluster nodes on this machine, for tests: real Open MPI over TCP
between nodes (shared memory inside one) and a real multi-node SLURM
cluster. Needs root, iproute2 (`ip`), util-linux (`unshare`, `nsenter`) and
Open MPI's mpirun; SLURM also slurm-wlm and munge.

Each node is one network namespace plus one UTS namespace (its hostname is
its name): with network namespaces alone every rank sees the same hostname,
and Open MPI's shared-memory and session files of different "nodes"
collide. A switch namespace holds a bridge; each node has a veth pair (its
end `veth0`, 198.18.0.<i>/24, a range reserved for benchmarking and used
only inside these namespaces; no default route). /etc/netns/<node>/hosts
makes the node names resolve for commands run through `ip netns exec`.
Nothing touches the host's network.

    with SimulatedNodes(3, base_dir) as nodes:
        done = nodes.mpirun(2, [parkit, "ranks", "montecarlo", ...])
        with SimulatedSlurm(nodes, base_dir / "slurm") as cluster:
            cluster.client(["srun", "--nodes=3", "hostname"])

Run as a script to keep nodes (and SLURM) up for manual work:
    /usr/bin/python3 tests/python/simulated_cluster.py [--nodes 3] [--slurm] DIR
"""
import itertools
import json
import os
import shlex
import shutil
import signal
import subprocess
import time

from slurm_cluster import (DAEMONS, common_config_lines, end_daemons,
                           missing_packages, munge_pid_file, node_hardware,
                           prepare_munge, process_alive, start_daemon,
                           wait_until_idle, SlurmClients, StartStop)

SUBNET = "198.18.0.0/24"
# What mpirun() passes to every rank with -x when it is set: the thread
# count, the sanitizers' and OpenBLAS's settings the test suite uses.
EXPORTED = ("OMP_NUM_THREADS", "ASAN_OPTIONS", "UBSAN_OPTIONS",
            "LSAN_OPTIONS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
NETNS_DIR = "/run/netns"
_instances = itertools.count()


def _ip(*arguments, check=True):
    return subprocess.run(["ip", *arguments], capture_output=True, text=True,
                          check=check, timeout=30)


def missing_requirements():
    """Why the simulated nodes cannot run here, as one sentence; "" if they
    can."""
    if os.geteuid() != 0:
        return "simulated nodes need root (network and UTS namespaces)"
    missing = [name for name in ("ip", "unshare", "nsenter", "mpirun")
               if shutil.which(name) is None]
    if missing:
        return ("simulated nodes need " + ", ".join(missing) +
                " (apt-get install iproute2 util-linux openmpi-bin)")
    probe = f"pk{os.getpid()}probe"
    made = _ip("netns", "add", probe, check=False)
    _ip("netns", "del", probe, check=False)
    if made.returncode != 0:
        return ("network namespaces are not permitted here (ip netns add: " +
                (made.stderr.strip() or f"exit {made.returncode}") + ")")
    return ""


def _namespace_inode(path):
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


def _processes_in(namespaces):
    """PIDs of every process whose network or UTS namespace is one of
    `namespaces` (a set of (dev, inode))."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        for kind in ("net", "uts"):
            if _namespace_inode(f"/proc/{entry}/ns/{kind}") in namespaces:
                if process_alive(int(entry)):
                    found.append(int(entry))
                break
    return found


# The ssh that mpirun's rsh launcher calls: `agent [ssh options] HOST
# words...`. Like sshd it starts the words as one /bin/sh command line on
# HOST in a fresh, minimal environment: the caller's variables do not leak
# to remote daemons, so what remote ranks need must come through mpirun -x,
# as on a real cluster.
AGENT = r"""#!/bin/bash
# rsh agent for mpirun on the simulated nodes of {prefix} (written by
# tests/python/simulated_cluster.py).
set -u
while [ $# -gt 0 ]; do
  case $1 in
  -[1246AaCfGgKkMNnqsTtVvXxYy]) shift ;;   # ssh flags without a value
  -?) shift 2 ;;                           # ssh options with a value
  -*) shift ;;                             # -oOption=value and the like
  *) break ;;
  esac
done
[ $# -ge 2 ] || {{ echo "parkit rsh agent: usage: agent [options] HOST command" >&2; exit 255; }}
host=$1
shift
case $host in
{cases}
*) echo "parkit rsh agent: unknown host '$host'" >&2; exit 255 ;;
esac
ip netns exec "$node" nsenter --uts="{pins}/$node" -- \
  env -i PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  HOME="${{HOME:-/root}}" USER="$(id -un)" LOGNAME="$(id -un)" SHELL=/bin/sh \
  /bin/sh -c "$*" &
child=$!
# Signals to the agent (mpirun ending its "ssh" sessions) reach the remote
# command, as closing an ssh session would.
trap 'kill -TERM $child 2>/dev/null' TERM INT HUP
while true; do
  status=0
  wait $child || status=$?
  kill -0 $child 2>/dev/null || break
done
# As ssh does when the far end goes away (a node crash, a killed sshd):
# name the host, exit 255.
if [ $status -gt 128 ]; then
  echo "Connection to $host closed by remote host (remote command killed by signal $((status - 128)))." >&2
  exit 255
fi
exit $status
"""


def yield_when_oversubscribed(ranks):
    """mpirun options for `ranks` ranks on this machine's CPUs. Each
    node's daemon counts only its own slots, so none notices that all
    nodes together oversubscribe the CPUs (a plain mpirun would, and would
    make waiting ranks yield): spinning ranks then starve the others (3
    nodes x 2 ranks on 2 cores: 3.8 s instead of 0.37 s)."""
    if ranks > len(os.sched_getaffinity(0)):
        return ["--mca", "mpi_yield_when_idle", "1"]
    return []


class SimulatedNodes(StartStop):
    """`count` nodes named pk<pid>n1.. (pk<pid>x<k>n1.. for the k-th
    instance after the first in one process), each with its network and
    UTS namespace; files (UTS pins, the rsh agent, a hostfile) go under
    `base_dir`. A context manager: leaving it ends every process inside
    these namespaces and removes everything it made."""

    def __init__(self, count, base_dir):
        if not 1 <= count <= 200:
            raise ValueError(f"node count {count}: allowed 1..200")
        instance = next(_instances)
        prefix = f"pk{os.getpid()}" + (f"x{instance}" if instance else "")
        self.prefix = prefix
        self.names = [f"{prefix}n{i}" for i in range(1, count + 1)]
        self.switch = f"{prefix}sw"
        self.addresses = {name: f"198.18.0.{i}"
                          for i, name in enumerate(self.names, start=1)}
        self.subnet = SUBNET
        self.base = os.path.abspath(base_dir)
        self.pins = os.path.join(self.base, "uts")
        self.agent = os.path.join(self.base, "rsh-agent")
        # What start() made (or began making), for stop() and leftovers().
        self._netns = []          # network namespace names
        self._etc = []            # /etc/netns/<node> directories
        self._pins = []           # UTS pin files (bind mounts)
        self._pins_mounted = False
        self._inodes = {}         # node or switch -> {(dev, ino)} of its ns

    # ---- start and stop ------------------------------------------------
    def start(self):
        taken = [n for n in self.names + [self.switch]
                 if os.path.lexists(os.path.join(NETNS_DIR, n)) or
                 os.path.lexists(os.path.join("/etc/netns", n))]
        if taken:
            raise RuntimeError("simulated nodes: names already in use "
                               f"(left by an earlier process?): {taken}")
        os.makedirs(self.base, exist_ok=True)
        self._make_switch()
        self._make_pins()
        for name in self.names:
            self._make_node(name)
        self._write_agent()

    def _add_namespace(self, name):
        self._netns.append(name)  # before: a failure half-way is cleaned
        _ip("netns", "add", name)
        self._inodes.setdefault(name, set()).add(
            _namespace_inode(os.path.join(NETNS_DIR, name)))

    def _make_switch(self):
        self._add_namespace(self.switch)
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")

    def _make_pins(self):
        """A directory bind-mounted onto itself and made shared, holding one
        file per node onto which that node's UTS namespace is bind-mounted
        (so it outlives the process that made it)."""
        os.makedirs(self.pins, exist_ok=True)
        self._pins_mounted = True
        subprocess.run(["mount", "--bind", self.pins, self.pins], check=True,
                       capture_output=True)
        subprocess.run(["mount", "--make-shared", self.pins], check=True,
                       capture_output=True)

    def _make_node(self, name):
        index = self.names.index(name) + 1
        self._add_namespace(name)
        port = f"p{index}"
        _ip("-n", self.switch, "link", "add", port, "type", "veth", "peer",
            "name", "veth0", "netns", name)
        _ip("-n", self.switch, "link", "set", port, "master", "br0", "up")
        _ip("-n", name, "addr", "add", f"{self.addresses[name]}/24", "dev",
            "veth0")
        _ip("-n", name, "link", "set", "veth0", "up")
        _ip("-n", name, "link", "set", "lo", "up")
        etc = os.path.join("/etc/netns", name)
        self._etc.append(etc)
        os.makedirs(etc)
        with open(os.path.join(etc, "hosts"), "w") as hosts:
            hosts.write("127.0.0.1\tlocalhost\n::1\tlocalhost\n" +
                        "".join(f"{address}\t{node}\n"
                                for node, address in self.addresses.items()))
        pin = os.path.join(self.pins, name)
        open(pin, "w").close()
        self._pins.append(pin)
        subprocess.run(["unshare", f"--uts={pin}", "hostname", name],
                       check=True, capture_output=True)
        self._inodes[name].add(_namespace_inode(pin))

    def _write_agent(self):
        cases = "".join(f"{name} | {address}) node={name} ;;\n"
                        for name, address in self.addresses.items())
        with open(self.agent, "w") as out:
            out.write(AGENT.format(prefix=self.prefix, cases=cases,
                                   pins=self.pins))
        os.chmod(self.agent, 0o755)

    def _all_namespaces(self):
        """(dev, inode) of every namespace this instance made."""
        found = set()
        for inodes in self._inodes.values():
            found |= inodes
        return found - {None}

    def stop(self, timeout=10):
        """Ends the processes inside these namespaces (SIGTERM, SIGKILL after
        `timeout` s), deletes the namespaces (which removes the veths and the
        bridge), unmounts and removes the UTS pins and /etc/netns/<node>.
        Safe after a start that failed half-way, and to call twice."""
        namespaces = self._all_namespaces()
        pids = _processes_in(namespaces)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while _processes_in(namespaces) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in _processes_in(namespaces):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while _processes_in(namespaces) and time.monotonic() < deadline:
            time.sleep(0.05)
        for name in reversed(self._netns):
            _ip("netns", "del", name, check=False)
        self._netns = []
        for pin in reversed(self._pins):
            subprocess.run(["umount", pin], capture_output=True)
            if os.path.exists(pin):
                os.unlink(pin)
        self._pins = []
        if self._pins_mounted:
            subprocess.run(["umount", self.pins], capture_output=True)
            self._pins_mounted = False
            if os.path.isdir(self.pins) and not os.listdir(self.pins):
                os.rmdir(self.pins)
        for etc in reversed(self._etc):
            shutil.rmtree(etc, ignore_errors=True)
        self._etc = []

    def leftovers(self):
        """What this instance left behind, one string each; [] when clean."""
        found = []
        listed = _ip("netns", "list").stdout.split()
        for name in self.names + [self.switch]:
            if name in listed or os.path.lexists(os.path.join(NETNS_DIR, name)):
                found.append(f"network namespace {name}")
            if os.path.lexists(os.path.join("/etc/netns", name)):
                found.append(f"directory /etc/netns/{name}")
        for line in _ip("-o", "link").stdout.splitlines():
            if self.prefix in line:
                found.append(f"host link {line.split(':')[1].strip()}")
        with open("/proc/self/mountinfo") as mounts:
            for line in mounts:
                mount_point = line.split()[4]
                if mount_point == self.pins or \
                        mount_point.startswith(self.pins + "/"):
                    found.append(f"mount {mount_point}")
        if os.path.lexists(self.pins):
            found.append(f"UTS pin directory {self.pins}")
        for pid in _processes_in(self._all_namespaces()):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as text:
                    command = text.read().replace(b"\0", b" ").decode()
            except OSError:
                command = "?"
            found.append(f"process {pid}: {command.strip()}")
        return found

    # ---- running things on a node ------------------------------------
    def _check(self, name):
        if name not in self.addresses:
            raise ValueError(f"no simulated node {name!r}; nodes: "
                             f"{', '.join(self.names)}")

    def pin(self, name):
        """The file that holds node `name`'s UTS namespace (nsenter --uts=)."""
        self._check(name)
        return os.path.join(self.pins, name)

    def command_on(self, name, argv):
        """The argv that runs `argv` on node `name`: its network namespace
        (with /etc/netns/<name>/hosts as /etc/hosts) and its hostname."""
        return ["ip", "netns", "exec", name, "nsenter",
                f"--uts={self.pin(name)}", "--", *[str(a) for a in argv]]

    def run_on(self, name, argv, **kwargs):
        """subprocess.run of `argv` on node `name`."""
        return subprocess.run(self.command_on(name, argv), **kwargs)

    def popen_on(self, name, argv, **kwargs):
        """subprocess.Popen of `argv` on node `name`."""
        return subprocess.Popen(self.command_on(name, argv), **kwargs)

    def interface_bytes(self, name):
        """(rx_bytes, tx_bytes) counted so far on node `name`'s veth0."""
        self._check(name)
        shown = json.loads(_ip("-n", name, "-s", "-j", "link", "show",
                               "veth0").stdout)
        stats = shown[0]["stats64"]
        return stats["rx"]["bytes"], stats["tx"]["bytes"]

    def pids(self, name):
        """PIDs of the processes running in node `name`'s namespaces."""
        self._check(name)
        return sorted(_processes_in(self._inodes.get(name, set()) - {None}))

    def kill_node_processes(self, name, sig=signal.SIGKILL):
        """Sends `sig` to every process on node `name`; returns their pids."""
        pids = self.pids(name)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        return pids

    # ---- Open MPI across the nodes --------------------------------------
    def mpirun_command(self, ranks_per_node, mpirun_options=()):
        """mpirun of `ranks_per_node` ranks on every node, to be run on the
        first node (command_on); append the program and its arguments.
        --bind-to none: each node's daemon thinks it owns the machine and
        would bind its first rank to core 0 on every node alike."""
        if ranks_per_node < 1:
            raise ValueError(f"ranks_per_node {ranks_per_node}: at least 1")
        hosts = ",".join(f"{name}:{ranks_per_node}" for name in self.names)
        ranks = ranks_per_node * len(self.names)
        return ["mpirun", "--host", hosts, "-np", str(ranks),
                *yield_when_oversubscribed(ranks),
                "--mca", "plm_rsh_agent", self.agent,
                "--bind-to", "none",
                "--mca", "pml", "ob1",
                "--mca", "btl", "self,vader,tcp",
                "--mca", "btl_tcp_if_include", self.subnet,
                "--mca", "oob_tcp_if_include", self.subnet,
                *mpirun_options]

    def mpirun(self, ranks_per_node, program_argv, env=None, timeout=120,
               mpirun_options=()):
        """Runs program_argv as ranks_per_node ranks on every node (mpirun on
        the first node); returns the CompletedProcess (text output). Ranks
        on the other nodes see only what -x passes (and Open MPI's own
        OMPI_* variables): EXPORTED where set (OMP_NUM_THREADS defaults to
        1) and every variable in `env` (a value None unsets it)."""
        environment = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
                           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
        environment.setdefault("OMP_NUM_THREADS", "1")
        for name, value in (env or {}).items():
            if value is None:
                environment.pop(name, None)
            else:
                environment[name] = str(value)
        exported = list(EXPORTED) + [n for n, v in (env or {}).items()
                                     if v is not None and n not in EXPORTED]
        options = list(mpirun_options)
        for name in exported:
            if name in environment:
                options += ["-x", name]
        command = self.mpirun_command(ranks_per_node, options)
        return self.run_on(self.names[0], command + list(program_argv),
                           env=environment, capture_output=True, text=True,
                           timeout=timeout)


class SimulatedSlurm(SlurmClients):
    """A SLURM cluster on SimulatedNodes: munged in the host namespace,
    slurmctld on the first node, one slurmd per node. Clients run on the
    first node (slurmctld listens on its address): use client(), sbatch(),
    job(), wait(); `env` holds SLURM_CONF. stop() ends only the daemons
    this object started, by their pids, also after a failed start."""

    # task/affinity (as LocalSlurm) works here: slurmd runs in the host's
    # mount namespace (see _in_node), and srun --cpu-bind=cores gives each
    # task of a node its own core (test_simulated_cluster checks it), so
    # jobs/slurm/lib.sh runs as on a real cluster. Every slurmd believes it
    # owns all CPUs, so tasks of different nodes share cores. task/none
    # also works but would not bind; task/cgroup needs a cgroup setup.
    TASK_PLUGIN = "task/affinity"
    CONTROLLER_PORT = 6817  # each node has its own network stack: no clash
    NODE_PORT = 6818

    def __init__(self, nodes, base_dir):
        self.nodes = nodes
        self.real_base = os.path.abspath(base_dir)
        # The daemons see base_dir through a short link: UNIX socket paths
        # (munge's, slurmd's <spool>/<node>_<job>.<step> sockets, PMIx's in
        # TmpFS) must fit in 108 bytes, and pytest's tmp_path alone takes
        # 60-90 (a batch step's socket then failed to bind; the job stayed
        # PENDING).
        self.base = f"/tmp/{nodes.prefix}s{next(_instances)}"
        self.conf = os.path.join(self.base, "etc", "slurm.conf")
        # Every slurmd offers all CPUs: Open MPI ranks of a job spanning
        # nodes oversubscribe them unknowingly, so make waiting ranks yield
        # (see yield_when_oversubscribed); srun passes it on.
        self.env = dict(os.environ, SLURM_CONF=self.conf,
                        OMPI_MCA_mpi_yield_when_idle="1")
        self.pids = {}
        self._linked = False

    def write_config(self):
        os.makedirs(self.real_base, exist_ok=True)
        if os.path.lexists(self.base):
            raise RuntimeError(f"simulated SLURM: {self.base} already exists")
        self._linked = True
        os.symlink(self.real_base, self.base)
        for part in ("etc", "state", "log", "run"):
            os.makedirs(self.path(part), exist_ok=True)
        for name in self.nodes.names:
            os.makedirs(self.path("spool", name), exist_ok=True)
            os.makedirs(self.path("tmp", name), exist_ok=True)
        self.munged = prepare_munge(self.path("munge"))
        first = self.nodes.names[0]
        hardware = node_hardware()
        names = ",".join(self.nodes.names)
        lines = [
            f"SlurmctldHost={first}({self.nodes.addresses[first]})",
            f"SlurmctldPort={self.CONTROLLER_PORT}",
            f"SlurmdPort={self.NODE_PORT}",
            # %n: each node's own directories (PMIx's included, in TmpFS).
            f"SlurmdSpoolDir={self.path('spool/%n')}",
            f"SlurmdPidFile={self.path('run/slurmd.%n.pid')}",
            f"SlurmdLogFile={self.path('log/slurmd.%n.log')}",
            f"TmpFS={self.path('tmp/%n')}",
            *common_config_lines(self.path, self.path("munge"),
                                 self.TASK_PLUGIN),
            *[f"NodeName={name} NodeAddr={self.nodes.addresses[name]} "
              f"{hardware} State=UNKNOWN" for name in self.nodes.names],
            f"PartitionName=debug Nodes={names} Default=YES "
            "MaxTime=INFINITE State=UP",
        ]
        with open(self.conf, "w") as out:
            out.write("\n".join(lines) + "\n")

    def _in_node(self, name, argv):
        """argv inside node `name`'s network and UTS namespaces, keeping
        the host's mount namespace: `ip netns exec` remounts /sys, which
        hides /sys/fs/cgroup, and slurmd then fails to start."""
        return ["nsenter", f"--net={NETNS_DIR}/{name}",
                f"--uts={self.nodes.pin(name)}", "--", *argv]

    def start(self, timeout=60):
        self.write_config()
        self.pids["munged"] = start_daemon(
            self.munged, self.env, munge_pid_file(self.path("munge")),
            "munged")
        first = self.nodes.names[0]
        self.pids["slurmctld"] = start_daemon(
            self._in_node(first, [DAEMONS["slurmctld"], "-f", self.conf]),
            self.env, self.path("run/slurmctld.pid"), "slurmctld")
        for name in self.nodes.names:
            self.pids[f"slurmd {name}"] = start_daemon(
                self._in_node(name, [DAEMONS["slurmd"], "-f", self.conf,
                                     "-N", name]),
                self.env, self.path(f"run/slurmd.{name}.pid"),
                f"slurmd {name}")
        wait_until_idle(self, self.nodes.names, timeout,
                        "the simulated SLURM nodes")

    def stop(self, timeout=15):
        """Ends the daemons this object started (never any other)."""
        if "slurmctld" in self.pids:
            self.client(["scontrol", "shutdown"], check=False, timeout=10)
        order = {name: pid for name, pid in self.pids.items()
                 if name != "munged"}
        if "munged" in self.pids:
            order["munged"] = self.pids["munged"]
        end_daemons(order, signalled=("munged",), timeout=timeout)
        self.pids = {}
        if self._linked and os.path.islink(self.base):
            os.unlink(self.base)
        self._linked = False

    def leftovers(self):
        """What this object left behind, one string each; [] when clean."""
        found = [f"{name} (pid {pid})" for name, pid in self.pids.items()
                 if process_alive(pid)]
        if os.path.lexists(self.base):
            found.append(f"link {self.base}")
        return found

    def client(self, arguments, check=True, timeout=30, cwd=None, env=None):
        """Runs a SLURM client command on the first node."""
        environment = dict(self.env, **(env or {}))
        return self.nodes.run_on(self.nodes.names[0], arguments,
                                 capture_output=True, text=True,
                                 env=environment, check=check,
                                 timeout=timeout, cwd=cwd)


def _main():
    import argparse
    parser = argparse.ArgumentParser(
        description="Keeps simulated nodes (and SLURM) up until Ctrl-C.")
    parser.add_argument("directory", nargs="?", default="/tmp/parkit-nodes")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--slurm", action="store_true")
    arguments = parser.parse_args()
    # Ctrl-C, and SIGTERM, end the wait and clean up, also when started in
    # the background (where the shell has SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    reason = missing_requirements() or (missing_packages()
                                        if arguments.slurm else "")
    if reason:
        raise SystemExit(f"simulated_cluster: {reason}")
    with SimulatedNodes(arguments.nodes, arguments.directory) as nodes:
        first = nodes.names[0]
        print("nodes: " + ", ".join(f"{n} {a}" for n, a in
                                    nodes.addresses.items()))
        print(f"enter a node:   {shlex.join(nodes.command_on(first, ['bash']))}")
        print("mpirun (on the first node): OMPI_ALLOW_RUN_AS_ROOT=1 "
              "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " +
              shlex.join(nodes.mpirun_command(2)) + " PROGRAM")
        if arguments.slurm:
            with SimulatedSlurm(nodes, os.path.join(nodes.base, "slurm")) \
                    as cluster:
                print(f"SLURM: export SLURM_CONF={cluster.conf}, then run "
                      "clients on the first node (files in "
                      f"{cluster.real_base})")
                _pause()
        else:
            _pause()


def _pause():
    print("Ctrl-C (or SIGTERM) stops everything", flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    _main()
