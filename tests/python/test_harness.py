"""The harness definitions in harness/: the JUBE benchmark really runs (`jube
run` of harness/jube/parkit.xml, then `jube result`: a row per run of the
kernel x mode x split matrix, with verified and the rate of the run's
file), and the ReFrame check's patterns (harness/reframe/parkit_line.py,
importable without ReFrame, which Debian does not package) extract from
real parkit output the values the analysis package's parser reads, even
where a quoted value holds text that looks like a field."""
import ast
import csv
import importlib.util
import io
import os
import re
import shutil
import subprocess

import h5py
import pytest

from conftest import BINARY, SOURCE_DIR, mpirun, run_parkit
from parkit_analysis.key_values import find_line

HARNESS = os.path.join(SOURCE_DIR, "harness")


def load_patterns():
    path = os.path.join(HARNESS, "reframe", "parkit_line.py")
    spec = importlib.util.spec_from_file_location("parkit_line", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- ReFrame --------------------------------------------------------------


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Real stdout of parkit runs, one with quoted values that contain
    ' rate=999 verified=0 time_median=7' before the real fields."""
    base = tmp_path_factory.mktemp("reframe")
    decoy = base / 'x rate=999 verified=0 time_median=7 out_write_rate=1 "q'
    decoy.mkdir()
    runs = [
        (["threads", "montecarlo", "--estimate", "pi", "--samples", "20000",
          "--threads", "2"], None),
        (["ranks", "pingpong", "--max_bytes", "4096"], mpirun(2)),
        (["threads", "io", "--n", "4096", "--dir", decoy], None),
    ]
    texts = []
    for arguments, launcher in runs:
        result = run_parkit(arguments + ["--reps", "2", "--quiet", "--out",
                                         decoy / "run.h5"],
                            launcher=launcher)
        assert result.returncode == 0, result.stderr
        texts.append(result.stdout)
        (decoy / "run.h5").unlink()
    return texts


def test_reframe_patterns_extract_what_the_parser_reads(outputs):
    patterns = load_patterns()
    for stdout in outputs:
        fields = find_line(stdout)
        line = next(l for l in stdout.splitlines() if l.startswith("PARKIT "))
        assert patterns.keys(line) == list(fields)
        for key, value in fields.items():
            match = re.search(patterns.field(key,
                                             patterns.QUOTED_OR_BARE),
                              stdout, re.MULTILINE)
            assert match, key
            if not match.group("value").startswith('"'):
                assert match.group("value") == value, key
        for pattern, key in ((patterns.SANITY, "verified"),
                             (patterns.RATE, "rate"),
                             (patterns.RATE_UNIT, "rate_unit"),
                             (patterns.TIME_MEDIAN, "time_median")):
            found = re.findall(pattern, stdout, re.MULTILINE)
            assert found == [fields[key]], (key, found)
        headlines = [k for k in fields
                     if k.startswith(patterns.HEADLINE_PREFIX)]
        assert headlines, fields
        for key in headlines:
            value = re.search(patterns.field(key), stdout,
                              re.MULTILINE).group("value")
            assert float(value) == float(fields[key])


def test_naive_patterns_would_be_fooled_where_these_are_not(outputs):
    stdout = outputs[-1]  # io, whose --dir holds the decoy
    assert re.search(r" verified=(\S+)", stdout).group(1) == "0"
    assert re.search(load_patterns().SANITY, stdout,
                     re.MULTILINE).group("value") == "1"


def test_the_reframe_check_uses_these_patterns():
    path = os.path.join(HARNESS, "reframe", "parkit_checks.py")
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    assert [c.name for c in classes] == ["parkit_check"]
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
            and isinstance(n.value, ast.Name) and n.value.id == "parkit_line"}
    assert {"SANITY", "RATE", "RATE_UNIT", "TIME_MEDIAN", "field",
            "keys"} <= used, used
    methods = {f.name for f in classes[0].body
               if isinstance(f, ast.FunctionDef)}
    assert {"set_launch", "verified", "set_performance_variables"} <= methods


# ---- JUBE -----------------------------------------------------------------


@pytest.fixture(scope="module")
def jube_results(tmp_path_factory):
    if shutil.which("jube") is None:
        pytest.skip("JUBE is not installed (apt-get install jube)")
    work = tmp_path_factory.mktemp("jube")
    environment = dict(os.environ, PARKIT_BINARY=BINARY)
    run = subprocess.run(["jube", "run", "--hide-animation", "-e", "-o",
                          str(work / "runs"),
                          os.path.join(HARNESS, "jube", "parkit.xml")],
                         capture_output=True, text=True, env=environment,
                         cwd=work, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = subprocess.run(["jube", "result", "-a", "-s", "csv",
                             str(work / "runs")], capture_output=True,
                            text=True, cwd=work, timeout=120)
    assert result.returncode == 0, result.stderr
    table = result.stdout[result.stdout.index("kernel,"):]
    return list(csv.DictReader(io.StringIO(table)))


def test_jube_runs_the_matrix_and_tabulates_every_run(jube_results):
    cores = len(os.sched_getaffinity(0))  # what `nproc` says
    splits = {(1, 1), (1, cores), (cores, 1)}
    expected = {(kernel, mode, ranks, threads)
                for kernel in ("montecarlo", "stream")
                for mode in ("threads", "ranks", "hybrid")
                for ranks, threads in splits
                if (mode == "threads" and ranks == 1)
                or (mode == "ranks" and threads == 1)
                or (mode == "hybrid" and (ranks, threads) in
                    {(1, 1), (1, cores) if cores < 4 else
                     (cores // 2, 2)})}
    rows = {(r["kernel"], r["mode"], int(r["ranks"]), int(r["threads"]))
            for r in jube_results}
    assert rows == expected and len(jube_results) == len(expected)


def test_jube_rows_hold_each_run_s_verified_and_rate(jube_results):
    for row in jube_results:
        assert row["verified"] == "1", row
        with h5py.File(os.path.join(row["directory"], "run.h5"), "r") as f:
            assert f.attrs["verified"] == 1
            assert (f.attrs["kernel"], f.attrs["mode"]) == \
                (row["kernel"], row["mode"])
            assert (f.attrs["ranks"], f.attrs["threads"]) == \
                (int(row["ranks"]), int(row["threads"]))
            assert f.attrs["rate_unit"] == row["rate_unit"]
            assert float(row["rate"]) == pytest.approx(f.attrs["rate"],
                                                       rel=1e-3)
