# Local ranks per host (issue 16): 2 hosts x 2 ranks. Each host's ranks are local ranks 0 and 1
# of 2, and so choose their threads (and device) from their own host's count. train.threads is
# left at 0 (auto: the host's cores / its local ranks) here, so that a wrong local count shows
# as a wrong thread count: 2 cores / 2 local ranks = 1 thread, the cluster runs' one thread.
source "$(dirname "$0")/lib/hosts.bash"
cluster_up 2
small_corpus
hostfile "$WORK/two" 2
(( $(getconf _NPROCESSORS_ONLN) == 2 )) || echo "note: $(getconf _NPROCESSORS_ONLN) cores here; the expected thread count assumes 2" >&2

step "2 hosts x 2 ranks, train.threads=0 (auto)"
train_on "$WORK/two" "$WORK/run" --set train.steps=10 --set checkpoint.every=10 --set train.threads=0
finish run
[[ $(manifest_hosts "$WORK/run") == "node01 node01 node02 node02" ]] ||
  fail "ranks not placed 2 per host: hosts $(manifest_hosts "$WORK/run")"
[[ $(jq '.local_ranks' "$WORK/run/manifest.json") == 2 ]] ||
  fail "rank 0's local rank count is $(jq '.local_ranks' "$WORK/run/manifest.json"), expected 2"
[[ $(jq '.threads_per_rank' "$WORK/run/manifest.json") == 1 ]] ||
  fail "rank 0 chose $(jq '.threads_per_rank' "$WORK/run/manifest.json") threads, expected 2 cores / 2 local ranks = 1"
grep -q "(ranks x threads) *4 x 1" "$WORK/run.log" || fail "the config table does not say 4 x 1"
echo "hosts: $(manifest_hosts "$WORK/run"); rank 0: 2 local ranks, 1 thread" >&2

step "the manifest gives every rank its host, local rank, threads and device"
check_placement "$WORK/run" "node01:0:2 node01:1:2 node02:0:2 node02:1:2"
echo "PASS" >&2
