"""`chorus eval` in PyTorch: a model's loss on a split of a corpus file, each song from a zero state
in windows of at most 128 positions with the state carried (trainer/run/evaluator.cpp). Invariant:
the same songs are counted as by chorus — in file order while their predictions fit max_symbols
(0 = all; at least one song) — so the figures agree to float summation order (1e-5 relative)."""

import collections

import torch

from .corpus import Corpus

EVAL_WINDOW = 128

EvalResult = collections.namedtuple("EvalResult", "loss_sum count songs artist_loss_sum artist_count")


def evaluate(model, data, split="valid", max_symbols=0, batch_size=32, prime_symbols=0,
             by_artist=False):
    """Sums of nats and predictions over the counted songs of `split` of `data` (a path or a
    Corpus); with by_artist, per artist id as well. prime_symbols: the first N predictions of
    each song are read but not counted (the prime study)."""
    corpus = data if isinstance(data, Corpus) else Corpus(data)
    if max_symbols < 0 or batch_size <= 0 or prime_symbols < 0:
        raise ValueError("--max-symbols and --prime-symbols must be >= 0, --batch-size > 0")
    _, artist = corpus.split(split)
    # The kind says what a stored song is to the model and how many predictions it makes.
    values = [model.kind.song(v) for v in corpus.songs(split)]
    if not values:
        raise ValueError("%s: split '%s' has no songs to evaluate" % (corpus.path, split))
    songs, predictions = 0, 0
    while songs < len(values):
        n = model.kind.predictions(values[songs])
        if max_symbols > 0 and songs > 0 and predictions + n > max_symbols:
            break
        predictions += n
        songs += 1
    values = values[:songs]
    ids = artist[:songs].tolist()
    window = max(1, min(int(model.config.get("train.seq_len", EVAL_WINDOW)), EVAL_WINDOW))
    artists = len(corpus.artists) if by_artist else 0
    per_artist_loss, per_artist_count = [0.0] * artists, [0.0] * artists
    loss_sum, count = 0.0, 0.0
    with torch.no_grad():
        model.eval()
        for first in range(0, songs, batch_size):
            chunk = slice(first, min(first + batch_size, songs))
            r = model.nll(values[chunk], ids[chunk], window=window, skip_predictions=prime_symbols)
            loss_sum += float(r.nats.sum())
            count += float(r.predictions.sum())
            for a, nats, n in zip(ids[chunk], r.nats.tolist(), r.predictions.tolist()):
                if 0 <= a < artists:
                    per_artist_loss[a] += nats
                    per_artist_count[a] += n
    return EvalResult(loss_sum, count, songs, per_artist_loss, per_artist_count)


def metrics(kind, loss_sum, count):
    """{"loss", "unit", and the kind's metric}, as chorus reports them."""
    loss = loss_sum / count if count > 0 else 0.0
    return {"loss": loss, "unit": kind.unit, kind.metric: loss / kind.nats_per_metric}
