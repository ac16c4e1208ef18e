# Shared by the end-to-end scripts: arguments, a scratch directory, mpirun flags and checks.
# Each script is called by ctest as: bash SCRIPT CHORUS_BINARY SOURCE_DIR SHARED_DATA_DIR
set -euo pipefail
CHORUS=$1
SRC=$2
DATA=${3:-}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/chorus-e2e.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
MPIRUN=(mpirun --bind-to none --oversubscribe)
[[ $(id -u) -eq 0 ]] && MPIRUN+=(--allow-run-as-root)
export OMP_NUM_THREADS=1

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
step() { echo "--- $*" >&2; }

# expect_exit CODE PATTERN -- command...: runs it, checks the exit code and that stderr matches.
expect_exit() {
  local code=$1 pattern=$2; shift 3
  local rc=0
  "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [[ $rc -eq $code ]] || { cat "$WORK/err" >&2; fail "'$*' exited $rc, expected $code"; }
  grep -qE -- "$pattern" "$WORK/err" || { cat "$WORK/err" >&2; fail "'$*': stderr lacks /$pattern/"; }
}

# A small fast config on top of configs/smoke.yaml.
smoke() {
  "$CHORUS" train "$SRC/configs/smoke.yaml" "$@"
}

# make_csv FILE SONGS: a songdata-style CSV (quoted multi-line lyrics, "  \n" line ends, \r\n
# between records) with SONGS songs by three artists.
make_csv() {
  local file=$1 n=$2 i
  {
    printf 'artist,song,link,text\r\n'
    for ((i = 0; i < n; i++)); do
      printf 'Artist %d,Song %d,/x/%d.html,"Why do the birds sing, %d times  \nla la ""la""  \nand the sky is blue  \n\n"\r\n' \
        $((i % 3)) "$i" "$i" "$i"
    done
  } > "$file"
}

# pause_in_checkpoint_write PID RUN_DIR [TRIES]: stops rank 1 (process PID) at random moments,
# giving its peers 0.2 s to run on each time, until a staging directory of RUN_DIR lacks rank 1's
# file: rank 1 is stopped inside a checkpoint write (a checkpoint at every step makes most tries
# land). Leaves it stopped, with caught (the staging directory) and tries set; after TRIES misses
# (default 50) it continues the process and returns 1.
pause_in_checkpoint_write() {
  local pid=$1 dir=$2 limit=${3:-50} staging
  caught="" tries=0
  while ((tries++ < limit)); do
    sleep "0.0$((RANDOM % 10))"
    kill -STOP "$pid"
    sleep 0.2
    staging=$(compgen -G "$dir/checkpoints/*.tmp" | head -1) || true
    if [[ -n $staging && ! -e $staging/streams-rank00001.pt ]]; then caught=$staging; return 0; fi
    kill -CONT "$pid"
  done
  return 1
}
