#!/usr/bin/env bash
# Installs what Chorus needs from Debian 12's packages. Idempotent: installs only what is missing,
# and makes OpenBLAS (OpenMP flavour) the active BLAS. Run as root (or with sudo available).
# Usage: scripts/install-deps.sh   (--bench, once needed for python3-torch, is still accepted)
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache git pkg-config
  libtorch-dev libopenblas0-openmp
  libopenmpi-dev openmpi-bin
  libhdf5-dev hdf5-tools
  libyaml-cpp-dev libgtest-dev libcli11-dev nlohmann-json3-dev libcsv-dev libssl-dev libpng-dev
  libmatio-dev zlib1g-dev
  fortunes abcmidi midicsv gnuplot-nox jq
)
# PyTorch (the same LibTorch as libtorch-dev): the loader python/chorus_torch is tested against
# chorus with it (tests/python/), and bench/ compares Chorus with it. h5py: the loader reads
# corpora with it when present (else with h5dump); the test checks both readers.
packages+=(python3-torch python3-h5py)
# clang's libFuzzer and sanitizers, for the MIDI reader's fuzz test (tests/fuzz/).
packages+=(clang-14 libclang-rt-14-dev)
# The cluster tests (tests/cluster/): network namespaces, veth links and a bridge (iproute2;
# nsenter and unshare are util-linux's), pgrep (procps), and a private Slurm with munge. The
# tests start their own slurmctld, slurmd and munged; the packages' system services are not used.
packages+=(iproute2 procps slurm-wlm munge)

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#packages[@]} packages present" >&2
fi

# Debian's LibTorch calls whichever libblas.so.3 the alternatives system points at; the netlib
# reference BLAS is 10-25x slower than OpenBLAS (and the pthread OpenBLAS fights torch's threads).
blas=/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
if [[ -e $blas && $(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null) != "$blas" ]]; then
  $sudo update-alternatives --set libblas.so.3-x86_64-linux-gnu "$blas" >&2
fi
lapack=/usr/lib/x86_64-linux-gnu/openblas-openmp/liblapack.so.3
if [[ -e $lapack && $(readlink -f /etc/alternatives/liblapack.so.3-x86_64-linux-gnu 2>/dev/null) != "$lapack" ]]; then
  $sudo update-alternatives --set liblapack.so.3-x86_64-linux-gnu "$lapack" >&2
fi
