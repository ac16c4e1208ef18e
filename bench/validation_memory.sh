#!/usr/bin/env bash
# Peak resident memory of one training step with long windows, validation on and off, with and
# without gradient checkpointing: `chorus train configs/lyrics.yaml` at T = seq_len = 4096
# (2 x 256, batch 16, dropout 0, one step), the run's validation at its end included. Each cell is
# one process, measured by GNU time (%M). Target: with validation on, recompute_every: auto peaks
# at most at 35% of recompute_every: 0. --compare runs an earlier build's binary in the same
# table (the figures before the evaluator's windows were capped). See bench/README.md.
set -euo pipefail

usage() {
  cat <<EOF
usage: bench/validation_memory.sh [--T N] [--batch N] [--hidden N] [--chorus PATH]
                                  [--compare PATH] [--csv PATH]
  --T N          train.seq_len (default 4096)
  --batch N      train.batch_size (default 16)
  --hidden N     model.hidden_size (default 256)
  --chorus PATH  chorus binary (default build/chorus)
  --compare PATH another chorus binary, measured the same way
  --csv PATH     songdata CSV (default ../shared/data/lyrics-songdata/songdata_subset.csv)
EOF
}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMMAND_LINE=$(printf '%q ' "$0" "$@")
T=4096 BATCH=16 HIDDEN=256 CHORUS="$REPO/build/chorus" COMPARE=""
CSV="$REPO/../shared/data/lyrics-songdata/songdata_subset.csv"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --T) T="$2"; shift 2 ;;
    --batch) BATCH="$2"; shift 2 ;;
    --hidden) HIDDEN="$2"; shift 2 ;;
    --chorus) CHORUS="$2"; shift 2 ;;
    --compare) COMPARE="$2"; shift 2 ;;
    --csv) CSV="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "validation_memory.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
die() { echo "validation_memory.sh: $*" >&2; exit 2; }
for n in "$T" "$BATCH" "$HIDDEN"; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "not a positive integer: '$n'"; done
[[ -x "$CHORUS" ]] || die "no chorus binary at $CHORUS"
[[ -z "$COMPARE" || -x "$COMPARE" ]] || die "no chorus binary at $COMPARE (--compare)"
[[ -f "$CSV" ]] || die "corpus not found: $CSV (pass --csv PATH)"
[[ -x /usr/bin/time ]] || die "GNU time not found (apt-get install time)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/chorus-valmem.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
"$CHORUS" prepare lyrics --input "$CSV" --output "$TMP/lyrics.h5" >/dev/null 2>&1 ||
  die "chorus prepare lyrics failed"

cell() {  # binary label recompute validation -> "label recompute validation peak_kib seconds"
  local bin=$1 label=$2 recompute=$3 valid=$4 dir="$TMP/run-$RANDOM$RANDOM"
  local sets=(--set "data.path=$TMP/lyrics.h5" --set "run.dir=$dir" --set "model.hidden_size=$HIDDEN"
              --set "train.seq_len=$T" --set "train.batch_size=$BATCH" --set train.steps=1
              --set model.dropout=0 --set "train.recompute_every=$recompute" --set train.threads=2
              --set sample.every=0 --set checkpoint.every=0)
  [[ $valid == off ]] && sets+=(--set data.valid_split=)
  local start end
  start=$(date +%s%N)
  /usr/bin/time -f %M -o "$dir.rss" "$bin" train "$REPO/configs/lyrics.yaml" "${sets[@]}" \
    >"$dir.log" 2>&1 || { tail -20 "$dir.log" >&2; die "$label recompute=$recompute failed"; }
  end=$(date +%s%N)
  echo "$label $recompute $valid $(cat "$dir.rss") $(( (end - start) / 1000000 ))"
}

RESULTS=()
for bin_label in "chorus:$CHORUS" ${COMPARE:+"compare:$COMPARE"}; do
  label=${bin_label%%:*} bin=${bin_label#*:}
  for valid in on off; do
    for recompute in 0 auto; do
      echo "validation_memory.sh: $label, recompute_every $recompute, validation $valid" >&2
      RESULTS+=("$(cell "$bin" "$label" "$recompute" "$valid")")
    done
  done
done

echo "Peak RSS of one training step (and the run's closing validation), lyrics model"
echo "command:  ${COMMAND_LINE% }"
echo "model:    2 x $HIDDEN LSTM, train.seq_len $T, batch $BATCH, dropout 0, 2 threads, songdata subset"
echo
echo "| binary | recompute_every | validation | peak RSS (GB) | wall (s) |"
echo "|---|---|---|---:|---:|"
for r in "${RESULTS[@]}"; do
  read -r label recompute valid kib ms <<< "$r"
  printf '| %s | %s | %s | %.2f | %.1f |\n' "$label" "$recompute" "$valid" \
    "$(awk -v k="$kib" 'BEGIN {print k * 1024 / 1e9}')" "$(awk -v m="$ms" 'BEGIN {print m / 1000}')"
done
echo
for label in chorus ${COMPARE:+compare}; do
  plain=$(printf '%s\n' "${RESULTS[@]}" | awk -v l="$label" '$1 == l && $2 == "0" && $3 == "on" {print $4}')
  auto=$(printf '%s\n' "${RESULTS[@]}" | awk -v l="$label" '$1 == l && $2 == "auto" && $3 == "on" {print $4}')
  awk -v l="$label" -v a="$auto" -v p="$plain" \
    'BEGIN {printf "%s, validation on: recompute auto peaks at %.0f%% of recompute 0 (target <= 35%%)\n", l, 100 * a / p}'
done
