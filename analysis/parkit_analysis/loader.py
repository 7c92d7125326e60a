"""Load a tree of parkit result files into pandas (layout: results/README.md).

    results = load_results("results")       # files or directories
    results.runs        # one row per run
    results.timings     # one row per (run, repetition, rank), long format
    results.skipped     # [(path, reason)] files that could not be read
    results.unfinished  # [path] *.h5.tmp files of runs that did not finish

Columns of `runs`: every root attribute (kernel, mode, ranks, threads, ...,
every kernel parameter and its `<name>_unit`), `out_<name>` for every scalar
output, `provenance_<name>` for every provenance attribute, and
    file                      path of the result file
    problem                   the kernel's parameters, "name=value" sorted by
                              name (the grouping key of `parkit report`)
    host                      host of rank 0
    hosts                     the distinct hosts, comma-separated
    peak_resident_bytes_max   largest peak RSS of one rank (bytes)
    peak_resident_bytes_total sum of every rank's peak RSS (bytes)
Only the attributes and the small datasets are read; array outputs are read
on demand with `array_outputs(path)`.
"""
import os
from dataclasses import dataclass, field

import h5py
import numpy as np
import pandas as pd

RUN_COLUMNS = ("file", "problem", "host", "hosts", "peak_resident_bytes_max",
               "peak_resident_bytes_total")
TIMING_COLUMNS = ("file", "kernel", "problem", "mode", "ranks", "threads",
                  "repetition", "rank", "seconds")


@dataclass
class Results:
    runs: pd.DataFrame
    timings: pd.DataFrame
    skipped: list = field(default_factory=list)
    unfinished: list = field(default_factory=list)


def _plain(value):
    """numpy scalars to Python scalars, bytes to str."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if hasattr(value, "item") and np.ndim(value) == 0:
        return value.item()
    return value


def format_value(value):
    """A parameter as text, as `parkit report` prints it (C's %g)."""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):g}"
    return str(value)


def problem_text(attributes):
    """The kernel's parameters: root attributes X with a sibling X_unit
    (`rate`, a result, excepted), "name=value" sorted by name."""
    names = sorted(name for name in attributes
                   if not name.endswith("_unit") and name != "rate"
                   and f"{name}_unit" in attributes)
    return " ".join(f"{name}={format_value(attributes[name])}"
                    for name in names)


def find_files(paths):
    """(result files, unfinished files): *.h5 and *.h5.tmp under the paths,
    sorted; a file named directly counts as a result unless it ends in
    .h5.tmp. A missing path raises FileNotFoundError."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    results, unfinished = [], []
    for path in map(os.fspath, paths):
        if os.path.isdir(path):
            for directory, _, names in os.walk(path):
                for name in names:
                    full = os.path.join(directory, name)
                    if name.endswith(".h5"):
                        results.append(full)
                    elif name.endswith(".h5.tmp"):
                        unfinished.append(full)
        elif os.path.exists(path):
            (unfinished if path.endswith(".h5.tmp") else results).append(path)
        else:
            raise FileNotFoundError(f"results path '{path}' does not exist")
    return sorted(results), sorted(unfinished)


def _read_run(path):
    """(row dict, timings array [repetitions, ranks]) of one file."""
    with h5py.File(path, "r", locking=False) as f:
        attributes = {name: _plain(value) for name, value in f.attrs.items()}
        row = dict(attributes)
        for required in ("kernel", "mode", "ranks", "threads", "repetitions"):
            if required not in row:
                raise ValueError(f"root attribute '{required}' is missing")
        timings = np.asarray(f["timings"][()], dtype=np.float64)
        # A run stopped by a signal holds the repetitions it completed.
        done = row.get("repetitions_completed", row["repetitions"])
        expected = (int(done), int(row["ranks"]))
        if timings.shape != expected:
            raise ValueError(f"dataset 'timings' has shape {timings.shape}, "
                             f"expected repetitions x ranks = {expected}")
        if "outputs" in f:
            for name, dataset in f["outputs"].items():
                if isinstance(dataset, h5py.Dataset) and dataset.shape == ():
                    row[f"out_{name}"] = _plain(dataset[()])
        if "provenance" in f:
            for name, value in f["provenance"].attrs.items():
                row[f"provenance_{name}"] = _plain(value)
        hosts = [_plain(h) for h in f["ranks/host"][()]] \
            if "ranks/host" in f else []
        rss = f["ranks/peak_resident_bytes"][()] \
            if "ranks/peak_resident_bytes" in f else np.array([])
    # Files from before `ranks_per_node`: ranks spread evenly, rounded up,
    # as `parkit report` assumes.
    nodes = int(row.get("nodes", 1))
    row.setdefault("nodes", nodes)
    row.setdefault("ranks_per_node", -(-int(row["ranks"]) // max(nodes, 1)))
    row["file"] = path
    row["problem"] = problem_text(attributes)
    row["host"] = hosts[0] if hosts else ""
    row["hosts"] = ",".join(dict.fromkeys(hosts))
    row["peak_resident_bytes_max"] = int(rss.max()) if rss.size else np.nan
    row["peak_resident_bytes_total"] = int(rss.sum()) if rss.size else np.nan
    return row, timings


def _timings_frame(rows, arrays):
    """The long-format timings of all runs, built once (a DataFrame per file
    would cost more than reading the file)."""
    if not arrays:
        return pd.DataFrame(columns=list(TIMING_COLUMNS))
    counts = [a.size for a in arrays]
    columns = {name: np.repeat([row[name] for row in rows], counts)
               for name in TIMING_COLUMNS[:6]}
    columns["repetition"] = np.concatenate(
        [np.repeat(np.arange(a.shape[0]), a.shape[1]) for a in arrays])
    columns["rank"] = np.concatenate(
        [np.tile(np.arange(a.shape[1]), a.shape[0]) for a in arrays])
    columns["seconds"] = np.concatenate([a.ravel() for a in arrays])
    return pd.DataFrame(columns)


def load_results(paths):
    """Reads every result file under `paths` (a path or a list of paths).
    Files that cannot be read are listed in `skipped` with the reason,
    never raised; a missing path raises FileNotFoundError."""
    files, unfinished = find_files(paths)
    rows, timing_arrays, skipped = [], [], []
    for path in files:
        try:
            row, timings = _read_run(path)
        except (OSError, KeyError, ValueError, TypeError, RuntimeError) as error:
            skipped.append((path, f"{type(error).__name__}: {error}"))
            continue
        rows.append(row)
        timing_arrays.append(timings)
    runs = pd.DataFrame(rows, columns=None if rows else list(RUN_COLUMNS))
    return Results(runs=runs, timings=_timings_frame(rows, timing_arrays),
                   skipped=skipped, unfinished=unfinished)


def array_outputs(path):
    """{name: numpy array} of the 1-D outputs of one result file (e.g. the
    probe curves), with {name: units} as the second value."""
    arrays, units = {}, {}
    with h5py.File(path, "r", locking=False) as f:
        for name, dataset in f.get("outputs", {}).items():
            if isinstance(dataset, h5py.Dataset) and dataset.ndim == 1:
                arrays[name] = np.asarray(dataset[()])
                units[name] = _plain(dataset.attrs.get("units", ""))
    return arrays, units


def output_units(path):
    """{name: units} of every output of one result file."""
    with h5py.File(path, "r", locking=False) as f:
        return {name: _plain(d.attrs.get("units", ""))
                for name, d in f.get("outputs", {}).items()}
