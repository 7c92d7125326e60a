#!/usr/bin/python3
"""The HTML report from a source checkout (installed: parkit-report); see
parkit_analysis/report_command.py. Python puts this file's directory,
analysis/, first on sys.path, so the package beside it is the one used.

usage: analysis/report.py RESULTS... [-o report.html] [--title TEXT]
                          [--peak-gflops X] [--peak-bandwidth Y]
"""
import sys

from parkit_analysis.report_command import main

if __name__ == "__main__":
    sys.exit(main(prog="analysis/report.py"))
