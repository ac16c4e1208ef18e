# A network partition (issue 16): host node02's link goes down mid-run. The job ends, mpirun
# included, within dist.timeout_s + 30 s with a non-zero exit and a message naming node02; the
# processes left on node02 end too; the last complete checkpoint is intact; with the link back,
# --resume continues exactly as a run that was never partitioned.
source "$(dirname "$0")/lib/hosts.bash"
cluster_up 2
small_corpus
hostfile "$WORK/two" 1
args=(--set checkpoint.every=20 --set checkpoint.keep=3)

step "2 hosts x 1 rank; node02's link goes down after the checkpoint of step 40"
train_on "$WORK/two" "$WORK/run" "${args[@]}" --set train.steps=1000000
wait_for_checkpoint 120 "$WORK/run" 40 ||
  { cat "$WORK/run.log" >&2; fail "no checkpoint of step 40 or later"; }
link_down node02
ended_within $((DIST_TIMEOUT + 30))
echo "mpirun exited $rc, ${took}s after the partition (dist.timeout_s = $DIST_TIMEOUT); it said:" >&2
job_messages "$WORK/run.log"
[[ $rc -ne 0 ]] || fail "the job exited 0 after a partition"
names_host node02 "$WORK/run.log"
no_processes_left node02 30

step "the last complete checkpoint is intact"
newest=$(valid_checkpoints "$WORK/run")
at=$((10#${newest##*step-}))
echo "newest complete checkpoint: step $at" >&2

step "link back up; --resume continues exactly"
link_up node02
final=$((at + 30))
train_on "$WORK/two" "$WORK/run" "${args[@]}" --set train.steps=$final --resume
finish run
grep -q "resumed from $newest at step $at" "$WORK/run.log" || fail "did not resume from $newest"
train_on "$WORK/two" "$WORK/ref" "${args[@]}" --set train.steps=$final
finish ref
same_losses "$WORK/ref" "$WORK/run" 0 $((at + 1))
echo "PASS" >&2
