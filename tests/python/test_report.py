"""`parkit report`: tables from result files, without MPI; the same numbers
as the Python summary (analysis/parkit_analysis) on the same files."""
import io
import os

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import run_parkit
from report_files import (BAD_FILES, UNFINISHED, make_campaign, real_files,
                          write_run)
from parkit_analysis import SUMMARY_COLUMNS, load_results, summary_table

# An MPI_Init would fail with this component missing: the report must not
# start MPI at all.
NO_MPI = {"OMPI_MCA_pml": "no_such_pml"}


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    directory = tmp_path_factory.mktemp("campaign")
    return str(directory), make_campaign(str(directory))


def report(*arguments):
    return run_parkit(["report", *arguments], env=NO_MPI)


def csv_report(*paths):
    result = report(*paths, "--format", "csv")
    assert result.returncode == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout), keep_default_na=False,
                       na_values=[""], float_precision="round_trip"), \
        result.stderr


def test_table_groups_runs_and_names_bad_files(campaign):
    directory, good = campaign
    result = report(directory)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"{len(good)} result files read, 2 skipped, 1 unfinished" in out
    assert ("matmul  block=32 broadcast=ibcast-test microkernel=auto n=211 "
            "variant=blocked") in out
    assert "montecarlo  class=S estimate=ep" in out
    rows = [l for l in out.splitlines() if l.startswith("  ") and "x" in l
            and l.split()[0] in ("threads", "ranks", "hybrid")]
    assert len(rows) == len(good)
    assert sum(l.rstrip().endswith("*") for l in rows) == 2  # one per group
    for bad in BAD_FILES:
        line = next(l for l in result.stderr.splitlines() if bad in l)
        assert line.startswith("parkit: warning: skipped ") and \
            "HDF5" in line, line
    assert UNFINISHED in result.stderr and "unfinished" in result.stderr
    assert ".h5.tmp" not in out


def test_markdown_has_one_row_per_run(campaign):
    directory, good = campaign
    result = report("--format=markdown", directory)
    assert result.returncode == 0, result.stderr
    rows = [l for l in result.stdout.splitlines() if l.startswith("| ")]
    assert len(rows) == len(good) + 1  # the header
    assert all(l.count(" | ") == rows[0].count(" | ") for l in rows)


def test_csv_agrees_with_the_python_summary(campaign):
    directory, good = campaign
    c_table, _ = csv_report(directory)
    assert list(c_table.columns) == SUMMARY_COLUMNS
    results = load_results(directory)
    python_table = summary_table(results)
    assert sorted(c_table["file"]) == sorted(python_table["file"]) \
        == sorted(good)
    assert {p for p, _ in results.skipped} == \
        {os.path.join(directory, b) for b in BAD_FILES}
    merged = c_table.merge(python_table, on="file", suffixes=("_c", "_py"))
    for column in SUMMARY_COLUMNS:
        if column == "file":
            continue
        c, py = merged[f"{column}_c"], merged[f"{column}_py"]
        if column in ("kernel", "problem", "mode", "rate_unit"):
            assert list(c) == list(py), column
        else:
            np.testing.assert_allclose(c.astype(float), py.astype(float),
                                       rtol=1e-12, err_msg=column)
    # The C order is the Python order.
    assert list(c_table["file"]) == list(python_table["file"])


def test_csv_times_come_from_the_timings(campaign):
    _, good = campaign
    table, _ = csv_report(*good[:4])
    for _, row in table.iterrows():
        with h5py.File(row["file"]) as f:
            timings = f["timings"][()]
            attributes = dict(f.attrs)
        slowest = timings.max(axis=1)
        assert row["time_median_s"] == pytest.approx(np.median(slowest),
                                                     rel=1e-12)
        assert row["time_median_s"] == pytest.approx(
            attributes["time_median"], rel=1e-12)
        assert row["imbalance"] == pytest.approx(attributes["imbalance"],
                                                 rel=1e-12)
        assert row["rate"] == attributes["rate"]


def test_speedup_and_efficiency_from_known_timings(tmp_path):
    parameters = {"n": (10, "elements"), "variant": ("plain", "1")}
    write_run(tmp_path / "one.h5", "synthetic", "threads",
              [[4.0], [2.0], [3.0]], parameters=parameters)
    write_run(tmp_path / "two.h5", "synthetic", "ranks",
              [[1.0, 2.0], [1.5, 1.0], [1.6, 1.4]], parameters=parameters)
    write_run(tmp_path / "three.h5", "synthetic", "ranks",
              [[2.0, 2.0, 2.0]] * 3, parameters=parameters)
    write_run(tmp_path / "four.h5", "synthetic", "threads",
              [[1.0], [1.0], [1.0]], threads=4, verified=0,
              parameters=parameters)
    # Another problem size: its own group, no one-core run.
    write_run(tmp_path / "other.h5", "synthetic", "ranks",
              [[1.0, 1.0]], parameters={"n": (20, "elements"),
                                        "variant": ("plain", "1")})
    c_table, _ = csv_report(str(tmp_path))
    python_table = summary_table(load_results(str(tmp_path)))
    for table in (c_table, python_table):
        rows = {os.path.basename(f): r for f, r in
                zip(table["file"], table.to_dict("records"))}
        one, two, four = rows["one.h5"], rows["two.h5"], rows["four.h5"]
        assert one["problem"] == "n=10 variant=plain"
        assert (one["time_median_s"], one["speedup"]) == (3.0, 1.0)
        assert (two["time_median_s"], two["time_min_s"],
                two["time_max_s"]) == (1.6, 1.5, 2.0)
        assert two["spread"] == pytest.approx(0.5 / 1.6)
        assert two["speedup"] == pytest.approx(3.0 / 1.6)
        assert two["efficiency"] == pytest.approx(3.0 / 1.6 / 2)
        assert two["imbalance"] == pytest.approx(4.4 / 4.1)
        assert four["speedup"] == pytest.approx(3.0)
        assert four["efficiency"] == pytest.approx(0.75)
        # four.h5 has the most cores but failed verification; three.h5 has
        # the most cores among the verified runs: the best split, though
        # two.h5 is faster on fewer cores.
        assert [bool(rows[name]["best"]) for name in
                ("one.h5", "two.h5", "three.h5", "four.h5")] == \
            [False, False, True, False]
        assert np.isnan(rows["other.h5"]["speedup"])
        assert bool(rows["other.h5"]["best"])


@pytest.mark.parametrize("arguments, words", [
    ([], ["needs at least one result file"]),
    (["--format", "xml", "."], ["'xml'", "table, csv, markdown"]),
    (["--format"], ["--format needs a value"]),
    (["--sort", "."], ["'--sort'", "--format"]),
    (["/no/such/results"], ["'/no/such/results'", "does not exist"]),
])
def test_bad_arguments_exit_2_with_one_line(arguments, words):
    result = report(*arguments)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("parkit: error: "), lines
    for word in words:
        assert word in lines[0]


def test_nothing_readable_exits_1(campaign):
    directory, _ = campaign
    result = report(os.path.join(directory, "broken"))
    assert result.returncode == 1
    assert result.stdout == ""
    assert "parkit: error: no readable result file" in result.stderr
    assert all(b in result.stderr for b in BAD_FILES)


def test_help_names_the_exit_statuses():
    result = report("--help")
    assert result.returncode == 0
    assert "exit status: 0" in result.stdout and "2 bad arguments" in \
        result.stdout


def test_a_file_named_directly_is_read(campaign):
    _, good = campaign
    result = report(good[0], "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 2 and good[0] in result.stdout


def test_real_files_untouched_by_the_report():
    """The report opens files read-only: the run matrix's files keep their
    modification times."""
    files = real_files()
    before = [os.stat(f).st_mtime_ns for f in files]
    assert report(*files).returncode == 0
    assert [os.stat(f).st_mtime_ns for f in files] == before
