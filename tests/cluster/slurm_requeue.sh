# The Slurm path for real (issue 16): a private Slurm (slurmctld + slurmd + munged from Debian's
# slurm-wlm) runs cluster/slurm-train.sbatch on one node with 2 tasks x 1 CPU. Sending SIGUSR1 to
# the batch script (what --signal=B:USR1@180 does before the time limit; here scancel sends it)
# makes Chorus checkpoint and exit 3, and the script requeue the job; the requeued job resumes and
# finishes with the losses of a run never interrupted.
source "$(dirname "$0")/lib/slurm.bash"
slurm_up
small_corpus
STEPS=400
args=(--set data.path="$WORK/songs.h5" --set eval.every=0 --set sample.every=0 --set log.every=1
      --set checkpoint.every=50 --set checkpoint.keep=3 --set train.steps=$STEPS
      --set dist.timeout_s=$DIST_TIMEOUT)

step "sbatch --nodes=1 --ntasks=2 --cpus-per-task=1 cluster/slurm-train.sbatch"
job_id=$(cd "$WORK" && CHORUS=$CHORUS sbatch --parsable --nodes=1 --ntasks=2 --cpus-per-task=1 \
  --time=10 --output="$WORK/job-%j.out" "$SRC/cluster/slurm-train.sbatch" \
  "$SRC/configs/smoke.yaml" --set run.dir="$WORK/run" "${args[@]}") || fail "sbatch refused the job"
out=$WORK/job-$job_id.out
state() { scontrol show job "$job_id" 2>/dev/null | grep -oP 'JobState=\K\S+'; }
if ! wait_until 60 "[[ -f $WORK/run/checkpoints/step-00000050/DONE ]]"; then
  cat "$out" >&2 2>/dev/null; scontrol show job "$job_id" >&2
  fail "job $job_id made no checkpoint in 60 s (state $(state))"
fi
echo "job $job_id running: $(head -1 "$out")" >&2

step "scancel --signal=USR1 --batch: checkpoint, exit 3, requeue"
scancel --signal=USR1 --batch "$job_id"
wait_until 60 "grep -q 'restart 1' '$out'" || { cat "$out" >&2; fail "the job did not start again (state $(state))"; }
grep -q "stopped on request at step" "$out" || { cat "$out" >&2; fail "Chorus did not stop on request"; }
grep -q "chorus exited with 3" "$out" || { cat "$out" >&2; fail "the first run did not exit 3"; }
grep -q "requeueing job $job_id" "$out" || { cat "$out" >&2; fail "the script did not requeue"; }
stopped=$(grep -oP 'stopped on request at step \K[0-9]+' "$out" | head -1)
echo "stopped at step $stopped, requeued, started again" >&2

step "the requeued job resumes and finishes"
wait_until 120 "[[ \$(state) == COMPLETED || \$(state) == FAILED || \$(state) == CANCELLED ]]" ||
  { cat "$out" >&2; fail "the requeued job did not end (state $(state))"; }
[[ $(state) == COMPLETED ]] || { cat "$out" >&2; fail "the requeued job ended $(state)"; }
grep -q "resumed from .*step-0*$stopped at step $stopped" "$out" ||
  { cat "$out" >&2; fail "the requeued job did not resume from step $stopped"; }
grep -E "^chorus-train:" "$out" | sed 's/^/    | /' >&2
[[ $(jq '.threads_per_rank' "$WORK/run/manifest.json") == 1 ]] ||
  fail "threads per rank $(jq '.threads_per_rank' "$WORK/run/manifest.json"), expected --cpus-per-task = 1"

step "its losses equal an uninterrupted run's"
run_args=("${args[@]}" --set train.threads=1)
train_local 2 "$WORK/ref"
finish ref
same_losses "$WORK/ref" "$WORK/run" 0
echo "PASS" >&2
