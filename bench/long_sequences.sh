#!/usr/bin/env bash
# Peak resident memory and time per training step against sequence length T for the study's
# lyrics model (2 x 512 LSTM, embedding 64, dropout 0.3, batch 32, Adam): the plain backward pass
# over the whole sequence ("full"), gradient checkpointing with segments of k = sqrt(T)
# ("recompute"), and TBPTT windows of 256 with the state carried ("tbptt"). Each cell runs in its
# own process (build/chorus_bench_long), because peak memory is a per-process figure. A cell whose
# estimated activations would not fit in this machine's available memory is skipped and its
# estimate printed instead. See bench/README.md.
set -euo pipefail

usage() {
  cat <<EOF
usage: bench/long_sequences.sh [--lengths "256 1024 4096 16384"] [--batch N] [--window W]
                               [--threads N] [--out FILE] [--bin PATH]
  --lengths L   sequence lengths T (default "256 1024 4096 16384")
  --batch N     streams (default 32)
  --window W    TBPTT window (default 256)
  --threads N   intra-op threads (default 0: all cores)
  --out FILE    raw results, one JSON object per cell
                (default checkpoints/bench/long-sequences-<UTC time>.jsonl, git-ignored)
  --bin PATH    chorus_bench_long binary (default build/chorus_bench_long)
Steps per cell: 2 (the first is warm-up and not timed) up to T = 4096, 1 above.
EOF
}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMMAND_LINE=$(printf '%q ' "$0" "$@")
COMMAND_LINE=${COMMAND_LINE% }
LENGTHS="256 1024 4096 16384"
BATCH=32
WINDOW=256
THREADS=0
OUT=""
BIN="$REPO/build/chorus_bench_long"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --lengths) LENGTHS="$2"; shift 2 ;;
    --batch) BATCH="$2"; shift 2 ;;
    --window) WINDOW="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --bin) BIN="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "long_sequences.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
die() { echo "long_sequences.sh: $*" >&2; exit 2; }
[[ -x "$BIN" ]] || die "no benchmark binary at $BIN (build it: scripts/build.sh)"
command -v jq >/dev/null || die "jq not found (apt-get install jq)"
for n in $LENGTHS $BATCH $WINDOW; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "not a positive integer: '$n'"
done
[[ -n "$OUT" ]] || OUT="$REPO/checkpoints/bench/long-sequences-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
mkdir -p "$(dirname "$OUT")"
: > "$OUT"

available=$(awk '/^MemAvailable:/ {print $2 * 1024}' /proc/meminfo)
# Leave room for LibTorch itself, the parameters and Adam (~0.2 GB measured) and a margin.
budget=$(awk -v a="$available" 'BEGIN {printf "%.0f", a * 0.85 - 1.0e9}')
echo "long_sequences.sh: $(nproc) cores, $(awk -v a="$available" 'BEGIN {printf "%.1f", a / 2^30}') GiB available; results in $OUT" >&2

for T in $LENGTHS; do
  steps=2
  [[ $T -le 4096 ]] || steps=1
  for mode in full recompute tbptt; do
    args=(--mode "$mode" --T "$T" --batch "$BATCH" --window "$WINDOW" --threads "$THREADS"
          --steps "$steps")
    estimate=$("$BIN" "${args[@]}" --estimate-only)
    bytes=$(jq -r '.estimate_bytes | floor' <<<"$estimate")
    if (( bytes > budget )); then
      jq -c '. + {skipped: true}' <<<"$estimate" >>"$OUT"
      echo "  $mode T=$T: skipped, estimated activations $(numfmt --to=iec "$bytes")B exceed the budget $(numfmt --to=iec "$budget")B" >&2
      continue
    fi
    "$BIN" "${args[@]}" >>"$OUT"
  done
done

echo
echo "Command: $COMMAND_LINE"
echo "Machine: $(nproc) cores, $(awk '/^MemTotal:/ {printf "%.0f GiB", $2 / 2^20}' /proc/meminfo) memory; model 2 x 512 LSTM, embedding 64, dropout 0.3, batch $BATCH, vocabulary 96, Adam"
echo
jq -rs '
  def gib: . / 1073741824 | . * 100 | round / 100;
  (map(select(.mode == "full" and (.skipped | not))) | map({key: (.T | tostring), value: .})
   | from_entries) as $full
  | "| T | mode | segment / window | s per step | peak RSS (GiB) | above start (GiB) | estimate (GiB) | peak vs full | time vs full |",
    "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    (.[] |
      (if .mode == "recompute" then "k = \(.k)" elif .mode == "tbptt" then "\(.window)" else "whole" end) as $seg
      | $full[.T | tostring] as $f
      | if .skipped then
          "| \(.T) | \(.mode) | \($seg) | skipped | - | - | \(.estimate_bytes | gib) | | |"
        else
          "| \(.T) | \(.mode) | \($seg) | \(.seconds_per_step * 100 | round / 100) | \(.peak_rss_bytes | gib) | \((.peak_rss_bytes - .rss_before_bytes) | gib) | \(.estimate_bytes | gib) | "
          + (if .mode == "full" or $f == null then "" else "\(.peak_rss_bytes / $f.peak_rss_bytes * 100 | round)%" end)
          + " | "
          + (if .mode == "full" or $f == null then "" else "\(.seconds_per_step / $f.seconds_per_step * 100 | round / 100)x" end)
          + " |"
        end)
' "$OUT"

# The targets: at T = 4096 recomputation's peak at most 25% of full's in at most 1.4x its time,
# and recomputation's memory above the start growing no faster than about sqrt(T).
jq -rs '
  def cell(m; t): map(select(.mode == m and .T == t and (.skipped | not))) | first;
  def above: .peak_rss_bytes - .rss_before_bytes;
  cell("full"; 4096) as $f | cell("recompute"; 4096) as $r
  | cell("recompute"; 1024) as $r1 | cell("recompute"; 16384) as $r16
  | "",
    (if $f and $r then
      "Target at T = 4096: recompute peak = \($r.peak_rss_bytes / $f.peak_rss_bytes * 100 | round)% of full (target <= 25%); time = \($r.seconds_per_step / $f.seconds_per_step * 100 | round / 100)x full (target <= 1.4x)"
     else "Target at T = 4096: not measured (no full or recompute cell)" end),
    (if $r1 and $r16 then
      "Recompute memory above the start, T = 1024 -> 16384 (16x the length; sqrt: 4x): \(($r16 | above) / ($r1 | above) * 100 | round / 100)x"
     else empty end)
' "$OUT"
