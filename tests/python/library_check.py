"""The loader as a library, on checkpoints that tests/python/loader.sh trained: load (a run
directory picks its best checkpoint) gives a torch.nn.Module whose flat state equals model.pt;
nll over a batch of songs equals evaluate's figures and the per-song sums of one-song batches;
gradients flow (a model can be fine-tuned); sample gives text or frames, the same for the same
seed. Usage: python3 library_check.py PYTHON_DIR WORK_DIR"""
import math
import os
import sys

sys.path.insert(0, sys.argv[1])
import torch  # noqa: E402

import chorus_torch  # noqa: E402
from chorus_torch import checkpoint  # noqa: E402

work = sys.argv[2]


def check(condition, what):
    if not condition:
        raise SystemExit("library check failed: " + what)


lyrics = chorus_torch.load(os.path.join(work, "lyrics-gru"))
check(isinstance(lyrics, torch.nn.Module), "load returns a torch.nn.Module")
best = checkpoint.read_json(os.path.join(work, "lyrics-gru", "checkpoints"), "best.json")["step"]
check(lyrics.step == best, "a run directory loads its best checkpoint (step %s, best %s)" % (lyrics.step, best))
flat = checkpoint.read_parameters(lyrics.checkpoint)
mine = lyrics.flat_state_dict()
check(sorted(flat) == sorted(mine) and all(torch.equal(flat[k], mine[k]) for k in flat),
      "flat_state_dict equals model.pt")

corpus = chorus_torch.Corpus(os.path.join(work, "songs.h5"))
songs = corpus.songs("valid")
batch = lyrics.nll(songs, window=16)
alone = torch.cat([lyrics.nll([s]).nats for s in songs])
check(torch.allclose(batch.nats, alone, rtol=1e-5), "a batch's per-song sums equal one song at a time")
r = chorus_torch.evaluate(lyrics, corpus, "valid")
check(math.isclose(float(batch.nats.sum()), r.loss_sum, rel_tol=1e-6) and float(batch.predictions.sum()) == r.count,
      "nll of the split equals evaluate")
text = lyrics.kind.decode(songs[0].tolist())
check(torch.allclose(lyrics.nll([text]).nats, batch.nats[:1], rtol=1e-6), "a song as text equals its ids")

lyrics.train()
loss = lyrics.nll(songs[:2]).nats.sum()
loss.backward()
check(lyrics.recurrence.gru0.weight_hh_l0.grad is not None, "gradients reach the recurrence")
lyrics.eval()

a = lyrics.sample("Why", length=60, seed=4)
check(isinstance(a, str) and a.startswith("Why") and a == lyrics.sample("Why", length=60, seed=4),
      "sample: text from the prime, the same for the same seed")

artist = chorus_torch.load(os.path.join(work, "lyrics-artist"))
x = artist.nll(songs[:2], artists=["Artist 0", "Artist 0"]).nats
y = artist.nll(songs[:2], artists=["Artist 1", "Artist 1"]).nats
check(not torch.equal(x, y), "the artist changes the likelihood")

roll = chorus_torch.load(os.path.join(work, "roll-lstm-nade"))
check(type(roll.head).__name__ == "NadeHead", "the NADE head is rebuilt")
frames = roll.sample(prime=torch.zeros(3, 88, dtype=torch.long), length=20, seed=2)
check(tuple(frames.shape) == (23, 88) and set(frames.unique().tolist()) <= {0, 1}, "frames [P + L, 88]")
rolls = chorus_torch.Corpus(os.path.join(work, "rolls.h5"))
r = roll.nll(rolls.songs("valid")[:3])
check(bool((r.nats > 0).all()) and r.predictions.tolist() == [len(s) for s in rolls.songs("valid")[:3]],
      "a piano-roll song of n frames has n predictions")
print("library checks passed", file=sys.stderr)
