#!/usr/bin/python3
"""Prints the main job's answer for a directory of parkit runs: per kernel
the best mode and split and how much slower the other modes are, then the
overhead figures (see parkit_analysis/verdict.py).

usage: analysis/verdict.py RESULTS... [--cores N]
Exit status: 0 printed, 1 no result file could be read, 2 bad arguments.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from parkit_analysis.loader import load_results  # noqa: E402
from parkit_analysis.verdict import verdict_text  # noqa: E402


def main(argv):
    parser = argparse.ArgumentParser(prog="analysis/verdict.py")
    parser.add_argument("paths", nargs="+", metavar="RESULTS")
    parser.add_argument("--cores", type=int, help="the full machine "
                        "(default: the largest ranks x threads among the runs)")
    arguments = parser.parse_args(argv)
    if arguments.cores is not None and arguments.cores < 1:
        parser.error(f"--cores {arguments.cores}: allowed: an integer >= 1")
    try:
        results = load_results(arguments.paths)
    except FileNotFoundError as error:
        print(f"verdict: error: {error}", file=sys.stderr)
        return 2
    for path, reason in results.skipped:
        print(f"verdict: warning: skipped {path}: {reason}", file=sys.stderr)
    if results.runs.empty:
        print("verdict: error: no result file could be read", file=sys.stderr)
        return 1
    print(verdict_text(results, arguments.cores))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
