#!/usr/bin/env bash
# mpirun with the flags Chorus needs on one machine: multi-threaded ranks (--bind-to none), more
# ranks than cores (--oversubscribe) and, as root, --allow-run-as-root.
# Usage: scripts/mpirun.sh -np N build/chorus train ...
set -euo pipefail
flags=(--bind-to none --oversubscribe)
if [[ $(id -u) -eq 0 ]]; then flags+=(--allow-run-as-root); fi
exec mpirun "${flags[@]}" "$@"
