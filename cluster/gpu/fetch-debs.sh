#!/usr/bin/env bash
# Downloads (does not install) the Debian 12 packages that Chorus needs to build and run on a GPU
# machine that has CUDA, PyTorch, CMake and ninja but no Debian registry: Open MPI, HDF5, yaml-cpp,
# GoogleTest, CLI11, nlohmann-json, libcsv, libpng, OpenSSL, zlib, and the runtime libraries they
# pull in that a typical Ubuntu 24.04 CUDA image may lack. The .deb files land in a git-ignored
# folder (default .gpu-debs/ at the repo root) that travels with the working tree; on the GPU
# machine cluster/gpu/prepare.sh unpacks them into a prefix and builds. See cluster/gpu/README.md.
#
# Run it here, on Debian 12, as root (apt-get download needs the package lists: it runs
# `apt-get update` once if a package is unknown). Idempotent: files already present with the
# right checksum are kept, stale versions are removed. Writes MANIFEST.tsv (package, version,
# group, file, bytes); prepare.sh reads its groups:
#   dev       headers, link-time .so links, CMake/pkg-config files
#   core      the MPI and HDF5 stack and the libraries Chorus links: always used from the prefix
#   tools     programs the end-to-end tests call (jq, midicsv)
#   fallback  common libraries (OpenSSL, curl, compression, RDMA...): used only where the GPU
#             machine has no library of the same SONAME, so its own newer copies win
set -euo pipefail

usage() {
  cat <<EOF
usage: cluster/gpu/fetch-debs.sh [--dest DIR] [--max-mib N] [--with-data]
                                 [--csv PATH] [--nottingham-text DIR]
  --dest DIR             where the .deb files go (default .gpu-debs at the repo root)
  --max-mib N            refuse to download more than N MiB of packages (default 40)
  --with-data            also copy the benchmark corpora into DIR/data/: the songdata CSV and
                         the Nottingham piano-roll text files (bench/gpu_throughput.sh finds them)
  --csv PATH             songdata CSV (default ../shared/data/lyrics-songdata/songdata_subset.csv)
  --nottingham-text DIR  Nottingham piano-roll text (train.txt, valid.txt)
                         (default ../shared/data/nottingham/boulanger)
EOF
}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEST="$REPO/.gpu-debs"
MAX_MIB=40
WITH_DATA=0
CSV="$REPO/../shared/data/lyrics-songdata/songdata_subset.csv"
NOTT_TEXT="$REPO/../shared/data/nottingham/boulanger"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dest) DEST="$2"; shift 2 ;;
    --max-mib) MAX_MIB="$2"; shift 2 ;;
    --with-data) WITH_DATA=1; shift ;;
    --csv) CSV="$2"; shift 2 ;;
    --nottingham-text) NOTT_TEXT="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fetch-debs.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

say() { echo "fetch-debs.sh: $*" >&2; }
die() { say "$1"; exit "${2:-1}"; }

[[ "$MAX_MIB" =~ ^[1-9][0-9]*$ ]] || die "--max-mib must be a positive integer, got '$MAX_MIB'" 2
if ! command -v apt-get >/dev/null || ! command -v apt-cache >/dev/null; then
  die "apt-get not found: run this on the Debian 12 machine, not on the GPU machine"
fi
# shellcheck disable=SC1091
. /etc/os-release 2>/dev/null || true
if [[ "${ID:-}" != debian || "${VERSION_ID:-}" != 12 ]]; then
  die "these must be Debian 12 (bookworm) packages, and this is ${PRETTY_NAME:-an unknown system}" 2
fi
[[ $(dpkg --print-architecture) == amd64 ]] || die "the GPU machine is x86-64: run this on an amd64 Debian 12" 2

# What Chorus's CMakeLists.txt finds (find_package MPI, HDF5, yaml-cpp, CLI11, nlohmann_json,
# OpenSSL, PNG, GTest; find_path/find_library csv), in Debian's -dev packages. Their own
# dependencies are not followed (compilers, Fortran, jQuery...); what linking needs is listed:
# FindHDF5 asks h5cc, which names -lcrypto -lcurl -lsz -lz, so their .so links must exist.
DEV=(libopenmpi-dev hdf5-helpers libhdf5-dev libyaml-cpp-dev libgtest-dev
     libcli11-dev nlohmann-json3-dev libcsv-dev libpng-dev libssl-dev zlib1g-dev
     libcurl4-openssl-dev libaec-dev)
# Tools the end-to-end tests (ctest label e2e) call.
TOOLS=(jq midicsv)
# Runtime roots whose library dependencies are followed.
CORE=(libopenmpi3 openmpi-bin openmpi-common libpmix2 libhwloc15 libevent-core-2.1-7 libevent-pthreads-2.1-7
      libhdf5-103-1 libhdf5-hl-100 libyaml-cpp0.7 libcsv3)
FALLBACK_ROOTS=(libpng16-16 libssl3 libcurl4 libsz2 libaec0 libudev1)
# Never fetched: the C runtime and base system every image has (an older copy of libc or
# libstdc++ must never shadow the machine's), login/PAM/ssh machinery that only the postinst
# scripts or an ssh launcher use, and hwloc's optional plugins (X11, OpenCL, libxml2 + ICU, 10 MiB).
EXCLUDED='
  libc6 libc6-dev libgcc-s1 libstdc\+\+6 gcc-[0-9]+-base libcrypt1 debconf cdebconf dpkg adduser
  passwd install-info tar perl-base readline-common libreadline8 libtinfo6 libpam.* libaudit.*
  libselinux1 libsemanage.* libsepol2 libacl1 libcap-ng0 libdebian-installer4 libnewt0\.52
  libslang2 libtextwrap1 openssh-client libfido2-1 libcbor0\.8 libedit2 libbsd0 libmd0
  libhwloc-plugins libx11-.* libxau6 libxcb1 libxdmcp6 libxext6 libxnvctrl0 libxml2 libicu[0-9]+
  ocl-icd-libopencl1 libpciaccess0 liblzma5 libbz2-1\.0 libzstd1 zlib1g libpcre2-8-0 libuuid1
  libsasl2-modules-db libdb5\.3 googletest'
EXCLUDE="^($(tr ' ' '\n' <<<"$EXCLUDED" | grep . | paste -sd '|'))\$"

# apt-cache knows nothing before the first `apt-get update` on a fresh machine.
if ! apt-cache show --no-all-versions libopenmpi3 >/dev/null 2>&1; then
  say "package lists missing: apt-get update"
  apt-get update -q >&2 || die "apt-get update failed"
fi

declare -A GROUP=()
for p in "${DEV[@]}"; do GROUP[$p]=dev; done
for p in "${CORE[@]}"; do GROUP[$p]=core; done
for p in "${TOOLS[@]}"; do GROUP[$p]=tools; done
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
            --no-replaces --no-enhances "${CORE[@]}" "${TOOLS[@]}" "${FALLBACK_ROOTS[@]}" 2>/dev/null |
          grep -v '^ ' | grep -v '^<' | sort -u) || die "apt-cache depends failed"
for p in $closure; do
  [[ $p =~ $EXCLUDE ]] && continue
  [[ -n "${GROUP[$p]:-}" ]] || GROUP[$p]=fallback
done
# PMIx's authentication library belongs with PMIx.
if [[ -n "${GROUP[libmunge2]:-}" ]]; then GROUP[libmunge2]=core; fi

mapfile -t PACKAGES < <(printf '%s\n' "${!GROUP[@]}" | sort)

# The candidate version of each, from one apt-cache call: apt-get download names a file
# PACKAGE_VERSION_ARCH.deb with the epoch's colon written %3a.
declare -A FILE=() SIZE=() SHA=() VERSION=()
while IFS=$'\t' read -r p version arch size sha; do
  VERSION[$p]=$version
  FILE[$p]="${p}_${version//:/%3a}_${arch}.deb"
  SIZE[$p]=$size
  SHA[$p]=$sha
done < <(apt-cache show --no-all-versions "${PACKAGES[@]}" 2>/dev/null |
         awk -v OFS='\t' '/^Package:/{p=$2} /^Version:/{v=$2} /^Architecture:/{a=$2}
                          /^Size:/{s=$2} /^SHA256:/{h=$2}
                          /^$/{if (p != "") print p, v, a, s, h; p=""}
                          END{if (p != "") print p, v, a, s, h}')
planned=0
for p in "${PACKAGES[@]}"; do
  [[ -n "${FILE[$p]:-}" && -n "${SIZE[$p]:-}" && -n "${SHA[$p]:-}" ]] ||
    die "apt-cache show gives no version, size or SHA256 for '$p' (run apt-get update?)"
  planned=$((planned + SIZE[$p]))
done
max_bytes=$((MAX_MIB * 1024 * 1024))
if ((planned > max_bytes)); then
  die "the ${#PACKAGES[@]} packages come to $((planned / 1048576)) MiB, over --max-mib $MAX_MIB (the carried working tree may hold 64 MiB in all)"
fi

mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
# Stale versions and packages no longer wanted.
declare -A WANTED=()
for p in "${PACKAGES[@]}"; do WANTED[${FILE[$p]}]=1; done
shopt -s nullglob
for f in "$DEST"/*.deb; do
  if [[ -z "${WANTED[$(basename "$f")]:-}" ]]; then
    say "removing stale $(basename "$f")"
    rm -f -- "$f"
  fi
done

fetched=0 kept=0
missing=()
for p in "${PACKAGES[@]}"; do
  f="$DEST/${FILE[$p]}"
  if [[ -f "$f" ]] && sha256sum "$f" | grep -q "^${SHA[$p]} "; then
    kept=$((kept + 1))
  else
    rm -f -- "$f"
    missing+=("$p=${VERSION[$p]}")
  fi
done
if ((${#missing[@]})); then
  # As root apt downloads through its sandbox user _apt, which cannot write everywhere.
  (cd "$DEST" && apt-get download -q -o APT::Sandbox::User=root "${missing[@]}" >&2) ||
    die "apt-get download failed"
  for pv in "${missing[@]}"; do
    p=${pv%%=*}
    f="$DEST/${FILE[$p]}"
    [[ -f "$f" ]] || die "apt-get download $pv left no $f"
    sha256sum "$f" | grep -q "^${SHA[$p]} " || die "checksum mismatch for $f"
    say "fetched ${FILE[$p]}"
    fetched=$((fetched + 1))
  done
fi

manifest="$DEST/MANIFEST.tsv"
{
  printf '# written by cluster/gpu/fetch-debs.sh on %s (%s); read by cluster/gpu/prepare.sh\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${PRETTY_NAME:-Debian 12}"
  printf 'package\tversion\tgroup\tfile\tbytes\n'
  for p in "${PACKAGES[@]}"; do
    printf '%s\t%s\t%s\t%s\t%s\n' "$p" "${VERSION[$p]}" "${GROUP[$p]}" "${FILE[$p]}" "${SIZE[$p]}"
  done
} > "$manifest"

if [[ $WITH_DATA -eq 1 ]]; then
  [[ -f "$CSV" ]] || die "corpus not found: $CSV (pass --csv PATH)" 2
  [[ -f "$NOTT_TEXT/train.txt" ]] || die "no train.txt in $NOTT_TEXT (pass --nottingham-text DIR)" 2
  mkdir -p "$DEST/data/nottingham"
  copy() {  # src dst: only when different, so that a rerun copies nothing
    if ! cmp -s "$1" "$2"; then cp -f -- "$1" "$2" && chmod u+w "$2" && say "copied $1"; fi
  }
  copy "$CSV" "$DEST/data/songdata_subset.csv"
  for t in "$NOTT_TEXT"/*.txt; do copy "$t" "$DEST/data/nottingham/$(basename "$t")"; done
fi

# What is there, by group, and the total that travels.
echo "Debian 12 packages for the GPU machine in $DEST ($fetched fetched, $kept already there):"
for g in dev core tools fallback; do
  printf '  %-9s' "$g:"
  for p in "${PACKAGES[@]}"; do
    if [[ ${GROUP[$p]} == "$g" ]]; then printf ' %s' "$p"; fi
  done
  printf '\n'
done
debs_bytes=0
for p in "${PACKAGES[@]}"; do debs_bytes=$((debs_bytes + SIZE[$p])); done
total_bytes=$(du -sb "$DEST" | cut -f1)
printf 'packages: %d files, %.1f MiB; folder in all (with MANIFEST.tsv%s): %.1f MiB\n' \
  "${#PACKAGES[@]}" "$(awk -v b="$debs_bytes" 'BEGIN{print b/1048576}')" \
  "$([[ -d $DEST/data ]] && echo ', data/')" "$(awk -v b="$total_bytes" 'BEGIN{print b/1048576}')"
rel=${DEST#"$REPO"/}
echo "next: carry '$rel' to the GPU machine and run there: cluster/gpu/prepare.sh --debs $rel"
