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

Which files are read is decided exactly as `parkit report` decides it
(drivers/result/result_reader.c; the rules are in results/README.md, "What
the readers accept"): a file one reader skips, the other skips too. The
files are read in a child process with limits on memory and time, so that
no damaged file can crash or hang the caller (see `_read_isolated`); a file
that crashes or stalls it is skipped with that reason.
"""
import faulthandler
import math
import os
import pickle
import resource
import select
import signal
import stat
import struct
import tempfile
import time
from dataclasses import dataclass, field

import h5py
import numpy as np
import pandas as pd

RUN_COLUMNS = ("file", "problem", "host", "hosts", "peak_resident_bytes_max",
               "peak_resident_bytes_total")
TIMING_COLUMNS = ("file", "kernel", "problem", "mode", "ranks", "threads",
                  "repetition", "rank", "seconds")
# The reading child's limits (as parkit report's, isolated_reading.h).
READ_MEBIBYTES = 1024
READ_SECONDS = 10
# Beyond the accepted core of a file, longer texts are cut to this many
# characters (a host name to LONGEST_HOST): no label grows without bound.
LONGEST_TEXT = 4096
LONGEST_HOST = 255
# The largest dataset read among the extras (elements).
MOST_ELEMENTS = 1 << 20


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


# ---- which files ------------------------------------------------------------

def _kind(mode):
    for test, text in ((stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a directory")):
        if test(mode):
            return text
    return "not a regular file"


class _Found:
    """What the paths hold, each file once (by device and inode)."""

    def __init__(self):
        self.results, self.unfinished, self.problems = [], [], []
        self.seen = set()

    def first_sight(self, status):
        identity = (status.st_dev, status.st_ino)
        if identity in self.seen:
            return False
        self.seen.add(identity)
        return True

    def problem(self, path, reason):
        try:
            if not self.first_sight(os.lstat(path)):
                return
        except OSError:
            pass
        self.problems.append((path, reason))

    def add(self, path, target, named=False):
        """`target`: the stat of what `path` leads to. Only regular files
        are read: a FIFO would block the reader, a device feed it forever."""
        unfinished = path.endswith(".h5.tmp")
        if not named and not unfinished and not path.endswith(".h5"):
            return
        if not stat.S_ISREG(target.st_mode):
            self.problem(path, f"{_kind(target.st_mode)}, not a result file "
                               "(not read)")
            return
        if self.first_sight(target):
            (self.unfinished if unfinished else self.results).append(path)

    def walk(self, directory):
        """Like `parkit report`: links are not followed into directories."""
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as error:
            self.problem(directory, "a directory that cannot be read "
                                    f"({error.strerror})")
            return
        for entry in entries:
            path = entry.path
            try:
                if entry.is_symlink():
                    try:
                        target = os.stat(path)
                    except OSError as error:
                        if path.endswith((".h5", ".h5.tmp")):
                            self.problem(path, "a link that leads nowhere "
                                               f"({error.strerror})")
                        continue
                    if stat.S_ISDIR(target.st_mode):
                        self.problem(path, "a link to a directory, not "
                                           "followed (name the directory "
                                           "itself to include it)")
                    else:
                        self.add(path, target)
                elif entry.is_dir(follow_symlinks=False):
                    self.walk(path)
                else:
                    self.add(path, entry.stat(follow_symlinks=False))
            except OSError:
                self.problem(path, "cannot be looked at (stat failed)")


def _find(paths):
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found = _Found()
    for path in map(os.fspath, paths):
        try:
            status = os.stat(path)
        except OSError:
            raise FileNotFoundError(f"results path '{path}' does not exist")
        if stat.S_ISDIR(status.st_mode):
            found.walk(path)
        else:
            found.add(path, status, named=True)
    return sorted(found.results), sorted(found.unfinished), found.problems


def find_files(paths):
    """(result files, unfinished files): *.h5 and *.h5.tmp under the paths,
    sorted, each file once; a file named directly counts as a result unless
    it ends in .h5.tmp. A missing path raises FileNotFoundError."""
    results, unfinished, _ = _find(paths)
    return results, unfinished


# ---- the accepted core of a file: what parkit report reads, as it does -----

class _Refused(Exception):
    """The file is not a result parkit report would read; the reason."""


MOST_TIMINGS = 1 << 24


def _open_attribute(location, name):
    try:
        return h5py.h5a.open(location, name.encode())
    except Exception:
        raise _Refused(f"attribute '{name}' is missing")


def _one_value(attribute):
    try:
        return attribute.get_space().get_simple_extent_npoints() == 1
    except Exception:
        return False


def _buffer(attribute, dtype):
    return np.empty(attribute.shape, dtype=dtype)


def _printable_utf8(raw):
    """The text of `raw` (bytes) when it is UTF-8 without control
    characters, else None."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7f for c in text):
        return None
    return text


def _read_text(location, name, size):
    attribute = _open_attribute(location, name)
    stored = attribute.get_type()
    if not (stored.get_class() == h5py.h5t.STRING and
            stored.is_variable_str() and _one_value(attribute)):
        raise _Refused(f"attribute '{name}' is not one variable-length "
                       "string")
    # h5py hands back the stored bytes whatever the character set.
    value = _buffer(attribute, h5py.special_dtype(vlen=bytes))
    try:
        attribute.read(value)
    except Exception:
        raise _Refused(f"cannot read attribute '{name}'")
    raw = value.flat[0] or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    raw = raw.split(b"\0", 1)[0]
    if len(raw) >= size:
        raise _Refused(f"attribute '{name}' is {len(raw)} bytes long; "
                       f"allowed: at most {size - 1}")
    text = _printable_utf8(raw)
    if text is None:
        raise _Refused(f"attribute '{name}' is not UTF-8 text without "
                       "control characters")
    return text


def _read_number(location, name, real):
    attribute = _open_attribute(location, name)
    kind = attribute.get_type().get_class()
    allowed = kind == h5py.h5t.INTEGER or (real and kind == h5py.h5t.FLOAT)
    value = _buffer(attribute, np.float64 if real else np.int64)
    try:
        if not (allowed and _one_value(attribute)):
            raise ValueError
        attribute.read(value)
    except Exception:
        raise _Refused(f"attribute '{name}' is not one readable "
                       f"{'number' if real else 'integer'}")
    return float(value.flat[0]) if real else int(value.flat[0])


def _exists(location, name):
    try:
        return h5py.h5a.exists(location, name)
    except Exception:
        return False


def _format_parameter(location, name):
    kind = _open_attribute(location, name).get_type().get_class()
    if kind == h5py.h5t.STRING:
        return _read_text(location, name, 512)
    if kind == h5py.h5t.INTEGER:
        return str(_read_number(location, name, False))
    if kind != h5py.h5t.FLOAT:
        raise _Refused(f"parameter '{name}' is neither text nor a number")
    value = _read_number(location, name, True)
    if not math.isfinite(value):
        raise _Refused(f"parameter '{name}' is {value:g}, not a finite "
                       "number")
    return f"{value:g}"


def _parameters(location):
    """The kernel's parameters as `parkit report` forms them: root
    attributes X with a sibling X_unit, in name order; "name=value"."""
    names = []
    try:
        h5py.h5a.iterate(location, lambda name: names.append(name))
    except Exception:
        raise _Refused("cannot list the root attributes")
    parts, values, used = [], {}, 0
    for raw in names:
        unit = raw + b"_unit"
        if raw.endswith(b"_unit") or raw == b"rate" or len(unit) >= 256 \
                or not _exists(location, unit):
            continue
        name = _printable_utf8(raw)
        if name is None:
            raise _Refused("a parameter's name is not UTF-8 text without "
                           "control characters")
        value = _format_parameter(location, name)
        part = f"{name}={value}"
        used += len(part.encode()) + (1 if parts else 0)
        if used > 1023:
            raise _Refused("the kernel's parameters take more than 1023 "
                           "bytes")
        parts.append(part)
        values[name] = value
    return " ".join(parts)


def _read_timings(location, repetitions, ranks):
    if not (1 <= repetitions <= MOST_TIMINGS and 1 <= ranks <= MOST_TIMINGS
            and repetitions * ranks <= MOST_TIMINGS):
        raise _Refused(f"repetitions = {repetitions} and ranks = {ranks}: "
                       "not a run")
    try:
        dataset = h5py.h5d.open(location, b"timings")
    except Exception:
        raise _Refused("dataset 'timings' is missing")
    if dataset.get_type().get_class() not in (h5py.h5t.FLOAT,
                                              h5py.h5t.INTEGER):
        raise _Refused("dataset 'timings' does not hold numbers")
    shape = dataset.shape
    if len(shape) != 2 or shape != (repetitions, ranks):
        raise _Refused(f"dataset 'timings' has {len(shape)} dimensions "
                       f"{shape}, expected repetitions x ranks = "
                       f"{repetitions} x {ranks}")
    timings = np.empty(shape, dtype=np.float64)
    try:
        dataset.read(h5py.h5s.ALL, h5py.h5s.ALL, timings)
    except Exception:
        raise _Refused("cannot read dataset 'timings'")
    bad = np.flatnonzero(~np.isfinite(timings) | (timings < 0))
    if bad.size:
        raise _Refused(f"timings value {bad[0]} is "
                       f"{timings.flat[bad[0]]:g}, not a time in seconds")
    return timings


def _open(path):
    try:
        return h5py.File(path, "r", locking=False)
    except Exception:
        raise _Refused("not a readable HDF5 file")


def _read_core(f):
    """(row, timings) of what `parkit report` reads from the open file `f`,
    checked as it checks it; raises _Refused with its reason otherwise."""
    file = f.id
    row = {"kernel": _read_text(file, "kernel", 64),
           "mode": _read_text(file, "mode", 16),
           "rate_unit": _read_text(file, "rate_unit", 64)}
    for name in ("ranks", "threads", "nodes"):
        row[name] = _read_number(file, name, False)
    ranks, nodes = row["ranks"], row["nodes"]
    if not 1 <= nodes <= ranks:
        raise _Refused(f"attribute 'nodes' is {nodes}; allowed: 1 to "
                       f"ranks ({ranks})")
    evenly = (ranks - 1) // nodes + 1
    if _exists(file, b"ranks_per_node"):
        row["ranks_per_node"] = _read_number(file, "ranks_per_node",
                                             False)
        if not evenly <= row["ranks_per_node"] <= ranks:
            raise _Refused(
                f"attribute 'ranks_per_node' is {row['ranks_per_node']};"
                f" allowed: ranks / nodes ({ranks} / {nodes}, rounded "
                "up) to ranks")
    else:
        row["ranks_per_node"] = evenly
    for name in ("workers", "repetitions"):
        row[name] = _read_number(file, name, False)
    done = row["repetitions"]
    if _exists(file, b"repetitions_completed"):
        done = row["repetitions_completed"] = _read_number(
            file, "repetitions_completed", False)
    row["verified"] = _read_number(file, "verified", False)
    row["rate"] = _read_number(file, "rate", True)
    row["problem"] = _parameters(file)
    if not row["kernel"] or not row["mode"]:
        raise _Refused(f"attribute "
                       f"'{'mode' if row['kernel'] else 'kernel'}' is "
                       "empty")
    for name in ("threads", "workers"):
        if row[name] < 1:
            raise _Refused(f"attribute '{name}' is {row[name]}; "
                           "allowed: 1 or more")
    timings = _read_timings(file, done, ranks)
    _read_statistics(file, row)
    return row, timings


def _read_statistics(file, row):
    """The run's timing statistics as the runner computed them (the one
    place they are computed), checked as parkit report checks them."""
    for name in ("time_min", "time_median", "time_max", "imbalance"):
        value = row[name] = _read_number(file, name, True)
        if not (math.isfinite(value) and value >= 0):
            raise _Refused(f"attribute '{name}' is {value:g}, not a time in "
                           "seconds")
    if not row["time_min"] <= row["time_median"] <= row["time_max"]:
        raise _Refused(f"time_min {row['time_min']:g}, time_median "
                       f"{row['time_median']:g}, time_max "
                       f"{row['time_max']:g} are not in order")
    if not row["imbalance"] >= 1:
        raise _Refused(f"attribute 'imbalance' is {row['imbalance']:g}; "
                       "allowed: 1 or more")


# ---- what else a file holds: read when possible, never refused -------------

def _sane(value, longest=LONGEST_TEXT):
    """A value fit for a DataFrame cell, or None: one number or a text,
    cut to `longest` characters."""
    value = _plain(value)
    if isinstance(value, str):
        return value if len(value) <= longest else value[:longest] + "..."
    if isinstance(value, (bool, int, float)):
        return value
    return None


def _attributes(attributes, prefix=""):
    row = {}
    for name in attributes:
        try:
            value = _sane(attributes[name])
        except Exception:
            continue
        if value is not None:
            row[prefix + name] = value
    return row


def _small_dataset(f, name):
    """A dataset's values when it is a small one, else None."""
    item = f.get(name)
    if not isinstance(item, h5py.Dataset) or item.size > MOST_ELEMENTS:
        return None
    return item[()]


def _read_extras(f):
    """Every root attribute, the scalar outputs, the provenance, the hosts
    and peak memory of the ranks of the open file `f`: whatever of it can be
    read."""
    row = {}
    row.update(_attributes(f.attrs))
    outputs = f.get("outputs")
    if isinstance(outputs, h5py.Group):
        for name, dataset in outputs.items():
            try:
                if isinstance(dataset, h5py.Dataset) and \
                        dataset.shape == ():
                    value = _sane(dataset[()])
                    if value is not None:
                        row[f"out_{name}"] = value
            except Exception:
                continue
    provenance = f.get("provenance")
    if isinstance(provenance, h5py.Group):
        row.update(_attributes(provenance.attrs, "provenance_"))
    hosts = _small_dataset(f, "ranks/host")
    hosts = [] if hosts is None else \
        [str(_sane(h, LONGEST_HOST)) for h in np.ravel(hosts)]
    rss = _small_dataset(f, "ranks/peak_resident_bytes")
    rss = np.array([]) if rss is None else \
        np.asarray(rss, dtype=np.float64).ravel()
    row["host"] = hosts[0] if hosts else ""
    row["hosts"] = ",".join(dict.fromkeys(hosts))
    rss = rss[np.isfinite(rss)]
    row["peak_resident_bytes_max"] = float(rss.max()) if rss.size else np.nan
    row["peak_resident_bytes_total"] = float(rss.sum()) if rss.size \
        else np.nan
    return row


# ---- reading in a child process ---------------------------------------------

def _send(out, message):
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    data = struct.pack("<Q", len(payload)) + payload
    while data:
        data = data[os.write(out, data):]


def _data_bytes():
    """This process's private writable memory (what RLIMIT_DATA counts)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[5]) * os.sysconf("SC_PAGESIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _child(paths, first, out):
    """Reads paths[first:], sending for each ("refused", i, reason) or
    ("core", i, row, timings) then ("extras", i, row); never returns."""
    try:
        # A crash is the parent's to report: no handler of the caller's
        # (faulthandler under pytest, say) acts in the child.
        faulthandler.disable()
        for number in (signal.SIGINT, signal.SIGSEGV, signal.SIGBUS,
                       signal.SIGFPE, signal.SIGILL, signal.SIGABRT):
            signal.signal(number, signal.SIG_DFL)
        limit = _data_bytes() + READ_MEBIBYTES * 2**20
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    except (ValueError, OSError):
        pass  # best effort: the time limit remains
    try:
        for index in range(first, len(paths)):
            try:
                f = _open(paths[index])
            except _Refused as refused:
                _send(out, ("refused", index, str(refused)))
                continue
            with f:
                try:
                    row, timings = _read_core(f)
                except _Refused as refused:
                    _send(out, ("refused", index, str(refused)))
                    continue
                except MemoryError:
                    _send(out, ("refused", index, "the reader needed more "
                                f"than {READ_MEBIBYTES} MiB for it"))
                    continue
                _send(out, ("core", index, row, timings))
                try:
                    extras = _read_extras(f)
                except Exception:
                    extras = {}
                _send(out, ("extras", index, extras))
    except BaseException:
        os._exit(1)
    os._exit(0)


class _Stream:
    """Length-prefixed messages from the child, with a deadline."""

    def __init__(self, descriptor):
        self.descriptor, self.buffer = descriptor, b""

    def _fill(self, size, deadline):
        while len(self.buffer) < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.descriptor], [], [],
                                              left)[0]:
                return "late"
            chunk = os.read(self.descriptor, 1 << 20)
            if not chunk:
                return "ended"
            self.buffer += chunk
        return None

    def receive(self, deadline):
        """A message, or "late" / "ended"."""
        trouble = self._fill(8, deadline)
        if trouble:
            return trouble
        (size,) = struct.unpack("<Q", self.buffer[:8])
        trouble = self._fill(8 + size, deadline)
        if trouble:
            return trouble
        payload, self.buffer = self.buffer[8:8 + size], self.buffer[8 + size:]
        return pickle.loads(payload)


def _ending(status, usage):
    if usage.ru_maxrss / 1024 > 0.75 * READ_MEBIBYTES:
        return f"the reader needed more than {READ_MEBIBYTES} MiB for it"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return (f"the reader crashed on it ({signal.strsignal(number)}, "
                f"signal {number})")
    return f"the reader ended on it (exit status {os.waitstatus_to_exitcode(status)})"


def _error_line(errors):
    """What the child said on its stderr (a file) as it died: the first
    line of a sanitizer's report ("==N==ERROR: ..."), else the last line."""
    errors.seek(0, os.SEEK_END)
    errors.seek(max(0, errors.tell() - 4096))
    lines = errors.read().decode("utf-8", "replace").strip().splitlines()
    reports = [line for line in lines if "ERROR: " in line]
    line = reports[0] if reports else lines[-1] if lines else ""
    return "".join(c if c.isprintable() else "?" for c in line)


def _run_child(paths, first, end, outcomes):
    """One child for paths[first:end]: fills `outcomes` for the files it
    answers for; returns (the first file it did not answer for, why it
    failed on that one or None, whether it stalled)."""
    receiving, sending = os.pipe()
    # What glibc or h5py says as the child dies: the reason's end.
    errors = tempfile.TemporaryFile()
    child = os.fork()
    if child == 0:
        os.close(receiving)
        os.dup2(errors.fileno(), 2)
        _child(paths[:end], first, sending)
    os.close(sending)
    stream, current, trouble = _Stream(receiving), first, None
    try:
        while current < end:
            message = stream.receive(time.monotonic() + READ_SECONDS)
            if isinstance(message, str):
                trouble = message
                break
            kind, index = message[0], message[1]
            if kind == "refused":
                outcomes[index] = message[2]
                current = index + 1
            elif kind == "core":
                outcomes[index] = (message[2], message[3])
            else:  # extras: the core holds against them
                row = dict(message[2])
                row.update(outcomes[index][0])
                outcomes[index] = (row, outcomes[index][1])
                current = index + 1
    finally:
        if trouble == "late":
            os.kill(child, signal.SIGKILL)
        os.close(receiving)
        _, status, usage = os.wait4(child, 0)
    reason = None
    if current < end and outcomes[current] is None:
        reason = f"the reader took more than {READ_SECONDS:g} s on it " \
            "(stopped)" if trouble == "late" else _ending(status, usage)
        said = _error_line(errors)
        if said:
            reason += f": {said[:200]}"
    errors.close()
    if current < end and reason is None:
        current += 1  # the core was read: it stands, without its extras
    return current, reason, trouble == "late"


def _read_isolated(paths):
    """[(row, timings) or reason] for each path, each file read in a child
    process (one for the whole batch, a new one after a file that crashed
    or stalled it), as parkit report reads (isolated_reading.h)."""
    outcomes = [None] * len(paths)
    first = 0
    while first < len(paths):
        current, reason, stalled = _run_child(paths, first, len(paths),
                                              outcomes)
        if reason is not None and current > first and not stalled:
            # A crash after other files in the same child may owe something
            # to them: the file is read again alone, so that its verdict is
            # its own (a stalled one is not waited for twice).
            retried, reason, _ = _run_child(paths, current, current + 1,
                                            outcomes)
            if reason is None:
                first = retried
                continue
        if reason is not None:
            outcomes[current] = reason
            current += 1
        first = current
    return outcomes


def _complete_row(path, row):
    row["file"] = path
    row.setdefault("host", "")
    row.setdefault("hosts", "")
    row.setdefault("peak_resident_bytes_max", np.nan)
    row.setdefault("peak_resident_bytes_total", np.nan)
    return row


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
    Files that cannot be read (and entries that are no files: FIFOs,
    devices, links that lead nowhere, unreadable directories) are listed in
    `skipped` with the reason, never raised; a missing path raises
    FileNotFoundError."""
    files, unfinished, problems = _find(paths)
    rows, timing_arrays, skipped = [], [], list(problems)
    for path, outcome in zip(files, _read_isolated(files)):
        if isinstance(outcome, str):
            skipped.append((path, outcome))
            continue
        rows.append(_complete_row(path, outcome[0]))
        timing_arrays.append(outcome[1])
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
