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
endless_job_past 40 "${args[@]}"
link_down node02
ended_by_fault node02 $((DIST_TIMEOUT + 30)) "the partition (dist.timeout_s = $DIST_TIMEOUT)"
no_processes_left node02 30

step "the last complete checkpoint is intact"
newest=$(valid_checkpoints "$WORK/run")
echo "newest complete checkpoint: $(basename "$newest")" >&2

step "link back up; --resume continues exactly"
link_up node02
resumes_exactly "$newest" "${args[@]}"
echo "PASS" >&2
