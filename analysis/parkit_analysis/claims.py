"""The claims of the usual threads-vs-processes texts, each with the
measurement behind it on this machine and whether it held, did not hold, or
depends (and on what): the table the main job ends with.

    claims = campaign_claims(campaign, samples, probe_runs, threshold)
    print("\\n".join(claims_lines(claims)))

Every figure comes from the result files, and says where from (its
`source`, which tests/python/test_main_job.py reads back):
  {"probe": KERNEL, "output": NAME, "at": {"output": AXIS, "value": X},
   "mode": MODE, "files": [...]}
                       the median over the probe's runs (one per split; of
                       one mode when MODE is not None) of output NAME (at
                       the entry where output AXIS is X; "at": None for a
                       scalar);
  {"configuration": NAME, "statistic": "median_time", "disturbed": D,
   "files": [...]}     the median over the campaign's rounds of the runs'
                       time_median (seconds per repetition); D true when no
                       round's run decides, and these are the disturbed
                       runs (the figure's label says so);
  {"configuration": NAME, "statistic": "throughput", "files": [...]}
                       work_items / that median (items per second);
                       with "once": true, the one run of a configuration
                       the campaign launched once, after the rounds (the
                       oversubscribed points between 1 and 8 per core);
  {"configuration": NAME, "output": NAME, "files": [...]}
                       a figure of the launch the runs record alike
                       (wait's latency_bound_rate), from the first file.
File paths are relative to the campaign directory. Comparisons between
campaign configurations are statistics.ratio_ci and statistics.compare over
the rounds (95% CI of the ratio of medians; the rounds both have, paired);
the probes have no rounds, so theirs compare their own medians with the same
threshold and say so.

Outcomes: "held", "did not hold", "depends" (the row says on what),
"undecided" (the measurements do not decide yet: too few rounds, disturbed
runs) and "not measured" (the kernel or probe did not run).
"""
import math
import os
import textwrap

import numpy as np

from .loader import array_outputs
from .statistics import Outcome, compare, min_samples, ratio_ci

HELD, NOT_HELD, DEPENDS = "held", "did not hold", "depends"
UNDECIDED, NOT_MEASURED = "undecided", "not measured"


# ---- formatting ----------------------------------------------------------------

def _time(seconds):
    if seconds is None or not math.isfinite(seconds):
        return "n/a"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


UNIT_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def figure_text(figure):
    """A figure's value in its unit, for people."""
    value, unit = figure["value"], figure["unit"]
    if unit in UNIT_SECONDS:
        return _time(value * UNIT_SECONDS[unit])
    if unit == "B":
        for name, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
            if value >= size:
                return f"{value / size:.3g} {name}"
        return f"{value:.0f} B"
    if unit == "items/s":
        return f"{value:.0f} items/s" if value >= 100 else \
            f"{value:.3g} items/s"
    if unit == "GB/s":
        return f"{value:.3g} GB/s"
    return f"{value:g}" + ("" if unit in ("1", "") else f" {unit}")


def _times(ratio):
    """A ratio as 'x2.4' or 'x0.81'."""
    return f"x{ratio:.3g}"


# ---- figures from the probes ------------------------------------------------------

class Probes:
    """The probe runs of a campaign, and figures read from their files."""

    def __init__(self, runs, directory):
        self.runs, self.directory = runs, directory

    def files(self, kernel, mode=None):
        """Paths (relative to the campaign) of the verified runs of probe
        `kernel` (of one mode, when given)."""
        if self.runs is None or self.runs.empty:
            return []
        rows = self.runs[(self.runs["kernel"] == kernel)
                         & (self.runs["verified"] == 1)]
        if mode is not None:
            rows = rows[rows["mode"] == mode]
        return sorted(os.path.relpath(p, self.directory) for p in rows["file"])

    def figure(self, label, kernel, output, unit, at=None, mode=None):
        """The median over the probe's runs (of one mode, when given) that
        hold `output`, of its value (at the entry where output at[0] equals
        at[1]); None when no run has it."""
        files = self.files(kernel, mode)
        values = [read_output(os.path.join(self.directory, f), output, at)
                  for f in files]
        kept = [(f, v) for f, v in zip(files, values) if v is not None]
        if not kept:
            return None
        source = {"probe": kernel, "output": output,
                  "at": {"output": at[0], "value": at[1]} if at else None,
                  "mode": mode, "files": [f for f, _ in kept]}
        return {"label": label, "value": float(np.median([v for _, v in kept])),
                "unit": unit, "source": source}


def read_output(path, output, at=None):
    """Output `output` of the result file at `path`: a scalar, or the entry
    of an array where output at[0] equals at[1] (the nearest entry); None
    when the file lacks it."""
    import h5py
    with h5py.File(path, "r", locking=False) as f:
        if f"outputs/{output}" not in f:
            return None
        value = np.asarray(f[f"outputs/{output}"][()], dtype=float)
        if at is None:
            return float(value) if value.ndim == 0 else None
        axis = np.asarray(f[f"outputs/{at[0]}"][()], dtype=float)
    return float(value[int(np.argmin(np.abs(axis - at[1])))])


def read_attribute(path, name):
    """Root attribute `name` of the result file at `path`."""
    import h5py
    with h5py.File(path, "r", locking=False) as f:
        return f.attrs[name]


def array_of(path, name):
    """The 1-D output `name` of the result file at `path`."""
    return np.asarray(array_outputs(path)[0][name], dtype=float)


# ---- figures and comparisons from the campaign's rounds ---------------------------

class Rounds:
    """The campaign's configurations, their samples per round (NaN where a
    round has none that decides) and the files behind them: `files` those
    of the samples, `all_files` every finished run's (disturbed ones
    too)."""

    def __init__(self, campaign, samples, threshold):
        self.campaign, self.samples, self.threshold = campaign, samples, \
            threshold
        self.by_name = {c["name"]: c for c in campaign["configurations"]}
        self.files = {name: {} for name in self.by_name}
        self.all_files = {name: {} for name in self.by_name}
        for run in campaign["runs"]:
            if run["status"] != 0 or not run["file"] or \
                    run["configuration"] not in self.by_name:
                continue
            self.all_files[run["configuration"]][run["round"]] = run["file"]
            values = samples.get(run["configuration"], [])
            index = run["round"] - 1
            if 0 <= index < len(values) and math.isfinite(values[index]):
                self.files[run["configuration"]][run["round"]] = run["file"]
        # Configurations launched once, after the rounds, and their files.
        self.once = {c["name"]: c for c in
                     campaign.get("point_configurations", [])}
        self.once_files = {r["configuration"]: r["file"]
                           for r in campaign.get("points", [])
                           if r["status"] == 0 and r["file"]}

    def find(self, kernel, regime, mode=None, workers_per_core=None,
             baseline=False):
        """The configurations that match, fewest workers first."""
        found = [c for c in self.by_name.values()
                 if c["kernel"] == kernel and c["regime"] == regime
                 and c["baseline"] == baseline
                 and (mode is None or c["mode"] == mode)
                 and (workers_per_core is None
                      or c.get("workers_per_core", 1) == workers_per_core)]
        return sorted(found, key=lambda c: c["ranks"] * c["threads"])

    def measured(self, name):
        return [v for v in self.samples.get(name, []) if math.isfinite(v)]

    def best(self, kernel, regime, mode):
        """The full-machine configuration of `mode` with the lowest median,
        among those measured (when none is, the first); None when the
        campaign has none."""
        candidates = [c for c in self.find(kernel, regime, mode)
                      if c.get("workers_per_core", 1) == 1]
        measured = [c for c in candidates if self.measured(c["name"])]
        if not measured:
            return candidates[0] if candidates else None
        return min(measured, key=lambda c: np.median(
            self.measured(c["name"])))

    def figure(self, label, name, statistic="median_time"):
        """The median over the rounds of configuration `name`'s run time
        (or throughput); when no round's run decides, over its disturbed
        runs, labelled so (source "disturbed": true). None without runs."""
        import h5py
        directory = self.campaign["_directory"]
        files = [self.files[name][r] for r in sorted(self.files[name])]
        values = self.measured(name)
        disturbed = not values
        if disturbed:
            files, values = [], []
            for round_number in sorted(self.all_files[name]):
                path = self.all_files[name][round_number]
                with h5py.File(os.path.join(directory, path), "r",
                               locking=False) as f:
                    if int(f.attrs["verified"]) == 1:
                        files.append(path)
                        values.append(float(f.attrs["time_median"]))
            if not values:
                return None
            label += " (disturbed runs)"
        source = {"configuration": name, "statistic": statistic,
                  "disturbed": disturbed, "files": files}
        return self._figure(label, float(np.median(values)), statistic,
                            source)

    def _figure(self, label, median, statistic, source):
        """A figure of a median run time, or of the throughput it gives."""
        import h5py
        if statistic == "median_time":
            return {"label": label, "value": median, "unit": "s",
                    "source": source}
        with h5py.File(os.path.join(self.campaign["_directory"],
                                    source["files"][0]), "r",
                       locking=False) as f:
            items = float(f.attrs["work_items"])
        return {"label": label, "value": items / median, "unit": "items/s",
                "source": source}

    def find_once(self, kernel, mode, workers_per_core):
        """The configuration of `kernel` launched once with `mode` and k
        workers per core; None when there is none."""
        return next((c for c in self.once.values()
                     if c["kernel"] == kernel and c["mode"] == mode
                     and c.get("workers_per_core") == workers_per_core),
                    None)

    def once_figure(self, label, name, statistic="median_time"):
        """The time (or throughput) of the one run of a configuration
        launched once; None when it did not verify."""
        import h5py
        path = self.once_files.get(name)
        if path is None:
            return None
        with h5py.File(os.path.join(self.campaign["_directory"], path), "r",
                       locking=False) as f:
            if int(f.attrs["verified"]) != 1:
                return None
            median = float(f.attrs["time_median"])
        source = {"configuration": name, "statistic": statistic,
                  "once": True, "files": [path]}
        return self._figure(label + " (one run)", median, statistic, source)

    def launch_figure(self, label, name, output, unit):
        """An output every run of `name` records alike, from its first
        file."""
        files = [self.all_files[name][r] for r in sorted(self.all_files[name])]
        if not files:
            return None
        value = read_output(os.path.join(self.campaign["_directory"],
                                         files[0]), output)
        if value is None:
            return None
        return {"label": label, "value": value, "unit": unit,
                "source": {"configuration": name, "output": output,
                           "files": files[:1]}}

    def comparison(self, a, b):
        """time(a) / time(b) over the rounds, its 95% CI and its outcome:
        'faster' (a faster than b beyond the threshold), 'slower',
        'equivalent' or 'inconclusive'. None when either has no sample."""
        sa = np.asarray(self.samples.get(a, []), dtype=float)
        sb = np.asarray(self.samples.get(b, []), dtype=float)
        fa, fb = sa[np.isfinite(sa)], sb[np.isfinite(sb)]
        if fa.size == 0 or fb.size == 0:
            return None
        both = np.isfinite(sa) & np.isfinite(sb) if sa.size == sb.size \
            else np.zeros(0, bool)
        if both.sum() >= min_samples():
            ci = ratio_ci(sa[both], sb[both], paired=True)
        else:
            ci = ratio_ci(fa, fb)
        result = compare(ci, self.threshold)
        return {"a": a, "b": b, "ratio": ci.ratio, "low": ci.low,
                "high": ci.high, "rounds": [int(ci.n_a), int(ci.n_b)],
                "paired": bool(ci.paired), "outcome": result.outcome.value,
                "advice": result.advice}


def _ci_text(comparison):
    """'x2.1 (95% CI x2.0-x2.2)' of a comparison's ratio."""
    ratio, low, high = comparison["ratio"], comparison["low"], \
        comparison["high"]
    if low is None:
        return f"{_times(ratio)} (no CI: {comparison['advice']})"
    return f"{_times(ratio)} (95% CI {_times(low)}-{_times(high)})"


def _versus_text(comparison, a, b):
    """'a take x0.97 (95% CI ...) the time of b (equivalent)', or that no
    round decides."""
    if comparison is None:
        return f"{a} vs {b}: no round measured both without disturbance"
    return (f"{a} take {_ci_text(comparison)} the time of {b} "
            f"({comparison['outcome']})")


def _decided(*comparisons):
    return all(c is not None and c["outcome"] != Outcome.INCONCLUSIVE.value
               for c in comparisons)


def _undecided_because(*comparisons):
    for c in comparisons:
        if c is None:
            return "no round measured it without disturbance"
        if c["outcome"] == Outcome.INCONCLUSIVE.value:
            return f"{c['a']} vs {c['b']}: {c['advice']}"
    return ""


def _gain(comparison):
    """For time(k=1) / time(k=8): 'more' (k=8 faster beyond the threshold),
    'less' (slower), 'same'."""
    return {Outcome.SLOWER.value: "more", Outcome.FASTER.value: "less",
            Outcome.EQUIVALENT.value: "same"}[comparison["outcome"]]


def _probe_order(ratio, threshold):
    """A ratio of two probe medians against the threshold: 'more', 'less'
    or 'same'."""
    if ratio > 1 + threshold:
        return "more"
    if ratio < 1 / (1 + threshold):
        return "less"
    return "same"


# ---- the claims --------------------------------------------------------------------

def _row(number, claim, measured_by, figures, outcome, because,
         comparisons=()):
    return {"number": number, "claim": claim, "measured_by": measured_by,
            "figures": [f for f in figures if f is not None],
            "comparisons": [c for c in comparisons if c is not None],
            "outcome": outcome, "because": because}


def _missing(number, claim, measured_by, what):
    return _row(number, claim, measured_by, [], NOT_MEASURED,
                f"{what} did not run in this campaign")


def claim_creation(probes, cores, threshold):
    claim = "threads are cheaper to create than processes"
    at = ("workers", cores)
    pthread = probes.figure(f"pthread start + join of {cores}, per worker",
                            "spawn", "pthread_start_join", "us", at)
    fork = probes.figure(f"fork + exec + wait of {cores}, per worker",
                         "spawn", "fork_exec_wait", "us", at)
    openmp = probes.figure(f"OpenMP region of {cores} (pool warm), per "
                           "worker", "spawn", "openmp_start_join", "us", at)
    if pthread is None or fork is None:
        return _missing(1, claim, "spawn probe", "the spawn probe")
    ratio = fork["value"] / pthread["value"]
    order = _probe_order(ratio, threshold)
    outcome = {"more": HELD, "less": NOT_HELD, "same": NOT_HELD}[order]
    because = (f"a process (fork + exec) costs {_times(ratio)} a pthread to "
               "start and join (probe medians)")
    return _row(1, claim, "spawn probe", [pthread, fork, openmp], outcome,
                because)


def claim_communication(probes, threshold):
    claim = ("threads share memory, so they communicate with less delay "
             "and more bandwidth than processes through IPC")
    shm = probes.figure("8 B between two threads (shared memory)",
                        "pingpong", "shm_latency", "us", ("message_bytes", 8))
    mpi = probes.figure("8 B between two ranks (MPI)", "pingpong",
                        "mpi_latency", "us", ("message_bytes", 8))
    shm_bw = probes.figure("1 MiB between two threads", "pingpong",
                           "shm_bandwidth", "GB/s",
                           ("message_bytes", 2**20))
    mpi_bw = probes.figure("1 MiB between two ranks", "pingpong",
                           "mpi_bandwidth", "GB/s", ("message_bytes", 2**20))
    if None in (shm, mpi, shm_bw, mpi_bw):
        return _missing(2, claim, "pingpong probe",
                        "pingpong with two threads and with two ranks")
    latency = _probe_order(mpi["value"] / shm["value"], threshold)
    bandwidth = _probe_order(shm_bw["value"] / mpi_bw["value"], threshold)
    if latency == bandwidth == "more":
        outcome, how = HELD, "faster at both sizes"
    elif "more" not in (latency, bandwidth):
        outcome, how = NOT_HELD, "not faster at either size"
    else:
        outcome, how = DEPENDS, "on the message size"
    because = (f"{how}: latency {_times(mpi['value'] / shm['value'])} lower, "
               f"bandwidth {_times(shm_bw['value'] / mpi_bw['value'])} "
               "between threads (probe medians)")
    return _row(2, claim, "pingpong probe", [shm, mpi, shm_bw, mpi_bw],
                outcome, because)


def _footprint_figure(probes, mode, output, label):
    return probes.figure(label, "footprint", output, "B", mode=mode)


def claim_memory(probes, threshold):
    claim = "processes cost more memory than threads"
    measure = "job_pss"
    threads = _footprint_figure(probes, "threads", measure,
                                "whole job as threads (PSS)")
    ranks = _footprint_figure(probes, "ranks", measure,
                              "whole job as ranks (PSS)")
    if threads is None or ranks is None:
        measure = "job_rss"
        threads = _footprint_figure(probes, "threads", measure,
                                    "whole job as threads (RSS)")
        ranks = _footprint_figure(probes, "ranks", measure,
                                  "whole job as ranks (RSS)")
    problem = _footprint_figure(probes, "threads", "problem_bytes",
                                "the problem")
    if None in (threads, ranks, problem):
        return _missing(3, claim, "footprint probe",
                        "footprint as threads and as ranks")
    rows = probes.runs[(probes.runs["kernel"] == "footprint")
                       & (probes.runs["mode"] == "ranks")]
    processes = int(rows["ranks"].max())
    extra = (ranks["value"] - threads["value"]) / max(processes - 1, 1)
    order = _probe_order(ranks["value"] / threads["value"], threshold)
    outcome = {"more": HELD, "less": NOT_HELD, "same": NOT_HELD}[order]
    because = (f"{figure_text({'value': extra, 'unit': 'B'})} more per "
               f"extra process ({measure[4:].upper()}), a fixed cost: "
               f"{100 * extra / problem['value']:.0f}% of this "
               f"{figure_text(problem)} problem, less of a larger one")
    return _row(3, claim, "footprint probe", [threads, ranks, problem],
                outcome, because)


def claim_parallelism(rounds):
    claim = ("processes give true parallelism for CPU-bound work (and "
             "threads do not)")
    figures, comparisons, findings, undecided = [], [], [], []
    planned = False
    for kernel, regime in (("montecarlo", "compute"), ("matmul", "cache")):
        base = rounds.find(kernel, regime, baseline=True)
        if not base or not rounds.find(kernel, regime):
            continue
        planned = True
        threads = rounds.best(kernel, regime, "threads")
        ranks = rounds.best(kernel, regime, "ranks")
        base = base[0]
        if threads is None or ranks is None:
            continue
        figures += [rounds.figure(f"{kernel} {regime}, 1 core", base["name"]),
                    rounds.figure(f"{kernel} {regime}, threads "
                                  f"{threads['ranks']}x{threads['threads']}",
                                  threads["name"]),
                    rounds.figure(f"{kernel} {regime}, ranks "
                                  f"{ranks['ranks']}x{ranks['threads']}",
                                  ranks["name"])]
        speedup_threads = rounds.comparison(base["name"], threads["name"])
        speedup_ranks = rounds.comparison(base["name"], ranks["name"])
        versus = rounds.comparison(threads["name"], ranks["name"])
        comparisons += [speedup_threads, speedup_ranks, versus]
        # The speedups decide; threads vs ranks is told, decided or not.
        if not _decided(speedup_threads, speedup_ranks):
            undecided.append(f"{kernel}: " + _undecided_because(
                speedup_threads, speedup_ranks))
            continue
        findings.append((kernel, _gain(speedup_threads) == "more",
                         _gain(speedup_ranks) == "more", speedup_threads,
                         speedup_ranks, versus))
    if not planned:
        return _missing(4, claim, "campaign rounds",
                        "montecarlo (compute) or matmul (cache)")
    if not findings:
        return _row(4, claim, "campaign rounds", figures, UNDECIDED,
                    "; ".join(undecided), comparisons)
    parts = [f"{k}: speedup over 1 core as threads {_ci_text(st)}, as ranks "
             f"{_ci_text(sr)}; {_versus_text(v, 'threads', 'ranks')}"
             for k, _, _, st, sr, v in findings]
    ranks_parallel = all(f[2] for f in findings)
    threads_parallel = all(f[1] for f in findings)
    if ranks_parallel and threads_parallel:
        outcome = NOT_HELD
        because = "both run in parallel: " + "; ".join(parts)
    elif ranks_parallel:
        outcome, because = HELD, "; ".join(parts)
    else:
        outcome, because = NOT_HELD, "ranks did not speed up: " + \
            "; ".join(parts)
    return _row(4, claim, "campaign rounds", figures, outcome, because,
                comparisons)


def claim_switching(probes, threshold):
    claim = "switching between threads costs less than between processes"
    figures = []
    orders = []
    sizes = None
    files = probes.files("context_switch")
    if files:
        sizes = array_of(os.path.join(probes.directory, files[0]),
                         "working_set_bytes")
    if sizes is None or sizes.size == 0:
        return _missing(5, claim, "context_switch probe",
                        "the context_switch probe")
    for size in (sizes[0], sizes[-1]):
        label = figure_text({"value": size, "unit": "B"})
        thread = probes.figure(f"thread switch, {label} working set",
                               "context_switch", "thread_switch", "us",
                               ("working_set_bytes", size))
        process = probes.figure(f"process switch, {label} working set",
                                "context_switch", "process_switch", "us",
                                ("working_set_bytes", size))
        figures += [thread, process]
        orders.append((label, process["value"] / thread["value"]))
    verdicts = [_probe_order(ratio, threshold) for _, ratio in orders]
    if all(v == "more" for v in verdicts):
        outcome, how = HELD, "cheaper between threads"
    elif all(v != "more" for v in verdicts):
        outcome, how = NOT_HELD, "no cheaper between threads"
    else:
        outcome, how = DEPENDS, "on the working set"
    because = f"{how}: a process switch takes " + ", ".join(
        f"{_times(ratio)} a thread switch with {label}"
        for label, ratio in orders) + " (probe medians, one CPU)"
    return _row(5, claim, "context_switch probe", figures, outcome, because)


def _oversubscribed(rounds, kernel, mode, k):
    found = rounds.find(kernel, "oversubscribed", mode, k)
    return found[0] if found else None


def _curve(rounds, kernel, statistic):
    """Figures of `kernel` at every k workers per core the campaign ran,
    threads and ranks: from the rounds, else from the run launched once;
    and the text of the curve ('threads: 1767, 3500 ... items/s')."""
    factors = sorted({c.get("workers_per_core", 1)
                      for c in list(rounds.by_name.values())
                      + list(rounds.once.values())
                      if c["kernel"] == kernel
                      and c["regime"] == "oversubscribed"})
    figures, texts = [], []
    for mode in ("threads", "ranks"):
        points = []
        for k in factors:
            label = f"{kernel} {mode}, {k} per core"
            c = _oversubscribed(rounds, kernel, mode, k)
            if c is not None:
                figure = rounds.figure(label, c["name"], statistic)
            else:
                c = rounds.find_once(kernel, mode, k)
                figure = c and rounds.once_figure(label, c["name"], statistic)
            if figure is not None:
                figures.append(figure)
                points.append(f"{k}: {figure_text(figure)}")
        if points:
            texts.append(f"{mode} " + ", ".join(points))
    return figures, (f"by workers per core: {'; '.join(texts)}" if texts
                     else "")


def claim_waiting(rounds):
    claim = ("threads suit I/O-bound work: while one waits, others use the "
             "CPU; processes waiting on I/O waste the cores")
    top = max(c.get("workers_per_core", 1) for c in rounds.by_name.values())
    configurations = {(mode, k): _oversubscribed(rounds, "wait", mode, k)
                      for mode in ("threads", "ranks") for k in (1, top)}
    if top < 2 or None in configurations.values():
        return _missing(6, claim, "wait, oversubscribed",
                        "wait with 1 and more workers per core")
    figures, curve = _curve(rounds, "wait", "throughput")
    for k in (1, top):
        c = configurations[("threads", k)]
        figures.append(rounds.launch_figure(
            f"bound: {c['ranks'] * c['threads']} workers x 1 / latency",
            c["name"], "latency_bound_rate", "items/s"))
    gain_threads = rounds.comparison(configurations[("threads", 1)]["name"],
                                     configurations[("threads", top)]["name"])
    gain_ranks = rounds.comparison(configurations[("ranks", 1)]["name"],
                                   configurations[("ranks", top)]["name"])
    versus = rounds.comparison(configurations[("threads", top)]["name"],
                               configurations[("ranks", top)]["name"])
    comparisons = [gain_threads, gain_ranks, versus]
    # The gains decide; threads vs ranks is told, decided or not.
    if not _decided(gain_threads, gain_ranks):
        return _row(6, claim, "wait, oversubscribed", figures, UNDECIDED,
                    _undecided_because(gain_threads, gain_ranks),
                    comparisons)
    gains = (f"{top} workers per core raise the throughput "
             f"{_ci_text(gain_threads)} as threads, {_ci_text(gain_ranks)} "
             f"as ranks; at {top} per core "
             f"{_versus_text(versus, 'threads', 'ranks')}; throughput "
             f"{curve}")
    if _gain(gain_threads) != "more":
        outcome, because = NOT_HELD, "more threads than cores did not help: " \
            + gains
    elif _gain(gain_ranks) != "more":
        outcome, because = HELD, gains
    else:
        outcome = DEPENDS
        because = ("on workers per core, not on threads vs processes: at 1 "
                   "per core both leave the cores idle while they wait; "
                   "with more, processes overlap the waits too: " + gains)
    return _row(6, claim, "wait, oversubscribed", figures, outcome, because,
                comparisons)


def claim_overloading(rounds):
    claim = "avoid overloading the system with more threads or processes " \
        "than cores"
    top = max(c.get("workers_per_core", 1) for c in rounds.by_name.values())
    figures, comparisons, effects, curves = [], [], {}, []
    for kernel, doing in (("montecarlo", "computing"), ("wait", "waiting")):
        kernel_figures, curve = _curve(rounds, kernel, "median_time")
        figures += kernel_figures
        if curve:
            curves.append(f"{kernel} time {curve}")
        for mode in ("threads", "ranks"):
            one = _oversubscribed(rounds, kernel, mode, 1)
            many = _oversubscribed(rounds, kernel, mode, top)
            if one is None or many is None or top < 2:
                continue
            slowdown = rounds.comparison(many["name"], one["name"])
            comparisons.append(slowdown)
            effects[(doing, mode)] = slowdown
    if len(effects) < 4:
        return _missing(7, claim, "montecarlo and wait, oversubscribed",
                        "montecarlo and wait with 1 and more workers per core")
    # time(top per core) / time(1 per core): 'slower' hurts, 'faster' helps.
    outcomes = {key: (c["outcome"] if c else Outcome.INCONCLUSIVE.value)
                for key, c in effects.items()}
    hurts = any(outcomes[("computing", m)] == Outcome.SLOWER.value
                for m in ("threads", "ranks"))
    helps = any(outcomes[("waiting", m)] == Outcome.FASTER.value
                for m in ("threads", "ranks"))
    computing_decided = all(outcomes[("computing", m)] !=
                            Outcome.INCONCLUSIVE.value
                            for m in ("threads", "ranks"))
    waiting_decided = all(outcomes[("waiting", m)] !=
                          Outcome.INCONCLUSIVE.value
                          for m in ("threads", "ranks"))

    def effect(doing):
        texts = []
        for mode in ("threads", "ranks"):
            c = effects[(doing, mode)]
            texts.append(f"{mode} take {_ci_text(c)} the time "
                         f"({c['outcome']})" if c else
                         f"{mode}: no round measured it without disturbance")
        return f"{doing}: " + ", ".join(texts)
    detail = (f"{top} workers per core against 1: {effect('computing')}; "
              f"{effect('waiting')}; " + "; ".join(curves))
    if hurts and helps:
        outcome, because = DEPENDS, "on whether the workers compute or " \
            f"wait: {detail}"
    elif hurts and waiting_decided:
        outcome, because = HELD, detail
    elif helps and computing_decided:
        outcome, because = NOT_HELD, "no slowdown beyond the threshold: " + \
            detail
    elif computing_decided and waiting_decided:
        outcome, because = NOT_HELD, "neither hurt nor helped beyond the " \
            f"threshold: {detail}"
    else:
        outcome, because = UNDECIDED, _undecided_because(*effects.values())
    return _row(7, claim, "montecarlo and wait, oversubscribed", figures,
                outcome, because, comparisons)


def claim_isolation(probes):
    claim = ("processes are isolated: one crashing leaves the others "
             "running; a crashing thread takes down all")
    files = probes.files("isolation")
    if not files:
        return _missing(8, claim, "isolation probe", "the isolation probe")
    import h5py
    with h5py.File(os.path.join(probes.directory, files[0]), "r",
                   locking=False) as f:
        team = int(f.attrs["team"])
    survivors = team - 1
    names = [("thread_finished", "threads finished after a thread crashed",
              "workers"),
             ("thread_exit_status", "their process's exit status", "1"),
             ("process_finished", "processes finished after one crashed",
              "workers"),
             ("rank_finished", "MPI ranks finished after one crashed",
              "workers"),
             ("rank_exit_status", "mpirun's exit status", "1"),
             ("rank_end_after_crash", "MPI job ended after the crash", "s")]
    figures = {name: probes.figure(label, "isolation", name, unit)
               for name, label, unit in names}
    threads_share = figures["thread_finished"]["value"] == 0
    processes_isolated = figures["process_finished"]["value"] == survivors
    text = (f"one of {team} crashed (SIGSEGV): "
            f"{figures['thread_finished']['value']:g} of {survivors} other "
            f"threads finished (process exit "
            f"{figures['thread_exit_status']['value']:g}), "
            f"{figures['process_finished']['value']:g} of {survivors} "
            "processes")
    ranks = figures["rank_finished"]
    if ranks is not None:
        text += (f", {ranks['value']:g} of {survivors} MPI ranks (mpirun "
                 f"exit {figures['rank_exit_status']['value']:g}, "
                 f"{_time(figures['rank_end_after_crash']['value'])} after "
                 "the crash)")
    if not (threads_share and processes_isolated):
        outcome = NOT_HELD
    elif ranks is not None and ranks["value"] < survivors:
        outcome = DEPENDS
        text = ("on whether the processes form an MPI job: plain processes "
                "are isolated, an MPI job ends when one rank dies; " + text)
    else:
        outcome = HELD
    return _row(8, claim, "isolation probe",
                [figures[n] for n, _, _ in names], outcome, text)


def claim_sharing(probes, threshold):
    claim = ("shared memory brings contention and races that need "
             "synchronisation")
    figures, parts, contended, raced = [], [], [], []
    for kind, workers in (("thread", "threads"), ("rank", "ranks")):
        shared = probes.figure(f"{workers}: atomic add, one shared counter",
                               "sharing", f"{kind}_shared_atomic", "ns")
        false = probes.figure(f"{workers}: atomic add, own word of a shared "
                              "line", "sharing", f"{kind}_false_sharing",
                              "ns")
        padded = probes.figure(f"{workers}: atomic add, own line", "sharing",
                               f"{kind}_padded_atomic", "ns")
        private = probes.figure(f"{workers}: add in a register, one "
                                "reduction", "sharing", f"{kind}_private",
                                "ns")
        lost = probes.figure(f"{workers}: lost racing", "sharing",
                             f"{kind}_lost_updates", "updates")
        if None in (shared, false, padded, private, lost):
            continue
        figures += [shared, false, padded, private, lost]
        first = os.path.join(probes.directory, lost["source"]["files"][0])
        racing = int(read_attribute(first, "updates")) * int(
            read_attribute(first, "threads") if kind == "thread"
            else read_output(first, "node_ranks"))
        sharing = shared["value"] / padded["value"]
        falsely = false["value"] / padded["value"]
        contended.append(_probe_order(sharing, threshold) == "more" or
                         _probe_order(falsely, threshold) == "more")
        raced.append(lost["value"] > 0)
        parts.append(f"{workers}: a shared line costs {_times(sharing)} an "
                     f"own line (false sharing {_times(falsely)}, a register "
                     f"{_times(private['value'] / padded['value'])}), "
                     f"{lost['value']:.0f} of {racing} updates lost racing")
    if not figures:
        return _missing(9, claim, "sharing probe",
                        "sharing with two threads or two ranks")
    if all(contended) and all(raced):
        outcome, lead = HELD, ""
    elif any(contended) or any(raced):
        outcome, lead = DEPENDS, "on the workers running at once: "
    else:
        outcome, lead = NOT_HELD, ""
    return _row(9, claim, "sharing probe", figures, outcome,
                lead + "; ".join(parts) + " (probe medians)")


def campaign_claims(campaign, samples, probe_runs, threshold):
    """Every claim as a dict (answer.json's "claims"); see the module
    docstring."""
    directory = campaign["_directory"]
    probes = Probes(probe_runs, directory)
    rounds = Rounds(campaign, samples, threshold)
    cores = int(campaign["machine"].get("cores_per_node") or 1)
    rows = [claim_creation(probes, cores, threshold),
            claim_communication(probes, threshold),
            claim_memory(probes, threshold),
            claim_parallelism(rounds),
            claim_switching(probes, threshold),
            claim_waiting(rounds),
            claim_overloading(rounds),
            claim_isolation(probes),
            claim_sharing(probes, threshold)]
    if campaign["kind"] == "preview":
        for row in rows:
            if row["outcome"] != NOT_MEASURED:
                row["outcome"] = UNDECIDED
                row["because"] = "a preview decides no claim; run the main " \
                    "job without --quick"
    return rows


def claims_lines(claims, width=100):
    """The claims table as text lines: per claim, its outcome on one line,
    then the figures behind it and why, wrapped at `width`."""
    lines = []
    for row in claims:
        lines.append(f"{row['number']}. {row['claim']}: "
                     f"{row['outcome'].upper()}")
        texts = []
        if row["figures"]:
            texts.append("; ".join(f"{f['label']} {figure_text(f)}"
                                   for f in row["figures"]))
        texts.append(f"{row['because']} [{row['measured_by']}]")
        for text in texts:
            lines += textwrap.wrap(text, width, initial_indent="     ",
                                   subsequent_indent="       ",
                                   break_on_hyphens=False)
    return lines
