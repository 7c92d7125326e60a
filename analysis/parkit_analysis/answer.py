"""The main job's answer, from a campaign directory (campaign.json and its
result files): per kernel and regime a verdict with its interval, the
medians behind it, what disturbed which runs, the probes' overheads, and
the claims of the threads-vs-processes texts with the measurement behind
each (parkit_analysis.claims).

    answer = campaign_answer("results/compare-...")    # numbers
    print(answer_text(answer))                          # the text
    write_answer_json(answer, path)                     # for other readers

All statistics come from parkit_analysis.statistics, once: the text, the
HTML report and `parkit report` (through answer.json) show the same numbers.
"""
import json
import math
import os

import numpy as np

from .campaign import disturbed, parse_cpuset
from .claims import campaign_claims, claims_lines
from .json_files import write_json
from .loader import load_results
from .overheads import overhead_lines
from .statistics import DEFAULT_THRESHOLD, difference, median_ci, verdict

ANSWER_VERSION = 1


def load_campaign(directory):
    with open(os.path.join(directory, "campaign.json")) as record:
        return json.load(record)


def _bytes(value):
    if value is None or not math.isfinite(value):
        return "-"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:.0f} B"


def seconds_text(value):
    if value is None or not math.isfinite(value):
        return "-"
    if value >= 1:
        return f"{value:.3g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} us"


def _samples(campaign, runs):
    """{configuration: [seconds per round, NaN where no measurement]} and
    the disturbed runs [(run, reasons)], from the files."""
    rounds = campaign["rounds"] or max(
        [r["round"] for r in campaign["runs"]] or [0])
    samples = {c["name"]: [math.nan] * rounds
               for c in campaign["configurations"]}
    disturbances = []
    by_file = {os.path.normpath(path): row for path, row in runs.items()}
    directory = campaign["_directory"]
    oversubscribed = {c["name"] for c in campaign["configurations"]
                      if c.get("oversubscribe")}
    for run in campaign["runs"]:
        if run["status"] != 0 or not run["file"] or run["round"] > rounds:
            continue
        row = by_file.get(os.path.normpath(os.path.join(directory,
                                                        run["file"])))
        if row is None or row.get("verified") != 1:
            continue
        cpus = len(parse_cpuset(row.get("_node_cpuset", "")) or {0})
        why = disturbed(row, cpus, run["configuration"] in oversubscribed)
        if why:
            disturbances.append((run, why))
            continue
        samples[run["configuration"]][run["round"] - 1] = \
            float(row["time_median"])
    return samples, disturbances


def _group_answer(campaign, group, members, samples, threshold, preview):
    """The numbers of one kernel and regime."""
    baseline = next((c for c in members if c["baseline"]), None)
    full = [c for c in members if not c["baseline"]]
    configurations = []
    base = None
    if baseline:
        measured = [s for s in samples[baseline["name"]] if math.isfinite(s)]
        base = float(np.median(measured)) if measured else None
    for configuration in members:
        measured = [s for s in samples[configuration["name"]]
                    if math.isfinite(s)]
        ci = median_ci(measured) if measured else None
        configurations.append({
            "name": configuration["name"], "mode": configuration["mode"],
            "split": configuration["split"],
            "baseline": configuration["baseline"], "rounds": len(measured),
            "median": ci.median if ci else None,
            "low": ci.low if ci else None, "high": ci.high if ci else None,
            "coverage": ci.coverage if ci else None,
            "speedup": base / ci.median if ci and base else None})
    entry = {"group": group, "kernel": members[0]["kernel"],
             "regime": members[0]["regime"],
             "working_set_bytes": members[0]["working_set_bytes"],
             "options": members[0]["options"],
             "batch": members[0]["batch"], "configurations": configurations,
             "verdict": None, "comparisons": []}
    measured = {(c["mode"], c["split"]): samples[c["name"]] for c in full
                if any(math.isfinite(s) for s in samples[c["name"]])}
    if preview or not measured:
        return entry
    result = verdict(measured, threshold=threshold)
    entry["verdict"] = result.text()
    entry["best"] = " ".join(result.best)
    for compared in result.comparisons:
        ci = compared.comparison.ci
        point, low, high = difference(ci)
        entry["comparisons"].append({
            "best": " ".join(compared.best), "other": " ".join(compared.other),
            "outcome": compared.comparison.outcome.value,
            "ratio": ci.ratio, "ratio_low": ci.low, "ratio_high": ci.high,
            "difference": point, "difference_low": low,
            "difference_high": high,
            "rounds_needed": compared.comparison.rounds_needed,
            "advice": compared.comparison.advice})
    return entry


def campaign_answer(directory, threshold=DEFAULT_THRESHOLD):
    """Every number of the answer, as a dict (answer.json's content)."""
    campaign = load_campaign(directory)
    campaign["_directory"] = directory
    results = load_results(directory)
    runs = {row["file"]: row.to_dict() for _, row in results.runs.iterrows()}
    _attach_node_cpusets(runs)
    samples, disturbances = _samples(campaign, runs)
    preview = campaign["kind"] == "preview"
    groups = {}
    for configuration in campaign["configurations"]:
        groups.setdefault(configuration["group"], []).append(configuration)
    answer = {
        "answer_version": ANSWER_VERSION, "kind": campaign["kind"],
        "threshold": threshold, "confidence": 0.95,
        "seed": campaign["seed"], "rounds": campaign["rounds"],
        "stop_reason": campaign["stop_reason"],
        "elapsed_seconds": campaign["elapsed_seconds"],
        "machine": campaign["machine"],
        "runs": len(campaign["runs"]),
        "failed_runs": [r for r in campaign["runs"] if r["status"] != 0],
        "failed_groups": campaign["failed_groups"],
        "disturbed_runs": [{"configuration": run["configuration"],
                            "round": run["round"], "file": run["file"],
                            "why": why,
                            "foreign_processes": run["foreign_processes"]}
                           for run, why in disturbances],
        "groups": [_group_answer(campaign, group, members, samples, threshold,
                                 preview)
                   for group, members in groups.items()
                   if group not in campaign["failed_groups"]],
        "hybrid_note": _hybrid_note(campaign),
    }
    host = results.runs["host"].iloc[0] if not results.runs.empty else ""
    cpu = results.runs.get("provenance_cpu_model", [""]).iloc[0] \
        if "provenance_cpu_model" in results.runs else ""
    answer["host"], answer["cpu_model"] = host, cpu
    probes = [os.path.normpath(os.path.join(directory, p["file"]))
              for p in campaign["probes"] if p["status"] == 0 and p["file"]]
    probe_runs = results.runs[results.runs["file"].map(os.path.normpath)
                              .isin(probes)] if probes else results.runs[:0]
    answer["overheads"] = overhead_lines(probe_runs)
    answer["claims"] = campaign_claims(campaign, samples, probe_runs,
                                       threshold)
    return answer


def _attach_node_cpusets(runs):
    """Each run's nodes' CPU sets (for the tick uncertainty of
    foreign_load), read from its file."""
    import h5py
    for path, row in runs.items():
        try:
            with h5py.File(path, "r", locking=False) as f:
                cpusets = [c.decode() if isinstance(c, bytes) else str(c)
                           for c in f["nodes/cpuset"][()]]
        except (OSError, KeyError):
            cpusets = []
        row["_node_cpuset"] = ",".join(cpusets)


def _hybrid_note(campaign):
    """Why no hybrid row shows, where the cores allow none."""
    splits = [s for s in campaign["splits"] if not s["baseline"]]
    if any(s["mode"] == "hybrid" for s in splits):
        return ""
    cores = campaign["machine"].get("cores_per_node")
    return (f"no hybrid split on {cores} cores: every split that uses all "
            f"of them is 1 x {cores} (threads) or {cores} x 1 (ranks); a "
            f"'hybrid 1x{cores}' would be the threads split started through "
            "mpirun, so it is not shown as a mode of its own")


def answer_text(answer):
    """The answer as the main job prints it."""
    machine = answer["machine"]
    cores = machine.get("cores_per_node")
    lines = [f"threads or processes? {cores} cores of {answer['host']} "
             f"({answer['cpu_model']})"]
    llc = _bytes(machine.get("llc_bytes"))
    assumed = " (assumed: the machine did not say)" \
        if machine.get("llc_assumed") else ""
    lines.append(
        f"{answer['rounds']} round{'s' if answer['rounds'] != 1 else ''}, "
        f"{answer['runs']} runs, {answer['elapsed_seconds']:.0f} s, stopped "
        f"by {answer['stop_reason']}; seed {answer['seed']}; last-level "
        f"caches {llc}{assumed}")
    lines.append("")
    preview = answer["kind"] == "preview"
    if preview:
        lines.append("PREVIEW: one round, no intervals: the medians below "
                     "are not a verdict and no winner is claimed. Run the "
                     "main job without --quick for one.")
    else:
        threshold = f"{100 * answer['threshold']:g}%"
        lines.append(f"verdict per kernel and regime (time of each mode's "
                     f"best split; differences under {threshold} count as "
                     "equal; 95% CIs from the rounds):")
        for group in answer["groups"]:
            text = group["verdict"] or "no measurement decides: see below"
            lines.append(f"  {group['kernel']:<11} {group['regime']:<7} "
                         f"{text}")
    lines += ["", "median time per run (95% CI over rounds), speedup over "
              "1 rank x 1 thread; working set:"]
    for group in answer["groups"]:
        cells = []
        for c in group["configurations"]:
            interval = f" ({seconds_text(c['low'])}-{seconds_text(c['high'])})" \
                if c["low"] is not None else ""
            speedup = f" x{c['speedup']:.2f}" if c["speedup"] else ""
            cells.append(f"{c['mode']} {c['split']} "
                         f"{seconds_text(c['median'])}{interval}{speedup}"
                         f" [{c['rounds']}]")
        lines.append(f"  {group['kernel']} {group['regime']} "
                     f"({_bytes(group['working_set_bytes'])}): "
                     + " | ".join(cells))
    lines.append("  ([n]: rounds that measured it)")
    if answer["hybrid_note"]:
        lines += ["", answer["hybrid_note"] + "."]
    lines += ["", _interference_text(answer)]
    for run in answer["failed_runs"]:
        lines.append(f"FAILED: {run['configuration']} (round {run['round']}): "
                     f"{run['error']}")
    for group, why in answer["failed_groups"].items():
        lines.append(f"FAILED: {group} could not be calibrated: {why}")
    if answer["overheads"]:
        lines += ["", "overheads, measured now:"] + \
            ["  " + line for line in answer["overheads"]]
    if answer.get("claims"):
        lines += ["", "the claims of the threads-vs-processes texts, on this "
                  "machine (each with the measurement behind it):"] + \
            ["  " + line for line in claims_lines(answer["claims"])]
    return "\n".join(lines)


def _interference_text(answer):
    disturbed_runs = answer["disturbed_runs"]
    if not disturbed_runs:
        return (f"interference: none of the {answer['runs']} runs was "
                "disturbed (no foreign load above 5% of a core, no worker "
                "waiting for a CPU more than 5% of its time)")
    busiest, commands = {}, {}
    for run in disturbed_runs:
        for process in run["foreign_processes"]:
            key = (process["name"], process["pid"])
            busiest[key] = max(busiest.get(key, 0), process["cores"])
            commands[key] = process.get("command") or ""

    def described(key):
        name, pid = key
        command = commands[key]
        shown = f": {command}" if command and command != name else ""
        return f"{name} (pid {pid}{shown}, up to {busiest[key]:.2f} cores)"
    named = ", ".join(described(key) for key in sorted(
        busiest, key=lambda key: -busiest[key])[:3])
    text = (f"interference: {len(disturbed_runs)} of {answer['runs']} runs "
            f"were disturbed and decide nothing ({disturbed_runs[0]['why']}")
    if named:
        text += f"; other processes busy meanwhile: {named})"
    else:  # the busy processes started and ended within the runs
        text += ("; no process outlived its run to be named: short-lived "
                 "processes, such as builds or test commands)")
    return text


def write_answer_json(answer, path):
    write_json(answer, path)
