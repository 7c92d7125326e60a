"""parkit's JSON: `parkit list --format json` and `parkit report --format
json` validate against the schemas in schema/ (and documents that break
them do not); pandas reads the report JSON into the same table as the csv
report and the Python summary; every run of the matrix has the rate unit
its kernel's catalogue entry declares; headline flags fit the outputs'
shapes."""
import copy
import glob
import json
import os

import h5py
import numpy as np
import pandas as pd
import pytest

from conftest import CONFIG_KERNEL, RESULTS, SOURCE_DIR, catalogue, run_parkit
from report_files import make_campaign
from parkit_analysis import SUMMARY_COLUMNS, load_results, summary_table
from parkit_analysis.catalogue import condition_holds

jsonschema = pytest.importorskip(
    "jsonschema", reason="python3-jsonschema is not installed "
    "(scripts/install-deps.sh installs it for the tests)")


def validator(name):
    with open(os.path.join(SOURCE_DIR, "schema", f"{name}.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def report_json(*paths):
    result = run_parkit(["report", "--format", "json", *paths],
                        env={"OMPI_MCA_pml": "no_such_pml"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def test_catalogue_matches_its_schema():
    validator("catalogue").validate(catalogue())


@pytest.mark.parametrize("breakage", [
    lambda c: c["kernels"][0].pop("rate_units"),
    lambda c: c["kernels"][0]["rate_units"].clear(),
    lambda c: c["kernels"][0]["outputs"][0].update(headline="middle"),
    lambda c: c["kernels"][0]["options"][0].update(type="float"),
    lambda c: c["common_options"][0].pop("min"),
    lambda c: c.update(catalogue_version=2),
])
def test_a_broken_catalogue_does_not_validate(breakage):
    broken = copy.deepcopy(catalogue())
    breakage(broken)
    assert not validator("catalogue").is_valid(broken)


def test_headline_flags_fit_the_output_shapes():
    for kernel in catalogue()["kernels"]:
        for output in kernel["outputs"]:
            if output["headline"] == "value":
                assert output["shape"] is None, (kernel["name"], output)
            elif output["headline"] in ("first", "last"):
                assert output["shape"] and "," not in output["shape"], \
                    (kernel["name"], output)


def matrix_files():
    files = sorted(glob.glob(os.path.join(RESULTS, "*", "*.h5")))
    assert files, "the run matrix left no files"
    return files


def test_every_run_has_the_rate_unit_its_kernel_declares():
    kernels = {k["name"]: k for k in catalogue()["kernels"]}
    checked = set()
    for path in matrix_files():
        with h5py.File(path, "r") as f:
            attrs = {k: (v.decode() if isinstance(v, bytes) else v)
                     for k, v in f.attrs.items()}
        kernel = kernels[attrs["kernel"]]
        units = [entry["unit"] for entry in kernel["rate_units"]
                 if condition_holds(entry["when"], attrs, {})]
        assert units == [attrs["rate_unit"]], (path, units)
        checked.add(kernel["name"])
    assert checked == set(CONFIG_KERNEL.values())


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("campaign"))
    return directory, make_campaign(directory)


def test_report_json_matches_its_schema(campaign):
    directory, good = campaign
    document, stderr = report_json(directory)
    validator("report").validate(document)
    assert len(document["runs"]) == len(good)
    assert "skipped" in stderr and "unfinished" in stderr


def test_a_broken_report_does_not_validate(campaign):
    document, _ = report_json(campaign[0])
    for breakage in (lambda d: d["runs"][0].pop("rate"),
                     lambda d: d["runs"][0].update(verified="yes"),
                     lambda d: d["runs"][0].update(extra=1)):
        broken = copy.deepcopy(document)
        breakage(broken)
        assert not validator("report").is_valid(broken)


def test_pandas_reads_the_report_json_as_the_summary_table(campaign):
    directory, _ = campaign
    document, _ = report_json(directory)
    table = pd.DataFrame(document["runs"])
    assert list(table.columns) == SUMMARY_COLUMNS
    summary = summary_table(load_results(directory))
    assert list(table["file"]) == list(summary["file"])
    for column in SUMMARY_COLUMNS:
        if column in ("kernel", "problem", "mode", "rate_unit", "file"):
            assert list(table[column]) == list(summary[column]), column
        else:
            np.testing.assert_allclose(
                table[column].astype(float), summary[column].astype(float),
                rtol=1e-12, err_msg=column)


def test_report_json_turns_missing_figures_into_null(tmp_path):
    # A single 2-thread run: no one-core run to compare with.
    result = run_parkit(["threads", "montecarlo", "--estimate", "pi",
                         "--samples", "20000", "--threads", "2", "--reps",
                         "2", "--quiet", "--out", tmp_path])
    assert result.returncode == 0, result.stderr
    document, _ = report_json(str(tmp_path))
    validator("report").validate(document)
    (run,) = document["runs"]
    assert run["speedup"] is None and run["efficiency"] is None
    assert run["best"] == 1 and run["verified"] == 1


def test_report_json_names_a_path_that_is_no_utf8(tmp_path):
    source = matrix_files()[0]
    directory = os.path.join(os.fsencode(tmp_path), b"raw\xff")
    os.makedirs(directory)
    target = os.path.join(directory, b"run.h5")
    with open(source, "rb") as f, open(target, "wb") as copy_file:
        copy_file.write(f.read())
    document, _ = report_json(str(tmp_path))
    validator("report").validate(document)
    assert document["runs"][0]["file"].endswith("raw\ufffd/run.h5")
