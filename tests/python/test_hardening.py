"""What an attempt to break parkit found (issue 18), each as users meet it:
results lost or overwritten (an existing --out file, runs sharing a name, a
planted link, a second signal, a killed io kernel's scratch file), paths
MPI-IO cannot take, and ranks launched with different options (mpirun's
MPMD ':' syntax). The readers' side is in test_damaged_files.py."""
import glob
import hashlib
import os
import signal
import subprocess
import time

import h5py
import pytest

from conftest import BINARY, MPIEXEC, key_values, mpirun, run_parkit

QUICK = ["montecarlo", "--estimate", "pi", "--samples", "100000", "--reps",
         "2", "--quiet"]
# A run that lasts until it is stopped: many short repetitions.
ENDLESS = ["montecarlo", "--estimate", "pi", "--samples", "2000000",
           "--reps", "1000000", "--warmup", "0"]
EXIT_INTERRUPTED, EXIT_ABANDONED = 4, 5


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def seed_of(path):
    with h5py.File(path, "r", locking=False) as f:
        return int(f.attrs["seed"])


def temporaries(directory):
    return sorted(glob.glob(os.path.join(str(directory), "*.tmp")))


def start(command, tmp_path, name="run", **popen):
    """Starts `command` with its stdout and stderr in files under tmp_path;
    returns (process, stdout path, stderr path)."""
    out, err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr,
                                   cwd=tmp_path, **popen)
    return process, out, err


def wait_for(process, path, marker, timeout=60):
    """Waits until `marker` appears in the file at `path`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, open(path).read()
        if marker in open(path).read():
            return
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"'{marker}' did not appear in {path}")


# ---- 1. an existing result is never replaced silently ----------------------

def test_an_existing_result_file_is_refused_and_kept(tmp_path):
    out = tmp_path / "same.h5"
    first = run_parkit(["threads", *QUICK, "--seed", "1", "--out", out])
    assert first.returncode == 0, first.stderr
    before = digest(out)
    second = run_parkit(["threads", *QUICK, "--seed", "2", "--out", out])
    assert second.returncode == 2, second.stderr
    assert "--out" in second.stderr and "--replace" in second.stderr
    assert second.stderr.count("parkit: error:") == 1, second.stderr
    assert "file=" not in second.stdout
    assert digest(out) == before and seed_of(out) == 1
    replaced = run_parkit(["threads", *QUICK, "--seed", "3", "--out", out,
                           "--replace"])
    assert replaced.returncode == 0, replaced.stderr
    assert key_values(replaced.stdout)["file"] == str(out)
    assert seed_of(out) == 3
    assert temporaries(tmp_path) == []


def test_a_directory_named_like_a_result_is_refused_up_front(tmp_path):
    (tmp_path / "x.h5").mkdir()
    for replace in ([], ["--replace"]):
        done = run_parkit(["threads", *QUICK, "--out", tmp_path / "x.h5",
                           *replace])
        assert done.returncode == 2 and "is a directory" in done.stderr, \
            done.stderr
        assert os.listdir(tmp_path / "x.h5") == []


def test_simultaneous_runs_with_one_name_leave_one_true_result(tmp_path):
    """Four runs, one --out: exactly one reports the file, and the file is
    that run's; the others say why they have none (refused at the start, or
    lost the race at the end) and leave no temporary."""
    out = tmp_path / "same.h5"
    work = ["montecarlo", "--estimate", "pi", "--samples", "4000000",
            "--reps", "4", "--threads", "1", "--quiet", "--out", str(out)]
    runs = [start([BINARY, "threads", *work, "--seed", str(seed)], tmp_path,
                  name=f"run{seed}") for seed in range(1, 5)]
    statuses = [process.wait(timeout=300) for process, _, _ in runs]
    reported = {}
    for seed, ((_, stdout, stderr), status) in enumerate(zip(runs, statuses),
                                                         start=1):
        printed, errors = open(stdout).read(), open(stderr).read()
        if status == 0:
            assert key_values(printed)["file"] == str(out)
            reported[seed] = errors
            continue
        assert "file=" not in printed, printed
        assert status in (1, 2), (status, errors)
        if status == 1:
            assert "appeared while this run was writing" in errors, errors
        else:
            assert "a file of that name exists" in errors, errors
    assert len(reported) == 1, (statuses, reported)
    assert seed_of(out) == next(iter(reported))
    assert temporaries(tmp_path) == []


def test_a_file_that_appears_during_the_run_is_not_replaced(tmp_path):
    """Another run's file appears under the name while this one works: it
    stays as it is, and this run says it lost the race (exit 1) and leaves
    neither a file= line nor a temporary."""
    out = tmp_path / "result.h5"
    process, stdout, stderr = start(
        [BINARY, "threads", *ENDLESS, "--threads", "1", "--out", str(out)],
        tmp_path)
    wait_for(process, stderr, "parkit: repetition")
    out.write_bytes(b"another run's result")
    process.send_signal(signal.SIGUSR1)
    assert process.wait(timeout=60) == 1, open(stderr).read()
    assert "appeared while this run was writing" in open(stderr).read()
    assert "file=" not in open(stdout).read()
    assert out.read_bytes() == b"another run's result"
    assert temporaries(tmp_path) == []


# ---- 2. temporaries never follow links -------------------------------------

def test_planted_links_are_never_written_through(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    secrets = {}
    for name in ("secret.txt", "other.txt"):
        (victim / name).write_text(f"{name} must survive\n")
        secrets[name] = (victim / name).read_text()
    # The old temporary name, and a final name that is a link.
    os.symlink(victim / "secret.txt", tmp_path / "trap.h5.tmp")
    os.symlink(victim / "other.txt", tmp_path / "link.h5")
    trapped = run_parkit(["threads", *QUICK, "--out", tmp_path / "trap.h5"])
    assert trapped.returncode == 0, trapped.stderr
    replaced = run_parkit(["threads", *QUICK, "--out", tmp_path / "link.h5",
                           "--replace"])
    assert replaced.returncode == 0, replaced.stderr
    for name, text in secrets.items():
        assert (victim / name).read_text() == text
    assert not os.path.islink(tmp_path / "link.h5")  # the link was replaced
    for path in ("trap.h5", "link.h5"):
        with h5py.File(tmp_path / path, "r") as f:
            assert f.attrs["verified"] == 1


# ---- 3. a second signal, and signals during start-up -----------------------

@pytest.mark.parametrize("gap", [0.0, 0.03, 0.08, 0.15, 0.3])
def test_second_signal_exit_status_matches_the_file(tmp_path, gap):
    """Two SIGTERMs `gap` seconds apart: whatever moment the second lands
    in (before, during or after the write), exit 5 means no result file
    and exit 4 a complete interrupted one; never a temporary."""
    out = tmp_path / "out"
    process, _, stderr = start(
        [BINARY, "threads", *ENDLESS, "--threads", "1", "--out", str(out)],
        tmp_path)
    wait_for(process, stderr, "parkit: repetition")
    process.send_signal(signal.SIGTERM)
    time.sleep(gap)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=60)
    files = glob.glob(str(out / "*.h5"))
    assert temporaries(out) == []
    if status == EXIT_ABANDONED:
        assert files == [], open(stderr).read()
    else:
        assert status == EXIT_INTERRUPTED, open(stderr).read()
        assert len(files) == 1
        with h5py.File(files[0], "r") as f:
            assert f.attrs["interrupted"] == 1
            assert f["timings"].shape[0] == f.attrs["repetitions_completed"]


def test_a_signal_during_mpi_init_is_a_stop_request(tmp_path):
    """Open MPI's singleton start-up (the orted child is there while
    MPI_Init runs) takes a signal like any later moment: exit 5, a message,
    no file; not death by the signal (143)."""
    out = tmp_path / "out"
    process, _, stderr = start(
        [BINARY, "threads", *QUICK, "--out", str(out)], tmp_path)
    deadline = time.monotonic() + 30
    while not subprocess.run(["pgrep", "-P", str(process.pid)],
                             capture_output=True).stdout:
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.002)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == EXIT_ABANDONED, open(stderr).read()
    assert "before any timed repetition" in open(stderr).read()
    assert not out.exists() or os.listdir(out) == []


def test_sigterm_to_run_sh_under_mpirun_exits_with_parkits_status(tmp_path):
    """mpirun itself exits 1 after SIGTERM or SIGINT, whatever the ranks
    did (Open MPI's rule); jobs/run.sh passes such a signal on as SIGUSR1,
    which mpirun forwards, so its status is parkit's: 4, file complete."""
    out = tmp_path / "out"
    source = os.environ["PARKIT_SOURCE_DIR"]
    environment = dict(os.environ, PARKIT_BINARY=BINARY, OMPI_MCA_pml="ob1")
    process, _, stderr = start(
        ["bash", os.path.join(source, "jobs", "run.sh"), "--oversubscribe",
         "ranks", *ENDLESS[:1], "2", "1", *ENDLESS[1:], "--out", str(out)],
        tmp_path, env=environment)
    wait_for(process, stderr, "parkit: repetition")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == EXIT_INTERRUPTED, open(stderr).read()
    (path,) = glob.glob(str(out / "*.h5"))
    with h5py.File(path, "r") as f:
        assert f.attrs["interrupted"] == 1 and f.attrs["ranks"] == 2


# ---- 4. scratch files are recognisable --------------------------------------

def test_a_killed_io_runs_scratch_file_is_not_taken_for_a_result(tmp_path):
    out = tmp_path / "results"
    good = run_parkit(["threads", *QUICK, "--out", out / "good.h5"])
    assert good.returncode == 0, good.stderr
    process, _, stderr = start(
        [BINARY, "threads", "io", "--n", "4000000", "--reps", "1000",
         "--threads", "1", "--quiet", "--out", str(out / "io.h5")], tmp_path)
    deadline = time.monotonic() + 60
    while not glob.glob(str(out / "parkit-io-scratch-*")):
        assert process.poll() is None, open(stderr).read()
        assert time.monotonic() < deadline, "no scratch file appeared"
        time.sleep(0.01)
    process.kill()
    process.wait(timeout=60)
    # The scratch file (and any file Open MPI made beside it) is no result.
    left = glob.glob(str(out / "parkit-io-scratch-*"))
    assert any(name.endswith(".tmp") for name in left), left
    assert not any(name.endswith(".h5") for name in left), left
    report = subprocess.run([BINARY, "report", str(out)], capture_output=True,
                            text=True, timeout=60)
    assert report.returncode == 0, report.stderr
    assert "skipped" not in report.stderr, report.stderr
    assert "1 result files read" in report.stdout
    from parkit_analysis.loader import load_results
    results = load_results(str(out))
    assert results.skipped == [] and len(results.runs) == 1


# ---- 5. paths MPI-IO cannot take are refused before any work ---------------

def long_directory(base, length):
    """A directory under `base` (made) whose path is `length` bytes long,
    in parts of at most 100 bytes."""
    path = str(base)
    while len(path) < length:
        part = min(100, length - len(path) - 1)
        if length - len(path) - 1 - part == 1:  # no 1-byte remainder
            part -= 2
        path = os.path.join(path, "d" * part)
    os.makedirs(path, exist_ok=True)
    assert len(path) == length
    return path


def long_name(base, length, name_length=100):
    """A result path of exactly `length` bytes under `base`."""
    directory = long_directory(base, length - name_length - 1)
    return os.path.join(directory, "r" * (name_length - 3) + ".h5")


@pytest.mark.parametrize("ranks", [None, 3], ids=["threads", "ranks3"])
def test_a_path_too_long_for_mpi_io_is_refused_at_the_start(tmp_path, ranks):
    mode, launcher = ("threads", None) if ranks is None else \
        ("ranks", mpirun(ranks, "--oversubscribe"))
    too_long = long_name(tmp_path, 245)
    started = time.monotonic()
    done = run_parkit([mode, *QUICK, "--out", too_long], launcher=launcher)
    assert done.returncode == 2, done.stderr[-2000:]
    errors = [l for l in done.stderr.splitlines()
              if l.startswith("parkit: error:")]
    assert len(errors) == 1 and "MPI-IO" in errors[0], done.stderr
    assert "buffer overflow" not in done.stderr
    # The limit it names is the true one: a path of exactly that length
    # works, with as many ranks.
    limit = int(errors[0].split("at most ")[-1].split()[0])
    assert 200 <= limit < 245
    fits = long_name(tmp_path / "fits", limit)
    done = run_parkit([mode, *QUICK, "--out", fits], launcher=launcher)
    assert done.returncode == 0, done.stderr[-2000:]
    assert not os.path.exists(too_long)
    assert temporaries(os.path.dirname(fits)) == []
    assert time.monotonic() - started < 120


def test_a_file_name_too_long_for_mpi_io_is_refused(tmp_path):
    """A short directory, a long last part (relative to the working
    directory, as users give it)."""
    done = run_parkit(["threads", *QUICK, "--out", "n" * 220 + ".h5"],
                      cwd=tmp_path)
    assert done.returncode == 2 and "file name" in done.stderr, done.stderr
    limit = int(done.stderr.split("at most ")[-1].split()[0])
    fits = "n" * (limit - 3) + ".h5"
    done = run_parkit(["ranks", *QUICK, "--out", fits],
                      launcher=mpirun(3, "--oversubscribe"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Error" not in done.stderr, done.stderr
    assert sorted(os.listdir(tmp_path)) == [fits]


def test_an_io_directory_too_long_for_mpi_io_is_refused(tmp_path):
    directory = long_directory(tmp_path, 228)
    done = run_parkit(["threads", "io", "--n", "1000", "--reps", "1",
                       "--quiet", "--dir", directory, "--out",
                       tmp_path / "io.h5"])
    assert done.returncode == 2, done.stderr[-2000:]
    assert "--dir" in done.stderr and "MPI-IO" in done.stderr
    assert not (tmp_path / "io.h5").exists()


# ---- 11. every rank runs the same command -----------------------------------

PI = ["montecarlo", "--estimate", "pi", "--samples", "1000000", "--quiet"]
MPMD = [  # (id, rank 0's words, rank 1's words, what the message names)
    ("seed", ["ranks", *PI], ["ranks", *PI, "--seed", "7"],
     ["--seed 42", "--seed 7"]),
    ("reps", ["ranks", *PI, "--reps", "3"], ["ranks", *PI],
     ["--reps 3", "--reps 5"]),
    ("warmup", ["ranks", *PI], ["ranks", *PI, "--warmup", "4"],
     ["--warmup 1", "--warmup 4"]),
    ("size", ["ranks", "matmul", "--n", "64", "--quiet"],
     ["ranks", "matmul", "--n", "96", "--quiet"], ["--n 64", "--n 96"]),
    ("kernel", ["ranks", *PI], ["ranks", "matmul", "--n", "64", "--quiet"],
     ["kernel montecarlo", "kernel matmul"]),
    ("mode", ["ranks", *PI], ["hybrid", *PI, "--threads", "1"],
     ["mode ranks", "mode hybrid"]),
    ("out", ["ranks", *PI, "--out", "a"], ["ranks", *PI, "--out", "b"],
     ["--out a", "--out b"]),
]


@pytest.mark.parametrize("first,second,named", [c[1:] for c in MPMD],
                         ids=[c[0] for c in MPMD])
def test_ranks_launched_with_different_commands_stop_together(
        tmp_path, first, second, named):
    command = [MPIEXEC, "-np", "1", BINARY, *first, ":", "-np", "1",
               BINARY, *second]
    done = subprocess.run(command, capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr[-3000:]
    errors = [l for l in done.stderr.splitlines()
              if l.startswith("parkit: error:")]
    assert len(errors) == 1, done.stderr
    for text in named:
        assert text in errors[0], errors[0]
    assert "file=" not in done.stdout
    assert os.listdir(tmp_path) == []  # nothing written, not even --out


def test_ranks_launched_with_the_same_command_in_parts_run(tmp_path):
    """The ':' syntax itself is fine when every part says the same."""
    done = subprocess.run([MPIEXEC, "-np", "1", BINARY, "ranks", *PI, ":",
                           "-np", "1", BINARY, "ranks", *PI],
                          capture_output=True, text=True, cwd=tmp_path,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert key_values(done.stdout)["ranks"] == "2"
