"""Every result file the test runs produced matches results/README.md: the
tables there are parsed, so the document and the files cannot drift apart."""
import glob
import os
import re
import shutil
import subprocess

import h5py
import numpy as np
import pytest

from conftest import BINARY, RESULTS, SOURCE_DIR, catalogue
from parkit_analysis.catalogue import (condition_holds, generated_region,
                                       generated_text, kernel_entry)

README = os.path.join(SOURCE_DIR, "results", "README.md")
NAME_PATTERN = re.compile(r"^[a-z]+_(threads|ranks|hybrid)_p\d+_t\d+")


def markdown_tables(path):
    """{section heading: [table, ...]}, each table a list of row dicts."""
    sections, heading, table = {}, None, None
    with open(path, encoding="utf-8") as text:
        for line in text:
            line = line.rstrip("\n")
            if line.startswith("## "):
                heading, table = line[3:].strip(), None
                sections[heading] = []
            elif line.startswith("|") and heading:
                cells = [c.strip() for c in line.strip("|").split("|")]
                if table is None:
                    table = {"header": cells, "rows": []}
                    sections[heading].append(table)
                elif not all(set(c) <= set("-: ") for c in cells):
                    table["rows"].append(dict(zip(table["header"], cells)))
            else:
                table = None
    return {h: [t["rows"] for t in tables] for h, tables in sections.items()}


TABLES = markdown_tables(README)
ROOT = TABLES["Root attributes"][0]
DATASETS = TABLES["Datasets"][0]
CATALOGUE = catalogue() if BINARY and os.path.exists(BINARY) else None
PROVENANCE = TABLES["Provenance attributes"][0]
FILES = sorted(glob.glob(os.path.join(RESULTS, "**", "*.h5"), recursive=True))


def kernel_options(kernel):
    """Option names from `parkit help KERNEL` (the option tables)."""
    text = subprocess.run([BINARY, "help", kernel], capture_output=True,
                          text=True, check=True).stdout
    kernel_part = text.split("options of every kernel:")[0]
    return re.findall(r"^  --([a-z0-9_]+)", kernel_part, re.MULTILINE)


def check_type(value, expected, where):
    if expected == "str":
        assert isinstance(value, str), f"{where}: {value!r} is not a str"
    elif expected in ("int64", "int32", "float64"):
        assert np.asarray(value).dtype == np.dtype(expected), \
            f"{where}: {np.asarray(value).dtype} is not {expected}"
    else:
        raise AssertionError(f"README type {expected!r} unknown ({where})")


def declared_outputs(attrs, outputs):
    """(outputs the descriptor says this run records, outputs it may
    record) from the catalogue, the conditions evaluated on the file."""
    due, optional = set(), set()
    for output in kernel_entry(CATALOGUE, attrs["kernel"])["outputs"]:
        holds = condition_holds(output["when"], attrs, outputs)
        (optional if holds is None else due if holds else set()).add(
            output["name"])
    return due, optional


def test_generated_tables_match_the_descriptors():
    with open(README, encoding="utf-8") as text:
        region = generated_region(text.read())
    assert region == generated_text(CATALOGUE), \
        "results/README.md's generated tables differ from the kernels' " \
        "descriptors: regenerate them (python3 -m parkit_analysis.catalogue " \
        "--parkit build/parkit --write results/README.md, from analysis/)"


def test_tables_were_found():
    assert len(ROOT) > 20 and len(DATASETS) >= 8 and len(PROVENANCE) >= 10


def test_the_runs_left_files():
    assert len(FILES) >= 24, f"only {len(FILES)} result files under {RESULTS}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: os.path.relpath(p, RESULTS))
def test_file_matches_readme(path):
    check_file_against_readme(path)


def check_file_against_readme(path):
    """Asserts that the result file at `path` has exactly the layout of
    results/README.md (also used by test_multinode.py)."""
    with h5py.File(path, "r") as f:
        attrs = dict(f.attrs)
        for row in ROOT:
            assert row["name"] in attrs, f"root attribute {row['name']} missing"
            check_type(attrs[row["name"]], row["type"], row["name"])
        assert attrs["layout_version"] == 1

        options = kernel_options(attrs["kernel"])
        assert options, attrs["kernel"]
        for option in options:
            assert option in attrs and f"{option}_unit" in attrs, option
        extra = set(attrs) - {r["name"] for r in ROOT} - set(options) \
            - {f"{o}_unit" for o in options}
        assert not extra, f"undocumented root attributes {sorted(extra)}"

        shapes = {"repetitions_completed": attrs["repetitions_completed"],
                  "ranks": attrs["ranks"],
                  "threads": attrs["threads"],
                  "nodes": attrs["nodes"]}
        seen = set()
        f.visititems(lambda name, obj: seen.add(name)
                     if isinstance(obj, h5py.Dataset) else None)
        for row in DATASETS:
            name = row["path"]
            if "&lt;" in name:
                continue  # a pattern (phases/<phase>): checked below
            assert name in f, f"dataset {name} missing"
            dataset = f[name]
            if row["type"] == "string":
                assert dataset.dtype.kind == "S", name
            else:
                assert dataset.dtype == np.dtype(row["type"]), name
            dims = [d.strip() for d in row["shape"].split(",")]
            expected = tuple(int(d) if d.isdigit()
                             else shapes.get(d, dataset.shape[i])
                             for i, d in enumerate(dims))
            assert dataset.shape == expected, (name, dataset.shape, expected)
            if row["units"]:
                assert dataset.attrs["units"] == row["units"], name
            assert dataset.attrs["description"], name
        undocumented = {n for n in seen
                        if not n.startswith(("outputs/", "phases/"))} \
            - {r["path"] for r in DATASETS}
        assert not undocumented, f"undocumented datasets {undocumented}"

        kernel = kernel_entry(CATALOGUE, attrs["kernel"])
        assert attrs["kernel_kind"] == kernel["kind"]
        declared = {o["name"]: o for o in kernel["outputs"]}
        recorded = {name: d[()] for name, d in f["outputs"].items()}
        due, optional = declared_outputs(attrs, recorded)
        assert due <= set(recorded) <= due | optional, sorted(recorded)
        for name in recorded:
            dataset_attrs = f["outputs"][name].attrs
            assert dataset_attrs["units"] == declared[name]["unit"], name
            assert dataset_attrs["description"] == \
                (declared[name]["description"] or ""), name
            assert dataset_attrs["agreement"] == declared[name]["agreement"]
        phases = [p["name"] for p in kernel["phases"]]
        assert sorted(f["phases"].keys() if "phases" in f else []) == \
            sorted(phases)
        for phase in phases:
            dataset = f["phases"][phase]
            assert dataset.shape == f["timings"].shape, phase
            assert dataset.attrs["units"] == "s"
            assert np.all(dataset[:] >= 0) and np.all(
                dataset[:] <= f["timings"][:] * (1 + 1e-9)), phase
            assert dataset.attrs["time_median"] == pytest.approx(
                np.median(dataset[:].max(axis=1)))

        for row in PROVENANCE:
            assert row["name"] in f["provenance"].attrs, row["name"]
            check_type(f["provenance"].attrs[row["name"]], row["type"],
                       "provenance/" + row["name"])

        timings = f["timings"][:]
        assert np.all(np.isfinite(timings)) and np.all(timings > 0)
        assert attrs["time_min"] <= attrs["time_median"] <= attrs["time_max"]
        assert attrs["time_min"] == pytest.approx(timings.max(axis=1).min())
        assert attrs["imbalance"] >= 1.0
        assert all(h for h in f["ranks/host"][:])
        assert all(c for c in f["ranks/thread_cpuset"][:].ravel())
        nodes = f["ranks/node"][:]
        assert set(nodes) == set(range(attrs["nodes"]))
        ranks_on_node = f["nodes/ranks"][:]
        assert ranks_on_node.sum() == attrs["ranks"]
        assert ranks_on_node.max() == attrs["ranks_per_node"]
        assert list(ranks_on_node) == [int(np.sum(nodes == n))
                                       for n in range(attrs["nodes"])]
        # Each rank's host is its node's; nodes are numbered by lowest rank.
        assert list(f["nodes/host"][:][nodes]) == list(f["ranks/host"][:])
        assert list(np.unique(nodes, return_index=True)[1]) == \
            sorted(np.unique(nodes, return_index=True)[1])
        assert np.all(f["nodes/cores"][:] >= 1)
        assert attrs["workers"] == attrs["ranks"] * attrs["threads"]
        assert attrs["started_utc"] <= attrs["finished_utc"]
        assert attrs["kernel"] in f["provenance"].attrs["command_line"]


@pytest.mark.skipif(shutil.which("h5dump") is None, reason="h5dump not installed")
def test_h5dump_reads_a_result_file():
    assert FILES
    dump = subprocess.run(["h5dump", "-A", FILES[0]], capture_output=True,
                          text=True)
    assert dump.returncode == 0, dump.stderr
    assert 'ATTRIBUTE "kernel"' in dump.stdout


def test_readme_pandas_snippet_loads_one_row_per_run():
    pytest.importorskip("pandas")
    with open(README, encoding="utf-8") as text:
        snippet = text.read().split("```python\n", 1)[1].split("```", 1)[0]
    # The snippet runs from the source directory on results/: here on the
    # test results.
    assert '"analysis"' in snippet and 'load_results("results")' in snippet
    snippet = snippet.replace('"analysis"', repr(os.path.join(SOURCE_DIR,
                                                          "analysis")))
    snippet = snippet.replace('load_results("results")',
                              f"load_results({RESULTS!r})")
    namespace = {}
    exec(compile(snippet, README, "exec"), namespace)
    runs = namespace["runs"]
    assert len(runs) == len(FILES)
    for column in ("kernel", "mode", "ranks", "threads", "time_median", "rate",
                   "rate_unit", "verified", "n", "n_unit", "problem", "file"):
        assert column in runs.columns, column
    assert set(runs["mode"]) == {"threads", "ranks", "hybrid"}
    assert len(namespace["summary"]) == len(FILES)
    assert len(namespace["timings"]) == sum(runs.repetitions * runs.ranks)


def test_no_kernel_option_is_named_like_a_root_attribute():
    """Kernel options become root attributes (and `<name>_unit`): a name
    that is already a root attribute (`workers`, `seed`, `rate`, ...) would
    make the writer fail. Caught here for every kernel, at once."""
    listing = subprocess.run([BINARY, "list"], capture_output=True, text=True,
                             check=True).stdout
    kernels = re.findall(r"^([a-z]+)\s", listing.split("Every kernel")[0],
                         re.MULTILINE)
    root = {row["name"] for row in ROOT}
    for kernel in kernels:
        for option in kernel_options(kernel):
            for name in (option, f"{option}_unit"):
                assert name not in root, \
                    f"{kernel} --{option}: '{name}' is a root attribute"
