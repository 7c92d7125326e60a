"""bench/modes.sh at tiny sizes: its table lists matmul and montecarlo in
every mode, each run verified, with its files beside the table; bad
arguments are refused with one error line. No timing checks."""
import os
import subprocess

import pytest

from conftest import BINARY, MPIEXEC, SOURCE_DIR

SCRIPT = os.path.join(SOURCE_DIR, "bench", "modes.sh")
TINY = ["--parkit", BINARY, "--mpirun", MPIEXEC, "--cores", "2",
        "--n", "48", "--class", "S", "--reps", "1", "--warmup", "0"]


def modes(arguments, cwd):
    return subprocess.run(["bash", SCRIPT] + [str(a) for a in arguments],
                          capture_output=True, text=True, timeout=300,
                          cwd=cwd)


def test_table_lists_every_kernel_in_every_mode(tmp_path):
    out = tmp_path / "campaign"
    result = modes(TINY + ["--out", out], tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) >= 8 and words[0] in ("matmul", "montecarlo"):
            rows[(words[0], words[1])] = words
    for kernel in ("matmul", "montecarlo"):
        for mode in ("threads", "ranks", "hybrid"):
            row = rows.get((kernel, mode))
            assert row, f"no {kernel} {mode} row in:\n{result.stdout}"
            assert row[-1] == "yes", row
            assert row[-2].endswith("x"), row  # ratio to threads
        assert rows[(kernel, "threads")][-2] == "1.00x"
        assert rows[(kernel, "ranks")][2] == "2x1"
        assert rows[(kernel, "hybrid")][2] == "1x2"
    assert len(rows) == 6
    files = sorted(os.listdir(out))
    assert len([f for f in files if f.endswith(".h5")]) == 6, files
    assert "table.txt" in files and "runs.txt" in files
    with open(out / "runs.txt") as runs:
        assert sum(1 for line in runs if line.startswith("PARKIT ")) == 6


@pytest.mark.parametrize("arguments, complaint", [
    (["--cores", "0"], "--cores '0'"),
    (["--hybrid", "3x1"], "--hybrid '3x1'"),
    (["--class", "Z"], "--class 'Z'"),
    (["--n"], "--n needs a value"),
    (["--bogus", "1"], "unknown argument '--bogus'"),
    (["--parkit", "/nonexistent/parkit"], "--parkit '/nonexistent/parkit'"),
])
def test_bad_arguments_are_refused(tmp_path, arguments, complaint):
    out = tmp_path / "campaign"
    result = modes(TINY + ["--out", out] + arguments, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("modes: error: "), \
        result.stderr
    assert complaint in lines[0]
    assert not out.exists()
