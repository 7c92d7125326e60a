"""The main job (jobs/compare_modes.sh, README command 1): every split of
the cores, then the answer: per kernel the best mode and split and how much
slower each other mode is, and the overhead figures of the probes."""
import os
import re
import subprocess

from conftest import BINARY, SOURCE_DIR


def test_main_job_prints_the_answer(tmp_path):
    out = tmp_path / "campaign"
    result = subprocess.run(
        ["bash", os.path.join(SOURCE_DIR, "jobs", "compare_modes.sh"),
         "--parkit", BINARY, "--out", str(out), "--cores", "2", "--reps", "1",
         "--kernels", "matmul sync pingpong"],
        capture_output=True, text=True, timeout=600,
        env=dict(os.environ, OMPI_MCA_pml="ob1"))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    # matmul: 1x1 baseline + threads 1x2 + ranks 2x1 + hybrid 1x2; the
    # probes: the three splits only.
    assert len(list(out.glob("*.h5"))) == 4 + 3 + 3, result.stderr
    row = next(l for l in text.splitlines() if l.startswith("matmul "))
    # "matmul  MODE SPLIT  TIME  threads-cell  ranks-cell  hybrid-cell"
    best_mode = row.split()[1]
    cells = re.findall(r"(best|\+\d+%) \((1x2|2x1)\)", row)
    assert len(cells) == 3, row
    modes = dict(zip(("threads", "ranks", "hybrid"), cells))
    assert modes[best_mode][0] == "best", row
    assert sum(cell[0] == "best" for cell in cells) == 1, row
    assert re.search(r"barrier: +threads \(2 workers\) [\d.]+ us \| "
                     r"ranks \(2 workers\) [\d.]+ us", text), text
    assert re.search(r"message 8 B, latency: +threads \(shared memory\) "
                     r"[\d.]+ us \| ranks \(MPI\) [\d.]+ us", text), text
    assert re.search(r"message 1 MiB, bandwidth: .*GB/s \| ranks \(MPI\) "
                     r"[\d.]+ GB/s", text), text
    report = (out / "report.txt").read_text()
    assert "matmul" in report and "pingpong" in report
