# A lost node (issue 16): every process of the job on host node02 is killed (kill -9: Open MPI's
# daemon and the rank), as when a node dies. mpirun ends the job with a message naming node02
# and a non-zero exit; the last complete checkpoint is intact; --resume continues exactly.
source "$(dirname "$0")/lib/hosts.bash"
cluster_up 2
small_corpus
hostfile "$WORK/two" 1
args=(--set checkpoint.every=20 --set checkpoint.keep=3)

step "2 hosts x 1 rank; node02's processes killed after the checkpoint of step 40"
endless_job_past 40 "${args[@]}"
victims=$(host_pids node02)
echo "kill -9 on node02: $(ps -o pid=,comm= -p $victims | tr -s ' \n' ' ')" >&2
kill -KILL $victims
ended_by_fault node02 30 "the kill"
no_processes_left node01 10

step "the last complete checkpoint is intact; --resume continues exactly"
resumes_exactly "$(valid_checkpoints "$WORK/run")" "${args[@]}"
echo "PASS" >&2
