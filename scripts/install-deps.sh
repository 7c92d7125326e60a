#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages parkit needs, and only those that are
# missing: when all are there it runs no apt at all and prints nothing.
#
# usage: bash scripts/install-deps.sh [--tests] [--list]
#   (no option)  what building, running and the report need (README
#                command 1, scripts/quickstart.sh)
#   --tests      that and what the test suite needs (README command 2,
#                scripts/test.sh)
#   --list       print the packages (one line) instead of installing them
# PARKIT_EXTRA_PACKAGES="a b": more packages to make sure of (yours, for
# your own work; the tests name one that is not installed).
#
# Installing takes root, or sudo that needs no password. Without either,
# the script prints one message naming the missing packages and the
# apt-get command that installs them, and exits 0: the build goes on, and
# stops with its own message if something it needs is really missing.
set -euo pipefail

# Build, run, and the report (analysis/report.py).
packages=(
  build-essential cmake git pkg-config          # toolchain
  openmpi-bin libopenmpi-dev                    # MPI (and libhwloc-dev)
  hwloc                                         # hwloc-calc: topology test
  libhdf5-openmpi-dev hdf5-tools                # parallel HDF5, h5dump
  libhwloc-dev                                  # the machine's topology
  libjansson-dev                                # JSON
  python3 python3-h5py python3-numpy python3-pandas python3-matplotlib
                                                # analysis/ and the report
)
# The test suite (tests/, bench/ smoke runs).
test_packages=(
  python3-pytest                                # the Python tests
  clang-format                                  # the formatting check
  valgrind clang libclang-rt-14-dev libomp-dev  # memcheck, libFuzzer
  libopenblas-dev                               # bench/ only (the peer)
  slurm-wlm munge                               # jobs/slurm tests: real daemons
  libpmix-dev                                   # their PMIx fence probe
  iproute2 util-linux                           # simulated nodes: ip, unshare, nsenter
  chromium                                      # report test: headless browser
  jube lmod man-db bash-completion              # harness, module, man, completion
  python3-jsonschema                            #   and schema tests
)

list=0
for argument in "$@"; do
  case $argument in
  --tests) packages+=("${test_packages[@]}") ;;
  --list) list=1 ;;
  *)
    echo "install-deps: error: unknown argument '$argument'; allowed:" \
      "--tests, --list" >&2
    exit 2
    ;;
  esac
done
read -r -a extra <<<"${PARKIT_EXTRA_PACKAGES:-}"
packages+=("${extra[@]}")
if [ "$list" = 1 ]; then
  echo "${packages[*]}"
  exit 0
fi

if ! command -v dpkg-query >/dev/null; then
  echo "parkit: warning: no dpkg-query here (not Debian/Ubuntu), so the" \
    "packages cannot be checked; parkit needs: ${packages[*]} (or their" \
    "equivalents); going on" >&2
  exit 0
fi
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

install=(apt-get install -y --no-install-recommends "${missing[@]}")
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "parkit: warning: not installed: ${missing[*]}; installing them" \
      "needs root (as root: apt-get update && ${install[*]}); going on" \
      "without them" >&2
    exit 0
  fi
fi
echo "parkit: installing ${missing[*]}" >&2
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive "${install[@]}" -qq >/dev/null
