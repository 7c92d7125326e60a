"""Killed runs lose nothing that finished: 54 runs over the three modes are
killed at chosen moments (from start-up to the writing of the result file)
with SIGKILL or SIGTERM, all into one results directory. After every kill:

- every file under a final name (*.h5) opens and is complete (the root
  attributes and datasets of results/README.md are there);
- every file that was there before is byte-for-byte unchanged;
- a SIGTERM to parkit's processes ends the run within a bound and leaves no
  temporary: parkit finishes, or closes its file with the repetitions done,
  or abandons it;
- only a SIGKILL (or mpirun's own escalation to one, see kill()) may leave
  a temporary (*.h5.tmp), recognisable by its name.

The moments are drawn from a seeded generator: a failure names its seed and
run, so it can be replayed. Moments and bounds are counted in a normal run
of each mode measured at the start, so they fit any machine's speed."""
import hashlib
import os
import random
import signal
import subprocess
import time

import h5py
import pytest

from conftest import BINARY, MPIEXEC, processes_naming

RUNS = 54
SEED = int(os.environ.get("PARKIT_KILL_SEED", "20261123"))
# A normal run that does not finish in this long is a hang.
CALIBRATION_TIMEOUT = 600
REQUIRED_ATTRIBUTES = ["layout_version", "kernel", "mode", "ranks", "threads",
                       "repetitions", "repetitions_completed", "interrupted",
                       "verified", "time_median", "rate"]


def command(mode, out):
    arguments = ["montecarlo", "--class", "S", "--reps", "4", "--warmup", "1",
                 "--quiet", "--out", str(out)]
    if mode == "threads":
        return [BINARY, "threads", *arguments, "--threads", "2"]
    launcher = [MPIEXEC, "-np", "2", "--oversubscribe", "--bind-to", "none"]
    if mode == "ranks":
        return launcher + [BINARY, "ranks", *arguments]
    return launcher + ["-x", "OMP_NUM_THREADS"] + [BINARY, "hybrid",
                                                    *arguments, "--threads",
                                                    "2"]


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_complete(path):
    with h5py.File(path, "r", locking=False) as f:
        missing = [a for a in REQUIRED_ATTRIBUTES if a not in f.attrs]
        assert not missing, f"{path.name} lacks {missing}"
        times = f["timings"]
        done = f.attrs["repetitions"]
        if f.attrs["interrupted"]:  # closed cleanly after a stop signal
            done = f.attrs["repetitions_completed"]
            assert 1 <= done <= f.attrs["repetitions"], path.name
        assert times.shape[0] == done, path.name
        assert times.shape[1] == f.attrs["ranks"], path.name
        assert "provenance" in f


def rank_processes(marker):
    return processes_naming(f"{BINARY} .*{marker}")


def kill(process, mode, how, out):
    """"parkit" signals go to every parkit process, as SLURM signals every
    task at a time limit (SIGTERM, then SIGKILL after KillWait) and as a
    hard kill does. "launcher" sends SIGTERM to mpirun, as Ctrl-C does:
    Open MPI then signals the ranks itself and escalates to SIGKILL after
    odls_base_sigkill_timeout (1 s), so a run still writing may be cut off
    and leave its temporary."""
    signal_number, target = how
    if target == "launcher":
        process.send_signal(signal_number)
        return
    for pid in rank_processes(out):
        try:
            os.kill(pid, signal_number)
        except ProcessLookupError:
            pass
    if signal_number == signal.SIGKILL and mode != "threads":
        process.send_signal(signal.SIGKILL)


def calibrate(mode, out, environment):
    """Wall seconds of a normal run of `mode`, measured now."""
    started = time.monotonic()
    subprocess.run(command(mode, out), check=True, capture_output=True,
                   timeout=CALIBRATION_TIMEOUT, env=environment)
    return time.monotonic() - started


def wait_until_gone(out, bound):
    """Waits up to `bound` s for every parkit process of `out` to end (the
    launcher has reaped them; a busy machine may take a moment more to
    clear the process table); returns those still there."""
    deadline = time.monotonic() + bound
    while rank_processes(out) and time.monotonic() < deadline:
        time.sleep(0.1)
    return rank_processes(out)


def test_killed_runs_lose_nothing_that_finished(tmp_path):
    out = tmp_path / "results"
    environment = dict(os.environ, OMP_NUM_THREADS="2")
    durations = {mode: calibrate(mode, out, environment)
                 for mode in ("threads", "ranks", "hybrid")}
    # After a signal a run ends within its current repetition, or at once:
    # ten whole runs and 10 s more are plenty, and still catch a hang.
    bound = 10 * max(durations.values()) + 10
    generator = random.Random(SEED)
    outcomes = {}
    for run in range(RUNS):
        mode = ("threads", "ranks", "hybrid")[run % 3]
        how = ((signal.SIGKILL, "parkit"), (signal.SIGTERM, "parkit"),
               (signal.SIGTERM, "launcher"))[(run // 3) % 3]
        if mode == "threads" and how[1] == "launcher":
            how = (signal.SIGTERM, "parkit")  # no launcher to signal
        # Anywhere in the run, and one in three near its end, where the
        # file is written.
        duration = durations[mode]
        delay = generator.uniform(0.05, 1.0) * duration
        if run % 3 == 2:
            delay = generator.uniform(0.85, 1.05) * duration
        before = {p.name: digest(p) for p in out.glob("*.h5")}
        temporaries_before = set(out.glob("*.tmp"))
        where = (f"seed {SEED}, run {run} ({mode}, {how[0].name} to "
                 f"{how[1]}, {delay:.2f} s)")
        process = subprocess.Popen(command(mode, out), env=environment,
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
        time.sleep(delay)
        kill(process, mode, how, out)
        try:
            _, stderr = process.communicate(timeout=bound)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"{where}: still running {bound:.0f} s after the "
                        "signal")
        status = process.returncode
        key = (how[0].name, how[1], status)
        outcomes[key] = outcomes.get(key, 0) + 1
        for name, value in before.items():
            assert digest(out / name) == value, f"{where}: {name} changed"
        for path in out.glob("*.h5"):
            check_complete(path)
        temporaries = set(out.glob("*.tmp")) - temporaries_before
        if how == (signal.SIGTERM, "parkit"):
            assert not temporaries, f"{where}: SIGTERM left {temporaries}"
        for leftover in temporaries:  # recognisable by name
            assert leftover.name.endswith(".h5.tmp"), leftover.name
        assert wait_until_gone(out, bound) == [], \
            f"{where}: parkit processes left"
    print(f"exit statuses over {RUNS} kills: {outcomes}")
    check_readers_ignore_temporaries(out)


def check_readers_ignore_temporaries(out):
    """`parkit report` and the analysis loader read every complete file,
    interrupted ones included, and list the temporaries as unfinished, never
    as runs or as unreadable."""
    finals = sorted(str(p) for p in out.glob("*.h5"))
    temporaries = sorted(str(p) for p in out.glob("*.h5.tmp"))
    report = subprocess.run([BINARY, "report", "--format", "csv", str(out)],
                            capture_output=True, text=True, timeout=60)
    assert report.returncode == 0, report.stderr
    rows = report.stdout.strip().splitlines()[1:]
    assert len(rows) == len(finals), (len(rows), len(finals), report.stderr)
    assert "skipped" not in report.stderr, report.stderr
    for temporary in temporaries:
        assert os.path.basename(temporary) in report.stderr
        assert os.path.basename(temporary) not in report.stdout
    from parkit_analysis.loader import load_results
    results = load_results(str(out))
    assert sorted(results.runs["file"]) == finals
    assert results.skipped == []
    assert sorted(results.unfinished) == temporaries
