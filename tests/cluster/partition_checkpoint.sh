# A partition during a checkpoint write (issue 16): node02's link goes down while its rank (rank
# 1) is still writing its part of a checkpoint. Rank 1 then finishes its file on the shared file
# system, but its arrival at the barrier before the commit never reaches rank 0, so rank 0 must
# not commit: every file is there, yet the checkpoint is not complete. The barriers of a
# checkpoint have only the long dist.slow_timeout_s (600 s; dist.timeout_s covers training
# steps): Open MPI's out-of-band keep-alive is what ends the job. Checked: no half checkpoint is taken for complete (every
# step-N directory verifies, the staging directory stays one, chorus info rejects it), and
# --resume starts from the newest complete checkpoint.
#
# To land the partition inside the write every time, rank 1 is paused (SIGSTOP) at a random
# moment and rank 0 is given 0.2 s to run on to the next point where it needs rank 1; when that
# point is a checkpoint whose staging directory lacks rank 1's file, the link is cut and rank 1
# continues (SIGCONT): a rank slow by a moment, then writing into a partitioned network. Else
# rank 1 continues and the next try comes. A checkpoint at every step makes most tries land.
source "$(dirname "$0")/lib/hosts.bash"
cluster_up 2
small_corpus
hostfile "$WORK/two" 1
args=(--set checkpoint.every=1 --set checkpoint.keep=3)

step "2 hosts x 1 rank, a checkpoint at every step; partition inside the write of one"
endless_job_past 20 "${args[@]}"
rank1=$(rank_pid 1 node02) || fail "rank 1 not found on node02"
pause_in_checkpoint_write "$rank1" "$WORK/run" 50 \
  || fail "could not pause rank 1 inside a checkpoint write in 50 tries"
echo "try $tries: rank 1 paused while $(basename "$caught") held: $(ls "$caught" | tr '\n' ' ')" >&2
link_down node02
kill -CONT "$rank1"
ended_by_fault node02 $((DIST_TIMEOUT + 30)) "the partition"
no_processes_left node02 30

step "no half checkpoint is taken for complete"
half=$(basename "$caught" .tmp)
[[ ! -e $WORK/run/checkpoints/$half ]] || fail "$half was committed although rank 1 never reported its file"
[[ -d $caught && ! -e $caught/DONE ]] || fail "the staging directory of $half changed: $(ls "$caught")"
echo "left as a staging directory: $(basename "$caught"): $(ls "$caught" | tr '\n' ' ')" >&2
"$CHORUS" info "$caught" 2>/dev/null | grep -q '"valid":true' && fail "chorus info calls $caught valid"
newest=$(valid_checkpoints "$WORK/run")
at=$((10#${newest##*step-}))
(( at < 10#${half#step-} )) || fail "newest complete checkpoint $newest is not older than $half"
link_up node02
train_on "$WORK/two" "$WORK/run" "${args[@]}" --set train.steps=$((at + 10)) --resume
finish run
grep -q "resumed from $newest at step $at" "$WORK/run.log" || { cat "$WORK/run.log" >&2; fail "did not resume from $newest"; }
echo "resumed from $(basename "$newest"), passing over $(basename "$caught")" >&2
[[ ! -e $caught ]] || fail "the debris $caught outlived the next commit"
valid_checkpoints "$WORK/run" >/dev/null
echo "PASS" >&2
