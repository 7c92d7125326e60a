#!/usr/bin/env bash
# A ranks x threads sweep on this machine: every split of N cores into
# ranks x threads (N=16: 1x16 2x8 4x4 8x2 16x1), one rank per NUMA node or
# L3 domain where a node has several, plus 1x1 as the baseline (`parkit
# splits`), for each kernel, at strong scaling (same size for every split)
# and/or weak scaling (size grows with ranks x threads). Each run goes
# through `parkit launch` (placement per mode); 1xT runs as threads, Px1 as
# ranks, the rest as hybrid. Everything lands in one campaign directory:
#   CAMPAIGN/index.tsv   one line per run: kernel mode ranks threads scaling
#                        size_option size exit_status result_file log_file
#   CAMPAIGN/runs/*.h5   the result files (layout: results/README.md)
#   CAMPAIGN/logs/*.log  each run's stdout and stderr
# Weak-scaling rules (size for W = ranks x threads workers, from the base):
#   matmul      --n        base x W^(1/3)   (work ~ n^3 grows with W)
#   montecarlo  --samples  base x W         (--estimate pi)
# Kernels without a rule run strong scaling only (at their default size).
# A failed run is recorded and the sweep goes on; the exit status is 1 when
# any run failed, else 0.
#
# usage: jobs/sweep.sh [--parkit PATH] [--cores N] [--kernels "matmul montecarlo"]
#                      [--scaling strong|weak|both] [--reps N] [--out DIR]
#                      [--matmul-n N] [--montecarlo-samples S] [--oversubscribe]
set -euo pipefail

fail() { echo "sweep.sh: error: $*" >&2; exit 2; }

# The program and Python: PARKIT_BINARY, PARKIT_PYTHON, else where
# jobs/layout.sh says (a checkout's build/, or the installed tree's).
parkit_kit=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
source "$parkit_kit/jobs/layout.sh"
parkit=${PARKIT_BINARY:-$parkit_layout_binary}
python=${PARKIT_PYTHON:-$parkit_layout_python}
cores=$(nproc)
kernels="matmul montecarlo"
scaling=both
reps=3
out=results/sweep-$(date -u +%Y%m%dT%H%M%SZ)
matmul_n=512
montecarlo_samples=16777216
oversubscribe=()
while [ $# -gt 0 ]; do
  case $1 in
  --parkit | --cores | --kernels | --scaling | --reps | --out | --matmul-n | --montecarlo-samples)
    [ $# -ge 2 ] || fail "$1 needs a value" ;;&
  --parkit) parkit=$2; shift 2 ;;
  --cores) cores=$2; shift 2 ;;
  --kernels) kernels=$2; shift 2 ;;
  --scaling) scaling=$2; shift 2 ;;
  --reps) reps=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  --matmul-n) matmul_n=$2; shift 2 ;;
  --montecarlo-samples) montecarlo_samples=$2; shift 2 ;;
  --oversubscribe) oversubscribe=(--oversubscribe); shift ;;
  -h | --help) sed -n '2,24p' "$0"; exit 0 ;;
  *) fail "unknown argument '$1'; see --help" ;;
  esac
done
positive() { case $2 in '' | *[!0-9]* | 0*) fail "$1 '$2': allowed: a positive integer" ;; esac; }
positive --cores "$cores"
positive --reps "$reps"
positive --matmul-n "$matmul_n"
positive --montecarlo-samples "$montecarlo_samples"
case $scaling in
strong) scalings="strong" ;;
weak) scalings="weak" ;;
both) scalings="strong weak" ;;
*) fail "--scaling '$scaling': allowed: strong, weak or both" ;;
esac
[ -x "$parkit" ] || fail "--parkit '$parkit' is not an executable; build first (cmake --build build) or set PARKIT_BINARY"
known=$("$parkit" list --format json | "$python" -c \
  'import json, sys; print("\n".join(k["name"] for k in json.load(sys.stdin)["kernels"]))')
[ -n "$kernels" ] || fail "--kernels '': allowed: some of $(echo $known)"
for kernel in $kernels; do
  grep -qx "$kernel" <<<"$known" || fail "--kernels: unknown kernel '$kernel'; allowed: $(echo $known)"
done

# The splits (the launch layer enumerates them): "mode ranks threads nodes
# align baseline" a line.
cores_option=()
[ "$cores" -eq "$(nproc)" ] || cores_option=(--cores "$cores")
mapfile -t splits < <("$parkit" splits --baseline --format lines "${cores_option[@]}")

# size_of KERNEL SCALING WORKERS: prints "OPTION VALUE [fixed options...]",
# or nothing when the kernel has no rule for SCALING.
size_of() {
  local kernel=$1 scaling=$2 workers=$3
  case $kernel:$scaling in
  matmul:strong) echo "--n $matmul_n" ;;
  matmul:weak) echo "--n $(awk -v n="$matmul_n" -v w="$workers" 'BEGIN { printf "%d", n * w ^ (1 / 3) + 0.5 }')" ;;
  montecarlo:strong) echo "--samples $montecarlo_samples --estimate pi" ;;
  montecarlo:weak) echo "--samples $((montecarlo_samples * workers)) --estimate pi" ;;
  *:strong) echo "- -" ;; # no rule: the kernel's default size
  esac
}

mkdir -p "$out/runs" "$out/logs"
index=$out/index.tsv
printf 'kernel\tmode\tranks\tthreads\talign\tscaling\tsize_option\tsize\texit_status\tresult_file\tlog_file\n' >"$index"
failed=0
for kernel in $kernels; do
  for scale in $scalings; do
    for split in "${splits[@]}"; do
      read -r mode ranks threads _ align _ <<<"$split"
      workers=$((ranks * threads))
      size=$(size_of "$kernel" "$scale" "$workers")
      if [ -z "$size" ]; then
        echo "sweep.sh: $kernel has no $scale-scaling rule; skipped" >&2
        continue 2
      fi
      read -r option value extra <<<"$size"
      arguments=()
      [ "$option" = - ] || arguments=("$option" "$value")
      if [ -n "${extra:-}" ]; then
        read -r -a more <<<"$extra"
        arguments+=("${more[@]}")
      fi
      name=${kernel}_${scale}_${ranks}x${threads}
      [ "$align" = none ] || name=${name}_$align
      file=runs/$name.h5 log=logs/$name.log
      echo "sweep.sh: $kernel $scale $mode ${ranks}x$threads ${arguments[*]}" >&2
      status=0
      "$parkit" launch --exec "${oversubscribe[@]}" "${cores_option[@]}" \
        --align "$align" "$mode" "$kernel" "$ranks" "$threads" -- \
        "${arguments[@]}" --reps "$reps" --quiet \
        --out "$out/$file" >"$out/$log" 2>&1 || status=$?
      [ -f "$out/$file" ] || file=-
      if [ "$status" -ne 0 ]; then
        echo "sweep.sh: error: $name exited with status $status (see $out/$log)" >&2
        failed=1
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kernel" "$mode" \
        "$ranks" "$threads" "$align" "$scale" "${option#--}" "$value" "$status" \
        "$file" "$log" >>"$index"
    done
  done
done
echo "sweep.sh: $(($(wc -l <"$index") - 1)) runs in $out (index: $index)" >&2
exit "$failed"
