#!/usr/bin/env bash
# Threads or processes, on this machine: runs every kernel (at its default,
# small size) as one core, as threads, as ranks and as a hybrid over all the
# cores this shell may use, with explicit placement, and prints one table.
# Every run leaves its HDF5 file in the campaign directory, next to runs.txt
# (the runs' key=value lines).
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

# A hybrid split with at least 2 ranks and 2 threads needs 4 cores;
# on fewer, the hybrid row is 1 rank x all cores (through mpirun).
hybrid_ranks=1
if [ "$cores" -ge 4 ]; then
  hybrid_ranks=2
  while [ $((cores % hybrid_ranks)) -ne 0 ]; do hybrid_ranks=$((hybrid_ranks + 1)); done
fi
hybrid_threads=$((cores / hybrid_ranks))

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

for kernel in $kernels; do
  run threads 1 1 "$kernel"
  run threads 1 "$cores" "$kernel"
  run ranks "$cores" 1 "$kernel"
  run hybrid "$hybrid_ranks" "$hybrid_threads" "$kernel"
done

# The table: speedup and efficiency against the one-core run of each kernel;
# '*' marks the fastest way to use all cores.
awk -v cores="$cores" '
  {
    delete f
    for (i = 2; i <= NF; ++i) { split($i, kv, "="); f[kv[1]] = substr($i, length(kv[1]) + 2) }
    n = ++runs; kernel[n] = f["kernel"]; mode[n] = f["mode"]
    split_[n] = f["ranks"] "x" f["threads"]; workers[n] = f["ranks"] * f["threads"]
    time[n] = f["time_median"] + 0; rate[n] = f["rate"] + 0; unit[n] = f["rate_unit"]
    imbalance[n] = f["imbalance"] + 0; verified[n] = f["verified"] == 1 ? "yes" : "NO"
    if (workers[n] == 1 && !(f["kernel"] in base)) base[f["kernel"]] = time[n]
    if (workers[n] > 1 && rate[n] > best[f["kernel"]]) { best[f["kernel"]] = rate[n]; winner[f["kernel"]] = n }
  }
  END {
    printf "\nthreads vs ranks vs hybrid on %d cores (median of the timed repetitions)\n\n", cores
    printf "%-12s %-8s %-6s %12s %20s %8s %6s %9s %8s\n", "kernel", "mode", "split", "time (s)", "rate", "speedup", "eff.", "imbalance", "verified"
    for (n = 1; n <= runs; ++n) {
      speedup = time[n] > 0 && (kernel[n] in base) ? base[kernel[n]] / time[n] : 0
      printf "%-12s %-8s %-6s %12.5g %11.4g %-8s %7.2fx %5.0f%% %9.3f %8s%s\n", kernel[n], mode[n], split_[n], time[n], rate[n], unit[n], speedup, 100 * speedup / workers[n], imbalance[n], verified[n], winner[kernel[n]] == n ? "  *" : ""
    }
  }' "$log"
echo
echo "result files: $out/ ($(ls "$out"/*.h5 | wc -l) runs; layout: results/README.md)"
if [ "$failed" -ne 0 ]; then
  echo "compare_modes: error: some runs failed or did not verify (see above)" >&2
  exit 3
fi
