"""Bad input, as users type it: each case must exit with status 2, print
exactly one 'parkit: error:' line naming the bad value, and leave the output
directory untouched: each runs in an empty directory with the default --out
(results/), which must not even be created."""
import os
import subprocess

import pytest

from conftest import BINARY, mpirun, run_parkit

# (id, arguments, launcher ranks or None, environment, text the message names)
CASES = [
    ("unknown-kernel", ["threads", "fft"], None, {}, "unknown kernel 'fft'"),
    ("unknown-mode", ["sideways", "matmul"], None, {}, "unknown mode 'sideways'"),
    ("missing-kernel", ["threads"], None, {}, "missing kernel"),
    ("unknown-option", ["threads", "matmul", "--size", "5"], None, {},
     "unknown option '--size'"),
    ("size-zero", ["threads", "matmul", "--n", "0"], None, {}, "--n '0'"),
    ("size-negative", ["threads", "matmul", "--n", "-5"], None, {}, "'-5'"),
    ("size-non-numeric", ["threads", "matmul", "--n", "big"], None, {},
     "--n 'big': not an integer"),
    ("size-overflow", ["threads", "matmul", "--n", "99999999999999999999"],
     None, {}, "too large for a 64-bit integer"),
    ("size-fraction", ["threads", "matmul", "--n", "12.5"], None, {}, "'12.5'"),
    ("samples-non-numeric", ["threads", "montecarlo", "--estimate", "pi",
                             "--samples", "lots"], None, {}, "'lots'"),
    ("threads-zero", ["threads", "matmul", "--threads", "0"], None, {},
     "--threads '0'"),
    ("reps-zero", ["threads", "matmul", "--reps", "0"], None, {}, "--reps '0'"),
    ("warmup-negative", ["threads", "matmul", "--warmup", "-1"], None, {},
     "--warmup '-1'"),
    ("bad-choice", ["threads", "matmul", "--variant", "fast"], None, {},
     "--variant 'fast'"),
    ("missing-value", ["threads", "matmul", "--n"], None, {}, "needs a value"),
    ("repeated-option", ["threads", "matmul", "--n", "8", "--n", "9"], None, {},
     "more than once"),
    ("stray-word", ["threads", "matmul", "1024"], None, {},
     "unexpected argument '1024'"),
    ("too-much-memory", ["threads", "matmul", "--n", "1000000"], None, {},
     "bytes"),
    ("conflicting-options", ["threads", "montecarlo", "--estimate", "ep",
                             "--samples", "100"], None, {}, "--samples"),
    ("omp-num-threads-text", ["threads", "matmul"], None,
     {"OMP_NUM_THREADS": "abc"}, "OMP_NUM_THREADS='abc'"),
    ("omp-num-threads-zero", ["hybrid", "matmul"], None,
     {"OMP_NUM_THREADS": "0"}, "OMP_NUM_THREADS='0'"),
    ("ranks-with-threads", ["ranks", "matmul", "--threads", "4"], None, {},
     "ranks mode runs one thread per rank"),
    ("threads-under-mpirun", ["threads", "matmul"], 2, {},
     "threads mode runs one process"),
    ("grid-larger-than-matrix", ["ranks", "matmul", "--n", "2"], 3, {},
     "--n 2"),
    ("help-unknown-kernel", ["help", "fft"], None, {}, "unknown kernel 'fft'"),
    ("help-two-kernels", ["help", "matmul", "montecarlo"], None, {},
     "takes one kernel name"),
    ("list-with-argument", ["list", "matmul"], None, {},
     "'parkit list' takes only --format text|json, got 'matmul'"),
    ("version-with-argument", ["--version", "now"], None, {},
     "'parkit --version' takes no arguments, got 'now'"),
    ("empty-mode", [""], None, {}, "unknown mode ''"),
    ("newline-in-value", ["threads", "matmul", "--n", "12\n3"], None, {},
     "--n '12?3'"),
    ("value-is-an-option", ["threads", "matmul", "--out", "--quiet"], None,
     {}, "option '--out' needs a value"),
    ("flag-with-value", ["threads", "matmul", "--quiet=yes"], None, {},
     "takes no value (got 'yes')"),
    ("out-empty", ["threads", "matmul", "--out", ""], None, {},
     "--out '': empty"),
    ("size-with-suffix", ["threads", "matmul", "--n", "1k"], None, {},
     "--n '1k': not an integer"),
    ("block-zero", ["threads", "matmul", "--block", "0"], None, {},
     "--block '0'"),
    ("reps-fraction", ["threads", "matmul", "--reps", "2.5"], None, {},
     "--reps '2.5'"),
    ("reps-huge", ["threads", "matmul", "--reps", "1000001"], None, {},
     "--reps '1000001': too large"),
    ("threads-huge", ["threads", "matmul", "--threads", "5000"], None, {},
     "--threads '5000': too large"),
    ("threads-non-numeric", ["threads", "matmul", "--threads", "many"], None,
     {}, "--threads 'many': not an integer"),
    ("seed-negative", ["threads", "matmul", "--seed", "-1"], None, {},
     "--seed '-1': too small"),
    ("seed-overflow", ["threads", "matmul", "--seed",
                       "99999999999999999999999"], None, {},
     "too large for a 64-bit integer"),
    ("class-unknown", ["threads", "montecarlo", "--class", "Z"], None, {},
     "--class 'Z'"),
    ("estimate-unknown", ["threads", "montecarlo", "--estimate", "tau"], None,
     {}, "--estimate 'tau'"),
    ("samples-zero", ["threads", "montecarlo", "--estimate", "pi",
                      "--samples", "0"], None, {}, "--samples '0'"),
    ("samples-exponent", ["threads", "montecarlo", "--estimate", "pi",
                          "--samples", "1e30"], None, {}, "--samples '1e30'"),
    ("omp-num-threads-negative", ["threads", "matmul"], None,
     {"OMP_NUM_THREADS": "-3"}, "OMP_NUM_THREADS='-3'"),
    ("omp-num-threads-overflow", ["threads", "matmul"], None,
     {"OMP_NUM_THREADS": "99999999999999999999"},
     "OMP_NUM_THREADS='99999999999999999999'"),
    ("progress-after-text", ["threads", "montecarlo"], None,
     {"PARKIT_PROGRESS_AFTER": "soon"}, "PARKIT_PROGRESS_AFTER='soon'"),
    ("progress-after-negative", ["threads", "montecarlo"], None,
     {"PARKIT_PROGRESS_AFTER": "-1"}, "PARKIT_PROGRESS_AFTER='-1'"),
    ("progress-after-under-mpirun", ["ranks", "montecarlo"], 2,
     {"PARKIT_PROGRESS_AFTER": "1e9"}, "PARKIT_PROGRESS_AFTER='1e9'"),
    ("watchdog-negative", ["threads", "matmul", "--watchdog", "-1"], None, {},
     "--watchdog '-1'"),
    ("watchdog-text", ["threads", "matmul", "--watchdog", "soon"], None, {},
     "--watchdog 'soon'"),
    ("writers-unknown", ["threads", "matmul", "--writers", "leaders"], None,
     {}, "--writers 'leaders': not a known choice; allowed: one of "
     "all|node-leaders"),
    ("fault-unknown-phase", ["threads", "matmul", "--inject-fault",
                             "lunch:0:error"], None, {}, "unknown phase"),
    ("fault-unknown-kind", ["threads", "matmul", "--inject-fault",
                            "run:0:explode"], None, {}, "unknown kind"),
    ("fault-missing-rank", ["threads", "matmul", "--inject-fault",
                            "run:3:error"], None, {},
     "rank 3 does not exist; allowed: 0 to 0"),
    ("hybrid-threads-zero", ["hybrid", "matmul", "--threads", "0"], 2, {},
     "--threads '0'"),
    ("bad-option-under-mpirun", ["ranks", "montecarlo", "--class", "Q"], 3,
     {}, "--class 'Q'"),
    ("stencil-radius", ["threads", "stencil", "--radius", "5"], None, {},
     "--radius '5'"),
    ("stencil-blocks-too-small", ["ranks", "stencil", "--n", "5", "--radius",
                                  "2"], 4, {}, "--n 5 is too small"),
    ("stream-scalar", ["threads", "stream", "--scalar", "2"], None, {},
     "--scalar '2'"),
    ("transpose-order-too-large", ["threads", "transpose", "--n", "50000"],
     None, {}, "--n '50000'"),
    ("transpose-fewer-columns-than-ranks", ["ranks", "transpose", "--n", "2"],
     3, {}, "--n 2 is smaller than the 3 ranks"),
    ("io-missing-dir", ["threads", "io", "--dir", "/nonexistent/parkit"],
     None, {}, "--dir '/nonexistent/parkit'"),
    ("io-sync", ["threads", "io", "--sync", "maybe"], None, {},
     "--sync 'maybe'"),
    ("wait-latency-negative", ["threads", "wait", "--latency", "-1"], None,
     {}, "--latency '-1'"),
    ("wait-latency-huge", ["threads", "wait", "--latency", "10000001"], None,
     {}, "--latency '10000001': too large"),
    ("wait-items-zero", ["threads", "wait", "--items", "0"], None, {},
     "--items '0'"),
    ("wait-compute-text", ["threads", "wait", "--compute", "lots"], None, {},
     "--compute 'lots': not an integer"),
    ("context-switch-negative", ["threads", "context_switch", "--max_bytes",
                                 "-4"], None, {}, "--max_bytes '-4'"),
    ("isolation-team-of-one", ["threads", "isolation", "--team", "1"], None,
     {}, "--team '1'"),
    ("isolation-remaining-negative", ["threads", "isolation", "--remaining",
                                      "-5"], None, {}, "--remaining '-5'"),
    ("isolation-mpi-maybe", ["threads", "isolation", "--mpi", "maybe"], None,
     {}, "--mpi 'maybe'"),
    ("isolation-mpirun-without-mpi", ["threads", "isolation", "--mpi", "no",
                                      "--mpirun", "/usr/bin/mpirun"], None,
     {}, "--mpirun '/usr/bin/mpirun' applies to --mpi yes"),
    ("sharing-updates-zero", ["threads", "sharing", "--updates", "0"], None,
     {}, "--updates '0'"),
]


@pytest.mark.parametrize("arguments,ranks,environment,expected",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused(tmp_path, arguments, ranks, environment,
                              expected):
    launcher = mpirun(ranks, "--oversubscribe") if ranks else None
    result = run_parkit(arguments, launcher=launcher, env=environment,
                        cwd=tmp_path)
    assert result.returncode == 2 or (ranks and result.returncode != 0), \
        (result.returncode, result.stderr)
    ours = [l for l in result.stderr.splitlines() if l.startswith("parkit")]
    assert len(ours) == 1, result.stderr
    assert ours[0].startswith("parkit: error: "), ours[0]
    assert expected in ours[0], ours[0]
    assert not os.listdir(tmp_path), f"{os.listdir(tmp_path)} left behind"
    assert "PARKIT " not in result.stdout


def test_wait_refuses_more_threads_than_it_can_open_sockets_for(tmp_path):
    """Each wait worker needs 2 file descriptors (its socket pair): with
    ulimit -n 256, 100 threads (264 with the reserve of 64) are refused
    before any work."""
    limited = ["prlimit", "--nofile=256:256", BINARY]
    result = subprocess.run(
        limited + ["threads", "wait", "--threads", "100"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2, result.stderr
    ours = [l for l in result.stderr.splitlines() if l.startswith("parkit")]
    assert len(ours) == 1, result.stderr
    assert "--threads 100" in ours[0] and "ulimit -n 256" in ours[0] and \
        "at most 96 threads" in ours[0], ours[0]
    assert not os.listdir(tmp_path)


def test_memory_message_says_how_many_bytes(tmp_path):
    result = run_parkit(["threads", "matmul", "--n", "1000000", "--out",
                         tmp_path / "out"])
    assert result.returncode == 2
    # 3 matrices of 10^12 doubles: at least 2.4e13 bytes.
    assert "needs 24" in result.stderr and "available" in result.stderr, \
        result.stderr


@pytest.mark.parametrize("target", ["directory-under-a-file",
                                    "file-under-a-file",
                                    "/proc/parkit-results"])
def test_unwritable_output_location(tmp_path, target):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    target = {"directory-under-a-file": str(blocker / "results"),
              "file-under-a-file": str(blocker / "run.h5")}.get(target, target)
    result = run_parkit(["threads", "montecarlo", "--out", target])
    assert result.returncode == 2, result.stderr
    lines = [l for l in result.stderr.splitlines() if l.startswith("parkit")]
    assert len(lines) == 1, result.stderr
    assert f"--out '{target}'" in lines[0], lines[0]
    assert "cannot write result files there" in lines[0], lines[0]
    assert not os.path.exists(target)


@pytest.fixture
def small_file_system(tmp_path):
    """A mounted 4 MiB tmpfs (needs root; skipped without it), yielded as
    a function that remounts it read-only or fills it."""
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m",
                              "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root): "
                    + mounted.stderr.decode().strip())
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.mark.parametrize("state", ["read-only", "full"])
def test_output_on_an_unusable_file_system(small_file_system, state):
    """A read-only or full file system is refused before any work, with
    nothing written there."""
    if state == "read-only":
        subprocess.run(["mount", "-o", "remount,ro", str(small_file_system)],
                       check=True)
        reason = "Read-only file system"
    else:
        with open(small_file_system / "filler", "wb") as filler:
            filler.write(b"\0" * (4 * 1024 * 1024 - 256 * 1024))
        reason = "No space left on device"
    before = sorted(os.listdir(small_file_system))
    target = small_file_system / "results"
    result = run_parkit(["threads", "montecarlo", "--out", target])
    assert result.returncode == 2, result.stderr
    lines = [l for l in result.stderr.splitlines() if l.startswith("parkit")]
    assert len(lines) == 1, result.stderr
    assert f"--out '{target}'" in lines[0] and reason in lines[0], lines[0]
    assert sorted(os.listdir(small_file_system)) == before
