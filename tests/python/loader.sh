# The PyTorch loader (python/chorus_torch) against chorus itself: small checkpoints of every
# recurrence x head, the note-by-note model, and an artist-conditioned one, are evaluated by `chorus eval` and by
# `chorus_torch.py eval` (the same songs and counts, losses within 1e-5 relative); the same prime
# and seed give the same sample — greedy text (--method argmax), seeded text, and piano-roll frames
# (MIDI bytes, PNG pixels). Skips (77) when no python3 with torch is found.
# Usage (ctest): bash loader.sh CHORUS_BINARY SOURCE_DIR
set -euo pipefail
CHORUS=$1
SRC=$2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/chorus-python.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS=1
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*" >&2; }

source "$SRC/tests/python/find_python.bash"  # PYTHON: a python3 that imports torch, or skip
LOADER=("$PYTHON" "$SRC/python/chorus_torch.py")
COMPARE=("$PYTHON" "$SRC/tests/python/compare.py")

step "the loader's own unit tests"
(cd "$SRC/python" && "$PYTHON" -m unittest discover -s "$SRC/tests/python" -p "*_test.py" 2>&1 | tail -3) \
  || fail "unit tests"

step "tiny corpora: lyrics with 3 artists, piano rolls"
"$PYTHON" "$SRC/tests/python/fixtures.py" "$WORK"
"$CHORUS" prepare lyrics --input "$WORK/songs.csv" --output "$WORK/songs.h5" --valid-fraction 0.2 \
  >/dev/null 2>&1
"$CHORUS" prepare pianoroll --text-dir "$WORK/rolls" --output "$WORK/rolls.h5" >/dev/null 2>&1

train() {  # train NAME DATA [--set ...]: a small model, 12 steps, one process
  local name=$1 data=$2
  shift 2
  "$CHORUS" train "$SRC/configs/smoke.yaml" --set data.path="$data" --set run.dir="$WORK/$name" \
    --set train.steps=12 --set eval.every=6 --set checkpoint.every=6 --set sample.every=0 \
    --set model.layers=2 --set model.hidden_size=24 --set model.dropout=0.1 "$@" \
    2> "$WORK/$name.log" || { tail "$WORK/$name.log" >&2; fail "train $name"; }
}

# The loader reads corpora with h5py when it is installed, else with h5dump: both are checked
# where both exist (CHORUS_TORCH_HDF5 picks one).
READERS=(h5dump)
if "$PYTHON" -c "import h5py" > /dev/null 2>&1; then
  READERS+=(h5py)
else
  echo "note: h5py not installed (python3-h5py): the loader's h5py reader is not checked" >&2
fi

# eval_both RUN DATA [options]: chorus's and the loader's JSON lines must agree.
eval_both() {
  local run=$1 data=$2 reader
  shift 2
  "$CHORUS" eval --checkpoint "$WORK/$run" --data "$data" "$@" > "$WORK/c.json" 2>/dev/null \
    || fail "chorus eval $run $*"
  for reader in "${READERS[@]}"; do
    CHORUS_TORCH_HDF5=$reader "${LOADER[@]}" eval --checkpoint "$WORK/$run" --data "$data" "$@" \
      > "$WORK/p.json" 2> "$WORK/p.err" || { cat "$WORK/p.err" >&2; fail "chorus_torch.py eval $run $*"; }
    "${COMPARE[@]}" eval "$WORK/c.json" "$WORK/p.json" || fail "eval of $run ($*, $reader) differs"
  done
}

for recurrence in lstm gru; do
  step "lyrics, $recurrence, softmax head"
  train "lyrics-$recurrence" "$WORK/songs.h5" --set model.recurrence=$recurrence
  eval_both "lyrics-$recurrence" "$WORK/songs.h5" --split valid
  eval_both "lyrics-$recurrence" "$WORK/songs.h5" --split train --max-symbols 900 --batch-size 3
  for method in argmax multinomial gumbel; do
    "$CHORUS" sample --checkpoint "$WORK/lyrics-$recurrence" --prime "Why do" --method $method \
      --length 120 --seed 7 > "$WORK/c.txt" 2>/dev/null
    "${LOADER[@]}" sample --checkpoint "$WORK/lyrics-$recurrence" --prime "Why do" --method $method \
      --length 120 --seed 7 > "$WORK/p.txt" 2>/dev/null
    cmp -s "$WORK/c.txt" "$WORK/p.txt" \
      || { diff "$WORK/c.txt" "$WORK/p.txt" >&2 || true; fail "$recurrence $method sample differs"; }
  done
  for head in independent nade; do
    step "piano rolls, $recurrence, $head head"
    nade=()
    [[ $head == nade ]] && nade=(--set model.nade_hidden=20)
    train "roll-$recurrence-$head" "$WORK/rolls.h5" --set model.kind=pianoroll \
      --set model.recurrence=$recurrence --set model.head=$head "${nade[@]}"
    eval_both "roll-$recurrence-$head" "$WORK/rolls.h5" --split valid
    eval_both "roll-$recurrence-$head" "$WORK/rolls.h5" --split train --max-symbols 300
    for source in c p; do  # the same relative file names, so the JSON lines compare
      cmd=("$CHORUS")
      [[ $source == p ]] && cmd=("${LOADER[@]}")
      mkdir -p "$WORK/$source"
      (cd "$WORK/$source" && "${cmd[@]}" sample --checkpoint "$WORK/roll-$recurrence-$head" \
        --out tune.mid --image tune.png --length 48 --seed 3 --prime-data "$WORK/rolls.h5" \
        --prime-song 1 --prime-frames 6 > sample.json 2> sample.err) \
        || { cat "$WORK/$source/sample.err" >&2; fail "$source sample of roll-$recurrence-$head"; }
      # Primed with chorus's own MIDI file: the loader reads it as chorus does.
      (cd "$WORK/$source" && "${cmd[@]}" sample --checkpoint "$WORK/roll-$recurrence-$head" \
        --out primed.mid --prime-midi "$WORK/c/tune.mid" --length 8 --temperature 0.5 \
        > primed.json 2> primed.err) || { cat "$WORK/$source/primed.err" >&2; fail "--prime-midi"; }
    done
    for f in sample.json tune.mid primed.json primed.mid; do
      cmp -s "$WORK/c/$f" "$WORK/p/$f" || fail "roll-$recurrence-$head: $f differs"
    done
    "${COMPARE[@]}" png "$WORK/c/tune.png" "$WORK/p/tune.png" || fail "roll-$recurrence-$head: pictures differ"
  done
  step "piano rolls note by note, $recurrence (model.kind notes)"
  train "notes-$recurrence" "$WORK/rolls.h5" --set model.kind=notes --set model.recurrence=$recurrence \
    --set train.transpose=2
  eval_both "notes-$recurrence" "$WORK/rolls.h5" --split valid
  eval_both "notes-$recurrence" "$WORK/rolls.h5" --split train --max-symbols 300 --batch-size 2
  for source in c p; do
    cmd=("$CHORUS")
    [[ $source == p ]] && cmd=("${LOADER[@]}")
    (cd "$WORK/$source" && "${cmd[@]}" sample --checkpoint "$WORK/notes-$recurrence" \
      --out notes.mid --image notes.png --length 24 --seed 5 --prime-data "$WORK/rolls.h5" \
      --prime-song 0 --prime-frames 4 > notes.json 2> notes.err) \
      || { cat "$WORK/$source/notes.err" >&2; fail "$source sample of notes-$recurrence"; }
  done
  for f in notes.json notes.mid; do
    cmp -s "$WORK/c/$f" "$WORK/p/$f" || fail "notes-$recurrence: $f differs"
  done
  "${COMPARE[@]}" png "$WORK/c/notes.png" "$WORK/p/notes.png" || fail "notes-$recurrence: pictures differ"
done

step "artist-conditioned lyrics"
train lyrics-artist "$WORK/songs.h5" --set model.condition=artist --set model.artist_embedding_size=6
eval_both lyrics-artist "$WORK/songs.h5" --split valid --by-artist
eval_both lyrics-artist "$WORK/songs.h5" --split train --prime-symbols 20 --batch-size 5
for artist in "Artist 1" "Artist 2"; do
  "$CHORUS" sample --checkpoint "$WORK/lyrics-artist" --artist "$artist" --method argmax \
    --length 150 > "$WORK/c.txt" 2>/dev/null
  "${LOADER[@]}" sample --checkpoint "$WORK/lyrics-artist" --artist "$artist" --method argmax \
    --length 150 > "$WORK/p.txt" 2>/dev/null
  cmp -s "$WORK/c.txt" "$WORK/p.txt" || fail "artist '$artist': greedy samples differ"
done

step "the library: load, nll and sample from Python"
"$PYTHON" "$SRC/tests/python/library_check.py" "$SRC/python" "$WORK" || fail "library use"

step "bad input: exit 2 naming the file"
cp -r "$WORK/lyrics-lstm" "$WORK/broken"
ckpt=$(ls -d "$WORK"/broken/checkpoints/step-* | sort | tail -1)
printf 'x' >> "$ckpt/model.pt"
rm -f "$WORK/broken/checkpoints/best.json"
for d in "$WORK"/broken/checkpoints/step-*; do [[ $d == "$ckpt" ]] || rm -rf "$d"; done
rc=0
"${LOADER[@]}" sample --checkpoint "$ckpt" > /dev/null 2> "$WORK/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q "model.pt has size" "$WORK/err" || { cat "$WORK/err" >&2; fail "corrupt model.pt (exit $rc)"; }
rc=0
"${LOADER[@]}" eval --checkpoint "$WORK/lyrics-lstm" --data "$WORK/rolls.h5" > /dev/null 2> "$WORK/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q "rolls.h5: a chorus-pianoroll corpus" "$WORK/err" \
  || { cat "$WORK/err" >&2; fail "lyrics model on piano rolls (exit $rc)"; }
rc=0
"${LOADER[@]}" sample --checkpoint "$WORK/roll-lstm-nade" > /dev/null 2> "$WORK/err" || rc=$?
[[ $rc -eq 2 ]] && grep -q "pass --out" "$WORK/err" || { cat "$WORK/err" >&2; fail "no --out (exit $rc)"; }
echo "PASS" >&2
