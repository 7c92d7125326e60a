#!/usr/bin/env bash
# Threads or processes, on this machine: the main job. Runs every work
# kernel in its cache and memory regimes (sized from the machine's caches)
# in every split of the cores and as the 1 x 1 base case, and a computing
# (montecarlo) and a waiting (wait) kernel with 1, 2, 4 and 8 workers per
# core as threads and as ranks, in interleaved rounds shuffled from a
# recorded seed, until every median's 95% CI is within +-2% or the budget
# is spent; then the overhead probes; then prints the verdict per kernel
# and regime with its interval, and the claims of the threads-vs-processes
# texts, each with the measurement behind it and whether it held
# (analysis/parkit_analysis/campaign.py, answer.py and claims.py).
# Everything lands in the campaign directory: runs/*.h5, probes/*.h5,
# campaign.json (design, seed, order, every run), answer.json and
# answer.txt (the verdict and the claims), report.txt (`parkit report`:
# every run).
#
# usage: jobs/compare_modes.sh [--parkit PATH] [--out DIR] [--budget SECONDS]
#          [--quick] [--kernels "matmul stream"] [--probes "sync pingpong"]
#          [--seed N] [--target 0.02] [--min-repetition 0.05] [--cores N]
#          [--set 'KERNEL OPTIONS'] [--settled-rounds N] [--mpirun PROGRAM]
#   --budget  seconds the rounds may take (default 300: about 5 minutes on
#             2 cores, calibration and probes included)
#   --quick   a ~30 s preview: one round of the cache regime, no intervals,
#             no winners claimed
#   --set     run a kernel at a problem of your choice ('matmul --n 2048')
#             as one regime, 'given', instead of cache and memory
# Exit status: 0 every run verified, 2 bad arguments, 3 some run failed or
# did not verify.
set -euo pipefail

# The program, the analysis package and its Python: PARKIT_BINARY and
# PARKIT_PYTHON, else where jobs/layout.sh says (a checkout's build/ and
# analysis/, or the installed tree's).
parkit_kit=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
source "$parkit_kit/jobs/layout.sh"
python=${PARKIT_PYTHON:-$parkit_layout_python}
parkit=${PARKIT_BINARY:-$parkit_layout_binary}
out=""
arguments=()
while [ $# -gt 0 ]; do
  case $1 in
  -h | --help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  --parkit | --out)
    [ $# -ge 2 ] || { echo "compare_modes: error: $1 needs a value" >&2; exit 2; }
    if [ "$1" = --parkit ]; then parkit=$2; else out=$2; fi
    shift 2 ;;
  *) arguments+=("$1"); shift ;;
  esac
done
[ -n "$parkit" ] && [ -x "$parkit" ] || {
  echo "compare_modes: error: --parkit '$parkit' is not an executable; build first (cmake --build build) or set PARKIT_BINARY" >&2
  exit 2
}
"$python" -c "import h5py, numpy, pandas" 2>/dev/null || {
  echo "compare_modes: error: $python lacks h5py, numpy or pandas; install python3-h5py python3-numpy python3-pandas or set PARKIT_PYTHON" >&2
  exit 2
}
[ -n "$out" ] || out=results/compare-$(date -u +%Y%m%dT%H%M%SZ)

export PYTHONPATH=$parkit_layout_pythonpath${PYTHONPATH:+:$PYTHONPATH}
status=0
"$python" -m parkit_analysis.campaign --parkit "$parkit" --out "$out" \
  "${arguments[@]}" || status=$?
[ "$status" -ne 2 ] || exit 2
[ -f "$out/campaign.json" ] || exit "$status"
"$parkit" report "$out" >"$out/report.txt" 2>/dev/null || true
echo
"$python" -m parkit_analysis.verdict_command "$out" | tee "$out/answer.txt"
echo
echo "campaign: $out/ (campaign.json: design and every run; answer.json: the numbers; report.txt: every run; layout: results/README.md)"
if [ "$status" -ne 0 ]; then
  echo "compare_modes: error: some runs failed or did not verify (see above)" >&2
  exit 3
fi
