"""Chorus models in PyTorch: `load` a checkpoint (or a run directory's best checkpoint) as a
torch.nn.Module equal to chorus's model — LSTM or GRU, softmax, independent or NADE head, with or
without artist conditioning — then `model.nll(songs)`, `model.sample(...)`, or `evaluate`.

    import sys; sys.path.insert(0, "python")        # from a clone of the repository
    import chorus_torch
    model = chorus_torch.load("checkpoints/lyrics")
    print(model.sample("Why", length=200, temperature=0.8, seed=1))

Needs only torch and the standard library; reading a corpus .h5 (evaluate) takes h5py or h5dump.
Parameter names and layouts: checkpoints/README.md."""

from .checkpoint import CheckpointError
from .corpus import Corpus, CorpusError
from .evaluation import evaluate, metrics
from .kinds import KINDS
from .model import NLL, ChorusModel, load
from .parts import HEADS, RECURRENCES

__all__ = ["load", "ChorusModel", "NLL", "evaluate", "metrics", "Corpus", "KINDS", "HEADS",
           "RECURRENCES", "CheckpointError", "CorpusError"]
