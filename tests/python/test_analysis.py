"""analysis/: the loader's DataFrames, the figures (probe overheads from
files in the documented layout), and the HTML report opened in headless
Chromium."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import pytest

from conftest import RESULTS, SOURCE_DIR
from report_files import BAD_FILES, UNFINISHED, make_campaign, write_run
from parkit_analysis import load_results, summary_table

README = os.path.join(SOURCE_DIR, "results", "README.md")
REPORT = os.path.join(SOURCE_DIR, "analysis", "report.py")
# Screenshots and pages stay next to the test results for people to look at.
OUTPUT = os.path.join(os.path.dirname(RESULTS), "report-test-output")


def documented_columns():
    """The `runs` columns listed in results/README.md's loader section,
    and the root attribute names of the layout table."""
    text = open(README, encoding="utf-8").read()
    loader = text.split("## Loading runs with pandas", 1)[1]
    table = re.findall(r"^\| `([a-z_<>]+)` \|", loader, re.MULTILINE)
    root = text.split("## Root attributes", 1)[1].split("## Datasets")[0]
    attributes = re.findall(r"^\| ([a-z_]+) \|", root, re.MULTILINE)
    return table, [a for a in attributes if a != "name"]


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("campaign"))
    return directory, make_campaign(directory)


def test_runs_has_one_row_per_run_and_the_documented_columns():
    results = load_results(RESULTS)
    files = [os.path.join(d, n) for d, _, names in os.walk(RESULTS)
             for n in names if n.endswith(".h5")]
    assert len(results.runs) == len(files) and not results.skipped
    assert sorted(results.runs["file"]) == sorted(files)
    documented, attributes = documented_columns()
    assert len(documented) >= 6 and len(attributes) > 20
    for column in documented + attributes:
        if "<" in column:  # out_<name>, provenance_<name>
            prefix = column.split("<")[0]
            assert any(c.startswith(prefix) for c in results.runs), column
        else:
            assert column in results.runs, column
    assert "n" in results.runs and "out_c_sum" in results.runs
    assert results.runs["provenance_cpu_model"].notna().all()
    expected = sum(int(r * p) for r, p in
                   zip(results.runs["repetitions"], results.runs["ranks"]))
    assert len(results.timings) == expected
    one = results.runs.iloc[0]
    rows = results.timings[results.timings["file"] == one["file"]]
    with h5py.File(one["file"]) as f:
        timings = f["timings"][()]
    np.testing.assert_array_equal(
        rows.pivot(index="repetition", columns="rank", values="seconds")
        .to_numpy(), timings)


def test_problem_groups_match_the_kernel_options():
    runs = load_results(os.path.join(RESULTS, "matmul")).runs
    assert set(runs["problem"]) == {
        "block=32 broadcast=ibcast-test microkernel=auto n=211 variant=blocked"}
    totals = runs["peak_resident_bytes_total"]
    assert (totals >= runs["peak_resident_bytes_max"]).all() and \
        (runs["peak_resident_bytes_max"] > 2**20).all()


def test_figures_from_real_runs_and_no_probe_figures_without_probes():
    from parkit_analysis import plots
    results = load_results([os.path.join(RESULTS, c)
                            for c in ("matmul", "montecarlo-ep")])
    table = summary_table(results)
    assert plots.overheads(results, table) == []
    titles = [t for t, _ in plots.all_figures(results, table)]
    assert any(t.startswith("Strong scaling: matmul") for t in titles)
    assert any(t.startswith("Strong scaling: montecarlo") for t in titles)
    assert "Threads vs ranks vs hybrid at the full machine" in titles
    assert any(t.startswith("Roofline") for t in titles)  # matmul counts
    assert any(t.startswith("Memory footprint per mode") for t in titles)
    plots.plt.close("all")


def write_probes(directory):
    """Probe files in the documented layout, with the outputs the probe
    kernels record (only some of them: absent ones must be skipped)."""
    sizes = 2.0 ** np.arange(0, 21, 4)
    write_run(os.path.join(directory, "pingpong.h5"), "pingpong", "ranks",
              [[1.0, 1.0]], outputs={
                  "message_bytes": (sizes, "bytes"),
                  "shm_latency": (0.3 + sizes / 1e4, "us"),
                  "mpi_latency": (0.9 + sizes / 5e3, "us"),
                  "mpi_bandwidth": (sizes / (0.9e3 + sizes / 5), "GB/s")})
    workers = np.array([1.0, 2, 4, 8])
    write_run(os.path.join(directory, "spawn.h5"), "spawn", "threads",
              [[1.0]], outputs={"workers": (workers, "1"),
                                "openmp_start_join": (workers * 2, "us"),
                                "fork_exec_wait": (workers * 400, "us")})
    for mode, ranks, threads in (("threads", 1, 2), ("ranks", 2, 1)):
        write_run(os.path.join(directory, f"footprint_{mode}.h5"), "footprint",
                  mode, [[1.0] * ranks], threads=threads, outputs={
                      "problem_bytes": (2**26, "B"),
                      "baseline_rss": (2**22 * ranks, "B"),
                      "job_rss": (2**26 + 2**22 * ranks, "B"),
                      "rank_rss": (np.full(ranks, 2**25), "B")})
    for threads in (1, 2):
        write_run(os.path.join(directory, f"sync{threads}.h5"), "sync",
                  "threads", [[1.0]], threads=threads,
                  outputs={"thread_barrier": (0.1 * threads, "us"),
                           "thread_reduction": (0.2 * threads, "us")})


def test_probe_overheads_are_plotted_when_present(tmp_path):
    from parkit_analysis import plots
    write_probes(str(tmp_path))
    results = load_results(str(tmp_path))
    titles = [t for t, _ in plots.overheads(results, summary_table(results))]
    assert titles == ["Message latency: shared memory vs MPI",
                      "Message bandwidth: shared memory vs MPI",
                      "Start-up cost of threads and processes",
                      "Synchronisation cost",
                      "Memory footprint probe: the same problem as threads "
                      "and ranks"]
    plots.plt.close("all")


def chromium(*arguments):
    """Runs headless Chromium; returns (stdout, stderr)."""
    profile = tempfile.mkdtemp(prefix="parkit-chromium-")
    try:
        result = subprocess.run(
            [shutil.which("chromium"), "--headless", "--no-sandbox",
             "--disable-gpu", f"--user-data-dir={profile}",
             "--enable-logging=stderr", "--v=0", *arguments],
            capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return result.stdout, result.stderr


def page_check(page):
    """(the #page-check counts, Chromium's console lines) of a page."""
    dom, log = chromium("--dump-dom", f"file://{page}")
    check = re.search(r'<p id="page-check"([^>]*)>', dom)
    assert check, dom[:2000]
    counts = {k: int(v) for k, v in
              re.findall(r'data-([a-z-]+)="(\d+)"', check.group(1))}
    return counts, [l for l in log.splitlines() if "CONSOLE" in l]


def test_html_report_loads_in_chromium(campaign):
    directory, good = campaign
    write_probes(directory)
    os.makedirs(OUTPUT, exist_ok=True)
    page = os.path.join(OUTPUT, "report.html")
    result = subprocess.run([sys.executable, REPORT, directory, "-o", page],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == page
    text = open(page, encoding="utf-8").read()
    for bad in BAD_FILES + (UNFINISHED,):
        assert bad in text, bad
        if bad != UNFINISHED:
            assert bad in result.stderr
    assert "Synthetic CPU" in text and "Message latency" in text
    assert len(re.findall(r"<img ", text)) >= 8
    assert "http://" not in text and "https://" not in text  # self-contained
    for path in good:
        assert path in text

    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed: the page was written but "
                    "not opened (apt-get install chromium)")
    counts, console = page_check(page)
    assert counts["images"] == counts["images-ok"] > 0, counts
    assert counts["errors"] == 0 and not console, (counts, console)

    # The check sees a broken figure and a script error when there are.
    broken = os.path.join(OUTPUT, "broken.html")
    with open(broken, "w", encoding="utf-8") as damaged:
        damaged.write(text.replace(
            "<h2>Figures</h2>", "<h2>Figures</h2><img alt='broken' "
            "src='data:image/png;base64,AAAA'><script>no_such_function()"
            "</script>"))
    counts, console = page_check(broken)
    assert counts["images-ok"] == counts["images"] - 1, counts
    assert counts["errors"] >= 1 and any("no_such_function" in line
                                         for line in console), console
    screenshot = os.path.join(OUTPUT, "report.png")
    if os.path.exists(screenshot):
        os.remove(screenshot)
    chromium(f"--screenshot={screenshot}", "--window-size=1200,2400",
             f"file://{page}")
    assert os.path.getsize(screenshot) > 10000
    print(f"report page: {page}\nscreenshot: {screenshot}")


def test_report_command_refuses_a_missing_path():
    result = subprocess.run([sys.executable, REPORT, "/no/such/results"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "'/no/such/results' does not exist" in result.stderr


def test_report_command_with_nothing_readable_exits_1(campaign):
    directory, _ = campaign
    result = subprocess.run(
        [sys.executable, REPORT, os.path.join(directory, "broken"), "-o",
         os.path.join(directory, "none.html")],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "no readable result file" in result.stderr
    assert not os.path.exists(os.path.join(directory, "none.html"))
