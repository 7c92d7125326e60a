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


class LocalSlurm:
    def __init__(self, base):
        self.base = os.path.abspath(base)
        self.conf = os.path.join(self.base, "etc", "slurm.conf")
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        self.pids = {}

    # ---- start and stop ------------------------------------------------
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def path(self, *parts):
        return os.path.join(self.base, *parts)

    def write_config(self):
        for part in ("etc", "munge/etc", "munge/run", "munge/log", "munge/lib",
                     "state", "spool/slurmd", "log", "run"):
            os.makedirs(self.path(part), exist_ok=True)
        os.chmod(self.path("munge/etc"), 0o700)
        key = self.path("munge/etc/munge.key")
        with open(key, "wb") as out:
            out.write(secrets.token_bytes(1024))
        os.chmod(key, 0o400)
        controller_port, node_port = free_ports(2)
        lines = [
            "ClusterName=parkit-test",
            "SlurmctldHost=localhost",
            f"SlurmctldPort={controller_port}",
            f"SlurmdPort={node_port}",
            "SlurmUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={self.path('munge/run/munge.socket.2')}",
            f"StateSaveLocation={self.path('state')}",
            f"SlurmdSpoolDir={self.path('spool/slurmd')}",
            f"SlurmctldPidFile={self.path('run/slurmctld.pid')}",
            f"SlurmdPidFile={self.path('run/slurmd.pid')}",
            f"SlurmctldLogFile={self.path('log/slurmctld.log')}",
            f"SlurmdLogFile={self.path('log/slurmd.log')}",
            "MailProg=/bin/true",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/affinity",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "SchedulerParameters=batch_sched_delay=0,sched_min_interval=0",
            "MpiDefault=pmix",
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/filetxt",
            f"JobCompLoc={self.path('log/jobcomp.txt')}",
            # Finished jobs stay visible to `scontrol show job` for 10 min.
            "MinJobAge=600",
            # Time limits act within a second or two; SIGKILL follows
            # SIGTERM after KillWait seconds.
            "OverTimeLimit=0",
            "KillWait=5",
            "EnforcePartLimits=ALL",
            f"NodeName={NODE} NodeAddr=127.0.0.1 {node_hardware()} "
            "State=UNKNOWN",
            f"PartitionName=debug Nodes={NODE} Default=YES MaxTime=INFINITE "
            "State=UP",
        ]
        with open(self.conf, "w") as out:
            out.write("\n".join(lines) + "\n")

    def start_daemon(self, name, arguments, pid_file):
        subprocess.run([DAEMONS[name], *arguments], env=self.env, check=True,
                       capture_output=True, timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with open(pid_file) as text:
                    self.pids[name] = int(text.read().strip())
                return
            except (FileNotFoundError, ValueError):
                time.sleep(0.05)
        raise RuntimeError(f"{name} wrote no pid file {pid_file}")

    def start(self, timeout=30):
        self.write_config()
        munge = self.path("munge")
        self.start_daemon("munged", [
            f"--key-file={munge}/etc/munge.key",
            f"--socket={munge}/run/munge.socket.2",
            f"--log-file={munge}/log/munged.log",
            f"--pid-file={munge}/run/munged.pid",
            f"--seed-file={munge}/lib/munged.seed", "--force"],
            f"{munge}/run/munged.pid")
        self.start_daemon("slurmctld", ["-f", self.conf],
                          self.path("run/slurmctld.pid"))
        self.start_daemon("slurmd", ["-f", self.conf, "-N", NODE],
                          self.path("run/slurmd.pid"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.client(["sinfo", "-h", "-o", "%T"], check=False)
            if state.stdout.strip() == "idle":
                return
            time.sleep(0.2)
        raise RuntimeError("the local SLURM node did not become idle within "
                           f"{timeout} s; see {self.path('log')}")

    def stop(self, timeout=15):
        """Ends the daemons this object started (never any other)."""
        if "slurmctld" in self.pids:
            self.client(["scontrol", "shutdown"], check=False, timeout=10)
        deadline = time.monotonic() + timeout
        for name in ("slurmd", "slurmctld", "munged"):
            pid = self.pids.get(name)
            if pid is None:
                continue
            if name == "munged" and process_alive(pid):
                os.kill(pid, signal.SIGTERM)
            while process_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if process_alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.pids = {}

    # ---- clients ---------------------------------------------------------
    def client(self, arguments, check=True, timeout=30, cwd=None, env=None):
        environment = dict(self.env, **(env or {}))
        return subprocess.run(arguments, capture_output=True, text=True,
                              env=environment, check=check, timeout=timeout,
                              cwd=cwd)

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


if __name__ == "__main__":
    import sys
    cluster = LocalSlurm(sys.argv[1] if len(sys.argv) > 1 else "/tmp/slurm")
    with cluster:
        print(f"export SLURM_CONF={cluster.conf}  # Ctrl-C stops the cluster")
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
