# Sourced by run_docs.sh: the benchmark piano-roll sets that the docs fetch with
# `scripts/get-data.sh NAME`, made without the internet, so that the documented command finds each
# set prepared from its pinned file and leaves it alone:
# - musedata, piano-midi: the real scripts/get-data.sh with --from a folder holding the shared
#   data's MuseData.mat and Piano_midi.mat (the pinned files: their SHA-256 is checked);
# - nottingham: the shared data has no Nottingham.mat, only its text conversion (the same songs,
#   shared/data/nottingham/README.md). The stand-in is `chorus prepare pianoroll --text-dir` of a
#   folder named by the pinned SHA-256, so the corpus's recorded source carries the checksum that
#   get-data.sh looks for (its up-to-date check: `chorus info` naming the pinned SHA-256).
# Skips the test (77) when the shared data is absent.
for f in musedata/MuseData.mat piano-midi-de/Piano_midi.mat nottingham/boulanger/train.txt; do
  [[ -f $DATA/$f ]] || skip "no $DATA/$f (the benchmark fixture; set CHORUS_SHARED_DATA)"
done
mkdir -p "$WORK/fixture/from" "$WORK/fixture/data"
cp "$DATA/musedata/MuseData.mat" "$DATA/piano-midi-de/Piano_midi.mat" "$WORK/fixture/from/"
CHORUS=$CHORUS bash "$SRC/scripts/get-data.sh" musedata piano-midi --from "$WORK/fixture/from" \
  --dest "$WORK/fixture/data" > "$WORK/fixture/get-data.log" 2>&1 \
  || { cat "$WORK/fixture/get-data.log" >&2; fail "get-data.sh --from the shared .mat files"; }
nottingham_sha=$(sed -n 's/^ *\[nottingham\]=\([0-9a-f]\{64\}\)$/\1/p' "$SRC/scripts/get-data.sh")
[[ -n $nottingham_sha ]] || fail "no pinned Nottingham checksum found in scripts/get-data.sh"
mkdir -p "$WORK/fixture/$nottingham_sha"
cp "$DATA"/nottingham/boulanger/*.txt "$WORK/fixture/$nottingham_sha/"
(cd "$WORK/fixture" && "$CHORUS" prepare pianoroll --text-dir "$nottingham_sha" \
   --output data/nottingham.h5 > /dev/null 2>&1) || fail "prepare the Nottingham stand-in"

benchmark_fixture() {  # benchmark_fixture CLONE_DIR
  cp "$WORK"/fixture/data/*.h5 "$1/data/"
}
