# Cluster faults injected into a real 2-rank job under mpirun (issue 7): a stalled rank (SIGSTOP)
# is named by the watchdog within dist.timeout_s, or within dist.slow_timeout_s when it stalls
# inside a checkpoint write; a killed rank (kill -9) ends the job, and
# --resume reaches the same final loss as a run never interrupted; SIGUSR1 to mpirun and SIGTERM to
# the ranks (also twice, during checkpoint writes) stop with a complete checkpoint and exit 3, and
# resume exactly; a truncated newest checkpoint is reported and the previous one used.
source "$(dirname "$0")/lib/common.bash"
make_csv "$WORK/songs.csv" 40
"$CHORUS" prepare lyrics --input "$WORK/songs.csv" --output "$WORK/songs.h5" >/dev/null 2>&1
STEPS=1000
args=(--set data.path="$WORK/songs.h5" --set train.steps=$STEPS --set eval.every=0
      --set sample.every=0 --set log.every=50 --set checkpoint.every=100 --set checkpoint.keep=20
      --set dist.timeout_s=4)
train2() {  # train2 RUN_DIR [more args...]: a 2-rank job in the background, logging to
  local dir=$1; shift  # ${LOG:-RUN_DIR}.log; sets $job
  "${MPIRUN[@]}" -np 2 "$CHORUS" train "$SRC/configs/smoke.yaml" "${args[@]}" \
    --set run.dir="$dir" "$@" > "${LOG:-$dir}.out" 2> "${LOG:-$dir}.log" &
  job=$!
}
rank_pid() {  # rank_pid MPIRUN_PID RANK
  local p
  for p in $(pgrep -P "$1"); do
    tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && { echo "$p"; return; }
  done
  return 1
}
wait_for() {  # wait_for FILE_GLOB_PATTERN TEXT: until the run log or a path shows progress
  local i
  for i in $(seq 300); do eval "$1" && return 0; sleep 0.1; done
  return 1
}
# wait_ended SECONDS: waits for $job, sets rc. A job still alive SECONDS later is killed, its
# ranks too, and the test fails: a hang fails here with a message, not at ctest's timeout.
wait_ended() {
  local limit=$1 guard t0=$SECONDS
  ( trap 'kill $nap; exit' TERM; sleep "$limit" & nap=$!; wait $nap
    pkill -KILL -P "$job"; kill -KILL "$job" ) >/dev/null 2>&1 & guard=$!
  rc=0; wait "$job" || rc=$?
  kill "$guard" 2>/dev/null || true; wait "$guard" 2>/dev/null || true
  (( SECONDS - t0 < limit )) || fail "the job still ran ${limit}s after the stall: hung"
}
# stall_ends_job TIMEOUT PATTERN LOG: after rank 1 ($victim) was stopped, the job ends non-zero
# within TIMEOUT + 20 s and LOG says "has waited TIMEOUT s PATTERN"; sets took.
stall_ends_job() {
  local start=$SECONDS
  wait_ended 60
  took=$((SECONDS - start))
  kill -CONT "$victim" 2>/dev/null || true
  [[ $rc -ne 0 ]] || fail "job exited 0 with a stalled rank"
  grep -q "has waited $1 s $2" "$3" || { cat "$3" >&2; fail "rank 1 not named"; }
  (( took <= $1 + 20 )) || fail "took ${took}s to end the job (timeout $1 s)"
}
final_loss() { jq -r "select(.split == \"train\" and .step == $STEPS) | .loss" "$1/metrics.jsonl"; }
newest() { ls -d "$1"/checkpoints/step-* 2>/dev/null | sort | tail -1; }

step "reference: 2 ranks, $STEPS steps, never interrupted"
train2 "$WORK/ref"
wait $job || { cat "$WORK/ref.log" >&2; fail "reference run failed"; }
ref_loss=$(final_loss "$WORK/ref")
[[ -n $ref_loss ]] || fail "reference run logged no final loss"

step "a stalled rank (SIGSTOP) in training is named within dist.timeout_s"
# No checkpoint, sample or validation in its way, and steps to spare: the stop lands in training.
train2 "$WORK/stall" --set train.steps=1000000 --set checkpoint.every=0
wait_for "grep -q '^step ' '$WORK/stall.log'" || fail "no progress before SIGSTOP"
victim=$(rank_pid $job 1) || fail "rank 1 not found"
kill -STOP "$victim"
stall_ends_job 4 "(dist.timeout_s) for its peers: rank 1 (" "$WORK/stall.log"
echo "stalled rank named; job ended ${took}s after SIGSTOP" >&2

step "a rank stalled inside a checkpoint write is named within dist.slow_timeout_s"
# A checkpoint at every step; rank 1 is paused inside one's write (pause_in_checkpoint_write).
# Before dist.slow_timeout_s, rank 0 waited there for ever.
train2 "$WORK/stall2" --set train.steps=1000000 --set checkpoint.every=1 --set checkpoint.keep=2 \
  --set dist.slow_timeout_s=5
wait_for "grep -q '^step ' '$WORK/stall2.log'" || fail "no progress before SIGSTOP"
victim=$(rank_pid $job 1) || fail "rank 1 not found"
pause_in_checkpoint_write "$victim" "$WORK/stall2" 100 \
  || { kill $job; fail "could not pause rank 1 inside a checkpoint write in 100 tries"; }
stall_ends_job 5 "(dist.slow_timeout_s) for its peers: rank 1 (.*) has not arrived" "$WORK/stall2.log"
echo "try $tries: rank 1 stopped in $(basename "$caught"); named, job ended ${took}s later" >&2

step "kill -9 of a rank ends the job; --resume reaches the uninterrupted final loss"
train2 "$WORK/kill"
wait_for "[[ -f '$WORK/kill/checkpoints/step-00000100/DONE' ]]" || fail "no first checkpoint"
kill -KILL "$(rank_pid $job 1)"
rc=0; wait $job || rc=$?
[[ $rc -ne 0 ]] || fail "job exited 0 after kill -9"
grep -qiE "rank 1 .*(signal 9|killed)" "$WORK/kill.log" || { cat "$WORK/kill.log" >&2; fail "the dead rank is not named"; }
[[ -z $(final_loss "$WORK/kill") ]] || fail "the killed run finished before the kill; nothing tested"
train2 "$WORK/kill" --resume
wait $job || { cat "$WORK/kill.log" >&2; fail "resume after kill -9 failed"; }
grep -q "resumed from" "$WORK/kill.log" || fail "did not resume"
[[ $(final_loss "$WORK/kill") == "$ref_loss" ]] || fail "final loss $(final_loss "$WORK/kill") != $ref_loss"

step "SIGUSR1 to mpirun: complete checkpoint, exit 3, exact resume"
train2 "$WORK/usr1"
wait_for "grep -q '^step 100/' '$WORK/usr1.log'" || fail "no progress"
kill -USR1 $job
rc=0; wait $job || rc=$?
grep -q "stopped on request at step" "$WORK/usr1.log" || { cat "$WORK/usr1.log" >&2; fail "no stop (exit $rc)"; }
[[ $rc -eq 3 ]] || fail "mpirun exited $rc after SIGUSR1, expected 3"
"$CHORUS" info "$(newest "$WORK/usr1")" 2>/dev/null | grep -q '"valid":true' || fail "newest checkpoint invalid"
train2 "$WORK/usr1" --resume
wait $job || fail "resume after SIGUSR1 failed"
[[ $(final_loss "$WORK/usr1") == "$ref_loss" ]] || fail "final loss after SIGUSR1 differs"

step "SIGTERM to the ranks, twice, while checkpoints are written at every step"
train2 "$WORK/term" --set checkpoint.every=1 --set checkpoint.keep=3
wait_for "grep -q '^step 100/' '$WORK/term.log'" || fail "no progress"
pids=$(pgrep -P $job)
kill -TERM $pids; sleep 0.05; kill -TERM $pids 2>/dev/null || true
rc=0; wait $job || rc=$?
[[ $rc -eq 3 ]] || { cat "$WORK/term.log" >&2; fail "exit $rc after SIGTERM, expected 3"; }
for c in "$WORK"/term/checkpoints/step-*; do
  "$CHORUS" info "$c" 2>/dev/null | grep -q '"valid":true' || fail "$c is not a valid checkpoint"
done
train2 "$WORK/term" --resume --set checkpoint.every=100
wait $job || fail "resume after SIGTERM failed"
[[ $(final_loss "$WORK/term") == "$ref_loss" ]] || fail "final loss after SIGTERM differs"

step "a truncated newest checkpoint: reported, the previous one used"
last=$(newest "$WORK/ref")
truncate -s 100 "$last/model.pt"
train2 "$WORK/ref" --resume --set train.steps=$((STEPS + 10))
wait $job || { cat "$WORK/ref.log" >&2; fail "resume past a truncated checkpoint failed"; }
grep -q "$(basename "$last").*model.pt" "$WORK/ref.log" || { cat "$WORK/ref.log" >&2; fail "truncation not reported"; }
grep -q "resumed from .*step-00000900 at step 900" "$WORK/ref.log" || fail "did not fall back to step 900"
step "disk full while saving: a clear error, no hang, the previous checkpoints intact"
mkdir -p "$WORK/full"
if mount -t tmpfs -o size=300k tmpfs "$WORK/full" 2>/dev/null; then
  trap 'rc=$?; umount "$WORK/full" 2>/dev/null || true; rm -rf "$WORK"; exit $rc' EXIT
  # Each checkpoint of the smoke model takes ~120 KB: steps 5 and 10 fit, step 15 does not.
  LOG=$WORK/fullrun train2 "$WORK/full/run" --set train.steps=20 --set checkpoint.every=5 --set checkpoint.keep=5
  rc=0; wait $job || rc=$?
  [[ $rc -ne 0 ]] || fail "a full disk went unnoticed"
  grep -q "checkpoint of step 15 not written (.*No space left on device); the previous complete checkpoints are intact" \
    "$WORK/fullrun.log" || { cat "$WORK/fullrun.log" >&2; fail "no clear disk-full message"; }
  grep -q "terminate called" "$WORK/fullrun.log" && fail "a rank died in std::terminate"
  [[ -z $(ls -d "$WORK"/full/run/checkpoints/*.tmp 2>/dev/null) ]] || fail "a staging directory was left behind"
  for c in "$WORK"/full/run/checkpoints/step-00000005 "$WORK"/full/run/checkpoints/step-00000010; do
    "$CHORUS" info "$c" 2>/dev/null | grep -q '"valid":true' || fail "$c is not intact"
  done
  cp -r "$WORK/full/run" "$WORK/roomy"
  train2 "$WORK/roomy" --set train.steps=20 --set checkpoint.every=5 --resume
  wait $job || { cat "$WORK/roomy.log" >&2; fail "resume with room to write failed"; }
  grep -q "resumed from .*step-00000010 at step 10" "$WORK/roomy.log" || fail "did not resume at step 10"
  umount "$WORK/full"
else
  echo "note: cannot mount a small tmpfs here (needs root with CAP_SYS_ADMIN): disk-full case not run" >&2
fi
echo "PASS" >&2
