"""A Chorus model in PyTorch: features -> recurrence -> head (the parts of parts.py), the kind of
data it models (kinds.py), `load` from a checkpoint, the likelihood of whole songs and the
generation loop of trainer/models/sampling.cpp. Invariant: every position sees only the state
carried from the one before, from a zero state and the start symbol (zeros) at a song's start,
exactly as chorus trains, evaluates and samples."""

import collections
import os
import sys

import torch
from torch import nn

from . import checkpoint as ckpt
from .draw import Mt19937_64
from .kinds import KINDS
from .parts import HEADS, RECURRENCES

NLL = collections.namedtuple("NLL", "nats predictions")
NLL.__doc__ = "Per song: nats summed over its counted predictions, and how many were counted."

Sampling = collections.namedtuple("Sampling", "temperature method excluded")


class ChorusModel(nn.Module):
    """The model of one checkpoint. `features`, `recurrence` and `head` hold the parameters under
    chorus's names; `kind` knows the data (vocabulary and artists, or the piano-roll time grid);
    `config` is the checkpoint's resolved config ({"model.hidden_size": 512, ...})."""

    def __init__(self, kind, config):
        super().__init__()
        self.kind, self.config = kind, config
        recurrence = config.get("model.recurrence", "lstm")
        head = kind.head_name(config)
        if recurrence not in RECURRENCES:
            raise ckpt.CheckpointError("model.recurrence '%s': this loader knows %s"
                                       % (recurrence, ", ".join(RECURRENCES)))
        if head not in HEADS:
            raise ckpt.CheckpointError("model.head '%s': this loader knows %s" % (head, ", ".join(HEADS)))
        self.features = kind.features(config)
        hidden = int(config["model.hidden_size"])
        self.recurrence = RECURRENCES[recurrence](self.features.size, hidden, int(config["model.layers"]))
        self.head = HEADS[head](hidden, kind.outputs, config)
        self.checkpoint, self.step = None, None

    # ---- chorus's flat names ---------------------------------------------------------------

    def flat_state_dict(self):
        """The parameters under model.pt's names (the parts' own, at the top level)."""
        out = {}
        for part in (self.features, self.recurrence, self.head):
            out.update(part.state_dict())
        return out

    def load_flat_state_dict(self, flat, source="model.pt"):
        """Loads model.pt's {name: tensor}; a missing, extra or misshapen name is an error naming
        it (the checkpoint is not the model its config describes)."""
        mine = self.flat_state_dict()
        missing = sorted(set(mine) - set(flat))
        extra = sorted(set(flat) - set(mine))
        if missing or extra:
            raise ckpt.CheckpointError("%s: parameters do not match the config (missing: %s; "
                                       "unexpected: %s)" % (source, missing or "none", extra or "none"))
        for name, tensor in mine.items():
            if tuple(flat[name].shape) != tuple(tensor.shape):
                raise ckpt.CheckpointError("%s: %s has shape %s, the config makes %s"
                                           % (source, name, tuple(flat[name].shape), tuple(tensor.shape)))
        for part in (self.features, self.recurrence, self.head):
            part.load_state_dict({k: flat[k] for k in part.state_dict()})

    # ---- running it ------------------------------------------------------------------------

    def zero_state(self, batch, device=None):
        return self.recurrence.zeros(batch, device or self.head.out.weight.device)

    def forward(self, inputs, state=None, artist=None):
        """inputs [T, B] ids or [T, B, 88] frames (the inputs: a song shifted right by one, zeros
        first) -> (top layer's output [T, B, H], the state after position T - 1)."""
        if state is None:
            state = self.zero_state(inputs.shape[1], inputs.device)
        return self.recurrence(self.features(inputs, artist), state)

    def nll(self, songs, artists=None, window=None, skip_predictions=0):
        """The likelihood of whole songs, each from a zero state: `songs` a list of what
        kind.song() returns (text or symbol ids; [L, 88] frames). The kind lays a song out as
        predictions (kind.rows: inputs, targets and which predictions count). window: positions
        per call, the state carried (None = whole songs). skip_predictions: the first N
        predictions of each song are read but not counted."""
        laid = [self.kind.rows(self.kind.song(s)) for s in songs]
        n = [rows[0].shape[0] for rows in laid]
        T, B = max(n), len(laid)
        device = self.head.out.weight.device
        inputs = torch.zeros((T, B) + tuple(laid[0][0].shape[1:]), dtype=torch.long)
        targets = torch.zeros((T, B) + tuple(laid[0][1].shape[1:]), dtype=torch.long)
        mask, counted = torch.zeros(T, B), torch.zeros(T, B)
        for b, (x, y, c) in enumerate(laid):
            inputs[:n[b], b] = x
            targets[:n[b], b] = y
            mask[skip_predictions:n[b], b] = 1
            counted[skip_predictions:n[b], b] = c[skip_predictions:].to(torch.float32)
        artist = None if artists is None else torch.tensor(
            [self.kind.artist_id(a) for a in artists], dtype=torch.long, device=device)
        state, total = self.zero_state(B, device), torch.zeros(B, dtype=torch.float64, device=device)
        step = window or T
        for t in range(0, T, step):
            top, state = self(inputs[t:t + step].to(device), state, artist)
            m = mask[t:t + step].to(device)
            total += (self.head.nll(top, targets[t:t + step].to(device)) * m).sum(0).double()
        return NLL(total, counted.sum(0).double())

    @torch.no_grad()
    def generate(self, prime, length, temperature=0.8, method="multinomial", seed=1, artist=0,
                 excluded=(), stop=None, next_input=None, before_draw=None):
        """chorus's generation loop: `prime` ([P] ids, [P, 88] frames or [P, W] input rows, the
        start row first) in one call, then up to `length` positions drawn from the head and fed
        back (next_input(drawn) -> the next input row; default the drawn values), stopping before
        a position for which stop(values) is true; before_draw() may return the symbols excluded
        from the next draw. Returns the drawn positions ([N] or [N, 88]); the same seed gives the
        same draws as chorus."""
        self.eval()
        device = self.head.out.weight.device
        engine = Mt19937_64(seed)
        a = torch.tensor([artist], dtype=torch.long, device=device)
        top, state = self(prime.unsqueeze(1).to(device), None, a)
        last, out = top[-1], []
        for _ in range(length):
            now = tuple(before_draw()) if before_draw is not None else tuple(excluded)
            drawn = self.head.sample(last, Sampling(temperature, method, now), engine)  # [1] or [1, K]
            if stop is not None and stop(drawn[0]):
                break
            out.append(drawn[0])
            feed = drawn if next_input is None else next_input(drawn[0]).unsqueeze(0)
            top, state = self(feed.unsqueeze(0).to(device), state, a)
            last = top[0]
        if not out:
            return torch.zeros((0,) + self.kind.position_shape, dtype=torch.long)
        return torch.stack(out)

    def sample(self, *args, **kwargs):
        """A song from this model: kind.sample's arguments (lyrics: prime text, artist; piano
        rolls: prime frames) and length=400, temperature=0.8, seed=1 as `chorus sample`."""
        return self.kind.sample(self, *args, **kwargs)


def load(path, device="cpu", log=sys.stderr):
    """The model of a checkpoint directory, or of a run directory's best (else newest) checkpoint,
    as a ChorusModel (a torch.nn.Module) in eval mode; its checksums are verified first."""
    directory = ckpt.resolve(os.fspath(path), log)
    config = ckpt.read_config(directory)
    name = config.get("model.kind", "chars")
    if name not in KINDS:
        raise ckpt.CheckpointError("%s/config.yaml: model.kind '%s': this loader knows %s"
                                   % (directory, name, ", ".join(KINDS)))
    model = ChorusModel(KINDS[name](directory, config), config)
    model.load_flat_state_dict(ckpt.read_parameters(directory), os.path.join(directory, "model.pt"))
    model.checkpoint, model.step = directory, ckpt.read_step(directory)
    return model.to(device).eval()
