# Shared by the sbatch scripts in jobs/slurm/ (sourced, not run). They find
# it through PARKIT, the kit directory (the one holding jobs/): a checkout,
# by default the directory the job was submitted from, or PREFIX/share/parkit
# of an installed parkit, which its installed scripts name themselves. This
# file finds the rest through jobs/layout.sh beside it.
#   PARKIT          the kit                    default $SLURM_SUBMIT_DIR, installed: PREFIX/share/parkit
#   PARKIT_BINARY   the parkit program         default from jobs/layout.sh (build/parkit, PREFIX/bin/parkit)
#   PARKIT_RESULTS  where job directories go   default $SLURM_SUBMIT_DIR/results/slurm
#   PARKIT_LAUNCHER srun (default) or mpirun   (see README.md, Jobs and SLURM)
#
# parkit_job_start makes the job's results directory
#   $PARKIT_RESULTS/<job name>_<job id>[_<array task>]/
# and writes its completion marker STATUS there: "RUNNING" while the job
# runs, then one line "COMPLETED 0", "INTERRUPTED <status>" (a stop signal
# ended a run early; its file holds the repetitions done) or
# "FAILED <status>". A job killed outright (SIGKILL, node failure) leaves
# "RUNNING". The time-limit signal (sbatch --signal=B:USR1@N, SIGTERM at the
# limit) is passed on to the running parkit, which stops after its current
# repetition and writes its file; a second signal abandons the run.

parkit_kit=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$parkit_kit/jobs/layout.sh"
PARKIT_STATUS_WORD=COMPLETED
PARKIT_STATUS=0
parkit_child=

parkit_job_start() {
  : "${SLURM_JOB_ID:?not inside a SLURM job: submit this script with sbatch}"
  PARKIT_BINARY=${PARKIT_BINARY:-$parkit_layout_binary}
  PARKIT_RESULTS=${PARKIT_RESULTS:-$SLURM_SUBMIT_DIR/results/slurm}
  PARKIT_LAUNCHER=${PARKIT_LAUNCHER:-srun}
  local name=${SLURM_JOB_NAME:-parkit}_$SLURM_JOB_ID
  if [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
    name=${SLURM_JOB_NAME:-parkit}_${SLURM_ARRAY_JOB_ID}_$SLURM_ARRAY_TASK_ID
  fi
  JOB_DIR=$PARKIT_RESULTS/$name
  mkdir -p "$JOB_DIR"
  parkit_mark RUNNING
  trap parkit_forward_signal USR1 INT
  # SLURM sends SIGTERM at the time limit to every process of the job,
  # parkit included: note it, do not send parkit a second signal.
  trap 'parkit_stopping=1' TERM
  trap parkit_job_end EXIT
  if [ ! -x "$PARKIT_BINARY" ]; then
    echo "parkit job: error: PARKIT_BINARY '$PARKIT_BINARY' is not an executable; build the checkout, set PARKIT=<parkit checkout or PREFIX/share/parkit> or PARKIT_BINARY" >&2
    PARKIT_STATUS_WORD=FAILED PARKIT_STATUS=2
    exit 2
  fi
  if [ "$(id -u)" -eq 0 ]; then # Open MPI refuses root without these
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
  echo "parkit job $SLURM_JOB_ID: results in $JOB_DIR"
}

parkit_mark() { # WORD [STATUS]: the completion marker, replaced atomically
  echo "$*" >"$JOB_DIR/STATUS.tmp" && mv -f "$JOB_DIR/STATUS.tmp" "$JOB_DIR/STATUS"
}

# Passes the signal to the running launcher (srun and mpirun forward it to
# every rank). The script's own `wait` then returns; parkit_launch waits
# again for the run to finish its repetition and write its file.
parkit_forward_signal() {
  [ -z "${parkit_stopping:-}" ] || return 0 # once: a second one abandons
  parkit_stopping=1
  echo "parkit job: stop signal received; the current run finishes its repetition" >&2
  if [ -n "$parkit_child" ]; then
    kill -USR1 "$parkit_child" 2>/dev/null || true
    parkit_forwarded=1
  fi
}

# parkit_launch MODE KERNEL [parkit options...]: one run as a job step with
# the allocation's shape (ranks = SLURM_NTASKS, threads = SLURM_CPUS_PER_TASK
# unless PARKIT_STEP_TASKS / PARKIT_STEP_CPUS say otherwise, as in a sweep),
# its file into the job's directory (or PARKIT_STEP_OUT). The command line
# comes from `parkit launch` (the one recipe per mode and launcher: srun
# with explicit --cpus-per-task and --kill-on-bad-exit, or mpirun with PE
# mapping and TCP keepalive; see drivers/run/launch.h).
# Returns parkit's exit status; records the first failure for the marker.
parkit_launch() {
  local mode=$1 kernel=$2
  shift 2
  local tasks=${PARKIT_STEP_TASKS:-${SLURM_NTASKS:-1}}
  local cpus=${PARKIT_STEP_CPUS:-${SLURM_CPUS_PER_TASK:-1}}
  [ -z "${parkit_stopping:-}" ] || return 0 # stopped: start no new run
  # A step runs on as many of the job's nodes as its ranks divide over.
  local nodes=${SLURM_NNODES:-1}
  [ "$mode" != threads ] || nodes=1
  while [ "$nodes" -gt 1 ] && [ $((tasks % nodes)) -ne 0 ]; do
    nodes=$((nodes - 1))
  done
  local cores=()
  [ -z "${SLURM_CPUS_ON_NODE:-}" ] || cores=(--cores "$SLURM_CPUS_ON_NODE")
  local out=${PARKIT_STEP_OUT:-$JOB_DIR}
  local launch=("$PARKIT_BINARY" launch --launcher "$PARKIT_LAUNCHER"
    --nodes "$nodes" "${cores[@]}" "$mode" "$kernel" "$tasks" "$cpus" --
    --out "$out" "$@")
  local printed status=0
  printed=$("${launch[@]}") || status=$?
  if [ "$status" -ne 0 ]; then
    parkit_record_status "$status"
    return "$status"
  fi
  echo "parkit job: $printed"
  "${launch[0]}" launch --exec "${launch[@]:2}" &
  parkit_child=$!
  if [ -n "${parkit_stopping:-}" ] && [ -z "${parkit_forwarded:-}" ]; then
    kill -USR1 "$parkit_child" 2>/dev/null || true # came during the start
    parkit_forwarded=1
  fi
  # wait returns early (status > 128) when a trapped signal arrives; wait
  # again until the run itself has ended.
  while true; do
    status=0
    wait "$parkit_child" || status=$?
    kill -0 "$parkit_child" 2>/dev/null || break
  done
  parkit_child=
  parkit_record_status "$status"
  return "$status"
}

parkit_record_status() { # STATUS of one run
  local status=$1
  [ "$PARKIT_STATUS" -eq 0 ] || return 0 # keep the first failure
  case $status in
  0) ;;
  4 | 5) PARKIT_STATUS_WORD=INTERRUPTED PARKIT_STATUS=$status ;;
  *) PARKIT_STATUS_WORD=FAILED PARKIT_STATUS=$status ;;
  esac
}

parkit_job_end() {
  local status=$?
  if [ "$PARKIT_STATUS" -eq 0 ] && [ "$status" -ne 0 ]; then
    PARKIT_STATUS_WORD=FAILED PARKIT_STATUS=$status
  fi
  if [ -n "${parkit_stopping:-}" ] && [ "$PARKIT_STATUS" -eq 0 ]; then
    PARKIT_STATUS_WORD=INTERRUPTED # signalled between runs
  fi
  parkit_mark "$PARKIT_STATUS_WORD" "$PARKIT_STATUS"
  echo "parkit job: $PARKIT_STATUS_WORD $PARKIT_STATUS"
  exit "$PARKIT_STATUS"
}
