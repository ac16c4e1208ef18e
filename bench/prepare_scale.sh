#!/usr/bin/env bash
# How `chorus prepare` scales: generated MIDI collections in nested folders (2,000 / 10,000 /
# 20,000 files, a few corrupt, some duplicated: bench/scale_inputs.py) and generated
# songdata-shaped CSVs (5,000 / 20,000 / 57,650 songs), each prepared once under
# /usr/bin/time -v: wall time, throughput, peak RSS and CPU use (the largest collection also on
# one reader thread). Peak RSS includes what loading LibTorch costs any chorus command (`chorus
# info` on a small file: about 170 MB here). Prints a Markdown table
# (bench/README.md keeps the last one) with the command that made it.
#
#   bash bench/prepare_scale.sh [CHORUS] [WORKDIR]
#
# CHORUS: the binary (default build/chorus). WORKDIR: where the inputs are generated (default a
# new folder under /tmp, removed at the end; an existing WORKDIR is reused and kept, so the inputs
# are generated once). MIDI_SIZES / CSV_SIZES override the sizes, e.g. MIDI_SIZES="500".
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
chorus=${1:-$src/build/chorus}
[[ -x $chorus ]] || { echo "prepare_scale: no chorus binary at $chorus (build it, or pass its path)" >&2; exit 2; }
if [[ -n ${2:-} ]]; then
  work=$2
  mkdir -p "$work"
else
  work=$(mktemp -d /tmp/chorus-scale.XXXXXX)
  trap 'rm -rf "$work"' EXIT
fi
midi_sizes=(${MIDI_SIZES:-2000 10000 20000})
csv_sizes=(${CSV_SIZES:-5000 20000 57650})

# run LABEL INPUT_DESC UNITS UNIT_NAME MEGABYTES -- command...: one row of the table.
rows=()
run() {
  local label=$1 units=$2 unit=$3 mb=$4; shift 5
  local log=$work/time.log
  /usr/bin/time -v "$@" > "$work/summary.json" 2> "$log" || { tail -20 "$log" >&2; echo "prepare_scale: $label failed" >&2; exit 1; }
  local wall rss cpu seconds
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
  cpu=$(sed -n 's/.*Percent of CPU this job got: //p' "$log")
  seconds=$(awk -v w="$wall" 'BEGIN { n = split(w, p, ":"); s = 0; for (i = 1; i <= n; ++i) s = s * 60 + p[i]; print s }')
  rows+=("$(awk -v l="$label" -v s="$seconds" -v u="$units" -v un="$unit" -v mb="$mb" -v r="$rss" -v c="$cpu" \
    'BEGIN { printf "| %s | %.1f | %.0f %s/s, %.1f MB/s | %.0f | %s |", l, s, u / s, un, mb / s, r / 1024, c }')")
  echo "prepare_scale: ${rows[-1]}" >&2
}

# What the machine gives right now: two CPU-bound processes side by side (200% on two idle cores;
# less when other work shares them, and then no row can show both cores busy).
probe=$(/usr/bin/time -f %P bash -c 'timeout 3 sha256sum /dev/zero & timeout 3 sha256sum /dev/zero & wait' 2>&1 | tail -1)
echo "prepare_scale: two CPU-bound probes got $probe of the CPU together" >&2

for n in "${midi_sizes[@]}"; do
  dir=$work/midi-$n
  if [[ ! -d $dir ]]; then
    echo "prepare_scale: generating $n MIDI files in $dir" >&2
    python3 "$src/bench/scale_inputs.py" midi "$dir" "$n"
  fi
  mb=$(du -sb "$dir" | awk '{ print $1 / 1e6 }')
  run "MIDI, $n files ($(printf %.0f "$mb") MB)" "$n" files "$mb" -- \
    "$chorus" prepare pianoroll --midi "$dir" --output "$work/midi-$n.h5"
  echo "prepare_scale:   $(grep -o '"listed":[0-9]*' "$work/summary.json"), skipped $(grep -o '"reason":"[a-z ]*"' "$work/summary.json" | sort | uniq -c | tr -s ' ' | tr '\n' ';'), duplicates $(grep -o '"same_as"' "$work/summary.json" | wc -l)" >&2
done
if ((${#midi_sizes[@]})); then  # the largest collection again on one reader thread: the scaling
  n=${midi_sizes[-1]}
  run "MIDI, $n files, --threads 1" "$n" files "$mb" -- \
    "$chorus" prepare pianoroll --midi "$work/midi-$n" --output "$work/midi-$n-1.h5" --threads 1
fi
for n in "${csv_sizes[@]}"; do
  csv=$work/songdata-$n.csv
  [[ -f $csv ]] || { echo "prepare_scale: generating $csv" >&2; python3 "$src/bench/scale_inputs.py" csv "$csv" "$n"; }
  mb=$(stat -c %s "$csv" | awk '{ print $1 / 1e6 }')
  run "lyrics CSV, $n songs ($(printf %.0f "$mb") MB)" "$n" songs "$mb" -- \
    "$chorus" prepare lyrics --input "$csv" --output "$work/lyrics-$n.h5"
  echo "prepare_scale:   $(grep -o '"symbol_bytes":[0-9]*' "$work/summary.json"), $(grep -o '"near_duplicates":{[^}]*}' "$work/summary.json")" >&2
done

echo "bash bench/prepare_scale.sh  # $(nproc) cores (two CPU-bound probes got $probe together), $(date -u +%Y-%m-%d), chorus $(git -C "$src" rev-parse --short HEAD 2> /dev/null || echo unknown)"
echo
echo "| input | wall s | throughput | peak RSS MiB | CPU |"
echo "|---|---:|---|---:|---:|"
printf '%s\n' "${rows[@]}"
