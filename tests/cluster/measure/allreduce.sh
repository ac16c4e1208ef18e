#!/usr/bin/env bash
# Measures (issue 16) the all-reduce of the 2 x 512 lyrics model's gradient buffer between two
# hosts over TCP (two network-namespace hosts of tests/cluster/lib/hosts.bash, veth + bridge) and
# between two ranks of one host over shared memory, and the share of a training step it takes.
# Not a ctest test: it prints a markdown table and the commands that made each figure.
#
#   bash tests/cluster/measure/allreduce.sh build/chorus . [REPS=20] [STEPS=12]
#
# The all-reduce: tests/cluster/measure/allreduce_bench.cpp (mpicxx, no LibTorch), MPI_Allreduce
# (Chorus with dist.timeout_s=0) and MPI_Iallreduce polled with MPI_Test (Chorus's default, the
# stall watchdog), median of REPS after 3 warm-up rounds. The step: `chorus train
# configs/lyrics.yaml` (2 x 512, batch 32 x 128 symbols, 2 ranks x 1 thread), median over
# steps 3..STEPS of 4096 / tokens_per_s (tokens_per_s counts unpadded symbols; the corpus's songs
# are ~4,000 characters, so padding adds under 2% to the step time figure).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
REPS=${3:-20} STEPS=${4:-12}
set -- "$1" "$2" ""
source "$here/../lib/hosts.bash"
cluster_up 2
hostfile "$WORK/two" 1
cluster_mpirun "$WORK/two"

mpicxx -O2 -o "$WORK/allreduce_bench" "$here/allreduce_bench.cpp"

# A corpus of long songs (about 4,000 characters each), so that windows are rarely padded.
{
  printf 'artist,song,link,text\r\n'
  for ((s = 0; s < 40; s++)); do
    printf 'Artist %d,Song %d,/x/%d.html,"' $((s % 4)) "$s" "$s"
    for ((l = 0; l < 100; l++)); do
      printf 'line %d of song %d, where the river %s  \n' "$l" "$s" \
        "$( ((l % 3)) && echo "runs into the sea" || echo "bends under the hill")"
    done
    printf '"\r\n'
  done
} > "$WORK/long.csv"
"$CHORUS" prepare lyrics --input "$WORK/long.csv" --output "$WORK/long.h5" --valid-fraction 0 \
  --test-fraction 0 >/dev/null 2>&1 || "$CHORUS" prepare lyrics --input "$WORK/long.csv" \
  --output "$WORK/long.h5" >/dev/null 2>&1

# The gradient buffer: every parameter of the 2 x 512 model (configs/lyrics.yaml: embedding 64).
step_run() {  # step_run NAME MPIRUN...: trains STEPS steps; sets V (vocabulary) from its table
  local name=$1; shift
  "$@" -np 2 "$CHORUS" train "$SRC/configs/lyrics.yaml" --set data.path="$WORK/long.h5" \
    --set run.dir="$WORK/$name" --set train.steps="$STEPS" --set train.threads=1 \
    --set eval.every=0 --set sample.every=0 --set log.every=1 --set checkpoint.every=100000 \
    > "$WORK/$name.out" 2> "$WORK/$name.log" || { tail -20 "$WORK/$name.log" >&2; fail "$name failed"; }
}
step_ms() {  # step_ms NAME: median milliseconds per step over steps 3..STEPS
  jq -r 'select(.split == "train" and .step >= 3) | 4096 / .tokens_per_s * 1000' \
    "$WORK/$1/metrics.jsonl" | sort -g | awk '{v[NR] = $1} END {printf "%.0f", v[int((NR + 1) / 2)]}'
}

step "training steps of the 2 x 512 model, 2 ranks x 1 thread ($STEPS steps each)"
step_run tcp "${MPIRUN_CLUSTER[@]}"
step_run shm "${MPIRUN[@]}"
V=$(grep -oP '\(vocabulary\)\s+\K[0-9]+' "$WORK/shm.log")
E=64 H=512
floats=$(( V * E + 4 * H * (E + H) + 8 * H + 4 * H * (2 * H) + 8 * H + H * V + V ))
echo "gradient buffer: $floats floats ($(awk -v f="$floats" 'BEGIN {printf "%.1f", f * 4 / 1e6}') MB), vocabulary $V" >&2

step "all-reduce of $floats floats, $REPS repetitions"
"${MPIRUN_CLUSTER[@]}" -np 2 "$WORK/allreduce_bench" "$floats" "$REPS" > "$WORK/tcp.json"
"${MPIRUN[@]}" -np 2 "$WORK/allreduce_bench" "$floats" "$REPS" > "$WORK/shm.json"

"${MPIRUN_CLUSTER[@]}" -np 2 "$WORK/allreduce_bench" 1 200 > "$WORK/tcp-small.json"
"${MPIRUN[@]}" -np 2 "$WORK/allreduce_bench" 1 200 > "$WORK/shm-small.json"

tcp_step=$(step_ms tcp) shm_step=$(step_ms shm)
row() {  # row LABEL JSON STEP_MS
  jq -r --arg where "$1" --argjson step "$3" \
    '"| \($where) | \(.mode) | \(.median_ms) (\(.min_ms)-\(.max_ms)) | \(.busbw_gbytes_s) | \($step) | \(.median_ms / $step * 100 * 10 | round / 10)% |"' "$2"
}
echo
echo "| between | all-reduce call | ms per all-reduce, median (min-max) | bus GB/s | ms per step | share of the step |"
echo "|---|---|---:|---:|---:|---:|"
row "2 hosts, TCP (veth + bridge)" "$WORK/tcp.json" "$tcp_step"
row "1 host, shared memory (vader)" "$WORK/shm.json" "$shm_step"
echo
echo "Gradient buffer $floats floats = $(awk -v f="$floats" 'BEGIN {printf "%.1f", f * 4 / 1e6}') MB (2 x 512, vocabulary $V)."
small() { jq -r '"\(.mode) \(.median_us) us"' "$1" | paste -sd ';' | sed 's/;/, /'; }
echo "One float (latency), median of 200: TCP $(small "$WORK/tcp-small.json"); shared memory $(small "$WORK/shm-small.json")."
echo "Commands (mpirun options as in tests/cluster/lib/hosts.bash and scripts/mpirun.sh):"
echo "  TCP: ${MPIRUN_CLUSTER[*]:8} -np 2 allreduce_bench $floats $REPS"
echo "  shm: ${MPIRUN[*]} -np 2 allreduce_bench $floats $REPS"
echo "  steps: <same mpirun> -np 2 chorus train configs/lyrics.yaml --set train.threads=1 --set train.steps=$STEPS --set log.every=1 (median of 4096 / tokens_per_s, steps 3..$STEPS)"
