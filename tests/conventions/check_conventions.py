#!/usr/bin/python3
"""The tree's conventions, checked in the manner of PETSc's source checks
(run by CTest as `conventions`):

1. Kernels (kernels/work/*.c, kernels/probes/*.c) never name
   MPI_COMM_WORLD: they run on ctx->comm.
2. Work kernels (kernels/work/*.c) neither time (MPI_Wtime, clock_gettime,
   gettimeofday: the runner times; phases go through parkit_phase_begin)
   nor print (printf, fprintf, puts, perror) nor end the program (exit,
   _exit, abort).
3. Every MPI and HDF5 call in kernels/ and drivers/ is checked: its result
   is used (tested, assigned, returned, passed on, or inside a check macro
   such as PARKIT_MPI_CALL), or discarded on purpose with a `(void)` cast
   (a clean-up whose failure changes nothing). Calls that return no status
   (MPI_Wtime, MPI_Wtick) and calls that do not return (MPI_Abort) are
   exempt.
4. Layers do not look back up: kernels/interface/ includes nothing of
   kernels/work, kernels/probes, kernels/numerics or drivers/; kernels
   include nothing of drivers/.

usage: check_conventions.py [--root DIR] [FILE ...]
Prints one line per violation (file:line: rule: text) and exits 1 when
there is any; with FILEs, checks those (as if they sat at their paths).
"""
import argparse
import os
import re
import sys

EXEMPT_CALLS = {"MPI_Wtime", "MPI_Wtick", "MPI_Abort"}
CALL = re.compile(r"\b(MPI_[A-Z][A-Za-z0-9_]*|H5[A-Za-z0-9_]*)\s*\(")
TIMING = re.compile(r"\b(MPI_Wtime|clock_gettime|gettimeofday)\s*\(")
PRINTING = re.compile(r"\b(printf|fprintf|puts|perror|exit|_exit|abort)\s*\(")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def strip_comments_and_strings(text):
    """The text with comments, string and character literals blanked
    (newlines kept, so line numbers stay)."""
    pattern = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|'
                         r"'(?:\\.|[^'\\\n])*'", re.DOTALL)

    def blank(match):
        return re.sub(r"[^\n]", " ", match.group(0))
    return pattern.sub(blank, text)


def line_of(text, offset):
    return text.count("\n", 0, offset) + 1


def discarded(code, start):
    """Whether the call starting at `start` is a whole expression statement
    whose value nobody uses, and not cast to void."""
    before = code[:start].rstrip()
    if before.endswith("(void)"):
        return False
    if before and before[-1] == ":":
        # A label or case ends a statement; a conditional's ':' does not.
        statement = re.split(r"[;{}]", before)[-1]
        return "?" not in statement
    if not before or before[-1] in ";{}":
        return True
    if before[-1] == ")":
        # `if (...) CALL(...);`, `while (...) CALL(...);`, `for (...)`.
        depth, index = 0, len(before) - 1
        while index >= 0:
            depth += {")": 1, "(": -1}.get(before[index], 0)
            if depth == 0:
                break
            index -= 1
        keyword = before[:index].rstrip()
        return bool(re.search(r"\b(if|while|for)$", keyword))
    return bool(re.search(r"\b(else|do)$", before))


def check_file(path, text, relative):
    problems = []
    code = strip_comments_and_strings(text)
    kernel = relative.startswith(("kernels/work/", "kernels/probes/"))
    work = relative.startswith("kernels/work/")
    if kernel:
        for match in re.finditer(r"\bMPI_COMM_WORLD\b", code):
            problems.append((line_of(code, match.start()), "kernel",
                             "MPI_COMM_WORLD in a kernel (use ctx->comm)"))
    if work:
        for match in TIMING.finditer(code):
            problems.append((line_of(code, match.start()), "kernel",
                             f"{match.group(1)} in a work kernel (the runner "
                             "times; mark phases with parkit_phase_begin)"))
        for match in PRINTING.finditer(code):
            problems.append((line_of(code, match.start()), "kernel",
                             f"{match.group(1)} in a work kernel (return "
                             "errors; the driver reports)"))
    if relative.startswith(("kernels/", "drivers/")):
        for match in CALL.finditer(code):
            name = match.group(1)
            if name in EXEMPT_CALLS or name.startswith("H5_"):
                continue
            if discarded(code, match.start()):
                problems.append((line_of(code, match.start()), "unchecked",
                                 f"the result of {name} is neither checked "
                                 "nor cast to (void)"))
    for match in INCLUDE.finditer(text):
        header = match.group(1)
        problems += layering(relative, header, line_of(text, match.start()))
    return [(relative, line, rule, message) for line, rule, message in problems]


LOWER = {"kernels/interface/": ("interface",),
         "kernels/numerics/": ("interface", "numerics"),
         "kernels/work/": ("interface", "numerics", "probes", "registry"),
         "kernels/probes/": ("interface", "numerics", "probes", "registry")}


def header_home(header, root):
    """Where a project header lives: interface, numerics, probes, registry,
    or drivers; None for a header the project does not have."""
    if header == "registry.h":
        return "registry"
    for folder in ("interface", "numerics", "probes"):
        if os.path.exists(os.path.join(root, "kernels", folder, header)):
            return folder
    for directory, _, names in os.walk(os.path.join(root, "drivers")):
        if header in names:
            return "drivers"
    return None


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def layering(relative, header, line):
    for prefix, allowed in LOWER.items():
        if relative.startswith(prefix):
            home = header_home(header, ROOT)
            if home is not None and home not in allowed:
                return [(line, "layering",
                         f'{prefix.rstrip("/")} includes "{header}" from '
                         f"{home}: a layer may not look back up")]
    return []


def sources(root):
    for top in ("kernels", "drivers"):
        for directory, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if name.endswith((".c", ".h")):
                    path = os.path.join(directory, name)
                    yield path, os.path.relpath(path, root)


def main(argv):
    global ROOT
    parser = argparse.ArgumentParser(prog="check_conventions.py")
    parser.add_argument("--root", default=ROOT)
    parser.add_argument("--as-path", help="with one FILE: check it as if it "
                        "were at this path relative to the root")
    parser.add_argument("files", nargs="*")
    arguments = parser.parse_args(argv)
    ROOT = os.path.abspath(arguments.root)
    if arguments.files:
        pairs = [(f, arguments.as_path or os.path.relpath(f, ROOT))
                 for f in arguments.files]
    else:
        pairs = list(sources(ROOT))
    problems = []
    for path, relative in pairs:
        with open(path, encoding="utf-8") as source:
            problems += check_file(path, source.read(), relative)
    for relative, line, rule, message in problems:
        print(f"{relative}:{line}: {rule}: {message}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
