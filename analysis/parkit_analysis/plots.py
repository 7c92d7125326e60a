"""Figures from a Results (see loader.py); each function returns a list of
(title, matplotlib Figure), empty when the results hold nothing to plot.

Every figure labels its axes with units, names the machine (hosts, CPU
model) and the dates of the runs, and tells modes apart by marker, line
style and hatch as well as colour, so that it reads in black and white.
"""
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .loader import array_outputs  # noqa: E402
from .statistics import median_ci  # noqa: E402
from .summary import best_per_mode_at, split_label  # noqa: E402

MODES = ("threads", "ranks", "hybrid")
# Okabe-Ito colours (safe for colour-blind readers), plus marker, line style
# and hatch: no distinction rests on colour alone.
MODE_STYLE = {
    "threads": dict(color="#0072B2", marker="o", linestyle="-", hatch=""),
    "ranks": dict(color="#D55E00", marker="s", linestyle="--", hatch="//"),
    "hybrid": dict(color="#009E73", marker="^", linestyle=":", hatch="xx"),
}
SERIES_STYLE = [dict(color=c, marker=m, linestyle=s) for c, m, s in zip(
    ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"],
    ["o", "s", "^", "D", "v", "P"], ["-", "--", ":", "-.", "-", "--"])]
MOST_GROUPS = 12  # scaling figures: one per kernel and problem, at most this

# Roofline defaults when neither options nor stream results give the peaks.
DEFAULT_PEAK_GFLOPS_PER_CORE = 32.0  # 2 FMA units x 4 doubles x 2 x 2 GHz
DEFAULT_BANDWIDTH_GBS = 20.0

plt.rcParams.update({
    "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11,
    "legend.fontsize": 10, "xtick.labelsize": 10, "ytick.labelsize": 10,
    "lines.linewidth": 1.8, "lines.markersize": 7, "axes.grid": True,
    "grid.alpha": 0.35, "figure.dpi": 100, "savefig.dpi": 110,
    # A campaign's report draws a figure per kernel and probe before
    # encoding them (each is closed once encoded): no warning at 20.
    "figure.max_open_warning": 0,
})


def machine_label(runs):
    """'host(s) · CPU model · date(s)' of the runs."""
    def short(text, longest=64):  # a label, not a record
        return text if len(text) <= longest else text[:longest] + "..."
    hosts = sorted({short(h) for joined in runs.get("hosts", []) if joined
                    for h in str(joined).split(",")})
    cpus = sorted({short(str(c), 100)
                   for c in runs.get("provenance_cpu_model", [])
                   if isinstance(c, str) and c})
    dates = sorted({str(s)[:10] for s in runs.get("started_utc", []) if s})
    host_text = ", ".join(hosts[:3]) + (f" (+{len(hosts) - 3})"
                                        if len(hosts) > 3 else "")
    cpu_text = ", ".join(cpus) if cpus else "CPU model not recorded"
    date_text = dates[0] if len(dates) == 1 else \
        f"{dates[0]} to {dates[-1]}" if dates else "date unknown"
    return f"{host_text or 'host unknown'} · {cpu_text} · {date_text}"


def _finish(figure, title, runs):
    figure.suptitle(title, fontsize=13)
    figure.text(0.5, 0.005, machine_label(runs), ha="center", va="bottom",
                fontsize=9, color="#333333")
    figure.tight_layout(rect=(0, 0.04, 1, 0.95))
    return figure


def _group_title(kernel, problem):
    return f"{kernel} ({problem})" if problem else kernel


def scaling(results, table):
    """Strong scaling: speedup and efficiency against cores, one line per
    mode, one figure per kernel and problem with more than one core count."""
    figures = []
    for (kernel, problem), group in table.groupby(["kernel", "problem"],
                                                 sort=False):
        if group["workers"].nunique() < 2 or group["speedup"].isna().all():
            continue
        if len(figures) == MOST_GROUPS:
            break
        figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
        cores = np.sort(group["workers"].unique())
        one_core = group[group["workers"] == 1].nsmallest(1, "time_median_s")
        left.plot(cores, cores, color="#777777", linestyle="-.", marker="",
                  linewidth=1.2, label="ideal")
        right.axhline(100, color="#777777", linestyle="-.", linewidth=1.2,
                      label="ideal")
        for mode in [m for m in MODES if m in set(group["mode"])] + sorted(
                set(group["mode"]) - set(MODES)):
            rows = group[group["mode"] == mode]
            best = rows.loc[rows.groupby("workers")["time_median_s"].idxmin()]
            if not (best["workers"] == 1).any():
                # Every mode starts from the same one-core run.
                best = pd.concat([one_core, best])
            best = best.sort_values("workers")
            style = {k: v for k, v in MODE_STYLE.get(
                mode, SERIES_STYLE[3]).items() if k != "hatch"}
            left.plot(best["workers"], best["speedup"], label=mode, **style)
            right.plot(best["workers"], 100 * best["efficiency"], label=mode,
                       **style)
        for axis in (left, right):
            axis.set_xlabel("cores (ranks × threads)")
            axis.set_xticks(cores)
            axis.legend()
        left.set_ylabel("speedup over 1 core (×)")
        right.set_ylabel("parallel efficiency (%)")
        right.set_ylim(bottom=0)
        left.set_title("speedup")
        right.set_title("efficiency = speedup / cores")
        title = f"Strong scaling: {_group_title(kernel, problem)}"
        figures.append((title, _finish(figure, title, results.runs)))
    return figures


def time_interval(results, path):
    """(low, high, kind) of a run's median time: the 95% CI over its
    repetitions (each timed by its slowest rank; statistics.median_ci), or
    with fewer than 6 repetitions their range."""
    timings = results.timings
    slowest = timings[timings["file"] == path].groupby("repetition")[
        "seconds"].max().to_numpy()
    if slowest.size == 0:
        return math.nan, math.nan, "none"
    ci = median_ci(slowest)
    if ci.has_interval:
        return ci.low, ci.high, "95% CI"
    return float(slowest.min()), float(slowest.max()), "range"


def _whiskers(heights, lows, highs):
    """Error-bar extents below and above each height (never negative)."""
    below = [max(h - l, 0) if math.isfinite(l) else 0
             for h, l in zip(heights, lows)]
    above = [max(u - h, 0) if math.isfinite(u) else 0
             for h, u in zip(heights, highs)]
    return [below, above]


def modes_at_full_machine(results, table):
    """Threads vs ranks vs hybrid: each kernel's speedup at its largest core
    count, the fastest split of each mode; whiskers: the speedup at the ends
    of the 95% CI of the run's median time (the range of its repetitions
    when it has fewer than 6)."""
    chosen = best_per_mode_at(table, None)
    groups = [(key, modes) for key, modes in chosen.items()
              if any(not math.isnan(row["speedup"]) for row in modes.values())]
    if not groups:
        return []
    figure, axis = plt.subplots(figsize=(max(6.5, 1.9 * len(groups) + 2), 4.5))
    width = 0.26
    kinds = set()
    for index, mode in enumerate(MODES):
        positions, heights, labels, lows, highs = [], [], [], [], []
        for g, (_, modes) in enumerate(groups):
            if mode in modes and not math.isnan(modes[mode]["speedup"]):
                row = modes[mode]
                positions.append(g + (index - 1) * width)
                heights.append(row["speedup"])
                labels.append(split_label(row))
                low, high, kind = time_interval(results, row["file"])
                kinds.add(kind)
                base = row["speedup"] * row["time_median_s"]
                lows.append(base / high if high > 0 else math.nan)
                highs.append(base / low if low > 0 else math.nan)
        if not positions:
            continue
        style = MODE_STYLE[mode]
        bars = axis.bar(positions, heights, width, label=mode,
                        color=style["color"], hatch=style["hatch"],
                        edgecolor="black", linewidth=0.8,
                        yerr=_whiskers(heights, lows, highs), capsize=4,
                        error_kw={"elinewidth": 1.2})
        axis.bar_label(bars, labels=labels, fontsize=9, padding=2)
    axis.set_xticks(range(len(groups)))
    axis.set_xticklabels([
        f"{kernel}\n{int(max(r['workers'] for r in modes.values()))} cores"
        for (kernel, _), modes in groups])
    axis.set_ylabel("speedup over 1 core (×)")
    axis.legend(title="mode (label: ranks × threads)")
    axis.margins(y=0.15)
    axis.set_title("whiskers: " + " or ".join(sorted(kinds - {"none"}))
                   + " of the median time over repetitions", fontsize=9)
    title = "Threads vs ranks vs hybrid at the full machine"
    return [(title, _finish(figure, title, results.runs))]


def campaign_verdict(results, answer):
    """The main job's campaign: per kernel and regime, every configuration's
    speedup over the 1 rank x 1 thread base case, with whiskers at the ends
    of the 95% CI of its median over rounds (answer.json)."""
    if not answer or not answer.get("groups"):
        return []
    groups = [g for g in answer["groups"]
              if any(c["speedup"] for c in g["configurations"])]
    if not groups:
        return []
    figure, axis = plt.subplots(figsize=(max(7, 1.6 * len(groups) + 2), 4.8))
    width = 0.8 / max(len([c for c in g["configurations"] if not c["baseline"]])
                      for g in groups)
    shown = set()
    for g, group in enumerate(groups):
        full = [c for c in group["configurations"] if not c["baseline"]]
        base = next((c["median"] for c in group["configurations"]
                     if c["baseline"]), None)
        for index, c in enumerate(full):
            if not c["speedup"] or not base:
                continue
            style = MODE_STYLE.get(c["mode"], MODE_STYLE["threads"])
            low = base / c["high"] if c["high"] else math.nan
            high = base / c["low"] if c["low"] else math.nan
            position = g + (index - (len(full) - 1) / 2) * width
            bars = axis.bar(position, c["speedup"], width,
                            color=style["color"], hatch=style["hatch"],
                            edgecolor="black", linewidth=0.8,
                            label=None if c["mode"] in shown else c["mode"],
                            yerr=_whiskers([c["speedup"]], [low], [high]),
                            capsize=4, error_kw={"elinewidth": 1.2})
            shown.add(c["mode"])
            axis.bar_label(bars, labels=[c["split"]], fontsize=8, padding=2)
    axis.set_xticks(range(len(groups)))
    axis.set_xticklabels([f"{g['kernel']}\n{g['regime']}" for g in groups])
    axis.set_ylabel("speedup over 1 rank × 1 thread (×)")
    axis.legend(title="mode (label: ranks × threads)")
    axis.margins(y=0.15)
    axis.set_title("median over rounds; whiskers: 95% CI of the median "
                   "(order statistics), none with fewer than 6 rounds",
                   fontsize=9)
    title = "The main job: every split of every kernel and regime"
    return [(title, _finish(figure, title, results.runs))]


def memory_footprint(results, table):
    """Peak resident memory (sum over ranks) of each split, by mode: the
    median over the runs of that split."""
    runs = results.runs
    if "peak_resident_bytes_total" not in runs or \
            runs["peak_resident_bytes_total"].isna().all():
        return []
    data = table.merge(runs[["file", "peak_resident_bytes_total"]], on="file")
    data = data.groupby(["kernel", "problem", "mode", "ranks", "threads",
                         "workers"], sort=False)["peak_resident_bytes_total"] \
        .agg(["median", "min", "max"]).reset_index()
    groups = list(data.groupby(["kernel", "problem"], sort=False))[:6]
    if not groups:
        return []
    columns = min(3, len(groups))
    rows = math.ceil(len(groups) / columns)
    figure, axes = plt.subplots(rows, columns, squeeze=False,
                                figsize=(4.2 * columns, 3.6 * rows))
    for axis, ((kernel, problem), group) in zip(axes.ravel(), groups):
        group = group.sort_values(["workers", "mode"])
        for position, (_, row) in enumerate(group.iterrows()):
            style = MODE_STYLE.get(row["mode"], MODE_STYLE["threads"])
            height = row["median"] / 2**20
            axis.bar(position, height, color=style["color"],
                     hatch=style["hatch"], edgecolor="black", linewidth=0.8,
                     yerr=_whiskers([height], [row["min"] / 2**20],
                                    [row["max"] / 2**20]), capsize=4)
        axis.set_xticks(range(len(group)))
        axis.set_xticklabels([f"{row['mode'][:1]} {split_label(row)}"
                              for _, row in group.iterrows()], rotation=45,
                             ha="right")
        axis.set_ylabel("peak resident memory,\nall ranks (MiB)")
        axis.set_title(kernel, fontsize=11)
    for axis in axes.ravel()[len(groups):]:
        axis.set_visible(False)
    handles = [matplotlib.patches.Patch(
        facecolor=MODE_STYLE[m]["color"], hatch=MODE_STYLE[m]["hatch"],
        edgecolor="black", label=f"{m} ({m[:1]})") for m in MODES]
    figure.legend(handles=handles, loc="upper right", ncol=3,
                  bbox_to_anchor=(1, 0.93))
    title = ("Memory footprint per mode (peak RSS summed over ranks; median "
             "of the runs, whiskers their range)")
    return [(title, _finish(figure, title, runs))]


def _peaks(runs, table, peak_gflops, peak_bandwidth):
    """(GFLOP/s, GB/s, where they come from)."""
    cores = int(table["workers"].max())
    sources = []
    if peak_bandwidth is None:
        stream = table[(table["kernel"] == "stream")
                       & (table["rate_unit"] == "GB/s")]
        if len(stream):
            peak_bandwidth = float(stream["rate"].max())
            sources.append(f"bandwidth {peak_bandwidth:.3g} GB/s measured "
                           "(best stream run)")
        else:
            peak_bandwidth = DEFAULT_BANDWIDTH_GBS
            sources.append(f"bandwidth {peak_bandwidth:g} GB/s ASSUMED "
                           "(default; pass --peak-bandwidth)")
    else:
        sources.append(f"bandwidth {peak_bandwidth:g} GB/s (given)")
    if peak_gflops is None:
        peak_gflops = DEFAULT_PEAK_GFLOPS_PER_CORE * cores
        sources.append(f"peak {peak_gflops:g} GFLOP/s ASSUMED (default "
                       f"{DEFAULT_PEAK_GFLOPS_PER_CORE:g} per core × {cores}; "
                       "pass --peak-gflops)")
    else:
        sources.append(f"peak {peak_gflops:g} GFLOP/s (given)")
    return peak_gflops, peak_bandwidth, "; ".join(sources)


def roofline(results, table, peak_gflops=None, peak_bandwidth=None):
    """Each run with known flop and byte counts on the roofline."""
    runs = results.runs
    if "work_flops" not in runs or "work_bytes" not in runs:
        return []
    data = table.merge(runs[["file", "work_flops", "work_bytes"]], on="file")
    data = data[(data["work_flops"] > 0) & (data["work_bytes"] > 0)]
    if data.empty:
        return []
    compute, bandwidth, source = _peaks(runs, table, peak_gflops,
                                        peak_bandwidth)
    intensity = data["work_flops"] / data["work_bytes"]
    achieved = data["work_flops"] / data["time_median_s"] / 1e9
    figure, axis = plt.subplots(figsize=(7.5, 5))
    low = min(intensity.min() / 4, compute / bandwidth / 8)
    high = max(intensity.max() * 4, compute / bandwidth * 8)
    x = np.logspace(np.log10(low), np.log10(high), 200)
    axis.loglog(x, np.minimum(compute, bandwidth * x), color="black",
                linestyle="-", marker="", label="roof")
    for mode in MODES:
        chosen = data["mode"] == mode
        if chosen.any():
            style = MODE_STYLE[mode]
            axis.loglog(intensity[chosen], achieved[chosen], linestyle="none",
                        marker=style["marker"], color=style["color"],
                        markeredgecolor="black", label=mode)
    for kernel, rows in data.groupby("kernel"):
        axis.annotate(kernel, (intensity[rows.index].max(),
                               achieved[rows.index].max()),
                      textcoords="offset points", xytext=(6, 4), fontsize=10)
    axis.set_xlabel("arithmetic intensity (FLOP/byte)")
    axis.set_ylabel("performance (GFLOP/s)")
    axis.legend(loc="lower right")
    axis.set_title(source, fontsize=8.5, wrap=True)
    title = "Roofline: each run with counted flops and bytes"
    return [(title, _finish(figure, title, runs))]


# ---- overhead probes: present only when those kernels ran -------------------

PINGPONG = {"latency": ("shm_latency", "mpi_latency"),
            "bandwidth": ("shm_bandwidth", "mpi_bandwidth")}
SPAWN = ("openmp_start_join", "pthread_start_join", "fork_exec_wait",
         "mpi_comm_spawn")
SYNC = ("thread_barrier", "thread_reduction", "rank_barrier",
        "rank_allreduce", "hybrid_barrier")
CONTEXT_SWITCH = ("thread_switch", "process_switch", "handoff_overhead")
SHARING_WAYS = ("shared_atomic", "false_sharing", "padded_atomic", "private",
                "racy")
FOOTPRINT = ("baseline_rss", "job_rss", "job_pss", "rank_rss",
             "problem_bytes")


def _series_label(name):
    return name.replace("_", " ")


def _curves(runs, kernel, x_name, series, x_label, y_label, title):
    """One figure: every run of `kernel`, y series against the x array."""
    chosen = runs[runs["kernel"] == kernel]
    lines = []
    for _, run in chosen.iterrows():
        arrays, units = array_outputs(run["file"])
        if x_name not in arrays:
            continue
        for name in series:
            if name in arrays and len(arrays[name]) == len(arrays[x_name]):
                lines.append((f"{_series_label(name)} ({run['mode']} "
                              f"{split_label(run)})",
                              arrays[x_name], arrays[name]))
    if not lines:
        return []
    figure, axis = plt.subplots(figsize=(7.5, 4.6))
    for index, (label, x, y) in enumerate(lines):
        axis.plot(x, y, label=label, **SERIES_STYLE[index % len(SERIES_STYLE)])
    if min(min(x) for _, x, _ in lines) > 0:
        axis.set_xscale("log", base=2 if kernel == "spawn" else 10)
    else:  # context_switch starts at no working set
        axis.set_xscale("symlog", linthresh=1024)
    axis.set_yscale("log")
    axis.set_xlabel(x_label)
    axis.set_ylabel(y_label)
    axis.legend(fontsize=9)
    return [(title, _finish(figure, title, runs))]


def _scalars(runs, kernel, series, y_label, title):
    """One figure: scalar outputs of every run of `kernel` against its cores,
    one line per output."""
    chosen = runs[runs["kernel"] == kernel]
    present = [n for n in series if f"out_{n}" in chosen
               and chosen[f"out_{n}"].notna().any()]
    if chosen.empty or not present:
        return []
    figure, axis = plt.subplots(figsize=(7.5, 4.6))
    for index, name in enumerate(present):
        rows = chosen[chosen[f"out_{name}"].notna()].sort_values("workers")
        axis.plot(rows["workers"], rows[f"out_{name}"],
                  label=_series_label(name),
                  **SERIES_STYLE[index % len(SERIES_STYLE)])
    axis.set_xlabel("cores (ranks × threads)")
    axis.set_xticks(sorted(chosen["workers"].unique()))
    axis.set_ylabel(y_label)
    axis.legend(fontsize=9)
    return [(title, _finish(figure, title, runs))]


SERIES_HATCHES = ("", "//", "xx", "..", "\\\\", "++")


def _footprint_points(runs):
    """One figure: the footprint probe's memory per run (mode and split),
    one marker per recorded quantity: each is one measurement, so there is
    no interval to draw and no bar to hide its absence."""
    chosen = runs[runs["kernel"] == "footprint"]
    present = [n for n in FOOTPRINT if f"out_{n}" in chosen
               and chosen[f"out_{n}"].notna().any()]
    if chosen.empty or not present:
        return []
    chosen = chosen.sort_values(["workers", "mode"])
    figure, axis = plt.subplots(figsize=(max(6.5, 1.2 * len(chosen) + 3),
                                         4.6))
    offset = 0.6 / len(present)
    for index, name in enumerate(present):
        style = SERIES_STYLE[index % len(SERIES_STYLE)]
        axis.plot(np.arange(len(chosen)) + (index - (len(present) - 1) / 2)
                  * offset, chosen[f"out_{name}"] / 2**20, linestyle="none",
                  marker=style["marker"], color=style["color"],
                  markeredgecolor="black", label=_series_label(name))
    axis.set_xticks(range(len(chosen)))
    axis.set_xticklabels([f"{row['mode']}\n{split_label(row)}"
                          for _, row in chosen.iterrows()])
    axis.set_ylabel("memory, all ranks (MiB)")
    axis.set_xlabel("mode, ranks × threads (one measurement each)")
    axis.set_ylim(bottom=0)
    axis.legend(fontsize=9)
    title = "Memory footprint probe: the same problem as threads and ranks"
    return [(title, _finish(figure, title, runs))]


def overheads(results, table):
    """Message size against latency and bandwidth (pingpong), start-up cost
    of threads and processes (spawn), synchronisation (sync) and memory
    overhead (footprint), context switches against the working set
    (context_switch), shared and private counters (sharing): each only when
    those probe runs are present."""
    runs = results.runs
    figures = []
    figures += _curves(runs, "pingpong", "message_bytes", PINGPONG["latency"],
                       "message size (bytes)", "one-way latency (µs)",
                       "Message latency: shared memory vs MPI")
    figures += _curves(runs, "pingpong", "message_bytes",
                       PINGPONG["bandwidth"], "message size (bytes)",
                       "bandwidth (GB/s)",
                       "Message bandwidth: shared memory vs MPI")
    figures += _curves(runs, "spawn", "workers", SPAWN,
                       "workers started (threads or processes)",
                       "start-up cost (µs per worker)",
                       "Start-up cost of threads and processes")
    figures += _scalars(runs, "sync", SYNC, "time per operation (µs)",
                        "Synchronisation cost")
    figures += _footprint_points(runs)
    figures += _curves(runs, "context_switch", "working_set_bytes",
                       CONTEXT_SWITCH, "working set per worker (bytes)",
                       "time per switch (µs)",
                       "Context switch on one CPU: threads vs processes")
    figures += _sharing_points(runs)
    return figures


def _sharing_points(runs):
    """Cost per update of each way of counting (sharing), threads beside
    ranks: the median over the runs that measured it. Points, not bars: a
    run gives one figure, so there is no interval to draw."""
    chosen = runs[runs["kernel"] == "sharing"]
    kinds = [(kind, label) for kind, label in (("thread", "threads"),
                                               ("rank", "ranks (shared window)"))
             if any(f"out_{kind}_{way}" in chosen and
                    chosen[f"out_{kind}_{way}"].notna().any()
                    for way in SHARING_WAYS)]
    if chosen.empty or not kinds:
        return []
    figure, axis = plt.subplots(figsize=(7.5, 4.6))
    width = 0.3
    positions = np.arange(len(SHARING_WAYS))
    for index, (kind, label) in enumerate(kinds):
        heights = [chosen[f"out_{kind}_{way}"].median()
                   if f"out_{kind}_{way}" in chosen else np.nan
                   for way in SHARING_WAYS]
        style = dict(SERIES_STYLE[index % len(SERIES_STYLE)], linestyle="none")
        axis.plot(positions + (index - (len(kinds) - 1) / 2) * width, heights,
                  label=label, markersize=10, **style)
    axis.set_xticks(positions)
    axis.set_xticklabels([_series_label(way) for way in SHARING_WAYS])
    axis.set_yscale("log")
    axis.set_ylabel("time per update (ns)")
    axis.legend(fontsize=9)
    title = "Counters: one shared, falsely shared, padded, private, racy"
    return [(title, _finish(figure, title, runs))]


def all_figures(results, table, peak_gflops=None, peak_bandwidth=None,
                answer=None):
    """Every figure; `answer`: the main job's answer.json, when the results
    are a campaign. Probe kernels (kernel_kind "probe") measure overheads
    and get their own figures: their run times are no speedup story."""
    runs = results.runs
    probes = set(runs.loc[runs.get("kernel_kind", pd.Series(
        "work", index=runs.index)) == "probe", "kernel"]) if len(runs) else set()
    kernels = table[~table["kernel"].isin(probes)]
    return (campaign_verdict(results, answer)
            + modes_at_full_machine(results, kernels)
            + scaling(results, kernels)
            + roofline(results, kernels, peak_gflops, peak_bandwidth)
            + memory_footprint(results, kernels) + overheads(results, table))
