#!/usr/bin/env bash
# Reruns one row of the README's results tables (docs/results.md): prepares its data, runs the
# exact command that produced the row (config and overrides as measured) into runs/ROW, and ends
# with the evaluation that gave its figure. The figure measured and the conditions are printed
# first. Usage:
#   scripts/reproduce.sh --list                        # the rows, their figures and conditions
#   scripts/reproduce.sh ROW [--songdata FILE] [--set key=value ...]
# --songdata: the lyrics CSV (default songdata.csv; the rows were measured on the 873-song subset,
# the first 873 songs of Kaggle's songdata.csv). --set: extra overrides appended to the training
# command (e.g. a quick check with --set train.steps=10). Uses `chorus` and `chorus-mpirun` from
# the PATH, else build/chorus and scripts/mpirun.sh. Exit: 0 done, 1 a command failed, 2 bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v chorus > /dev/null; then CHORUS=(chorus); else CHORUS=(build/chorus); fi
if command -v chorus-mpirun > /dev/null; then MPIRUN=(chorus-mpirun); else MPIRUN=(bash scripts/mpirun.sh); fi

# ROW|figure measured (valid split)|conditions|data|training overrides, or baseline:ARGS;...
ROWS=(
  "lyrics-baselines|6.285 / 3.424 / 1.924 bpc (uniform / bigram / order-24 n-gram)|seconds|songdata|baseline:--model uniform;--model bigram;--model ngram --order 24 --discount 0.97"
  "lyrics-256|2.204 bpc|1,200 steps, 7 min 43 s on 2 ranks x 1 thread with other work beside it; trained on the split before near-duplicate grouping, so a rerun (today's split) is not the same run|songdata|configs/lyrics.yaml --set model.hidden_size=256 --set model.dropout=0.1 --set train.steps=1200 --set optim.warmup_steps=50 --set eval.every=200 --set eval.max_symbols=0 --set checkpoint.every=200 --set sample.every=400 --set log.every=10"
  "lyrics-256-4000|1.914 bpc|4,000 steps, 22 min on 2 ranks x 1 thread; trained on the split before near-duplicate grouping|songdata|configs/lyrics.yaml --set model.hidden_size=256 --set model.dropout=0.1 --set train.steps=4000 --set optim.warmup_steps=50 --set eval.every=500 --set eval.max_symbols=0 --set checkpoint.every=500 --set sample.every=400 --set log.every=10"
  "lyrics-384|1.910 bpc (best checkpoint, step 2,000)|2 ranks x 1 thread, builds beside it; the measured run was stopped with SIGUSR1 at step 2,975 (50 min), after the valid loss had risen at step 2,500|songdata|configs/lyrics.yaml --set model.hidden_size=384 --set model.dropout=0.15 --set train.steps=4000 --set optim.warmup_steps=100 --set eval.every=500 --set eval.max_symbols=0 --set checkpoint.every=500 --set sample.every=0"
  "lyrics-artist|2.180 bpc (2.204 without the artist: lyrics-256)|1,200 steps, 5.6 min on 2 ranks x 1 thread; trained on the split before near-duplicate grouping|songdata|configs/lyrics-by-artist.yaml --set model.hidden_size=256 --set model.dropout=0.1 --set train.steps=1200 --set optim.warmup_steps=50 --set eval.every=200 --set eval.max_symbols=0 --set checkpoint.every=200 --set sample.every=400 --set log.every=10"
  "nottingham-baselines|60.997 / 4.580 nats/frame (uniform / per-key order-14 n-gram)|seconds|nottingham|baseline:--model uniform;--model ngram --order 14"
  "nottingham-notes|1.999 nats/frame|the note-by-note LSTM: 2,000 steps, 31 min on 2 ranks x 1 thread|nottingham|configs/nottingham.yaml"
  "nottingham-nade|2.149 nats/frame|3,000 steps, 29 min on 2 ranks x 1 thread, the test suite or another run beside it|nottingham|configs/nottingham-nade.yaml"
  "nottingham-independent|3.453 nats/frame|3,000 steps, 26 min on 2 ranks x 1 thread, the test suite or another run beside it|nottingham|configs/nottingham-independent.yaml"
  "nottingham-independent-0.3|3.493 nats/frame|3,000 steps, 25 min on 2 ranks x 1 thread|nottingham|configs/nottingham-independent.yaml --set model.dropout=0.3"
  "nottingham-independent-torch|3.414 nats/frame (best, step 2,500)|LibTorch's LSTM (before the fused one, issue 5): 3,000 steps, 53 min on 2 ranks x 1 thread, builds beside it for part of the time|nottingham|configs/nottingham-independent.yaml --set model.dropout=0.3 --set model.lstm_impl=torch"
  "musedata-baselines|60.997 / 7.850 nats/frame (uniform / per-key order-10 n-gram)|seconds|musedata|baseline:--model uniform;--model ngram --order 10"
  "musedata-notes|5.109 nats/frame|the note-by-note LSTM, training songs transposed by up to 6 semitones: 2,000 steps, 38 min on 2 ranks x 1 thread|musedata|configs/musedata.yaml"
  "musedata-nade|7.766 nats/frame|training songs transposed by up to 6 semitones: 1,000 steps, 9 min on 2 ranks x 1 thread|musedata|configs/musedata-nade.yaml"
  "musedata-nade-t0|7.851 nats/frame|untransposed: 1,000 steps, 12 min on 2 ranks x 1 thread|musedata|configs/musedata-nade.yaml --set train.transpose=0"
  "musedata-independent|11.343 nats/frame|1,000 steps, 21 min on 2 ranks x 1 thread, the test suite or another run beside it|musedata|configs/musedata-nade.yaml --set model.head=independent --set train.transpose=0"
  "piano-midi-baselines|60.997 / 8.417 nats/frame (uniform / per-key order-10 n-gram)|seconds|piano-midi|baseline:--model uniform;--model ngram --order 10"
  "piano-midi-notes|6.495 nats/frame|the note-by-note LSTM, training songs transposed by up to 6 semitones: 1,000 steps, 15 min on 2 ranks x 1 thread|piano-midi|configs/piano-midi.yaml"
  "piano-midi-nade|7.718 nats/frame|1,500 steps, 26 min on 2 ranks x 1 thread, the test suite or another run beside it|piano-midi|configs/piano-midi-nade.yaml"
  "piano-midi-nade-600|9.679 nats/frame|600 steps, 7 min on 2 ranks x 1 thread|piano-midi|configs/piano-midi-nade.yaml --set train.steps=600 --set eval.every=100 --set checkpoint.every=100"
  "piano-midi-independent-600|11.460 nats/frame|600 steps, 13 min on 2 ranks x 1 thread with the test suite beside it (304 s alone)|piano-midi|configs/piano-midi-nade.yaml --set model.head=independent --set train.steps=600 --set eval.every=100 --set checkpoint.every=100"
)

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
field() { cut -d'|' -f"$2" <<< "$1"; }

[[ $# -ge 1 ]] || usage
if [[ $1 == --list ]]; then
  for row in "${ROWS[@]}"; do printf '%-28s %s\n    %s\n' "$(field "$row" 1)" "$(field "$row" 2)" "$(field "$row" 3)"; done
  exit 0
fi
name=$1
shift
songdata=songdata.csv
extra=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --songdata) songdata=$2; shift 2 ;;
    --set) extra+=(--set "$2"); shift 2 ;;
    *) echo "reproduce.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
row=""
for r in "${ROWS[@]}"; do [[ $(field "$r" 1) == "$name" ]] && row=$r; done
[[ -n $row ]] || { echo "reproduce.sh: no row '$name' (scripts/reproduce.sh --list)" >&2; exit 2; }

echo "reproduce.sh: $name — measured: $(field "$row" 2)" >&2
echo "reproduce.sh: conditions: $(field "$row" 3)" >&2
run() { echo "+ $*" >&2; "$@"; }

data=$(field "$row" 4)
if [[ $data == songdata ]]; then
  [[ -f $songdata ]] || { echo "reproduce.sh: $songdata: no such file (--songdata FILE; Kaggle's songdata.csv needs a login)" >&2; exit 2; }
  corpus=data/songdata.h5
  [[ -f $corpus ]] || run "${CHORUS[@]}" prepare lyrics --input "$songdata" --output "$corpus" > /dev/null
else
  corpus=data/$data.h5
  [[ -f $corpus ]] || run bash scripts/get-data.sh "$data"
fi

command=$(field "$row" 5)
if [[ $command == baseline:* ]]; then
  IFS=';' read -r -a models <<< "${command#baseline:}"
  for m in "${models[@]}"; do
    read -r -a args <<< "$m"
    run "${CHORUS[@]}" baseline --data "$corpus" "${args[@]}"
  done
  exit 0
fi
read -r -a train <<< "$command"
run "${MPIRUN[@]}" -np 2 "${CHORUS[@]}" train "${train[@]}" --set data.path="$corpus" \
  --set run.dir="runs/$name" "${extra[@]}" --resume
run "${CHORUS[@]}" eval --checkpoint "runs/$name" --data "$corpus" --split valid
