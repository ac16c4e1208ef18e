"""The command line of python/chorus_torch.py: `eval` and `sample` with `chorus eval` and `chorus
sample`'s options, defaults and output (stdout: one JSON line, or the sampled text; everything else
on stderr). Exit codes as chorus: 0 success, 1 failure, 2 bad usage or input (naming the file)."""

import argparse
import json
import sys

from . import checkpoint as ckpt
from .corpus import Corpus, CorpusError
from .draw import METHODS
from .evaluation import evaluate, metrics
from .model import load


def dump_json(obj):
    """One JSON line as chorus prints it (nlohmann::json's dump: keys sorted, no spaces, doubles in
    their shortest exact form)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def command_eval(args):
    model = load(args.checkpoint)
    corpus = Corpus(args.data)
    model.kind.check_corpus(corpus, args.split, args.checkpoint)
    if args.by_artist and not corpus.artists:
        raise ValueError("--by-artist: %s records no artists" % args.data)
    r = evaluate(model, corpus, args.split, args.max_symbols, args.batch_size, args.prime_symbols,
                 args.by_artist)
    kind = model.kind
    out = {"checkpoint": args.checkpoint, "step": model.step, "data": args.data, "split": args.split}
    if args.prime_symbols > 0:
        out["prime_symbols"] = args.prime_symbols
    out.update(metrics(kind, r.loss_sum, r.count))
    out.update({"symbols": r.count, "songs": r.songs})
    print(dump_json(out), flush=True)
    loss = r.loss_sum / r.count if r.count > 0 else 0.0
    line = "eval %s: loss %.6g nats per %s" % (args.split, loss, kind.unit)
    if kind.nats_per_metric != 1.0:
        line += " (%.6g %s)" % (loss / kind.nats_per_metric, kind.metric)
    print("%s over %d %s in %d songs" % (line, r.count, kind.plural, r.songs), file=sys.stderr)
    for a, name in enumerate(corpus.artists if args.by_artist else []):
        if r.artist_count[a] == 0:
            continue
        row = {"checkpoint": args.checkpoint, "split": args.split, "artist": name,
               "symbols": r.artist_count[a]}
        row.update(metrics(kind, r.artist_loss_sum[a], r.artist_count[a]))
        print(dump_json(row), flush=True)
        print("  %s  %.3f %s over %d %s" % (name, row[kind.metric], kind.metric, r.artist_count[a],
                                             kind.plural), file=sys.stderr)
    return 0


def command_sample(args):
    if args.temperature <= 0:
        raise ValueError("--temperature must be > 0")
    if args.length <= 0:
        raise ValueError("--length must be > 0")
    model = load(args.checkpoint)
    return model.kind.sample_command(model, args)  # text on stdout, or files and a JSON line


def parser():
    p = argparse.ArgumentParser(prog="chorus_torch.py", description=(
        "A Chorus checkpoint in PyTorch: eval and sample as `chorus eval` and `chorus sample`."))
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("eval", help="loss (bits per character, nats per frame) of a model on a split")
    e.add_argument("--checkpoint", required=True, help="checkpoint or run directory")
    e.add_argument("--data", required=True, help="corpus .h5 with the model's vocabulary")
    e.add_argument("--split", default="valid")
    e.add_argument("--max-symbols", type=int, default=0, help="0 = the whole split")
    e.add_argument("--batch-size", type=int, default=32)
    e.add_argument("--by-artist", action="store_true", help="also one JSON line per artist")
    e.add_argument("--prime-symbols", type=int, default=0,
                   help="count only the predictions after each song's first N")
    s = sub.add_parser("sample", help="print a song sampled from a trained model")
    s.add_argument("--checkpoint", required=True, help="checkpoint or run directory")
    s.add_argument("--prime", default="Why")
    s.add_argument("--temperature", type=float, default=0.8)
    s.add_argument("--artist", default="", help="artist name (artist-conditioned models)")
    s.add_argument("--length", type=int, default=400, help="symbols (frames) at most")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--method", default="multinomial", choices=METHODS)
    s.add_argument("--out", default="", help="piano-roll models: the MIDI file to write")
    s.add_argument("--image", default="", help="piano-roll models: also a PNG picture")
    s.add_argument("--wav", default="", help="piano-roll models: also audio (fluidsynth)")
    s.add_argument("--prime-midi", default="", help="piano-roll models: prime with a MIDI file")
    s.add_argument("--prime-data", default="", help="piano-roll models: prime with a song of this "
                                                    "corpus's valid split")
    s.add_argument("--prime-song", type=int, default=0)
    s.add_argument("--prime-frames", type=int, default=16)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        return command_eval(args) if args.command == "eval" else command_sample(args)
    except (ckpt.CheckpointError, CorpusError, ValueError) as e:
        print("chorus_torch: error: %s" % e, file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001 - one line, exit 1, as chorus's main
        print("chorus_torch: error: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
