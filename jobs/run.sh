#!/usr/bin/env bash
# One parkit run on this machine, with the placement its mode needs:
#   threads  OMP_PLACES=cores OMP_PROC_BIND=close, one thread per core
#   ranks    mpirun --map-by core --bind-to core, one rank per core
#   hybrid   mpirun --map-by slot:PE=T --bind-to core: T cores per rank,
#            OMP_* forwarded with -x so each rank's threads spread over them;
#            --bind-to none when ranks x threads exceeds the cores (only with
#            --oversubscribe), threads then placed by OMP_PLACES alone
# Exit status: parkit's (0 verified, 2 bad input, 3 not verified,
# 4 interrupted with a file, 5 abandoned; README.md), or 2 for bad arguments.
# SIGTERM, SIGINT or SIGUSR1 to this script stops the run after its current
# repetition (a second one abandons it), in every mode.
#
# usage: jobs/run.sh [--parkit PATH] [--oversubscribe] [--print]
#                    MODE KERNEL RANKS THREADS [parkit options ...]
#   --print  print the command instead of running it
# e.g.   jobs/run.sh hybrid matmul 2 4 --n 2048 --out results/try
set -euo pipefail

fail() { echo "run.sh: error: $*" >&2; exit 2; }

parkit=${PARKIT_BINARY:-build/parkit}
oversubscribe=0
print_only=0
while [ $# -gt 0 ]; do
  case $1 in
  --parkit) [ $# -ge 2 ] || fail "--parkit needs a path"; parkit=$2; shift 2 ;;
  --oversubscribe) oversubscribe=1; shift ;;
  --print) print_only=1; shift ;;
  -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
  *) break ;;
  esac
done
[ $# -ge 4 ] || fail "expected MODE KERNEL RANKS THREADS; see --help"
mode=$1 kernel=$2 ranks=$3 threads=$4
shift 4

positive() { case $2 in '' | *[!0-9]* | 0*) fail "$1 '$2': allowed: a positive integer" ;; esac; }
positive RANKS "$ranks"
positive THREADS "$threads"
case $mode in
threads) [ "$ranks" -eq 1 ] || fail "threads mode runs 1 rank, not '$ranks'; use hybrid for $ranks x $threads" ;;
ranks) [ "$threads" -eq 1 ] || fail "ranks mode runs 1 thread per rank, not '$threads'; use hybrid for $ranks x $threads" ;;
hybrid) ;;
*) fail "MODE '$mode': allowed: threads, ranks or hybrid" ;;
esac
[ "$print_only" -eq 1 ] || [ -x "$parkit" ] ||
  fail "--parkit '$parkit' is not an executable; build first (cmake --build build)"

cores=$(nproc) # the CPUs this shell may use (its affinity mask)
workers=$((ranks * threads))
if [ "$workers" -gt "$cores" ] && [ "$oversubscribe" -eq 0 ]; then
  fail "$ranks x $threads = $workers workers but only $cores cores here; pass --oversubscribe to run anyway (timings then include time-sharing)"
fi

if [ "$(id -u)" -eq 0 ]; then # Open MPI refuses root without these
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMP_NUM_THREADS=$threads OMP_PLACES=cores OMP_PROC_BIND=close

mpirun_flags=(-np "$ranks")
[ "$oversubscribe" -eq 0 ] || mpirun_flags+=(--oversubscribe)
case $mode in
threads)
  command=("$parkit" threads "$kernel" --threads "$threads") ;;
ranks)
  if [ "$workers" -le "$cores" ]; then
    mpirun_flags+=(--map-by core --bind-to core)
  else # more ranks than cores: no core of its own for each
    mpirun_flags+=(--bind-to none)
  fi
  command=(mpirun "${mpirun_flags[@]}" "$parkit" ranks "$kernel") ;;
hybrid)
  if [ "$workers" -le "$cores" ]; then
    mpirun_flags+=(--map-by "slot:PE=$threads" --bind-to core)
  else # PE mapping needs ranks x threads cores
    mpirun_flags+=(--bind-to none)
  fi
  mpirun_flags+=(-x OMP_NUM_THREADS -x OMP_PLACES -x OMP_PROC_BIND)
  command=(mpirun "${mpirun_flags[@]}" "$parkit" hybrid "$kernel" --threads "$threads") ;;
esac
command+=("$@")

if [ "$print_only" -eq 1 ]; then
  printf 'OMP_NUM_THREADS=%s OMP_PLACES=cores OMP_PROC_BIND=close' "$threads"
  printf ' %q' "${command[@]}"
  echo
  exit 0
fi
[ "$mode" != threads ] || exec "${command[@]}"
# mpirun exits 1 after a SIGTERM or SIGINT of its own, whatever the ranks did
# (Open MPI's rule, and it refuses to forward either), but it forwards
# SIGUSR1 to the ranks and keeps their exit status. So a stop signal to this
# script reaches parkit as SIGUSR1: the run stops after its repetition,
# writes its file, and the script exits with parkit's status (4); a second
# signal abandons the run (5).
"${command[@]}" &
child=$!
trap 'kill -USR1 "$child" 2>/dev/null || true' TERM INT USR1
while true; do # wait returns early when a trapped signal arrives
  status=0
  wait "$child" || status=$?
  kill -0 "$child" 2>/dev/null || break
done
exit "$status"
