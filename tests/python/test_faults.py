"""A failing rank ends the whole job: an injected fault (--inject-fault
PHASE:RANK:KIND, test only) in every phase and every way a rank can fail,
in the three modes. Each run must end within the bound (no rank left
waiting), exit non-zero, print a message naming the rank and the phase,
leave no parkit process behind and no file under a final result name.
The watchdog and the bound are counted in a normal run of the same launch,
measured here, so they stretch on a slower or busier machine."""
import math
import time

import pytest

from conftest import mpirun, processes_naming, run_parkit

# (id, mode, ranks, threads, fault, what the message says)
CASES = [
    ("threads-error-setup", "threads", 1, 2, "setup:0:error",
     "failed in setup: "),
    ("threads-abort-run", "threads", 1, 2, "run:0:abort",
     "crashed with SIGABRT (aborted) in run"),
    ("threads-segv-verify", "threads", 1, 2, "verify:0:segv",
     "crashed with SIGSEGV (invalid memory access) in verify"),
    ("threads-hang-run", "threads", 1, 2, "run:0:hang",
     "watchdog: the run did not finish within --watchdog {watchdog} s (in "
     "run)"),
    ("threads-error-write", "threads", 1, 2, "write:0:error",
     "failed in writing the result file"),
    ("ranks-error-run", "ranks", 2, 1, "run:1:error", "failed in run: "),
    ("ranks-segv-setup", "ranks", 2, 1, "setup:1:segv",
     "crashed with SIGSEGV (invalid memory access) in setup"),
    ("ranks-abort-verify", "ranks", 3, 1, "verify:2:abort",
     "crashed with SIGABRT (aborted) in verify"),
    ("ranks-hang-warmup", "ranks", 2, 1, "warm-up:1:hang",
     "watchdog: the run did not finish within --watchdog {watchdog} s (in "
     "warm-up)"),
    ("ranks-error-write", "ranks", 2, 1, "write:1:error",
     "failed in writing the result file"),
    ("hybrid-segv-run", "hybrid", 2, 2, "run:1:segv",
     "crashed with SIGSEGV (invalid memory access) in run"),
    ("hybrid-hang-verify", "hybrid", 2, 2, "verify:0:hang",
     "watchdog: the run did not finish within --watchdog {watchdog} s (in "
     "verify)"),
]

ARGUMENTS = ["montecarlo", "--class", "S", "--reps", "2"]
normal_seconds = {}


def launch(mode, ranks, threads, arguments):
    """The command line of parkit MODE ARGUMENTS as RANKS x THREADS."""
    launcher = None
    if mode != "threads":
        launcher = mpirun(ranks, "--oversubscribe", "--bind-to", "none")
    if mode != "ranks":
        arguments = arguments + ["--threads", threads]
    return arguments, launcher


def normal_run_seconds(tmp_path, mode, ranks, threads):
    """Wall seconds of a run of this launch without a fault, start-up and
    the result file included; measured once per launch, on this machine,
    now. A run that does not finish in 10 minutes is a hang."""
    shape = (mode, ranks, threads)
    if shape not in normal_seconds:
        arguments, launcher = launch(mode, ranks, threads, [mode, *ARGUMENTS,
                                     "--out", tmp_path / "normal"])
        started = time.monotonic()
        result = run_parkit(arguments, launcher=launcher, timeout=600)
        normal_seconds[shape] = time.monotonic() - started
        assert result.returncode == 0, result.stderr
    return normal_seconds[shape]


@pytest.mark.parametrize("mode,ranks,threads,fault,expected",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_failing_rank_ends_the_job(tmp_path, mode, ranks, threads, fault,
                                   expected):
    normal = normal_run_seconds(tmp_path, mode, ranks, threads)
    # The watchdog runs from after start-up to the end: a normal run's
    # whole wall time, tripled, never cuts it short; 3 s at least, so a
    # hang is still caught quickly on a fast machine. A rank that fails
    # ends the job at once; only a hang waits for the watchdog, and the
    # job must then be gone well within twice that plus ten normal runs.
    watchdog = max(3, math.ceil(3 * normal))
    bound = 2 * watchdog + 10 * normal + 10
    expected = expected.format(watchdog=watchdog)
    out = tmp_path / "results"
    arguments, launcher = launch(mode, ranks, threads, [
        mode, *ARGUMENTS, "--inject-fault", fault, "--watchdog", watchdog,
        "--out", out])
    started = time.monotonic()
    result = run_parkit(arguments, launcher=launcher, timeout=bound)
    elapsed = time.monotonic() - started
    assert result.returncode != 0, result.stdout
    failing_rank = fault.split(":")[1]
    ours = [l for l in result.stderr.splitlines()
            if l.startswith(f"parkit: error: rank {failing_rank} of {ranks} ")]
    assert any(expected in l for l in ours), result.stderr
    assert "PARKIT " not in result.stdout
    finals = [p.name for p in out.glob("*.h5")] if out.exists() else []
    assert finals == [], f"{finals}: a failed run left a final result file"
    leftovers = list(out.glob("*.tmp")) if out.exists() else []
    assert leftovers == [], f"{leftovers}: a failed run left its temporary"
    # mpirun has reaped its ranks; a busy machine may take a moment more
    # to clear them from the process table.
    deadline = time.monotonic() + bound
    while processes_naming(str(out)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_naming(str(out)) == [], \
        f"parkit processes left after {elapsed:.1f} s"


def test_watchdog_does_not_fire_on_a_run_that_finishes(tmp_path):
    result = run_parkit(["threads", "montecarlo", "--class", "S", "--reps",
                         "1", "--watchdog", "600", "--out", tmp_path])
    assert result.returncode == 0, result.stderr
    assert len(list(tmp_path.glob("*.h5"))) == 1
