#!/usr/bin/python3
"""The main job's verdict from a source checkout; see
parkit_analysis/verdict_command.py (jobs/compare_modes.sh runs that module).

usage: analysis/verdict.py CAMPAIGN [--threshold 0.03]
"""
import sys

from parkit_analysis.verdict_command import main

if __name__ == "__main__":
    sys.exit(main(prog="analysis/verdict.py"))
