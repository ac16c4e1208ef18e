# Shared by the cluster scripts (issue 16): a small corpus, training runs and what is checked of
# them (losses, checkpoints, the manifest's rank placement, the messages a failed job printed).
# Each script is called by ctest as: bash SCRIPT CHORUS_BINARY SOURCE_DIR SHARED_DATA_DIR
source "$(dirname "${BASH_SOURCE[0]}")/../../e2e/lib/common.bash"

# dist.timeout_s of the cluster runs: above the out-of-band keep-alive's ~5 s (hosts.bash), which
# must notice a lost host before the watchdog's MPI_Abort does (see there).
DIST_TIMEOUT=10

# Every cluster run: the smoke model, one thread per rank (this machine has 2 cores).
run_args=(--set train.threads=1 --set eval.every=0 --set sample.every=0 --set log.every=1
          --set dist.timeout_s=$DIST_TIMEOUT)

# stop_background_jobs: ends this script's jobs still running (a failed check leaves its training
# job behind): SIGTERM first, which mpirun passes on to its ranks, then SIGKILL.
stop_background_jobs() {
  local pids
  pids=$(jobs -p)
  [[ -n $pids ]] || return 0
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 30); do kill -0 $pids 2>/dev/null || break; sleep 0.1; done
  kill -KILL $pids 2>/dev/null || true
  wait 2>/dev/null || true
}

# small_corpus: $WORK/songs.h5, made the way the e2e tests make theirs.
small_corpus() {
  make_csv "$WORK/songs.csv" 40
  "$CHORUS" prepare lyrics --input "$WORK/songs.csv" --output "$WORK/songs.h5" >/dev/null 2>&1 ||
    fail "chorus prepare lyrics failed"
}

# train_local NP RUN_DIR [args...]: NP ranks on this machine over shared memory (no namespaces).
train_local() {
  local np=$1 dir=$2; shift 2
  "${MPIRUN[@]}" -np "$np" "$CHORUS" train "$SRC/configs/smoke.yaml" \
    --set data.path="$WORK/songs.h5" --set run.dir="$dir" "${run_args[@]}" "$@" \
    > "$dir.out" 2> "$dir.log" &
  job=$!
}

# finish NAME: waits for $job; fails with its log unless it exited 0.
finish() {
  local rc=0
  wait "$job" || rc=$?
  [[ $rc -eq 0 ]] || { tail -40 "$WORK/$1.log" >&2; fail "$1: exited $rc"; }
}

# losses RUN_DIR: "step loss" per logged training step (the last record of a step wins).
losses() {
  jq -r 'select(.split == "train") | "\(.step) \(.loss)"' "$1/metrics.jsonl" |
    awk '{l[$1] = $2} END {for (s in l) print s, l[s]}' | sort -n
}

# compare_losses A B TOLERANCE [FROM]: whether the training losses of two runs agree at every
# step >= FROM that both logged: exactly (TOLERANCE 0, as text) or within a relative TOLERANCE.
# Prints "N steps agree" or what differs.
compare_losses() {
  local a=$1 b=$2 tol=$3 from=${4:-0} out
  out=$(join <(losses "$a") <(losses "$b") | awk -v tol="$tol" -v from="$from" '
    $1 >= from { n++
      if (tol == 0) { if ($2 != $3) { bad++; if (!m) m = "step " $1 ": " $2 " != " $3 } }
      else { d = $2 - $3; if (d < 0) d = -d; s = $3 < 0 ? -$3 : $3
             if (d > tol * s) { bad++; if (!m) m = "step " $1 ": " $2 " vs " $3 } } }
    END { if (!n) print "no common steps"; else if (bad) print bad " of " n " steps differ, first " m;
          else print "ok " n }')
  if [[ $out == ok* ]]; then echo "${out#ok } steps agree"; else echo "$out"; return 1; fi
}

# same_losses A B TOLERANCE [FROM]: compare_losses, or fail.
same_losses() {
  local out
  out=$(compare_losses "$@") || fail "losses of $(basename "$1") and $(basename "$2") differ: $out"
  echo "losses of $(basename "$1") and $(basename "$2"), steps >= ${4:-0}," \
       "$([[ $3 == 0 ]] && echo "bit for bit" || echo "relative $3"): $out" >&2
}

# check_placement RUN_DIR EXPECTED [START]: the manifest's rank_placement is, per rank in rank
# order, "host:local_rank:local_size" (space-separated), each with threads 1 and device cpu:
# START's (that element of its "starts", 0 = the first start), else the manifest's own and its
# newest start's. Fails this scenario only when the binary writes no rank_placement.
check_placement() {
  local dir=$1 expected=$2 at got where places=("" ".starts[-1]")
  [[ -z ${3:-} ]] || places=(".starts[$3]")
  for at in "${places[@]}"; do
    where="manifest${at:+ $at}"
    jq -e "${at:-.} | has(\"rank_placement\")" "$dir/manifest.json" >/dev/null ||
      fail "manifest has no rank_placement (binary predates it)"
    got=$(jq -r "$at.rank_placement | [.[] | \"\\(.host):\\(.local_rank):\\(.local_size)\"] | join(\" \")" \
      "$dir/manifest.json")
    [[ $got == "$expected" ]] || fail "$where: rank_placement is '$got', expected '$expected'"
    jq -e "[$at.rank_placement | to_entries[] | .key == .value.rank] | all" "$dir/manifest.json" \
      >/dev/null || fail "$where: rank_placement is not in rank order"
    jq -e "[$at.rank_placement[] | .threads == 1 and .device == \"cpu\"] | all" \
      "$dir/manifest.json" >/dev/null ||
      fail "$where: threads or device wrong: $(jq -c "$at.rank_placement" "$dir/manifest.json")"
    echo "$where: rank_placement (host:local_rank:local_size) $got" >&2
  done
}

# manifest_hosts RUN_DIR: today's "hosts" key (one host name per rank), space-separated.
manifest_hosts() { jq -r '.hosts | join(" ")' "$1/manifest.json"; }

# valid_checkpoints RUN_DIR: every step-N directory verifies; prints the newest.
valid_checkpoints() {
  local c newest=""
  for c in "$1"/checkpoints/step-*; do
    [[ -d $c && $c != *.tmp && $c != *.old ]] || continue
    "$CHORUS" info "$c" 2>/dev/null | grep -q '"valid":true' || fail "$c is taken for complete but does not verify"
    newest=$c
  done
  [[ -n $newest ]] || fail "no complete checkpoint in $1"
  echo "$newest"
}

# wait_until SECONDS CONDITION: polls CONDITION (a shell expression) every 0.1 s.
wait_until() {
  local end=$((SECONDS + $1))
  while ((SECONDS < end)); do eval "$2" && return 0; sleep 0.1; done
  return 1
}

# wait_for_checkpoint SECONDS RUN_DIR STEP: waits until a committed checkpoint (its DONE written)
# of step STEP or later is there. Not the directory of STEP itself: with checkpoint.every=1 and
# keep=3 it lives for three steps, a few tens of milliseconds, and a poller on a busy machine
# misses it (the CI failure of the partition-in-a-checkpoint test).
wait_for_checkpoint() {
  wait_until "$1" "checkpoint_at_least '$2' $3"
}

# checkpoint_at_least RUN_DIR STEP: whether a committed checkpoint of step STEP or later is there.
checkpoint_at_least() {
  local newest
  newest=$(newest_committed_step "$1") && ((newest >= $2))
}

# newest_committed_step RUN_DIR: the step of the newest step-N directory with a DONE file; fails
# (status 1, nothing printed) when there is none.
newest_committed_step() {
  local d step=-1 n
  for d in "$1"/checkpoints/step-*/DONE; do
    [[ -f $d ]] || continue
    n=${d%/DONE}; n=${n##*step-}
    [[ $n =~ ^[0-9]+$ ]] || continue
    ((10#$n > step)) && step=$((10#$n))
  done
  ((step >= 0)) || return 1
  echo "$step"
}

# ended_within SECONDS: waits for $job (mpirun) at most SECONDS; sets rc (its exit status) and
# took (seconds). Fails if it is still running then, after killing it.
ended_within() {
  local limit=$1 start=$SECONDS
  while kill -0 "$job" 2>/dev/null && ((SECONDS - start < limit)); do sleep 0.2; done
  took=$((SECONDS - start))
  if kill -0 "$job" 2>/dev/null; then
    kill -KILL "$job" 2>/dev/null || true
    fail "mpirun still running ${limit}s later"
  fi
  rc=0; wait "$job" || rc=$?
}

# job_messages LOG: the lines that explain why a job ended (Chorus's errors, Open MPI's notices,
# the rsh agent's), indented, on stderr.
job_messages() {
  grep -E "error|lost communication|Remote daemon|HNP daemon|Peer host|exited on signal|MPI_ABORT|unable to reliably|rsh-agent: conn" "$1" |
    grep -v '^step ' | sed 's/^/    | /' >&2 || true
}

# names_host HOST LOG: the job's log names HOST as the failed one, in Chorus's watchdog message
# ("rank 1 (node02) ..."), Open MPI's ("Remote daemon: ... on node node02", "Peer host: node02")
# or the launcher's (the rsh agent, as ssh: "connection to node02 closed").
names_host() {
  grep -E "rank [0-9]+ \($1\)|on node $1\b|Peer host: +$1\b|connection to $1 closed" "$2" >/dev/null ||
    { cat "$2" >&2; fail "no message names $1"; }
}
