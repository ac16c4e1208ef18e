# Bad input gets a clear message and exit 2 (docs/design.md "Exit codes"): unknown key, wrong type,
# missing data file, batch size not divisible by ranks, malformed CSV, unknown artist,
# incompatible eval file; train.device cuda without a GPU, dist.backend nccl on the CPU; a
# truncated newest checkpoint is skipped for the previous one.
source "$(dirname "$0")/lib/common.bash"
make_csv "$WORK/songs.csv" 40
"$CHORUS" prepare lyrics --input "$WORK/songs.csv" --output "$WORK/songs.h5" >/dev/null 2>&1
base=(--set data.path="$WORK/songs.h5")

step "unknown key names the key and the file"
expect_exit 2 "--set: unknown key .model.hiden_size.*did you mean" -- smoke "${base[@]}" --set run.dir="$WORK/r1" \
  --set model.hiden_size=3
printf 'model:\n  hiden_size: 3\n' > "$WORK/bad.yaml"
expect_exit 2 "bad.yaml.*unknown key 'model.hiden_size'" -- "$CHORUS" check "$WORK/bad.yaml"

step "wrong type"
expect_exit 2 "train.steps" -- smoke "${base[@]}" --set run.dir="$WORK/r1" --set train.steps=many

step "missing data file"
expect_exit 2 "$WORK/nope.h5" -- smoke --set data.path="$WORK/nope.h5" --set run.dir="$WORK/r1"
expect_exit 2 "$WORK/nope.h5" -- "$CHORUS" check "$SRC/configs/smoke.yaml" --set data.path="$WORK/nope.h5"

step "batch size not divisible by ranks"
expect_exit 2 "train.batch_size .*divisible" -- "${MPIRUN[@]}" -np 2 "$CHORUS" train \
  "$SRC/configs/smoke.yaml" "${base[@]}" --set run.dir="$WORK/r2" --set train.batch_size=3

step "a GPU asked for where there is none, NCCL on the CPU: refused before training"
if ! nvidia-smi -L >/dev/null 2>&1; then
  expect_exit 2 "train.device is 'cuda' but this process sees no CUDA device" -- smoke "${base[@]}" \
    --set run.dir="$WORK/gpu" --set train.device=cuda
else
  echo "note: a GPU is present: train.device=cuda without one not tried" >&2
fi
expect_exit 2 "dist.backend is 'nccl' but this rank trains on the CPU" -- smoke "${base[@]}" \
  --set run.dir="$WORK/gpu" --set train.device=cpu --set dist.backend=nccl
[[ ! -e $WORK/gpu/checkpoints ]] || fail "a refused run left checkpoints"

step "a head or an LSTM implementation that does not fit: refused naming the key"
expect_exit 2 "model.head is 'nade'" -- smoke "${base[@]}" --set run.dir="$WORK/nade" --set model.head=nade
expect_exit 2 "model.nade_hidden" -- smoke "${base[@]}" --set run.dir="$WORK/nade" --set model.nade_hidden=64
expect_exit 2 "model.lstm_impl: 'fused' is an LSTM implementation" -- smoke "${base[@]}" \
  --set run.dir="$WORK/nade" --set model.recurrence=gru --set model.lstm_impl=fused
expect_exit 2 "train.transpose" -- smoke "${base[@]}" --set run.dir="$WORK/nade" --set train.transpose=2
[[ ! -e $WORK/nade/checkpoints ]] || fail "a refused run left checkpoints"

step "malformed CSV: unterminated quote names the line; no output left"
printf 'artist,song,link,text\r\nA,B,/l,"fine"\r\nA,C,/l,"never closed\nmore\n' > "$WORK/broken.csv"
expect_exit 2 "broken.csv:3" -- "$CHORUS" prepare lyrics --input "$WORK/broken.csv" --output "$WORK/broken.h5"
[[ ! -e $WORK/broken.h5 && ! -e $WORK/broken.h5.tmp ]] || fail "half-written corpus left behind"

step "a run directory with checkpoints needs --resume"
smoke "${base[@]}" --set run.dir="$WORK/run" --set train.steps=20 2>/dev/null
expect_exit 2 "already holds checkpoints" -- smoke "${base[@]}" --set run.dir="$WORK/run"

step "resume may not change the model shape"
expect_exit 2 "model.hidden_size" -- smoke "${base[@]}" --set run.dir="$WORK/run" --resume \
  --set model.hidden_size=48

step "truncated newest checkpoint: the previous complete one is used"
newest=$(ls -d "$WORK"/run/checkpoints/step-* | sort | tail -1)
truncate -s 100 "$newest/model.pt"
smoke "${base[@]}" --set run.dir="$WORK/run" --set train.steps=30 --resume 2> "$WORK/resume.log" \
  || { cat "$WORK/resume.log" >&2; fail "resume after truncation"; }
grep -q "skipping checkpoint .*$(basename "$newest").*model.pt" "$WORK/resume.log" \
  || { cat "$WORK/resume.log" >&2; fail "no message about the truncated checkpoint"; }
grep -q "resumed from .*step-00000010 at step 10" "$WORK/resume.log" || fail "did not resume from step 10"

step "a corrupt checkpoint given explicitly is refused"
cp -r "$WORK/run/checkpoints/step-00000030" "$WORK/ckpt"
printf 'x' >> "$WORK/ckpt/optimizer.pt"
expect_exit 2 "not valid.*optimizer.pt" -- "$CHORUS" sample --checkpoint "$WORK/ckpt"

step "unknown artist lists the known ones"
smoke "${base[@]}" --set run.dir="$WORK/byartist" --set model.condition=artist --set train.steps=10 2>/dev/null
expect_exit 2 "unknown artist 'Nobody'.*Artist 0, Artist 1, Artist 2" -- \
  "$CHORUS" sample --checkpoint "$WORK/byartist" --artist Nobody
"$CHORUS" sample --checkpoint "$WORK/byartist" --artist "Artist 1" --length 20 > /dev/null

step "eval refuses a file with another vocabulary"
printf 'artist,song,link,text\r\nZ,Q,/l,"zzz qqq"\r\n' > "$WORK/other.csv"
"$CHORUS" prepare lyrics --input "$WORK/other.csv" --output "$WORK/other.h5" \
  --valid-fraction 0 --test-fraction 0 >/dev/null 2>&1
expect_exit 2 "vocabulary differs" -- "$CHORUS" eval --checkpoint "$WORK/run" --data "$WORK/other.h5" --split train
"$CHORUS" prepare lyrics --input "$WORK/other.csv" --output "$WORK/same.h5" --vocab-from "$WORK/run" \
  --valid-fraction 0 --test-fraction 0 >/dev/null 2>&1
"$CHORUS" eval --checkpoint "$WORK/run" --data "$WORK/same.h5" --split train | grep -q '"bpc"' \
  || fail "eval on a file prepared with --vocab-from"

expect_exit 2 "prime-symbols" -- "$CHORUS" eval --checkpoint "$WORK/run" --data "$WORK/same.h5" \
  --split train --prime-symbols -1

step "baseline refuses bad options by name"
expect_exit 2 "ngram needs an order in 2" -- "$CHORUS" baseline --data "$WORK/same.h5" --model ngram --order 1
expect_exit 2 "got 'trigram'" -- "$CHORUS" baseline --data "$WORK/same.h5" --model trigram
expect_exit 2 "no split 'nope'|nope" -- "$CHORUS" baseline --data "$WORK/same.h5" --split nope
expect_exit 2 "missing.h5" -- "$CHORUS" baseline --data "$WORK/missing.h5"
echo "PASS" >&2
