"""What a user sees: list and help generated from the option tables, the
summary and the key=value line, default thread counts, placement warnings
with the command that fixes them, progress on long runs, file naming."""
import math
import os
import re
import shlex

import h5py
import pytest

from conftest import key_values, mpirun, run_parkit

QUICK = ["montecarlo", "--estimate", "pi", "--samples", "20000", "--reps", "1"]


def fix_lines(stderr):
    """The commands of the warnings' "fix:" lines, split as a shell would."""
    return [shlex.split(line.split("fix:", 1)[1])
            for line in stderr.splitlines() if "   fix: " in line]


def launch_words(mode, ranks, threads, arguments):
    """What `parkit launch` prints for this shape, split: the one recipe the
    fix lines must repeat."""
    printed = run_parkit(["launch", "--program", "parkit", "--mpirun",
                          "mpirun", "--oversubscribe", mode, "montecarlo",
                          ranks, threads, "--"] + arguments)
    assert printed.returncode == 0, printed.stderr
    return shlex.split(printed.stdout)
NAME = re.compile(r"montecarlo_(threads|ranks|hybrid)_p(\d+)_t(\d+)_"
                  r"\d{8}T\d{6}Z_[0-9a-f]{6}\.h5$")


def test_list_shows_every_kernel_and_option():
    text = run_parkit(["list"]).stdout
    for kernel, options in {"matmul": ["n", "block", "variant"],
                            "montecarlo": ["estimate", "class", "samples", "simd"]
                            }.items():
        assert re.search(rf"^{kernel}\s+\S", text, re.MULTILINE), kernel
        for option in options:
            assert f"--{option}" in text, option
    for common in ["threads", "reps", "warmup", "seed", "out", "quiet"]:
        assert f"--{common}" in text
    assert "default 1024" in text and "(elements)" in text


def test_help_is_generated_from_the_same_tables():
    kernel_help = run_parkit(["help", "matmul"]).stdout
    run_help = run_parkit(["threads", "matmul", "--help"]).stdout
    assert kernel_help == run_help and "--variant" in kernel_help
    usage = run_parkit(["--help"])
    assert usage.returncode == 0 and "mpirun -np P parkit ranks" in usage.stdout
    version = run_parkit(["--version"])
    assert version.returncode == 0 and version.stdout.startswith("parkit ")


def test_summary_and_key_value_line_match_the_file(tmp_path):
    result = run_parkit(["threads"] + QUICK + ["--threads", "2", "--out",
                                               tmp_path])
    assert result.returncode == 0, result.stderr
    for label in ["problem", "time", "rate", "imbalance", "verified",
                  "output"]:
        assert re.search(rf"^  {label}\s", result.stdout, re.MULTILINE), label
    fields = key_values(result.stdout)
    assert fields["kernel"] == "montecarlo" and fields["mode"] == "threads"
    assert fields["threads"] == "2" and fields["verified"] == "1"
    path = fields["file"]
    assert NAME.search(os.path.basename(path)), path
    assert os.path.dirname(path) == str(tmp_path)
    with h5py.File(path, "r") as f:
        assert f.attrs["time_median"] == pytest.approx(
            float(fields["time_median"]), rel=1e-6)
        assert f.attrs["rate_unit"] == fields["rate_unit"] == "Msamples/s"
        assert f.attrs["samples"] == int(fields["samples"]) == 20000
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(path)]


def test_quiet_prints_only_the_key_value_line(tmp_path):
    result = run_parkit(["threads"] + QUICK + ["--quiet", "--out", tmp_path])
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].startswith("PARKIT ")
    assert len(result.stdout.splitlines()) == 1


def test_out_may_name_the_file(tmp_path):
    target = tmp_path / "deeper" / "mine.h5"
    result = run_parkit(["threads"] + QUICK + ["--out", target])
    assert result.returncode == 0, result.stderr
    assert key_values(result.stdout)["file"] == str(target)
    assert sorted(os.listdir(target.parent)) == ["mine.h5"]


def test_default_threads_follow_omp_num_threads_then_cores(tmp_path):
    from_env = run_parkit(["threads"] + QUICK + ["--out", tmp_path],
                          env={"OMP_NUM_THREADS": "3"})
    assert key_values(from_env.stdout)["threads"] == "3"
    from_cores = run_parkit(["threads"] + QUICK + ["--out", tmp_path],
                            env={"OMP_NUM_THREADS": None})
    assert key_values(from_cores.stdout)["threads"] == \
        str(len(os.sched_getaffinity(0)))


def test_ranks_mode_uses_one_thread_whatever_omp_num_threads(tmp_path):
    result = run_parkit(["ranks"] + QUICK + ["--out", tmp_path],
                        launcher=mpirun(2, "--oversubscribe"),
                        env={"OMP_NUM_THREADS": "4"})
    assert result.returncode == 0, result.stderr
    fields = key_values(result.stdout)
    assert fields["ranks"] == "2" and fields["threads"] == "1"


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2,
                    reason="the binding trap needs 2 cores for 2 ranks")
def test_default_mpirun_binding_trap_is_named_with_its_fix(tmp_path):
    # Open MPI binds each of 2 ranks to one core by default: 2 threads of a
    # rank then share that core.
    result = run_parkit(["hybrid"] + QUICK + ["--threads", "2", "--out",
                                              tmp_path],
                        launcher=mpirun(2))
    assert result.returncode == 0, result.stderr
    assert "may run on only 1 core but start 2 threads" in result.stderr
    user_options = QUICK[1:] + ["--out", str(tmp_path)]
    # 2 x 2 on 2 cores: the fix keeps the shape (time-shared, unbound) or
    # fits it to the cores (2 x 1); each exactly as `parkit launch` says.
    fixes = fix_lines(result.stderr)
    assert launch_words("hybrid", 2, 2, user_options) in fixes, fixes
    assert launch_words("hybrid", 2, 1, user_options) in fixes, fixes
    for fix in fixes:
        assert fix.count("--threads") == 1, fix
    with h5py.File(key_values(result.stdout)["file"], "r") as f:
        assert list(f["ranks/cores"][:]) == [1, 1]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2,
                    reason="the binding trap needs 2 cores for 2 ranks")
def test_a_rank_alone_on_too_few_cores_is_not_called_stacked(tmp_path):
    # Each rank is alone on its core: that is the thin binding, named with
    # the real rank numbers, and no "same CPUs" line about a rank -1.
    result = run_parkit(["hybrid"] + QUICK + ["--threads", "2", "--out",
                                              tmp_path],
                        launcher=mpirun(2))
    assert result.returncode == 0, result.stderr
    assert "2 of 2 ranks (0 and 1) may run on only 1 core but start 2 " \
        "threads each: the threads will share it." in result.stderr, \
        result.stderr
    assert "same CPUs" not in result.stderr, result.stderr
    assert "-1" not in result.stderr, result.stderr


def test_oversubscription_is_named_with_its_fix(tmp_path):
    cores = len(os.sched_getaffinity(0))
    result = run_parkit(["ranks"] + QUICK + ["--out", tmp_path],
                        launcher=mpirun(cores + 1, "--oversubscribe",
                                        "--bind-to", "none"))
    assert result.returncode == 0, result.stderr
    assert f"oversubscribed: {cores + 1} ranks x 1 thread" in result.stderr
    assert fix_lines(result.stderr) == [
        launch_words("ranks", cores, 1, QUICK[1:] + ["--out", str(tmp_path)])]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2,
                    reason="needs 2 cores: ranks stacked on one of them")
def test_ranks_stacked_on_one_core_are_named(tmp_path):
    # 3 ranks bound round-robin to 2 cores: ranks 0 and 2 share the first.
    result = run_parkit(["ranks"] + QUICK + ["--out", tmp_path],
                        launcher=mpirun(3, "--oversubscribe", "--map-by",
                                        "core", "--bind-to",
                                        "core:overload-allowed"))
    assert result.returncode == 0, result.stderr
    first = min(os.sched_getaffinity(0))
    assert f"2 ranks (0 and 2) are bound to the same CPUs {first}: 2 workers " \
        "on 1 core will time-share them" in result.stderr, result.stderr
    assert launch_words("ranks", 3, 1, QUICK[1:] + ["--out", str(tmp_path)]) \
        in fix_lines(result.stderr)


def test_fix_lines_paste_safely_and_keep_one_threads_option(tmp_path):
    """An --out with quotes, spaces and shell syntax comes back as the same
    one word; the user's --threads 4 is replaced, not followed."""
    out = tmp_path / "it's'; touch PWNED; echo '.h5"
    result = run_parkit(["threads"] + QUICK + ["--threads", "4", "--out", out],
                        cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    fixes = fix_lines(result.stderr)
    assert fixes, result.stderr
    for fix in fixes:
        assert fix[fix.index("--out") + 1] == str(out), fix
        assert fix.count("--threads") == 1, fix
    assert not (tmp_path / "PWNED").exists()


def test_launch_prints_each_mode_with_its_placement():
    words = launch_words("ranks", 2, 1, ["--n", "64"])
    assert words[3:] == ["mpirun", "-np", "2", "--map-by", "slot:PE=1",
                         "--bind-to", "core", "-x", "OMP_NUM_THREADS", "-x",
                         "OMP_PLACES", "-x", "OMP_PROC_BIND", "parkit",
                         "ranks", "montecarlo", "--n", "64"]
    assert words[:3] == ["OMP_NUM_THREADS=1", "OMP_PLACES=cores",
                         "OMP_PROC_BIND=close"]
    threads = launch_words("threads", 1, 2, [])
    assert threads == ["OMP_NUM_THREADS=2", "OMP_PLACES=cores",
                       "OMP_PROC_BIND=close", "parkit", "threads",
                       "montecarlo", "--threads", "2"]
    srun = run_parkit(["launch", "--launcher", "srun", "--nodes", "2",
                       "--cores", "8", "--program", "parkit", "hybrid",
                       "stream", "4", "4"])
    assert shlex.split(srun.stdout)[3:] == [
        "SLURM_PMIX_FENCE=ring", "srun", "--nodes=2", "--ntasks=4",
        "--cpus-per-task=4", "--cpu-bind=cores", "--kill-on-bad-exit=1",
        "parkit", "hybrid", "stream", "--threads", "4"]


@pytest.mark.parametrize("arguments, complaint", [
    (["ranks", "montecarlo", "2", "2"], "ranks mode runs 1 thread per rank"),
    (["threads", "montecarlo", "2", "1"], "threads mode runs 1 rank"),
    (["hybrid", "nosuch", "1", "1"], "unknown kernel 'nosuch'"),
    (["hybrid", "stream", "0", "1"], "RANKS '0'"),
    (["--nodes", "2", "ranks", "stream", "3", "1"], "3 ranks do not divide"),
    (["--cores", "2", "ranks", "stream", "4", "1"], "pass --oversubscribe"),
    (["--align", "sideways", "ranks", "stream", "2", "1"], "--align 'sideways'"),
    (["ranks", "stream", "2", "1", "--threads", "2"], "not --threads"),
])
def test_launch_refuses_bad_shapes(arguments, complaint):
    result = run_parkit(["launch"] + arguments)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and complaint in result.stderr, \
        result.stderr


def test_splits_use_every_core():
    result = run_parkit(["splits", "--cores", "12", "--baseline",
                         "--format", "json"])
    import json
    splits = json.loads(result.stdout)["splits"]
    assert [(s["mode"], s["ranks"], s["threads"]) for s in splits] == [
        ("threads", 1, 1), ("threads", 1, 12), ("hybrid", 2, 6),
        ("hybrid", 3, 4), ("hybrid", 4, 3), ("hybrid", 6, 2), ("ranks", 12, 1)]
    assert splits[0]["baseline"] and not splits[1]["baseline"]


def test_a_fitting_launch_gives_no_warning(tmp_path):
    result = run_parkit(["hybrid"] + QUICK + ["--threads", "1", "--out",
                                              tmp_path],
                        launcher=mpirun(1, "--bind-to", "none"))
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr


PROGRESS = re.compile(r"parkit: (warm-up repetition|repetition) (\d+) of "
                      r"(\d+), ([\d.]+) s elapsed$")


def progress_lines(stderr):
    """(what, k, of, elapsed seconds) of each progress line on stderr."""
    found = [PROGRESS.match(l) for l in stderr.splitlines()]
    return [(m[1], int(m[2]), int(m[3]), float(m[4])) for m in found if m]


def test_progress_after_zero_reports_every_repetition(tmp_path):
    # PARKIT_PROGRESS_AFTER=0: a line after every repetition, whatever
    # the run's length, so the lines are known exactly.
    result = run_parkit(["threads"] + QUICK[:-2] + ["--reps", "3", "--warmup",
                                                    "2", "--out", tmp_path],
                        env={"PARKIT_PROGRESS_AFTER": "0"})
    assert result.returncode == 0, result.stderr
    lines = progress_lines(result.stderr)
    assert [line[:3] for line in lines] == [
        ("warm-up repetition", 1, 2), ("warm-up repetition", 2, 2),
        ("repetition", 1, 3), ("repetition", 2, 3), ("repetition", 3, 3)], \
        result.stderr
    elapsed = [line[3] for line in lines]
    assert elapsed == sorted(elapsed), result.stderr


def fastest_repetition(tmp_path, samples):
    """Seconds of the fastest of a few repetitions of montecarlo pi with
    `samples` on 1 thread, measured now, on this machine."""
    out = tmp_path / f"measure-{samples}.h5"
    result = run_parkit(["threads", "montecarlo", "--estimate", "pi",
                         "--samples", samples, "--threads", "1", "--reps",
                         "5", "--quiet", "--out", out])
    assert result.returncode == 0, result.stderr
    with h5py.File(out, "r") as f:
        return float(f.attrs["time_min"])


@pytest.mark.parametrize("delay", [None, "0.5"], ids=["default", "0.5"])
def test_progress_waits_for_the_delay_then_keeps_its_interval(tmp_path,
                                                              delay):
    """The first line comes once the run has lasted the delay (default 3 s),
    later ones at least min(delay, 1 s) apart. The run's length comes from
    a repetition measured here, so it lasts the delay plus about four
    intervals on any machine, however fast; a slower or busier one only
    makes it longer."""
    after = float(delay or 3)
    interval = min(after, 1.0)
    samples = 1000000
    fastest = fastest_repetition(tmp_path, samples)
    if fastest < 0.01:  # repetitions of 10 ms at least, however fast
        samples *= math.ceil(0.01 / fastest)
        fastest = fastest_repetition(tmp_path, samples)
    repetitions = math.ceil((after + 4 * interval) / fastest)
    result = run_parkit(["threads", "montecarlo", "--estimate", "pi",
                         "--samples", samples, "--threads", "1", "--reps",
                         repetitions, "--warmup", "0", "--out", tmp_path],
                        env={"PARKIT_PROGRESS_AFTER": delay}, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = progress_lines(result.stderr)
    assert len(lines) >= 2, result.stderr
    # Elapsed times are printed to 0.1 s: each may be 0.05 s below the
    # time it stands for.
    assert all(what == "repetition" and of == repetitions
               for what, _, of, _ in lines), result.stderr
    assert lines[0][3] >= after - 0.05, result.stderr
    for before, after_it in zip(lines, lines[1:]):
        assert after_it[1] > before[1], result.stderr
        assert after_it[3] - before[3] >= interval - 0.1, result.stderr


def test_quiet_runs_report_no_progress(tmp_path):
    result = run_parkit(["threads"] + QUICK + ["--quiet", "--out", tmp_path])
    assert result.stderr == ""
