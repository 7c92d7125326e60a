"""A real SLURM cluster on this machine, for tests: munged, slurmctld and
slurmd (one node, "localnode", the machine's own CPUs and cores as
`slurmd -C` reports them) with their own configuration, ports, state and
logs in a temporary directory. Needs root (slurmd launches jobs) and the
Debian packages slurm-wlm and munge.

    with LocalSlurm(base_dir) as cluster:
        job = cluster.sbatch(["jobs/slurm/threads.sbatch"], cwd=...)
        info = cluster.wait(job, timeout=60)   # {'JobState': 'COMPLETED', ...}

Every client command needs SLURM_CONF: use cluster.env. stop() ends only the
daemons this object started, by their pids, also after a failed start.

Run as a script to keep a cluster up for manual work:
    /usr/bin/python3 tests/python/slurm_cluster.py /tmp/cluster
"""
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time

DAEMONS = {"munged": "/usr/sbin/munged", "slurmctld": "/usr/sbin/slurmctld",
           "slurmd": "/usr/sbin/slurmd"}
CLIENTS = ("sbatch", "scontrol", "sinfo", "squeue", "srun")
NODE = "localnode"
FINAL_STATES = {"COMPLETED", "FAILED", "TIMEOUT", "CANCELLED", "NODE_FAIL",
                "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE"}


def missing_packages():
    """What is missing to run a local cluster, as a sentence; "" if none."""
    missing = [path for path in DAEMONS.values() if not os.path.exists(path)]
    missing += [name for name in CLIENTS if shutil.which(name) is None]
    if missing:
        return ("SLURM packages missing (" + ", ".join(missing) +
                "): apt-get install slurm-wlm munge")
    if os.geteuid() != 0:
        return "the local SLURM cluster needs root (slurmd starts jobs)"
    return ""


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def node_hardware():
    """CPUs, boards, sockets, cores and threads of this machine as slurmd -C
    sees them, plus a RealMemory well below what is there."""
    text = subprocess.run([DAEMONS["slurmd"], "-C"], capture_output=True,
                          text=True, check=True).stdout
    fields = dict(re.findall(r"(\w+)=(\S+)", text.splitlines()[0]))
    memory = max(1000, int(fields.get("RealMemory", "2000")) // 2)
    return ("CPUs={CPUs} Boards={Boards} SocketsPerBoard={SocketsPerBoard} "
            "CoresPerSocket={CoresPerSocket} ThreadsPerCore={ThreadsPerCore}"
            .format(**fields) + f" RealMemory={memory}")


def process_alive(pid):
    """True while `pid` runs (a zombie counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def prepare_munge(directory):
    """Directories and a fresh key for one munged under `directory`; returns
    the munged command line. The socket directory is mode 711: a client in
    another network namespace reaches the pathname socket (700 refuses
    it)."""
    for part in ("etc", "run", "log", "lib"):
        os.makedirs(os.path.join(directory, part), exist_ok=True)
    os.chmod(os.path.join(directory, "etc"), 0o700)
    os.chmod(os.path.join(directory, "run"), 0o711)
    key = os.path.join(directory, "etc", "munge.key")
    with open(key, "wb") as out:
        out.write(secrets.token_bytes(1024))
    os.chmod(key, 0o400)
    return [DAEMONS["munged"], f"--key-file={key}",
            f"--socket={munge_socket(directory)}",
            f"--log-file={directory}/log/munged.log",
            f"--pid-file={munge_pid_file(directory)}",
            f"--seed-file={directory}/lib/munged.seed", "--force"]


def munge_socket(directory):
    return os.path.join(directory, "run", "munge.socket.2")


def munge_pid_file(directory):
    return os.path.join(directory, "run", "munged.pid")


def common_config_lines(path, munge_directory, task_plugin):
    """The slurm.conf lines both test clusters share; `path(part)` names a
    file or directory of the cluster's own tree."""
    return [
        "ClusterName=parkit-test",
        "SlurmUser=root",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={munge_socket(munge_directory)}",
        f"StateSaveLocation={path('state')}",
        f"SlurmctldPidFile={path('run/slurmctld.pid')}",
        f"SlurmctldLogFile={path('log/slurmctld.log')}",
        "MailProg=/bin/true",
        "ProctrackType=proctrack/linuxproc",
        f"TaskPlugin={task_plugin}",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core",
        "SchedulerParameters=batch_sched_delay=0,sched_min_interval=0",
        "MpiDefault=pmix",
        "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/filetxt",
        f"JobCompLoc={path('log/jobcomp.txt')}",
        # Finished jobs stay visible to `scontrol show job` for 10 min.
        "MinJobAge=600",
        # Time limits act within a second or two; SIGKILL follows
        # SIGTERM after KillWait seconds.
        "OverTimeLimit=0",
        "KillWait=5",
        "EnforcePartLimits=ALL",
    ]


def start_daemon(command, env, pid_file, name):
    """Runs a daemon that forks into the background and returns its pid,
    read from the pid file it writes (waits up to 60 s for it: a daemon
    starts in well under a second, but the machine may be busy)."""
    subprocess.run(command, env=env, check=True, capture_output=True,
                   timeout=30)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with open(pid_file) as text:
                return int(text.read().strip())
        except (FileNotFoundError, ValueError):
            time.sleep(0.05)
    raise RuntimeError(f"{name} wrote no pid file {pid_file}")


def end_daemons(pids, signalled=(), timeout=15):
    """Waits for each of `pids` ({name: pid}, in order) to end, sending
    SIGTERM first to those named in `signalled`; SIGKILL to any still
    running at the deadline. Only these pids are ever signalled."""
    deadline = time.monotonic() + timeout
    for name, pid in pids.items():
        if name in signalled and process_alive(pid):
            os.kill(pid, signal.SIGTERM)
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)


def wait_until_idle(cluster, nodes, timeout, what):
    """Polls sinfo until every node in `nodes` is idle."""
    deadline = time.monotonic() + timeout
    while True:
        state = cluster.client(["sinfo", "-h", "-N", "-o", "%N %T"],
                               check=False)
        states = dict(line.split() for line in state.stdout.splitlines()
                      if len(line.split()) == 2)
        if all(states.get(node) == "idle" for node in nodes):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not become idle within {timeout} "
                               f"s ({states or state.stderr.strip()}); see "
                               f"{cluster.path('log')}")
        time.sleep(0.2)


class StartStop:
    """A context manager over the object's start() and stop(): stop() runs
    also when start() fails midway, so a half-started object leaves
    nothing behind."""

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()


class SlurmClients(StartStop):
    """sbatch, job and wait for a cluster object whose client(arguments,
    check, timeout, cwd, env) runs a SLURM client command; its files are
    under `base` (path())."""

    def path(self, *parts):
        return os.path.join(self.base, *parts)

    def sbatch(self, arguments, cwd=None, env=None):
        """Submits; returns the job id (str)."""
        done = self.client(["sbatch", "--parsable", *arguments], cwd=cwd,
                           env=env)
        return done.stdout.strip().split(";")[0]

    def job(self, job_id):
        """`scontrol show job -o` of one job (or of each array task), as a
        list of {field: value}."""
        done = self.client(["scontrol", "show", "job", "-o", str(job_id)],
                           check=False)
        jobs = []
        for line in done.stdout.splitlines():
            if line.strip():
                jobs.append(dict(re.findall(r"(\w+)=(\S*)", line)))
        return jobs

    def wait(self, job_id, timeout=60):
        """Waits until the job (every task of an array) has ended; returns
        the list of job records. Polls every 0.2 s, at most `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            jobs = self.job(job_id)
            if jobs and all(j.get("JobState") in FINAL_STATES for j in jobs):
                return jobs
            if time.monotonic() > deadline:
                self.client(["scancel", str(job_id)], check=False)
                raise TimeoutError(f"job {job_id} not done after {timeout} s: "
                                   f"{[j.get('JobState') for j in jobs]}")
            time.sleep(0.2)


class LocalSlurm(SlurmClients):
    def __init__(self, base):
        self.base = os.path.abspath(base)
        self.conf = os.path.join(self.base, "etc", "slurm.conf")
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        self.pids = {}

    # ---- start and stop ------------------------------------------------
    def write_config(self):
        for part in ("etc", "state", "spool/slurmd", "log", "run"):
            os.makedirs(self.path(part), exist_ok=True)
        self.munged = prepare_munge(self.path("munge"))
        controller_port, node_port = free_ports(2)
        lines = [
            "SlurmctldHost=localhost",
            f"SlurmctldPort={controller_port}",
            f"SlurmdPort={node_port}",
            f"SlurmdSpoolDir={self.path('spool/slurmd')}",
            f"SlurmdPidFile={self.path('run/slurmd.pid')}",
            f"SlurmdLogFile={self.path('log/slurmd.log')}",
            *common_config_lines(self.path, self.path("munge"),
                                 "task/affinity"),
            f"NodeName={NODE} NodeAddr=127.0.0.1 {node_hardware()} "
            "State=UNKNOWN",
            f"PartitionName=debug Nodes={NODE} Default=YES MaxTime=INFINITE "
            "State=UP",
        ]
        with open(self.conf, "w") as out:
            out.write("\n".join(lines) + "\n")

    def start(self, timeout=30):
        self.write_config()
        self.pids["munged"] = start_daemon(
            self.munged, self.env, munge_pid_file(self.path("munge")),
            "munged")
        self.pids["slurmctld"] = start_daemon(
            [DAEMONS["slurmctld"], "-f", self.conf], self.env,
            self.path("run/slurmctld.pid"), "slurmctld")
        self.pids["slurmd"] = start_daemon(
            [DAEMONS["slurmd"], "-f", self.conf, "-N", NODE], self.env,
            self.path("run/slurmd.pid"), "slurmd")
        wait_until_idle(self, [NODE], timeout, "the local SLURM node")

    def stop(self, timeout=15):
        """Ends the daemons this object started (never any other)."""
        if "slurmctld" in self.pids:
            self.client(["scontrol", "shutdown"], check=False, timeout=10)
        order = {name: self.pids[name] for name in
                 ("slurmd", "slurmctld", "munged") if name in self.pids}
        end_daemons(order, signalled=("munged",), timeout=timeout)
        self.pids = {}

    # ---- clients ---------------------------------------------------------
    def client(self, arguments, check=True, timeout=30, cwd=None, env=None):
        environment = dict(self.env, **(env or {}))
        return subprocess.run(arguments, capture_output=True, text=True,
                              env=environment, check=check, timeout=timeout,
                              cwd=cwd)


if __name__ == "__main__":
    import sys
    cluster = LocalSlurm(sys.argv[1] if len(sys.argv) > 1 else "/tmp/slurm")
    with cluster:
        print(f"export SLURM_CONF={cluster.conf}  # Ctrl-C stops the cluster")
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
