# End to end on the real songdata subset: prepare, train on 2 ranks (the valid loss falls),
# sample primed with "Why", evaluate, describe. Skips when ../shared/data is absent.
source "$(dirname "$0")/lib/common.bash"
csv=$DATA/lyrics-songdata/songdata_subset.csv
[[ -f $csv ]] || skip "no $csv (set CHORUS_SHARED_DATA or place ../shared/data)"

step "prepare"
"$CHORUS" prepare lyrics --input "$csv" --output "$WORK/songs.h5" > "$WORK/prepare.json"
grep -q '"train"' "$WORK/prepare.json" || fail "prepare printed no summary JSON"
"$CHORUS" info "$WORK/songs.h5" 2>/dev/null | grep -q '"format":"chorus-lyrics"' || fail "info"

step "train on 2 ranks"
"${MPIRUN[@]}" -np 2 "$CHORUS" train "$SRC/configs/smoke.yaml" \
  --set data.path="$WORK/songs.h5" --set run.dir="$WORK/run" \
  --set model.hidden_size=128 --set model.embedding_size=32 --set train.batch_size=8 \
  --set train.seq_len=64 --set train.steps=120 --set optim.lr=0.005 \
  --set eval.every=40 --set eval.max_symbols=8000 --set checkpoint.every=40 --set log.every=20 \
  --set sample.every=0 2> "$WORK/train.log" || { tail -20 "$WORK/train.log"; fail "train"; }
first=$(grep '"split":"valid"' "$WORK/run/metrics.jsonl" | head -1 | sed 's/.*"loss":\([0-9.e+-]*\).*/\1/')
last=$(grep '"split":"valid"' "$WORK/run/metrics.jsonl" | tail -1 | sed 's/.*"loss":\([0-9.e+-]*\).*/\1/')
echo "valid loss: first $first, last $last" >&2
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a - 0.2) }' || fail "valid loss did not fall"
grep -q '"ranks": 2' "$WORK/run/manifest.json" || fail "manifest does not record 2 ranks"

step "sample"
"$CHORUS" sample --checkpoint "$WORK/run" --prime "Why" --length 200 --seed 3 > "$WORK/song.txt"
head -c 3 "$WORK/song.txt" | grep -q "^Why" || fail "sample does not start with the prime"
[[ $(wc -c < "$WORK/song.txt") -gt 20 ]] || fail "sample too short"
"$CHORUS" sample --checkpoint "$WORK/run" --prime "Why" --length 200 --seed 3 | cmp -s - "$WORK/song.txt" \
  || fail "same seed, different song"
for method in gumbel argmax; do
  "$CHORUS" sample --checkpoint "$WORK/run" --method $method --length 50 > /dev/null || fail "$method"
done

step "eval"
"$CHORUS" eval --checkpoint "$WORK/run" --data "$WORK/songs.h5" --split valid > "$WORK/eval.json"
grep -q '"bpc"' "$WORK/eval.json" || fail "eval printed no bpc"
cat "$WORK/eval.json" >&2
echo "PASS" >&2
