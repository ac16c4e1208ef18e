#!/usr/bin/env bash
# The test suite, from nothing: install the dependencies, build, run every ctest test
# (unit, mpi, e2e; tests that need the test data folder, docs/testing.md, skip with a message when it is absent).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
ctest --output-on-failure --timeout 1500 "$@"
