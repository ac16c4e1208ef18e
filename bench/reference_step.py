#!/usr/bin/python3
"""Chorus's training step, written in Python on Debian's python3-torch: the side-by-side reference
for bench/throughput.sh. It must do the same work per step as `chorus train` with dropout 0
(trainer/models/, trainer/run/trainer.cpp), so that chars/s of the two can be compared.

Per step: Embedding(V, E) -> L separate nn.LSTM(num_layers=1) layers, time-major [T, B], carrying
the (h, c) state between windows (detached, zeroed for streams whose window starts a song) ->
Linear(H, V) -> cross_entropy(reduction='sum', padding ignored) / count -> backward ->
clip_grad_norm_(clip) -> Adam step.

Data: python3-h5py is not a dependency, so this reads the songdata CSV itself (csv module, column
`text`), normalises line endings as `chorus prepare` does ("  \\n" and "\\r\\n" -> "\\n"), and
builds the vocabulary of the characters it sees plus an end-of-song and an unknown symbol (78
symbols for songdata_subset.csv, as `chorus prepare` reports). Windows follow docs/design.md: B streams
play shuffled songs; a song of n characters is n + 1 targets (its characters, then end-of-song)
from inputs that start with end-of-song; every song starts at a window boundary with a zero state;
its last window is padded and the padding is not counted. All songs are used (no valid/test split).

Timing: steps after the first --warmup are timed, batch construction included (Chorus's interval
includes reading its windows too). chars/s = counted (unpadded) targets / wall seconds, the
definition of tokens_per_s in Chorus's metrics.jsonl.

GPU (bench/gpu_throughput.sh): --device cuda runs the model, its state and the batches on the GPU
(torch.cuda.synchronize() before each timer read); --precision bf16 runs the forward pass and
the loss under torch.autocast(dtype=torch.bfloat16), parameters and Adam state staying fp32, as
`chorus train --set train.precision=bf16` does. The batches are still built in Python lists (as
on the CPU), which at large batch sizes on a GPU can cost more than the step itself: the result
then also reports batch_seconds, the part of the timed seconds spent building them. The defaults
(cpu, fp32) print exactly what they printed before these options existed.

stdout: one JSON object (the result). stderr: progress.
"""
import argparse
import csv
from contextlib import nullcontext
import json
import os
import random
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--csv", required=True, help="songdata CSV (header artist,song,link,text)")
    p.add_argument("--steps", type=int, default=30, help="steps in all, warm-up included")
    p.add_argument("--warmup", type=int, default=10, help="untimed first steps")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--embedding-size", type=int, default=64)
    p.add_argument("--hidden-size", type=int, default=512)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--clip", type=float, default=5.0)
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                   help="bf16: forward and loss under torch.autocast to bfloat16")
    args = p.parse_args()
    if args.steps <= args.warmup:
        p.error("--steps must exceed --warmup (%d)" % args.warmup)
    return args


def read_songs(path):
    csv.field_size_limit(1 << 26)
    songs = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            text = row["text"].replace("\r\n", "\n").replace("  \n", "\n")
            if text:
                songs.append(text)
    if not songs:
        sys.exit("reference_step.py: no songs in %s" % path)
    return songs


class Streams:
    """B streams of songs cut into windows of seq_len (see the module docstring)."""

    def __init__(self, songs, batch, seq_len, eos, seed):
        self.songs, self.batch, self.seq_len, self.eos = songs, batch, seq_len, eos
        self.rng = random.Random(seed)
        self.order = list(range(len(songs)))
        self.rng.shuffle(self.order)
        self.next_song = 0
        self.lane = [self._take() for _ in range(batch)]  # [song ids, position]

    def _take(self):
        if self.next_song == len(self.order):
            self.rng.shuffle(self.order)
            self.next_song = 0
        s = self.order[self.next_song]
        self.next_song += 1
        return [s, 0]

    def next(self):
        T, B, eos = self.seq_len, self.batch, self.eos
        inputs = [[eos] * B for _ in range(T)]
        targets = [[-100] * B for _ in range(T)]  # -100: cross_entropy's ignore_index
        reset = [0.0] * B
        count = 0
        for b in range(B):
            song, pos = self.lane[b]
            ids = self.songs[song]  # n characters
            n = len(ids)
            if pos == 0:
                reset[b] = 1.0
            for t in range(min(T, n + 1 - pos)):
                p = pos + t  # target index in [0, n]
                inputs[t][b] = ids[p - 1] if p > 0 else eos
                targets[t][b] = ids[p] if p < n else eos
                count += 1
            pos += T
            self.lane[b] = self._take() if pos >= n + 1 else [song, pos]
        return inputs, targets, reset, count


def loaded_blas():
    """The BLAS this process mapped (Chorus's run manifest records its own the same way)."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line[line.find("/"):].strip() if "/" in line else ""
                name = os.path.basename(path)
                if name.startswith(("libblas", "libopenblas", "libmkl", "libblis")):
                    return os.path.realpath(path)
    except OSError:
        pass
    return ""


def main():
    args = parse_args()
    import torch  # after argparse, so --help is quick
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    plain = args.device == "cpu" and args.precision == "fp32"  # the original reference, as it was
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("reference_step.py: --device cuda, but torch %s sees no GPU "
                 "(torch.version.cuda %s)" % (torch.__version__, torch.version.cuda))

    def sync():
        if args.device == "cuda":
            torch.cuda.synchronize()

    texts = read_songs(args.csv)
    chars = sorted(set("".join(texts)))
    eos, unk = len(chars), len(chars) + 1
    vocab = len(chars) + 2
    index = {c: i for i, c in enumerate(chars)}
    songs = [[index.get(c, unk) for c in t] for t in texts]
    print("reference_step.py: %d songs, %d symbols, vocabulary %d; torch %s, %d threads"
          % (len(songs), sum(map(len, songs)), vocab, torch.__version__,
             torch.get_num_threads()) +
          ("" if plain else "; %s%s, %s" % (args.device, " (%s)" % torch.cuda.get_device_name()
                                            if args.device == "cuda" else "", args.precision)),
          file=sys.stderr)

    class CharLstm(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, args.embedding_size)
            self.lstms = nn.ModuleList(
                nn.LSTM(args.embedding_size if l == 0 else args.hidden_size, args.hidden_size,
                        num_layers=1)
                for l in range(args.layers))
            self.out = nn.Linear(args.hidden_size, vocab)

        def forward(self, x, h, c):
            x = self.embed(x)  # [T, B, E]
            next_h, next_c = [], []
            for l, lstm in enumerate(self.lstms):
                x, (hl, cl) = lstm(x, (h[l].unsqueeze(0), c[l].unsqueeze(0)))
                next_h.append(hl.squeeze(0))
                next_c.append(cl.squeeze(0))
            return self.out(x), next_h, next_c

    model = CharLstm().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    streams = Streams(songs, args.batch_size, args.seq_len, eos, args.seed)
    B, H = args.batch_size, args.hidden_size
    h = [torch.zeros(B, H, device=device) for _ in range(args.layers)]
    c = [torch.zeros(B, H, device=device) for _ in range(args.layers)]
    autocast = (lambda: torch.autocast(device_type=args.device, dtype=torch.bfloat16)) \
        if args.precision == "bf16" else nullcontext

    timed_symbols, start, loss_value, batch_seconds = 0, None, float("nan"), 0.0
    for step in range(1, args.steps + 1):
        batch_start = time.perf_counter()
        inputs, targets, reset, count = streams.next()
        x = torch.tensor(inputs, dtype=torch.long, device=device)
        y = torch.tensor(targets, dtype=torch.long, device=device)
        if step > args.warmup:
            batch_seconds += time.perf_counter() - batch_start
        if any(reset):
            keep = (1.0 - torch.tensor(reset, device=device)).unsqueeze(1)
            h = [t * keep for t in h]
            c = [t * keep for t in c]
        with autocast():
            logits, h, c = model(x, h, c)
            loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1), reduction="sum",
                                   ignore_index=-100) / count
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        h = [t.detach() for t in h]
        c = [t.detach() for t in c]
        nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        loss_value = loss.item()
        if step == args.warmup:
            sync()
            start = time.perf_counter()
        elif step > args.warmup:
            timed_symbols += count
        if step % 10 == 0 or step == args.steps:
            print("reference_step.py: step %d/%d loss %.4f" % (step, args.steps, loss_value),
                  file=sys.stderr)
    sync()
    seconds = time.perf_counter() - start
    result = {
        "impl": "python", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(), "blas": loaded_blas(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", ""),
        "vocab_size": vocab, "batch_size": B, "seq_len": args.seq_len,
        "hidden_size": H, "layers": args.layers, "steps": args.steps, "warmup": args.warmup,
        "timed_steps": args.steps - args.warmup, "symbols": timed_symbols, "seconds": seconds,
        "chars_per_s": timed_symbols / seconds, "final_loss": loss_value}
    if not plain:
        result.update({"device": args.device, "precision": args.precision,
                       "gpu": torch.cuda.get_device_name() if args.device == "cuda" else "",
                       "cuda": torch.version.cuda or "", "batch_seconds": batch_seconds})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
