# ctest's short fuzzing runs (label fuzz): builds one libFuzzer target per parser of ours with
# clang-14 under AddressSanitizer and UndefinedBehaviorSanitizer and runs each for a few seconds.
# Targets: midi (MIDI files), lyrics (songdata CSV, fortune files, UTF-8 normalisation),
# pianoroll_text (piano-roll text), pickle (benchmark pickles, data only), mat (benchmark .mat
# files through libmatio), config (YAML experiment configs). Seeds: small slices of the real
# corpora when ../shared/data is there, pickles and .mat files written by python3, the shipped
# configs, or nothing. A crash, leak or sanitizer report fails the test.
# Called as: bash run.sh SOURCE_DIR SHARED_DATA_DIR [TARGET...]
# Longer: FUZZ_SECONDS=600 bash tests/fuzz/run.sh . ../shared/data lyrics
set -euo pipefail
src=$1
data=${2:-}
shift 2 || shift $#
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(midi lyrics pianoroll_text pickle mat config)
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
    pickle)
      "$clang" "${flags[@]}" "$src/tests/fuzz/pickle_fuzz.cpp" "$src/data/pickle_reader.cpp" \
        "$src/data/files.cpp" -lcrypto -o "$work/$t"
      # Python's own pickles of a few songs, in every protocol the published files could use.
      if command -v python3 > /dev/null; then
        python3 -c "
import pickle
d = {'train': [[[60, 64], [], [21, 108]], [[62]]], 'valid': [[[70.0]]], 'test': [([55],)]}
for p in range(6): pickle.dump(d, open('$seeds/p%d.pickle' % p, 'wb'), protocol=p)"
      fi ;;
    mat)
      "$clang" "${flags[@]}" "$src/tests/fuzz/mat_fuzz.cpp" "$src/data/mat_reader.cpp" \
        "$src/data/mat_check.cpp" -lmatio -lz -o "$work/$t"
      # Small MATLAB v5 files of three cell arrays, plain and compressed, written here byte by
      # byte (the real ones are larger than -max_len; the smallest is a seed too, cut to it).
      python3 -c "
import struct, zlib
def el(t, data): return struct.pack('<II', t, len(data)) + data + bytes((-len(data)) % 8)
def matrix(cls, dims, name, body):
    return el(14, el(6, struct.pack('<II', cls, 0)) + el(5, struct.pack('<%di' % len(dims), *dims)) + el(1, name) + body)
def song(frames):
    v = [1.0 if k in f else 0.0 for k in range(88) for f in frames]
    return matrix(6, [len(frames), 88], b'', el(9, struct.pack('<%dd' % len(v), *v)))
songs = [[{0, 4}, set()], [{87}]]
head = b'MATLAB 5.0 MAT-file, chorus fuzz seed'.ljust(116, b' ') + bytes(8) + struct.pack('<H', 0x100) + b'IM'
vars = [matrix(1, [1, 2], n, song(songs[0]) + song(songs[1])) for n in (b'traindata', b'validdata', b'testdata')]
open('$seeds/plain.mat', 'wb').write(head + b''.join(vars))
open('$seeds/zlib.mat', 'wb').write(head + b''.join(struct.pack('<II', 15, len(zlib.compress(v))) + zlib.compress(v) for v in vars))"
      if [[ -f $data/piano-midi-de/Piano_midi.mat ]]; then cp "$data/piano-midi-de/Piano_midi.mat" "$seeds/"; fi ;;
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
