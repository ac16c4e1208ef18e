#!/usr/bin/env bash
# The prime study: how well an unconditional and an artist-conditioned character model predict a
# song's continuation after being primed with its first N symbols. For each N, both models are
# evaluated on the same songs of the same split with `chorus eval --prime-symbols N`: the first N
# predictions of each song are read but not counted, so every figure is bits per character of the
# continuation alone (songs shorter than N contribute nothing). See bench/README.md.
set -euo pipefail

usage() {
  cat <<EOF
usage: bench/prime_study.sh --uncond RUN_OR_CHECKPOINT --cond RUN_OR_CHECKPOINT --data FILE.h5
                            [--split valid] [--primes "0 16 64 256"] [--chorus PATH]
EOF
}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMMAND_LINE=$(printf '%q ' "$0" "$@")
COMMAND_LINE=${COMMAND_LINE% }
UNCOND=""
COND=""
DATA=""
SPLIT=valid
PRIMES="0 16 64 256"
CHORUS="$REPO/build/chorus"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --uncond) UNCOND="$2"; shift 2 ;;
    --cond) COND="$2"; shift 2 ;;
    --data) DATA="$2"; shift 2 ;;
    --split) SPLIT="$2"; shift 2 ;;
    --primes) PRIMES="$2"; shift 2 ;;
    --chorus) CHORUS="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "prime_study.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
die() { echo "prime_study.sh: $*" >&2; exit 2; }
[[ -n "$UNCOND" && -n "$COND" && -n "$DATA" ]] || { usage >&2; exit 2; }
[[ -x "$CHORUS" ]] || die "no chorus binary at $CHORUS (build it: scripts/build.sh)"
command -v jq >/dev/null || die "jq not found (apt-get install jq)"
for n in $PRIMES; do [[ "$n" =~ ^[0-9]+$ ]] || die "not a prime length: '$n'"; done

echo "Command: $COMMAND_LINE"
echo
echo "| prime (symbols) | unconditional (bpc) | artist-conditioned (bpc) | continuation symbols |"
echo "|---:|---:|---:|---:|"
for n in $PRIMES; do
  u=$("$CHORUS" eval --checkpoint "$UNCOND" --data "$DATA" --split "$SPLIT" --prime-symbols "$n" 2>/dev/null)
  c=$("$CHORUS" eval --checkpoint "$COND" --data "$DATA" --split "$SPLIT" --prime-symbols "$n" 2>/dev/null)
  printf '| %s | %.4f | %.4f | %d |\n' "$n" "$(jq -r .bpc <<<"$u")" "$(jq -r .bpc <<<"$c")" \
    "$(jq -r '.symbols | floor' <<<"$u")"
done
