#!/usr/bin/env bash
# Threads, ranks or hybrid on N cores: runs matmul and montecarlo (NPB EP)
# once in each mode over the same cores, with explicit placement, and
# prints one table: kernel, mode, split, median time, rate, and the rate as
# a ratio to the threads mode's. Every run leaves its HDF5 file in the
# output directory, next to runs.txt (each run's PARKIT key=value line),
# report.json (`parkit report --format json` of them) and table.txt (the
# table, from report.json).
#
# usage: bench/modes.sh [--parkit PATH] [--mpirun PATH] [--out DIR]
#                       [--cores N] [--hybrid RxT] [--n N] [--class C]
#                       [--reps N] [--warmup N]
#   --cores N    cores to use (default: nproc, the cores this shell may use)
#   --hybrid RxT the hybrid split, R ranks x T threads with R T = N
#                (default: 2 ranks or more x 2 threads or more when N >= 4;
#                on fewer cores, 1 rank x N threads)
#   --n N        matmul's matrix order (default 2048)
#   --class C    montecarlo's NPB EP class, S W A B C (default A)
#   --reps N     timed repetitions per run (default 3); --warmup N (default 1)
#   --out DIR    result directory (default: a fresh results/modes-<UTC time>)
# The defaults take about a minute on 2 cores.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
parkit=$here/../build/parkit
python=${PARKIT_PYTHON:-/usr/bin/python3}
mpirun=mpirun
out=""
cores=$(nproc)
hybrid=""
matmul_n=2048
ep_class=A
reps=3
warmup=1

fail() { # message [status]: one error line, then exit
  echo "modes: error: $1" >&2
  exit "${2:-2}"
}
positive() { # option value: the value must be a positive integer
  case $2 in
  '' | *[!0-9]* | 0*) fail "$1 '$2': allowed: a positive integer" ;;
  esac
}
while [ $# -gt 0 ]; do
  case $1 in
  -h | --help) ;;
  *) [ $# -ge 2 ] || fail "$1 needs a value; see --help" ;;
  esac
  case $1 in
  --parkit) parkit=$2; shift 2 ;;
  --mpirun) mpirun=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  --cores) positive "$1" "$2"; cores=$2; shift 2 ;;
  --hybrid) hybrid=$2; shift 2 ;;
  --n) positive "$1" "$2"; matmul_n=$2; shift 2 ;;
  --class)
    case $2 in S | W | A | B | C) ep_class=$2 ;; *) fail "--class '$2': allowed: one of S W A B C" ;; esac
    shift 2 ;;
  --reps) positive "$1" "$2"; reps=$2; shift 2 ;;
  --warmup)
    case $2 in '' | *[!0-9]*) fail "--warmup '$2': allowed: an integer >= 0" ;; esac
    warmup=$2; shift 2 ;;
  -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) fail "unknown argument '$1'; see --help" ;;
  esac
done

[ -x "$parkit" ] || fail "--parkit '$parkit' is not an executable; build first (cmake --build build)"
command -v "$mpirun" >/dev/null || fail "--mpirun '$mpirun' is not a command; install Open MPI or pass --mpirun PATH"

# The hybrid split: R ranks x T threads, R T = cores.
if [ -n "$hybrid" ]; then
  case $hybrid in
  [1-9]*x[1-9]*) hybrid_ranks=${hybrid%x*}; hybrid_threads=${hybrid#*x} ;;
  *) fail "--hybrid '$hybrid': allowed: RxT, e.g. 2x4" ;;
  esac
  case $hybrid_ranks$hybrid_threads in *[!0-9]*) fail "--hybrid '$hybrid': allowed: RxT, e.g. 2x4" ;; esac
  [ $((hybrid_ranks * hybrid_threads)) -eq "$cores" ] ||
    fail "--hybrid '$hybrid': R x T must equal the cores ($cores)"
else
  # At least 2 ranks of at least 2 threads needs 4 cores; on fewer the
  # hybrid row is 1 rank x all cores, through mpirun.
  hybrid_ranks=1
  if [ "$cores" -ge 4 ]; then
    hybrid_ranks=2
    while [ $((cores % hybrid_ranks)) -ne 0 ]; do hybrid_ranks=$((hybrid_ranks + 1)); done
  fi
  hybrid_threads=$((cores / hybrid_ranks))
fi

# Placement: one rank per core (ranks); T cores per rank, its threads one
# per core beside each other (hybrid); threads likewise (threads).
# More cores than this shell may use cannot be bound one per core.
bind=(--bind-to core)
available=$(nproc)
if [ "$cores" -gt "$available" ]; then
  echo "modes: warning: --cores $cores exceeds the $available cores available: runs are oversubscribed and unbound, timings mean little" >&2
  bind=(--oversubscribe --bind-to none)
fi
if [ "$(id -u)" -eq 0 ]; then # Open MPI refuses root without these
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMP_PLACES=cores OMP_PROC_BIND=close

[ -n "$out" ] || out=results/modes-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out" || fail "--out '$out': cannot create the directory"
log=$out/runs.txt
: >"$log"

launch() { # mode ranks threads kernel [kernel options...]
  local mode=$1 ranks=$2 threads=$3 kernel=$4
  shift 4
  local common=(--out "$out" --reps "$reps" --warmup "$warmup" --quiet "$@")
  case $mode in
  threads)
    OMP_NUM_THREADS=$threads "$parkit" threads "$kernel" --threads "$threads" "${common[@]}" ;;
  ranks)
    OMP_NUM_THREADS=1 "$mpirun" -np "$ranks" --map-by core "${bind[@]}" \
      "$parkit" ranks "$kernel" "${common[@]}" ;;
  hybrid)
    local map=(--map-by "slot:PE=$threads")
    [ "${bind[*]}" = "--bind-to core" ] || map=(--map-by slot)
    OMP_NUM_THREADS=$threads "$mpirun" -np "$ranks" "${map[@]}" "${bind[@]}" \
      -x OMP_NUM_THREADS -x OMP_PLACES -x OMP_PROC_BIND \
      "$parkit" hybrid "$kernel" --threads "$threads" "${common[@]}" ;;
  esac
}

failed=0
run() { # mode ranks threads kernel [kernel options...]: one run into $log
  echo "modes: $4 as $1, $2 x $3" >&2
  local status=0 output line
  output=$(launch "$@") || status=$?
  line=$(grep '^PARKIT ' <<<"$output" || true)
  if [ "$status" -ne 0 ]; then
    echo "modes: error: $4 as $1 ($2 x $3) exited with status $status" >&2
    failed=1
  elif [ -z "$line" ]; then
    echo "modes: error: $4 as $1 ($2 x $3) printed no PARKIT line" >&2
    failed=1
  elif [[ " $line " != *" verified=1 "* ]]; then
    echo "modes: error: $4 as $1 ($2 x $3) did not verify" >&2
    failed=1
  fi
  [ -z "$line" ] || echo "$line" >>"$log"
}

for kernel in matmul montecarlo; do
  case $kernel in
  matmul) options=(--n "$matmul_n") ;;
  montecarlo) options=(--estimate ep --class "$ep_class") ;;
  esac
  run threads 1 "$cores" "$kernel" "${options[@]}"
  run ranks "$cores" 1 "$kernel" "${options[@]}"
  run hybrid "$hybrid_ranks" "$hybrid_threads" "$kernel" "${options[@]}"
done

# The table, from `parkit report --format json` of the runs' files (kept as
# report.json): the ratio is the run's rate over the threads run's rate for
# the same kernel (above 1: faster than threads).
"$parkit" report --format json "$out" >"$out/report.json" 2>/dev/null ||
  fail "parkit report read no result file in $out" 3
"$python" - "$out/report.json" "$cores" <<'TABLE' | tee "$out/table.txt"
import json
import sys

with open(sys.argv[1]) as report:
    runs = json.load(report)["runs"]
base = {run["kernel"]: run["rate"] for run in runs if run["mode"] == "threads"}
print(f"threads vs ranks vs hybrid on {sys.argv[2]} cores (median time of "
      "the timed repetitions)\n")
print(f"{'kernel':<11} {'mode':<8} {'split':<6} {'time (s)':>11} {'rate':>12} "
      f"{'':<10} {'ratio':>8} {'verified':>8}")
for run in runs:
    rate = run["rate"] or 0.0
    ratio = f"{rate / base[run['kernel']]:.2f}x" if base.get(run["kernel"]) \
        else "-"
    split = f"{run['ranks']}x{run['threads']}"
    verified = "yes" if run["verified"] == 1 else "NO"
    print(f"{run['kernel']:<11} {run['mode']:<8} {split:<6} "
          f"{run['time_median_s']:11.4g} {rate:12.4g} {run['rate_unit']:<10} "
          f"{ratio:>8} {verified:>8}")
TABLE
echo
echo "result files: $out/ ($(find "$out" -name '*.h5' | wc -l) runs; layout: results/README.md)"
if [ "$failed" -ne 0 ]; then
  fail "some runs failed or did not verify (see above)" 3
fi
