# Piano rolls note by note (model.kind: notes) end to end on the Nottingham benchmark split: the
# piano-roll config with --set model.kind=notes trains on 2 ranks (transposition on) and its valid
# nats per frame fall; `chorus eval` and the per-key baseline report the same unit side by side;
# sampling writes MIDI and PNG, the same seed the same tune; `chorus info` names the model;
# heads that do not fit are refused naming the key. Skips when ../shared/data is absent.
source "$(dirname "$0")/lib/common.bash"
text=$DATA/nottingham/boulanger
[[ -f $text/train.txt ]] || skip "no $text/train.txt (set CHORUS_SHARED_DATA)"

step "prepare the benchmark split"
"$CHORUS" prepare pianoroll --text-dir "$text" --output "$WORK/nott.h5" > /dev/null 2>&1 || fail "prepare"

step "train the note model on 2 ranks"
"${MPIRUN[@]}" -np 2 "$CHORUS" train "$SRC/configs/nottingham-nade.yaml" \
  --set model.kind=notes --set model.head=auto \
  --set data.path="$WORK/nott.h5" --set run.dir="$WORK/run" --set model.hidden_size=64 \
  --set model.embedding_size=16 --set model.dropout=0 --set train.batch_size=16 \
  --set train.seq_len=100 --set train.steps=200 --set train.transpose=3 --set optim.warmup_steps=5 \
  --set optim.lr=5e-3 \
  --set eval.every=100 --set eval.max_symbols=3000 --set checkpoint.every=100 --set sample.every=200 \
  --set sample.length=16 2> "$WORK/train.log" || { tail "$WORK/train.log"; fail "train"; }
grep -q "(symbols) .*end of frame" "$WORK/train.log" || fail "the config table names the symbols"
valid=$(grep '"split":"valid"' "$WORK/run/metrics.jsonl" | sed 's/.*"nll_per_frame":\([0-9.e+-]*\).*/\1/')
echo "valid nll/frame: $valid" >&2
first=$(echo "$valid" | head -1) last=$(echo "$valid" | tail -1)
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a && b < 10) }' || fail "valid NLL did not fall below 10"
grep -q '"split":"valid".*"symbols":' "$WORK/run/metrics.jsonl" || fail "valid record"
[[ -s $WORK/run/samples/step-00000200.mid && -s $WORK/run/samples/step-00000200.png ]] \
  || fail "no sample written during training"

step "eval and the per-key baseline, in nats per frame"
"$CHORUS" eval --checkpoint "$WORK/run" --data "$WORK/nott.h5" --split valid --max-symbols 2000 \
  > "$WORK/eval.json" 2>/dev/null || fail "eval"
"$CHORUS" baseline --data "$WORK/nott.h5" --model bigram --split valid > "$WORK/base.json" 2>/dev/null \
  || fail "baseline"
for f in eval base; do
  grep -q '"unit":"frame"' "$WORK/$f.json" && grep -q '"nll_per_frame"' "$WORK/$f.json" \
    || { cat "$WORK/$f.json"; fail "$f does not report nats per frame"; }
done
frames=$(sed 's/.*"symbols":\([0-9.]*\).*/\1/' "$WORK/eval.json")
awk -v n="$frames" 'BEGIN { exit !(n > 0 && n <= 2000) }' || fail "eval counts frames (got $frames)"

step "sample to MIDI and PNG"
"$CHORUS" sample --checkpoint "$WORK/run" --out "$WORK/tune.mid" --image "$WORK/tune.png" \
  --length 32 --prime-data "$WORK/nott.h5" --prime-song 1 --prime-frames 8 > "$WORK/sample.json"
grep -q '"frames":40' "$WORK/sample.json" || { cat "$WORK/sample.json"; fail "sample JSON"; }
[[ $(head -c 4 "$WORK/tune.mid") == MThd ]] || fail "not a MIDI file"
"$CHORUS" sample --checkpoint "$WORK/run" --out "$WORK/again.mid" --image "$WORK/again.png" \
  --length 32 --prime-data "$WORK/nott.h5" --prime-song 1 --prime-frames 8 > /dev/null
cmp -s "$WORK/tune.mid" "$WORK/again.mid" || fail "same seed, different tune"

step "info, and heads that do not fit"
"$CHORUS" info "$WORK/run/checkpoints/step-00000200" 2>/dev/null | grep -q '"model.kind":"notes"' \
  || fail "info of the checkpoint"
expect_exit 2 "model.head is 'nade'" -- "$CHORUS" train "$SRC/configs/nottingham-nade.yaml" \
  --set model.kind=notes --set data.path="$WORK/nott.h5" --set run.dir="$WORK/refused"
make_csv "$WORK/songs.csv" 12
"$CHORUS" prepare lyrics --input "$WORK/songs.csv" --output "$WORK/songs.h5" > /dev/null 2>&1 || fail "prepare lyrics"
expect_exit 2 "model.kind is 'notes'" -- smoke --set model.kind=notes --set data.path="$WORK/songs.h5" \
  --set run.dir="$WORK/refused2"
echo "PASS" >&2
