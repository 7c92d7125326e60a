#!/usr/bin/env bash
# README command (1): install what is missing, build, and run the main job,
# every kernel as threads, ranks and hybrid on this machine, ending with the
# threads-vs-ranks-vs-hybrid table. HDF5 files land under results/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
bash jobs/compare_modes.sh --parkit build/parkit "$@"
