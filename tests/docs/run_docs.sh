# The documentation runs as written: every command block of README.md, docs/usage.md and
# cluster/README.md (fenced ```sh blocks; ```sh skip: REASON blocks are listed with the reason;
# ```python blocks run with a python3 that has torch) and the commands in the comment header of
# each configs/*.yaml (lines indented by three spaces after the `#`) run in a fresh copy of the
# source tree, as root or not, with `chorus` and `chorus-mpirun` installed into a temporary prefix
# (cmake --install). Training is made tiny by a `chorus` on the PATH that appends --set overrides
# to `chorus train` (nothing else changes). Data: songdata.csv is the shared songdata subset, the
# benchmark sets come from tests/docs/data_fixture.bash (no internet), my-midi/ holds abcmidi's
# example tunes. Also: every option of every `chorus` subcommand's --help appears in usage.md.
# Usage (ctest): bash run_docs.sh CHORUS_BINARY SOURCE_DIR BUILD_DIR SHARED_DATA_DIR [DOC...]
set -euo pipefail
CHORUS=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
BUILD=$(cd "$3" && pwd)
DATA=${4:-}
shift 4 || true
WORK=$(mktemp -d "${TMPDIR:-/tmp}/chorus-docs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS=1
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }

songdata=$DATA/lyrics-songdata/songdata_subset.csv
[[ -f $songdata ]] || skip "no $songdata (the lyrics fixture; set CHORUS_SHARED_DATA)"
source "$SRC/tests/docs/data_fixture.bash"  # benchmark_fixture DIR: data/*.h5 or a mirror; may skip

echo "--- install into a temporary prefix" >&2
cmake --install "$BUILD" --prefix "$WORK/prefix" > "$WORK/install.log" 2>&1 \
  || { cat "$WORK/install.log" >&2; fail "cmake --install"; }
mkdir -p "$WORK/bin"
# chorus train, made tiny: the overrides come last, so they win over the documented ones.
cat > "$WORK/bin/chorus" <<EOF
#!/usr/bin/env bash
if [[ \${1:-} == train ]]; then
  exec "$WORK/prefix/bin/chorus" "\$@" --set train.steps=2 --set model.hidden_size=16 \\
    --set model.embedding_size=8 --set model.artist_embedding_size=4 --set train.batch_size=4 \\
    --set train.seq_len=16 --set train.threads=1 --set optim.warmup_steps=0 --set eval.every=2 \\
    --set eval.max_symbols=300 --set eval.batch_size=4 --set checkpoint.every=2 --set log.every=1
fi
exec "$WORK/prefix/bin/chorus" "\$@"
EOF
chmod +x "$WORK/bin/chorus"
# python3 is one that imports torch, where there is one (the Python blocks are skipped otherwise).
PYTHON_OPTIONAL=1 source "$SRC/tests/python/find_python.bash"
[[ -n $PYTHON ]] && ln -s "$PYTHON" "$WORK/bin/python3"
export PATH="$WORK/bin:$WORK/prefix/bin:$PATH"

echo "--- usage.md names every option of every subcommand" >&2
for sub in "prepare lyrics" "prepare pianoroll" train sample eval baseline check info plot runs; do
  # shellcheck disable=SC2086
  for option in $("$WORK/prefix/bin/chorus" $sub --help 2>&1 | grep -oE '^ +(-[a-z], *)?--[a-z][a-z-]*' |
                  grep -oE -- '--[a-z-]+' | grep -vx -- --help); do
    grep -q -- "$option" "$SRC/docs/usage.md" || fail "docs/usage.md does not mention chorus $sub $option"
  done
done

# A fresh copy of the tree (what git tracks, and new files it does not ignore), with the fixtures.
fresh_clone() {
  local dir=$1
  mkdir -p "$dir"
  if git -C "$SRC" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
    (cd "$SRC" && git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
       [[ -e $f ]] && printf '%s\0' "$f"; done | xargs -0 cp --parents -t "$dir")
  else
    (cd "$SRC" && tar --exclude='./build*' --exclude='./data/*.h5' --exclude='./checkpoints/*' -cf - .) |
      tar -xf - -C "$dir"
  fi
  cp "$songdata" "$dir/songdata.csv"
  mkdir -p "$dir/my-midi" "$dir/data"
  (cd "$dir/my-midi" && cp /usr/share/doc/abcmidi/examples/*.abc . &&
   for f in *.abc; do abc2midi "$f" > /dev/null 2>&1 || true; done && rm -f ./*.abc)
  benchmark_fixture "$dir"
}

# Blocks of a Markdown file: BLOCKS/NNN.{sh,py,skip}, each starting with "# FILE:LINE".
extract_markdown() {
  awk -v out="$2" -v file="$1" '
    /^```/ && !inblock { info = substr($0, 4); inblock = 1; n++; start = NR
      kind = (info == "sh") ? "sh" : (info == "python") ? "py" : (info ~ /^sh skip:/) ? "skip" : ""
      name = sprintf("%s/%03d.%s", out, n, kind)
      if (kind != "") print "# " file ":" start (kind == "skip" ? " " substr(info, 4) : "") > name
      next }
    /^```/ && inblock { inblock = 0; if (kind != "") close(name); next }
    inblock && kind != "" && kind != "skip" { print > name }' "$SRC/$1"
}

# The commands in a config's comment header: lines "#   command", continuations included.
extract_config() {
  awk -v out="$2" -v file="$1" '
    !/^#/ { exit }
    /^#   / { if (!n++) print "# " file ":" NR > (out "/001.sh"); print substr($0, 2) > (out "/001.sh") }' "$SRC/$1"
}

ran=0
skipped=()
run_doc() {  # run_doc DOC: every block of DOC, in order, in one fresh copy of the tree
  local doc=$1 dir blocks block
  dir=$WORK/clones/$(echo "$doc" | tr '/.' '__')
  blocks=$dir.blocks
  mkdir -p "$blocks"
  if [[ $doc == *.yaml ]]; then extract_config "$doc" "$blocks"; else extract_markdown "$doc" "$blocks"; fi
  fresh_clone "$dir"
  for block in "$blocks"/*; do
    [[ -e $block ]] || continue
    local where
    where=$(head -1 "$block" | cut -c3-)
    case $block in
      *.skip) skipped+=("$where"); continue ;;
      *.py)
        if [[ -z $PYTHON ]]; then skipped+=("$where (no python3 with torch)"); continue; fi
        echo "--- $where (python)" >&2
        (cd "$dir" && python3 "$block") > "$blocks/log" 2>&1 || { tail -30 "$blocks/log" >&2; fail "$where"; } ;;
      *.sh)
        if [[ -z $PYTHON ]] && grep -q "python3 " "$block"; then
          skipped+=("$where (no python3 with torch)"); continue
        fi
        echo "--- $where" >&2
        (cd "$dir" && bash -euxo pipefail "$block") > "$blocks/log" 2>&1 \
          || { tail -40 "$blocks/log" >&2; fail "$where: a documented command failed (log above)"; }
        grep '^+' "$blocks/log" | grep -v '^++' | sed 's/^/    /' >&2 || true ;;
    esac
    ran=$((ran + 1))
  done
}

docs=("$@")
if [[ ${#docs[@]} -eq 0 ]]; then
  docs=(README.md docs/usage.md cluster/README.md)
  for c in "$SRC"/configs/*.yaml; do docs+=("configs/$(basename "$c")"); done
fi
for doc in "${docs[@]}"; do run_doc "$doc"; done
if [[ $# -eq 0 ]]; then
  # Every results row, as scripts/reproduce.sh runs it (the README names them by row).
  dir=$WORK/clones/reproduce
  fresh_clone "$dir"
  for row in $(cd "$dir" && bash scripts/reproduce.sh --list | awk '/^[a-z]/ { print $1 }'); do
    echo "--- scripts/reproduce.sh $row" >&2
    (cd "$dir" && bash scripts/reproduce.sh "$row") > "$dir.log" 2>&1 \
      || { tail -30 "$dir.log" >&2; fail "scripts/reproduce.sh $row"; }
    ran=$((ran + 1))
  done
fi
echo "--- ran $ran blocks; not run here:" >&2
for s in "${skipped[@]}"; do echo "    $s" >&2; done
echo "PASS" >&2
