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
"$CHORUS" eval --checkpoint "$WORK/run" --data "$WORK/songs.h5" --split valid --prime-symbols 64 \
  > "$WORK/primed.json" 2>/dev/null
all=$(jq '.symbols' "$WORK/eval.json"); after=$(jq '.symbols' "$WORK/primed.json")
songs=$(jq '.songs' "$WORK/eval.json")
# Every valid song is longer than 64 symbols, so exactly 64 predictions per song are not counted.
[[ $(awk -v a="$all" -v b="$after" -v n="$songs" 'BEGIN {print a - b - 64 * n}') == 0 ]] \
  || fail "--prime-symbols 64: $all -> $after symbols over $songs songs"
"$CHORUS" eval --checkpoint "$WORK/run" --data "$WORK/songs.h5" --split valid --by-artist \
  > "$WORK/by-artist.json" 2>/dev/null
per_artist=$(grep -c '"artist"' "$WORK/by-artist.json")
[[ $per_artist -ge 10 ]] || fail "--by-artist printed $per_artist artist lines"
# The per-artist sums add up to the whole.
jq -s '(.[0].symbols) - ([.[1:][] | .symbols] | add)' "$WORK/by-artist.json" | grep -qx '0' \
  || fail "per-artist symbols do not add up"

step "baselines: each rung better than the one below"
prev=99
for spec in "uniform" "unigram" "bigram" "ngram --order 5"; do
  # shellcheck disable=SC2086
  bpc=$("$CHORUS" baseline --data "$WORK/songs.h5" --model $spec 2>/dev/null | jq .bpc)
  echo "baseline $spec: $bpc bpc" >&2
  awk -v a="$bpc" -v p="$prev" 'BEGIN { exit !(a < p) }' || fail "$spec ($bpc) not below $prev"
  prev=$bpc
done
"$CHORUS" baseline --data "$WORK/songs.h5" --model ngram --order 5 --sample 200 --seed 2 2>/dev/null \
  | jq -e '.sample | length > 0' >/dev/null || fail "baseline --sample"
echo "PASS" >&2
