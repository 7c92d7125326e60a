"""The overhead figures the probe kernels measured, as lines of text:
start-up of workers, barrier, a message of 8 B and of 1 MiB, the memory a
whole job holds (the main job prints them under its verdict).

    lines = overhead_lines(runs)   # runs: load_results(...).runs of probes
"""
import math

import numpy as np

from .loader import array_outputs


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
