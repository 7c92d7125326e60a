"""The main job's answer, readable in ten seconds: for each kernel the best
mode and split at the full machine, its time, and how much slower the best
split of every other mode is; then the overhead figures the probe kernels
measured (start-up, barrier, message at 8 B and 1 MiB, memory footprint).

    text = verdict_text(load_results("results/compare-..."))
"""
import math

import numpy as np

from .loader import array_outputs
from .summary import split_label

MODES = ("threads", "ranks", "hybrid")


def _seconds(value):
    if value >= 1:
        return f"{value:.3g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} us"


def _micro(value):
    """A time given in microseconds, in us or ms."""
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value / 1e3:.3g} ms" if value >= 1e3 else f"{value:.3g} us"


def _bytes(value):
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:.0f} B"


def best_per_mode(runs, workers):
    """{kernel: {mode: row}}: each mode's fastest verified run (median time)
    using all `workers` cores, problem by problem the most common one."""
    table = {}
    # Probes' "time" is a measurement sweep, not work: they are reported
    # below the table by what they measured.
    full = runs[(runs["workers"] == workers) & (runs["verified"] == 1)
                & (runs.get("kernel_kind", "work") != "probe")]
    for kernel, group in full.groupby("kernel"):
        problem = group["problem"].mode().iloc[0]
        group = group[group["problem"] == problem]
        table[kernel] = {mode: rows.loc[rows["time_median"].idxmin()]
                         for mode, rows in group.groupby("mode")}
    return table


def kernel_lines(runs, workers):
    lines = [f"{'kernel':<11} {'best':<13} {'time':>9}  "
             + "  ".join(f"{m:<17}" for m in MODES)]
    for kernel, by_mode in sorted(best_per_mode(runs, workers).items()):
        best_mode = min(by_mode, key=lambda m: by_mode[m]["time_median"])
        best = by_mode[best_mode]
        cells = []
        for mode in MODES:
            if mode not in by_mode:
                cells.append(f"{'-':<17}")
                continue
            row = by_mode[mode]
            split = split_label(row, "x")
            slower = row["time_median"] / best["time_median"] - 1
            text = "best" if mode == best_mode else f"+{100 * slower:.0f}%"
            cells.append(f"{text + ' (' + split + ')':<17}")
        split = split_label(best, "x")
        lines.append(f"{kernel:<11} {best_mode + ' ' + split:<13} "
                     f"{_seconds(best['time_median']):>9}  " + "  ".join(cells))
    return lines


def _probe_rows(runs, kernel):
    rows = runs[(runs["kernel"] == kernel) & (runs["verified"] == 1)]
    return [row for _, row in rows.sort_values("workers").iterrows()]


def _curve_value(path, x_name, y_name, x):
    """y at x (nearest point) of the curve outputs x_name/y_name, or None."""
    arrays, _ = array_outputs(path)
    if x_name not in arrays or y_name not in arrays:
        return None
    xs, ys = np.asarray(arrays[x_name], float), np.asarray(arrays[y_name])
    return float(ys[int(np.argmin(np.abs(xs - x)))])


def _first(values):
    return next((v for v in values if v is not None and math.isfinite(v)),
                None)


def overhead_lines(runs):
    lines = []
    spawn = _probe_rows(runs, "spawn")
    if spawn:
        # The curves run over 1..--workers whatever the mode; read them at
        # the machine's core count (or the nearest count measured).
        cores = int(max(r["workers"] for r in spawn))
        costs = [(label, _first(_curve_value(r["file"], "workers", name, cores)
                                for r in spawn))
                 for label, name in (("OpenMP region", "openmp_start_join"),
                                     ("pthread", "pthread_start_join"),
                                     ("fork+exec", "fork_exec_wait"),
                                     ("MPI_Comm_spawn", "mpi_comm_spawn"))]
        lines.append(f"start + join of {cores}, per worker: " + " | ".join(
            f"{label} {_micro(value)}" for label, value in costs
            if value is not None))
    sync = _probe_rows(runs, "sync")
    if sync:
        figures = []
        for label, column in (("threads", "out_thread_barrier"),
                              ("ranks", "out_rank_barrier"),
                              ("hybrid", "out_hybrid_barrier")):
            values = [(r[column], int(r["workers"])) for r in sync
                      if column in r and r[column] == r[column]]
            if values:
                value, count = values[-1]
                figures.append(f"{label} ({count} workers) {_micro(value)}")
        if figures:
            lines.append("barrier:                   " + " | ".join(figures))
    pingpong = _probe_rows(runs, "pingpong")
    for size, label in ((8, "message 8 B, latency:      "),
                        (2**20, "message 1 MiB, bandwidth:  ")):
        kind = "latency" if size == 8 else "bandwidth"
        shm = _first(_curve_value(r["file"], "message_bytes",
                                  f"shm_{kind}", size) for r in pingpong)
        mpi = _first(_curve_value(r["file"], "message_bytes",
                                  f"mpi_{kind}", size) for r in pingpong)
        if shm is None and mpi is None:
            continue
        show = _micro if kind == "latency" else \
            (lambda v: "n/a" if v is None else f"{v:.3g} GB/s")
        lines.append(label + f"threads (shared memory) {show(shm)} | "
                     f"ranks (MPI) {show(mpi)}")
    footprint = _probe_rows(runs, "footprint")
    if footprint:
        figures = []
        for row in footprint:
            if "out_job_rss" not in row or row["out_job_rss"] != \
                    row["out_job_rss"]:
                continue
            figures.append(f"{row['mode']} {int(row['ranks'])}x"
                           f"{int(row['threads'])} {_bytes(row['out_job_rss'])}")
        if figures:
            problem = footprint[0].get("out_problem_bytes", float("nan"))
            lines.append(f"memory, whole job ({_bytes(problem)} problem): "
                         + " | ".join(figures))
    return lines


def verdict_text(results, workers=None):
    """The main job's table as text; `workers` defaults to the largest
    ranks x threads among the runs."""
    runs = results.runs
    if runs.empty:
        return "no runs could be read"
    workers = workers or int(runs["workers"].max())
    host = runs["host"].iloc[0] if "host" in runs else ""
    cpu = runs.get("provenance_cpu_model", [""]).iloc[0] \
        if "provenance_cpu_model" in runs else ""
    lines = [f"threads or processes? {workers} cores of {host} ({cpu}); "
             "median times, verified runs", ""]
    lines += kernel_lines(runs, workers)
    lines.append("(+x%: how much slower that mode's best split is than the "
                 "best)")
    overheads = overhead_lines(runs)
    if overheads:
        lines += ["", "overheads, measured now:"] + ["  " + l
                                                      for l in overheads]
    unverified = runs[runs["verified"] != 1]
    for _, row in unverified.iterrows():
        lines.append(f"NOT VERIFIED: {row['kernel']} {row['mode']} "
                     f"{int(row['ranks'])}x{int(row['threads'])}: "
                     f"{row['file']}")
    return "\n".join(lines)
