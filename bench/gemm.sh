#!/bin/sh
# parkit's GEMM engine against OpenBLAS, side by side in one process.
#
#   bench/gemm.sh [BUILD_DIR] [gemm_bench options...]
#
# Builds BUILD_DIR (default: build) if needed, then runs bench/gemm_bench with
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, so OpenBLAS picks its own
# kernel for this CPU (AVX-512 where there is one), and OMP_PROC_BIND=close /
# OMP_PLACES=cores for parkit's threads. Options pass through, e.g.
#   bench/gemm.sh build --sizes 4096 --threads 2 --reps 7
set -eu
source_dir=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-build}
[ $# -gt 0 ] && shift
case $build_dir in /*) ;; *) build_dir=$source_dir/$build_dir ;; esac
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S "$source_dir" -B "$build_dir" >/dev/null
fi
cmake --build "$build_dir" --target gemm_bench -j2 >/dev/null
if [ ! -x "$build_dir/bench/gemm_bench" ]; then
  echo "gemm.sh: error: gemm_bench was not built: OpenBLAS not found" \
       "(Debian: apt-get install libopenblas-dev)" >&2
  exit 1
fi
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_PROC_BIND=close \
  OMP_PLACES=cores "$build_dir/bench/gemm_bench" "$@"
