"""Readers that survive any file (issue 18): one-byte corruptions of a real
result file that crashed, hung or exhausted `parkit report` and the Python
loader (tests/fuzz/corpus/result_file/byte-*.h5), attributes of the wrong
shape, type or size, timings that are no times, FIFOs, devices, links and
directories among the results. Each damaged file must cost the report only
itself: listed as skipped with the reason, every good file beside it read;
and the C and Python readers must accept and refuse the same files.

The readers run in subprocesses here, with time limits: a reader that
crashes or blocks fails its test instead of taking pytest with it."""
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
import pytest

from conftest import BINARY, SOURCE_DIR

CORPUS = os.path.join(SOURCE_DIR, "tests", "fuzz", "corpus", "result_file")
GOOD = ["valid-montecarlo-threads.h5", "valid-matmul-ranks.h5"]
# Corrupted in the core both readers read, or in what only Python reads.
REFUSED_BYTES = ["byte-1037-crash.h5", "byte-2097-crash.h5",
                 "byte-4440-endless.h5", "byte-980-memory.h5",
                 "byte-8333-timings-shape.h5"]
ACCEPTED_BYTES = ["byte-2694-extras-crash.h5"]
READ_SECONDS = 10  # isolated_reading.h, loader.READ_SECONDS
CRASHED = re.compile(r"the reader (crashed|ended) on it")
LOAD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from parkit_analysis.loader import load_results
results = load_results(sys.argv[2:])
print(json.dumps({"runs": sorted(results.runs["file"]) if len(results.runs)
                  else [], "skipped": results.skipped,
                  "unfinished": results.unfinished}))
"""


def run_measured(command, timeout=180):
    """(returncode, stdout, stderr, seconds, peak MiB of the process tree)."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err,
                                   start_new_session=True)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > timeout:
                os.killpg(process.pid, signal.SIGKILL)
                os.wait4(process.pid, 0)
                pytest.fail(f"{command[:2]} still running after {timeout} s")
            time.sleep(0.05)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (process.returncode, out.read().decode(),
                err.read().decode(), time.monotonic() - started,
                usage.ru_maxrss / 1024)


def c_report(paths, timeout=180):
    """(returncode, accepted files, {skipped file: reason}, stderr, s, MiB)"""
    code, out, err, seconds, mebibytes = run_measured(
        [BINARY, "report", "--format", "csv", *map(str, paths)], timeout)
    lines = out.splitlines()[1:]
    accepted = sorted(line.rsplit(",", 1)[1] for line in lines)
    skipped = {}
    for line in err.splitlines():
        if line.startswith("parkit: warning: skipped "):
            path, reason = line[len("parkit: warning: skipped "):] \
                .split(": ", 1)
            skipped[path] = reason
    return code, accepted, skipped, err, seconds, mebibytes


def python_load(paths, timeout=180):
    """(accepted files, {skipped file: reason}, unfinished, s, MiB)"""
    code, out, err, seconds, mebibytes = run_measured(
        [sys.executable, "-c", LOAD, os.path.join(SOURCE_DIR, "analysis"),
         *map(str, paths)], timeout)
    assert code == 0, err[-3000:]
    loaded = json.loads(out)
    return (loaded["runs"], dict(loaded["skipped"]), loaded["unfinished"],
            seconds, mebibytes)


def copy_corpus(directory, names):
    os.makedirs(directory, exist_ok=True)
    for name in names:
        shutil.copyfile(os.path.join(CORPUS, name),
                        os.path.join(directory, name))
    return sorted(os.path.join(str(directory), name) for name in names)


# ---- 8. a damaged file costs only itself ------------------------------------

def test_damaged_files_cost_the_report_only_themselves(tmp_path):
    files = copy_corpus(tmp_path, GOOD + ACCEPTED_BYTES + REFUSED_BYTES)
    code, accepted, skipped, err, seconds, mebibytes = c_report([tmp_path])
    assert code == 0, err
    expected = sorted(p for p in files
                      if os.path.basename(p) in GOOD + ACCEPTED_BYTES)
    assert accepted == expected, err
    assert sorted(skipped) == sorted(set(files) - set(expected)), err
    reasons = {os.path.basename(p): r for p, r in skipped.items()}
    # A crash (under AddressSanitizer: its report, then exit status 1).
    assert CRASHED.search(reasons["byte-2097-crash.h5"]), reasons
    assert f"more than {READ_SECONDS} s" in \
        reasons["byte-4440-endless.h5"], reasons
    assert f"{len(expected)} result files read" not in err
    # One file that would loop forever costs its time limit once; one that
    # asks for gigabytes gets a bounded child.
    assert seconds < 3 * READ_SECONDS + 30, seconds
    assert mebibytes < 1300, mebibytes


def test_damaged_files_cost_the_loader_only_themselves(tmp_path):
    files = copy_corpus(tmp_path, GOOD + ACCEPTED_BYTES + REFUSED_BYTES)
    accepted, skipped, _, seconds, mebibytes = python_load([tmp_path])
    _, c_accepted, c_skipped, err, _, _ = c_report([tmp_path])
    assert accepted == c_accepted, (accepted, skipped)
    assert sorted(skipped) == sorted(c_skipped), (skipped, err)
    assert len(accepted) + len(skipped) == len(files)
    assert CRASHED.search(
        skipped[os.path.join(str(tmp_path), "byte-2097-crash.h5")]), skipped
    assert seconds < 3 * READ_SECONDS + 60, seconds
    assert mebibytes < 1500, mebibytes


def test_the_html_report_survives_damaged_files(tmp_path):
    copy_corpus(tmp_path / "results", GOOD + ACCEPTED_BYTES +
                REFUSED_BYTES)
    page = tmp_path / "report.html"
    code, out, err, _, _ = run_measured(
        [sys.executable, os.path.join(SOURCE_DIR, "analysis", "report.py"),
         str(tmp_path / "results"), "-o", str(page)])
    assert code == 0, err[-3000:]
    text = page.read_text()
    for name in REFUSED_BYTES:
        assert name in text


# ---- 10. the readers agree, whatever the attributes hold --------------------

def _replace_attribute(name, value, dtype=None):
    def change(f):
        del f.attrs[name]
        if dtype is None:
            f.attrs[name] = value
        else:
            f.attrs.create(name, value, dtype=dtype)
    return change


def _bytes_attribute(name, raw):
    """A variable-length UTF-8 string attribute holding `raw` bytes."""
    def change(f):
        del f.attrs[name]
        string = h5py.h5t.C_S1.copy()
        string.set_size(h5py.h5t.VARIABLE)
        string.set_cset(h5py.h5t.CSET_UTF8)
        attribute = h5py.h5a.create(f.id, name.encode(), string,
                                    h5py.h5s.create(h5py.h5s.SCALAR))
        attribute.write(np.array(raw, dtype=h5py.special_dtype(vlen=bytes)))
    return change


def _timing(value):
    def change(f):
        timings = f["timings"][()]
        timings[0, 0] = value
        f["timings"][...] = timings
    return change


def _timings_as_integers(f):
    timings = np.ones(f["timings"].shape, dtype=np.int64)
    del f["timings"]
    f["timings"] = timings


def _host(length):
    def change(f):
        del f["ranks/host"]
        f["ranks/host"] = np.array([b"h" * length])
    return change


def _cpu_model(f):
    f["provenance"].attrs["cpu_model"] = "c" * 100_000


def _new_array_attribute(f):
    f.attrs["calibration"] = np.zeros((3, 4, 5))


# (name, change to the valid montecarlo file, accepted by both readers)
VARIANTS = [
    ("kernel-array", _replace_attribute(
        "kernel", np.array(["montecarlo", "x"], dtype=h5py.string_dtype())),
     False),
    ("kernel-not-utf8", _bytes_attribute("kernel", b"monte\xff\xfecarlo"),
     False),
    ("kernel-newline", _bytes_attribute("kernel", b"monte\ncarlo"), False),
    ("kernel-1MB", _replace_attribute("kernel", "k" * 1_000_000), False),
    ("kernel-63-bytes", _replace_attribute("kernel", "k" * 63), True),
    ("kernel-64-bytes", _replace_attribute("kernel", "k" * 64), False),
    ("kernel-fixed-length", _replace_attribute(
        "kernel", np.bytes_("montecarlo")), False),
    ("threads-nan", _replace_attribute("threads", np.float64("nan")), False),
    ("threads-real", _replace_attribute("threads", np.float64(2.0)), False),
    ("threads-zero", _replace_attribute("threads", np.int64(0)), False),
    ("ranks-array", _replace_attribute("ranks", np.array([1, 1])), False),
    ("rate-text", _replace_attribute("rate", "fast"), False),
    ("rate-nan", _replace_attribute("rate", np.float64("nan")), True),
    ("rate-infinite", _replace_attribute("rate", np.float64("inf")), True),
    ("timing-nan", _timing(np.nan), False),
    ("timing-negative", _timing(-1.0), False),
    ("timing-infinite", _timing(np.inf), False),
    ("timings-integers", _timings_as_integers, True),
    ("parameter-nan", _replace_attribute("samples", np.float64("nan")),
     False),
    ("parameter-511-bytes", _replace_attribute("estimate", "e" * 511), True),
    ("parameter-512-bytes", _replace_attribute("estimate", "e" * 512), False),
    ("parameter-array", _replace_attribute("samples", np.arange(4)), False),
    ("host-100KB", _host(100_000), True),
    ("cpu-model-100KB", _cpu_model, True),
    ("attribute-3d-array", _new_array_attribute, True),
]


def make_variants(directory):
    os.makedirs(directory, exist_ok=True)
    expected = {}
    for name, change, accepted in VARIANTS:
        path = os.path.join(str(directory), f"{name}.h5")
        shutil.copyfile(os.path.join(CORPUS, GOOD[0]), path)
        with h5py.File(path, "r+") as f:
            change(f)
        expected[path] = accepted
    return expected


def test_both_readers_accept_and_refuse_the_same_files(tmp_path):
    expected = make_variants(tmp_path)
    _, c_accepted, c_skipped, err, _, _ = c_report([tmp_path])
    accepted, skipped, _, _, _ = python_load([tmp_path])
    should = sorted(path for path, ok in expected.items() if ok)
    assert c_accepted == should, (sorted(set(c_accepted) ^ set(should)),
                                  err)
    assert accepted == should, (sorted(set(accepted) ^ set(should)),
                                skipped)
    assert sorted(skipped) == sorted(c_skipped)
    # NaN, negative and infinite timings are refused alike, for the same
    # reason.
    for name in ("timing-nan", "timing-negative", "timing-infinite"):
        path = os.path.join(str(tmp_path), f"{name}.h5")
        assert "not a time in seconds" in c_skipped[path]
        assert "not a time in seconds" in skipped[path]


def test_the_html_report_survives_odd_attributes(tmp_path):
    make_variants(tmp_path / "results")
    page = tmp_path / "report.html"
    code, out, err, seconds, _ = run_measured(
        [sys.executable, os.path.join(SOURCE_DIR, "analysis", "report.py"),
         str(tmp_path / "results"), "-o", str(page)])
    assert code == 0, err[-3000:]
    text = page.read_text()
    assert "kernel-1MB.h5" in text and "kernel-array.h5" in text
    assert "could not be drawn" not in text
    assert seconds < 120, seconds


# ---- 9. what is not a result file -------------------------------------------

def strange_tree(directory):
    """Results beside a FIFO, a device, links that lead nowhere or in a
    circle, and a link to a directory."""
    os.makedirs(directory / "sub")
    good = copy_corpus(directory, GOOD[:1]) + \
        copy_corpus(directory / "sub", GOOD[1:])
    os.mkfifo(directory / "x.h5")
    os.symlink("/dev/zero", directory / "zero.h5")
    os.symlink("loop.h5", directory / "loop.h5")
    os.symlink("nowhere.h5", directory / "dangling.h5")
    os.symlink("sub", directory / "again")
    return good


def test_fifos_devices_and_links_are_listed_not_read(tmp_path):
    good = strange_tree(tmp_path / "results")
    code, accepted, skipped, err, seconds, _ = c_report(
        [tmp_path / "results"], timeout=60)
    assert code == 0 and accepted == sorted(good), err
    loaded, python_skipped, _, _, _ = python_load([tmp_path / "results"],
                                                  timeout=60)
    assert loaded == sorted(good)
    for problems in (skipped, python_skipped):
        reasons = {os.path.basename(p): r for p, r in problems.items()}
        assert "FIFO" in reasons["x.h5"]
        assert "device" in reasons["zero.h5"]
        assert "leads nowhere" in reasons["loop.h5"]
        assert "leads nowhere" in reasons["dangling.h5"]
        assert "link to a directory" in reasons["again"]
    assert sorted(skipped) == sorted(python_skipped)


def test_a_fifo_named_on_the_command_line_does_not_block(tmp_path):
    os.mkfifo(tmp_path / "x.h5")
    good = copy_corpus(tmp_path, GOOD[:1])
    code, accepted, skipped, err, _, _ = c_report(
        [tmp_path / "x.h5", *good], timeout=60)
    assert code == 0 and accepted == good, err
    loaded, python_skipped, _, _, _ = python_load(
        [tmp_path / "x.h5", *good], timeout=60)
    assert loaded == good and "FIFO" in \
        python_skipped[str(tmp_path / "x.h5")]


def test_each_file_counts_once_however_it_is_named(tmp_path):
    good = copy_corpus(tmp_path / "d", GOOD)
    names = [tmp_path / "d", f"{tmp_path / 'd'}/", good[0]]
    code, accepted, _, err, _, _ = c_report(names)
    assert code == 0 and len(accepted) == len(good), (accepted, err)
    loaded, _, _, _, _ = python_load(names)
    assert len(loaded) == len(good), loaded


def test_an_unreadable_directory_is_listed(tmp_path):
    """As root every directory is readable: the readers then run as
    nobody (setpriv), on a tree outside pytest's private tmp_path."""
    as_root = os.geteuid() == 0
    if as_root and shutil.which("setpriv") is None:
        pytest.skip("needs setpriv to drop root")
    base = tempfile.mkdtemp(prefix="parkit-unreadable-")
    try:
        os.chmod(base, 0o755)
        good = copy_corpus(os.path.join(base, "results"), GOOD[:1])
        os.chmod(os.path.dirname(good[0]), 0o755)
        os.chmod(good[0], 0o644)
        hidden = os.path.join(base, "results", "hidden")
        os.mkdir(hidden)
        os.chmod(hidden, 0)
        drop = ["setpriv", "--reuid=nobody", "--regid=nogroup",
                "--clear-groups"] if as_root else []
        code, out, err, _, _ = run_measured(
            drop + [BINARY, "report", os.path.join(base, "results")])
        assert code == 0, err
        assert f"skipped {hidden}: a directory that cannot be read" in err
        code, out, err, _, _ = run_measured(
            drop + [sys.executable, "-c", LOAD,
                    os.path.join(SOURCE_DIR, "analysis"),
                    os.path.join(base, "results")])
        assert code == 0, err
        loaded = json.loads(out)
        assert loaded["runs"] == good
        assert [hidden, "a directory that cannot be read (Permission "
                "denied)"] in loaded["skipped"], loaded
    finally:
        os.chmod(os.path.join(base, "results", "hidden"),
                 stat.S_IRWXU)
        shutil.rmtree(base)
