#!/usr/bin/env bash
# One parkit run on this machine, with the placement its mode needs, as
# `parkit launch` builds it (the one recipe per mode, drivers/run/launch.h):
#   threads  OMP_PLACES=cores OMP_PROC_BIND=close, one thread per core
#   ranks    mpirun --map-by slot:PE=1 --bind-to core, one rank per core
#   hybrid   mpirun --map-by slot:PE=T --bind-to core: T cores per rank,
#            OMP_* forwarded with -x so each rank's threads spread over them;
#            --oversubscribe --bind-to none when ranks x threads exceeds the
#            cores (only with --oversubscribe)
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

# The program: PARKIT_BINARY, else where jobs/layout.sh says (build/ in a
# checkout, PREFIX/bin installed).
parkit_kit=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
source "$parkit_kit/jobs/layout.sh"
parkit=${PARKIT_BINARY:-$parkit_layout_binary}
action=(--exec)
oversubscribe=()
while [ $# -gt 0 ]; do
  case $1 in
  --parkit) [ $# -ge 2 ] || fail "--parkit needs a path"; parkit=$2; shift 2 ;;
  --oversubscribe) oversubscribe=(--oversubscribe); shift ;;
  --print) action=(); shift ;;
  -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
  *) break ;;
  esac
done
[ $# -ge 4 ] || fail "expected MODE KERNEL RANKS THREADS; see --help"
[ -n "$parkit" ] && [ -x "$parkit" ] ||
  fail "--parkit '$parkit' is not an executable; build first (cmake --build build) or set PARKIT_BINARY"

if [ "$(id -u)" -eq 0 ]; then # Open MPI refuses root without these
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
mode=$1 kernel=$2 ranks=$3 threads=$4
shift 4
launch=("$parkit" launch "${oversubscribe[@]}" "$mode" "$kernel" "$ranks"
  "$threads" -- "$@")
[ "${#action[@]}" -gt 0 ] || exec "${launch[@]}" # --print
[ "$mode" != threads ] || exec "${launch[0]}" launch --exec "${launch[@]:2}"
# mpirun exits 1 after a SIGTERM or SIGINT of its own, whatever the ranks did
# (Open MPI's rule, and it refuses to forward either), but it forwards
# SIGUSR1 to the ranks and keeps their exit status. So a stop signal to this
# script reaches parkit as SIGUSR1: the run stops after its repetition,
# writes its file, and the script exits with parkit's status (4); a second
# signal abandons the run (5).
"${launch[0]}" launch --exec "${launch[@]:2}" &
child=$!
trap 'kill -USR1 "$child" 2>/dev/null || true' TERM INT USR1
while true; do # wait returns early when a trapped signal arrives
  status=0
  wait "$child" || status=$?
  kill -0 "$child" 2>/dev/null || break
done
exit "$status"
