"""The Python reader's side of fuzz_result_file.c: reads one path per line
on stdin with analysis/parkit_analysis's loader (each file in a forked
child, as load_results reads), and answers one line per path:
"accept <kernel> <problem>" or "refuse <reason>".

usage: read_with_python.py SOURCE_DIR SECONDS"""
import os
import sys

sys.path.insert(0, os.path.join(sys.argv[1], "analysis"))
from parkit_analysis import loader  # noqa: E402

loader.READ_SECONDS = float(sys.argv[2])
for line in sys.stdin:
    outcome = loader._read_isolated([line.rstrip("\n")])[0]
    if isinstance(outcome, str):
        answer = "refuse " + outcome
    else:
        answer = f"accept {outcome[0]['kernel']} {outcome[0]['problem']}"
    print(answer.replace("\n", " "), flush=True)
