"""The command line of python/chorus_torch.py: `eval` and `sample` with `chorus eval` and `chorus
sample`'s options, defaults and output (stdout: one JSON line, or the sampled text; everything else
on stderr). Exit codes as chorus: 0 success, 1 failure, 2 bad usage or input (naming the file)."""

import argparse
import json
import os
import shutil
import subprocess
import sys

from . import checkpoint as ckpt
from .corpus import Corpus, CorpusError
from .draw import METHODS
from .evaluation import evaluate, metrics
from .model import load


def _dump(obj):
    # nlohmann::json's dump: keys sorted, no spaces; doubles in their shortest exact form.
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
    print(_dump(out), flush=True)
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
        print(_dump(row), flush=True)
        print("  %s  %.3f %s over %d %s" % (name, row[kind.metric], kind.metric, r.artist_count[a],
                                             kind.plural), file=sys.stderr)
    return 0


def _render_wav(midi, wav):
    fonts = [f for f in ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2",
                         "/usr/share/sounds/sf2/default-GM.sf2") if os.path.exists(f)]
    if not fonts or shutil.which("fluidsynth") is None:
        raise ValueError("--wav needs fluidsynth and a General MIDI soundfont: apt-get install "
                         "fluidsynth fluid-soundfont-gm")
    r = subprocess.run(["fluidsynth", "-ni", "-q", "-F", wav, fonts[-1], midi],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r.returncode != 0 or not os.path.exists(wav):
        raise RuntimeError("fluidsynth failed to render " + midi)


def command_sample(args):
    if args.temperature <= 0:
        raise ValueError("--temperature must be > 0")
    if args.length <= 0:
        raise ValueError("--length must be > 0")
    model = load(args.checkpoint)
    kind = model.kind
    if kind.position_shape == ():  # symbols: text on stdout
        print(model.sample(args.prime, args.length, args.temperature, args.method, args.seed,
                           args.artist), flush=True)
        return 0
    if not args.out:
        raise ValueError("a piano-roll model samples into a MIDI file: pass --out FILE.mid")
    prime = None
    if args.prime_midi:
        from .midi_read import read_midi
        fpq = kind.frames_per_quarter if kind.frames_per_quarter > 0 else 4
        prime = read_midi(args.prime_midi, fpq, kind.seconds_per_frame)
    elif args.prime_data:
        corpus = Corpus(args.prime_data)
        songs = corpus.split("valid")[0].shape[0] - 1
        if not 0 <= args.prime_song < songs:
            raise ValueError("--prime-song %d: %s has %d valid songs" % (args.prime_song, args.prime_data, songs))
        prime = corpus.songs("valid", args.prime_song + 1)[args.prime_song][:args.prime_frames]
    frames = model.sample(prime, args.length, args.temperature, args.method, args.seed)
    from .midi import write_midi
    write_midi(kind.midi(frames), args.out)
    out = {"midi": args.out, "frames": frames.shape[0], "prime_frames": 0 if prime is None else len(prime)}
    if args.image:
        from .image import write_pianoroll_png
        write_pianoroll_png(frames.tolist(), args.image, kind.frames_per_beat())
        out["image"] = args.image
    if args.wav:
        _render_wav(args.out, args.wav)
        out["wav"] = args.wav
    print(_dump(out), flush=True)
    return 0


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
