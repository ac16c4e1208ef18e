# ctest's short fuzzing run (label fuzz): builds the MIDI reader's libFuzzer target with clang-14
# under AddressSanitizer and UndefinedBehaviorSanitizer and runs it for a few seconds, seeded with
# the Nottingham MIDI files when ../shared/data is there (else from nothing). A crash or sanitizer report fails the test. Longer: FUZZ_SECONDS=600.
# Called as: bash run.sh SOURCE_DIR SHARED_DATA_DIR
set -euo pipefail
src=$1
data=${2:-}
seconds=${FUZZ_SECONDS:-20}
clang=$(command -v clang++-14 || true)
if [[ -z $clang ]]; then
  echo "SKIP: clang++-14 not installed (scripts/install-deps.sh installs it)" >&2
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/chorus-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$clang" -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$src" "$src/tests/fuzz/midi_fuzz.cpp" "$src/data/midi.cpp" "$src/data/pianoroll.cpp" \
  "$src/data/files.cpp" -lcrypto -o "$work/midi_fuzz"
mkdir "$work/corpus"
seeds=("$work/corpus")
[[ -d $data/nottingham/jukedeck/MIDI ]] && seeds+=("$data/nottingham/jukedeck/MIDI")
"$work/midi_fuzz" -max_total_time="$seconds" -rss_limit_mb=1024 -print_final_stats=1 \
  "${seeds[@]}" 2>&1 | tail -15
