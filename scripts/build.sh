#!/usr/bin/env bash
# Configures and builds Chorus into build/ (Ninja, 2 jobs: a LibTorch translation unit takes
# ~1.2 GB and ~20 s to compile). Usage: scripts/build.sh [extra cmake arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${CHORUS_BUILD_JOBS:-2}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >&2
cmake --build build -j "$jobs" >&2
