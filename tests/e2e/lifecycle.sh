# A run's life: --resume with nothing to resume starts fresh (saying so); a stop signal ends the
# run with a complete checkpoint and exit 3; --resume then continues to the end; info and check
# describe what is there; stdout carries only JSON or sampled text.
source "$(dirname "$0")/lib/common.bash"
make_csv "$WORK/songs.csv" 40
"$CHORUS" prepare lyrics --input "$WORK/songs.csv" --output "$WORK/songs.h5" >/dev/null 2>&1
base=(--set data.path="$WORK/songs.h5" --set run.dir="$WORK/run")

step "check prints one JSON line"
"$CHORUS" check "$SRC/configs/smoke.yaml" "${base[@]}" 2>/dev/null | grep -qx '{"config":.*"ok":true}' \
  || fail "check output"

step "--resume without checkpoints starts fresh"
smoke "${base[@]}" --set train.steps=10 --resume > "$WORK/stdout" 2> "$WORK/log"
grep -q "no complete checkpoint.*starting fresh" "$WORK/log" || fail "no 'starting fresh' message"
[[ ! -s $WORK/stdout ]] || fail "train wrote to stdout"

step "SIGTERM: complete checkpoint, exit 3, then resume to the end"
rc=0
"$CHORUS" train "$SRC/configs/smoke.yaml" "${base[@]}" --set train.steps=100000 \
  --set checkpoint.every=0 --set eval.every=0 \
  --resume 2> "$WORK/log2" & pid=$!
for _ in $(seq 100); do grep -q "^step " "$WORK/log2" 2>/dev/null && break; sleep 0.2; done
sleep 0.5
kill -TERM $pid
wait $pid || rc=$?
[[ $rc -eq 3 ]] || { cat "$WORK/log2" >&2; fail "exit $rc after SIGTERM, expected 3"; }
grep -q "stopped on request at step" "$WORK/log2" || fail "no stop message"
stopped=$(sed -n 's/.*stopped on request at step \([0-9]*\).*/\1/p' "$WORK/log2")
"$CHORUS" info "$WORK/run" 2>/dev/null | grep -q "\"step\":$stopped" || fail "no checkpoint at step $stopped"
smoke "${base[@]}" --set train.steps=$((stopped + 5)) --resume 2> "$WORK/log3"
grep -q "resumed from .* at step $stopped" "$WORK/log3" || fail "did not resume at $stopped"
grep -q "finished $((stopped + 5)) steps" "$WORK/log3" || fail "did not finish"

step "info on a checkpoint"
ckpt=$(ls -d "$WORK"/run/checkpoints/step-* | sort | tail -1)
"$CHORUS" info "$ckpt" 2>/dev/null | grep -q '"valid":true' || fail "info checkpoint"
step "the manifest names the commit the binary was built from"
built_from=$(git -C "$SRC" rev-parse --short=12 HEAD 2>/dev/null) || built_from=unknown
revision=$(jq -r .git_revision "$WORK/run/manifest.json")
[[ $revision == "$built_from" ]] ||
  fail "manifest's git_revision is '$revision', the source tree is at '$built_from' (a stale build?)"
step "a slow BLAS is warned about loudly; OpenBLAS is not"
grep -q "slow BLAS" "$WORK/log" && fail "warned about the BLAS although a fast one is active"
ref=/usr/lib/x86_64-linux-gnu/blas/libblas.so.3
if [[ -f $ref ]]; then
  LD_LIBRARY_PATH=$(dirname "$ref") smoke --set data.path="$WORK/songs.h5" --set run.dir="$WORK/slow" \
    --set train.steps=2 2> "$WORK/slow.log"
  grep -q "WARNING: slow BLAS active: .*blas/libblas.so" "$WORK/slow.log" \
    || { cat "$WORK/slow.log" >&2; fail "no warning with the reference BLAS"; }
else
  echo "note: $ref (Debian's reference BLAS, package libblas3) absent: slow-BLAS warning not checked" >&2
fi
echo "PASS" >&2
