#!/usr/bin/env bash
# The main job, from nothing: install the dependencies, build, turn the Debian `fortunes`
# songs-poems file into a corpus, train the demo model on 2 MPI ranks for a few minutes, and
# print a song primed with "Why". Run it again to continue (--resume) and sample again.
# Start over: rm -rf checkpoints/demo
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh

corpus=checkpoints/demo/songs-poems.h5
if [[ ! -f $corpus ]]; then
  mkdir -p checkpoints/demo
  build/chorus prepare lyrics --input /usr/share/games/fortunes/songs-poems --format fortune \
    --output "$corpus" >/dev/null
fi
bash scripts/mpirun.sh -np 2 build/chorus train configs/demo.yaml --resume
echo "--- a song sampled from checkpoints/demo (best checkpoint), primed with \"Why\":" >&2
build/chorus sample --checkpoint checkpoints/demo --prime "Why" --temperature 0.7 --length 500
