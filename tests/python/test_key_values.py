"""The PARKIT key=value line (README.md, "The key=value line"): whatever the
values hold (spaces, '=', quotes, backslashes, newlines, tabs, UTF-8, bytes
that are no UTF-8), a run prints exactly one line, the parser of the
analysis package gives back the very values (the result file's path, which
must exist; a text option), writing the fields again gives the same line,
and the headline outputs equal the file's to the last bit."""
import os
import re
import subprocess

import h5py
import pytest

from conftest import BINARY, mpirun, run_parkit
from parkit_analysis.key_values import (find_line, format_line, format_value,
                                        parse_line)

QUICK = ["montecarlo", "--estimate", "pi", "--samples", "20000", "--reps",
         "2", "--warmup", "0", "--quiet"]
AWKWARD = ["with space", "equals=sign", 'double"quote', "back\\slash",
           "new\nline", "tab\tbed", "ünïcødé ✓", "single'quote", "end "]


def parkit_bytes(arguments, **kwargs):
    """Runs parkit with bytes arguments (paths that are no UTF-8); stdout
    decoded as the line promises: UTF-8."""
    done = subprocess.run([os.fsencode(BINARY)] + list(arguments),
                          capture_output=True, **kwargs)
    return done.returncode, done.stdout.decode("utf-8"), \
        done.stderr.decode("utf-8", "replace")


def assert_one_clean_line(stdout):
    lines = [l for l in stdout.split("\n") if l]
    assert len(lines) == 1 and lines[0].startswith("PARKIT "), stdout
    assert not re.search(r"[\x00-\x1f\x7f]", lines[0]), lines[0]
    return lines[0]


@pytest.mark.parametrize("name", AWKWARD)
def test_an_awkward_output_path_round_trips(tmp_path, name):
    directory = tmp_path / name
    result = run_parkit(["threads", *QUICK, "--threads", "1", "--out",
                         directory / f"{name}.h5"])
    assert result.returncode == 0, result.stderr
    line = assert_one_clean_line(result.stdout)
    fields = parse_line(line)
    assert fields["file"] == str(directory / f"{name}.h5")
    assert os.path.isfile(fields["file"])
    assert format_line(fields) == line
    with h5py.File(fields["file"], "r") as f:
        assert f.attrs["verified"] == int(fields["verified"]) == 1
        assert f.attrs["rate"] == pytest.approx(float(fields["rate"]),
                                                rel=1e-6)


def test_a_path_that_is_no_utf8_is_escaped_byte_by_byte(tmp_path):
    directory = os.path.join(os.fsencode(tmp_path), b"raw\xff\xfe bytes")
    status, stdout, stderr = parkit_bytes(
        [b"threads", *[a.encode() for a in QUICK], b"--out", directory])
    assert status == 0, stderr
    line = assert_one_clean_line(stdout)
    assert "\\xff\\xfe" in line, line
    fields = parse_line(line)
    assert os.fsencode(fields["file"]).startswith(directory + b"/")
    assert os.path.isfile(fields["file"])
    assert format_line(fields) == line


def test_a_text_option_with_every_awkward_character_round_trips(tmp_path):
    scratch = tmp_path / "".join(AWKWARD)
    scratch.mkdir()
    result = run_parkit(["threads", "io", "--n", "4096", "--dir", scratch,
                         "--reps", "1", "--warmup", "0", "--quiet", "--out",
                         tmp_path / "io.h5"])
    assert result.returncode == 0, result.stderr
    line = assert_one_clean_line(result.stdout)
    fields = parse_line(line)
    assert fields["dir"] == str(scratch)
    assert fields["file"] == str(tmp_path / "io.h5")
    assert format_line(fields) == line


def test_bare_values_stay_bare_and_the_fixed_fields_are_there(tmp_path):
    result = run_parkit(["threads", *QUICK, "--threads", "2", "--out",
                         tmp_path])
    fields = find_line(result.stdout)
    for key in ("kernel", "mode", "ranks", "threads", "nodes",
                "ranks_per_node", "reps", "interrupted", "time_min",
                "time_median", "time_max", "rate", "rate_unit", "imbalance",
                "verified", "file"):
        assert key in fields, key
    assert f" rate_unit={fields['rate_unit']} " in result.stdout
    assert f" file={fields['file']}\n" in result.stdout


def headline_outputs(catalogue_kernel):
    return {o["name"]: o["headline"] for o in catalogue_kernel["outputs"]
            if o["headline"]}


@pytest.mark.parametrize("kernel,arguments,launcher", [
    ("montecarlo", ["--estimate", "pi", "--samples", "20000"], None),
    ("stream", ["--n", "20000"], None),
    ("pingpong", ["--max_bytes", "4096"], 2),
    ("sync", ["--iterations", "200"], 2),
])
def test_headline_outputs_equal_the_file(tmp_path, kernel, arguments,
                                         launcher):
    from conftest import catalogue
    declared = headline_outputs(next(k for k in catalogue()["kernels"]
                                     if k["name"] == kernel))
    assert declared, kernel
    mode = "ranks" if launcher else "threads"
    result = run_parkit([mode, kernel, *arguments, "--reps", "2", "--quiet",
                         "--out", tmp_path],
                        launcher=mpirun(launcher) if launcher else None)
    assert result.returncode == 0, result.stderr
    fields = find_line(result.stdout)
    printed = {k[len("out_"):]: v for k, v in fields.items()
               if k.startswith("out_")}
    with h5py.File(fields["file"], "r") as f:
        recorded = {name for name in declared if name in f["outputs"]}
        assert set(printed) == recorded and recorded, (printed, recorded)
        for name, text in printed.items():
            values = f["outputs"][name][()]
            if declared[name] == "value":
                expected = values
            else:
                expected = values[0 if declared[name] == "first" else -1]
            assert float(text) == float(expected), name


@pytest.mark.parametrize("line,message", [
    ("PARKIT a=1 b", "key=value"),
    ('PARKIT a="open', "unterminated"),
    ('PARKIT a="bad\\q"', "bad escape"),
    ("PARKIT a=x=y", "must be quoted"),
    ("PARKIT a=1 a=2", "twice"),
    ("PARKIT  a=1", "key=value"),
    ("PARKITa=1", "not a PARKIT line"),
])
def test_the_parser_refuses_what_the_grammar_does_not_allow(line, message):
    with pytest.raises(ValueError, match=message):
        parse_line(line)


def test_format_value_quotes_exactly_what_needs_it():
    assert format_value("GFLOP/s") == "GFLOP/s"
    assert format_value("") == '""'
    assert format_value("a b") == '"a b"'
    assert format_value("x\udcff") == '"x\\xff"'
    assert format_value("\x01") == '"\\x01"'
