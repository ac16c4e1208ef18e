"""What differs between kinds of data (trainer/tasks/ in chorus): the features and heads a kind
builds, its checkpoint sidecar, its units, what a song is and how a sample is primed and returned.
A new kind is one class here and one entry in KINDS (model.kind -> class). Invariant: a song's
positions are what chorus's stream batcher feeds (the end-of-song symbol or a silent frame, i.e.
zeros, before the first position; lyrics also predict the end of the song)."""

import math
import os
import shutil
import subprocess
import sys

import torch

from . import checkpoint as ckpt
from .midi import encode_midi
from .parts import FrameFeatures, NoteFeatures, SymbolFeatures
from .text import normalise_song, to_text

END_OF_SONG, UNKNOWN, FIRST_CODE_POINT = 0, 1, 2
KEYS, LOWEST_NOTE = 88, 21


def shifted_rows(values, predictions):
    """The layout of chorus's stream batcher by default: prediction p reads position p - 1 (zeros
    first: the end-of-song symbol, a silent frame) and is scored on position p (zeros past the
    last: the end of the song); every prediction counts."""
    inputs = torch.zeros((predictions,) + tuple(values.shape[1:]), dtype=torch.long)
    targets = torch.zeros_like(inputs)
    inputs[1:] = values[:predictions - 1]
    targets[:values.shape[0]] = values
    return inputs, targets, torch.ones(predictions, dtype=torch.bool)


class LyricsKind:
    """model.kind chars: a character model of lyrics (vocab.json: code points and artists)."""

    unit, metric, nats_per_metric, plural = "char", "bpc", math.log(2), "symbols"
    position_shape = ()

    def __init__(self, directory, config):
        sidecar = ckpt.read_json(directory, "vocab.json")
        try:
            self.code_points = [int(c) for c in sidecar["code_points"]]
            self.artists = [str(a) for a in sidecar.get("artists", [])]
        except (KeyError, TypeError, ValueError):
            raise ckpt.CheckpointError("%s/vocab.json: needs code_points (and artists)" % directory)
        self.ids = {cp: FIRST_CODE_POINT + i for i, cp in enumerate(self.code_points)}
        self.outputs = len(self.code_points) + FIRST_CODE_POINT
        self.conditioned = config.get("model.condition", "none") == "artist"

    corpus_format = "chorus-lyrics"

    def check_corpus(self, corpus, split, checkpoint):
        """`chorus eval`'s check: the corpus has this vocabulary; for an artist-conditioned model,
        its artists start with this model's and the split names no other."""
        if corpus.format != self.corpus_format:
            raise ValueError("%s: a %s corpus, but the model is a character model (model.kind chars)"
                             % (corpus.path, corpus.format))
        theirs = corpus.code_points
        if theirs != self.code_points:
            raise ValueError("%s: its vocabulary differs from the model's (%d vs %d symbols); "
                             "prepare it with --vocab-from %s" % (corpus.path, len(theirs) + 2,
                                                                   self.outputs, checkpoint))
        if not self.conditioned:
            return
        names = corpus.artists
        if names[:len(self.artists)] != self.artists:
            raise ValueError("%s: its artists differ from the model's; prepare it with --vocab-from %s"
                             % (corpus.path, checkpoint))
        for a in corpus.split(split)[1].tolist():
            if a >= len(self.artists):
                raise ValueError("%s: split '%s' has songs by '%s', an artist this artist-conditioned "
                                 "model does not know" % (corpus.path, split, names[a]))

    def head_name(self, config):
        head = config.get("model.head", "auto")
        if head not in ("auto", "softmax"):
            raise ckpt.CheckpointError("model.head '%s' on a lyrics model" % head)
        return "softmax"

    def features(self, config):
        artists = max(1, len(self.artists)) if self.conditioned else 0
        return SymbolFeatures(self.outputs, int(config["model.embedding_size"]), artists,
                              int(config.get("model.artist_embedding_size", 32)))

    def encode(self, text):
        """Symbol ids of a song's text, normalised as `chorus prepare` does (unknown -> 1)."""
        return [self.ids.get(cp, UNKNOWN) for cp in normalise_song(text)]

    def decode(self, ids):
        """Text of symbol ids (the unknown symbol as U+FFFD, the end of song as nothing)."""
        return to_text(self.code_points[i - FIRST_CODE_POINT] if i >= FIRST_CODE_POINT else 0xFFFD
                       for i in ids if i != END_OF_SONG)

    def song(self, song):
        """A song as a [L] LongTensor of ids: text (str or bytes) is encoded, ids are taken."""
        if isinstance(song, (str, bytes)):
            song = self.encode(song)
        return torch.as_tensor(song, dtype=torch.long).reshape(-1)

    predicts_end = True  # every symbol of a song and its end are predicted

    def predictions(self, values):
        return values.shape[0] + 1

    def rows(self, values):
        """(inputs, targets, counted) of a song's predictions."""
        return shifted_rows(values, self.predictions(values))

    def artist_id(self, artist):
        """An artist's id: an int is taken as it is, a name looked up ("" = 0)."""
        if isinstance(artist, int):
            return artist
        if artist == "":
            return 0
        if artist not in self.artists:
            raise ValueError("unknown artist '%s'; known artists: %s" % (artist, ", ".join(self.artists)))
        return self.artists.index(artist)

    def sample(self, model, prime="Why", length=400, temperature=0.8, method="multinomial",
               seed=1, artist=""):
        """The prime followed by up to `length` drawn symbols, as text (`chorus sample`): the
        unknown symbol is never drawn, the end of the song ends the sample."""
        a = 0
        if self.conditioned:
            a = self.artist_id(artist)
        elif artist:
            print("chorus_torch: note: this model is not conditioned on the artist; artist ignored",
                  file=sys.stderr)
        prime_code_points = normalise_song(prime)
        ids = [END_OF_SONG] + [self.ids.get(cp, UNKNOWN) for cp in prime_code_points]
        drawn = model.generate(torch.tensor(ids), length, temperature, method, seed, a,
                               excluded=(UNKNOWN,), stop=lambda v: int(v) == END_OF_SONG)
        return to_text(prime_code_points) + self.decode(drawn.tolist())

    def sample_command(self, model, args):
        """`sample` on the command line: the text on stdout."""
        print(self.sample(model, args.prime, args.length, args.temperature, args.method, args.seed,
                          args.artist), flush=True)
        return 0


class PianoRollKind:
    """model.kind pianoroll: 88-key frames (pianoroll.json: the corpus's time grid)."""

    unit, metric, nats_per_metric, plural = "frame", "nll_per_frame", 1.0, "frames"
    position_shape = (KEYS,)
    outputs = KEYS
    artists = []

    def __init__(self, directory, config):
        sidecar = ckpt.read_json(directory, "pianoroll.json")
        try:
            self.frames_per_quarter = int(sidecar["frames_per_quarter"])
            self.seconds_per_frame = float(sidecar["seconds_per_frame"])
            self.time_unit = str(sidecar.get("time_unit", "unknown"))
        except (KeyError, TypeError, ValueError):
            raise ckpt.CheckpointError("%s/pianoroll.json: needs frames_per_quarter and "
                                       "seconds_per_frame" % directory)

    corpus_format = "chorus-pianoroll"

    def check_corpus(self, corpus, split, checkpoint):
        if corpus.format != self.corpus_format:
            raise ValueError("%s: a %s corpus, but the model is a piano-roll model (model.kind "
                             "pianoroll)" % (corpus.path, corpus.format))

    def head_name(self, config):
        head = config.get("model.head", "auto")
        if head == "softmax":
            raise ckpt.CheckpointError("model.head 'softmax' on a piano-roll model")
        return "independent" if head == "auto" else head

    def features(self, config):
        return FrameFeatures(KEYS, int(config["model.embedding_size"]))

    @staticmethod
    def song(song):
        """A song as a [L, 88] LongTensor of 0/1 (key k = MIDI note 21 + k)."""
        values = torch.as_tensor(song).to(torch.long)
        if values.dim() != 2 or values.shape[1] != KEYS:
            raise ValueError("a piano-roll song is [frames, 88]; got %s" % (tuple(values.shape),))
        return values

    predicts_end = False  # a song of n frames has n predictions

    def predictions(self, values):
        return values.shape[0]

    def rows(self, values):
        return shifted_rows(values, self.predictions(values))

    @staticmethod
    def artist_id(artist):
        return 0

    def sample(self, model, prime=None, length=400, temperature=0.8, method=None, seed=1, artist=""):
        """The prime frames ([P, 88], or none) followed by `length` drawn frames: [P + length, 88]
        0/1, the song `chorus sample` writes to MIDI. (method is for lyrics; unused here.)"""
        prime = torch.zeros(0, KEYS, dtype=torch.long) if prime is None else self.song(prime)
        feed = torch.cat([torch.zeros(1, KEYS, dtype=torch.long), prime])  # the silent start frame
        drawn = model.generate(feed, length, temperature, "multinomial", seed)
        return torch.cat([prime, drawn.reshape(-1, KEYS)])

    def sample_command(self, model, args):
        """`sample` on the command line: the MIDI file (and picture, audio), one JSON line."""
        from .cli import dump_json
        from .corpus import Corpus
        from .midi import write_midi
        if not args.out:
            raise ValueError("a piano-roll model samples into a MIDI file: pass --out FILE.mid")
        prime = None
        if args.prime_midi:
            from .midi_read import read_midi
            prime = read_midi(args.prime_midi, self.frames_per_quarter if self.frames_per_quarter > 0 else 4,
                              self.seconds_per_frame)
        elif args.prime_data:
            corpus = Corpus(args.prime_data)
            songs = corpus.split("valid")[0].shape[0] - 1
            if not 0 <= args.prime_song < songs:
                raise ValueError("--prime-song %d: %s has %d valid songs" % (args.prime_song, args.prime_data, songs))
            prime = corpus.songs("valid", args.prime_song + 1)[args.prime_song][:args.prime_frames]
        frames = self.sample(model, prime, args.length, args.temperature, args.method, args.seed)
        write_midi(self.midi(frames), args.out)
        out = {"midi": args.out, "frames": frames.shape[0], "prime_frames": 0 if prime is None else len(prime)}
        if args.image:
            from .image import write_pianoroll_png
            write_pianoroll_png(frames.tolist(), args.image, self.frames_per_beat())
            out["image"] = args.image
        if args.wav:
            _render_wav(args.out, args.wav)
            out["wav"] = args.wav
        print(dump_json(out), flush=True)
        return 0

    def frames_per_beat(self):
        """Beat lines of the picture: the corpus's grid, none for seconds, 4 when unknown."""
        if self.frames_per_quarter > 0:
            return self.frames_per_quarter
        return 0 if self.seconds_per_frame > 0 else 4

    def midi(self, frames, velocity=80):
        """`frames` as a Standard MIDI file (bytes) on this model's time grid, as chorus writes it
        (4 frames per quarter at 120 bpm when the corpus recorded no grid)."""
        return encode_midi(frames.tolist(), self.frames_per_quarter if self.frames_per_quarter > 0 else 4,
                           self.seconds_per_frame, velocity=velocity)


class NoteEncoder:
    """A note sequence one symbol at a time (data/note_sequence.h): 0 = end of frame, k + 1 = key
    k, keys rising within a frame. row() is the model's next input (the symbol before, the
    previous frame's keys, the current frame's keys so far); floor() the lowest key symbol the
    order allows next."""

    def __init__(self, keys=KEYS):
        self.keys, self.previous, self.previous_frame, self.current = keys, 0, [], []

    def push(self, symbol):
        if symbol == 0:
            self.previous_frame, self.current = self.current, []
        else:
            if symbol < self.floor() or symbol > self.keys:
                raise ValueError("note symbol %d breaks the rising order of a frame's keys" % symbol)
            self.current.append(symbol - 1)
        self.previous = symbol

    def floor(self):
        return self.current[-1] + 2 if self.current else 1

    def row(self):
        r = torch.zeros(1 + 2 * self.keys, dtype=torch.long)
        r[0] = self.previous
        for k in self.previous_frame:
            r[1 + k] = 1
        for k in self.current:
            r[1 + self.keys + k] = 1
        return r


def frame_symbols(frames):
    """The symbols of [L, K] 0/1 frames: each frame's sounding keys low to high, then 0."""
    out = []
    for frame in frames.tolist():
        out += [k + 1 for k, on in enumerate(frame) if on] + [0]
    return out


class NotesKind(PianoRollKind):
    """model.kind notes: the same piano rolls (and pianoroll.json) read note by note — a frame is
    its keys from low to high and an end of frame — with a softmax over the next symbol restricted
    to what the rising order allows; counted in frames (nats per frame)."""

    position_shape = ()  # a drawn position is one symbol
    outputs = KEYS + 1

    def check_corpus(self, corpus, split, checkpoint):
        if corpus.format != self.corpus_format:
            raise ValueError("%s: a %s corpus, but the model is a note-by-note model (model.kind "
                             "notes)" % (corpus.path, corpus.format))

    def head_name(self, config):
        head = config.get("model.head", "auto")
        if head not in ("auto", "softmax"):
            raise ckpt.CheckpointError("model.head '%s' on a notes model" % head)
        return "softmax"

    def features(self, config):
        return NoteFeatures(KEYS, int(config["model.embedding_size"]))

    def rows(self, frames):
        """(inputs [n, 1 + 2K], targets [n, 2]: symbol and lowest allowed, counted [n]: the end
        symbols, one per frame) of the song's n symbols."""
        symbols = frame_symbols(frames)
        encoder = NoteEncoder()
        inputs = torch.zeros(len(symbols), 1 + 2 * KEYS, dtype=torch.long)
        targets = torch.zeros(len(symbols), 2, dtype=torch.long)
        for p, s in enumerate(symbols):
            inputs[p] = encoder.row()
            targets[p, 0], targets[p, 1] = s, encoder.floor()
            encoder.push(s)
        return inputs, targets, torch.tensor([s == 0 for s in symbols])

    def sample(self, model, prime=None, length=400, temperature=0.8, method="multinomial", seed=1,
               artist=""):
        """The prime frames followed by `length` frames drawn symbol by symbol: [P + length, 88]."""
        prime = torch.zeros(0, KEYS, dtype=torch.long) if prime is None else self.song(prime)
        encoder = NoteEncoder()
        rows = [encoder.row()]
        for s in frame_symbols(prime):
            encoder.push(s)
            rows.append(encoder.row())
        ended = [0]

        def next_input(drawn):
            encoder.push(int(drawn))
            ended[0] += int(drawn) == 0
            return encoder.row()

        drawn = model.generate(torch.stack(rows), length * (KEYS + 1) + 1, temperature,
                               method or "multinomial", seed,
                               stop=lambda v: ended[0] == length, next_input=next_input,
                               before_draw=lambda: range(1, min(encoder.floor(), KEYS + 1)))
        frames, frame = [], [0] * KEYS
        for s in drawn.tolist():
            if s == 0:
                frames.append(frame)
                frame = [0] * KEYS
            else:
                frame[s - 1] = 1
        out = torch.tensor(frames, dtype=torch.long).reshape(-1, KEYS)
        return torch.cat([prime, out])


def _render_wav(midi, wav):
    """`--wav`: the MIDI file through fluidsynth and a General MIDI soundfont, as chorus does."""
    fonts = [f for f in ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2",
                         "/usr/share/sounds/sf2/default-GM.sf2") if os.path.exists(f)]
    if not fonts or shutil.which("fluidsynth") is None:
        raise ValueError("--wav needs fluidsynth and a General MIDI soundfont: apt-get install "
                         "fluidsynth fluid-soundfont-gm")
    r = subprocess.run(["fluidsynth", "-ni", "-q", "-F", wav, fonts[-1], midi],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if r.returncode != 0 or not os.path.exists(wav):
        raise RuntimeError("fluidsynth failed to render " + midi)


# model.kind -> its class. A kind provides: corpus_format, unit/metric/nats_per_metric/plural,
# position_shape and outputs, predicts_end, head_name(config), features(config), song(stored song),
# predictions(song) (what the eval cap counts), rows(song) (inputs, targets, counted predictions),
# artist_id(a), check_corpus(corpus, split, checkpoint), sample(model, ...) and
# sample_command(model, args).
KINDS = {"chars": LyricsKind, "pianoroll": PianoRollKind, "notes": NotesKind}
