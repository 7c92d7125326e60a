#!/usr/bin/env bash
# README command (2): install what is missing, build with warnings as errors,
# run the whole CTest suite; then the memory-checking passes: the suite again
# under the address and undefined-behaviour sanitizers, valgrind memcheck on
# small runs of every kernel, and a short libFuzzer run of the parsers.
# Set PARKIT_SKIP_SANITIZERS=1 to run only the first pass.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --tests
jobs=$(nproc)

run_suite() { # build-directory cmake-options...
  local build=$1 began=$SECONDS
  shift
  cmake -S . -B "$build" -DPARKIT_WERROR=ON "$@" >/dev/null
  cmake --build "$build" -j "$jobs" >/dev/null
  ctest --test-dir "$build" --output-on-failure --no-tests=error \
    -j "$jobs" --timeout 900
  echo "== passed in $((SECONDS - began)) s, build included"
}

run_label() { # build-directory label build-target cmake-options...
  local build=$1 label=$2 target=$3 began=$SECONDS
  shift 3
  cmake -S . -B "$build" "$@" >/dev/null
  cmake --build "$build" -j "$jobs" --target "$target" >/dev/null
  ctest --test-dir "$build" --output-on-failure --no-tests=error \
    -j "$jobs" --timeout 900 -L "$label"
  echo "== passed in $((SECONDS - began)) s, build included"
}

echo "== parkit tests: release build (-O3, -Werror)"
run_suite build-test -DCMAKE_BUILD_TYPE=Release

if [ "${PARKIT_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== parkit tests: address + undefined-behaviour sanitizers"
  # Leak detection is off: Open MPI unloads its components before exit, so
  # LeakSanitizer cannot name (or suppress) the allocations they keep, and
  # its tracer crashes under MPI singleton start-up. Memory errors and
  # undefined behaviour are checked, and halt the run.
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  run_suite build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPARKIT_SANITIZE=ON

  echo "== parkit tests: valgrind memcheck (a build without -march=native)"
  # valgrind 3.19 cannot decode AVX-512 instructions.
  unset ASAN_OPTIONS UBSAN_OPTIONS
  run_label build-valgrind valgrind all -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPARKIT_NATIVE=OFF -DPARKIT_VALGRIND=ON -DPARKIT_WERROR=ON

  echo "== parkit tests: libFuzzer (clang), ${PARKIT_FUZZ_SECONDS:-30} s per target"
  # No -Werror here: clang warns where gcc does not (e.g. unvectorised
  # `omp simd` loops); the gcc passes above hold the warning line.
  CC=clang run_label build-fuzz fuzz all -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DPARKIT_NATIVE=OFF -DPARKIT_FUZZ=ON \
    -DPARKIT_FUZZ_SECONDS="${PARKIT_FUZZ_SECONDS:-30}"
fi
