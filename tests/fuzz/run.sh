# ctest's short fuzzing runs (label fuzz): builds one libFuzzer target per parser of ours with
# clang-14 under AddressSanitizer and UndefinedBehaviorSanitizer and runs each for a few seconds.
# Targets: midi (MIDI files), lyrics (songdata CSV, fortune files, UTF-8 normalisation),
# pianoroll_text (piano-roll text), config (YAML experiment configs). Seeds: small slices of the
# real corpora when ../shared/data is there, the shipped configs, else nothing. A crash, leak or
# sanitizer report fails the test.
# Called as: bash run.sh SOURCE_DIR SHARED_DATA_DIR [TARGET...]
# Longer: FUZZ_SECONDS=600 bash tests/fuzz/run.sh . ../shared/data lyrics
set -euo pipefail
src=$1
data=${2:-}
shift 2 || shift $#
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(midi lyrics pianoroll_text config)
seconds=${FUZZ_SECONDS:-10}
clang=$(command -v clang++-14 || true)
if [[ -z $clang ]]; then
  echo "SKIP: clang++-14 not installed (scripts/install-deps.sh installs it)" >&2
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/chorus-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work
flags=(-std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I"$src")

build_and_seed() {  # target -> sources and seeds
  local t=$1 seeds=$work/seeds-$t
  mkdir -p "$seeds"
  extra_seeds=()
  case $t in
    midi)
      "$clang" "${flags[@]}" "$src/tests/fuzz/midi_fuzz.cpp" "$src/data/midi.cpp" \
        "$src/data/pianoroll.cpp" "$src/data/files.cpp" -lcrypto -o "$work/$t"
      # The 1,034 Nottingham MIDI files, read in place (libFuzzer walks the folder).
      if [[ -d $data/nottingham/jukedeck/MIDI ]]; then extra_seeds=("$data/nottingham/jukedeck/MIDI"); fi ;;
    lyrics)
      "$clang" "${flags[@]}" "$src/tests/fuzz/lyrics_fuzz.cpp" "$src/data/lyrics_source.cpp" \
        "$src/data/text.cpp" "$src/data/vocab.cpp" -lcsv -o "$work/$t"
      if [[ -f $data/lyrics-songdata/songdata_subset.csv ]]; then
        head -c 3000 "$data/lyrics-songdata/songdata_subset.csv" > "$seeds/songdata.csv"
      fi
      if [[ -f $data/songs-poems/songs-poems ]]; then
        head -c 3000 "$data/songs-poems/songs-poems" > "$seeds/fortune"
      fi ;;
    pianoroll_text)
      "$clang" "${flags[@]}" "$src/tests/fuzz/pianoroll_text_fuzz.cpp" "$src/data/pianoroll.cpp" \
        "$src/data/files.cpp" -lcrypto -o "$work/$t"
      if [[ -f $data/nottingham/boulanger/valid.txt ]]; then
        head -c 3000 "$data/nottingham/boulanger/valid.txt" > "$seeds/valid.txt"
      fi ;;
    config)
      "$clang" "${flags[@]}" "$src/tests/fuzz/config_fuzz.cpp" "$src/trainer/config/config.cpp" \
        "$src/trainer/config/choices.cpp" "$src/trainer/config/yaml_values.cpp" -lyaml-cpp -o "$work/$t"
      cp "$src"/configs/*.yaml "$seeds/" ;;
    *) echo "unknown fuzz target $t" >&2; exit 2 ;;
  esac
}

for t in "${targets[@]}"; do
  echo "--- fuzz target $t: ${seconds}s" >&2
  build_and_seed "$t"
  mkdir -p "$work/corpus-$t"
  rc=0
  "$work/$t" -max_total_time="$seconds" -rss_limit_mb=1024 -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$work/$t-" "$work/corpus-$t" "$work/seeds-$t" "${extra_seeds[@]}" \
    > "$work/$t.log" 2>&1 || rc=$?
  grep -E "stat::number_of_executed_units|^#[0-9]+ *DONE" "$work/$t.log" | tail -2 >&2
  if [[ $rc -ne 0 ]]; then
    tail -40 "$work/$t.log" >&2
    for f in "$work/$t"-*; do [[ -f $f ]] && { echo "input $f:" >&2; head -c 600 "$f" | od -c | head -20 >&2; }; done
    echo "FAIL: fuzz target $t exited $rc" >&2
    exit 1
  fi
done
echo "PASS" >&2
