# `cmake --install` into a temporary prefix gives a working Chorus outside the source tree: the
# installed chorus, chorus-mpirun, configs and PyTorch loader are there; `chorus --help` runs;
# a tiny training run from the prefix (2 ranks through chorus-mpirun, the installed smoke config)
# finishes and samples, in a directory that is not the source tree; the binary names no build
# directory in its run path; the installed loader samples what chorus trained (when torch exists).
# Usage (ctest): bash install.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
SRC=$1
BUILD=$2
WORK=$(mktemp -d "${TMPDIR:-/tmp}/chorus-install.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS=1
fail() { echo "FAIL: $*" >&2; exit 1; }
P=$WORK/prefix

echo "--- cmake --install $BUILD --prefix $P" >&2
cmake --install "$BUILD" --prefix "$P" > "$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; fail "install"; }
for f in bin/chorus bin/chorus-mpirun share/chorus/configs/lyrics.yaml share/chorus/configs/smoke.yaml \
         share/chorus/python/chorus_torch.py share/chorus/python/chorus_torch/__init__.py; do
  [[ -e $P/$f ]] || fail "$f not installed"
done
[[ -x $P/bin/chorus-mpirun ]] || fail "chorus-mpirun not executable"
if readelf -d "$P/bin/chorus" | grep -E "R(UN)?PATH" | grep -qF "$BUILD"; then
  fail "the installed chorus has the build directory in its run path"
fi

export PATH="$P/bin:$PATH"
cd "$WORK"  # not the source tree: nothing may come from it
echo "--- chorus --help" >&2
chorus --help > help.txt 2>&1 || { cat help.txt >&2; fail "chorus --help"; }
grep -q "train" help.txt || fail "--help lists no train subcommand"

echo "--- a tiny training run from the prefix" >&2
{
  printf 'artist,song,link,text\r\n'
  for ((i = 0; i < 30; i++)); do
    printf 'Artist %d,Song %d,/x/%d.html,"Why do the birds sing, %d times  \nla la la  \n"\r\n' $((i % 3)) $i $i $i
  done
} > songs.csv
chorus prepare lyrics --input songs.csv --output songs.h5 --valid-fraction 0.2 > /dev/null 2>&1 \
  || fail "prepare"
chorus-mpirun -np 2 chorus train "$P/share/chorus/configs/smoke.yaml" --set data.path=songs.h5 \
  --set run.dir=run --set train.steps=6 --set eval.every=3 --set checkpoint.every=3 2> train.log \
  || { tail train.log >&2; fail "train through chorus-mpirun"; }
grep -q "finished 6 steps" train.log || { tail train.log >&2; fail "did not finish 6 steps"; }
chorus sample --checkpoint run --prime "Why" --length 20 > sample.txt 2>/dev/null || fail "sample"
grep -q "^Why" sample.txt || fail "sample does not start with its prime"

PYTHON_OPTIONAL=1 source "$SRC/tests/python/find_python.bash"
[[ -n $PYTHON ]] || { echo "PASS (the installed loader not checked: no python3 with torch)" >&2; exit 0; }
echo "--- the installed PyTorch loader" >&2
"$PYTHON" "$P/share/chorus/python/chorus_torch.py" sample --checkpoint run --prime "Why" --length 20 \
  --method argmax > torch.txt || fail "installed loader"
chorus sample --checkpoint run --prime "Why" --length 20 --method argmax > chorus.txt 2>/dev/null
cmp -s torch.txt chorus.txt || fail "the installed loader's greedy sample differs from chorus's"
echo "PASS" >&2
