"""The campaign engine: the main job (jobs/compare_modes.sh) runs the same
kernels as threads, ranks and hybrids on this machine, long enough and often
enough that its answer survives a rerun.

Design (README "How the main job measures"; Hoefler & Belli, SC15):
- Configurations: every work kernel in each of its regimes, sized from the
  machine: *cache* (working set a quarter of the sum of the last-level
  caches the job runs on), *memory* (four times that sum); kernels whose
  working set does not grow with a size run once, as *compute*. Each runs
  in every split that uses all the cores (`parkit splits`) and as the one-
  core base case (1 rank x 1 thread). Two kernels also run *oversubscribed*
  (OVERSUBSCRIBED): one that computes (montecarlo pi) and one that waits
  (wait), with k workers per core, as threads (1 x k cores) and as ranks
  (k cores x 1, mpirun --oversubscribe --bind-to none), to show where more
  workers than cores help and where they hurt: k = 1 and 8 in every round
  (so their ratios get CIs), k = 2 and 4 once each after the rounds (the
  points between: on 2 cores a round of all four would take a third more
  time, and the budget would hold one round fewer than a CI needs). wait
  runs only so (its k = 1 splits are the full machine's).
- Repetition length: a calibration launch per kernel and regime times one
  call of the kernel at the full machine; every timed repetition then runs
  `batch` calls so that it lasts at least --min-repetition (default 50 ms:
  twelve scheduler ticks of 4 ms, so a tick or a migration moves one
  repetition by less than 10% and the median of five by far less). Start-
  up (MPI_Init, allocation, first touch) happens before timing; one
  untimed warm-up repetition precedes the five timed ones.
- Interleaved rounds: every configuration runs once per round, in an order
  shuffled per round from a recorded seed, so drift and background load hit
  all modes alike. A configuration's sample for a round is its launch's
  median repetition time.
- Adaptive stopping: after each round, a kernel and regime whose every
  full-machine configuration has a 95% CI of the median within --target
  (default +-2%) stops, and so does one whose verdict is settled (every
  comparison between modes faster, slower or equivalent) after at least
  --settled-rounds (default 10) rounds; the others go on until they do or
  --budget seconds are spent (the round that would overrun it is not
  started).
- Interference: every run records what else used its CPUs (foreign_load,
  waited_fraction, steal_fraction); the engine also notes which other
  processes gained CPU time during each launch. Disturbed runs are kept in
  the record but never decide a verdict (parkit_analysis.verdict). An
  oversubscribed run's workers wait for a CPU by design, so its
  waited_fraction does not count as a disturbance.
- Everything lands in one directory: the result files (runs/, points/,
  probes/), the record campaign.json (design, seed, sizes, order, every
  run), written after each round so a killed campaign loses nothing
  finished.

    /usr/bin/python3 -m parkit_analysis.campaign --parkit build/parkit
"""
import argparse
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from .catalogue import load_catalogue
from .json_files import write_json
from .key_values import find_line
from .statistics import Outcome, median_ci, relative_half_width, verdict

CAMPAIGN_VERSION = 1
DEFAULT_BUDGET = 300.0
DEFAULT_TARGET = 0.02
DEFAULT_MIN_REPETITION = 0.05
DEFAULT_REPETITIONS = 5
ASSUMED_LLC_BYTES = 32 * 2**20
MAX_ROUNDS = 40
REGIMES = ("cache", "memory")
# Workers per core of the oversubscribed runs: in every round, and once
# after the rounds; and the kernels that run so, with their options: one
# that computes, one that waits.
WORKERS_PER_CORE_IN_ROUNDS = (1, 8)
WORKERS_PER_CORE_ONCE = (2, 4)
OVERSUBSCRIBED = {
    "montecarlo": ["--estimate", "pi", "--samples", str(2**24)],
    "wait": ["--items", "256"],
}
# Kernels that run in the oversubscribed configurations only (unless --set):
# wait's time is latency, which no cache or memory regime changes.
OVERSUBSCRIBED_ONLY = ("wait",)
# Probes that run one sweep per split, not DEFAULT_PROBE_REPETITIONS: each
# of isolation's sweeps lasts seconds (the survivors' remaining work, an
# MPI job's start).
DEFAULT_PROBE_REPETITIONS = 3
PROBE_REPETITIONS = {"isolation": (1, 0)}  # (repetitions, warm-up)


@dataclass
class Configuration:
    """One kernel x regime x split the campaign launches each round."""
    name: str          # "stencil memory ranks 2x1"
    kernel: str
    regime: str        # cache | memory | compute
    mode: str
    ranks: int
    threads: int
    nodes: int
    align: str         # none | numa | l3cache
    baseline: bool     # the one-core base case
    options: list      # the kernel's options, size included
    working_set_bytes: float
    batch: int = 1
    repetitions: int = DEFAULT_REPETITIONS
    warmup: int = 1
    workers_per_core: int = 1  # ranks x threads / cores of the node
    oversubscribe: bool = False  # more workers than cores: mpirun allows it

    @property
    def group(self):
        return f"{self.kernel} {self.regime}"

    @property
    def split(self):
        text = f"{self.ranks}x{self.threads}"
        return text if self.align == "none" else f"{text} ({self.align})"


@dataclass
class Run:
    """One launch: where it stands in the design, and what came of it."""
    configuration: str
    round: int
    position: int      # its place in the round's shuffled order
    status: int
    seconds: float     # wall time of the whole launch
    file: str          # the result file, relative to the campaign; "" none
    foreign_processes: list = field(default_factory=list)
    error: str = ""


# ---- the machine and the configurations -------------------------------------

def run_json(command):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def machine_facts(parkit, cores=None):
    """The node's splits and caches, as the launch layer sees them."""
    command = [parkit, "splits", "--baseline", "--format", "json"]
    if cores:
        command += ["--cores", str(cores)]
    facts = run_json(command)
    llc = facts.get("last_level_cache_bytes") or 0
    # A cache hwloc does not know counts as a stated default (topology.h).
    facts["llc_assumed"] = llc <= 0 or facts.get("fallback_cache_domains", 0) > 0
    facts["llc_bytes"] = llc if llc > 0 else ASSUMED_LLC_BYTES
    return facts


def option_entry(kernel, name):
    for option in kernel["options"]:
        if option["name"] == name:
            return option
    raise KeyError(f"{kernel['name']} has no option --{name}")


def size_for(kernel, working_set_bytes):
    """The value of the kernel's size option that makes its working set
    about `working_set_bytes` (descriptor: working_set), within the option's
    range."""
    growth = kernel["working_set"]
    value = (working_set_bytes / growth["bytes_per_unit"]) ** (
        1.0 / growth["exponent"])
    option = option_entry(kernel, growth["option"])
    value = min(max(int(round(value)), int(option["min"]), 1),
                int(option["max"]))
    working_set = growth["bytes_per_unit"] * value ** growth["exponent"]
    return growth["option"], value, working_set


def oversubscribed_plan(kernel, options, cores, workers_per_core):
    """The oversubscribed configurations of one kernel on one node: k
    workers per core for each k of `workers_per_core`, as threads and as
    ranks."""
    configurations = []
    for k in workers_per_core:
        for mode, ranks, threads in (("threads", 1, k * cores),
                                     ("ranks", k * cores, 1)):
            configurations.append(Configuration(
                name=f"{kernel} oversubscribed {mode} {ranks}x{threads}",
                kernel=kernel, regime="oversubscribed", mode=mode,
                ranks=ranks, threads=threads, nodes=1, align="none",
                baseline=False, options=list(options),
                working_set_bytes=float("nan"), workers_per_core=k,
                oversubscribe=k > 1))
    return configurations


def plan(catalogue, facts, kernels=None, regimes=REGIMES, given=None,
         oversubscription=True):
    """Every configuration of the rounds: work kernels x regimes x splits
    (baseline first), then the oversubscribed runs (OVERSUBSCRIBED, k in
    WORKERS_PER_CORE_IN_ROUNDS) unless `oversubscription` is False.
    `given`: {kernel: [options]} for kernels whose problem the user chose
    (--set): one regime, "given", with those options instead."""
    llc = facts["llc_bytes"]
    targets = {"cache": llc / 4, "memory": 4 * llc}
    given = given or {}
    configurations = []
    for kernel in catalogue["kernels"]:
        if kernel["kind"] != "work" or (kernels and kernel["name"] not in kernels):
            continue
        if kernel["name"] in given:
            sized = [("given", list(given[kernel["name"]]), float("nan"))]
        elif kernel["name"] in OVERSUBSCRIBED_ONLY:
            continue
        elif kernel["working_set"] is None or \
                not kernel["working_set"]["exponent"]:
            sized = [("compute", [], float("nan"))]
        else:
            sized = []
            for regime in regimes:
                option, value, bytes_ = size_for(kernel, targets[regime])
                sized.append((regime, [f"--{option}", str(value)], bytes_))
        for regime, options, bytes_ in sized:
            for split in facts["splits"]:
                mode, ranks, threads = split["mode"], split["ranks"], split["threads"]
                name = f"{kernel['name']} {regime} {mode} {ranks}x{threads}"
                if split["align"] != "none":
                    name += f" {split['align']}"
                configurations.append(Configuration(
                    name=name, kernel=kernel["name"], regime=regime, mode=mode,
                    ranks=ranks, threads=threads, nodes=split["nodes"],
                    align=split["align"], baseline=split["baseline"],
                    options=list(options), working_set_bytes=bytes_))
    if not oversubscription:
        return configurations
    return configurations + oversubscribed_configurations(
        catalogue, facts, kernels, WORKERS_PER_CORE_IN_ROUNDS)


def oversubscribed_configurations(catalogue, facts, kernels,
                                  workers_per_core):
    """The oversubscribed configurations of the OVERSUBSCRIBED kernels among
    `kernels` (None: all), for each k of `workers_per_core`."""
    work = {k["name"] for k in catalogue["kernels"] if k["kind"] == "work"}
    configurations = []
    for kernel, options in OVERSUBSCRIBED.items():
        if kernel in work and (not kernels or kernel in kernels):
            configurations += oversubscribed_plan(
                kernel, options, facts["cores_per_node"], workers_per_core)
    return configurations


# ---- launching ---------------------------------------------------------------

def launch_command(parkit, configuration, out, mpirun=None):
    command = [parkit, "launch", "--exec", "--align", configuration.align]
    if configuration.oversubscribe:
        command.append("--oversubscribe")
    if mpirun:
        command += ["--mpirun", mpirun]
    return command + [
        configuration.mode, configuration.kernel, str(configuration.ranks),
        str(configuration.threads), "--", *configuration.options,
        "--batch", str(configuration.batch),
        "--reps", str(configuration.repetitions),
        "--warmup", str(configuration.warmup), "--out", out, "--quiet"]


def cpu_times():
    """{pid: (command name, user + system seconds)} of every process."""
    ticks = os.sysconf("SC_CLK_TCK")
    times = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        times[int(entry)] = (name, (int(fields[11]) + int(fields[12])) / ticks)
    return times


def command_line(pid, longest=80):
    """A process's command line as one text (at most `longest` characters),
    or "" once it is gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            words = cmdline.read(4 * longest).split(b"\0")
    except OSError:
        return ""
    text = " ".join(" ".join(w.decode(errors="replace").split())
                    for w in words if w.strip())
    return text if len(text) <= longest else text[:longest - 3] + "..."


def foreign_processes(before, after, seconds, own=os.getpid()):
    """Processes that ran before and after a launch and used more than 5%
    of a core during it: [{"pid", "name", "command", "cores"}], busiest
    first. The launch's own processes start and end within it and so never
    count."""
    busy = []
    for pid, (name, spent) in after.items():
        if pid == own or pid not in before or seconds <= 0:
            continue
        cores = (spent - before[pid][1]) / seconds
        if cores > 0.05:
            busy.append({"pid": pid, "name": name,
                         "command": command_line(pid),
                         "cores": round(cores, 3)})
    return sorted(busy, key=lambda p: -p["cores"])


class Launcher:
    """Runs configurations one at a time; a stop signal is passed to the
    running launch, which then ends after its current repetition."""

    def __init__(self, parkit, directory, mpirun=None):
        self.parkit, self.directory, self.mpirun = parkit, directory, mpirun
        self.child = None
        self.stopping = False
        self.environment = dict(os.environ)
        if os.geteuid() == 0:  # Open MPI refuses root without these
            self.environment.update(OMPI_ALLOW_RUN_AS_ROOT="1",
                                    OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")

    def stop(self, signal_number, _frame):
        self.stopping = True
        if self.child and self.child.poll() is None:
            self.child.send_signal(signal_number)

    def run(self, configuration, round_number, position, out="runs"):
        target = os.path.join(self.directory, out)
        os.makedirs(target, exist_ok=True)
        command = launch_command(self.parkit, configuration, target,
                                 self.mpirun)
        before, started = cpu_times(), time.monotonic()
        self.child = subprocess.Popen(command, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True,
                                      env=self.environment)
        stdout, stderr = self.child.communicate()
        seconds = time.monotonic() - started
        status, self.child = self.child.returncode, None
        try:
            path = os.path.relpath(find_line(stdout)["file"], self.directory)
        except (ValueError, KeyError):  # no PARKIT line: the run failed
            path = ""
        error = ""
        if status != 0:
            lines = [l for l in stderr.splitlines() if "error" in l]
            error = (lines or stderr.splitlines() or [f"exit status {status}"])[-1]
        return Run(configuration=configuration.name, round=round_number,
                   position=position, status=status, seconds=round(seconds, 3),
                   file=path, error=error,
                   foreign_processes=foreign_processes(before, cpu_times(),
                                                       seconds))


# ---- reading runs back ----------------------------------------------------------

def run_sample(directory, run, oversubscribed=False):
    """(median repetition seconds, disturbed, attributes) of a finished
    run, from its file; None when it has no file. `oversubscribed`: its
    workers' wait for a CPU is its own doing, no disturbance."""
    import h5py
    if not run.file:
        return None
    with h5py.File(os.path.join(directory, run.file), "r", locking=False) as f:
        attributes = {k: f.attrs[k] for k in (
            "time_median", "verified", "foreign_load", "waited_fraction",
            "steal_fraction", "interference_seconds", "nodes") if k in f.attrs}
        cpus = int(sum(len(parse_cpuset(c)) for c in
                       f["nodes/cpuset"][()])) if "nodes/cpuset" in f else 1
    return float(attributes["time_median"]), \
        disturbed(attributes, cpus, oversubscribed), attributes


def parse_cpuset(text):
    text = text.decode() if isinstance(text, bytes) else text
    cpus = set()
    for part in filter(None, text.split(",")):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


FOREIGN_THRESHOLD = 0.05  # of a core (foreign load) or of a worker's time


def disturbed(attributes, cpus, oversubscribed=False):
    """Why a run cannot decide a verdict ("" when it can): a foreign load
    above FOREIGN_THRESHOLD of a core beyond what /proc/stat's tick sampling
    could invent (two ticks per CPU over the window), its workers waiting
    for a CPU more than FOREIGN_THRESHOLD of their time (unless the run is
    `oversubscribed`: then they wait for each other), or a hypervisor
    taking more than that of the node."""
    window = float(attributes.get("interference_seconds", 0) or 0)
    reasons = []
    foreign = float(attributes.get("foreign_load", -1))
    if window > 0 and foreign >= 0:
        uncertainty = 2 * 0.01 * cpus / window
        if foreign - uncertainty > FOREIGN_THRESHOLD:
            reasons.append(f"foreign load {foreign:.2f} cores")
    waited = float(attributes.get("waited_fraction", -1))
    if waited > FOREIGN_THRESHOLD and not oversubscribed:
        reasons.append(f"workers waited {100 * waited:.0f}% of the time")
    steal = float(attributes.get("steal_fraction", -1))
    if steal > FOREIGN_THRESHOLD:
        reasons.append(f"steal {100 * steal:.0f}%")
    return "; ".join(reasons)


# ---- the campaign ------------------------------------------------------------------

class Progress:
    """Runs done of the total, elapsed time and the time left: one updating
    line on a terminal, a plain line every 15 s (and each round) otherwise."""

    def __init__(self, stream=sys.stderr, quiet=False):
        self.stream, self.quiet = stream, quiet
        self.terminal = stream.isatty()
        self.last = 0.0

    def show(self, text, final=False):
        if self.quiet:
            return
        if self.terminal:
            end = "\n" if final else ""
            self.stream.write(f"\r\033[K{text}{end}")
            self.stream.flush()
        elif final or time.monotonic() - self.last >= 15:
            self.stream.write(text + "\n")
            self.stream.flush()
            self.last = time.monotonic()


def clock(seconds):
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Campaign:
    def __init__(self, parkit, directory, configurations, seed, budget,
                 target, min_repetition, quick, facts, probes=(), mpirun=None,
                 progress=None, settled_rounds=10, points=()):
        self.parkit, self.directory = parkit, directory
        self.configurations = {c.name: c for c in configurations}
        self.seed, self.budget, self.target = seed, budget, target
        self.min_repetition, self.quick, self.facts = min_repetition, quick, facts
        self.launcher = Launcher(parkit, directory, mpirun)
        self.progress = progress or Progress()
        self.runs, self.calibration, self.probes = [], {}, []
        self.samples = {name: [] for name in self.configurations}
        self.converged, self.failed_groups = set(), {}
        self.started = time.monotonic()
        self.stop_reason = ""
        self.rounds_done = 0
        self.probe_kernels = list(probes)
        self.settled_rounds = settled_rounds
        # Configurations launched once, after the rounds (the oversubscribed
        # points between k = 1 and 8), and their runs.
        self.points, self.point_runs = list(points), []

    # -- the record -----------------------------------------------------------
    def record(self):
        return {
            "campaign_version": CAMPAIGN_VERSION,
            "kind": "preview" if self.quick else "campaign",
            "seed": self.seed, "budget_seconds": self.budget,
            "target": self.target, "min_repetition_seconds": self.min_repetition,
            "settled_rounds": self.settled_rounds,
            "machine": {k: v for k, v in self.facts.items() if k != "splits"},
            "splits": self.facts["splits"],
            "rounds": self.rounds_done, "stop_reason": self.stop_reason,
            "elapsed_seconds": round(time.monotonic() - self.started, 1),
            "configurations": [asdict(c) | {"group": c.group, "split": c.split}
                               for c in self.configurations.values()],
            "calibration": self.calibration,
            "failed_groups": self.failed_groups,
            "converged_groups": sorted(self.converged),
            "runs": [asdict(r) for r in self.runs],
            "probes": [asdict(r) for r in self.probes],
            "point_configurations": [asdict(c) | {"group": c.group,
                                                  "split": c.split}
                                     for c in self.points],
            "points": [asdict(r) for r in self.point_runs],
        }

    def save(self):
        write_json(self.record(), os.path.join(self.directory,
                                               "campaign.json"))

    # -- calibration --------------------------------------------------------
    def groups(self):
        grouped = {}
        for configuration in self.configurations.values():
            grouped.setdefault(configuration.group, []).append(configuration)
        return grouped

    def calibrate(self):
        """One launch per kernel and regime at the full machine (its first
        split with every core): seconds per call, hence `batch`."""
        for group, members in self.groups().items():
            if self.launcher.stopping:
                return
            probe = next(c for c in members if not c.baseline)
            trial = Configuration(**{**asdict(probe), "batch": 1,
                                     "repetitions": 2, "warmup": 1})
            self.progress.show(f"campaign: calibrating {group}")
            run = self.launcher.run(trial, 0, 0, out="calibration")
            sample = run_sample(self.directory, run) if run.status == 0 else None
            if sample is None:
                self.failed_groups[group] = run.error or f"exit {run.status}"
                continue
            per_call = sample[0]
            batch = max(1, math.ceil(self.min_repetition / max(per_call, 1e-9)))
            self.calibration[group] = {"seconds_per_call": per_call,
                                       "batch": batch, "file": run.file}
            for configuration in members:
                configuration.batch = batch

    # -- rounds ----------------------------------------------------------------
    def active(self):
        return [c for c in self.configurations.values()
                if c.group not in self.converged
                and c.group not in self.failed_groups]

    def elapsed(self):
        return time.monotonic() - self.started

    def round_estimate(self, active):
        """Seconds the next round of `active` will take: each
        configuration's mean launch so far (the calibration's for a first
        round), or the mean of all launches."""
        spent = {}
        for run in self.runs:
            spent.setdefault(run.configuration, []).append(run.seconds)
        everything = [s for runs in spent.values() for s in runs]
        fallback = float(np.mean(everything)) if everything else 1.0
        return sum(float(np.mean(spent[c.name])) if c.name in spent
                   else fallback for c in active)

    def run_round(self, number, estimate):
        active = self.active()
        order = np.random.default_rng([self.seed, number]).permutation(len(active))
        round_started = time.monotonic()
        for position, index in enumerate(order):
            if self.launcher.stopping:
                break
            configuration = active[index]
            run = self.launcher.run(configuration, number, position)
            self.runs.append(run)
            if run.status == 0:
                seconds, why, _ = run_sample(self.directory, run,
                                             configuration.oversubscribe)
                if not why:
                    self.samples[configuration.name].append(seconds)
            done = position + 1
            left = estimate - (time.monotonic() - round_started)
            self.progress.show(
                f"campaign: round {number}, {done} of {len(active)} runs, "
                f"{len(self.converged)} of {len(self.groups())} kernels "
                f"settled, {clock(self.elapsed())} elapsed, "
                f"~{clock(min(max(left, 0), self.budget - self.elapsed()))} "
                f"left in the round (budget {clock(self.budget)})")
        return time.monotonic() - round_started

    def settle(self, minimum):
        """Marks the groups whose full-machine configurations all have a
        CI within the target, or whose verdict is settled after
        `settled_rounds` rounds."""
        for group, members in self.groups().items():
            if group in self.converged or group in self.failed_groups:
                continue
            full = [c for c in members if not c.baseline]
            counts = [len(self.samples[c.name]) for c in full]
            if not full or min(counts) < minimum:
                continue
            widths = [relative_half_width(median_ci(self.samples[c.name]))
                      for c in full]
            if max(widths) <= self.target:
                self.converged.add(group)
            elif min(counts) >= self.settled_rounds and self.decided(full):
                self.converged.add(group)

    def decided(self, full):
        """True when no comparison between the modes' best splits is
        inconclusive (statistics.verdict on the samples so far)."""
        samples = {(c.mode, c.split): self.samples[c.name] for c in full}
        if len({c.mode for c in full}) < 2:
            return True
        result = verdict(samples)
        return all(entry.comparison.outcome != Outcome.INCONCLUSIVE
                   for entry in result.comparisons)

    def run(self, max_rounds=MAX_ROUNDS, min_rounds=6):
        previous = signal.signal(signal.SIGINT, self.launcher.stop), \
            signal.signal(signal.SIGTERM, self.launcher.stop)
        try:
            if not self.quick:
                self.calibrate()
            self.save()
            self.run_rounds(max_rounds, min_rounds)
            if not self.launcher.stopping:
                self.run_points()
            if not self.launcher.stopping:
                self.run_probes()
            if self.launcher.stopping:
                self.stop_reason = "stopped by a signal"
        finally:
            signal.signal(signal.SIGINT, previous[0])
            signal.signal(signal.SIGTERM, previous[1])
            self.save()
            self.progress.show(
                f"campaign: {len(self.runs)} runs in {self.rounds_done} rounds, "
                f"{clock(self.elapsed())} ({self.stop_reason})", final=True)

    def run_rounds(self, max_rounds, min_rounds):
        for number in range(1, max_rounds + 1):
            active = self.active()
            if not active:
                self.stop_reason = "every interval within the target"
                return
            estimate = self.round_estimate(active)
            if self.runs and self.elapsed() + estimate > self.budget:
                self.stop_reason = "the time budget"
                return
            self.run_round(number, estimate)
            if self.launcher.stopping:
                return
            self.rounds_done = number
            if self.quick:
                self.stop_reason = "a preview runs one round"
                return
            self.settle(min_rounds)
            self.save()
        self.stop_reason = f"the most rounds ({max_rounds})"

    def run_points(self):
        """The configurations launched once (after the rounds), each with
        the batch its group's calibration gave."""
        for configuration in self.points:
            if self.launcher.stopping:
                return
            if configuration.group in self.failed_groups:
                continue
            calibrated = self.calibration.get(configuration.group)
            if calibrated:
                configuration.batch = calibrated["batch"]
            self.progress.show(f"campaign: once {configuration.name}")
            self.point_runs.append(self.launcher.run(configuration, 0, 0,
                                                     out="points"))

    def probe_options(self, kernel):
        """A probe's options: its defaults, and for isolation the campaign's
        mpirun (its MPI job is started the way this campaign's are)."""
        if kernel == "isolation" and self.launcher.mpirun:
            return ["--mpirun", self.launcher.mpirun]
        return []

    def run_probes(self):
        """The overhead probes, once per full-machine split: their outputs
        are the measurements (each a median of its own sweeps)."""
        for kernel in self.probe_kernels:
            repetitions, warmup = PROBE_REPETITIONS.get(
                kernel, (DEFAULT_PROBE_REPETITIONS, 1))
            for split in self.facts["splits"]:
                if split["baseline"] or self.launcher.stopping:
                    continue
                configuration = Configuration(
                    name=f"{kernel} probe {split['mode']} {split['ranks']}x"
                         f"{split['threads']}", kernel=kernel, regime="probe",
                    mode=split["mode"], ranks=split["ranks"],
                    threads=split["threads"], nodes=split["nodes"],
                    align=split["align"], baseline=False,
                    options=self.probe_options(kernel),
                    working_set_bytes=float("nan"), repetitions=repetitions,
                    warmup=warmup)
                self.progress.show(f"campaign: probe {configuration.name}")
                self.probes.append(self.launcher.run(configuration, 0, 0,
                                                     out="probes"))


def main(argv):
    parser = argparse.ArgumentParser(
        prog="compare_modes",
        description="Threads or processes, on this machine: every work "
                    "kernel in its cache and memory regimes, in every split "
                    "of the cores, a computing and a waiting kernel with 1 "
                    "to 8 workers per core, in interleaved rounds until the "
                    "answer is settled or the budget spent; then the "
                    "oversubscribed points between, the probes, the verdict "
                    "and the claims table.")
    parser.add_argument("--parkit", default=os.environ.get("PARKIT_BINARY"),
                        help="the parkit program")
    parser.add_argument("--out", help="campaign directory (default "
                        "results/compare-<UTC time>)")
    parser.add_argument("--kernels", help="work kernels to run, e.g. "
                        "'matmul stream' (default: all)")
    parser.add_argument("--probes", help="overhead probes to run (default: "
                        "all; '' for none)")
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET,
                        help="seconds the rounds may take (default 300)")
    parser.add_argument("--target", type=float, default=DEFAULT_TARGET,
                        help="relative half-width of every CI that ends a "
                        "kernel's rounds (default 0.02)")
    parser.add_argument("--min-repetition", type=float,
                        default=DEFAULT_MIN_REPETITION,
                        help="shortest timed repetition, seconds (default 0.05)")
    parser.add_argument("--settled-rounds", type=int, default=10,
                        help="rounds after which a kernel whose verdict is "
                        "settled stops (default 10)")
    parser.add_argument("--seed", type=int, help="seed of the round orders "
                        "(default: from the clock; recorded)")
    parser.add_argument("--cores", type=int, help="cores to use (default: "
                        "those this process may run on)")
    parser.add_argument("--quick", action="store_true",
                        help="a preview: one round of the cache regime, no "
                        "oversubscribed runs, no calibration, no winners "
                        "claimed (~30 s on 2 cores)")
    parser.add_argument("--set", action="append", default=[],
                        metavar="'KERNEL OPTIONS'",
                        help="run KERNEL with these options (its problem, "
                        "e.g. 'matmul --n 2048') as one regime, 'given', "
                        "instead of the cache and memory regimes; repeat "
                        "for several kernels")
    parser.add_argument("--mpirun", help="the mpirun program")
    arguments = parser.parse_args(argv)
    problems = []
    if not arguments.parkit or not os.access(arguments.parkit, os.X_OK):
        problems.append(f"--parkit '{arguments.parkit}' is not an executable; "
                        "build first (cmake --build build)")
    if not arguments.budget > 0:
        problems.append(f"--budget {arguments.budget}: allowed: seconds > 0")
    if not 0 < arguments.target < 1:
        problems.append(f"--target {arguments.target}: allowed: 0 < target < 1")
    if not arguments.min_repetition > 0:
        problems.append(f"--min-repetition {arguments.min_repetition}: "
                        "allowed: seconds > 0")
    if arguments.settled_rounds < 6:
        problems.append(f"--settled-rounds {arguments.settled_rounds}: "
                        "allowed: an integer >= 6 (a CI needs 6 rounds)")
    if arguments.cores is not None and arguments.cores < 1:
        problems.append(f"--cores {arguments.cores}: allowed: an integer >= 1")
    if problems:
        print(f"compare_modes: error: {problems[0]}", file=sys.stderr)
        return 2
    catalogue = load_catalogue(arguments.parkit)
    work = [k["name"] for k in catalogue["kernels"] if k["kind"] == "work"]
    probes = [k["name"] for k in catalogue["kernels"] if k["kind"] == "probe"]
    kernels = arguments.kernels.split() if arguments.kernels else work
    chosen_probes = probes if arguments.probes is None \
        else arguments.probes.split()
    for name in kernels:
        if name not in work:
            print(f"compare_modes: error: --kernels: '{name}' is no work "
                  f"kernel; allowed: {', '.join(work)}", file=sys.stderr)
            return 2
    for name in chosen_probes:
        if name not in probes:
            print(f"compare_modes: error: --probes: '{name}' is no probe; "
                  f"allowed: {', '.join(probes)}", file=sys.stderr)
            return 2
    given = {}
    for text in arguments.set:
        words = text.split()
        if not words or words[0] not in work:
            print(f"compare_modes: error: --set '{text}': allowed: a work "
                  f"kernel ({', '.join(work)}) and its options",
                  file=sys.stderr)
            return 2
        given[words[0]] = words[1:]
    facts = machine_facts(arguments.parkit, arguments.cores)
    regimes = ("cache",) if arguments.quick else REGIMES
    configurations = plan(catalogue, facts, kernels, regimes, given,
                          oversubscription=not arguments.quick)
    points = [] if arguments.quick else oversubscribed_configurations(
        catalogue, facts, kernels, WORKERS_PER_CORE_ONCE)
    if arguments.quick:
        for configuration in configurations:
            configuration.repetitions, configuration.warmup = 3, 1
    seed = arguments.seed if arguments.seed is not None \
        else int(time.time()) % 2**31
    directory = arguments.out or time.strftime(
        "results/compare-%Y%m%dT%H%M%SZ", time.gmtime())
    os.makedirs(directory, exist_ok=True)
    campaign = Campaign(arguments.parkit, directory, configurations, seed,
                        arguments.budget, arguments.target,
                        arguments.min_repetition, arguments.quick, facts,
                        chosen_probes, arguments.mpirun,
                        settled_rounds=arguments.settled_rounds,
                        points=points)
    campaign.run()
    return 0 if not campaign.failed_groups and all(
        r.status == 0 for r in campaign.runs + campaign.point_runs
        + campaign.probes) else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
