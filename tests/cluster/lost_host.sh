# A lost node (issue 16): every process of the job on host node02 is killed (kill -9: Open MPI's
# daemon and the rank), as when a node dies. mpirun ends the job with a message naming node02
# and a non-zero exit; the last complete checkpoint is intact; --resume continues exactly.
source "$(dirname "$0")/lib/hosts.bash"
cluster_up 2
small_corpus
hostfile "$WORK/two" 1
args=(--set checkpoint.every=20 --set checkpoint.keep=3)

step "2 hosts x 1 rank; node02's processes killed after the checkpoint of step 40"
train_on "$WORK/two" "$WORK/run" "${args[@]}" --set train.steps=1000000
wait_for_checkpoint 120 "$WORK/run" 40 ||
  { cat "$WORK/run.log" >&2; fail "no checkpoint of step 40 or later"; }
victims=$(host_pids node02)
echo "kill -9 on node02: $(ps -o pid=,comm= -p $victims | tr -s ' \n' ' ')" >&2
kill -KILL $victims
ended_within 30
echo "mpirun exited $rc, ${took}s after the kill; it said:" >&2
job_messages "$WORK/run.log"
[[ $rc -ne 0 ]] || fail "the job exited 0 after losing a node"
names_host node02 "$WORK/run.log"
no_processes_left node01 10

step "the last complete checkpoint is intact; --resume continues exactly"
newest=$(valid_checkpoints "$WORK/run")
at=$((10#${newest##*step-}))
final=$((at + 30))
train_on "$WORK/two" "$WORK/run" "${args[@]}" --set train.steps=$final --resume
finish run
grep -q "resumed from $newest at step $at" "$WORK/run.log" || fail "did not resume from $newest"
train_on "$WORK/two" "$WORK/ref" "${args[@]}" --set train.steps=$final
finish ref
same_losses "$WORK/ref" "$WORK/run" 0 $((at + 1))
echo "PASS" >&2
