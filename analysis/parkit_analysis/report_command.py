"""parkit-report (installed) or analysis/report.py (checkout): writes a
self-contained HTML report (figures embedded) from parkit result files, and
prints its path.

usage: parkit-report RESULTS... [-o report.html] [--title TEXT]
                     [--peak-gflops X] [--peak-bandwidth Y]

RESULTS are result files or directories (searched recursively for *.h5).
The default output is RESULTS/report.html for one directory, else
./report.html. Files that cannot be read are named in the report and on
stderr. Exit status: 0 written, 1 no result file could be read, 2 bad
arguments (a missing path included).
"""
import argparse
import json
import os
import sys

from . import load_results, write_report


def positive(text):
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"'{text}': allowed: a number > 0")
    return value


def parse_arguments(argv, prog):
    parser = argparse.ArgumentParser(
        prog=prog,
        description="HTML report (tables, figures, provenance) from parkit "
                    "result files.")
    parser.add_argument("paths", nargs="+", metavar="RESULTS",
                        help="result files or directories")
    parser.add_argument("-o", "--output", help="HTML file to write "
                        "(default: RESULTS/report.html, or ./report.html)")
    parser.add_argument("--title", help="page title")
    parser.add_argument("--peak-gflops", type=positive, help="roofline: "
                        "peak GFLOP/s of the machine (default: assumed)")
    parser.add_argument("--peak-bandwidth", type=positive, help="roofline: "
                        "memory bandwidth in GB/s (default: best stream run, "
                        "else assumed)")
    arguments = parser.parse_args(argv)
    for path in arguments.paths:
        if not os.path.exists(path):
            parser.error(f"results path '{path}' does not exist")
    return arguments


def campaign_answer_of(paths):
    """The main job's answer when the one path is its campaign directory
    (answer.json, written by the verdict), else None."""
    if len(paths) != 1:
        return None
    path = os.path.join(paths[0], "answer.json")
    if not os.path.isfile(path):
        return None
    with open(path) as text:
        return json.load(text)


def main(argv=None, prog="parkit-report"):
    arguments = parse_arguments(argv, prog)
    results = load_results(arguments.paths)
    for path, reason in results.skipped:
        print(f"report: warning: skipped {path}: {reason}", file=sys.stderr)
    if results.runs.empty:
        print("report: error: no readable result file (*.h5) under "
              f"{' '.join(arguments.paths)}", file=sys.stderr)
        return 1
    output = arguments.output
    if output is None:
        only = arguments.paths[0]
        output = os.path.join(only, "report.html") \
            if len(arguments.paths) == 1 and os.path.isdir(only) \
            else "report.html"
    title = arguments.title or f"parkit report: {' '.join(arguments.paths)}"
    write_report(results, output, title, arguments.peak_gflops,
                 arguments.peak_bandwidth, campaign_answer_of(arguments.paths))
    print(os.path.abspath(output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
