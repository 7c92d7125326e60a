"""The summary `parkit report --format csv` prints, computed in pandas.

One row per run, grouped by kernel and problem (the kernel's parameters):
    time_median_s, time_min_s, time_max_s  over repetitions, each repetition
                                           timed by its slowest rank (s)
    spread      (slowest - fastest) / median repetition
    speedup     fastest one-core (1 rank x 1 thread) run's median time of
                the same kernel and problem / this run's (NaN without one)
    efficiency  speedup / workers (cores)
    imbalance   max / min over ranks of each rank's total timed seconds
    best        True for the best split of its group: the fastest verified
                run among the verified runs with the most cores
Every run's timing statistics are the runner's, read from the file (the C
program reads the same attributes); the group's figures (speedup,
efficiency, best) are computed alike in both, and a test compares them on
the same files.
"""
import numpy as np
import pandas as pd

SUMMARY_COLUMNS = ["kernel", "problem", "mode", "nodes", "ranks_per_node",
                   "ranks", "threads", "workers", "repetitions", "time_median_s", "time_min_s", "time_max_s",
                   "spread", "rate", "rate_unit", "speedup", "efficiency",
                   "imbalance", "verified", "best", "file"]
MODE_ORDER = {"threads": 0, "ranks": 1, "hybrid": 2}


def split_label(row, times="×"):
    """How a run was split: ranks × threads on one node, nodes × ranks per
    node × threads across nodes (`parkit report` writes the latter always).
    `row`: a mapping with ranks and threads, and nodes / ranks_per_node
    when known."""
    nodes = int(row.get("nodes", 1) or 1)
    if nodes <= 1:
        return f"{int(row['ranks'])}{times}{int(row['threads'])}"
    return (f"{nodes}{times}{int(row['ranks_per_node'])}{times}"
            f"{int(row['threads'])}")


def time_statistics(runs):
    """Per file: time_median_s, time_min_s, time_max_s, imbalance, as the
    runner computed them (root attributes time_median, ... of each file: the
    one place they are computed)."""
    per_run = runs.set_index("file")[["time_median", "time_min", "time_max",
                                      "imbalance"]]
    return per_run.rename(columns={"time_median": "time_median_s",
                                   "time_min": "time_min_s",
                                   "time_max": "time_max_s"})


def _compare_group(group):
    one_core = group.loc[group["workers"] == 1, "time_median_s"].min()
    group = group.copy()
    group["speedup"] = one_core / group["time_median_s"]
    group["efficiency"] = group["speedup"] / group["workers"]
    verified = group[group["verified"] == 1]
    verified = verified[verified["workers"] == verified["workers"].max()]
    group["best"] = False
    if len(verified):
        group.loc[verified["time_median_s"].idxmin(), "best"] = True
    return group


def summary_table(results):
    """The summary DataFrame (columns SUMMARY_COLUMNS) of a Results."""
    runs = results.runs
    if runs.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    table = runs[["kernel", "problem", "mode", "nodes", "ranks_per_node",
                  "ranks", "threads", "workers", "repetitions", "rate", "rate_unit", "verified", "file"]]
    table = table.join(time_statistics(runs), on="file")
    table["spread"] = (table["time_max_s"] - table["time_min_s"]) \
        / table["time_median_s"]
    table["mode_order"] = table["mode"].map(MODE_ORDER).fillna(3)
    table = table.sort_values(["kernel", "problem", "mode_order", "mode",
                               "workers", "ranks", "file"],
                              ignore_index=True)
    table = pd.concat([_compare_group(group) for _, group in
                       table.groupby(["kernel", "problem"], sort=False)],
                      ignore_index=True)
    return table[SUMMARY_COLUMNS]


def best_per_mode_at(table, workers):
    """For each group, the fastest run of each mode at `workers` cores
    (a dict of group -> {mode: row}); `workers` None: each group's most."""
    chosen = {}
    for key, group in table.groupby(["kernel", "problem"], sort=False):
        cores = group["workers"].max() if workers is None else workers
        at = group[group["workers"] == cores]
        chosen[key] = {mode: rows.loc[rows["time_median_s"].idxmin()]
                       for mode, rows in at.groupby("mode", sort=False)}
    return chosen
