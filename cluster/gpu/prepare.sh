#!/usr/bin/env bash
# Builds Chorus for the GPU on a machine with CUDA, a CUDA PyTorch (pip wheel), CMake and ninja but
# no Debian registry: unpacks the Debian 12 packages that cluster/gpu/fetch-debs.sh downloaded
# into a prefix (never /), repairs what `dpkg -x` leaves unfinished there, checks that those
# binaries can run here (glibc, libstdc++) and link with this PyTorch (C++ ABI, CUDA), then
# configures build-gpu/ against the wheel's LibTorch and NCCL and builds it. Writes
# build-gpu/env.sh, which later shells source before running chorus, mpirun or ctest.
# Run it from anywhere in the repo; see cluster/gpu/README.md.
set -euo pipefail

usage() {
  cat <<EOF
usage: cluster/gpu/prepare.sh [--debs DIR] [--prefix DIR] [--build DIR] [--check-only]
                              [--python PATH] [--nccl-root DIR] [--jobs N] [--target T]...
                              [-- CMAKE_ARGS...]
  --debs DIR       the .deb files from fetch-debs.sh (default .gpu-debs at the repo root)
  --prefix DIR     where they are unpacked (default /opt/chorus-deps); recreated on every run,
                   so it must be absent, empty, or made by an earlier run of this script
  --build DIR      CMake build folder (default build-gpu at the repo root)
  --check-only     unpack, repair and check, write env.sh, but do not configure or build;
                   a python without torch then skips the PyTorch checks instead of failing
  --python PATH    the interpreter whose torch is built against (default python3)
  --nccl-root DIR  NCCL (include/nccl.h, lib/libnccl.so*) (default: the torch wheel's
                   nvidia/nccl, else the CUDA toolkit's)
  --jobs N         parallel build jobs (default: nproc)
  --target T       build only target T (repeatable; default: all, tests included)
  -- CMAKE_ARGS    passed to cmake's configure step (e.g. -DCMAKE_BUILD_TYPE=Release)
EOF
}

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEBS="$REPO/.gpu-debs"
PREFIX=/opt/chorus-deps
BUILD="$REPO/build-gpu"
CHECK_ONLY=0
PYTHON=python3
NCCL_ROOT_ARG=""
JOBS=$(nproc 2>/dev/null || echo 4)
TARGETS=()
CMAKE_EXTRA=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --debs) DEBS="$2"; shift 2 ;;
    --prefix) PREFIX="$2"; shift 2 ;;
    --build) BUILD="$2"; shift 2 ;;
    --check-only) CHECK_ONLY=1; shift ;;
    --python) PYTHON="$2"; shift 2 ;;
    --nccl-root) NCCL_ROOT_ARG="$2"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --target) TARGETS+=("$2"); shift 2 ;;
    --) shift; CMAKE_EXTRA=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) echo "prepare.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

say() { echo "prepare.sh: $*" >&2; }
die() { say "error: $1"; exit "${2:-1}"; }
T0=$SECONDS
step() { say "[$((SECONDS - T0)) s] $*"; }

# --- arguments ----------------------------------------------------------------------------------
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive integer, got '$JOBS'" 2
[[ $(uname -m) == x86_64 ]] || die "the carried packages are Debian amd64; this machine is $(uname -m)" 2
command -v "$PYTHON" >/dev/null || die "no '$PYTHON' on PATH (pass --python PATH)" 2
[[ -d "$DEBS" ]] || die "no folder $DEBS: run cluster/gpu/fetch-debs.sh on the Debian machine and carry its folder here (or pass --debs DIR)" 2
DEBS=$(cd "$DEBS" && pwd)
compgen -G "$DEBS/*.deb" >/dev/null || die "no .deb files in $DEBS (run cluster/gpu/fetch-debs.sh)" 2
[[ "$PREFIX" == /* ]] || die "--prefix must be an absolute path, got '$PREFIX'" 2
PREFIX=$(realpath -m "$PREFIX")
case "$PREFIX" in
  /|/usr|/usr/local|/opt|/etc|/bin|/sbin|/lib|/lib64|/var|/home|/root|/tmp|"$REPO")
    die "--prefix $PREFIX would unpack over the system or the repo: pick a folder of its own" 2 ;;
esac
MARK="$PREFIX/.chorus-deps"
if [[ -e "$PREFIX" && ! -e "$MARK" ]] && [[ -n "$(ls -A "$PREFIX" 2>/dev/null)" ]]; then
  die "$PREFIX exists, is not empty and was not made by this script: refusing to overwrite it (pass --prefix DIR)" 2
fi
mkdir -p "$BUILD" || die "cannot create the build folder $BUILD"
BUILD=$(cd "$BUILD" && pwd)

HELPER=$(mktemp "${TMPDIR:-/tmp}/chorus-prepare.XXXXXX.py")
trap 'rm -f "$HELPER"' EXIT
# The work that is easier in Python (stdlib only): unpacking, ELF headers, symlinks, rewrites.
cat > "$HELPER" <<'PY'
import json, os, re, shutil, struct, subprocess, sys, tarfile

ARCH = "x86_64-linux-gnu"

def elf(path):
    """(soname, needed version names, defined version names) of an ELF64 LE file, or None."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    secs = []
    for i in range(shnum):
        o = shoff + i * shentsize
        _, typ, _, _, off, size, link, info = struct.unpack_from("<IIQQQQII", data, o)
        secs.append((typ, off, size, link, info))
    def cstr(strsec, idx):
        off = secs[strsec][1] + idx
        return data[off:data.index(b"\0", off)].decode("ascii", "replace")
    soname, needed, defined = None, set(), set()
    for typ, off, size, link, info in secs:
        if typ == 6:  # SHT_DYNAMIC
            for o in range(off, off + size, 16):
                tag, val = struct.unpack_from("<qQ", data, o)
                if tag == 14:  # DT_SONAME
                    soname = cstr(link, val)
        elif typ == 0x6FFFFFFE:  # SHT_GNU_verneed
            o = off
            for _ in range(info):
                _, cnt, _, aux, nxt = struct.unpack_from("<HHIII", data, o)
                a = o + aux
                for _ in range(cnt):
                    _, _, _, name, anext = struct.unpack_from("<IHHII", data, a)
                    needed.add(cstr(link, name))
                    a += anext
                o += nxt
        elif typ == 0x6FFFFFFD:  # SHT_GNU_verdef
            o = off
            for _ in range(info):
                _, _, _, cnt, _, aux, nxt = struct.unpack_from("<HHHHIII", data, o)
                if cnt:
                    name, = struct.unpack_from("<I", data, o + aux)
                    defined.add(cstr(link, name))
                o += nxt
    return soname, needed, defined

def deb_members(path):
    """The data tarball of a .deb (an ar archive), as an open tarfile."""
    with open(path, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            sys.exit("prepare.sh: error: %s is not a .deb (ar) archive" % path)
        while True:
            hdr = f.read(60)
            if len(hdr) < 60:
                break
            name, size = hdr[:16].decode().strip().rstrip("/"), int(hdr[48:58])
            if name.startswith("data.tar"):
                if name.endswith(".zst"):
                    sys.exit("prepare.sh: error: %s is zstd-compressed (not Debian 12's xz): "
                             "refetch with cluster/gpu/fetch-debs.sh on Debian 12" % path)
                import io
                return tarfile.open(fileobj=io.BytesIO(f.read(size)))
            f.seek(size + (size & 1), 1)
    sys.exit("prepare.sh: error: no data.tar in %s" % path)

def system_libs(prefix):
    """SONAME -> path for the machine's own libraries (ldconfig's cache, else the usual dirs)."""
    libs = {}
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
        if not out.strip():
            out = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout
    except OSError:
        out = ""
    for line in out.splitlines():
        m = re.match(r"\s+(\S+) \(([^)]*)\) => (\S+)", line)
        if m and "x86-64" in m.group(2) and not m.group(3).startswith(prefix + "/"):
            libs.setdefault(m.group(1), m.group(3))
    if not libs:
        for d in ("/lib/" + ARCH, "/usr/lib/" + ARCH, "/lib64", "/usr/lib64", "/usr/local/lib"):
            if os.path.isdir(d):
                for n in sorted(os.listdir(d)):
                    if ".so" in n:
                        libs.setdefault(n, os.path.join(d, n))
    return libs

def norm(rel):
    """Debian 12 is merged-/usr: /lib/x is /usr/lib/x."""
    for d in ("lib", "lib64", "bin", "sbin"):
        if rel == d or rel.startswith(d + "/"):
            return "usr/" + rel
    return rel

def relink(link, target):
    os.remove(link)
    os.symlink(os.path.relpath(target, os.path.dirname(link)), link)

TEXT_PATH = re.compile(r"(?:(?<=[\s\"'=:;(,])|(?<=-I)|(?<=-L)|^)(/usr|/lib/" + ARCH +
                       r")(?=[/\s\"';:),]|$)", re.M)

def unpack_and_fix(debs, prefix, use_dpkg):
    groups = {}
    manifest = os.path.join(debs, "MANIFEST.tsv")
    if os.path.exists(manifest):
        for line in open(manifest):
            cols = line.rstrip("\n").split("\t")
            if len(cols) == 5 and not line.startswith(("#", "package\t")):
                groups[cols[3]] = cols[2]
    else:
        print("prepare.sh: no MANIFEST.tsv in %s: every library is used from the prefix" % debs,
              file=sys.stderr)
    def unpack(name):  # the package's regular files if it is a fallback one
        path, files = os.path.join(debs, name), []
        if use_dpkg:
            subprocess.run(["dpkg", "-x", path, prefix], check=True)
            if groups.get(name) != "fallback":
                return files
        with deb_members(path) as tar:
            members = tar.getmembers()
            if groups.get(name) == "fallback":
                files = [norm(os.path.normpath(m.name)) for m in members if m.isfile()]
            if not use_dpkg:
                safe = [m for m in members
                        if not os.path.isabs(m.name) and ".." not in m.name.split("/")
                        and (m.isfile() or m.isdir() or m.issym() or m.islnk())]
                if hasattr(tarfile, "tar_filter"):
                    tar.extractall(prefix, safe, filter="tar")
                else:
                    tar.extractall(prefix, safe)
        return files

    # Packages share only folders, so they unpack side by side.
    from concurrent.futures import ThreadPoolExecutor
    debfiles = sorted(f for f in os.listdir(debs) if f.endswith(".deb"))
    fallback_files = set()
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for files in pool.map(unpack, debfiles):
            fallback_files.update(files)
    # 1. merged /usr: move lib/, bin/ ... under usr/ and leave links, as on Debian 12 itself.
    for d in ("lib", "lib64", "bin", "sbin"):
        top = os.path.join(prefix, d)
        if os.path.isdir(top) and not os.path.islink(top):
            for root, dirs, files in os.walk(top):
                dest = os.path.join(prefix, "usr", os.path.relpath(root, prefix))
                os.makedirs(dest, exist_ok=True)
                for n in files:
                    dst = os.path.join(dest, n)
                    if not os.path.lexists(dst):
                        os.rename(os.path.join(root, n), dst)
                for n in list(dirs):
                    src = os.path.join(root, n)
                    if os.path.islink(src) and not os.path.lexists(os.path.join(dest, n)):
                        os.rename(src, os.path.join(dest, n))
            shutil.rmtree(top)
            os.symlink("usr/" + d, top)
    # 2. what Debian's postinst scripts make with update-alternatives.
    lib = "usr/lib/" + ARCH
    alternatives = {
        "usr/bin/mpirun": "mpirun.openmpi", "usr/bin/mpiexec": "mpiexec.openmpi",
        "usr/bin/mpicc": "mpicc.openmpi", "usr/bin/mpic++": "mpic++.openmpi",
        "usr/bin/mpicxx": "mpic++.openmpi", "usr/bin/mpiCC": "mpic++.openmpi",
        "usr/include/" + ARCH + "/mpi": "../../lib/" + ARCH + "/openmpi/include",
        lib + "/libmpi.so": "openmpi/lib/libmpi.so",
        lib + "/libmpi++.so": "openmpi/lib/libmpi_cxx.so",
        lib + "/pkgconfig/mpi.pc": "ompi.pc", lib + "/pkgconfig/mpi-c.pc": "ompi-c.pc",
        lib + "/pkgconfig/mpi-cxx.pc": "ompi-cxx.pc",
        lib + "/pkgconfig/hdf5.pc": "hdf5-serial.pc",
    }
    made = 0
    for link, target in alternatives.items():
        full = os.path.join(prefix, link)
        if not os.path.lexists(full) and os.path.exists(os.path.join(os.path.dirname(full), target)):
            os.makedirs(os.path.dirname(full), exist_ok=True)
            os.symlink(target, full)
            made += 1
    # 3. absolute links (libz.so -> /lib/x86_64-linux-gnu/libz.so.1.2.13) point into the prefix.
    absolute, from_system = 0, set()  # from_system: libraries expected from the machine
    for root, dirs, files in os.walk(prefix):
        for n in dirs + files:
            p = os.path.join(root, n)
            if os.path.islink(p) and os.readlink(p).startswith("/"):
                t = os.readlink(p)
                if t.startswith(prefix + "/"):
                    continue
                relink(p, os.path.join(prefix, norm(t.lstrip("/"))))
                absolute += 1
                if not os.path.exists(p):
                    from_system.add(os.path.basename(t))
    # 4. fallback libraries the machine has itself (same SONAME) step aside: its newer copy wins,
    #    and nothing else on this machine picks up an older one through LD_LIBRARY_PATH.
    system = system_libs(prefix)
    shadowed, shadow_dir = [], os.path.join(prefix, "shadowed")
    for rel in sorted(fallback_files):
        p = os.path.join(prefix, rel)
        if not os.path.isfile(p) or os.path.islink(p):
            continue
        info = elf(p)
        if info and info[0] and info[0] in system:
            dest = os.path.join(shadow_dir, rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            os.rename(p, dest)
            shadowed.append(info[0])
            from_system.add(info[0])
            from_system.add(os.path.basename(rel))
    # 5. links left dangling: a dev link (libssl.so) to one of those goes to the machine's
    #    library of that SONAME; a SONAME link of a shadowed library goes away. The rest point
    #    at packages not carried (libhdf5_fortran.so...) and stay as they are.
    repointed, removed, dangling = [], 0, []
    for root, dirs, files in os.walk(os.path.join(prefix, "usr", "lib")):
        for n in files + dirs:
            p = os.path.join(root, n)
            if not os.path.islink(p) or os.path.exists(p):
                continue
            target = os.path.basename(os.readlink(p))
            if n.endswith(".so"):
                cands = [target]
                while re.search(r"\.so\.\d+\.", cands[-1]):
                    cands.append(cands[-1].rsplit(".", 1)[0])
                hit = next((system[c] for c in cands if c in system and c in from_system), None)
                if not hit and target in from_system:
                    hit = next((system[c] for c in cands if c in system), None)
                if hit:
                    os.remove(p)
                    os.symlink(hit, p)
                    repointed.append(n)
                    continue
            elif target in from_system or n in from_system:
                os.remove(p)
                removed += 1
                continue
            dangling.append(os.path.relpath(p, prefix))
    # 6. text files that hard-code /usr: pkg-config, CMake, libtool, h5cc & co, wrapper data.
    rewritten = []
    for root, dirs, files in os.walk(prefix):
        if root.startswith(shadow_dir):
            continue
        for n in files:
            p = os.path.join(root, n)
            if os.path.islink(p):
                continue
            in_bin = os.path.basename(root) == "bin"
            if not (n.endswith((".pc", ".cmake", ".la", "-wrapper-data.txt", ".settings")) or in_bin):
                continue
            with open(p, "rb") as f:
                raw = f.read()
            if in_bin and not raw.startswith(b"#!"):
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue
            # /usr/x -> PREFIX/usr/x; /lib/x86_64-linux-gnu -> PREFIX/usr/lib/x86_64-linux-gnu
            new = TEXT_PATH.sub(lambda m: prefix + "/" + norm(m.group(1)[1:]), text)
            if new != text:
                with open(p, "w") as f:
                    f.write(new)
                rewritten.append(os.path.relpath(p, prefix))
    print("prepare.sh: unpacked %d packages with %s into %s" %
          (len(debfiles), "dpkg -x" if use_dpkg else "Python's tarfile (no dpkg here)", prefix),
          file=sys.stderr)
    print("prepare.sh:   %d links made for Debian's update-alternatives, %d absolute links made "
          "relative" % (made, absolute), file=sys.stderr)
    print("prepare.sh:   %d fallback libraries left to this machine's own copies (%s)" %
          (len(shadowed), ", ".join(sorted(set(shadowed))) or "none"), file=sys.stderr)
    print("prepare.sh:   %d dev links pointed at them (%s), %d of their links removed" %
          (len(repointed), ", ".join(sorted(repointed)) or "none", removed), file=sys.stderr)
    print("prepare.sh:   %d files that hard-code /usr rewritten (%s)" %
          (len(rewritten), ", ".join(sorted(os.path.basename(r) for r in rewritten))),
          file=sys.stderr)
    if dangling:
        print("prepare.sh:   %d links point at packages not carried (unused): %s" %
              (len(dangling), ", ".join(sorted(os.path.basename(d) for d in dangling))),
              file=sys.stderr)

def elf_files(prefix):
    skip = os.path.join(prefix, "shadowed")
    for root, dirs, files in os.walk(prefix):
        if root.startswith(skip):
            continue
        for n in files:
            p = os.path.join(root, n)
            if not os.path.islink(p) and os.path.isfile(p):
                with open(p, "rb") as f:
                    if f.read(4) == b"\x7fELF":
                        yield p

def main():
    cmd = sys.argv[1]
    if cmd == "unpack":
        unpack_and_fix(sys.argv[2], sys.argv[3], sys.argv[4] == "dpkg")
    elif cmd == "elf-files":      # the ELF files in the prefix, one a line
        for p in elf_files(sys.argv[2]):
            print(p)
    elif cmd == "needed":         # version names each file needs: "file<TAB>name" lines
        for p in sys.argv[2:]:
            info = elf(p)
            for v in sorted(info[1] if info else ()):
                print("%s\t%s" % (p, v))
    elif cmd == "defined":        # version names a library defines, one a line
        info = elf(sys.argv[2])
        for v in sorted(info[2] if info else ()):
            print(v)
    elif cmd == "system-lib":     # the machine's path of a SONAME
        print(system_libs("/nonexistent").get(sys.argv[2], ""))
    else:
        sys.exit("unknown helper command " + cmd)

main()
PY
helper() { "$PYTHON" "$HELPER" "$@"; }

# --- 1. unpack and repair -----------------------------------------------------------------------
step "unpacking $DEBS into $PREFIX"
if [[ -e "$MARK" ]]; then rm -rf -- "$PREFIX"; fi
mkdir -p "$PREFIX" 2>/dev/null || die "cannot create $PREFIX (not root? pass --prefix DIR in a folder you can write)"
touch "$MARK"
unpacker=${CHORUS_UNPACKER:-}  # dpkg or python; a test can force python
if [[ -z "$unpacker" ]]; then
  unpacker=python
  if command -v dpkg >/dev/null; then unpacker=dpkg; fi
fi
helper unpack "$DEBS" "$PREFIX" "$unpacker" || die "unpacking into $PREFIX failed"

# --- 2. can these binaries run here? ------------------------------------------------------------
# Debian 12's libraries were linked against its glibc 2.36 and libstdc++ (GCC 12); the dynamic
# loader refuses a library that needs a newer GLIBC_x.y than this machine's libc provides, and
# the failure shows up late and cryptically ("version `GLIBC_2.38' not found"). Check it now.
step "checking glibc and libstdc++ against the carried binaries"
mapfile -t ELF_FILES < <(helper elf-files "$PREFIX")
((${#ELF_FILES[@]})) || die "no ELF files in $PREFIX: were the .deb files empty?"
elf_tool=${CHORUS_ELF_TOOL:-}
if [[ -z "$elf_tool" ]]; then
  if command -v readelf >/dev/null; then elf_tool=readelf
  elif command -v objdump >/dev/null; then elf_tool=objdump
  else elf_tool=python; fi
fi
# One run of the tool over all files; awk keeps the names in each file's version-needs part.
needed_versions() {  # "file<TAB>version" for every version name the files need
  case "$elf_tool" in
    readelf) readelf -V -W "$@" 2>/dev/null | awk -v file="$1" '
               /^File: / { file = substr($0, 7); needs = 0; next }
               /^Version needs section/ { needs = 1; next }
               /^Version (symbols|definition) section/ { needs = 0; next }
               needs { for (i = 1; i <= NF; i++) if ($i ~ /^(GLIBC|GLIBCXX|CXXABI)_[0-9][0-9.]*$/) print file "\t" $i }' ;;
    objdump) objdump -p "$@" 2>/dev/null | awk '
               / file format / { file = $1; sub(/:$/, "", file); needs = 0; next }
               /^Version References:/ { needs = 1; next }
               /^Version definitions:/ { needs = 0; next }
               needs { for (i = 1; i <= NF; i++) if ($i ~ /^(GLIBC|GLIBCXX|CXXABI)_[0-9][0-9.]*$/) print file "\t" $i }' ;;
    python) helper needed "$@" ;;
    *) die "CHORUS_ELF_TOOL must be readelf, objdump or python, got '$elf_tool'" 2 ;;
  esac
}
# The highest version of a family (GLIBC_2.34 > GLIBC_2.4) and one file that needs it.
highest() {  # family
  awk -F'\t' -v fam="$1" '
    { n = split($2, a, "_"); if (a[1] != fam) next
      v = a[2]; split(v, p, "."); key = sprintf("%05d%05d%05d", p[1], p[2], p[3])
      if (key > best) { best = key; ver = v; file = $1 } }
    END { if (ver != "") print ver "\t" file }'
}
VERSIONS=$(needed_versions "${ELF_FILES[@]}")
read -r need_glibc need_glibc_file < <(highest GLIBC <<<"$VERSIONS") ||
  die "found no GLIBC version needs in ${#ELF_FILES[@]} ELF files (tool: $elf_tool)"
have_glibc=$(ldd --version 2>/dev/null | head -n 1 | grep -oE '[0-9]+\.[0-9]+$' || true)
[[ -n "$have_glibc" ]] || have_glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}' || true)
[[ -n "$have_glibc" ]] || have_glibc=$("$PYTHON" -c 'import platform; print(platform.libc_ver()[1])')
[[ -n "$have_glibc" ]] || die "cannot tell this machine's glibc version (ldd, getconf and python all failed)"
if [[ $(printf '%s\n%s\n' "$need_glibc" "$have_glibc" | sort -V | tail -n 1) != "$have_glibc" ]]; then
  die "this machine's glibc is $have_glibc, but the carried Debian 12 libraries need GLIBC_$need_glibc (e.g. ${need_glibc_file#"$PREFIX"/}): they cannot load here. Use a machine with glibc >= $need_glibc (Ubuntu 24.04 has 2.39, Debian 12 2.36), or fetch the packages from a distribution as old as this one"
fi
say "  glibc: this machine $have_glibc >= $need_glibc needed (highest, by ${need_glibc_file##*/}; $elf_tool, ${#ELF_FILES[@]} ELF files)"
stdcxx=$(helper system-lib libstdc++.so.6)
if read -r need_cxx need_cxx_file < <(highest GLIBCXX <<<"$VERSIONS"); then
  [[ -n "$stdcxx" ]] || die "the carried C++ libraries need libstdc++.so.6 (GLIBCXX_$need_cxx), and this machine has none (install the GCC runtime)"
  have_cxx=$(helper defined "$(realpath "$stdcxx")" | grep -oE '^GLIBCXX_[0-9.]+$' | sed 's/GLIBCXX_//' | sort -V | tail -n 1)
  if [[ $(printf '%s\n%s\n' "$need_cxx" "$have_cxx" | sort -V | tail -n 1) != "$have_cxx" ]]; then
    die "this machine's libstdc++ ($stdcxx) provides GLIBCXX_$have_cxx, but ${need_cxx_file##*/} needs GLIBCXX_$need_cxx: install a newer GCC runtime (GCC >= 12)"
  fi
  say "  libstdc++: this machine GLIBCXX_$have_cxx >= GLIBCXX_$need_cxx needed (by ${need_cxx_file##*/})"
fi

# --- 3. this PyTorch -------------------------------------------------------------------------
step "checking PyTorch ($PYTHON)"
TORCH_JSON=$("$PYTHON" - "$NCCL_ROOT_ARG" <<'PY'
import glob, json, os, site, sys
out = {}
try:
    import torch
except Exception as e:  # noqa: BLE001 -- any failure to import is reported, not raised
    print(json.dumps({"error": "%s: %s" % (type(e).__name__, e)}))
    sys.exit(0)
out["version"] = torch.__version__
out["path"] = os.path.dirname(torch.__file__)
out["cxx11_abi"] = int(torch._C._GLIBCXX_USE_CXX11_ABI)
out["cuda"] = torch.version.cuda
out["cmake_prefix_path"] = torch.utils.cmake_prefix_path
try:
    if torch.version.cuda and torch.cuda.is_available():
        out["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        out["capability"] = "%d.%d" % torch.cuda.get_device_capability(0)
except Exception as e:  # noqa: BLE001
    out["gpu_error"] = str(e)

def nccl_ok(d):
    return os.path.isfile(os.path.join(d, "include", "nccl.h")) and \
        bool(glob.glob(os.path.join(d, "lib", "libnccl.so*")))

cands = [sys.argv[1]] if sys.argv[1] else []
try:
    import nvidia.nccl as m  # a namespace package in some wheels: no __file__, but __path__
    cands += list(getattr(m, "__path__", []))
    if getattr(m, "__file__", None):
        cands.append(os.path.dirname(m.__file__))
except ImportError:
    pass
roots = [os.path.dirname(out["path"])] + list(getattr(site, "getsitepackages", lambda: [])())
for r in roots:
    cands += [os.path.dirname(os.path.dirname(h))
              for h in sorted(glob.glob(os.path.join(r, "nvidia", "**", "include", "nccl.h"),
                                        recursive=True))]
cands += ["/usr/local/cuda", "/usr"]
out["nccl_root"] = next((c for c in cands if nccl_ok(c)), "")
print(json.dumps(out))
PY
) || die "$PYTHON failed while inspecting torch"
torch_field() { "$PYTHON" -c 'import json, sys; v = json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else (",".join(v) if isinstance(v, list) else v))' "$TORCH_JSON" "$1"; }
torch_error=$(torch_field error)
TORCH_CMAKE="" NCCL_ROOT="" CAPABILITY=""
if [[ -n "$torch_error" ]]; then
  if [[ $CHECK_ONLY -eq 1 ]]; then
    say "  torch: cannot import ($torch_error): PyTorch checks skipped (--check-only)"
  else
    die "$PYTHON cannot import torch ($torch_error): the GPU build compiles against the CUDA PyTorch wheel's LibTorch (pass --python PATH)"
  fi
else
  torch_version=$(torch_field version)
  torch_path=$(torch_field path)
  if [[ $(torch_field cxx11_abi) != 1 ]]; then
    die "PyTorch $torch_version ($torch_path) was built with the old C++ ABI (torch._C._GLIBCXX_USE_CXX11_ABI = 0). Chorus links LibTorch together with Debian's yaml-cpp, GoogleTest and HDF5, which use the new ABI (std::__cxx11::string); compiled with the old one, every yaml-cpp or gtest call that takes a std::string fails to link. Use a PyTorch built with the new ABI (the pip wheels are, since 2.7)"
  fi
  cuda=$(torch_field cuda)
  if [[ -z "$cuda" ]]; then
    die "PyTorch $torch_version ($torch_path) is a CPU-only build (torch.version.cuda is None): the GPU build needs a CUDA PyTorch, e.g. pip's torch for cu12x/cu13x (pass --python PATH to its interpreter)"
  fi
  TORCH_CMAKE=$(torch_field cmake_prefix_path)
  NCCL_ROOT=$(torch_field nccl_root)
  CAPABILITY=$(torch_field capability)
  say "  torch $torch_version, CUDA $cuda, C++11 ABI 1, LibTorch CMake files in $TORCH_CMAKE"
  gpus=$(torch_field gpus)
  say "  GPUs: ${gpus:-none visible}${CAPABILITY:+ (compute capability $CAPABILITY)} $(torch_field gpu_error)"
  if [[ -n "$NCCL_ROOT" ]]; then
    say "  NCCL: $NCCL_ROOT"
  elif [[ -n "$NCCL_ROOT_ARG" ]]; then
    die "--nccl-root $NCCL_ROOT_ARG has no include/nccl.h and lib/libnccl.so*"
  else
    say "  NCCL: not found (no nvidia/nccl beside torch, none in /usr/local/cuda or /usr): dist.backend nccl will be unavailable"
  fi
fi

# --- 4. env.sh ----------------------------------------------------------------------------------
LIBDIR="$PREFIX/usr/lib/x86_64-linux-gnu"
CUDA_BIN=""
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then CUDA_BIN=/usr/local/cuda/bin; fi
ENV_SH="$BUILD/env.sh"
cat > "$ENV_SH" <<EOF
# Written by cluster/gpu/prepare.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). Source it in every shell that
# runs chorus, mpirun or ctest from this build:  . ${ENV_SH#"$REPO"/}
# Debian 12's Open MPI, HDF5, yaml-cpp... unpacked in $PREFIX (not installed: found by path).
export CHORUS_DEPS="$PREFIX"
case ":\${LD_LIBRARY_PATH:-}:" in
  *":$LIBDIR:"*) ;;
  *) export LD_LIBRARY_PATH="$LIBDIR:$LIBDIR/openmpi/lib:$LIBDIR/pmix2/lib${NCCL_ROOT:+:$NCCL_ROOT/lib}\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" ;;
esac
case ":\$PATH:" in
  *":$PREFIX/usr/bin:"*) ;;
  *) export PATH="$PREFIX/usr/bin${CUDA_BIN:+:$CUDA_BIN}:\$PATH" ;;
esac
case ":\${PKG_CONFIG_PATH:-}:" in
  *":$LIBDIR/pkgconfig:"*) ;;
  *) export PKG_CONFIG_PATH="$LIBDIR/pkgconfig:$PREFIX/usr/share/pkgconfig\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}" ;;
esac
# Open MPI was built for /usr: OPAL_PREFIX moves every path it derives from it. Debian's PMIx has
# its folders compiled in whole, so each is moved; hwloc finds no plugins (none are carried)
# rather than the machine's, which may be of another hwloc version.
export OPAL_PREFIX="$PREFIX/usr"
export PMIX_PREFIX="$LIBDIR/pmix2" PMIX_LIBDIR="$LIBDIR/pmix2/lib"
export PMIX_DATADIR="$LIBDIR/pmix2/share" PMIX_DATAROOTDIR="$LIBDIR/pmix2/share"
export PMIX_SYSCONFDIR="$LIBDIR/pmix2/etc"
export HWLOC_PLUGINS_PATH="$LIBDIR/hwloc"
# Debian's /etc/openmpi/openmpi-mca-params.conf is not read from the prefix; its settings, and
# no single-copy shared memory (containers usually forbid the ptrace it needs). Yours win.
export OMPI_MCA_btl_base_warn_component_unused=\${OMPI_MCA_btl_base_warn_component_unused:-0}
export OMPI_MCA_mtl=\${OMPI_MCA_mtl:-^ofi}
export OMPI_MCA_btl=\${OMPI_MCA_btl:-^uct,openib,ofi}
export OMPI_MCA_pml=\${OMPI_MCA_pml:-^ucx}
export OMPI_MCA_osc=\${OMPI_MCA_osc:-^ucx,pt2pt}
export OMPI_MCA_btl_vader_single_copy_mechanism=\${OMPI_MCA_btl_vader_single_copy_mechanism:-none}
# mpirun as root (containers): docs/design.md "mpirun as root".
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
EOF
step "wrote $ENV_SH:"
sed 's/^/    /' "$ENV_SH" >&2
# shellcheck disable=SC1090
. "$ENV_SH"

# The relocated Open MPI must find its own files (wrapper data, components) in the prefix.
mpicxx_show=$("$PREFIX/usr/bin/mpicxx" -showme 2>&1) ||
  die "the unpacked mpicxx does not run: $mpicxx_show"
[[ "$mpicxx_show" == *"$PREFIX/usr/"* ]] ||
  die "mpicxx -showme does not point into $PREFIX (OPAL_PREFIX relocation failed): $mpicxx_show"
say "  mpicxx -showme: $mpicxx_show"
"$PREFIX/usr/bin/h5cc" -showconfig >/dev/null 2>&1 || die "the unpacked h5cc -showconfig fails"

if [[ $CHECK_ONLY -eq 1 ]]; then
  step "checks passed (--check-only: not configuring or building)"
  exit 0
fi

# --- 5. configure and build ---------------------------------------------------------------------
command -v cmake >/dev/null || die "cmake not found"
command -v ninja >/dev/null || die "ninja not found (pip install ninja, or pass -- -G 'Unix Makefiles')"
command -v nvcc >/dev/null || die "nvcc not found (on PATH or in /usr/local/cuda/bin): CHORUS_CUDA=ON needs the CUDA toolkit; set PATH or CUDAToolkit_ROOT"
[[ -n "$TORCH_CMAKE" ]] || die "no LibTorch CMake folder from torch"
# LibTorch's CMake files compute nvcc flags for TORCH_CUDA_ARCH_LIST, or detect the GPU by
# compiling a probe; Chorus has no CUDA sources, so this machine's capability is enough.
if [[ -z "${TORCH_CUDA_ARCH_LIST:-}" && -n "$CAPABILITY" ]]; then export TORCH_CUDA_ARCH_LIST=$CAPABILITY; fi
cmake_args=(-S "$REPO" -B "$BUILD" -G Ninja -DCHORUS_CUDA=ON
  "-DCMAKE_PREFIX_PATH=$PREFIX/usr;$TORCH_CMAKE"
  "-DMPI_CXX_COMPILER=$PREFIX/usr/bin/mpicxx" "-DMPIEXEC_EXECUTABLE=$PREFIX/usr/bin/mpiexec"
  "-DHDF5_C_COMPILER_EXECUTABLE=$PREFIX/usr/bin/h5cc" "-DOPENSSL_ROOT_DIR=$PREFIX/usr"
  # Debian keeps some headers in the multiarch folder, which the compiler searches only under
  # /usr: OpenSSL's configuration.h and opensslconf.h, curl's.
  "-DCMAKE_C_STANDARD_INCLUDE_DIRECTORIES=$PREFIX/usr/include/x86_64-linux-gnu"
  "-DCMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES=$PREFIX/usr/include/x86_64-linux-gnu")
if [[ -n "$NCCL_ROOT" ]]; then cmake_args+=("-DNCCL_ROOT=$NCCL_ROOT"); fi
cmake_args+=("${CMAKE_EXTRA[@]}")
step "configuring: cmake ${cmake_args[*]}"
if ! cmake "${cmake_args[@]}" > "$BUILD/configure.log" 2>&1; then
  tail -n 40 "$BUILD/configure.log" >&2
  die "cmake configure failed (whole log: $BUILD/configure.log)"
fi
grep -E 'Chorus GPU:|Found (MPI|HDF5|yaml|OpenSSL|PNG|GTest|CUDAToolkit)' "$BUILD/configure.log" | sed 's/^/    /' >&2 || true
build_args=(--build "$BUILD" -j "$JOBS")
if ((${#TARGETS[@]})); then build_args+=(--target "${TARGETS[@]}"); fi
step "building: cmake ${build_args[*]} (log: $BUILD/build.log)"
if ! cmake "${build_args[@]}" > "$BUILD/build.log" 2>&1; then
  grep -E -m 20 'error|Error' "$BUILD/build.log" >&2 || true
  tail -n 30 "$BUILD/build.log" >&2
  die "build failed (whole log: $BUILD/build.log)"
fi
step "built $BUILD. Next:"
cat >&2 <<EOF
    . ${ENV_SH#"$REPO"/}
    ctest --test-dir ${BUILD#"$REPO"/} -L gpu --output-on-failure
    ${BUILD#"$REPO"/}/chorus train configs/lyrics.yaml --set train.device=cuda
    bench/gpu_throughput.sh
EOF
