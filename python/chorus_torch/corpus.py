"""Chorus's HDF5 corpora read from Python (schema: data/README.md) with h5py when it is installed,
else with HDF5's own h5dump (Debian: hdf5-tools), so the loader itself needs only torch. Songs
come back as kinds.py takes them: [L] symbol ids, or [L, 88] 0/1 frames. Invariant: the songs, in
file order, are the ones chorus's readers return (the same ids, the same frames)."""

import os
import re
import shutil
import subprocess
import tempfile

import torch

_DTYPES = {"H5T_STD_I8LE": torch.int8, "H5T_STD_U8LE": torch.uint8, "H5T_STD_I16LE": torch.int16,
           "H5T_STD_I32LE": torch.int32, "H5T_STD_I64LE": torch.int64,
           "H5T_STD_U16LE": (torch.int16, "u16"), "H5T_STD_U32LE": (torch.int32, "u32"),
           "H5T_STD_U64LE": torch.int64}


class CorpusError(Exception):
    """A corpus file that cannot be read; the message names the file."""


class _H5py:
    def __init__(self, path):
        import h5py  # noqa: only when chosen
        self.path, self.file = path, h5py.File(path, "r")

    def attr(self, name):
        value = self.file.attrs.get(name)
        return value.decode() if isinstance(value, bytes) else value

    def has(self, name):
        return name in self.file

    def dataset(self, name):
        return torch.from_numpy(self.file[name][()].astype("int64"))

    def strings(self, name):
        return [s.decode() if isinstance(s, bytes) else str(s) for s in self.file[name][()]]


def _unescape(text):
    """h5dump's quoting of a string: \\" \\\\ and octal \\ooo escapes; UTF-8 bytes."""
    out, i = bytearray(), 0
    raw = text.encode("utf-8", "surrogateescape")
    while i < len(raw):
        if raw[i] == 0x5C and i + 1 < len(raw):
            m = re.match(rb"[0-7]{3}", raw[i + 1:i + 4])
            if m:
                out.append(int(m.group(0), 8))
                i += 4
                continue
            out += {b"n": b"\n", b"t": b"\t", b"r": b"\r"}.get(raw[i + 1:i + 2], raw[i + 1:i + 2])
            i += 2
            continue
        out.append(raw[i])
        i += 1
    return out.decode("utf-8", "replace")


class _H5dump:
    def __init__(self, path):
        self.path = path
        if shutil.which("h5dump") is None:
            raise CorpusError("%s: reading a corpus needs h5py (python3-h5py, or pip install h5py) "
                              "or h5dump (apt-get install hdf5-tools)" % path)

    def _run(self, *args):
        r = subprocess.run(["h5dump"] + list(args) + [self.path], capture_output=True)
        if r.returncode != 0:
            raise CorpusError("%s: h5dump %s failed: %s" % (self.path, " ".join(args),
                                                            r.stderr.decode(errors="replace").strip()))
        return r.stdout.decode("utf-8", "surrogateescape")

    def attr(self, name):
        text = self._run("-a", "/" + name)
        m = re.search(r'\(0\): ("(?:[^"\\]|\\.)*"|-?[0-9.eE+-]+)', text)
        if not m:
            return None
        value = m.group(1)
        return _unescape(value[1:-1]) if value.startswith('"') else float(value)

    def has(self, name):
        r = subprocess.run(["h5dump", "-H", "-d", name, self.path], capture_output=True)
        return r.returncode == 0

    def dataset(self, name):
        header = self._run("-H", "-d", name)
        m = re.search(r"DATATYPE\s+(H5T_\w+)", header)
        dims = re.search(r"DATASPACE\s+SIMPLE\s*\{\s*\(([^)]*)\)", header)
        if not m or m.group(1) not in _DTYPES or not dims:
            raise CorpusError("%s: %s: a dataset of type %s, not one chorus writes"
                              % (self.path, name, m.group(1) if m else "?"))
        shape = [int(d) for d in dims.group(1).split(",")]
        if 0 in shape:
            return torch.zeros(shape, dtype=torch.int64)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "data.bin")
            self._run("-d", name, "-b", "LE", "-o", out)
            with open(out, "rb") as f:
                raw = bytearray(f.read())
        dtype = _DTYPES[m.group(1)]
        unsigned = isinstance(dtype, tuple)
        values = torch.frombuffer(raw, dtype=dtype[0] if unsigned else dtype).to(torch.int64)
        if unsigned:
            values %= 1 << (16 if dtype[1] == "u16" else 32)
        return values.reshape(shape)

    def strings(self, name):
        text = self._run("-d", name)
        body = text[text.find("DATA {"):]
        return [_unescape(s) for s in re.findall(r'"((?:[^"\\]|\\.)*)"', body)]


def _open(path):
    choice = os.environ.get("CHORUS_TORCH_HDF5", "")
    if choice not in ("", "h5py", "h5dump"):
        raise CorpusError("CHORUS_TORCH_HDF5 must be h5py or h5dump; got '%s'" % choice)
    if choice != "h5dump":
        try:
            return _H5py(path)
        except ImportError:
            if choice == "h5py":
                raise CorpusError("CHORUS_TORCH_HDF5=h5py but h5py is not installed")
    return _H5dump(path)


class Corpus:
    """A corpus file written by `chorus prepare`: its format ("chorus-lyrics" or
    "chorus-pianoroll"), and per split its songs in file order."""

    def __init__(self, path):
        if not os.path.isfile(path):
            raise CorpusError("%s: corpus file not found (create it with chorus prepare lyrics|pianoroll)" % path)
        self.path, self._h5 = path, _open(path)
        self.format = self._h5.attr("format")
        if self.format not in ("chorus-lyrics", "chorus-pianoroll"):
            raise CorpusError('%s: format "%s" is not a corpus Chorus trains on; re-run chorus prepare'
                              % (path, self.format))
        self._splits = {}

    @property
    def code_points(self):
        return self._h5.dataset("/vocab/code_points").tolist()

    @property
    def artists(self):
        return self._h5.strings("/artists/names") if self.format == "chorus-lyrics" else []

    def split(self, name):
        """(offsets [S + 1], artist ids [S]); CorpusError naming the file for a missing split."""
        if name not in self._splits:
            if not self._h5.has("/%s/offsets" % name):
                raise CorpusError("%s: no split '%s'" % (self.path, name))
            offsets = self._h5.dataset("/%s/offsets" % name).reshape(-1)
            songs = offsets.shape[0] - 1
            artist = (self._h5.dataset("/%s/artist" % name).reshape(-1) if self.format == "chorus-lyrics"
                      else torch.zeros(songs, dtype=torch.int64))
            self._splits[name] = (offsets, artist)
        return self._splits[name]

    def songs(self, name, count=None):
        """The first `count` songs of split `name` (all by default): [L] ids or [L, 88] frames."""
        offsets, _ = self.split(name)
        count = offsets.shape[0] - 1 if count is None else count
        if self.format == "chorus-lyrics":
            data = self._h5.dataset("/%s/symbols" % name).reshape(-1)
        else:
            packed = self._h5.dataset("/%s/frames" % name).reshape(-1, 11)
            bits = torch.arange(8)
            data = ((packed.unsqueeze(-1) >> bits) & 1).reshape(-1, 88)  # key k: byte k/8, bit k%8
        return [data[offsets[i]:offsets[i + 1]] for i in range(count)]
