#!/usr/bin/env bash
# Training-step throughput (chars/s) of the lyrics model (2 x 512 LSTM, batch 32, seq_len 128,
# dropout 0) on the songdata subset: Chorus 1 rank x 2 threads and 2 ranks x 1 thread with its
# default LSTM (model.lstm_impl auto: the fused CPU layer) and with lstm_impl=torch, and the same
# step in Python (bench/reference_step.py on Debian's python3-torch, 2 threads). The machine's
# SGEMM rate (2048^3, all cores) is measured in the same run, and each configuration's achieved
# GFLOP/s is shown as a share of it. Runs are interleaved (A B C A B C ...) so that drift in
# machine load hits every configuration; the table reports the median of each and the ratio
# Chorus / Python. See bench/README.md.
set -euo pipefail

usage() {
  cat <<EOF
usage: bench/throughput.sh [--reps N] [--steps S] [--out FILE] [--chorus PATH] [--compare PATH]
                           [--csv PATH] [--python PATH] [--with-nowatch] [--keep-runs]
  --reps N       interleaved repetitions of each configuration (default 3)
  --steps S      steps per run (default 30); the first $WARMUP are warm-up and not timed (S > $WARMUP)
  --out FILE     raw results, one JSON object per run
                 (default checkpoints/bench/throughput-<UTC time>.jsonl, git-ignored)
  --chorus PATH  chorus binary (default build/chorus)
  --compare PATH another chorus binary (an earlier build): its 1 x 2 and 2 x 1 runs are
                 interleaved with the others and shown as "same, --compare binary" rows
  --csv PATH     songdata CSV (default ../shared/data/lyrics-songdata/songdata_subset.csv)
  --python PATH  interpreter with python3-torch (default /usr/bin/python3)
  --with-nowatch also the 2 x 1 run with dist.timeout_s=0 (what the stall watchdog costs)
  --keep-runs    keep the temporary run directories and logs (their path is printed)
EOF
}

WARMUP=10  # = log.every for Chorus (its first metrics record is dropped); untimed steps in Python
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMMAND_LINE=$(printf '%q ' "$0" "$@")
COMMAND_LINE=${COMMAND_LINE% }
REPS=3
STEPS=30
OUT=""
CHORUS="$REPO/build/chorus"
COMPARE=""
CSV="$REPO/../shared/data/lyrics-songdata/songdata_subset.csv"
PYTHON=/usr/bin/python3
KEEP=0
NOWATCH=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) REPS="$2"; shift 2 ;;
    --steps) STEPS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --chorus) CHORUS="$2"; shift 2 ;;
    --compare) COMPARE="$2"; shift 2 ;;
    --csv) CSV="$2"; shift 2 ;;
    --python) PYTHON="$2"; shift 2 ;;
    --keep-runs) KEEP=1; shift ;;
    --with-nowatch) NOWATCH=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "throughput.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

die() { echo "throughput.sh: $*" >&2; exit 2; }
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || die "--reps must be a positive integer, got '$REPS'"
[[ "$STEPS" =~ ^[0-9]+$ && "$STEPS" -gt "$WARMUP" ]] || die "--steps must exceed $WARMUP, got '$STEPS'"
[[ -x "$CHORUS" ]] || die "no chorus binary at $CHORUS (build it: cd build && ninja chorus)"
[[ -z "$COMPARE" || -x "$COMPARE" ]] || die "no chorus binary at $COMPARE (--compare)"
[[ -f "$CSV" ]] || die "corpus not found: $CSV (pass --csv PATH)"
command -v mpirun >/dev/null || die "mpirun not found (Open MPI)"
"$PYTHON" -c 'import torch' 2>/dev/null || die "$PYTHON cannot import torch (apt-get install python3-torch)"
[[ -n "$OUT" ]] || OUT="$REPO/checkpoints/bench/throughput-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
mkdir -p "$(dirname "$OUT")"
: > "$OUT"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chorus-throughput.XXXXXX")
if [[ $KEEP -eq 1 ]]; then
  echo "throughput.sh: runs kept in $TMP" >&2
else
  trap 'rm -rf "$TMP"' EXIT
fi

ROOT_FLAG=()
[[ $(id -u) -eq 0 ]] && ROOT_FLAG=(--allow-run-as-root)  # docs/design.md "mpirun as root"

echo "throughput.sh: preparing the corpus" >&2
"$CHORUS" prepare lyrics --input "$CSV" --output "$TMP/lyrics.h5" >"$TMP/prepare.log" 2>&1 ||
  { cat "$TMP/prepare.log" >&2; exit 1; }

# The model and step under test; everything that is not the training step is switched off
# (validation, periodic checkpoints, samples). The one checkpoint at the end comes after the last
# metrics record, so it is not timed.
SETS=(--set "data.path=$TMP/lyrics.h5" --set data.valid_split= --set model.dropout=0
      --set model.embedding_size=64 --set model.hidden_size=512 --set model.layers=2
      --set model.condition=none --set train.batch_size=32 --set train.seq_len=128
      --set train.accumulate=1 --set "train.steps=$STEPS" --set optim.lr=2e-3
      --set optim.schedule=constant --set optim.clip=5 --set "log.every=$WARMUP"
      --set eval.every=0 --set checkpoint.every=0 --set sample.every=0)

# Reads a run's metrics.jsonl (and manifest.json) and prints one JSON line. A record's
# tokens_per_s covers the steps since the previous record; the first record (warm-up) is dropped
# and the rest are combined as total steps / total seconds, weighting each record by its steps
# (symbols per step are nearly constant: B x T less the padding at song ends).
summarise_chorus() {  # config ranks threads rep run_dir seconds_wall
  "$PYTHON" - "$@" <<'EOF'
import json, sys
config, ranks, threads, rep, run_dir, wall = sys.argv[1:7]
records = []
with open(run_dir + "/metrics.jsonl") as f:
    for line in f:
        r = json.loads(line)
        if r.get("split") == "train":
            records.append(r)
records.sort(key=lambda r: r["step"])
kept, prev = [], records[0]["step"]
for r in records[1:]:
    kept.append({"steps": r["step"] - prev, "tokens_per_s": r["tokens_per_s"]})
    prev = r["step"]
steps = sum(k["steps"] for k in kept)
seconds_per_symbol = sum(k["steps"] / k["tokens_per_s"] for k in kept) / steps
manifest = {}
try:
    manifest = json.load(open(run_dir + "/manifest.json"))
except (OSError, ValueError):
    pass
print(json.dumps({
    "config": config, "impl": "chorus", "rep": int(rep), "ranks": int(ranks),
    "threads_per_rank": int(threads), "timed_steps": steps,
    "chars_per_s": 1.0 / seconds_per_symbol, "intervals": kept,
    "final_loss": records[-1]["loss"], "wall_s": float(wall),
    "blas": manifest.get("blas", ""), "git_revision": manifest.get("git_revision", ""),
    "manifest_threads_per_rank": manifest.get("threads_per_rank")}))
EOF
}

run_chorus() {  # config ranks threads rep [more --set ...]; BINARY=path overrides $CHORUS
  local config=$1 ranks=$2 threads=$3 rep=$4
  shift 4
  local dir="$TMP/$config-r$rep" log="$TMP/$config-r$rep.log" start end
  local cmd=("${BINARY:-$CHORUS}" train "$REPO/configs/lyrics.yaml" --set "run.dir=$dir"
             --set "train.threads=$threads" "${SETS[@]}" "$@")
  if [[ $ranks -gt 1 ]]; then
    cmd=(mpirun "${ROOT_FLAG[@]}" --oversubscribe --bind-to none -np "$ranks" -x OMP_NUM_THREADS
         "${cmd[@]}")
  fi
  start=$(date +%s%N)
  if ! OMP_NUM_THREADS=$threads "${cmd[@]}" >"$log" 2>&1; then
    echo "throughput.sh: $config rep $rep failed; the end of its log ($log):" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  end=$(date +%s%N)
  summarise_chorus "$config" "$ranks" "$threads" "$rep" "$dir" "$(( (end - start) / 1000000 ))e-3"
}

run_python() {  # config rep
  local config=$1 rep=$2 log="$TMP/$1-r$2.log" line
  if ! line=$(OMP_NUM_THREADS=2 "$PYTHON" "$REPO/bench/reference_step.py" --csv "$CSV" \
                --steps "$STEPS" --warmup "$WARMUP" --threads 2 2>"$log"); then
    echo "throughput.sh: $config rep $rep failed; the end of its log ($log):" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  "$PYTHON" -c 'import json, sys; r = json.loads(sys.argv[1]); r.update(config=sys.argv[2], rep=int(sys.argv[3])); print(json.dumps(r))' \
    "$line" "$config" "$rep"
}

CONFIGS=(chorus-1x2 chorus-2x1 torch-1x2 torch-2x1 python-1x2)
[[ $NOWATCH -eq 1 ]] && CONFIGS+=(chorus-2x1-nowatch)
[[ -n "$COMPARE" ]] && CONFIGS+=(compare-1x2 compare-2x1)

# The machine's SGEMM rate: a 2048^3 product on all cores, through the same OpenBLAS (measured
# before and after the runs; the table uses the larger).
sgemm() {
  OMP_NUM_THREADS=$(nproc) "$PYTHON" - "$(nproc)" <<'EOF'
import sys, time, torch
torch.set_num_threads(int(sys.argv[1]))
a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
for _ in range(3):
    torch.mm(a, b)
best = 0.0
for _ in range(5):
    start = time.perf_counter()
    for _ in range(4):
        torch.mm(a, b)
    best = max(best, 4 * 2 * 2048.0 ** 3 / (time.perf_counter() - start) / 1e9)
print('{"config": "sgemm", "impl": "sgemm", "gflops": %.2f}' % best)
EOF
}
echo "throughput.sh: SGEMM 2048^3 on $(nproc) cores" >&2
sgemm >>"$OUT"
for rep in $(seq 1 "$REPS"); do
  for config in "${CONFIGS[@]}"; do
    echo "throughput.sh: rep $rep/$REPS: $config ($STEPS steps)" >&2
    case $config in
      chorus-1x2) run_chorus "$config" 1 2 "$rep" >>"$OUT" ;;
      chorus-2x1) run_chorus "$config" 2 1 "$rep" >>"$OUT" ;;
      torch-1x2) run_chorus "$config" 1 2 "$rep" --set model.lstm_impl=torch >>"$OUT" ;;
      torch-2x1) run_chorus "$config" 2 1 "$rep" --set model.lstm_impl=torch >>"$OUT" ;;
      # The same without the stall watchdog: blocking MPI_Allreduce instead of a polled
      # MPI_Iallreduce with heartbeats (what dist.timeout_s costs).
      chorus-2x1-nowatch) run_chorus "$config" 2 1 "$rep" --set dist.timeout_s=0 >>"$OUT" ;;
      python-1x2) run_python "$config" "$rep" >>"$OUT" ;;
      compare-1x2) BINARY=$COMPARE run_chorus "$config" 1 2 "$rep" >>"$OUT" ;;
      compare-2x1) BINARY=$COMPARE run_chorus "$config" 2 1 "$rep" >>"$OUT" ;;
    esac
    tail -n 1 "$OUT" | "$PYTHON" -c 'import json, sys; r = json.loads(sys.stdin.read()); print("throughput.sh:   %.0f chars/s" % r["chars_per_s"], file=sys.stderr)'
  done
done
sgemm >>"$OUT"

# The table: medians, ratios, the command and the machine.
"$PYTHON" - "$OUT" "$COMMAND_LINE" "$(nproc)" \
  "$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || echo '?')" \
  "$(uname -srm)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" <<'EOF'
import json, statistics, sys
out, command, nproc, blas, kernel, cpu = sys.argv[1:7]
runs = [json.loads(l) for l in open(out) if l.strip()]
configs = [("chorus-1x2", "Chorus, 1 rank x 2 threads"), ("chorus-2x1", "Chorus, 2 ranks x 1 thread"),
           ("torch-1x2", "  same 1 x 2, lstm_impl=torch"), ("torch-2x1", "  same 2 x 1, lstm_impl=torch"),
           ("chorus-2x1-nowatch", "  same 2 x 1, dist.timeout_s=0"),
           ("python-1x2", "Python reference, 2 threads"),
           ("compare-1x2", "  same 1 x 2, --compare binary"),
           ("compare-2x1", "  same 2 x 1, --compare binary")]
configs = [(n, l) for n, l in configs if any(r["config"] == n for r in runs)]
sgemm = max([r["gflops"] for r in runs if r["config"] == "sgemm"] or [float("nan")])
runs = [r for r in runs if r["config"] != "sgemm"]
# Work per counted character of the 2 x 512 model (embedding 64, vocabulary V = 78): forward
# 2 (E 4H + H 4H) + 2 (H 4H + H 4H) + 2 H V, backward twice that (padding is not counted).
E, H, V = 64, 512, 78
flops_per_char = 3 * (2 * (E * 4 * H + H * 4 * H) + 2 * (2 * H * 4 * H) + 2 * H * V)
median = {}
for name, _ in configs:
    values = [r["chars_per_s"] for r in runs if r["config"] == name]
    median[name] = statistics.median(values) if values else float("nan")
print("Chorus training-step throughput: 2 x 512 LSTM, batch 32, seq_len 128, dropout 0, songdata subset")
print("command:  " + command)
print("machine:  nproc %s | BLAS %s | %s | %s" % (nproc, blas, cpu, kernel))
python = [r for r in runs if r["impl"] == "python"]
if python:
    print("python:   torch %s, BLAS loaded %s" % (python[0]["torch"], python[0].get("blas") or "?"))
reps = max(r["rep"] for r in runs)
steps = max(r["timed_steps"] for r in runs)
print("runs:     %d interleaved reps per configuration, %d timed steps each (warm-up excluded)"
      % (reps, steps))
print("SGEMM:    %.1f GFLOP/s (2048^3, %s threads, the better of before and after the runs);"
      " the step: %.1f MFLOP per character" % (sgemm, nproc, flops_per_char / 1e6))
print()
print("%-31s %8s %8s %6s %24s %10s" % ("configuration", "chars/s", "GFLOP/s", "SGEMM", "all runs",
                                       "vs Python"))
for name, label in configs:
    values = ", ".join("%.0f" % r["chars_per_s"] for r in runs if r["config"] == name)
    ratio = median[name] / median["python-1x2"] if name != "python-1x2" else 1.0
    gflops = median[name] * flops_per_char / 1e9
    print("%-31s %8.0f %8.1f %5.0f%% %24s %9.2fx" % (label, median[name], gflops,
                                                    100 * gflops / sgemm, values, ratio))
print()
revisions = {r["config"]: r.get("git_revision", "") for r in runs if r["impl"] == "chorus"}
if "compare-1x2" in revisions:
    print("binaries: chorus %s, --compare %s" % (revisions.get("chorus-1x2", "?"),
                                                 revisions.get("compare-1x2", "?")))
print("raw results: " + out)
EOF
