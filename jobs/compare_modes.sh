#!/usr/bin/env bash
# Threads or processes, on this machine: runs every kernel (at its default,
# small size) on one core and then at every ranks x threads split of all the
# cores this shell may use (1 x N as threads, N x 1 as ranks, the others as
# hybrids), with explicit placement, and prints the answer: per kernel the
# best mode and split and how much slower the other modes are, then the
# overhead figures of the probe kernels. Every run leaves its HDF5 file in
# the campaign directory, next to runs.txt (the runs' key=value lines) and
# report.txt (`parkit report`: every run, speedup, efficiency, imbalance).
#
# usage: jobs/compare_modes.sh [--parkit PATH] [--out DIR] [--cores N]
#                              [--reps N] [--kernels "matmul montecarlo"]
set -euo pipefail

parkit=build/parkit
out=results/compare-$(date -u +%Y%m%dT%H%M%SZ)
cores=$(nproc)
reps=5
kernels=""
while [ $# -gt 0 ]; do
  case $1 in
  --parkit) parkit=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  --cores) cores=$2; shift 2 ;;
  --reps) reps=$2; shift 2 ;;
  --kernels) kernels=$2; shift 2 ;;
  -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
  *) echo "compare_modes: error: unknown argument '$1'; see --help" >&2; exit 2 ;;
  esac
done
case $cores in
'' | *[!0-9]* | 0) echo "compare_modes: error: --cores '$cores': allowed: a positive integer" >&2; exit 2 ;;
esac
[ -x "$parkit" ] || { echo "compare_modes: error: --parkit '$parkit' is not an executable; build first (cmake --build build)" >&2; exit 2; }
[ -n "$kernels" ] || kernels=$("$parkit" list | awk '/^[a-z]/ && !/^Every/ {print $1}')

if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# Threads stay on the cores they start on, one thread per core.
export OMP_PLACES=cores OMP_PROC_BIND=close

# Every P x T = cores. 1 x N runs as threads and N x 1 as ranks; the other
# splits are hybrids. Where there are none (2 or a prime number of cores),
# the hybrid row is 1 rank x N threads launched through mpirun.
splits=()
for ((ranks = 1; ranks <= cores; ++ranks)); do
  [ $((cores % ranks)) -eq 0 ] && splits+=("$ranks $((cores / ranks))")
done
[ ${#splits[@]} -gt 2 ] || splits+=("hybrid 1 $cores")
probes=" spawn sync pingpong footprint "

mkdir -p "$out"
log=$out/runs.txt
: >"$log"

launch() { # mode ranks threads kernel
  local mode=$1 ranks=$2 threads=$3 kernel=$4
  local common=(--out "$out" --reps "$reps" --quiet)
  case $mode in
  threads)
    "$parkit" threads "$kernel" --threads "$threads" "${common[@]}" ;;
  ranks)
    mpirun -np "$ranks" --map-by core --bind-to core \
      "$parkit" ranks "$kernel" "${common[@]}" ;;
  hybrid)
    mpirun -np "$ranks" --map-by "slot:PE=$threads" --bind-to core \
      -x OMP_PLACES -x OMP_PROC_BIND \
      "$parkit" hybrid "$kernel" --threads "$threads" "${common[@]}" ;;
  esac
}

failed=0
run() { # mode ranks threads kernel: one run, its key=value line into $log
  echo "compare_modes: $4 as $1, $2 x $3" >&2
  local status=0
  launch "$@" >"$out/last-run.txt" || status=$?
  grep '^PARKIT ' "$out/last-run.txt" >>"$log" || true
  rm -f "$out/last-run.txt"
  if [ "$status" -ne 0 ]; then
    echo "compare_modes: error: $4 as $1 ($2 x $3) exited with status $status" >&2
    failed=1
  fi
}

mode_of() { # ranks threads
  if [ "$1" -eq 1 ]; then echo threads; elif [ "$2" -eq 1 ]; then echo ranks; else echo hybrid; fi
}
for kernel in $kernels; do
  # The probes measure overheads, not work: no one-core baseline.
  case $probes in *" $kernel "*) ;; *) run threads 1 1 "$kernel" ;; esac
  for split in "${splits[@]}"; do
    set -- $split
    if [ "$1" = hybrid ]; then
      run hybrid "$2" "$3" "$kernel"
    else
      run "$(mode_of "$1" "$2")" "$1" "$2" "$kernel"
    fi
  done
done

"$parkit" report "$out" >"$out/report.txt" 2>/dev/null || true
echo
# The answer, from the HDF5 files (Debian's Python has h5py and pandas);
# without them, parkit's own report table.
python=${PARKIT_PYTHON:-/usr/bin/python3}
here=$(cd "$(dirname "$0")/.." && pwd)
if "$python" -c "import h5py, pandas" 2>/dev/null; then
  "$python" "$here/analysis/verdict.py" "$out" --cores "$cores"
else
  cat "$out/report.txt"
fi
echo
echo "result files: $out/ ($(ls "$out"/*.h5 | wc -l) runs; every run: $out/report.txt; layout: results/README.md)"
if [ "$failed" -ne 0 ]; then
  echo "compare_modes: error: some runs failed or did not verify (see above)" >&2
  exit 3
fi
