#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages parkit needs to build, run and test,
# and only those that are missing (so it is quick when all are there).
# Usage: bash scripts/install-deps.sh     (as root, or with sudo available)
set -euo pipefail

packages=(
  build-essential cmake git pkg-config          # toolchain
  openmpi-bin libopenmpi-dev                    # MPI (and libhwloc-dev)
  hwloc                                         # hwloc-calc: topology test
  libhdf5-openmpi-dev hdf5-tools                # parallel HDF5, h5dump
  libjansson-dev                                # JSON: list, report --format json
  python3 python3-h5py python3-numpy python3-pandas python3-pytest
  python3-matplotlib                            # analysis/ plots
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

echo "parkit: installing ${missing[*]}" >&2
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || {
    echo "parkit: error: installing ${missing[*]} needs root (or sudo)" >&2
    exit 1
  }
  as_root=(sudo)
fi
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq \
  --no-install-recommends "${missing[@]}" >/dev/null
