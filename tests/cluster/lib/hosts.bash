# A small cluster of hosts on this machine (issue 16). Each host is a network namespace with its
# own hostname (UTS namespace), its own /etc/hosts (a private mount namespace; the machine's
# /etc/hosts is never touched) and a veth link to a bridge that lives in a 'switch' namespace, on
# a private subnet. The root namespace's network is left alone. The file
# system is shared, as a cluster's is. mpirun runs on the first host and starts its daemons on the
# others through an rsh agent that enters a host's namespaces in place of ssh; ranks talk over
# TCP only (btl tcp,self), pinned to the subnet. Everything is removed on exit, whatever happens.

source "$(dirname "${BASH_SOURCE[0]}")/runs.bash"

SUBNET_PREFIX=10.216.0       # hosts are .11, .12, ...; the namespaces keep it off every real network
SUBNET=$SUBNET_PREFIX.0/24
TAG=chorus$$                 # namespace names: unique per script, so that tests may run in parallel
HOSTS=()                     # host names, in order: node01, node02, ...
declare -A HOLDER            # host name -> pid of the process that holds its namespaces

# Out-of-band (mpirun <-> daemons) keep-alive. With Open MPI's defaults (300 s idle, then 9 probes
# 20 s apart) mpirun waits minutes for a host that dropped off the network. With these, the idle
# connection to a lost host's daemon fails within about 2 + 3 x 1 s and mpirun ends the job. It
# must fail before Chorus's watchdog (dist.timeout_s) calls MPI_Abort: the abort makes mpirun send
# to the lost daemon, the connection is no longer idle, keep-alive stops probing, and mpirun
# waits for TCP's retransmissions to give up (over 15 minutes; measured: keep-alive 10 + 3 x 2 s
# with dist.timeout_s 5 still hung after 180 s, with dist.timeout_s 60 it ended in 18 s).
OOB_KEEPALIVE=(--mca oob_tcp_keepalive_time 2 --mca oob_tcp_keepalive_intvl 1
               --mca oob_tcp_keepalive_probes 3)

cluster_cleanup() {
  local rc=$? host pid
  trap - EXIT
  for host in "${HOSTS[@]}"; do                 # the holders go last
    [[ -z ${HOLDER[$host]:-} ]] || disown "${HOLDER[$host]}" 2>/dev/null || true
  done
  stop_background_jobs
  for host in "${HOSTS[@]}"; do                 # every process left on a host, then the host
    for pid in $(host_pids "$host"); do kill -KILL "$pid" 2>/dev/null || true; done
    kill -KILL "${HOLDER[$host]:-0}" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  for host in "${HOSTS[@]}"; do ip netns del "$TAG-$host" 2>/dev/null || true; done
  ip netns del "$TAG-sw" 2>/dev/null || true
  rm -rf "$WORK"
  exit $rc
}

# require_namespaces: skips (exit 77, saying exactly why) where this system cannot make the hosts.
require_namespaces() {
  local why
  [[ $(id -u) -eq 0 ]] || skip "cluster tests make network namespaces and need root (running as uid $(id -u))"
  for tool in ip nsenter unshare hostname mpirun jq; do
    command -v $tool >/dev/null || skip "'$tool' not found (scripts/install-deps.sh installs it)"
  done
  why=$(ip netns add "$TAG-probe" 2>&1) || skip "cannot make a network namespace: ip netns add: $why"
  why=$(nsenter --net="/run/netns/$TAG-probe" unshare --uts --mount hostname probe 2>&1) || {
    ip netns del "$TAG-probe"; skip "cannot make a UTS + mount namespace: unshare: $why"; }
  why=$(ip -n "$TAG-probe" link add probe0 type veth peer name probe1 2>&1 &&
        ip -n "$TAG-probe" link add probebr type bridge 2>&1) || {
    ip netns del "$TAG-probe"; skip "cannot make veth links or a bridge in a namespace: ip link: $why"; }
  ip netns del "$TAG-probe"
}

# cluster_up N: hosts node01..nodeN on $SUBNET, a hostfile (cluster/hostfile.example's format)
# and the rsh agent; sets HOSTS. The hosts' processes are ended and the namespaces removed on exit.
cluster_up() {
  local n=$1 i host ns
  require_namespaces
  trap cluster_cleanup EXIT
  ip netns add "$TAG-sw"
  ip -n "$TAG-sw" link add br0 type bridge
  ip -n "$TAG-sw" link set br0 up
  : > "$WORK/etc-hosts"
  printf '127.0.0.1 localhost\n' >> "$WORK/etc-hosts"
  for ((i = 1; i <= n; i++)); do
    HOSTS+=("$(printf 'node%02d' "$i")")
    printf '%s.%d %s\n' "$SUBNET_PREFIX" $((10 + i)) "${HOSTS[-1]}" >> "$WORK/etc-hosts"
  done
  for ((i = 1; i <= n; i++)); do
    host=${HOSTS[i - 1]}; ns=$TAG-$host
    ip netns add "$ns"
    # The host's end is created inside its namespace: the root namespace never sees the link.
    ip -n "$TAG-sw" link add "port$i" type veth peer name eth0 netns "$ns"
    ip -n "$TAG-sw" link set "port$i" master br0 up
    ip -n "$ns" addr add "$SUBNET_PREFIX.$((10 + i))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    # The holder keeps the host's UTS and mount namespaces alive; everything else enters them.
    nsenter --net="/run/netns/$ns" unshare --uts --mount --propagation private \
      bash -c 'hostname "$1" && mount --bind "$2" /etc/hosts && echo up > "$3" && exec sleep infinity' \
      _ "$host" "$WORK/etc-hosts" "$WORK/$host.up" &
    HOLDER[$host]=$!
    echo "${HOLDER[$host]}" > "$WORK/$host.pid"
  done
  for host in "${HOSTS[@]}"; do
    for i in $(seq 100); do [[ -f $WORK/$host.up ]] && break; sleep 0.05; done
    [[ -f $WORK/$host.up ]] || fail "host $host did not come up"
    [[ $(on_host "$host" hostname) == "$host" ]] || fail "host $host has the wrong hostname"
  done
  for host in "${HOSTS[@]:1}"; do           # the bridge forwards (first ARP may take a moment)
    for i in $(seq 50); do on_host "${HOSTS[0]}" bash -c "exec 3<>/dev/tcp/$host/9 " 2>&1 |
      grep -q "refused" && break; sleep 0.1; done
  done
  # The rsh agent: Open MPI calls it as `AGENT HOST COMMAND...` (as it would call ssh). It runs the
  # command in that host's namespaces, with a clean environment as a remote login would have, and
  # stays on mpirun's host as ssh's client does: when the host's processes die it reports that,
  # naming the host, and exits 255 as ssh does when its connection drops.
  cat > "$WORK/rsh-agent" <<AGENT
#!/usr/bin/env bash
host=\$1; shift
pid=\$(cat "$WORK/\$host.pid" 2>/dev/null) || { echo "rsh-agent: \$host: no such host" >&2; exit 255; }
env -i PATH="\$PATH" HOME="\$HOME" LANG=C.UTF-8 \\
  nsenter --target "\$pid" --uts --net --mount --wd="$WORK" -- /bin/sh -c "\$*"
rc=\$?
if ((rc > 128)); then
  echo "rsh-agent: connection to \$host closed: its remote command died of signal \$((rc - 128))" >&2
  exit 255
fi
exit \$rc
AGENT
  chmod +x "$WORK/rsh-agent"
  echo "cluster: ${HOSTS[*]} on $SUBNET (namespaces $TAG-*)" >&2
}

# hostfile FILE SLOTS: every host with SLOTS slots, in cluster/hostfile.example's format.
hostfile() {
  local host
  for host in "${HOSTS[@]}"; do echo "$host slots=$2"; done > "$1"
}

# on_host HOST COMMAND...: runs COMMAND on HOST (its network, hostname and /etc/hosts), here.
on_host() {
  local host=$1; shift
  nsenter --target "${HOLDER[$host]}" --uts --net --mount --wd="$PWD" -- "$@"
}

# host_pids HOST: the processes running on HOST (in its network namespace), but its holder.
host_pids() {
  ip netns pids "$TAG-$1" 2>/dev/null | grep -vx "${HOLDER[$1]}" || true
}

# The environment a rank needs on every host, passed with -x as on a real cluster (the rsh agent,
# like ssh, starts the other hosts' daemons with a clean environment): the thread count, and the
# OpenBLAS settings of this shell. OPENBLAS_CORETYPE picks OpenBLAS's kernels: a rank whose
# OpenBLAS detects another core type rounds differently, and bit-exactness (same ranks x threads
# x BLAS) is lost; FORWARD_BLAS=0 leaves it out to show that.
forward_env() {
  local var
  echo -x OMP_NUM_THREADS
  [[ ${FORWARD_BLAS:-1} == 1 ]] || return 0
  for var in $(compgen -e OPENBLAS_); do echo -x "$var"; done
}

# cluster_mpirun HOSTFILE: sets MPIRUN_CLUSTER, the mpirun command of the cluster runs. It runs
# on the first host, as on a cluster's first node (nsenter execs it: a pid taken with $! is
# mpirun's); daemons start through the rsh agent; TCP only, interfaces pinned by subnet; quick
# out-of-band keep-alive.
cluster_mpirun() {
  # shellcheck disable=SC2207  # forward_env prints words: -x NAME ...
  MPIRUN_CLUSTER=(nsenter --target "${HOLDER[${HOSTS[0]}]}" --uts --net --mount --wd="$PWD" --
    mpirun --allow-run-as-root --bind-to none --oversubscribe --hostfile "$1"
    --mca plm_rsh_agent "$WORK/rsh-agent"
    --mca btl tcp,self --mca btl_tcp_if_include "$SUBNET" --mca oob_tcp_if_include "$SUBNET"
    "${OOB_KEEPALIVE[@]}" $(forward_env))
}

# link_down HOST / link_up HOST: pulls (puts back) the host's network cable.
link_down() { ip -n "$TAG-$1" link set eth0 down; }
link_up() { ip -n "$TAG-$1" link set eth0 up; }

# train_on HOSTFILE RUN_DIR [args...]: a cluster job in the background ($job = mpirun's pid),
# logging to RUN_DIR.log. NP: the ranks (default: the hostfile's slots).
train_on() {
  local hf=$1 dir=$2; shift 2
  local np=${NP:-$(awk '{sub("slots=", "", $2); n += $2} END {print n}' "$hf")}
  cluster_mpirun "$hf"
  "${MPIRUN_CLUSTER[@]}" -np "$np" "$CHORUS" train "$SRC/configs/smoke.yaml" \
    --set data.path="$WORK/songs.h5" --set run.dir="$dir" "${run_args[@]}" "$@" \
    > "$dir.out" 2> "$dir.log" &
  job=$!
}

# rank_pid RANK HOST: the pid of that rank of the MPI job running on HOST.
rank_pid() {
  local p
  for p in $(host_pids "$2"); do
    tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" &&
      { echo "$p"; return 0; }
  done
  return 1
}

# no_processes_left HOST SECONDS: every process of the job on HOST ends within SECONDS.
no_processes_left() {
  wait_until "$2" '[[ -z $(host_pids '"$1"') ]]' ||
    fail "processes left on $1 after $2 s: $(host_pids "$1" | xargs -r ps -o pid=,args= -p)"
}

# The fault scenarios (partition, lost_host, partition_checkpoint) share their frame: a job on the
# hostfile $WORK/two with no end in sight, a fault, the job's end, a resume.

# endless_job_past STEP [args...]: training in $WORK/run on $WORK/two in the background, returning
# once a checkpoint of step STEP or later is committed.
endless_job_past() {
  local at=$1; shift
  train_on "$WORK/two" "$WORK/run" "$@" --set train.steps=1000000
  wait_for_checkpoint 120 "$WORK/run" "$at" ||
    { cat "$WORK/run.log" >&2; fail "no checkpoint of step $at or later"; }
}

# ended_by_fault HOST SECONDS WHAT: the job of endless_job_past ends within SECONDS of the fault
# (WHAT names it in the messages) with a non-zero exit and a message naming HOST.
ended_by_fault() {
  ended_within "$2"
  echo "mpirun exited $rc, ${took}s after $3; it said:" >&2
  job_messages "$WORK/run.log"
  [[ $rc -ne 0 ]] || fail "the job exited 0 after $3"
  names_host "$1" "$WORK/run.log"
}

# resumes_exactly CHECKPOINT [args...]: --resume of $WORK/run on $WORK/two starts from CHECKPOINT
# and its next 30 steps have the losses, bit for bit, of a run ($WORK/ref) never interrupted.
resumes_exactly() {
  local newest=$1; shift
  local at=$((10#${newest##*step-}))
  train_on "$WORK/two" "$WORK/run" "$@" --set train.steps=$((at + 30)) --resume
  finish run
  grep -q "resumed from $newest at step $at" "$WORK/run.log" || { cat "$WORK/run.log" >&2; fail "did not resume from $newest"; }
  train_on "$WORK/two" "$WORK/ref" "$@" --set train.steps=$((at + 30))
  finish ref
  same_losses "$WORK/ref" "$WORK/run" 0 $((at + 1))
}
