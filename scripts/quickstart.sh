#!/usr/bin/env bash
# README command (1): install what is missing, build, and run the main job
# (jobs/compare_modes.sh: every work kernel in its cache and memory regimes,
# as threads, ranks and hybrid on this machine, in interleaved rounds until
# the answer is settled or 5 minutes are spent), ending with the verdict per
# kernel and regime; then write the HTML report of those runs
# (analysis/report.py) and print its path. HDF5 files land under results/.
# Arguments go to the main job (e.g. --quick for a 30 s preview).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Debian's interpreter has h5py, pandas and matplotlib (scripts/install-deps.sh).
python=${PARKIT_PYTHON:-/usr/bin/python3}
[ -x "$python" ] || python=python3
# The tests need pytest, which only command (2) installs: without it this
# builds the program alone.
testing=ON
"$python" -c "import h5py, numpy, pytest" 2>/dev/null || testing=OFF
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=$testing \
  >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

# The main job's campaign directory: the --out given, else the one chosen
# here (compare_modes.sh would pick the same kind of name).
out=""
previous=""
for argument in "$@"; do
  [ "$previous" = --out ] && out=$argument
  previous=$argument
done
extra=()
if [ -z "$out" ]; then
  out=results/compare-$(date -u +%Y%m%dT%H%M%SZ)
  extra=(--out "$out")
fi
status=0
bash jobs/compare_modes.sh --parkit build/parkit "${extra[@]}" "$@" || status=$?
case $status in
0 | 3) ;;  # 3: some runs failed; report the others
*) exit "$status" ;;
esac

echo
report=$("$python" analysis/report.py "$out" -o "$out/report.html")
echo "report: $report"
exit "$status"
