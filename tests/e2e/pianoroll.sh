# Piano rolls end to end: the Nottingham benchmark split (text) and MIDI files to HDF5, an LSTM
# trained on 2 ranks whose valid NLL per frame falls, sampling to MIDI and PNG, eval; bad MIDI
# files skipped or fatal. Skips when ../shared/data is absent.
source "$(dirname "$0")/lib/common.bash"
text=$DATA/nottingham/boulanger
midi=$DATA/nottingham/jukedeck/MIDI
[[ -f $text/train.txt && -d $midi ]] || skip "no $text/train.txt or $midi (set CHORUS_SHARED_DATA)"

step "prepare the benchmark split"
"$CHORUS" prepare pianoroll --text-dir "$text" --output "$WORK/nott.h5" > "$WORK/prep.json" 2>/dev/null
grep -q '"valid":{[^}]*"songs":173' "$WORK/prep.json" || { cat "$WORK/prep.json"; fail "valid split"; }
"$CHORUS" info "$WORK/nott.h5" 2>/dev/null | grep -q '"format":"chorus-pianoroll"' || fail "info"

step "train on 2 ranks"
"${MPIRUN[@]}" -np 2 "$CHORUS" train "$SRC/configs/nottingham-nade.yaml" \
  --set data.path="$WORK/nott.h5" --set run.dir="$WORK/run" --set model.hidden_size=64 \
  --set model.embedding_size=32 --set model.dropout=0 --set train.batch_size=8 \
  --set train.seq_len=50 --set train.steps=80 --set optim.warmup_steps=5 --set eval.every=40 \
  --set eval.max_symbols=6000 --set checkpoint.every=40 --set sample.every=80 \
  --set sample.length=32 2> "$WORK/train.log" || { tail "$WORK/train.log"; fail "train"; }
valid=$(grep '"split":"valid"' "$WORK/run/metrics.jsonl" | sed 's/.*"nll_per_frame":\([0-9.e+-]*\).*/\1/')
echo "valid nll/frame: $valid" >&2
first=$(echo "$valid" | head -1) last=$(echo "$valid" | tail -1)
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a && b < 20) }' || fail "valid NLL did not fall below 20"
[[ -s $WORK/run/samples/step-00000080.mid && -s $WORK/run/samples/step-00000080.png ]] \
  || fail "no sample written during training"

step "sample to MIDI and PNG"
"$CHORUS" sample --checkpoint "$WORK/run" --out "$WORK/tune.mid" --image "$WORK/tune.png" \
  --length 64 --prime-data "$WORK/nott.h5" --prime-song 2 --prime-frames 8 > "$WORK/sample.json"
grep -q '"frames":72' "$WORK/sample.json" || { cat "$WORK/sample.json"; fail "sample JSON"; }
[[ $(head -c 4 "$WORK/tune.mid") == MThd ]] || fail "not a MIDI file"
[[ $(head -c 4 "$WORK/tune.png" | tail -c 3) == PNG ]] || fail "not a PNG file"
"$CHORUS" sample --checkpoint "$WORK/run" --out "$WORK/again.mid" --length 64 \
  --prime-data "$WORK/nott.h5" --prime-song 2 --prime-frames 8 > /dev/null
cmp -s "$WORK/tune.mid" "$WORK/again.mid" || fail "same seed, different tune"
"$CHORUS" sample --checkpoint "$WORK/run" --out "$WORK/primed.mid" --prime-midi "$WORK/tune.mid" \
  --length 8 | grep -q '"prime_frames":72' || fail "--prime-midi"
if command -v midicsv > /dev/null; then
  midicsv "$WORK/tune.mid" > /dev/null || fail "midicsv rejects the sample"
else
  echo "note: midicsv not installed: sample not checked with it" >&2
fi
expect_exit 2 "needs .*--out|pass --out" -- "$CHORUS" sample --checkpoint "$WORK/run"

step "eval reports nll_per_frame"
"$CHORUS" eval --checkpoint "$WORK/run" --data "$WORK/nott.h5" --split valid --max-symbols 3000 \
  > "$WORK/eval.json" 2>/dev/null
grep -q '"nll_per_frame"' "$WORK/eval.json" || fail "eval"

step "MIDI folder: a truncated file is skipped and counted, or fatal"
mkdir "$WORK/midi"
tunes=("$midi"/*.mid)
cp "${tunes[@]:0:40}" "$WORK/midi/"
head -c 100 "${tunes[0]}" > "$WORK/midi/zz-truncated.mid"
"$CHORUS" prepare pianoroll --midi "$WORK/midi" --output "$WORK/midi.h5" > "$WORK/midi.json" 2> "$WORK/midi.log"
grep -q 'zz-truncated.mid' "$WORK/midi.log" || { cat "$WORK/midi.log" >&2; fail "skipped file not reported"; }
expect_exit 2 "zz-truncated.mid" -- "$CHORUS" prepare pianoroll --midi "$WORK/midi" \
  --output "$WORK/midi2.h5" --on-bad-midi fail
[[ ! -e $WORK/midi2.h5 ]] || fail "output left behind"
echo "PASS" >&2
