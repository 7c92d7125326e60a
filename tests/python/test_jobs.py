"""Workstation jobs and stopping a run: jobs/run.sh, jobs/sweep.sh,
jobs/make-sbatch.sh, and parkit's answer to SIGUSR1/SIGTERM (threads mode
and under the real mpirun)."""
import csv
import glob
import os
import signal
import subprocess
import time

import h5py
import pytest

from conftest import BINARY, MPIEXEC, SOURCE_DIR

JOBS = os.path.join(SOURCE_DIR, "jobs")
# A run that lasts far longer than any test waits, on any machine: a
# million short repetitions (hours at a gigasample a second).
LONG_RUN = ["montecarlo", "--estimate", "pi", "--samples", "2000000",
            "--reps", "1000000", "--warmup", "0"]
EXIT_INTERRUPTED, EXIT_ABANDONED = 4, 5


def environment(**extra):
    env = dict(os.environ, OMPI_MCA_pml="ob1", PARKIT_BINARY=BINARY)
    env.update(extra)
    return env


def wait_for_repetitions(process, stderr_path, timeout=60,
                         marker="parkit: repetition"):
    """Waits until parkit reports a finished repetition (a progress line),
    so a signal lands after some have finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, open(stderr_path).read()
        with open(stderr_path) as text:
            if marker in text.read():
                return
        time.sleep(0.1)
    process.kill()
    raise AssertionError("parkit reported no repetition in time")


def start(command, tmp_path):
    """Starts `command` with a progress line after every repetition
    (PARKIT_PROGRESS_AFTER=0), so the test sees when the run is in its
    repetitions however fast they go."""
    stderr_path = tmp_path / "stderr.txt"
    with open(stderr_path, "w") as err, open(tmp_path / "stdout.txt", "w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=err,
                                   env=environment(PARKIT_PROGRESS_AFTER="0"),
                                   cwd=tmp_path)
    return process, stderr_path


def only_file(directory):
    files = glob.glob(os.path.join(directory, "*.h5*"))
    assert len(files) <= 1, files
    return files[0] if files else None


@pytest.mark.parametrize("signal_number", [signal.SIGUSR1, signal.SIGTERM])
def test_signal_stops_threads_run_after_a_repetition(tmp_path, signal_number):
    out = tmp_path / "out"
    process, stderr_path = start(
        [BINARY, "threads", *LONG_RUN, "--threads", "2", "--out", str(out)],
        tmp_path)
    wait_for_repetitions(process, stderr_path)
    process.send_signal(signal_number)
    assert process.wait(timeout=60) == EXIT_INTERRUPTED, \
        open(stderr_path).read()
    path = only_file(out)
    assert path and path.endswith(".h5"), path
    with h5py.File(path, "r") as f:
        a = f.attrs
        assert a["interrupted"] == 1 and a["verified"] == 1
        assert 1 <= a["repetitions_completed"] < a["repetitions"] == 1000000
        assert f["timings"].shape == (a["repetitions_completed"], 1)
        assert (f["timings"][:] > 0).all()
    assert "stopped by a signal after" in open(stderr_path).read()


def test_signal_to_mpirun_stops_every_rank(tmp_path):
    out = tmp_path / "out"
    process, stderr_path = start(
        [MPIEXEC, "-np", "2", "--oversubscribe", "--bind-to", "none", BINARY,
         "ranks", *LONG_RUN, "--out", str(out)], tmp_path)
    wait_for_repetitions(process, stderr_path)
    process.send_signal(signal.SIGUSR1)  # mpirun forwards it to the ranks
    assert process.wait(timeout=60) == EXIT_INTERRUPTED, \
        open(stderr_path).read()
    with h5py.File(only_file(out), "r") as f:
        assert f.attrs["interrupted"] == 1 and f.attrs["ranks"] == 2
        assert f["timings"].shape == (f.attrs["repetitions_completed"], 2)


def test_signal_to_one_rank_stops_all(tmp_path):
    """Only rank 1 gets the signal; the ranks agree after the repetition."""
    out = tmp_path / "out"
    process, stderr_path = start(
        [MPIEXEC, "-np", "2", "--oversubscribe", "--bind-to", "none", BINARY,
         "ranks", *LONG_RUN, "--out", str(out)], tmp_path)
    wait_for_repetitions(process, stderr_path)
    ranks = subprocess.run(["pgrep", "-P", str(process.pid), "-x", "parkit"],
                           capture_output=True, text=True).stdout.split()
    assert len(ranks) == 2, ranks
    os.kill(int(sorted(ranks, key=int)[-1]), signal.SIGUSR1)
    assert process.wait(timeout=60) == EXIT_INTERRUPTED
    with h5py.File(only_file(out), "r") as f:
        assert f.attrs["interrupted"] == 1


def test_two_signals_abandon_the_run(tmp_path):
    out = tmp_path / "out"
    process, stderr_path = start(
        [BINARY, "threads", *LONG_RUN, "--threads", "1", "--out", str(out)],
        tmp_path)
    wait_for_repetitions(process, stderr_path)
    process.send_signal(signal.SIGUSR1)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == EXIT_ABANDONED, \
        open(stderr_path).read()
    assert only_file(out) is None
    assert "no result file" in open(stderr_path).read()


def test_signal_before_any_repetition_leaves_no_file(tmp_path):
    out = tmp_path / "out"
    process, stderr_path = start(
        [BINARY, "threads", "montecarlo", "--estimate", "pi", "--samples",
         "2000000", "--warmup", "1000000", "--reps", "1", "--threads", "1",
         "--out", str(out)], tmp_path)
    wait_for_repetitions(process, stderr_path, marker="warm-up repetition")
    process.send_signal(signal.SIGUSR1)
    assert process.wait(timeout=60) == EXIT_ABANDONED, \
        open(stderr_path).read()
    assert only_file(out) is None
    assert "before any timed repetition" in open(stderr_path).read()


# ---- jobs/run.sh and jobs/sweep.sh ------------------------------------------

def test_run_sh_prints_the_placement_of_each_mode():
    def printed(*arguments):
        done = subprocess.run([f"{JOBS}/run.sh", "--print", *arguments],
                              capture_output=True, text=True, env=environment())
        assert done.returncode == 0, done.stderr
        return done.stdout
    assert "OMP_PLACES=cores OMP_PROC_BIND=close" in printed("threads", "matmul", "1", "1")
    assert "--map-by slot:PE=1 --bind-to core" in printed("ranks", "matmul", "1", "1")
    hybrid = printed("hybrid", "matmul", "1", "1")
    assert "--map-by slot:PE=1 --bind-to core" in hybrid
    assert "-x OMP_NUM_THREADS -x OMP_PLACES -x OMP_PROC_BIND" in hybrid
    many = subprocess.run([f"{JOBS}/run.sh", "--print", "--oversubscribe",
                           "hybrid", "matmul", "64", "64"], capture_output=True,
                          text=True, env=environment()).stdout
    assert "--bind-to none" in many and "--oversubscribe" in many


@pytest.mark.parametrize("arguments, message", [
    (["threads", "matmul", "2", "1"], "threads mode runs 1 rank"),
    (["hybrid", "matmul", "0", "1"], "RANKS '0'"),
    (["hybrid", "matmul", "64", "64"], "pass --oversubscribe"),
    (["serial", "matmul", "1", "1"], "MODE 'serial'"),
])
def test_run_sh_refuses_bad_input(arguments, message):
    done = subprocess.run([f"{JOBS}/run.sh", *arguments], capture_output=True,
                          text=True, env=environment())
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_sweep_runs_every_split_and_indexes_it(tmp_path):
    campaign = tmp_path / "campaign"
    done = subprocess.run(
        [f"{JOBS}/sweep.sh", "--parkit", BINARY, "--cores", "2", "--reps", "1",
         "--out", str(campaign), "--matmul-n", "48",
         "--montecarlo-samples", "20000"], capture_output=True, text=True,
        env=environment(), timeout=300)
    assert done.returncode == 0, done.stderr
    with open(campaign / "index.tsv") as text:
        rows = list(csv.DictReader(text, delimiter="\t"))
    expected = {(k, s, r, t) for k in ("matmul", "montecarlo")
                for s in ("strong", "weak")
                for r, t in (("1", "1"), ("1", "2"), ("2", "1"))}
    assert {(r["kernel"], r["scaling"], r["ranks"], r["threads"])
            for r in rows} == expected
    for row in rows:
        assert row["exit_status"] == "0", row
        with h5py.File(campaign / row["result_file"], "r") as f:
            a = f.attrs
            assert a["verified"] == 1 and a["mode"] == row["mode"]
            assert (a["ranks"], a["threads"]) == (int(row["ranks"]), int(row["threads"]))
            assert str(a[row["size_option"]]) == row["size"]
    sizes = {(r["kernel"], r["scaling"], r["ranks"], r["threads"]): int(r["size"])
             for r in rows}
    assert sizes[("matmul", "weak", "1", "2")] == round(48 * 2 ** (1 / 3))
    assert sizes[("montecarlo", "weak", "2", "1")] == 40000
    assert sizes[("matmul", "strong", "2", "1")] == 48


def test_sweep_records_a_failed_run_and_goes_on(tmp_path):
    campaign = tmp_path / "campaign"
    done = subprocess.run(
        [f"{JOBS}/sweep.sh", "--parkit", BINARY, "--cores", "1", "--reps", "1",
         "--out", str(campaign), "--kernels", "matmul", "--scaling", "strong",
         "--matmul-n", "2000000"], capture_output=True, text=True,
        env=environment(), timeout=120)
    assert done.returncode == 1
    with open(campaign / "index.tsv") as text:
        rows = list(csv.DictReader(text, delimiter="\t"))
    assert [(r["exit_status"], r["result_file"]) for r in rows] == [("2", "-")]
    assert "parkit: error:" in open(campaign / rows[0]["log_file"]).read()


# ---- jobs/make-sbatch.sh ---------------------------------------------------

def generate(*arguments):
    return subprocess.run([f"{JOBS}/make-sbatch.sh", *arguments],
                          capture_output=True, text=True)


def test_generator_prints_a_script_with_the_canonical_headers(tmp_path):
    done = generate("--kernel", "matmul", "--mode", "hybrid", "--nodes", "2",
                    "--ranks-per-node", "2", "--threads", "4",
                    "--cores-per-node", "8", "--time", "01:00:00",
                    "--partition", "batch", "--args", "--n 4096 --reps 3")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    script = tmp_path / "job.sbatch"
    script.write_text(done.stdout)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    for header in ("--nodes=2", "--ntasks-per-node=2", "--cpus-per-task=4",
                   "--time=01:00:00", "--hint=nomultithread",
                   "--signal=B:USR1@60", "--partition=batch"):
        assert f"#SBATCH {header}\n" in done.stdout, header
    assert "parkit_launch hybrid matmul --n 4096 --reps 3\n" in done.stdout
    # lib.sh launches through the launch layer, whose srun recipe binds so:
    library = open(f"{JOBS}/slurm/lib.sh").read()
    assert '"$PARKIT_BINARY" launch --launcher "$PARKIT_LAUNCHER"' in library
    launched = subprocess.run(
        [BINARY, "launch", "--launcher", "srun", "--nodes", "2", "--cores",
         "8", "hybrid", "matmul", "4", "4"], capture_output=True, text=True)
    assert "--cpus-per-task=4 --cpu-bind=cores" in launched.stdout
    assert "OMP_NUM_THREADS=4 OMP_PLACES=cores OMP_PROC_BIND=close" \
        in launched.stdout


def test_generator_warns_when_the_shape_does_not_fit():
    done = generate("--kernel", "matmul", "--mode", "hybrid",
                    "--ranks-per-node", "4", "--threads", "4",
                    "--cores-per-node", "8")
    assert done.returncode == 0
    assert "warning: 4 ranks per node x 4 threads = 16 cores, but a node has 8" \
        in done.stderr


@pytest.mark.parametrize("arguments, message", [
    (["--mode", "hybrid"], "--kernel is missing"),
    (["--kernel", "matmul", "--mode", "serial"], "--mode 'serial'"),
    (["--kernel", "matmul", "--mode", "threads", "--ranks-per-node", "2"],
     "--mode threads runs 1 rank"),
    (["--kernel", "matmul", "--mode", "ranks", "--threads", "2"],
     "--mode ranks runs 1 thread"),
    (["--kernel", "matmul", "--mode", "ranks", "--time", "soon"], "--time 'soon'"),
])
def test_generator_refuses_bad_input(arguments, message):
    done = generate(*arguments)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert done.stdout == ""
