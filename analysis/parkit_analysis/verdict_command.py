"""The main job's verdict (jobs/compare_modes.sh runs this module): prints
the answer for a campaign directory (campaign.json and its result files;
see parkit_analysis/answer.py) and writes answer.json beside it, the numbers
`parkit report` and the HTML report show.

usage: python3 -m parkit_analysis.verdict_command CAMPAIGN [--threshold 0.03]
Exit status: 0 printed, 1 no campaign could be read, 2 bad arguments.
"""
import argparse
import os
import sys

from .answer import answer_text, campaign_answer, write_answer_json


def main(argv=None, prog="parkit_analysis.verdict_command"):
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("campaign", metavar="CAMPAIGN",
                        help="a directory the main job wrote")
    parser.add_argument("--threshold", type=float, default=0.03,
                        help="differences under this fraction count as "
                        "equal (default 0.03)")
    arguments = parser.parse_args(argv)
    if not 0 < arguments.threshold < 1:
        parser.error(f"--threshold {arguments.threshold}: allowed: a "
                     "fraction between 0 and 1")
    record = os.path.join(arguments.campaign, "campaign.json")
    if not os.path.isfile(record):
        print(f"verdict: error: '{record}' does not exist: not a campaign "
              "directory (run jobs/compare_modes.sh)", file=sys.stderr)
        return 1
    answer = campaign_answer(arguments.campaign, arguments.threshold)
    write_answer_json(answer, os.path.join(arguments.campaign, "answer.json"))
    print(answer_text(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
