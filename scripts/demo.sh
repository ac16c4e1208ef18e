#!/usr/bin/env bash
# The main job, from nothing: install the dependencies, build, turn the Debian `fortunes`
# songs-poems file into a corpus, train the demo model on 2 MPI ranks for a few minutes, and
# print a song primed with "Why"; then the piano half: the example tunes of Debian's abcmidi
# (ABC -> MIDI with abc2midi) into a piano-roll corpus, a small LSTM trained on 2 ranks, and a
# sampled tune written as MIDI and as a picture. Run it again to continue (--resume) and sample
# again. Start over: rm -rf checkpoints/demo checkpoints/demo-piano
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

piano=checkpoints/demo-piano
if [[ ! -f $piano/tunes.h5 ]]; then
  mkdir -p "$piano/midi"
  abc=$(mktemp -d)
  cp /usr/share/doc/abcmidi/examples/*.abc "$abc"/
  # abc2midi writes one NAME<X>.mid per tune next to its input; the drum and tuning demos
  # convert too (drums on channel 10 are left out by chorus).
  (cd "$abc" && for f in *.abc; do abc2midi "$f" > /dev/null 2>&1 || true; done)
  mv "$abc"/*.mid "$piano/midi/"
  rm -rf "$abc"
  build/chorus prepare pianoroll --midi "$piano/midi" --output "$piano/tunes.h5" \
    --valid-fraction 0.15 --test-fraction 0 >/dev/null
fi
bash scripts/mpirun.sh -np 2 build/chorus train configs/demo-piano.yaml --resume
build/chorus sample --checkpoint "$piano" --out "$piano/sample.mid" --image "$piano/sample.png" \
  --length 128 >/dev/null
echo "--- a tune sampled from $piano: $piano/sample.mid (play: timidity $piano/sample.mid)," \
  "its piano roll: $piano/sample.png" >&2
