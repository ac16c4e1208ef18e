"""Reading a Chorus checkpoint without Chorus: --checkpoint resolution (a checkpoint directory, or
a run directory's best checkpoint, else its newest), the MANIFEST.json checksums, the resolved
config.yaml chorus writes, the sidecars and the flat model.pt. Invariant, as in chorus
(trainer/run/checkpoint_store.cpp): nothing is loaded from a directory that fails its manifest."""

import hashlib
import json
import os
import re
import sys

import torch


class CheckpointError(Exception):
    """A checkpoint that cannot be used; the message names the file."""


def _step_name(step):
    return "step-%08d" % step


def verify(directory):
    """'' when `directory` is a complete checkpoint whose files match MANIFEST.json, else why."""
    done, manifest_path = os.path.join(directory, "DONE"), os.path.join(directory, "MANIFEST.json")
    if not os.path.isdir(directory):
        return "no such directory"
    if not os.path.isfile(done):
        return "no DONE marker"
    if not os.path.isfile(manifest_path):
        return "no MANIFEST.json"
    try:
        with open(manifest_path, encoding="utf-8") as f:
            files = json.load(f)["files"]
        entries = [(n, int(e["size"]), str(e["sha256"])) for n, e in files.items()]
    except (ValueError, KeyError, TypeError, AttributeError):
        return "MANIFEST.json is corrupt"
    for name, size, _ in entries:
        if "/" in name or name in ("", ".", ".."):
            return "MANIFEST.json is corrupt"
        path = os.path.join(directory, name)
        if not os.path.isfile(path):
            return "file %s is missing" % name
        if os.path.getsize(path) != size:
            return "file %s has size %d, expected %d" % (name, os.path.getsize(path), size)
    for name, _, digest in entries:
        h = hashlib.sha256()
        with open(os.path.join(directory, name), "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        if h.hexdigest() != digest:
            return "file %s fails its checksum" % name
    return ""


def resolve(path, log=sys.stderr):
    """The checkpoint directory `path` names: itself, or in a run directory the best checkpoint
    (checkpoints/best.json) if it verifies, else the newest that does."""
    if not os.path.exists(path):
        raise CheckpointError("%s: no such file or directory" % path)
    if os.path.isfile(os.path.join(path, "DONE")) or os.path.isfile(os.path.join(path, "MANIFEST.json")):
        reason = verify(path)
        if reason:
            raise CheckpointError("%s: checkpoint is not valid: %s" % (path, reason))
        return path
    root = os.path.join(path, "checkpoints")
    try:
        with open(os.path.join(root, "best.json"), encoding="utf-8") as f:
            best = json.load(f)
        step = best["step"]
        if isinstance(step, int) and step >= 0:
            candidate = os.path.join(root, _step_name(step))
            if os.path.isfile(os.path.join(candidate, "DONE")):
                reason = verify(candidate)
                if not reason:
                    return candidate
                print("chorus_torch: skipping checkpoint %s: %s" % (candidate, reason), file=log)
    except (OSError, ValueError, KeyError, TypeError):
        pass  # best.json is advice; the checkpoints are the truth
    steps = []
    if os.path.isdir(root):
        for name in os.listdir(root):
            m = re.fullmatch(r"step-(\d{8,18})", name)
            if m and _step_name(int(m.group(1))) == name and os.path.isfile(os.path.join(root, name, "DONE")):
                steps.append(int(m.group(1)))
    for step in sorted(steps, reverse=True):
        candidate = os.path.join(root, _step_name(step))
        reason = verify(candidate)
        if not reason:
            return candidate
        print("chorus_torch: skipping checkpoint %s: %s" % (candidate, reason), file=log)
    raise CheckpointError("%s: no valid checkpoint (neither a checkpoint directory nor a run "
                          "directory holding one)" % path)


def _yaml_scalar(text, where):
    if text.startswith('"'):
        if len(text) < 2 or not text.endswith('"'):
            raise CheckpointError("%s: unterminated string" % where)
        out, i, body = [], 0, text[1:-1]
        while i < len(body):
            c = body[i]
            if c != "\\":
                out.append(c)
                i += 1
                continue
            e = body[i + 1: i + 2]
            if e == "x":
                out.append(chr(int(body[i + 2: i + 4], 16)))
                i += 4
            else:
                out.append({"n": "\n", "t": "\t"}.get(e, e))
                i += 2
        return "".join(out)
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text  # an unquoted word (e.g. recompute_every: auto)


def read_config(directory):
    """The checkpoint's config.yaml as {"section.key": value}. It is the resolved config chorus
    writes (trainer/config/config.cpp to_yaml): sections, then `  key: value`, strings quoted."""
    path = os.path.join(directory, "config.yaml")
    config, section = {}, None
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise CheckpointError("%s: %s" % (path, e.strerror))
    for number, line in enumerate(lines, 1):
        where = "%s:%d" % (path, number)
        stripped = line.rstrip()
        if not stripped.strip() or stripped.lstrip().startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z_]\w*):", stripped)
        if m:
            section = m.group(1)
            continue
        m = re.fullmatch(r"\s+([A-Za-z_]\w*):(?:\s+(.*))?", line.rstrip())
        if not m or section is None:
            raise CheckpointError("%s: not a line of chorus's resolved config" % where)
        value = (m.group(2) or "").strip()
        config["%s.%s" % (section, m.group(1))] = _yaml_scalar(value, where) if value else ""
    return config


def read_json(directory, name):
    path = os.path.join(directory, name)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        raise CheckpointError("%s: %s" % (path, e.strerror))
    except ValueError as e:
        raise CheckpointError("%s: not JSON: %s" % (path, e))


def read_step(directory):
    return int(read_json(directory, "MANIFEST.json")["meta"]["step"])


def read_parameters(directory):
    """model.pt as {flat name: tensor} on the CPU: chorus writes it with LibTorch's
    OutputArchive, a TorchScript archive whose top-level modules are the parts' modules
    (embed, lstm0, out, ...), so a name is e.g. "lstm0.weight_ih_l0" or "nade_w"."""
    path = os.path.join(directory, "model.pt")
    try:
        archive = torch.jit.load(path, map_location="cpu")
    except (RuntimeError, OSError, ValueError) as e:
        raise CheckpointError("%s: cannot be read as a LibTorch archive: %s" % (path, e))
    return {k: v.detach().clone() for k, v in archive.state_dict().items()}
