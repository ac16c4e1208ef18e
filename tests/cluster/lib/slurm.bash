# A private Slurm for one test: munged with its own key and socket, slurmctld and slurmd in the
# foreground, all under $WORK/slurm with a minimal configuration (this machine as the one node,
# 2 CPUs; no cgroup plugins; a short credential lifetime and scheduling period so that a
# requeued job starts again within seconds). Client commands find it through SLURM_CONF. Stopped
# on exit, whatever happens.
source "$(dirname "${BASH_SOURCE[0]}")/runs.bash"

SLURM_DIR=$WORK/slurm
SLURM_PIDS=()

slurm_cleanup() {
  local rc=$? pid f
  trap - EXIT
  for pid in "${SLURM_PIDS[@]}"; do disown "$pid" 2>/dev/null || true; done
  stop_background_jobs
  # Jobs first (slurmd's slurmstepd ends their processes), then the daemons.
  if [[ -n ${SLURM_CONF:-} ]]; then
    scancel --quiet --user=root 2>/dev/null || true
    for _ in $(seq 50); do [[ -z $(squeue -h 2>/dev/null) ]] && break; sleep 0.2; done
  fi
  for pid in "${SLURM_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${SLURM_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${SLURM_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  # Whatever of this instance is left (slurmstepd, a job's mpirun or ranks) has its SLURM_CONF.
  if [[ -n ${SLURM_CONF:-} ]]; then
    for f in $(grep -lzx "SLURM_CONF=$SLURM_CONF" /proc/[0-9]*/environ 2>/dev/null); do
      pid=${f#/proc/}; pid=${pid%/environ}
      [[ $pid == "$$" || $pid == "$BASHPID" ]] || kill -KILL "$pid" 2>/dev/null || true
    done
  fi
  wait 2>/dev/null || true
  rm -rf "$WORK"
  exit $rc
}

# free_port: a TCP port nobody listens on now.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

# slurm_up: starts munged, slurmctld and slurmd; sets SLURM_CONF; skips (77) saying why where
# this system cannot run them.
slurm_up() {
  local tool node why
  [[ $(id -u) -eq 0 ]] || skip "a private slurmd must run as root to start jobs (running as uid $(id -u))"
  for tool in slurmctld slurmd sbatch scontrol scancel squeue munged munge; do
    command -v $tool >/dev/null ||
      skip "'$tool' not found: Slurm (slurm-wlm) and munge are not installed (scripts/install-deps.sh installs them)"
  done
  trap slurm_cleanup EXIT
  node=$(hostname -s)
  mkdir -p "$SLURM_DIR"/{munge,state,spool,log}
  chmod 755 "$WORK" "$SLURM_DIR" "$SLURM_DIR/munge"   # munged wants its socket's path searchable
  head -c 1024 /dev/urandom > "$SLURM_DIR/munge/munge.key"
  chmod 400 "$SLURM_DIR/munge/munge.key"
  munged --foreground --socket="$SLURM_DIR/munge/socket" --key-file="$SLURM_DIR/munge/munge.key" \
    --log-file="$SLURM_DIR/log/munged.log" --pid-file="$SLURM_DIR/munge/munged.pid" \
    --seed-file="$SLURM_DIR/munge/seed" > "$SLURM_DIR/log/munged.out" 2>&1 &
  SLURM_PIDS+=($!)
  for _ in $(seq 50); do [[ -S $SLURM_DIR/munge/socket ]] && break; sleep 0.1; done
  [[ -S $SLURM_DIR/munge/socket ]] ||
    skip "munged did not start: $(tail -3 "$SLURM_DIR/log/munged.out" | tr '\n' ' ')"

  cat > "$SLURM_DIR/slurm.conf" <<CONF
# Private test instance (tests/cluster/lib/slurm.bash): one node, 2 CPUs, no cgroups.
ClusterName=chorustest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire also delays a requeued job's new start (default 120 s).
AuthInfo=socket=$SLURM_DIR/munge/socket,cred_expire=5
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
SlurmdLogFile=$SLURM_DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
# The main scheduling loop is what starts a requeued job once its begin time (cred_expire) has
# passed; its default period is 60 s.
SchedulerParameters=sched_interval=2
MpiDefault=none
ReturnToService=2
JobRequeue=1
MinJobAge=60
KillWait=10
SlurmdTimeout=30
InactiveLimit=0
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$SLURM_DIR/slurm.conf
  slurmctld -D -i -f "$SLURM_CONF" > "$SLURM_DIR/log/slurmctld.out" 2>&1 &
  SLURM_PIDS+=($!)
  slurmd -D -f "$SLURM_CONF" > "$SLURM_DIR/log/slurmd.out" 2>&1 &
  SLURM_PIDS+=($!)
  local state=""
  for _ in $(seq 150); do
    state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1)
    [[ $state == idle* ]] && break
    sleep 0.2
  done
  if [[ $state != idle* ]]; then
    why=$(tail -5 "$SLURM_DIR/log/slurmd.out" "$SLURM_DIR/log/slurmctld.out" "$SLURM_DIR/log/slurmd.log" 2>/dev/null)
    skip "the private Slurm did not come up (node state '${state:-none}' after 30 s): $why"
  fi
  echo "slurm: slurmctld + slurmd on $node (2 CPUs), SLURM_CONF=$SLURM_CONF" >&2
}
