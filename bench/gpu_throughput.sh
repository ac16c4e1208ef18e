#!/usr/bin/env bash
# Training-step throughput on one GPU: the lyrics model (2 x 512 LSTM, embedding 64, seq_len 128,
# dropout 0) at batch 64, 128 and 256, in fp32 and bf16 (autocast), in Chorus
# (build-gpu/chorus train --set train.device=cuda) and in the same step in this machine's PyTorch
# (bench/reference_step.py --device cuda); and the Nottingham piano-roll model (configs/
# nottingham-independent.yaml: 2 x 512, seq_len 100, dropout 0.3) in Chorus, in frames/s.
# Runs are interleaved (every configuration once, then again) so that drift hits all of them;
# the table reports medians and the ratio Chorus / Python. Run it on the GPU machine after
# cluster/gpu/prepare.sh; see cluster/gpu/README.md and bench/README.md.
set -euo pipefail

WARMUP=10  # = log.every for Chorus (its first metrics record is dropped); untimed steps in Python
usage() {
  cat <<EOF
usage: bench/gpu_throughput.sh [--reps N] [--steps S] [--batches "64 128 256"]
                               [--precisions "fp32 bf16"] [--nottingham-batches "64 256"]
                               [--out FILE] [--chorus PATH] [--env FILE] [--csv PATH]
                               [--nottingham PATH] [--python PATH] [--threads N]
                               [--run-timeout SECONDS] [--no-python] [--keep-runs]
  --reps N               interleaved repetitions of each configuration (default 2)
  --steps S              steps per run (default 30); the first $WARMUP are warm-up, not timed
  --batches B            lyrics batch sizes (default "64 128 256")
  --precisions P         train.precision values (default "fp32 bf16")
  --nottingham-batches B piano-roll batch sizes (default "64 256"; "" skips the piano rolls)
  --out FILE             raw results, one JSON object per run
                         (default checkpoints/bench/gpu-throughput-<UTC time>.jsonl, git-ignored)
  --chorus PATH          chorus binary (default build-gpu/chorus)
  --env FILE             sourced first if it exists (default build-gpu/env.sh, by prepare.sh)
  --csv PATH             songdata CSV (default .gpu-debs/data/songdata_subset.csv, else
                         ../shared/data/lyrics-songdata/songdata_subset.csv)
  --nottingham PATH      a prepared piano-roll corpus (.h5), or a folder of Nottingham text
                         (train.txt, valid.txt) prepared here with chorus prepare pianoroll
                         (default .gpu-debs/data/nottingham, else data/nottingham.h5, else
                         ../shared/data/nottingham/boulanger; none found: piano rolls skipped)
  --python PATH          interpreter with a CUDA PyTorch (default python3)
  --threads N            CPU threads per process, both sides (default 4)
  --run-timeout S        kill a run that takes longer (default 180)
  --no-python            Chorus only
  --keep-runs            keep the temporary run directories and logs (their path is printed)
EOF
}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMMAND_LINE=$(printf '%q ' "$0" "$@")
COMMAND_LINE=${COMMAND_LINE% }
REPS=2
STEPS=30
BATCHES="64 128 256"
PRECISIONS="fp32 bf16"
NOTT_BATCHES="64 256"
OUT=""
CHORUS="$REPO/build-gpu/chorus"
ENV_FILE="$REPO/build-gpu/env.sh"
CSV=""
NOTT=""
PYTHON=python3
THREADS=4
RUN_TIMEOUT=180
WITH_PYTHON=1
KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reps) REPS="$2"; shift 2 ;;
    --steps) STEPS="$2"; shift 2 ;;
    --batches) BATCHES="$2"; shift 2 ;;
    --precisions) PRECISIONS="$2"; shift 2 ;;
    --nottingham-batches) NOTT_BATCHES="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --chorus) CHORUS="$2"; shift 2 ;;
    --env) ENV_FILE="$2"; shift 2 ;;
    --csv) CSV="$2"; shift 2 ;;
    --nottingham) NOTT="$2"; shift 2 ;;
    --python) PYTHON="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --run-timeout) RUN_TIMEOUT="$2"; shift 2 ;;
    --no-python) WITH_PYTHON=0; shift ;;
    --keep-runs) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu_throughput.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

say() { echo "gpu_throughput.sh: $*" >&2; }
die() { say "$1"; exit "${2:-2}"; }
positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer, got '$2'"; }
positive --reps "$REPS"
positive --threads "$THREADS"
positive --run-timeout "$RUN_TIMEOUT"
[[ "$STEPS" =~ ^[0-9]+$ && "$STEPS" -gt "$WARMUP" ]] || die "--steps must exceed $WARMUP, got '$STEPS'"
for b in $BATCHES $NOTT_BATCHES; do positive "a batch size" "$b"; done
for p in $PRECISIONS; do [[ $p == fp32 || $p == bf16 ]] || die "precisions are fp32 and bf16, got '$p'"; done
[[ -n "$BATCHES" && -n "$PRECISIONS" ]] || die "--batches and --precisions must not be empty"

if [[ -f "$ENV_FILE" ]]; then
  # shellcheck disable=SC1090
  . "$ENV_FILE"
fi
first_existing() { local p; for p in "$@"; do if [[ -e "$p" ]]; then echo "$p"; return; fi; done; }
if [[ -z "$CSV" ]]; then
  CSV=$(first_existing "$REPO/.gpu-debs/data/songdata_subset.csv" \
                       "$REPO/../shared/data/lyrics-songdata/songdata_subset.csv")
  [[ -n "$CSV" ]] || die "no songdata CSV: pass --csv PATH (on the GPU machine, carry it: cluster/gpu/fetch-debs.sh --with-data)"
fi
[[ -f "$CSV" ]] || die "corpus not found: $CSV"
NOTT_EXPLICIT=0
if [[ -n "$NOTT" ]]; then NOTT_EXPLICIT=1; fi
if [[ -z "$NOTT" && -n "$NOTT_BATCHES" ]]; then
  NOTT=$(first_existing "$REPO/.gpu-debs/data/nottingham" "$REPO/data/nottingham.h5" \
                        "$REPO/../shared/data/nottingham/boulanger")
fi
if [[ -n "$NOTT" && ! -f "$NOTT" && ! -f "$NOTT/train.txt" ]]; then
  [[ $NOTT_EXPLICIT -eq 0 ]] || die "--nottingham $NOTT is neither a .h5 file nor a folder with train.txt"
  NOTT=""
fi
if [[ -z "$NOTT" && -n "$NOTT_BATCHES" ]]; then
  say "no Nottingham corpus found (pass --nottingham PATH): piano rolls skipped"
  NOTT_BATCHES=""
fi
[[ -x "$CHORUS" ]] || die "no chorus binary at $CHORUS (build it: cluster/gpu/prepare.sh)"
command -v timeout >/dev/null || die "timeout (coreutils) not found"
GPU_JSON=$("$PYTHON" - <<'EOF'
import json, subprocess
try:
    import torch
except Exception as e:  # noqa: BLE001
    print(json.dumps({"error": "cannot import torch: %s" % e})); raise SystemExit
info = {"torch": torch.__version__, "cuda": torch.version.cuda}
if not torch.cuda.is_available():
    info["error"] = "torch %s (CUDA %s) sees no GPU" % (torch.__version__, torch.version.cuda)
else:
    info["gpu"] = torch.cuda.get_device_name()
    info["capability"] = "%d.%d" % torch.cuda.get_device_capability()
try:
    info["nvidia_smi"] = subprocess.run(
        ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
        capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
except Exception:  # noqa: BLE001 -- no nvidia-smi: torch's name is enough
    info["nvidia_smi"] = ""
print(json.dumps(info))
EOF
) || die "$PYTHON failed"
gpu_field() { "$PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1]).get(sys.argv[2]) or "")' "$GPU_JSON" "$1"; }
[[ -z "$(gpu_field error)" ]] || die "$(gpu_field error) (pass --python PATH to an interpreter with a CUDA PyTorch)"
if [[ " $PRECISIONS " == *" bf16 "* ]]; then
  cap=$(gpu_field capability)
  [[ ${cap%%.*} -ge 8 ]] || die "bf16 needs compute capability >= 8.0 and this GPU has $cap: pass --precisions fp32"
fi
[[ -n "$OUT" ]] || OUT="$REPO/checkpoints/bench/gpu-throughput-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
mkdir -p "$(dirname "$OUT")"
: > "$OUT"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chorus-gpu-throughput.XXXXXX")
if [[ $KEEP -eq 1 ]]; then
  say "runs kept in $TMP"
else
  trap 'rm -rf "$TMP"' EXIT
fi

say "preparing the corpora"
"$CHORUS" prepare lyrics --input "$CSV" --output "$TMP/lyrics.h5" >"$TMP/prepare.log" 2>&1 ||
  { tail -n 30 "$TMP/prepare.log" >&2; die "chorus prepare lyrics failed" 1; }
NOTT_H5=""
if [[ -n "$NOTT_BATCHES" ]]; then
  if [[ -f "$NOTT" ]]; then
    NOTT_H5=$NOTT
  else
    NOTT_H5="$TMP/nottingham.h5"
    "$CHORUS" prepare pianoroll --text-dir "$NOTT" --output "$NOTT_H5" >"$TMP/prepare-piano.log" 2>&1 ||
      { tail -n 30 "$TMP/prepare-piano.log" >&2; die "chorus prepare pianoroll failed" 1; }
  fi
fi

# Only the training step is measured: no validation, samples or periodic checkpoints (the one
# checkpoint at the end comes after the last metrics record), a constant learning rate.
COMMON=(--set train.device=cuda --set "train.threads=$THREADS" --set train.accumulate=1
        --set "train.steps=$STEPS" --set optim.schedule=constant --set optim.clip=5
        --set "log.every=$WARMUP" --set eval.every=0 --set checkpoint.every=0 --set sample.every=0
        --set data.valid_split=)
LYRICS=(--set "data.path=$TMP/lyrics.h5" --set model.dropout=0 --set model.embedding_size=64
        --set model.hidden_size=512 --set model.layers=2 --set model.condition=none
        --set train.seq_len=128 --set optim.lr=2e-3)

# A run's metrics.jsonl -> one JSON line. A record's tokens_per_s covers the steps since the
# previous record; the first (warm-up) is dropped, the rest combine as total steps / total time.
summarise_chorus() {  # model config precision batch rep run_dir wall_s
  "$PYTHON" - "$@" <<'EOF'
import json, sys
model, config, precision, batch, rep, run_dir, wall = sys.argv[1:8]
records = [r for r in map(json.loads, open(run_dir + "/metrics.jsonl"))
           if r.get("split") == "train"]
records.sort(key=lambda r: r["step"])
if len(records) < 2:
    sys.exit("gpu_throughput.sh: %s: %d train records in %s/metrics.jsonl, 2 or more needed"
             % (config, len(records), run_dir))
kept, prev = [], records[0]["step"]
for r in records[1:]:
    kept.append({"steps": r["step"] - prev, "tokens_per_s": r["tokens_per_s"]})
    prev = r["step"]
steps = sum(k["steps"] for k in kept)
rate = steps / sum(k["steps"] / k["tokens_per_s"] for k in kept)
try:
    manifest = json.load(open(run_dir + "/manifest.json"))
except (OSError, ValueError):
    manifest = {}
print(json.dumps({
    "model": model, "config": config, "impl": "chorus", "precision": precision,
    "batch_size": int(batch), "rep": int(rep), "timed_steps": steps,
    "symbols_per_s": rate, "intervals": kept, "final_loss": records[-1]["loss"],
    "wall_s": float(wall), "git_revision": manifest.get("git_revision", "")}))
EOF
}

run_chorus() {  # model precision batch rep
  local model=$1 precision=$2 batch=$3 rep=$4 config start end
  config="chorus-$model-$precision-b$batch"
  local dir="$TMP/$config-r$rep" log="$TMP/$config-r$rep.log"
  local cmd=("$CHORUS" train)
  if [[ $model == lyrics ]]; then
    cmd+=("$REPO/configs/lyrics.yaml" "${COMMON[@]}" "${LYRICS[@]}")
  else
    cmd+=("$REPO/configs/nottingham-independent.yaml" "${COMMON[@]}" --set "data.path=$NOTT_H5")
  fi
  cmd+=(--set "run.dir=$dir" --set "train.precision=$precision" --set "train.batch_size=$batch")
  echo "${cmd[*]}" > "$log"
  start=$(date +%s%N)
  if ! OMP_NUM_THREADS=$THREADS timeout -k 10 "$RUN_TIMEOUT" "${cmd[@]}" >>"$log" 2>&1; then
    say "$config rep $rep failed or timed out; the end of its log ($log):"
    tail -n 30 "$log" >&2
    exit 1
  fi
  end=$(date +%s%N)
  summarise_chorus "$model" "$config" "$precision" "$batch" "$rep" "$dir" \
    "$(( (end - start) / 1000000 ))e-3"
}

run_python() {  # precision batch rep
  local precision=$1 batch=$2 rep=$3 line
  local config="python-lyrics-$precision-b$batch"
  local log="$TMP/$config-r$rep.log"
  if ! line=$(OMP_NUM_THREADS=$THREADS timeout -k 10 "$RUN_TIMEOUT" "$PYTHON" \
                "$REPO/bench/reference_step.py" --csv "$CSV" --steps "$STEPS" --warmup "$WARMUP" \
                --threads "$THREADS" --batch-size "$batch" --device cuda \
                --precision "$precision" 2>"$log"); then
    say "$config rep $rep failed or timed out; the end of its log ($log):"
    tail -n 30 "$log" >&2
    exit 1
  fi
  "$PYTHON" -c '
import json, sys
r = json.loads(sys.argv[1])
r.update(model="lyrics", config=sys.argv[2], rep=int(sys.argv[3]), symbols_per_s=r["chars_per_s"])
print(json.dumps(r))' "$line" "$config" "$rep"
}

GPU_NAME=$(gpu_field nvidia_smi)
say "GPU: ${GPU_NAME:-$(gpu_field gpu)}; torch $(gpu_field torch), CUDA $(gpu_field cuda)"
started=$SECONDS
for rep in $(seq 1 "$REPS"); do
  for batch in $BATCHES; do
    for precision in $PRECISIONS; do
      say "[$((SECONDS - started)) s] rep $rep/$REPS: lyrics, batch $batch, $precision: Chorus"
      run_chorus lyrics "$precision" "$batch" "$rep" >>"$OUT"
      if [[ $WITH_PYTHON -eq 1 ]]; then
        say "[$((SECONDS - started)) s] rep $rep/$REPS: lyrics, batch $batch, $precision: Python"
        run_python "$precision" "$batch" "$rep" >>"$OUT"
      fi
    done
  done
  for batch in $NOTT_BATCHES; do
    for precision in $PRECISIONS; do
      say "[$((SECONDS - started)) s] rep $rep/$REPS: Nottingham, batch $batch, $precision: Chorus"
      run_chorus nottingham "$precision" "$batch" "$rep" >>"$OUT"
    done
  done
done

# The table: medians, ratios, the command and the machine.
"$PYTHON" - "$OUT" "$COMMAND_LINE" "$GPU_JSON" "$BATCHES" "$PRECISIONS" "$NOTT_BATCHES" \
  "$((SECONDS - started))" <<'EOF'
import json, statistics, sys
out, command, gpu_json, batches, precisions, nott_batches, seconds = sys.argv[1:8]
gpu = json.loads(gpu_json)
runs = [json.loads(l) for l in open(out) if l.strip()]

def pick(model, impl, precision, batch):
    return [r for r in runs if r["model"] == model and r["impl"] == impl
            and r["precision"] == precision and r["batch_size"] == int(batch)]

def median(rs, key="symbols_per_s"):
    return statistics.median(r[key] for r in rs) if rs else float("nan")

print("Chorus vs PyTorch training-step throughput on one GPU: lyrics model 2 x 512 LSTM, "
      "embedding 64, seq_len 128, dropout 0, songdata subset")
print("command:  " + command)
print("gpu:      %s | compute capability %s | torch %s, CUDA %s"
      % (gpu.get("nvidia_smi") or gpu.get("gpu"), gpu.get("capability"), gpu["torch"], gpu["cuda"]))
reps = max(r["rep"] for r in runs)
steps = max(r["timed_steps"] for r in runs)
print("runs:     %d interleaved reps per configuration, %d timed steps each (warm-up excluded), "
      "%s s in all" % (reps, steps, seconds))
git = next((r["git_revision"] for r in runs if r.get("git_revision")), "")
if git:
    print("chorus:   git %s" % git)
print()
print("%-18s %14s %14s %14s %18s" % ("lyrics", "Chorus chars/s", "Python chars/s",
                                     "Chorus/Python", "Python batch time"))
for b in batches.split():
    for p in precisions.split():
        c, py = pick("lyrics", "chorus", p, b), pick("lyrics", "python", p, b)
        mc, mp = median(c), median(py)
        share = median([dict(r, share=r["batch_seconds"] / r["seconds"]) for r in py], "share") \
            if py else float("nan")
        print("%-18s %14.0f %14s %13s %18s" % (
            "batch %d, %s" % (int(b), p), mc, "%.0f" % mp if py else "-",
            "%.2fx" % (mc / mp) if py else "-", "%.0f%%" % (100 * share) if py else "-"))
if nott_batches.split():
    print()
    print("%-18s %15s   (configs/nottingham-independent.yaml: 2 x 512, seq_len 100, dropout 0.3)"
          % ("Nottingham", "Chorus frames/s"))
    for b in nott_batches.split():
        for p in precisions.split():
            print("%-18s %15.0f" % ("batch %d, %s" % (int(b), p),
                                    median(pick("nottingham", "chorus", p, b))))
print()
print("Python batch time: the share of Python's timed seconds spent building batches in Python "
      "lists (Chorus builds them in C++).")
print("raw results: " + out)
EOF
